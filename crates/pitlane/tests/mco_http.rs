//! Motor City Online's plain-HTTP side and its administration commands.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use bytes::Bytes;
use common::TestServer;
use http::Method;
use pitlane_sim::http::send;
use pitlane_store::testing::databases;

async fn get(t: &TestServer, host: &str, path: &str) -> pitlane_sim::http::HttpResponse {
    let request = http::Request::builder()
        .method(Method::GET)
        .uri(path)
        .header("Host", host)
        .body(http_body_util::Full::new(Bytes::new()))
        .unwrap();
    send(
        t.server.listening.mmws_http,
        request,
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn shard_list_patch_check_and_auth_login_on_port_80() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let shards = get(&t, "mco.example", "/ShardList/").await;
        assert_eq!(shards.status, 200);
        assert_eq!(shards.content_type(), Some("text/plain"));
        let text = shards.text();
        assert!(text.starts_with("[Pitlane]"), "{text}");
        assert!(text.contains("ShardId=44"));
        let login_port = t.server.listening.mco_login.unwrap().port();
        assert!(
            text.contains(&format!("LoginServerPort={login_port}")),
            "the bound port is announced: {text}"
        );
        assert!(text.contains("MaxPersonasPerUser=2"));
        assert!(text.contains("Population=0"));

        for path in [
            "/games/EA_Seattle/MotorCity/UpdateInfo",
            "/games/EA_Seattle/MotorCity/NPS",
            "/games/EA_Seattle/MotorCity/MCO",
        ] {
            let patch = get(&t, "mco.example", path).await;
            assert_eq!(patch.status, 200);
            assert_eq!(patch.content_type(), Some("application/octet-stream"));
            assert_eq!(
                patch.body.as_ref(),
                &[0xCA, 0xFE, 0xBE, 0xEF, 0, 0, 0, 0, 0, 0, 0x03]
            );
        }

        // AuthLogin carries the password: never accepted without TLS.
        let dir = t.server.mco().unwrap().directory.clone();
        dir.create_account("alice", "s3cret").await.unwrap();
        let auth = get(
            &t,
            "mco.example",
            "/AuthLogin?username=alice&password=s3cret&serviceID=2176&version=2.0",
        )
        .await;
        assert_eq!(
            auth.status, 200,
            "the client expects 200 even for a refusal"
        );
        assert!(!auth.text().contains("Valid=TRUE"), "{}", auth.text());
        assert!(auth.text().contains("reasoncode="), "{}", auth.text());

        // Micro Machines paths still reach Micro Machines.
        let status = get(
            &t,
            "mmcos.codemasters.com",
            "/MMCOS/MMCOS-ServerStatus/ServerStatus.xml",
        )
        .await;
        assert_eq!(status.content_type(), Some("text/xml"));
        t.server.shutdown().await;
    }
}

#[test]
fn mco_account_add_reads_the_password_from_stdin_and_keys_are_made_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pitlane"))
        .args(["mco", "account", "add", "bob", "--data-dir"])
        .arg(&data)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hunter22\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created account bob"));

    let again = Command::new(env!("CARGO_BIN_EXE_pitlane"))
        .args(["mco", "account", "add", "BOB", "--data-dir"])
        .arg(&data)
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(2),
        "names are unique regardless of case"
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store =
            pitlane_store::Store::open(&format!("sqlite://{}", data.join("pitlane.db").display()))
                .await
                .unwrap();
        let account = store.mco_accounts().by_name("bob").await.unwrap().unwrap();
        assert_eq!(account.username, "bob");
        let check = store
            .mco_accounts()
            .check_password("bob", "hunter22")
            .await
            .unwrap();
        assert!(
            matches!(check, pitlane_store::mco::PasswordCheck::Correct(_)),
            "{check:?}"
        );
        store.close().await;
    });

    let keys = |_: ()| {
        Command::new(env!("CARGO_BIN_EXE_pitlane"))
            .args(["mco", "keys", "--data-dir"])
            .arg(&data)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let first = keys(());
    assert!(String::from_utf8_lossy(&first.stdout).starts_with("created "));
    let pub_key = std::fs::read_to_string(data.join("mco/pub.key")).unwrap();
    let second = keys(());
    assert!(String::from_utf8_lossy(&second.stdout).starts_with("existing "));
    assert_eq!(
        std::fs::read_to_string(data.join("mco/pub.key")).unwrap(),
        pub_key
    );
}
