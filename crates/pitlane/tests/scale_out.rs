//! Several instances of the real binary on one PostgreSQL database behave
//! as one server: Micro Machines players whose polls land on different
//! instances race together, a Motor City Online player logs in on one
//! instance and plays on the other's lobby and MCOTS, AddPoints from both
//! instances add up, and killing one instance with SIGKILL loses no
//! acknowledged claim (its searching players continue on the other).
//! The same scenario runs against one instance on SQLite (both "sides"
//! are that instance) and gives the same results. PostgreSQL runs only
//! when PITLANE_TEST_DATABASE_URL is set.

mod common;

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use motorcity::crypto::PublicLoginKey;
use motorcity::http::AuthLoginResponse;
use motorcity::mcots::messages::{self, no, McLogin};
use motorcity::{SessionKey, ShardId};
use pitlane_sim::mco::{self, LobbyClient, McotsClient, PersonaCreation, TlsMode};
use pitlane_sim::mmws::{MatchOutcome, MmwsClient, Search};
use pitlane_store::testing::{databases, TestDatabase};
use pitlane_store::Store;
use tokio::sync::Mutex;

const POINTS: i64 = 5;

fn free_port(ip: IpAddr) -> SocketAddr {
    TcpListener::bind((ip, 0)).unwrap().local_addr().unwrap()
}

/// One running `pitlane serve` with every listener on its own address.
struct Instance {
    child: Child,
    data: PathBuf,
    mmws: SocketAddr,
    https: SocketAddr,
    mco_login: SocketAddr,
    mco_persona: SocketAddr,
    mco_lobby: SocketAddr,
    mco_mcots: SocketAddr,
    web: SocketAddr,
    client: MmwsClient,
}

impl Instance {
    /// Starts the binary on loopback address `ip`; `shared_from` copies
    /// another instance's MCO login key and certificates (every instance
    /// behind one address must answer with the key and CA players
    /// installed).
    async fn start(
        dir: &Path,
        name: &str,
        ip: IpAddr,
        db: &TestDatabase,
        shared_from: Option<&Path>,
    ) -> Instance {
        let port = || free_port(ip);
        let (mmws, https, mco_login, mco_persona, mco_lobby, mco_mcots, web) =
            (port(), port(), port(), port(), port(), port(), port());
        let config = dir.join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "[listen]\nmmws_http = \"{mmws}\"\nhttps = \"{https}\"\nmco_login = \"{mco_login}\"\nmco_persona = \"{mco_persona}\"\n\
                 mco_lobby = \"{mco_lobby}\"\nmco_mcots = \"{mco_mcots}\"\n\
                 [tls]\nenabled = true\n[web]\nenabled = true\nlisten = \"{web}\"\n\
                 [limits]\nrequests_per_second_per_address = 0\n\
                 [micromachines.matchmaking]\nhold_secs = 4.0\ngather_secs = 0.5\nleave_after_secs = 1.0\nlate_join_secs = 0.0\n"
            ),
        )
        .unwrap();
        let data = dir.join(format!("{name}-data"));
        if let Some(from) = shared_from {
            for sub in ["mco", "certs"] {
                let target = data.join(sub);
                std::fs::create_dir_all(&target).unwrap();
                for entry in std::fs::read_dir(from.join(sub)).unwrap() {
                    let entry = entry.unwrap();
                    if entry.file_type().unwrap().is_file() {
                        std::fs::copy(entry.path(), target.join(entry.file_name())).unwrap();
                    }
                }
            }
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pitlane"));
        cmd.arg("--config")
            .arg(&config)
            .arg("--data-dir")
            .arg(&data)
            .arg("serve")
            .stdout(Stdio::null())
            // Kept for reading when an assertion fails.
            .stderr(std::fs::File::create(data.with_extension("log")).unwrap());
        // The test reads the same database (SQLite file or PostgreSQL).
        cmd.arg("--database-url").arg(&db.url);
        let child = cmd.spawn().unwrap();
        let mut client = MmwsClient::new(mmws);
        client.timeout = Duration::from_secs(10);
        let instance = Instance {
            child,
            data,
            mmws,
            https,
            mco_login,
            mco_persona,
            mco_lobby,
            mco_mcots,
            web,
            client,
        };
        instance.wait_ready().await;
        instance
    }

    async fn wait_ready(&self) {
        // Generous: the machine may be busy building.
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(r) = self.client.server_status().await {
                if r.status == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "instance on {} did not come up:\n{}",
            self.mmws,
            std::fs::read_to_string(self.data.with_extension("log")).unwrap_or_default()
        );
    }

    async fn status(&self) -> serde_json::Value {
        let mut web = MmwsClient::new(self.web);
        web.prefix = "";
        let r = web.get("localhost", "/api/status").await.unwrap();
        assert_eq!(r.status, 200);
        serde_json::from_slice(&r.body).unwrap()
    }

    fn kill(&mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Two instances on PostgreSQL (on 127.0.0.1 and 127.0.0.2), or one on
/// SQLite: `side(i)` is the instance player `i` talks to.
struct Cluster {
    instances: Vec<Instance>,
    store: Store,
    label: &'static str,
}

impl Cluster {
    async fn start(dir: &Path, db: &TestDatabase) -> Cluster {
        let a = Instance::start(dir, "a", [127, 0, 0, 1].into(), db, None).await;
        let mut instances = vec![a];
        if db.label != "sqlite" {
            let key = instances[0].data.clone();
            instances.push(Instance::start(dir, "b", [127, 0, 0, 2].into(), db, Some(&key)).await);
        }
        Cluster {
            instances,
            store: Store::open(&db.url).await.unwrap(),
            label: db.label,
        }
    }

    fn side(&self, i: usize) -> &Instance {
        &self.instances[i % self.instances.len()]
    }
}

/// Players search on alternating instances and all end up in one race
/// with one SessionId, one RaceKey and one host, stored with all of them.
async fn matched_across_instances(c: &Cluster) {
    let mut tasks = Vec::new();
    let mut steam_ids = BTreeSet::new();
    for i in 0..4u64 {
        let client = c.side(i as usize).client.clone();
        let steam = 76561198500000000 + i;
        steam_ids.insert(steam);
        tasks.push(tokio::spawn(async move {
            let login = client.login(steam, &format!("Scale{i}")).await.unwrap();
            let search = Search::new(900 + i, "RankedRace", "Race", "Ranked");
            let outcome: Option<MatchOutcome> = client
                .search_until_matched(&login.token, &search, 3)
                .await
                .unwrap();
            (search.group_lobby_id, outcome.expect("placed in a race"))
        }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    let first = &outcomes[0].1;
    for (party, o) in &outcomes {
        assert_eq!(o.race_key, first.race_key, "{}: one race", c.label);
        assert_eq!(o.session_id, first.session_id, "{}: one SessionId", c.label);
        assert_eq!(
            o.groups, first.groups,
            "{}: the same parties for all",
            c.label
        );
        assert!(o.groups.iter().any(|g| g.group_lobby_id == *party));
    }
    assert_eq!(first.groups.len(), 4, "{}", c.label);
    assert_eq!(first.groups.iter().filter(|g| g.is_host).count(), 1);
    let race = c
        .store
        .mm_races()
        .get(&first.race_key)
        .await
        .unwrap()
        .expect("the race is stored");
    assert_eq!(race.race.session_id, first.session_id);
    assert_eq!(
        race.players.iter().copied().collect::<BTreeSet<_>>(),
        steam_ids
    );
}

/// AuthLogin and NPS login on the first instance, lobby and MCOTS on the
/// last: the session key is in the database, not in a process.
async fn mco_login_here_play_there(c: &Cluster) {
    let (a, b) = (c.side(0), c.side(1));
    c.store
        .mco_accounts()
        .create("scaler", "pw", chrono::Utc::now())
        .await
        .unwrap();
    let tls = TlsMode::Tls {
        server_name: "localhost".into(),
        connector: Arc::new(
            pitlane_sim::tls::TrustingClient::from_ca_pem_file(&a.data.join("certs/ca.pem"))
                .unwrap(),
        ),
    };
    let ticket = match mco::auth_login(a.https, tls, "scaler", "pw").await.unwrap() {
        AuthLoginResponse::Valid { ticket } => ticket,
        other => panic!(
            "{}: no ticket: {other:?}\n{}",
            c.label,
            std::fs::read_to_string(a.data.with_extension("log")).unwrap_or_default()
        ),
    };
    let pub_key = PublicLoginKey::from_pub_key_file(
        &std::fs::read_to_string(a.data.join("mco/pub.key")).unwrap(),
    )
    .unwrap();
    let key = SessionKey::generate();
    let customer = mco::login_with_key(a.mco_login, &pub_key, &ticket, &key)
        .await
        .unwrap();
    let created = mco::create_persona(a.mco_persona, customer, ShardId(44), "Scaler")
        .await
        .unwrap();
    assert!(matches!(created, PersonaCreation::Created));
    let persona = mco::list_personas(a.mco_persona, customer)
        .await
        .unwrap()
        .into_iter()
        .find(|p| p.name == "Scaler")
        .unwrap()
        .id;
    mco::select_persona(a.mco_persona, customer, persona, ShardId(44))
        .await
        .unwrap();

    let mut lobby = LobbyClient::login(b.mco_lobby, &key, customer, persona, "Scaler")
        .await
        .unwrap_or_else(|e| panic!("{}: lobby login on the other instance: {e}", c.label));
    assert!(!lobby.channels().await.unwrap().is_empty());
    let mut mcots = McotsClient::connect(b.mco_mcots, &key, customer, persona, "Scaler")
        .await
        .unwrap();
    let login = McLogin {
        customer_id: customer.0,
        persona_id: persona.0,
        lot_owner_id: 0,
        branded_part_id: 0,
        skin_id: 0,
        persona_name: "Scaler".into(),
        mc_version: 6001,
    };
    let done = mcots.ask(login.to_bytes(), 1).await.unwrap();
    assert_eq!(
        messages::msg_no(&done[0]).unwrap(),
        no::MC_LOGIN_COMPLETE,
        "{}",
        c.label
    );
}

/// One player's claims, sent to both instances at once, all count.
async fn points_from_both_instances_add_up(c: &Cluster) {
    let steam = 76561198500000100;
    let login = c.side(0).client.login(steam, "Points").await.unwrap();
    let claims = 20u64;
    let mut tasks = Vec::new();
    for k in 0..claims {
        let client = c.side(k as usize).client.clone();
        let token = login.token.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("5CA1E000{k:08X}");
            client
                .register_game(&token, &key, &[steam], 10)
                .await
                .unwrap();
            client.add_points(&token, &key, POINTS).await.unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let again = c.side(1).client.login(steam, "Points").await.unwrap();
    assert_eq!(
        again.points,
        login.points + POINTS * claims as i64,
        "{}: nothing lost",
        c.label
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_on_one_database_behave_as_one_server() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let c = Cluster::start(dir.path(), &db).await;
        matched_across_instances(&c).await;
        mco_login_here_play_there(&c).await;
        points_from_both_instances_add_up(&c).await;

        // Heartbeats: every instance counts itself and the others.
        let status = c.side(0).status().await;
        assert_eq!(
            status["instances"]["live"],
            c.instances.len(),
            "{}: {status}",
            c.label
        );
        let beats = c
            .store
            .instances()
            .live_totals(chrono::Utc::now())
            .await
            .unwrap();
        assert_eq!(beats.instances, c.instances.len() as i64, "{}", c.label);
    }
}

/// SIGKILL of one instance under AddPoints load from both: every claim
/// that was answered is stored exactly once, and a player whose held poll
/// died with the instance is matched on the other at its next poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_instance_loses_no_acknowledged_write() {
    let Some(db) = TestDatabase::postgres().await else {
        eprintln!(
            "skipped: set {} to run two instances on PostgreSQL",
            pitlane_store::testing::ENV
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut c = Cluster::start(dir.path(), &db).await;
    let players = 6u64;
    let base = 76561198500001000;
    let acked: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
    let mut tokens = Vec::new();
    for p in 0..players {
        tokens.push(
            c.side(0)
                .client
                .login(base + p, &format!("K{p}"))
                .await
                .unwrap()
                .token,
        );
    }
    let mut tasks = Vec::new();
    for p in 0..players {
        let clients = [c.side(0).client.clone(), c.side(1).client.clone()];
        let token = tokens[p as usize].clone();
        let acked = acked.clone();
        tasks.push(tokio::spawn(async move {
            let steam = base + p;
            for k in 0u64.. {
                let client = &clients[(k % 2) as usize];
                let key = format!("{p:08X}{k:08X}");
                if client
                    .register_game(&token, &key, &[steam], 10)
                    .await
                    .is_err()
                {
                    return;
                }
                match client.add_points(&token, &key, POINTS).await {
                    Ok(_) => acked.lock().await.push((steam, key)),
                    Err(_) => return,
                }
            }
        }));
    }
    // A party whose poll is held on the instance about to die.
    let stranded = c.side(1).client.login(base + 50, "Stranded").await.unwrap();
    let stranded_search = Search::new(950, "RankedRace", "Race", "Ranked");
    let held = {
        let client = c.side(1).client.clone();
        let token = stranded.token.clone();
        let search = stranded_search.clone();
        tokio::spawn(async move { client.enter_matchmaking(&token, &search).await })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    c.instances[1].kill();
    for t in tasks {
        let _ = t.await;
    }
    assert!(
        held.await.unwrap().is_err(),
        "the held poll died with its instance"
    );
    let acked = acked.lock().await.clone();
    assert!(acked.len() >= players as usize, "load ran: {}", acked.len());

    let a = &c.instances[0].client;
    for p in 0..players {
        let steam = base + p;
        let mine: Vec<&String> = acked
            .iter()
            .filter(|(s, _)| *s == steam)
            .map(|(_, k)| k)
            .collect();
        let login = a.login(steam, &format!("K{p}")).await.unwrap();
        let total = login.points;
        // At most one claim per player was in flight at the kill.
        let floor = POINTS * mine.len() as i64;
        assert!(
            total == floor || total == floor + POINTS,
            "player {p}: {} acknowledged claims, total {total}",
            mine.len()
        );
        let token = login.token;
        for key in mine {
            let again = a.add_points(&token, key, POINTS).await.unwrap();
            assert_eq!(again.points, total, "claim {key} is not counted twice");
        }
    }

    // The stranded party polls again on the survivor and meets a newcomer.
    let newcomer = a.login(base + 51, "Newcomer").await.unwrap();
    let newcomer_search = Search::new(951, "RankedRace", "Race", "Ranked");
    let (x, y) = tokio::join!(
        a.search_until_matched(&stranded.token, &stranded_search, 3),
        a.search_until_matched(&newcomer.token, &newcomer_search, 3)
    );
    let (x, y) = (x.unwrap().expect("matched"), y.unwrap().expect("matched"));
    assert_eq!(x.race_key, y.race_key);
    assert_eq!(x.session_id, y.session_id);
    assert_eq!(x.groups.len(), 2);
    let status = c.instances[0].status().await;
    assert!(status["instances"]["live"].as_i64().unwrap() >= 1);
}

/// Two servers in this process on one PostgreSQL database: what a player
/// does on one instance reaches the other at once (NOTIFY), with the same
/// answers the single-instance pool gives.
#[tokio::test]
async fn cancel_start_now_and_late_join_reach_across_instances() {
    let Some(db) = TestDatabase::postgres().await else {
        eprintln!(
            "skipped: set {} to run two instances on PostgreSQL",
            pitlane_store::testing::ENV
        );
        return;
    };
    let start = |late_join_secs: f64| {
        let db = &db;
        async move {
            let data_dir = tempfile::tempdir().unwrap();
            let mut config = common::test_config(db, data_dir.path());
            let mm = &mut config.micromachines.matchmaking;
            // Long enough that an answer before it can only be a wake-up.
            mm.hold_secs = 30.0;
            mm.gather_secs = 0.3;
            mm.leave_after_secs = 1.0;
            mm.late_join_secs = late_join_secs;
            common::TestServer::start_with(
                config,
                data_dir,
                pitlane_core::ManualClock::new(common::capture_time()),
            )
            .await
        }
    };
    let a = start(60.0).await;
    let b = start(60.0).await;
    let base = 76561198500002000;
    let login = |t: &common::TestServer, n: u64| {
        let client = t.client.clone();
        async move {
            client
                .login(base + n, &format!("X{n}"))
                .await
                .unwrap()
                .token
        }
    };

    // Start now on A hosts a race of one, stored for points.
    let solo = login(&a, 1).await;
    let mut search = Search::new(960, "RankedRace", "Race", "Ranked");
    search.start_now = true;
    let o = a.client.enter_matchmaking(&solo, &search).await.unwrap();
    assert!(o.is_match());
    assert_eq!(o.groups.len(), 1);
    assert!(o.groups[0].is_host);
    assert_eq!(o.groups[0].team, 1);
    let race = b
        .server
        .store()
        .mm_races()
        .get(&o.race_key)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(race.players, vec![base + 1]);

    // A late searcher on B joins that race (formed on A, not registered).
    let late = login(&b, 2).await;
    let late_search = Search::new(961, "RankedRace", "Race", "Ranked");
    let joined = b
        .client
        .enter_matchmaking(&late, &late_search)
        .await
        .unwrap();
    assert_eq!(joined.race_key, o.race_key, "joined the race formed on A");
    assert_eq!(joined.session_id, o.session_id);
    assert_eq!(joined.groups.len(), 2);
    assert!(joined.groups[0].is_host && !joined.groups[1].is_host);

    // Once registered, the race takes no more late joiners.
    a.client
        .register_game(&solo, &o.race_key, &[base + 1, base + 2], 1)
        .await
        .unwrap();

    // A poll held on A is released by CancelMatchmaking sent to B.
    let waiting = login(&a, 3).await;
    let waiting_search = Search::new(962, "NotRankedRace", "Race", "NotRanked");
    let held = {
        let client = a.client.clone();
        let (token, search) = (waiting.clone(), waiting_search.clone());
        tokio::spawn(async move { client.enter_matchmaking(&token, &search).await.unwrap() })
    };
    // Wait until the search is stored, then cancel it elsewhere.
    loop {
        let all = b
            .server
            .micromachines()
            .matchmaker()
            .searching_everywhere()
            .await
            .unwrap();
        if all
            .iter()
            .any(|s| s.group_lobby_id == waiting_search.group_lobby_id)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancel = b
        .client
        .cancel_matchmaking(&waiting, waiting_search.group_lobby_id)
        .await
        .unwrap();
    assert_eq!(cancel.status, 200);
    let answered = tokio::time::timeout(Duration::from_secs(15), held)
        .await
        .expect("released before the 30 s hold: woken from the other instance")
        .unwrap();
    assert!(!answered.is_match());
    assert_eq!(answered.groups[0].team, 0);
    assert!(a
        .server
        .micromachines()
        .matchmaker()
        .searching_everywhere()
        .await
        .unwrap()
        .is_empty());
    a.server.shutdown().await;
    b.server.shutdown().await;
}
