//! Motor City Online: the shard, who is in which lobby channel right now,
//! and the accounts (list, create; each account's page has the rest).

use std::fmt::Write;

use pitlane_store::admin::AdminSession;
use pitlane_store::mco::AccountError;

use crate::form::Form;
use crate::html::{self, esc, form, reason_field, table, time};
use crate::respond::{self, Resp, WebError};
use crate::Dashboard;

use motorcity::store_directory::{check_password, check_username, PASSWORD_MAX, USERNAME_MAX};

const ACCOUNTS_PAGE: i64 = 50;

pub async fn page(d: &Dashboard, s: &AdminSession, q: &Form) -> Result<Resp, WebError> {
    if !d.config.motorcity.enabled {
        return Err(WebError::NotFound);
    }
    let now = d.clock.now();
    let mc = &d.config.motorcity;
    let sessions = d.store.mco_sessions();
    let online = sessions.count_live(None, now).await?;
    let on_shard = sessions
        .count_live(Some(i64::from(mc.shard_id)), now)
        .await?;
    let total = d.store.mco_accounts().count().await?;

    let shard_rows = vec![vec![
        esc(&mc.shard_name),
        mc.shard_id.to_string(),
        format!("{on_shard} with a persona chosen · {online} logged in"),
        mc.max_personas_per_user.to_string(),
        if mc.open_registration {
            "open: AuthLogin creates unknown names".into()
        } else {
            "closed: accounts are made here or with the command line".into()
        },
    ]];

    let lobby = match &d.mco_lobby {
        Some(lobby) => {
            let (channels, outside) = lobby.0.snapshot();
            let rows: Vec<Vec<String>> = channels
                .iter()
                .map(|c| {
                    vec![
                        esc(&c.name),
                        c.id.to_string(),
                        format!(
                            "<span data-channel=\"{}\">{}</span> / {}",
                            c.id,
                            c.users.len(),
                            c.capacity
                        ),
                        esc(&c
                            .users
                            .iter()
                            .map(|u| format!("{} (persona {})", u.name, u.persona_id))
                            .collect::<Vec<_>>()
                            .join(", ")),
                    ]
                })
                .collect();
            format!(
                "{}<p class=\"hint\">{outside} lobby connections are in no channel.</p>",
                table(
                    &["Channel", "Id", "Players", "Who"],
                    &rows,
                    "The lobby offers no channels."
                )
            )
        }
        None => "<p class=\"empty\">The lobby is not running on this instance.</p>".into(),
    };

    let after = q.number("after").unwrap_or(0);
    let accounts = d.store.mco_accounts().list(after, ACCOUNTS_PAGE).await?;
    let rows: Vec<Vec<String>> = accounts
        .iter()
        .map(|a| {
            vec![
                format!(
                    "<a href=\"/players/mco/{}\">{}</a>",
                    a.customer_id,
                    esc(&a.username)
                ),
                a.customer_id.to_string(),
                time(a.created_at),
                html::opt_time(a.last_login_at),
                if a.is_banned(now) {
                    "<span class=\"bad\">banned</span>".into()
                } else {
                    String::new()
                },
            ]
        })
        .collect();
    let mut paging = String::new();
    if accounts.len() as i64 == ACCOUNTS_PAGE {
        if let Some(last) = accounts.last() {
            let _ = write!(
                paging,
                "<p class=\"paging\"><a href=\"/mco?after={}\">Next →</a></p>",
                last.customer_id
            );
        }
    }
    let create = form(
        "/mco/accounts",
        &s.csrf_token,
        "action",
        &format!(
            "<label>Account name <input name=\"username\" required maxlength=\"{USERNAME_MAX}\" pattern=\"[A-Za-z0-9._\\-]+\"></label>\
             <label>Password <input name=\"password\" type=\"password\" required maxlength=\"{PASSWORD_MAX}\" autocomplete=\"new-password\"></label>{}",
            reason_field()
        ),
        "Create the account",
    );
    let body = format!(
        "<p class=\"big\">{online} online · {total} accounts</p>\
         <section><h2>Shard</h2>{}<p class=\"hint\">Everything else the shard runs with is on the <a href=\"/settings\">settings</a> page.</p></section>\
         <section><h2>Lobby channels now</h2>{lobby}</section>\
         <section><h2>Create an account</h2><p class=\"hint\">The same as <code>pitlane mco account add NAME</code>. \
         The password is stored as an argon2 hash only; tell it to the player yourself.</p><div class=\"actions\">{create}</div></section>\
         <section><h2>Accounts</h2>{}{paging}</section>",
        table(
            &["Shard", "Id", "Population", "Personas per account", "Registration"],
            &shard_rows,
            ""
        ),
        table(
            &["Account", "Customer id", "Created", "Last login", ""],
            &rows,
            "No accounts yet."
        ),
    );
    Ok(super::render(
        d,
        s,
        "Motor City Online",
        q.get("done"),
        &body,
    ))
}

/// A password from a form, as typed, by the same rules as the command
/// line's (what the game can send).
pub fn password_field(f: &Form) -> Result<String, WebError> {
    let password = f.raw("password").unwrap_or("");
    check_password(password)
        .map_err(|e| WebError::BadRequest(format!("Cannot use that password: {e}")))?;
    Ok(password.to_string())
}

pub async fn create_account(d: &Dashboard, s: &AdminSession, f: &Form) -> Result<Resp, WebError> {
    if !d.config.motorcity.enabled {
        return Err(WebError::NotFound);
    }
    let reason = f.text("reason", "A reason", 500)?;
    let username = f.get("username").unwrap_or("").to_string();
    check_username(&username)
        .map_err(|e| WebError::BadRequest(format!("Cannot use that account name: {e}")))?;
    let password = password_field(f)?;
    let account = match d
        .store
        .mco_accounts()
        .create(&username, &password, d.clock.now())
        .await
    {
        Ok(a) => a,
        Err(AccountError::NameTaken(name)) => {
            return Err(WebError::BadRequest(format!(
                "An account named {name} already exists"
            )))
        }
        Err(AccountError::Store(e)) => return Err(WebError::Store(e)),
        Err(other) => return Err(WebError::BadRequest(other.to_string())),
    };
    super::audit(
        d,
        s,
        "mco.create-account",
        &format!("mco:{}", account.customer_id),
        &reason,
        &format!(
            "account {} created with customer id {}",
            account.username, account.customer_id
        ),
    )
    .await?;
    Ok(respond::redirect(&format!(
        "/players/mco/{}?done=create-account",
        account.customer_id
    )))
}
