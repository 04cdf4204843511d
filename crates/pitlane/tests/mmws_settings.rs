//! Operator settings change what players get: each test runs the same
//! players with and without the setting.

mod common;

use std::time::Duration;

use common::{capture_time, test_config, TestServer};
use pitlane_core::config::{Config, ModeSettings};
use pitlane_core::ManualClock;
use pitlane_sim::mmws::{MatchOutcome, Search};
use pitlane_store::testing::TestDatabase;

async fn server(db: &TestDatabase, change: impl FnOnce(&mut Config)) -> TestServer {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(db, data_dir.path());
    let mm = &mut config.micromachines.matchmaking;
    mm.hold_secs = 1.0;
    mm.gather_secs = 0.3;
    mm.leave_after_secs = 0.5;
    change(&mut config);
    TestServer::start_with(config, data_dir, ManualClock::new(capture_time())).await
}

async fn login(t: &TestServer, n: u64) -> String {
    t.client
        .login(76561198300000000 + n, &format!("S{n}"))
        .await
        .unwrap()
        .token
}

async fn start_now(t: &TestServer, n: u64, ranking: &str) -> MatchOutcome {
    let token = login(t, n).await;
    let mut search = Search::new(n, "QuickRace", "Race", ranking);
    search.start_now = true;
    t.client.enter_matchmaking(&token, &search).await.unwrap()
}

#[tokio::test]
async fn ai_fill_off_keeps_start_now_searches_waiting_for_humans() {
    let db = TestDatabase::sqlite();
    let default = server(&db, |_| {}).await;
    assert!(
        start_now(&default, 1, "NotRanked").await.is_match(),
        "default: starts with AI"
    );
    default.server.shutdown().await;

    let db = TestDatabase::sqlite();
    let competitive = server(&db, |c| {
        for mode in &mut c.micromachines.matchmaking.modes {
            mode.ai_fill = false;
        }
    })
    .await;
    let answer = start_now(&competitive, 1, "NotRanked").await;
    assert!(!answer.is_match(), "competitive: still waiting (Team 0)");
    competitive.server.shutdown().await;
}

#[tokio::test]
async fn ranked_ai_off_only_affects_ranked_searches() {
    let db = TestDatabase::sqlite();
    let t = server(&db, |c| {
        for mode in &mut c.micromachines.matchmaking.modes {
            mode.ranked_ai = false;
        }
    })
    .await;
    assert!(start_now(&t, 1, "NotRanked").await.is_match());
    assert!(!start_now(&t, 2, "Ranked").await.is_match());
    t.server.shutdown().await;
}

async fn six_searchers(t: &TestServer, rule_sets: [&str; 6]) -> Vec<MatchOutcome> {
    let mut tasks = Vec::new();
    for (i, rule_set) in rule_sets.into_iter().enumerate() {
        let token = login(t, 10 + i as u64).await;
        let client = t.client.clone();
        let search = Search::new(
            10 + i as u64,
            &format!("Quick{rule_set}"),
            rule_set,
            "NotRanked",
        );
        tasks.push(tokio::spawn(async move {
            client
                .search_until_matched(&token, &search, 1)
                .await
                .unwrap()
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        if let Some(o) = task.await.unwrap() {
            out.push(o);
        }
    }
    out
}

fn race_sizes(outcomes: &[MatchOutcome]) -> Vec<usize> {
    let mut keys: Vec<(String, usize)> = Vec::new();
    for o in outcomes {
        match keys.iter_mut().find(|(k, _)| *k == o.race_key) {
            Some((_, n)) => *n += 1,
            None => keys.push((o.race_key.clone(), 1)),
        }
    }
    let mut sizes: Vec<usize> = keys.into_iter().map(|(_, n)| n).collect();
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    sizes
}

#[tokio::test]
async fn max_players_splits_searchers_into_races() {
    let db = TestDatabase::sqlite();
    let default = server(&db, |_| {}).await;
    assert_eq!(
        race_sizes(&six_searchers(&default, ["Race"; 6]).await),
        vec![6]
    );
    default.server.shutdown().await;

    let db = TestDatabase::sqlite();
    let small = server(&db, |c| {
        c.micromachines.matchmaking.modes = vec![ModeSettings::new("Race", 4, 0)];
    })
    .await;
    assert_eq!(
        race_sizes(&six_searchers(&small, ["Race"; 6]).await),
        vec![4, 2]
    );
    small.server.shutdown().await;
}

#[tokio::test]
async fn a_forced_mode_puts_everyone_in_one_pool() {
    let modes = ["Race", "Race", "Race", "Battle", "Battle", "Elimination"];
    let db = TestDatabase::sqlite();
    let default = server(&db, |_| {}).await;
    assert_eq!(
        race_sizes(&six_searchers(&default, modes).await),
        vec![3, 2]
    );
    default.server.shutdown().await;

    let db = TestDatabase::sqlite();
    let event = server(&db, |c| {
        c.micromachines.matchmaking.forced_rule_set = Some("Race".into())
    })
    .await;
    assert_eq!(race_sizes(&six_searchers(&event, modes).await), vec![6]);
    event.server.shutdown().await;
}

#[tokio::test]
async fn the_hold_time_is_the_operators_and_shutdown_answers_held_polls() {
    let db = TestDatabase::sqlite();
    let t = server(&db, |c| c.micromachines.matchmaking.hold_secs = 600.0).await;
    let token = login(&t, 1).await;
    let mut client = t.client.clone();
    client.timeout = Duration::from_secs(30);
    let search = Search::new(1, "QuickRace", "Race", "NotRanked");
    let held = tokio::spawn(async move { client.enter_matchmaking(&token, &search).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!held.is_finished(), "held while nobody else searches");
    t.server.shutdown().await;
    let answer = held
        .await
        .unwrap()
        .expect("answered before the server stopped");
    assert!(!answer.is_match());
}
