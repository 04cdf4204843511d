//! Acknowledged points survive `kill -9`: the real binary serves AddPoints
//! claims from several players at once, is killed with SIGKILL mid-load,
//! restarted on the same data, and every claim that was answered 200 is
//! stored exactly once (a repeated claim changes nothing, and the totals
//! add up). On SQLite (WAL, synchronous=NORMAL: durable across process
//! kills) and on PostgreSQL when PITLANE_TEST_DATABASE_URL is set.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pitlane_sim::mmws::MmwsClient;
use pitlane_store::testing::databases;
use tokio::sync::Mutex;

const PLAYERS: u64 = 8;
const POINTS: i64 = 5;

fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

fn start(config: &std::path::Path, data: &std::path::Path, db_url: Option<&str>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pitlane"));
    cmd.arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = db_url {
        cmd.arg("--database-url").arg(url);
    }
    cmd.spawn().unwrap()
}

async fn wait_ready(client: &MmwsClient) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(r) = client.server_status().await {
            if r.status == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the server did not come up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_points_survive_sigkill_exactly_once() {
    for db in databases().await {
        let dir = tempfile::tempdir().unwrap();
        let addr = free_port();
        let config = dir.path().join("pitlane.toml");
        std::fs::write(
            &config,
            format!(
                "[listen]\nmmws_http = \"{addr}\"\n[motorcity]\nenabled = false\n[tls]\nenabled = false\n[web]\nenabled = false\n[limits]\nrequests_per_second_per_address = 0\n"
            ),
        )
        .unwrap();
        let data = dir.path().join("data");
        let db_url = (db.label != "sqlite").then_some(db.url.as_str());
        let mut child = start(&config, &data, db_url);
        let mut client = MmwsClient::new(addr);
        client.timeout = Duration::from_secs(10);
        wait_ready(&client).await;

        let base = 76561198300000000 + u64::from(std::process::id() % 1000) * 1000;
        let acked: Arc<Mutex<Vec<(u64, String)>>> = Arc::default();
        let mut tasks = Vec::new();
        for p in 0..PLAYERS {
            let client = client.clone();
            let acked = acked.clone();
            tasks.push(tokio::spawn(async move {
                let steam = base + p;
                let Ok(login) = client.login(steam, &format!("D{p}")).await else {
                    return;
                };
                for k in 0u64.. {
                    let key = format!("{:08X}{:08X}", p, k);
                    // The register race: every player registers the race
                    // before claiming, as the game's peers do.
                    if client
                        .register_game(&login.token, &key, &[steam], 10)
                        .await
                        .is_err()
                    {
                        return;
                    }
                    match client.add_points(&login.token, &key, POINTS).await {
                        Ok(_) => acked.lock().await.push((steam, key)),
                        Err(_) => return,
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for t in tasks {
            let _ = t.await;
        }
        let acked = acked.lock().await.clone();
        assert!(
            acked.len() >= PLAYERS as usize,
            "{}: load ran: {}",
            db.label,
            acked.len()
        );

        let mut child = start(&config, &data, db_url);
        wait_ready(&client).await;
        for p in 0..PLAYERS {
            let steam = base + p;
            let mine: Vec<&String> = acked
                .iter()
                .filter(|(s, _)| *s == steam)
                .map(|(_, k)| k)
                .collect();
            let login = client.login(steam, &format!("D{p}")).await.unwrap();
            let total = login.points;
            // At most one claim per player was in flight at the kill.
            let floor = POINTS * mine.len() as i64;
            assert!(
                total == floor || total == floor + POINTS,
                "{}: player {p}: {} acknowledged claims, total {total}",
                db.label,
                mine.len()
            );
            for key in mine {
                let again = client.add_points(&login.token, key, POINTS).await.unwrap();
                assert_eq!(
                    again.points, total,
                    "{}: claim {key} was stored and is not counted twice",
                    db.label
                );
            }
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
