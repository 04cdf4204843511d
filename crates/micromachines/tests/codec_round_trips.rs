//! Round trips of the MMCOS codecs the unit tests do not cover: results
//! written by the XML writer read back by the XML reader, client requests
//! read by the request parsers, and the EgoNet login request and answer
//! through the `vdic` codec. (The `vdic` codec itself, the text escaping
//! and the Steam ticket have their round trips next to their code.)

use chrono::DateTime;
use micromachines::contracts::{
    AddPointsResult, LeaderboardEntries, LeaderboardEntry, MatchmakingGroup, MatchmakingResult,
};
use micromachines::egonet::login::{answer, Identity, LoginRequest as EgoNetLogin};
use micromachines::egonet::vdic::{Dict, Value};
use micromachines::services::account::LoginRequest;
use micromachines::services::matchmaking::parse_search;
use micromachines::xml::{Element, ParseLimits, XmlWriter};
use pitlane_store::mmws::MmSession;
use proptest::prelude::*;

/// Text a client or the server may carry: anything but the control
/// characters XML 1.0 cannot hold and CR, which XML reads as a line end.
fn xml_text() -> impl Strategy<Value = String> {
    "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\r]{0,40}"
}

/// A display name as the Login keeps it: no control characters, no
/// surrounding spaces, not empty.
fn name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_&<>'\"Łü™.-]{1,32}"
}

fn parse(xml: &str, root: &str) -> Element {
    Element::parse_root(xml.as_bytes(), root, ParseLimits::default()).expect("our XML parses")
}

fn entry() -> impl Strategy<Value = LeaderboardEntry> {
    (
        any::<i64>(),
        xml_text(),
        any::<u64>(),
        any::<i64>(),
        xml_text(),
        any::<i64>(),
        any::<i64>(),
        any::<i64>(),
    )
        .prop_map(
            |(division, name, platform_id, points, title, level, prestige, user_id)| {
                LeaderboardEntry {
                    division,
                    name,
                    platform_id,
                    points,
                    title,
                    untrusted_level: level,
                    untrusted_prestige: prestige,
                    user_id,
                }
            },
        )
}

fn read_entry(e: &Element) -> LeaderboardEntry {
    LeaderboardEntry {
        division: e.required_i64("Division").unwrap(),
        name: e.child("Name").unwrap().text.clone(),
        platform_id: e.required_u64("PlatformID").unwrap(),
        points: e.required_i64("Points").unwrap(),
        title: e.child("Title").unwrap().text.clone(),
        untrusted_level: e.required_i64("UntrustedLevel").unwrap(),
        untrusted_prestige: e.required_i64("UntrustedPrestige").unwrap(),
        user_id: e.required_i64("UserID").unwrap(),
    }
}

proptest! {
    #[test]
    fn leaderboard_entries_read_back(
        entries in proptest::collection::vec(entry(), 0..8),
        player_rank: i64,
        player_score: i64,
    ) {
        let result = LeaderboardEntries { entries, player_rank, player_score };
        let xml = XmlWriter::document("LeaderboardEntries", &result);
        let e = parse(&xml, "LeaderboardEntries");
        let entries: Vec<LeaderboardEntry> = e
            .child("Entries")
            .unwrap()
            .children_named("LeaderboardEntry")
            .map(read_entry)
            .collect();
        prop_assert_eq!(
            LeaderboardEntries {
                entries,
                player_rank: e.required_i64("PlayerRank").unwrap(),
                player_score: e.required_i64("PlayerScore").unwrap(),
            },
            result
        );
    }

    #[test]
    fn add_points_result_reads_back(
        ints: [i64; 8],
        game_config_changed: bool,
    ) {
        let result = AddPointsResult {
            bonus_points: ints[0],
            game_config_changed,
            new_division: ints[1],
            new_season: ints[2],
            old_division: ints[3],
            old_season: ints[4],
            points: ints[5],
            rank: ints[6],
            user_id: ints[7],
        };
        let e = parse(&XmlWriter::document("AddPointsResult", &result), "AddPointsResult");
        let read = AddPointsResult {
            bonus_points: e.required_i64("BonusPoints").unwrap(),
            game_config_changed: e.required_bool("GameConfigChanged").unwrap(),
            new_division: e.required_i64("NewDivision").unwrap(),
            new_season: e.required_i64("NewSeason").unwrap(),
            old_division: e.required_i64("OldDivision").unwrap(),
            old_season: e.required_i64("OldSeason").unwrap(),
            points: e.required_i64("Points").unwrap(),
            rank: e.required_i64("Rank").unwrap(),
            user_id: e.required_i64("UserID").unwrap(),
        };
        prop_assert_eq!(read, result);
    }

    #[test]
    fn matchmaking_result_reads_back(
        waits in (0.0f64..1e9, 0.0f64..1e9),
        groups in proptest::collection::vec(
            (any::<u64>(), any::<u64>(), 1i64..5, any::<bool>(), 0i64..2),
            0..6,
        ),
        race_key in xml_text(),
        session_id: i64,
    ) {
        let result = MatchmakingResult {
            average_wait_non_ranked: waits.0,
            average_wait_ranked: waits.1,
            groups: groups
                .into_iter()
                .map(|(game_lobby_id, group_lobby_id, group_size, is_host, team)| MatchmakingGroup {
                    game_lobby_id, group_lobby_id, group_size, is_host, team,
                })
                .collect(),
            race_key,
            session_id,
        };
        let e = parse(&XmlWriter::document("MatchmakingResult", &result), "MatchmakingResult");
        let wait = |n: &str| e.required(n).unwrap().parse::<f64>().unwrap();
        let read = MatchmakingResult {
            average_wait_non_ranked: wait("AverageWaitTimeNonRanked"),
            average_wait_ranked: wait("AverageWaitTimeRanked"),
            groups: e
                .child("Groups")
                .unwrap()
                .children_named("MatchmakingGroup")
                .map(|g| MatchmakingGroup {
                    game_lobby_id: g.required_u64("GameLobbyId").unwrap(),
                    group_lobby_id: g.required_u64("GroupLobbyId").unwrap(),
                    group_size: g.required_i64("GroupSize").unwrap(),
                    is_host: g.required_bool("IsHost").unwrap(),
                    team: g.required_i64("Team").unwrap(),
                })
                .collect(),
            race_key: e.child("RaceKey").unwrap().text.clone(),
            session_id: e.required_i64("SessionId").unwrap(),
        };
        prop_assert_eq!(read, result);
    }

    /// A Login as the client writes it (pretty-printed, CRLF) reads back
    /// as the Steam id inside its ticket and the name it carries.
    #[test]
    fn client_login_requests_read_back(
        account in 1u32..,
        instance in 0u32..16,
        display_name in name(),
        title in proptest::option::of(name()),
    ) {
        let steam_id = (1u64 << 56) | (1u64 << 52) | (u64::from(instance) << 32) | u64::from(account);
        let mut ticket = vec![0u8; 12];
        ticket[0] = 20;
        ticket.extend_from_slice(&steam_id.to_le_bytes());
        ticket.extend_from_slice(&[0u8; 40]);
        let hex: String = ticket.iter().map(|b| format!("{b:02x}")).collect();
        let mut escaped_name = String::new();
        micromachines::xml::writer::escape_into(&mut escaped_name, &display_name);
        let title_xml = title.as_ref().map_or(String::new(), |t| {
            let mut s = String::new();
            micromachines::xml::writer::escape_into(&mut s, t);
            format!("  <DefaultTitle>{s}</DefaultTitle>\r\n")
        });
        let body = format!(
            "<Login>\r\n  <DisplayName>{escaped_name}</DisplayName>\r\n{title_xml}  \
             <PlatformID>{hex}^^^^true</PlatformID>\r\n  <PlatformType>Steam</PlatformType>\r\n  \
             <ProtocolVersion>1</ProtocolVersion>\r\n</Login>"
        );
        let request = LoginRequest::parse(&parse(&body, "Login")).unwrap();
        prop_assert_eq!(request.steam_id, steam_id);
        prop_assert_eq!(request.display_name, display_name);
        prop_assert_eq!(request.default_title, title.unwrap_or_else(|| "lng_player_title_default".into()));
    }

    #[test]
    fn client_matchmaking_requests_read_back(
        group_lobby_id: u64,
        game_lobby_id: u64,
        group_size in 1i64..=12,
        skill_level: u64,
        network_version: i64,
        start_now: bool,
        queue in proptest::array::uniform3("[A-Za-z0-9_]{1,64}"),
    ) {
        let body = format!(
            "<EnterMatchmaking2>\r\n  <GameLobbyId>{game_lobby_id}</GameLobbyId>\r\n  \
             <GameType>{}</GameType>\r\n  <GroupLobbyId>{group_lobby_id}</GroupLobbyId>\r\n  \
             <GroupSize>{group_size}</GroupSize>\r\n  \
             <IgnoreMinimumMatchRequirements>{start_now}</IgnoreMinimumMatchRequirements>\r\n  \
             <NetworkVersion>{network_version}</NetworkVersion>\r\n  <Ranking>{}</Ranking>\r\n  \
             <RuleSet>{}</RuleSet>\r\n  <SessionToken>x</SessionToken>\r\n  \
             <SkillLevel>{skill_level}</SkillLevel>\r\n</EnterMatchmaking2>",
            queue[0], queue[1], queue[2]
        );
        let session = MmSession {
            user_id: 7,
            steam_id: 76561198000000007,
            issued_at: DateTime::UNIX_EPOCH,
            expires_at: DateTime::UNIX_EPOCH,
            config_hash: 0,
        };
        let search = parse_search(&parse(&body, "EnterMatchmaking2")).unwrap().by(&session);
        prop_assert_eq!(search.user_id, 7);
        prop_assert_eq!(search.steam_id, 76561198000000007);
        prop_assert_eq!(search.group_lobby_id, group_lobby_id);
        prop_assert_eq!(search.game_lobby_id, game_lobby_id);
        prop_assert_eq!(i64::from(search.group_size), group_size);
        prop_assert_eq!(search.skill_level, skill_level);
        prop_assert_eq!(search.start_now, start_now);
        prop_assert_eq!(&search.queue.game_type, &queue[0]);
        prop_assert_eq!(&search.queue.ranking, &queue[1]);
        prop_assert_eq!(&search.queue.rule_set, &queue[2]);
        prop_assert_eq!(search.queue.network_version, network_version);
    }

    #[test]
    fn egonet_login_request_and_answer_round_trip(
        sent_name in name(),
        ticket in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
        user_id in 1i64..i64::MAX,
    ) {
        let mut request = Dict::new();
        request.insert("Name", Value::Str(sent_name.clone())).unwrap();
        if let Some(t) = &ticket {
            request.insert("SteamTicket", Value::Blob(t.clone())).unwrap();
        }
        let decoded = Dict::decode(&request.encode()).unwrap();
        let login = EgoNetLogin::parse(&decoded).unwrap();
        prop_assert_eq!(&login.name, &sent_name);
        prop_assert_eq!(login.ticket_len, ticket.as_ref().map(Vec::len));

        let identity = Identity::of_user(user_id);
        let reply = answer(identity, &sent_name).unwrap();
        let back = Dict::decode(&reply.encode()).unwrap();
        prop_assert_eq!(back.i64("PrincipalId"), Some(user_id));
        prop_assert_eq!(back.str("Name"), Some(sent_name.as_str()));
        prop_assert_eq!(back.u64("SteamId"), Some(identity.account_ref));
        prop_assert_eq!(back.i64("AccountRef"), Some(identity.account_ref as i64));
        prop_assert_eq!(back, reply);
    }
}
