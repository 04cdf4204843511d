//! Players of both games: search, a page per player, and the operator's
//! actions on them.

use std::fmt::Write;

use chrono::Duration;
use pitlane_store::admin::AdminSession;
use pitlane_store::mmws::MmAccount;

use crate::form::Form;
use crate::html::{self, esc, form, reason_field, table, time};
use crate::respond::{self, Resp, WebError};
use crate::Dashboard;

const SEARCH_LIMIT: i64 = 50;
const MAX_BAN_DAYS: i64 = 3650;

pub async fn search(d: &Dashboard, s: &AdminSession, q: &Form) -> Result<Resp, WebError> {
    let query = q.get("q").unwrap_or("");
    let now = d.clock.now();
    let mut body = format!(
        "<form method=\"get\" action=\"/players\" class=\"search\">\
         <label>Name, Steam id, player id or MCO account <input name=\"q\" value=\"{}\" autofocus></label>\
         <button type=\"submit\">Search</button></form>",
        esc(query)
    );
    let views = d.store.admin_views();
    let mut rows = Vec::new();
    for user_id in views.mm_search(query, SEARCH_LIMIT).await? {
        let Some(a) = d.store.mm_accounts().by_user_id(user_id).await? else {
            continue;
        };
        let banned = d.store.mm_bans().in_force(a.steam_id, now).await?.is_some();
        rows.push(vec![
            player_link(&a),
            a.steam_id.to_string(),
            esc(&a.user_facing_id),
            html::relative(a.last_seen_at, now),
            if banned {
                "<span class=\"bad\">banned</span>".into()
            } else {
                String::new()
            },
        ]);
    }
    let _ = write!(
        body,
        "<h2>Micro Machines{}</h2>{}",
        if query.is_empty() {
            ": recently seen"
        } else {
            ""
        },
        table(
            &["Name", "Steam id", "Player id", "Last seen", ""],
            &rows,
            "No Micro Machines player matches.",
        )
    );
    if d.config.motorcity.enabled {
        let mut rows = Vec::new();
        for id in views.mco_search(query, SEARCH_LIMIT).await? {
            let Some(a) = d.store.mco_accounts().by_id(id).await? else {
                continue;
            };
            let personas = d.store.mco_personas().list(id).await?;
            rows.push(vec![
                format!("<a href=\"/players/mco/{id}\">{}</a>", esc(&a.username)),
                id.to_string(),
                esc(&personas
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")),
                html::opt_time(a.last_login_at),
                if a.is_banned(now) {
                    "<span class=\"bad\">banned</span>".into()
                } else {
                    String::new()
                },
            ]);
        }
        let _ = write!(
            body,
            "<h2>Motor City Online</h2>{}",
            table(
                &["Account", "Customer id", "Personas", "Last login", ""],
                &rows,
                "No Motor City account matches.",
            )
        );
    }
    Ok(super::render(d, s, "Players", None, &body))
}

fn player_link(a: &MmAccount) -> String {
    format!(
        "<a href=\"/players/mmws/{}\">{}</a>",
        a.user_id,
        esc(&a.display_name)
    )
}

fn ban_fields() -> String {
    format!(
        "{}<label>Days <input name=\"days\" type=\"number\" min=\"1\" max=\"{MAX_BAN_DAYS}\" placeholder=\"empty = until lifted\"></label>",
        reason_field()
    )
}

pub async fn mmws(
    d: &Dashboard,
    s: &AdminSession,
    user_id: i64,
    q: &Form,
) -> Result<Resp, WebError> {
    let now = d.clock.now();
    let a = d
        .store
        .mm_accounts()
        .by_user_id(user_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let ban = d.store.mm_bans().get(a.steam_id).await?;
    let views = d.store.admin_views();
    let names = d.store.mm_accounts().names(user_id).await?;
    let name_override = views.mm_name_override(user_id).await?;
    let seasons = views.mm_seasons_of(user_id).await?;
    let races = views.mm_races_of(a.steam_id, 20).await?;
    let race_count = views.mm_race_count(a.steam_id).await?;
    let season_now = d.micromachines.game_configuration().calendar().at(now);
    let current_season = i64::from(season_now.season_id);
    let scores = d.store.mm_scores();

    let ban_text = match &ban {
        Some(b) if b.in_force(now) => format!(
            "<span class=\"bad\">Banned</span> since {} {} by {}: {}",
            time(b.since),
            b.until
                .map_or("until lifted".to_string(), |u| format!("until {}", time(u))),
            esc(&b.banned_by),
            esc(&b.reason)
        ),
        Some(b) => format!(
            "Not banned (a ban until {} has lapsed)",
            html::opt_time(b.until)
        ),
        None => "Not banned".into(),
    };
    let identity = vec![
        vec![
            "Name".into(),
            match &name_override {
                Some(_) => format!(
                    "{} <span class=\"note\">set by an operator; kept over the Steam name</span>",
                    esc(&a.display_name)
                ),
                None => format!(
                    "{} <span class=\"note\">the Steam name</span>",
                    esc(&a.display_name)
                ),
            },
        ],
        vec!["Steam id".into(), a.steam_id.to_string()],
        vec!["Account number".into(), a.user_id.to_string()],
        vec!["Player id".into(), esc(&a.user_facing_id)],
        vec!["Title".into(), esc(&a.title)],
        vec![
            "Level / prestige".into(),
            format!("{} / {}", a.level, a.prestige),
        ],
        vec!["First seen".into(), time(a.created_at)],
        vec![
            "Last login".into(),
            format!(
                "{} ({})",
                time(a.last_seen_at),
                html::relative(a.last_seen_at, now)
            ),
        ],
        vec!["Races played".into(), race_count.to_string()],
        vec!["Status".into(), ban_text],
    ];
    let mut season_rows = Vec::new();
    let mut current = None;
    for score in &seasons {
        let rank = scores.rank_of(score).await? + 1;
        if score.season_id == current_season {
            current = Some((score.points, score.division, rank));
        }
        season_rows.push(vec![
            format!(
                "<a href=\"/mmws/leaderboard?season={}\">{}</a>",
                score.season_id, score.season_id
            ),
            score.points.to_string(),
            score.division.to_string(),
            format!("#{rank}"),
            time(score.updated_at),
        ]);
    }
    let current_text = match current {
        Some((points, division, rank)) => format!(
            "<p class=\"big\">{points} points · division {division} · rank #{rank} <span class=\"note\">season {current_season}</span></p>"
        ),
        None => format!("<p>No points in season {current_season} yet.</p>"),
    };
    let race_rows: Vec<Vec<String>> = races
        .iter()
        .map(|r| {
            vec![
                time(r.created_at),
                esc(&format!("{} / {}", r.game_type, r.rule_set)),
                esc(&r.ranking),
                r.season_id.to_string(),
                r.points_delta.map_or("—".into(), |p| format!("{p:+}")),
            ]
        })
        .collect();

    let target = format!("mmws:{}", a.steam_id);
    let audit = d.store.audit_log().for_target(&target, 20).await?;
    let base = format!("/players/mmws/{user_id}");
    let csrf = &s.csrf_token;
    let season_options: String = seasons
        .iter()
        .map(|sc| {
            format!(
                "<option value=\"{0}\">season {0} ({1} points)</option>",
                sc.season_id, sc.points
            )
        })
        .collect();
    let mut actions = String::new();
    if ban.as_ref().is_some_and(|b| b.in_force(now)) {
        actions.push_str(&form(
            &format!("{base}/unban"),
            csrf,
            "action",
            reason_field(),
            "Lift the ban",
        ));
    } else {
        actions.push_str(&form(
            &format!("{base}/ban"),
            csrf,
            "action danger",
            &ban_fields(),
            "Ban",
        ));
    }
    actions.push_str(&form(
        &format!("{base}/rename"),
        csrf,
        "action",
        &format!(
            "<label>New name <input name=\"name\" required maxlength=\"64\" value=\"{}\"></label>{}",
            esc(&a.display_name),
            reason_field()
        ),
        "Rename",
    ));
    if name_override.is_some() {
        actions.push_str(&form(
            &format!("{base}/clear-name"),
            csrf,
            "action",
            reason_field(),
            "Go back to the Steam name",
        ));
    }
    actions.push_str(&form(
        &format!("{base}/reset-points"),
        csrf,
        "action",
        reason_field(),
        &format!("Reset season {current_season} points to 0"),
    ));
    if !seasons.is_empty() {
        actions.push_str(&form(
            &format!("{base}/delete-score"),
            csrf,
            "action danger",
            &format!(
                "<label>Season <select name=\"season\">{season_options}</select></label>{}",
                reason_field()
            ),
            "Delete leaderboard entry",
        ));
    }

    let body = format!(
        "<section class=\"two\"><div>{}</div><div><h2>Current season</h2>{current_text}\
         <h2>Names used</h2><p>{}</p></div></section>\
         <section><h2>Seasons</h2>{}</section>\
         <section><h2>Latest races</h2>{}</section>\
         <section><h2>Actions</h2><p class=\"hint\">Names follow the player's Steam name until an operator renames them: that name then stays, \
         whatever the game sends at login, until an operator goes back to the Steam name. \
         A ban ends their session at once and refuses their next login.</p><div class=\"actions\">{actions}</div></section>\
         <section><h2>Audit log for this player</h2>{}</section>",
        table(&["", ""], &identity, ""),
        esc(&names.join(", ")),
        table(&["Season", "Points", "Division", "Rank", "Updated"], &season_rows, "No points in any season."),
        table(&["When", "Mode", "Ranking", "Season", "Points"], &race_rows, "No races."),
        table(&super::AUDIT_HEADERS, &super::audit_rows(&audit), "No actions yet."),
    );
    Ok(super::render(
        d,
        s,
        &format!("Player {}", a.display_name),
        q.get("done"),
        &body,
    ))
}

/// A ban's end from the form's optional `days`.
fn ban_until(
    f: &Form,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, WebError> {
    match f.get("days") {
        None => Ok(None),
        Some(days) => match days.parse::<i64>() {
            Ok(n) if (1..=MAX_BAN_DAYS).contains(&n) => Ok(Some(now + Duration::days(n))),
            _ => Err(WebError::BadRequest(format!(
                "Days must be a whole number from 1 to {MAX_BAN_DAYS}, or empty for a ban until lifted"
            ))),
        },
    }
}

pub async fn mmws_action(
    d: &Dashboard,
    s: &AdminSession,
    user_id: i64,
    action: &str,
    f: &Form,
) -> Result<Resp, WebError> {
    let a = d
        .store
        .mm_accounts()
        .by_user_id(user_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let reason = f.text("reason", "A reason", 500)?;
    let now = d.clock.now();
    let target = format!("mmws:{}", a.steam_id);
    let detail = match action {
        "ban" => {
            let until = ban_until(f, now)?;
            d.store
                .mm_bans()
                .ban(a.steam_id, &reason, until, &s.admin_name, now)
                .await?;
            format!(
                "{} banned {}",
                a.display_name,
                until.map_or("until lifted".into(), |u| format!(
                    "until {}",
                    u.format("%Y-%m-%d %H:%M UTC")
                ))
            )
        }
        "unban" => {
            if !d.store.mm_bans().unban(a.steam_id).await? {
                return Err(WebError::BadRequest(format!(
                    "{} is not banned",
                    a.display_name
                )));
            }
            format!("{} unbanned", a.display_name)
        }
        "rename" => {
            let name = f.text("name", "The new name", 64)?;
            d.store.admin_views().mm_rename(user_id, &name).await?;
            format!("{} renamed to {name}", a.display_name)
        }
        "clear-name" => {
            if !d.store.admin_views().mm_clear_rename(user_id).await? {
                return Err(WebError::BadRequest(format!(
                    "{} has no name set by an operator",
                    a.display_name
                )));
            }
            let steam_name = d
                .store
                .mm_accounts()
                .by_user_id(user_id)
                .await?
                .map_or_else(String::new, |now| now.display_name);
            format!("{} shows as {steam_name} again", a.display_name)
        }
        "reset-points" => {
            let season = i64::from(
                d.micromachines
                    .game_configuration()
                    .calendar()
                    .at(now)
                    .season_id,
            );
            let before = d.store.mm_scores().get(season, user_id).await?;
            d.store.mm_scores().set(season, user_id, 0, 0, now).await?;
            format!(
                "{}: season {season} points {} -> 0",
                a.display_name,
                before.map_or(0, |b| b.points)
            )
        }
        "delete-score" => {
            let season = f
                .number("season")
                .ok_or_else(|| WebError::BadRequest("choose a season".into()))?;
            let before = d.store.mm_scores().get(season, user_id).await?;
            if !d
                .store
                .admin_views()
                .mm_delete_score(season, user_id)
                .await?
            {
                return Err(WebError::BadRequest(format!(
                    "{} has no entry in season {season}",
                    a.display_name
                )));
            }
            format!(
                "{}: season {season} entry with {} points deleted",
                a.display_name,
                before.map_or(0, |b| b.points)
            )
        }
        _ => return Err(WebError::NotFound),
    };
    super::audit(d, s, &format!("mmws.{action}"), &target, &reason, &detail).await?;
    Ok(respond::redirect(&format!(
        "/players/mmws/{user_id}?done={action}"
    )))
}

pub async fn mco(
    d: &Dashboard,
    s: &AdminSession,
    customer_id: i64,
    q: &Form,
) -> Result<Resp, WebError> {
    let now = d.clock.now();
    let a = d
        .store
        .mco_accounts()
        .by_id(customer_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let personas = d.store.mco_personas().list(customer_id).await?;
    let session = d.store.mco_sessions().live(customer_id, now).await?;
    let status = match &a.ban {
        Some(b) if a.is_banned(now) => format!(
            "<span class=\"bad\">Banned</span> since {} {}: {}",
            time(b.since),
            b.until
                .map_or("until lifted".to_string(), |u| format!("until {}", time(u))),
            esc(&b.reason)
        ),
        _ => "Not banned".into(),
    };
    let online = match &session {
        Some(sess) => {
            let persona = sess
                .persona_id
                .and_then(|id| personas.iter().find(|p| p.persona_id == id))
                .map_or("no persona chosen yet".to_string(), |p| {
                    format!("as {}", esc(&p.name))
                });
            format!("Online since {} ({persona})", time(sess.started_at))
        }
        None => "Offline".into(),
    };
    let identity = vec![
        vec!["Account".into(), esc(&a.username)],
        vec!["Customer id".into(), a.customer_id.to_string()],
        vec!["Created".into(), time(a.created_at)],
        vec!["Last login".into(), html::opt_time(a.last_login_at)],
        vec!["Now".into(), online],
        vec!["Status".into(), status],
    ];
    let garage = d.store.mco_garage();
    let mut persona_rows = Vec::new();
    let mut car_rows = Vec::new();
    for p in &personas {
        // No row until the persona's first MCOTS login gives it money.
        let player = garage.player(p.persona_id).await?;
        let cars = garage.vehicles(p.persona_id).await?;
        persona_rows.push(vec![
            esc(&p.name),
            p.persona_id.to_string(),
            p.shard_id.to_string(),
            player
                .as_ref()
                .map_or("— (not in the game yet)".into(), |pl| {
                    format!("${}", pl.bank)
                }),
            cars.len().to_string(),
            time(p.created_at),
            html::opt_time(p.last_selected_at),
        ]);
        for car in &cars {
            let current = player
                .as_ref()
                .is_some_and(|pl| pl.current_vehicle == Some(car.vehicle_id));
            car_rows.push(vec![
                esc(&p.name),
                car.vehicle_id.to_string(),
                car.branded_part_id.to_string(),
                car.skin_id.to_string(),
                format!("${}", car.price_paid),
                if current {
                    "driving".into()
                } else {
                    String::new()
                },
            ]);
        }
    }
    let base = format!("/players/mco/{customer_id}");
    let action = if a.is_banned(now) {
        form(
            &format!("{base}/unban"),
            &s.csrf_token,
            "action",
            reason_field(),
            "Lift the ban",
        )
    } else {
        form(
            &format!("{base}/ban"),
            &s.csrf_token,
            "action danger",
            &ban_fields(),
            "Ban",
        )
    };
    let action = format!(
        "{action}{}",
        form(
            &format!("{base}/reset-password"),
            &s.csrf_token,
            "action",
            &format!(
                "<label>New password <input name=\"password\" type=\"password\" required maxlength=\"{}\" autocomplete=\"new-password\"></label>{}",
                motorcity::store_directory::PASSWORD_MAX,
                reason_field()
            ),
            "Replace the password",
        )
    );
    let audit = d
        .store
        .audit_log()
        .for_target(&format!("mco:{customer_id}"), 20)
        .await?;
    let body = format!(
        "<section>{}</section><section><h2>Personas</h2>{}</section><section><h2>Cars</h2>{}</section>\
         <section><h2>Actions</h2><p class=\"hint\">A ban ends the login session at once and refuses the next AuthLogin.</p>\
         <div class=\"actions\">{action}</div></section>\
         <section><h2>Audit log for this account</h2>{}</section>",
        table(&["", ""], &identity, ""),
        table(&["Persona", "Id", "Shard", "Money", "Cars", "Created", "Last chosen"], &persona_rows, "No personas."),
        table(&["Persona", "Car", "Model (branded part)", "Skin", "Paid", ""], &car_rows, "No cars."),
        table(&super::AUDIT_HEADERS, &super::audit_rows(&audit), "No actions yet."),
    );
    Ok(super::render(
        d,
        s,
        &format!("Motor City account {}", a.username),
        q.get("done"),
        &body,
    ))
}

pub async fn mco_action(
    d: &Dashboard,
    s: &AdminSession,
    customer_id: i64,
    action: &str,
    f: &Form,
) -> Result<Resp, WebError> {
    let a = d
        .store
        .mco_accounts()
        .by_id(customer_id)
        .await?
        .ok_or(WebError::NotFound)?;
    let reason = f.text("reason", "A reason", 500)?;
    let now = d.clock.now();
    let detail = match action {
        "ban" => {
            let until = ban_until(f, now)?;
            d.store
                .mco_accounts()
                .ban(customer_id, &reason, until, now)
                .await?;
            format!(
                "{} banned {}",
                a.username,
                until.map_or("until lifted".into(), |u| format!(
                    "until {}",
                    u.format("%Y-%m-%d %H:%M UTC")
                ))
            )
        }
        "unban" => {
            d.store.mco_accounts().unban(customer_id).await?;
            format!("{} unbanned", a.username)
        }
        "reset-password" => {
            let password = super::motorcity::password_field(f)?;
            match d
                .store
                .mco_accounts()
                .set_password(customer_id, &password)
                .await
            {
                Ok(true) => {}
                Ok(false) => return Err(WebError::NotFound),
                Err(pitlane_store::mco::AccountError::Store(e)) => return Err(WebError::Store(e)),
                Err(other) => return Err(WebError::BadRequest(other.to_string())),
            }
            // The password itself never goes into the log.
            format!("{}: password replaced", a.username)
        }
        _ => return Err(WebError::NotFound),
    };
    super::audit(
        d,
        s,
        &format!("mco.{action}"),
        &format!("mco:{customer_id}"),
        &reason,
        &detail,
    )
    .await?;
    Ok(respond::redirect(&format!(
        "/players/mco/{customer_id}?done={action}"
    )))
}
