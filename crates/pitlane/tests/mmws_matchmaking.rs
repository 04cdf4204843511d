//! Several simulated players searching at the same time, through the
//! network, as the game does it.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use common::{capture_time, test_config, TestServer};
use pitlane_core::ManualClock;
use pitlane_sim::mmws::{MatchOutcome, MmwsClient, Search};
use pitlane_store::testing::{databases, TestDatabase};

async fn server(db: &TestDatabase) -> TestServer {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(db, data_dir.path());
    let mm = &mut config.micromachines.matchmaking;
    mm.hold_secs = 3.0;
    mm.gather_secs = 0.4;
    mm.leave_after_secs = 0.5;
    mm.late_join_secs = 0.0;
    TestServer::start_with(config, data_dir, ManualClock::new(capture_time())).await
}

struct Player {
    steam_id: u64,
    token: String,
    search: Search,
}

async fn players(client: &MmwsClient, first: u64, count: u64, rule_set: &str) -> Vec<Player> {
    let mut out = Vec::new();
    for i in 0..count {
        let steam_id = 76561198100000000 + first + i;
        let login = client
            .login(steam_id, &format!("P{}", first + i))
            .await
            .unwrap();
        out.push(Player {
            steam_id,
            token: login.token,
            search: Search::new(first + i, &format!("Ranked{rule_set}"), rule_set, "Ranked"),
        });
    }
    out
}

/// Every player polls at once (up to `polls` answers each); the outcome of
/// each, `None` if it was never placed.
async fn search_together(
    client: &MmwsClient,
    players: &[Player],
    polls: usize,
) -> Vec<Option<MatchOutcome>> {
    let tasks: Vec<_> = players
        .iter()
        .map(|p| {
            let client = client.clone();
            let token = p.token.clone();
            let search = p.search.clone();
            tokio::spawn(async move {
                client
                    .search_until_matched(&token, &search, polls)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

/// Races by RaceKey, each checked for consistency: the same SessionId and
/// group list for every member, one host, every member listed.
fn check_races(
    players: &[Player],
    outcomes: &[Option<MatchOutcome>],
) -> BTreeMap<String, Vec<usize>> {
    let mut by_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, o) in outcomes.iter().enumerate() {
        if let Some(o) = o {
            by_key.entry(o.race_key.clone()).or_default().push(i);
        }
    }
    for (key, members) in &by_key {
        let first = outcomes[members[0]].as_ref().unwrap();
        assert_eq!(first.race_key.len(), 16);
        assert_eq!(
            first.groups.iter().filter(|g| g.is_host).count(),
            1,
            "{key}: one host"
        );
        for &m in members {
            let o = outcomes[m].as_ref().unwrap();
            assert_eq!(o.session_id, first.session_id, "{key}: same SessionId");
            assert_eq!(o.groups, first.groups, "{key}: same groups for everyone");
            let own = o
                .groups
                .iter()
                .find(|g| g.group_lobby_id == players[m].search.group_lobby_id);
            assert!(own.is_some(), "{key}: every member is listed");
            assert!(o.groups.iter().all(|g| g.team >= 1));
        }
        let listed: HashSet<u64> = first.groups.iter().map(|g| g.group_lobby_id).collect();
        assert_eq!(
            listed.len(),
            members.len(),
            "{key}: no one listed who was not told"
        );
    }
    by_key
}

#[tokio::test]
async fn players_searching_together_share_races_of_the_right_size() {
    for db in databases().await {
        let t = server(&db).await;
        let mut next = 0;
        for (count, expected) in [
            (2u64, vec![2usize]),
            (4, vec![4]),
            (8, vec![8]),
            (13, vec![12]),
        ] {
            let ps = players(&t.client, next, count, "Race").await;
            next += count;
            let outcomes = search_together(&t.client, &ps, 1).await;
            let races = check_races(&ps, &outcomes);
            let sizes: Vec<usize> = races.values().map(Vec::len).collect();
            assert_eq!(sizes, expected, "{} {count} players", db.label);
            let unplaced = outcomes.iter().filter(|o| o.is_none()).count();
            assert_eq!(
                unplaced as u64,
                count - expected.iter().sum::<usize>() as u64
            );
            // The host is the player whose game lobby the others join.
            for members in races.values() {
                let o = outcomes[members[0]].as_ref().unwrap();
                let host = o.host().unwrap();
                let host_player = ps
                    .iter()
                    .find(|p| p.search.group_lobby_id == host.group_lobby_id)
                    .unwrap();
                assert_eq!(host.game_lobby_id, host_player.search.game_lobby_id);
            }
        }
        // The 13th player was answered "nothing yet" after the hold and can
        // still start alone with AI.
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn different_modes_never_meet_and_parties_stay_together_in_teams() {
    let db = TestDatabase::sqlite();
    let t = server(&db).await;
    let mut all = players(&t.client, 100, 2, "Race").await;
    all.extend(players(&t.client, 200, 2, "Elimination").await);
    let outcomes = search_together(&t.client, &all, 1).await;
    let races = check_races(&all, &outcomes);
    assert_eq!(races.len(), 2);
    for members in races.values() {
        let modes: HashSet<&str> = members
            .iter()
            .map(|&m| all[m].search.rule_set.as_str())
            .collect();
        assert_eq!(modes.len(), 1, "one mode per race");
    }

    // Battle: a party of 3 and five singles fill 8 places in two teams of 4.
    let mut battle = players(&t.client, 300, 6, "Battle").await;
    battle[0].search.group_size = 3;
    let outcomes = search_together(&t.client, &battle, 1).await;
    let races = check_races(&battle, &outcomes);
    assert_eq!(races.len(), 1);
    let o = outcomes[0].as_ref().unwrap();
    assert_eq!(o.groups.len(), 6);
    let party = o.groups.iter().find(|g| g.group_size == 3).unwrap();
    let team_size = |team: i64| {
        o.groups
            .iter()
            .filter(|g| g.team == team)
            .map(|g| g.group_size)
            .sum::<i64>()
    };
    assert_eq!((team_size(1), team_size(2)), (4, 4));
    assert!(party.team == 1 || party.team == 2);
    t.server.shutdown().await;
}

#[tokio::test]
async fn a_party_that_stops_polling_is_dropped() {
    let db = TestDatabase::sqlite();
    let t = server(&db).await;
    let ps = players(&t.client, 400, 3, "Race").await;
    // The first party polls, then gives up (its connection closes).
    let mut quitter = t.client.clone();
    quitter.timeout = Duration::from_millis(100);
    assert!(quitter
        .enter_matchmaking(&ps[0].token, &ps[0].search)
        .await
        .is_err());
    tokio::time::sleep(Duration::from_millis(900)).await;
    let outcomes = search_together(&t.client, &ps[1..], 1).await;
    let o = outcomes[0].as_ref().expect("the two who stayed race");
    assert_eq!(o.groups.len(), 2);
    assert!(
        o.groups
            .iter()
            .all(|g| g.group_lobby_id != ps[0].search.group_lobby_id),
        "the leaver is not listed"
    );
    t.server.shutdown().await;
}

#[tokio::test]
async fn start_now_answers_at_once_and_cancel_releases_a_held_poll() {
    let db = TestDatabase::sqlite();
    let t = server(&db).await;
    let ps = players(&t.client, 500, 2, "Race").await;
    let mut solo = ps[0].search.clone();
    solo.start_now = true;
    let started = std::time::Instant::now();
    let o = t
        .client
        .enter_matchmaking(&ps[0].token, &solo)
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "not held");
    assert!(o.is_match());
    assert_eq!(o.groups.len(), 1);
    assert_eq!(o.groups[0].team, 1);
    assert!(o.groups[0].is_host);
    // The race exists for AddPoints once registered.
    let race = t
        .server
        .store()
        .mm_races()
        .get(&o.race_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(race.players, vec![ps[0].steam_id]);

    let client = t.client.clone();
    let token = ps[1].token.clone();
    let search = ps[1].search.clone();
    let held =
        tokio::spawn(async move { client.enter_matchmaking(&token, &search).await.unwrap() });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cancel = t
        .client
        .cancel_matchmaking(&ps[1].token, ps[1].search.group_lobby_id)
        .await
        .unwrap();
    assert_eq!(cancel.status, 200);
    assert!(cancel.body.is_empty());
    let answered = tokio::time::timeout(Duration::from_secs(2), held)
        .await
        .expect("released at once")
        .unwrap();
    assert!(!answered.is_match());
    assert!(t.server.micromachines().matchmaker().searching().is_empty());
    t.server.shutdown().await;
}

#[tokio::test]
async fn wait_times_come_from_real_waits() {
    let db = TestDatabase::sqlite();
    let t = server(&db).await;
    let ps = players(&t.client, 600, 2, "Race").await;
    let before = t
        .client
        .enter_matchmaking(
            &ps[0].token,
            &Search {
                start_now: true,
                ..ps[0].search.clone()
            },
        )
        .await
        .unwrap();
    // Only the start-now wait (about 0 s) has been recorded for ranked.
    assert!(
        before.average_wait_ranked < 1.0,
        "{}",
        before.average_wait_ranked
    );
    assert_eq!(
        before.average_wait_non_ranked, 60.0,
        "default until a non-ranked race is made"
    );
    t.server.shutdown().await;
}
