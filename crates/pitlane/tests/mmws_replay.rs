//! Replays every captured session3 flow of the account slice against a
//! server on 127.0.0.1:0 and holds the answers to the official ones: same
//! status, same Content-Type (or none), same XML structure, and values that
//! are not per-player or per-time equal.

mod common;

use bytes::Bytes;
use common::{fixture, TestServer};
use http::Method;
use pitlane_sim::http::{send, unity_request};
use pitlane_sim::xml_shape::{parse, shape, shape_of_items};
use pitlane_store::testing::databases;
use serde_json::Value;

const FLOWS: &[&str] = &[
    "00-redirect_steam_submission3",
    "01-ServerStatus",
    "02-Login",
    "04-UpdateAccountTitle",
    "05-UpdateAccountTitle",
    "06-GetElite",
    "07-GetFriends",
    "08-EnterMatchmaking2",
    "09-EnterMatchmaking2",
    "10-EnterMatchmaking2",
    "11-EnterMatchmaking2",
    "12-RegisterActiveGameWithPlayers",
    "13-AddPoints",
    "14-ServerStatus",
    "15-Login",
    "17-redirect_steam_submission3",
    "18-ServerStatus",
    "19-Login",
    "21-UpdateAccountTitle",
    "22-UpdateAccountTitle",
    "23-GetElite",
    "24-GetFriends",
    "25-redirect_steam_submission3",
    "26-ServerStatus",
    "27-Login",
];

fn header<'a>(headers: &'a Value, name: &str) -> Option<&'a str> {
    headers.as_array()?.iter().find_map(|pair| {
        let pair = pair.as_array()?;
        (pair.first()?.as_str()?.eq_ignore_ascii_case(name)).then(|| pair.get(1)?.as_str())?
    })
}

/// The text between `<tag>` and `</tag>` (first occurrence).
fn between<'a>(doc: &'a str, tag: &str) -> &'a str {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = doc.find(&open).unwrap() + open.len();
    let end = doc[start..].find(&close).unwrap() + start;
    &doc[start..end]
}

fn without_hash(config: &str) -> String {
    let start = config.find("<Hash>").unwrap();
    let end = config.find("</Hash>").unwrap() + "</Hash>".len();
    format!("{}{}", &config[..start], &config[end..])
}

#[tokio::test]
async fn session3_account_flows_replay_with_the_official_structure() {
    for db in databases().await {
        // Long polls of 0.3 s instead of 25 s: the sequence is the same.
        let data_dir = tempfile::tempdir().unwrap();
        let mut config = common::test_config(&db, data_dir.path());
        config.micromachines.matchmaking.hold_secs = 0.3;
        let t = TestServer::start_with(
            config,
            data_dir,
            pitlane_core::ManualClock::new(common::capture_time()),
        )
        .await;
        // Three other players on the board, so the leaderboards have rows.
        // They are the first three friends of the captured GetFriends.
        for (i, steam_id, points) in [
            (1, 76561197962130820u64, 4000),
            (2, 76561197963787883, 2380),
            (3, 76561197964739259, 120),
        ] {
            let other = t
                .client
                .login(steam_id, &format!("Rival {i}"))
                .await
                .unwrap();
            t.server
                .store()
                .mm_scores()
                .set(45, other.user_id, points, 6, common::capture_time())
                .await
                .unwrap();
        }
        let mut token: Option<String> = None;
        let mut race_key: Option<String> = None;
        let mut session_ids: Vec<i64> = Vec::new();
        for flow in FLOWS {
            let meta: Value =
                serde_json::from_slice(&fixture(&format!("{flow}/meta.json"))).unwrap();
            let req = &meta["request"];
            let method: Method = req["method"].as_str().unwrap().parse().unwrap();
            let host = req["host"].as_str().unwrap();
            let path = req["path"].as_str().unwrap();
            let mut body = match req["body"]["file"].as_str() {
                Some(file) => fixture(&format!("{flow}/{file}")),
                None => Vec::new(),
            };
            // Later calls carry the token of the preceding login: ours.
            if let Some(ours) = &token {
                let text = String::from_utf8(body.clone()).unwrap();
                if text.contains("<SessionToken>") {
                    let theirs = between(&text, "SessionToken");
                    body = text.replace(theirs, ours).into_bytes();
                }
            }
            // ...and the race our matchmaking made.
            if let Some(ours) = &race_key {
                let text = String::from_utf8(body.clone()).unwrap();
                if text.contains("<RaceKey>") {
                    let theirs = between(&text, "RaceKey");
                    body = text.replace(theirs, ours).into_bytes();
                }
            }
            let request = unity_request(
                method,
                host,
                path,
                header(&req["headers"], "content-type"),
                &[],
                Bytes::from(body),
            )
            .unwrap();
            let ours = send(
                t.server.listening.mmws_http,
                request,
                std::time::Duration::from_secs(10),
            )
            .await
            .unwrap();
            let official = &meta["response"];
            let label = format!("{} {flow}", db.label);
            assert_eq!(
                ours.status.as_u16() as u64,
                official["status"].as_u64().unwrap(),
                "{label}: {}",
                ours.text()
            );
            assert_eq!(
                ours.content_type(),
                header(&official["headers"], "Content-Type"),
                "{label}: Content-Type"
            );
            let official_body = match official["body"]["file"].as_str() {
                Some(file) => fixture(&format!("{flow}/{file}")),
                None => Vec::new(),
            };
            if official_body.is_empty()
                || !official_body.starts_with(b"<")
                || flow.contains("ServerStatus")
            {
                // Empty void answers, the CDN text and the status file are
                // exact.
                assert_eq!(
                    ours.body.as_ref(),
                    official_body.as_slice(),
                    "{label}: body"
                );
                continue;
            }
            if flow.contains("GetElite") || flow.contains("GetFriends") {
                assert_eq!(
                    shape_of_items(&ours.body).unwrap(),
                    shape_of_items(&official_body).unwrap(),
                    "{label}: structure"
                );
            } else {
                assert_eq!(
                    shape(&ours.body).unwrap(),
                    shape(&official_body).unwrap(),
                    "{label}: structure"
                );
            }
            let doc = parse(&ours.body).unwrap();
            if flow.contains("EnterMatchmaking2") {
                let request_doc = parse(&fixture(&format!("{flow}/request.xml"))).unwrap();
                let group = doc
                    .child("Groups")
                    .unwrap()
                    .child("MatchmakingGroup")
                    .unwrap();
                assert_eq!(
                    group.required("GameLobbyId").unwrap(),
                    request_doc.required("GameLobbyId").unwrap()
                );
                assert_eq!(
                    group.required("GroupLobbyId").unwrap(),
                    request_doc.required("GroupLobbyId").unwrap()
                );
                assert_eq!(group.required("IsHost").unwrap(), "true");
                let start_now = request_doc
                    .required("IgnoreMinimumMatchRequirements")
                    .unwrap()
                    == "true";
                assert_eq!(
                    group.required("Team").unwrap(),
                    if start_now { "1" } else { "0" },
                    "{label}"
                );
                let key = doc.required("RaceKey").unwrap();
                assert!(
                    key.len() == 16
                        && key
                            .bytes()
                            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c)),
                    "{key}"
                );
                session_ids.push(doc.required_i64("SessionId").unwrap());
                race_key = Some(key.to_string());
            }
            if flow.contains("AddPoints") {
                assert_eq!(
                    doc.required_i64("Points").unwrap(),
                    40,
                    "0 + 40 this season"
                );
                assert_eq!(doc.required_i64("NewSeason").unwrap(), 45);
                assert_eq!(
                    doc.required_i64("Rank").unwrap(),
                    3,
                    "behind 4000, 2380 and 120"
                );
                assert_eq!(doc.required("GameConfigChanged").unwrap(), "false");
            }
            if flow.contains("GetElite") {
                let names: Vec<&str> = doc
                    .child("Entries")
                    .unwrap()
                    .children
                    .iter()
                    .map(|e| e.required("Name").unwrap())
                    .collect();
                let expected = if flow.starts_with("06") {
                    vec!["Rival 1", "Rival 2", "Rival 3"]
                } else {
                    vec!["Rival 1", "Rival 2", "Rival 3", "Heatray"]
                };
                assert_eq!(names, expected, "{label}");
            }
            if flow.ends_with("Login") {
                let ours_text = ours.text();
                let theirs_text = String::from_utf8(official_body).unwrap();
                // Same clock, same built-in configuration: the whole shared
                // block is the official one except our own Hash.
                assert_eq!(
                    without_hash(between(&ours_text, "GameConfigurationData")),
                    without_hash(between(&theirs_text, "GameConfigurationData")),
                    "{label}: configuration block"
                );
                let official_doc = parse(theirs_text.as_bytes()).unwrap();
                assert_eq!(
                    doc.required("PlatformID").unwrap(),
                    official_doc.required("PlatformID").unwrap(),
                    "SteamID64 from the ticket"
                );
                let session = doc.required("SessionToken").unwrap();
                assert!(session.len() >= 43 && !session.contains('<') && !session.contains('&'));
                let user_facing = doc.required("UserFacingID").unwrap();
                assert_eq!(user_facing.len(), 13);
                assert!(doc.required_i64("UserID").unwrap() > 0);
                token = Some(session.to_string());
            }
        }
        let stored = t
            .server
            .store()
            .mm_accounts()
            .by_steam_id(76561198081105540)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.title, "lng_player_title_default",
            "{}: last title of the session (flow 22)",
            db.label
        );
        assert_eq!(stored.display_name, "Heatray");
        t.server.shutdown().await;
    }
}
