//! Login and logout.

use std::net::SocketAddr;

use chrono::Duration;
use http::{HeaderMap, StatusCode};
use pitlane_core::ids::token_digest;
use pitlane_store::admin::{AdminSession, FailureScope};

use crate::auth::{self, LOGIN_COOKIE, SESSION_COOKIE};
use crate::form::{clean, Form};
use crate::html::{self, esc};
use crate::respond::{self, Resp, WebError};
use crate::Dashboard;

/// Failed logins for one name within the window before it is blocked.
pub const NAME_MAX_FAILURES: i64 = 5;
/// Failed logins from one address (any names) within the window.
pub const ADDRESS_MAX_FAILURES: i64 = 20;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

pub async fn page(d: &Dashboard, headers: &HeaderMap, query: &str) -> Result<Resp, WebError> {
    let q = Form::query(query);
    let next = auth::safe_next(q.get("next")).to_string();
    if auth::session(d, headers).await?.is_some() {
        return Ok(respond::redirect(&next));
    }
    Ok(form(d, headers, StatusCode::OK, None, &next, ""))
}

/// The login form with its double-submit token (cookie + field). A token
/// the browser already holds is reused: a second login tab, or a stray
/// request that lands on the login page, must not invalidate the form
/// already on screen.
fn form(
    d: &Dashboard,
    headers: &HeaderMap,
    status: StatusCode,
    message: Option<&str>,
    next: &str,
    name: &str,
) -> Resp {
    let token = auth::cookie(headers, LOGIN_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map_or_else(auth::random_token, str::to_string);
    let message = message
        .map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(m)))
        .unwrap_or_default();
    let body = format!(
        "{message}<form method=\"post\" action=\"/login\" class=\"login\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{token}\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label>Name <input name=\"name\" value=\"{name}\" autocomplete=\"username\" required autofocus></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button type=\"submit\">Log in</button></form>\
         <p class=\"hint\">Operators are added on the server with <code>pitlane admin add NAME</code>.</p>",
        next = esc(next),
        name = esc(name),
    );
    let mut response = respond::html(
        status,
        html::bare_page(
            &d.nav.server_name,
            &format!("{} dashboard", d.nav.server_name),
            &body,
        ),
    );
    respond::add_cookie(
        &mut response,
        &auth::set_cookie(LOGIN_COOKIE, &token, "/login", 3600, d.secure_cookies()),
    );
    response
}

pub async fn submit(
    d: &Dashboard,
    headers: &HeaderMap,
    f: &Form,
    peer: SocketAddr,
) -> Result<Resp, WebError> {
    auth::check_origin(headers)?;
    match (auth::cookie(headers, LOGIN_COOKIE), f.get("csrf")) {
        (Some(cookie), Some(field)) if auth::same_secret(cookie, field) => {}
        _ => {
            return Err(WebError::Forbidden(
                "the login form has expired or did not come from this dashboard: reload it and try again"
                    .into(),
            ))
        }
    }
    let next = auth::safe_next(f.get("next")).to_string();
    let name = clean(f.get("name").unwrap_or(""), 64);
    let password = f.raw("password").unwrap_or("");
    let now = d.clock.now();
    let address = peer.ip().to_string();
    let failures = d.store.admin_login_failures();
    let window = Duration::minutes(FAILURE_WINDOW_MINUTES);
    let blocked = failures
        .blocked_until(FailureScope::Name, &name, NAME_MAX_FAILURES, window, now)
        .await?
        .max(
            failures
                .blocked_until(
                    FailureScope::Address,
                    &address,
                    ADDRESS_MAX_FAILURES,
                    window,
                    now,
                )
                .await?,
        );
    if let Some(until) = blocked {
        tracing::warn!(%name, %peer, until = %until, "dashboard login refused: too many failed attempts");
        let message = format!(
            "Too many failed logins. Try again after {}.",
            until.format("%H:%M UTC")
        );
        return Ok(form(
            d,
            headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some(&message),
            &next,
            &name,
        ));
    }
    let Some(admin) = d
        .store
        .admin_accounts()
        .check_password(&name, password)
        .await?
    else {
        failures.record(FailureScope::Name, &name, now).await?;
        failures
            .record(FailureScope::Address, &address, now)
            .await?;
        tracing::warn!(%name, %peer, "dashboard login failed: wrong name or password");
        return Ok(form(
            d,
            headers,
            StatusCode::UNAUTHORIZED,
            Some("Wrong name or password."),
            &next,
            &name,
        ));
    };
    failures.clear(FailureScope::Name, &name).await?;
    let token = auth::random_token();
    d.store
        .admin_sessions()
        .start(
            &token_digest(&token),
            admin.admin_id,
            &auth::random_token(),
            &address,
            now,
            d.session_lifetime(),
        )
        .await?;
    d.store
        .admin_accounts()
        .record_login(admin.admin_id, now)
        .await?;
    tracing::info!(admin = %admin.name, %peer, "dashboard login");
    let mut response = respond::redirect(&next);
    respond::add_cookie(
        &mut response,
        &auth::set_cookie(
            SESSION_COOKIE,
            &token,
            "/",
            d.session_lifetime().num_seconds(),
            d.secure_cookies(),
        ),
    );
    respond::add_cookie(
        &mut response,
        &auth::set_cookie(LOGIN_COOKIE, "", "/login", 0, d.secure_cookies()),
    );
    Ok(response)
}

pub async fn logout(
    d: &Dashboard,
    session: &AdminSession,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Resp, WebError> {
    if let Some(token) = auth::cookie(headers, SESSION_COOKIE) {
        d.store.admin_sessions().end(&token_digest(token)).await?;
    }
    tracing::info!(admin = %session.admin_name, %peer, "dashboard logout");
    let mut response = respond::redirect("/login");
    respond::add_cookie(
        &mut response,
        &auth::set_cookie(SESSION_COOKIE, "", "/", 0, d.secure_cookies()),
    );
    Ok(response)
}
