//! Micro Machines: live matchmaking, recent races, the season calendar,
//! leaderboards, the game configuration in effect and the status message.

use std::fmt::Write;

use pitlane_core::config::ServerStatusSettings;
use pitlane_store::admin::AdminSession;

use crate::form::Form;
use crate::html::{self, esc, form, reason_field, table, time};
use crate::respond::{self, Resp, WebError};
use crate::Dashboard;

const BOARD_PAGE: i64 = 50;

fn player_cell(user_id: Option<i64>, name: Option<&str>, steam_id: u64) -> String {
    match (user_id, name) {
        (Some(id), Some(name)) => format!("<a href=\"/players/mmws/{id}\">{}</a>", esc(name)),
        _ => format!("<span class=\"note\">Steam {steam_id}</span>"),
    }
}

pub async fn page(d: &Dashboard, s: &AdminSession, q: &Form) -> Result<Resp, WebError> {
    let now = d.clock.now();
    let mm = &d.micromachines;

    // Matchmaking, longest waiting first.
    let mut searches = mm.matchmaker().searching();
    searches.sort_by(|a, b| b.waiting_secs.total_cmp(&a.waiting_secs));
    let mut search_rows = Vec::new();
    for sv in searches.iter().take(200) {
        let account = d.store.mm_accounts().by_user_id(sv.user_id).await?;
        search_rows.push(vec![
            match &account {
                Some(a) => player_cell(Some(a.user_id), Some(&a.display_name), a.steam_id),
                None => format!("account {}", sv.user_id),
            },
            esc(&format!("{} / {}", sv.queue.game_type, sv.queue.rule_set)),
            esc(&sv.queue.ranking),
            sv.group_size.to_string(),
            html::duration(sv.waiting_secs.max(0.0) as u64),
            if sv.matched {
                "race found".into()
            } else {
                "searching".into()
            },
        ]);
    }

    // Recent races.
    let races = d.store.admin_views().mm_recent_races(20).await?;
    let race_rows: Vec<Vec<String>> = races
        .iter()
        .map(|r| {
            let players: Vec<String> = r
                .players
                .iter()
                .map(|p| {
                    let points = p.points_delta.map_or(String::new(), |n| {
                        format!(" <span class=\"pts\">{n:+}</span>")
                    });
                    format!(
                        "{}{points}",
                        player_cell(p.user_id, p.name.as_deref(), p.steam_id)
                    )
                })
                .collect();
            vec![
                time(r.created_at),
                esc(&format!("{} / {}", r.game_type, r.rule_set)),
                esc(&r.ranking),
                if r.registered_at.is_some() {
                    "started".into()
                } else {
                    "formed".into()
                },
                players.join(", "),
            ]
        })
        .collect();

    // Calendar: the previous season, this one and the next three.
    let calendar = mm.game_configuration().calendar();
    let current = calendar.at(now);
    let mut states = vec![
        calendar.at(current.starts_at - chrono::Duration::seconds(1)),
        current,
    ];
    let mut t = current.next_starts_at;
    for _ in 0..3 {
        let st = calendar.at(t);
        t = st.next_starts_at;
        states.push(st);
    }
    let early: Vec<pitlane_store::mmws::SeasonStart> = d.store.mm_season_starts().all().await?;
    let calendar_rows: Vec<Vec<String>> = states
        .iter()
        .map(|st| {
            let phase = if st.season_id == current.season_id {
                if current.is_active {
                    "<strong>now: ranked</strong>"
                } else {
                    "<strong>now: between seasons</strong>"
                }
            } else if st.starts_at > now {
                "coming"
            } else {
                "over"
            };
            let note = early
                .iter()
                .find(|e| e.season_id == i64::from(st.season_id))
                .map_or(String::new(), |e| {
                    format!(
                        " <span class=\"note\">started early by {}: {}</span>",
                        esc(&e.started_by),
                        esc(&e.reason)
                    )
                });
            vec![
                format!(
                    "<a href=\"/mmws/leaderboard?season={0}\">{0}</a>",
                    st.season_id
                ),
                time(st.starts_at),
                time(st.inactive_at),
                time(st.next_starts_at),
                format!("{phase}{note}"),
            ]
        })
        .collect();
    let next_season = calendar.next_season_id(now);
    let next_form = form(
        "/mmws/next-season",
        &s.csrf_token,
        "action danger",
        &format!(
            "<input type=\"hidden\" name=\"season\" value=\"{next_season}\">{}",
            reason_field()
        ),
        &format!("Start season {next_season} now"),
    );

    // The status message form.
    let status = mm.server_status();
    let check = |on: bool| if on { " checked" } else { "" };
    let status_form = form(
        "/mmws/status",
        &s.csrf_token,
        "action wide",
        &format!(
            "<label>Message <textarea name=\"message\" rows=\"2\" maxlength=\"500\">{}</textarea></label>\
             <label class=\"check\"><input type=\"checkbox\" name=\"display_message\" value=\"1\"{}> Show the message in the game</label>\
             <label class=\"check\"><input type=\"checkbox\" name=\"accessible\" value=\"1\"{}> Online play open (off = maintenance)</label>\
             <label class=\"check\"><input type=\"checkbox\" name=\"egonet_enabled\" value=\"1\"{}> EgoNet login on</label>{}",
            esc(&status.message),
            check(status.display_message),
            check(status.accessible),
            check(status.egonet_enabled),
            reason_field()
        ),
        "Replace the status message",
    );

    let mut body = String::new();
    let _ = write!(
        body,
        "<p><a href=\"/mmws/leaderboard\">Leaderboards</a> · <a href=\"/mmws/config\">Game configuration</a></p>\
         <section><h2>Matchmaking now ({} parties)</h2>{}</section>\
         <section><h2>Latest races</h2>{}</section>\
         <section><h2>Season calendar</h2>{}<p class=\"hint\">Starting the next season now ends season {} at once: \
         its leaderboard stays as a past season, every player's next Login is in season {next_season} (with the usual head start \
         from their last season), and later seasons keep their calendar dates.</p>{next_form}</section>\
         <section><h2>Server status message</h2><p class=\"hint\">What every game reads from ServerStatus.xml before logging in. \
         A change lasts until the server restarts; put it in the config file ([micromachines.status]) to keep it.</p>{status_form}</section>",
        searches.len(),
        table(&["Player", "Mode", "Ranking", "Party", "Waiting", "State"], &search_rows, "Nobody is searching."),
        table(&["When", "Mode", "Ranking", "State", "Players and points"], &race_rows, "No races yet."),
        table(&["Season", "Starts", "Ranked until", "Ends", ""], &calendar_rows, ""),
        current.season_id,
    );
    Ok(super::render(d, s, "Micro Machines", q.get("done"), &body))
}

pub async fn set_status(d: &Dashboard, s: &AdminSession, f: &Form) -> Result<Resp, WebError> {
    let reason = f.text("reason", "A reason", 500)?;
    let status = ServerStatusSettings {
        message: crate::form::clean(f.get("message").unwrap_or(""), 500),
        display_message: f.checked("display_message"),
        accessible: f.checked("accessible"),
        egonet_enabled: f.checked("egonet_enabled"),
    };
    let detail = format!(
        "message {:?}, shown {}, open {}, EgoNet {}",
        status.message, status.display_message, status.accessible, status.egonet_enabled
    );
    d.micromachines.set_server_status(status);
    super::audit(d, s, "mmws.status", "mmws:status", &reason, &detail).await?;
    Ok(respond::redirect("/mmws?done=status"))
}

pub async fn next_season(d: &Dashboard, s: &AdminSession, f: &Form) -> Result<Resp, WebError> {
    let reason = f.text("reason", "A reason", 500)?;
    let expected = f
        .number("season")
        .ok_or_else(|| WebError::BadRequest("the form names no season".into()))?;
    let now = d.clock.now();
    let calendar = d.micromachines.game_configuration().calendar();
    match crate::seasons::start_next_season(&d.store, calendar, expected, &s.admin_name, &reason, now)
        .await?
    {
        crate::seasons::StartOutcome::Started { ended, started } => {
            let detail = format!(
                "season {started} started at {}; season {ended} ended early and stays as a past season",
                now.format("%Y-%m-%d %H:%M:%S UTC")
            );
            super::audit(d, s, "mmws.next-season", &format!("mmws:season:{started}"), &reason, &detail)
                .await?;
            Ok(respond::redirect("/mmws?done=next-season"))
        }
        crate::seasons::StartOutcome::Stale { current } => Err(WebError::BadRequest(format!(
            "season {current} is running now, so season {expected} cannot be started from this form: reload the page"
        ))),
    }
}

pub async fn leaderboard(d: &Dashboard, s: &AdminSession, q: &Form) -> Result<Resp, WebError> {
    let now = d.clock.now();
    let current = i64::from(
        d.micromachines
            .game_configuration()
            .calendar()
            .at(now)
            .season_id,
    );
    let season = q.number("season").unwrap_or(current);
    let page = q.number("page").unwrap_or(1).max(1);
    let scores = d.store.mm_scores();
    let total = scores.ranked_players(season).await?;
    let pages = ((total + BOARD_PAGE - 1) / BOARD_PAGE).max(1);
    let page = page.min(pages);
    let offset = (page - 1) * BOARD_PAGE;
    let rows: Vec<Vec<String>> = scores
        .page(season, offset, BOARD_PAGE)
        .await?
        .iter()
        .enumerate()
        .map(|(i, r)| {
            vec![
                format!("#{}", offset + i as i64 + 1),
                format!(
                    "<a href=\"/players/mmws/{}\">{}</a>",
                    r.user_id,
                    esc(&r.name)
                ),
                r.points.to_string(),
                r.division.to_string(),
                esc(&r.title),
                format!("{} / {}", r.level, r.prestige),
            ]
        })
        .collect();
    let mut seasons: Vec<i64> = d
        .store
        .admin_views()
        .mm_seasons()
        .await?
        .iter()
        .map(|b| b.season_id)
        .collect();
    for sid in [current, season] {
        if !seasons.contains(&sid) {
            seasons.push(sid);
        }
    }
    seasons.sort_unstable_by(|a, b| b.cmp(a));
    let options: String = seasons
        .iter()
        .map(|sid| {
            format!(
                "<option value=\"{sid}\"{}>season {sid}{}</option>",
                if *sid == season { " selected" } else { "" },
                if *sid == current { " (now)" } else { "" }
            )
        })
        .collect();
    let mut paging = String::from("<p class=\"paging\">");
    if page > 1 {
        let _ = write!(
            paging,
            "<a href=\"/mmws/leaderboard?season={season}&amp;page={}\">← Previous</a> ",
            page - 1
        );
    }
    let _ = write!(paging, "page {page} of {pages} · {total} players");
    if page < pages {
        let _ = write!(
            paging,
            " <a href=\"/mmws/leaderboard?season={season}&amp;page={}\">Next →</a>",
            page + 1
        );
    }
    paging.push_str("</p>");
    let body = format!(
        "<form method=\"get\" action=\"/mmws/leaderboard\" class=\"search\"><label>Season <select name=\"season\">{options}</select></label>\
         <button type=\"submit\">Show</button></form>{paging}{}{paging}",
        table(&["Rank", "Player", "Points", "Division", "Title", "Level / prestige"], &rows, "Nobody has points in this season.")
    );
    Ok(super::render(
        d,
        s,
        &format!("Leaderboard, season {season}"),
        None,
        &body,
    ))
}

pub async fn config(d: &Dashboard, s: &AdminSession) -> Result<Resp, WebError> {
    let now = d.clock.now();
    let gc = d.micromachines.game_configuration();
    let c = gc.config();
    let settings = &d.config.micromachines;
    let list = |v: &[String]| esc(&v.join(", "));
    let playlists: Vec<Vec<String>> = c
        .playlists
        .iter()
        .map(|p| {
            vec![
                p.id.to_string(),
                esc(&p.name),
                esc(&format!("{} / {}", p.kind, p.sub_type)),
                list(&p.game_modes),
                format!(
                    "<details><summary>{}</summary>{}</details>",
                    p.levels.len(),
                    list(&p.levels)
                ),
                format!(
                    "<details><summary>{}</summary>{}</details>",
                    p.vehicles.len(),
                    list(&p.vehicles)
                ),
                esc(&p
                    .mutators
                    .iter()
                    .map(|m| format!("{} ({}, {})", m.name, m.parameter1, m.parameter2))
                    .collect::<Vec<_>>()
                    .join(", ")),
            ]
        })
        .collect();
    let bands: Vec<Vec<String>> = c
        .division_bands
        .iter()
        .map(|b| {
            vec![
                b.division_id.to_string(),
                b.min_points.to_string(),
                b.relegation_min_points.to_string(),
                b.bonus_points.to_string(),
                esc(&b.promotion_prize_code),
            ]
        })
        .collect();
    let rank_bonus: Vec<Vec<String>> = c
        .rank_bonus
        .iter()
        .map(|r| vec![r.min_rank.to_string(), r.bonus_points.to_string()])
        .collect();
    let values: Vec<Vec<String>> = c
        .server_values
        .iter()
        .map(|v| vec![esc(&v.name), esc(&v.value)])
        .chain(
            c.scoring_constants
                .iter()
                .map(|v| vec![esc(&v.name), v.value.to_string()]),
        )
        .collect();
    let rendered = gc.at(now);
    let event = &rendered.time.event;
    let event_now = match &event.current {
        Some(e) => format!(
            "{} (event {}, playlist {})",
            esc(&e.dev_name),
            e.event_id,
            e.playlist_id
        ),
        None => "none".into(),
    };
    let rotation: Vec<Vec<String>> = settings
        .events
        .rotation
        .iter()
        .map(|e| {
            vec![
                e.event_id.to_string(),
                esc(&e.dev_name),
                e.playlist_id.to_string(),
                esc(e.prize_code.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    let mm = &settings.matchmaking;
    let modes: Vec<Vec<String>> = mm
        .modes
        .iter()
        .map(|m| {
            vec![
                esc(&m.rule_set),
                m.max_players.to_string(),
                m.teams.to_string(),
            ]
        })
        .collect();
    let matchmaking = vec![
        vec!["Poll held for".into(), format!("{} s", mm.hold_secs)],
        vec!["Gather window".into(), format!("{} s", mm.gather_secs)],
        vec![
            "Party leaves after".into(),
            format!("{} s without a poll", mm.leave_after_secs),
        ],
        vec!["Late join for".into(), format!("{} s", mm.late_join_secs)],
        vec![
            "Skill band".into(),
            format!(
                "{} + {}/s, open after {} s",
                mm.skill_band_initial, mm.skill_band_widen_per_sec, mm.skill_band_open_after_secs
            ),
        ],
    ];
    let general = vec![
        vec![
            "Source".into(),
            esc(&settings
                .game_config_file
                .as_ref()
                .map_or("built in".into(), |p| p.display().to_string())),
        ],
        vec!["Configuration hash now".into(), rendered.hash.to_string()],
        vec!["CDN server type".into(), esc(&settings.cdn_server_type)],
        vec![
            "Session lifetime".into(),
            format!("{} h", settings.session_ttl_hours),
        ],
        vec!["Event now".into(), event_now],
        vec!["Next event window".into(), time(event.next_event)],
        vec![
            "Event windows".into(),
            format!(
                "every {} for {} h",
                esc(&settings.events.weekday),
                settings.events.duration_hours
            ),
        ],
    ];
    let body = format!(
        "<p class=\"hint\">Read-only: this is what every Login receives. It comes from the config file and the game configuration file; \
         change those and restart to change it.</p>\
         <section><h2>General</h2>{}</section>\
         <section><h2>Playlists</h2>{}</section>\
         <section class=\"two\"><div><h2>Division bands</h2>{}</div><div><h2>Rank bonus</h2>{}</div></section>\
         <section class=\"two\"><div><h2>Matchmaking</h2>{}</div><div><h2>Modes</h2>{}</div></section>\
         <section><h2>Event rotation</h2>{}</section>\
         <section><h2>Server values and scoring constants</h2>{}</section>",
        table(&["", ""], &general, ""),
        table(&["Id", "Name", "Type", "Game modes", "Levels", "Vehicles", "Mutators"], &playlists, "No playlists."),
        table(&["Division", "Min points", "Stays from", "Season bonus", "Promotion prize"], &bands, "No bands."),
        table(&["From rank", "Bonus points"], &rank_bonus, "No rank bonus."),
        table(&["", ""], &matchmaking, ""),
        table(&["Rule set", "Players", "Teams"], &modes, ""),
        table(&["Event", "Name", "Playlist", "Prize"], &rotation, "No events in the rotation."),
        table(&["Name", "Value"], &values, "None."),
    );
    Ok(super::render(d, s, "Game configuration", None, &body))
}
