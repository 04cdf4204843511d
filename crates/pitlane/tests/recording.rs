//! `serve --record` and `pitlane replay`: a simulated Micro Machines and a
//! simulated Motor City Online session are recorded through the real
//! listeners, then replayed against a fresh server with no differences;
//! an edited transcript is reported; secrets stay out of default
//! transcripts and are kept with `--record-secrets`.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use common::{test_config, TestServer};
use motorcity::crypto::PublicLoginKey;
use motorcity::http::AuthLoginResponse;
use motorcity::mcots::messages::{no, GenericRequest, McLogin};
use motorcity::{SessionKey, ShardId};
use pitlane::Server;
use pitlane_core::recording::Recorder;
use pitlane_core::ManualClock;
use pitlane_record::replay::{replay, ReplayOptions, ReplayReport, Targets};
use pitlane_record::secrets::Segment;
use pitlane_record::{Transcript, TranscriptDir};
use pitlane_sim::egonet::{app_ticket, EgoNetClient};
use pitlane_sim::mco::{self, LobbyClient, McotsClient, PersonaCreation, TlsMode};
use pitlane_sim::mmws::{steam_ticket_hex, MmwsClient};
use pitlane_sim::tls::TrustingClient;
use pitlane_store::testing::TestDatabase;

const STEAM_ID: u64 = 76_561_198_000_004_242;
const MCO_USER: &str = "alice";
const MCO_PASSWORD: &str = "s3cret-pass";

async fn start(db: &TestDatabase, tls: bool, record: Option<(&Path, bool)>) -> TestServer {
    let data_dir = tempfile::tempdir().unwrap();
    let mut config = test_config(db, data_dir.path());
    config.tls.enabled = tls;
    let recorder = match record {
        Some((dir, secrets)) => {
            Recorder::new(Arc::new(TranscriptDir::create(dir, secrets).unwrap()))
        }
        None => Recorder::off(),
    };
    // Certificates are checked against the real time.
    let clock = ManualClock::new(chrono::Utc::now());
    let server = Server::start_recording(&config, Arc::new(clock.clone()), recorder)
        .await
        .unwrap_or_else(|e| panic!("server start: {e}"));
    let client = MmwsClient::new(server.listening.mmws_http);
    TestServer {
        server,
        clock,
        client,
        config,
        data_dir,
    }
}

fn trusting(t: &TestServer) -> TrustingClient {
    TrustingClient::from_ca_pem_file(&t.data_dir.path().join("certs/ca.pem")).unwrap()
}

fn options(t: &TestServer) -> ReplayOptions {
    let l = t.server.listening;
    let mut options = ReplayOptions::new(Targets {
        http: Some(l.mmws_http),
        https: l.https,
        mco_login: l.mco_login,
        mco_persona: l.mco_persona,
        mco_lobby: l.mco_lobby,
        mco_mcots: l.mco_mcots,
    });
    if l.https.is_some() {
        options.tls = Some(trusting(t));
    }
    if let Ok(text) = std::fs::read_to_string(t.data_dir.path().join("mco/pub.key")) {
        options.mco_pub_key = Some(PublicLoginKey::from_pub_key_file(&text).unwrap());
    }
    options.password = Some(MCO_PASSWORD.into());
    options
}

fn transcripts(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

fn all_text(dir: &Path) -> String {
    transcripts(dir)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Server status, Login, UpdateAccountTitle, the leaderboards, EgoNet
/// login: the MMWS calls a player makes before racing. Returns the token.
async fn mmws_session(t: &TestServer) -> String {
    let c = &t.client;
    assert_eq!(c.server_status().await.unwrap().status, 200);
    let login = c.login(STEAM_ID, "Racer").await.unwrap();
    assert_eq!(
        c.update_title(&login.token, "lng_player_title_default")
            .await
            .unwrap()
            .status,
        200
    );
    c.get_elite(&login.token, 0, 10).await.unwrap();
    c.get_elite_rank(&login.token, 10).await.unwrap();
    let ego = EgoNetClient::new(t.server.listening.mmws_http);
    assert!(ego
        .login("Racer", &app_ticket(7))
        .await
        .unwrap()
        .is_success());
    login.token
}

/// What an MCO session's secrets were, to look for in transcripts.
struct McoSecrets {
    ticket: String,
    key: SessionKey,
}

/// AuthLogin over HTTPS, NPS login, persona create/list/select, lobby
/// (channels, join, chat), MCOTS (connect, login, lobbies, player info).
async fn mco_session(t: &TestServer) -> McoSecrets {
    let l = t.server.listening;
    add_mco_account(t).await;
    let tls = TlsMode::Tls {
        server_name: "localhost".into(),
        connector: Arc::new(trusting(t)),
    };
    let AuthLoginResponse::Valid { ticket } =
        mco::auth_login(l.https.unwrap(), tls, MCO_USER, MCO_PASSWORD)
            .await
            .unwrap()
    else {
        panic!("AuthLogin refused");
    };
    let pub_key = PublicLoginKey::from_pub_key_file(
        &std::fs::read_to_string(t.data_dir.path().join("mco/pub.key")).unwrap(),
    )
    .unwrap();
    let key = SessionKey::generate();
    let customer = mco::login_with_key(l.mco_login.unwrap(), &pub_key, &ticket, &key)
        .await
        .unwrap();
    let persona_addr = l.mco_persona.unwrap();
    let created = mco::create_persona(persona_addr, customer, ShardId(44), "Alice")
        .await
        .unwrap();
    assert!(matches!(created, PersonaCreation::Created));
    let persona = mco::list_personas(persona_addr, customer).await.unwrap()[0].id;
    mco::select_persona(persona_addr, customer, persona, ShardId(44))
        .await
        .unwrap();

    let mut lobby = LobbyClient::login(l.mco_lobby.unwrap(), &key, customer, persona, "Alice")
        .await
        .unwrap();
    assert!(!lobby.channels().await.unwrap().is_empty());
    assert!(lobby.join(2).await.unwrap());
    lobby.chat("anyone at the dealer?").await.unwrap();
    assert_eq!(
        lobby.next_chat().await.unwrap().text,
        "anyone at the dealer?"
    );
    drop(lobby);

    let mut m = McotsClient::connect(l.mco_mcots.unwrap(), &key, customer, persona, "Alice")
        .await
        .unwrap();
    let login = McLogin {
        customer_id: customer.0,
        persona_id: persona.0,
        lot_owner_id: 0,
        branded_part_id: 0,
        skin_id: 0,
        persona_name: "Alice".into(),
        mc_version: 6001,
    };
    m.ask(login.to_bytes(), 1).await.unwrap();
    let lobbies = GenericRequest {
        msg_no: no::MC_GET_LOBBIES,
        data: 0,
        data2: 0,
    };
    assert_eq!(m.ask(lobbies.to_bytes(), 2).await.unwrap().len(), 2);
    m.generic(no::MC_GET_PLAYER_INFO, 0).await.unwrap();
    drop(m);
    McoSecrets { ticket, key }
}

/// Connections end asynchronously; the server is stopped so every
/// transcript is complete before it is read.
/// The MCO account the sessions log in with, on server `t`.
async fn add_mco_account(t: &TestServer) {
    t.server
        .mco()
        .unwrap()
        .directory
        .create_account(MCO_USER, MCO_PASSWORD)
        .await
        .unwrap();
}

async fn stop(t: TestServer) {
    t.server.shutdown().await;
}

fn assert_clean(report: &ReplayReport, files: usize) {
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.files.len(), files, "{report}");
    for f in &report.files {
        assert!(f.sent > 0 && f.compared > 0, "{report}");
    }
}

#[tokio::test]
async fn a_recorded_mmws_session_replays_against_a_fresh_server_without_differences() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let t = start(&db, false, Some((dir.path(), false))).await;
    let token = mmws_session(&t).await;
    stop(t).await;

    let files = transcripts(dir.path());
    assert_eq!(files.len(), 6, "one transcript per connection");
    let text = all_text(dir.path());
    assert!(text.contains("# channel http"));
    assert!(text.contains("AccountService.svc/Login\n"));
    assert!(
        text.contains("vdic \"Name\": dstr \"Racer\""),
        "EgoNet decoded"
    );
    // Secrets: never in a default transcript, replaced by their label.
    assert!(!text.contains(&token), "session token leaked");
    let ticket = steam_ticket_hex(STEAM_ID);
    assert!(!text.contains(ticket.trim_end_matches("^^^^true")));
    assert!(text.contains("«session-token#"));
    assert!(text.contains("«steam-ticket#"));

    let db2 = TestDatabase::sqlite();
    let fresh = start(&db2, false, None).await;
    let report = replay(&[dir.path().to_path_buf()], &options(&fresh))
        .await
        .unwrap();
    assert_clean(&report, 6);
    // The fresh server saw a Login and a title change of its own.
    let c = &fresh.client;
    assert!(c.login(STEAM_ID + 1, "Other").await.is_ok());
    stop(fresh).await;
}

#[tokio::test]
async fn a_changed_answer_is_reported() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let t = start(&db, false, Some((dir.path(), false))).await;
    mmws_session(&t).await;
    stop(t).await;

    // The recorded Login answer gets an element the server does not send.
    let (path, text) = transcripts(dir.path())
        .into_iter()
        .find(|(_, text)| text.contains("AccountService.svc/Login\n"))
        .unwrap();
    let mut transcript = Transcript::parse(&text).unwrap();
    let answer = transcript
        .messages
        .iter_mut()
        .find(|m| m.summary.starts_with("HTTP 200"))
        .unwrap();
    for segment in &mut answer.plain {
        if let Segment::Bytes(b) = segment {
            let edited = String::from_utf8_lossy(b).replace("SessionToken>", "SessionTicket>");
            *b = edited.into_bytes();
        }
    }
    let edited = dir.path().join("edited.txt");
    std::fs::write(&edited, transcript.to_text()).unwrap();

    let db2 = TestDatabase::sqlite();
    let fresh = start(&db2, false, None).await;
    let options = options(&fresh);
    let untouched = replay(&[path], &options).await.unwrap();
    assert!(untouched.is_clean(), "{untouched}");
    let report = replay(&[edited], &options).await.unwrap();
    assert_eq!(report.differences(), 1, "{report}");
    let shown = report.to_string();
    assert!(shown.contains("XML structure differs"), "{shown}");
    assert!(shown.contains("SessionTicket"), "{shown}");
    stop(fresh).await;
}

#[tokio::test]
async fn a_recorded_mco_session_replays_with_a_fresh_key_and_ticket() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let t = start(&db, true, Some((dir.path(), false))).await;
    let secrets = mco_session(&t).await;
    stop(t).await;

    let text = all_text(dir.path());
    for channel in [
        "https",
        "mco-login",
        "mco-persona",
        "mco-lobby",
        "mco-mcots",
    ] {
        assert!(
            text.contains(&format!("# channel {channel}\n")),
            "{channel}"
        );
    }
    assert!(text.contains("NPS 0x0501 UserLogin"));
    assert!(
        text.contains("chat \"anyone at the dealer?\""),
        "lobby decoded after DES"
    );
    assert!(text.contains("MCOTS msg 324"), "MCOTS decoded after RC4");
    // No password, ticket or session key in any form.
    assert!(!text.contains(MCO_PASSWORD));
    assert!(!text.contains(&secrets.ticket));
    let ticket_hex: String = secrets.ticket.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&ticket_hex));
    let key_hex: String = secrets
        .key
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!text.contains(&key_hex));
    assert!(!text.to_lowercase().contains(&key_hex));
    assert!(text.contains("«password#"));
    assert!(text.contains("! secret session-key#"));

    // Replay against a fresh server that knows the account.
    let db2 = TestDatabase::sqlite();
    let fresh = start(&db2, true, None).await;
    add_mco_account(&fresh).await;
    let files = transcripts(dir.path()).len();
    let report = replay(&[dir.path().to_path_buf()], &options(&fresh))
        .await
        .unwrap();
    assert_clean(&report, files);

    // An edited MCOTS answer (one byte shorter) is reported.
    let (_, mcots_text) = transcripts(dir.path())
        .into_iter()
        .find(|(_, text)| text.contains("# channel mco-mcots"))
        .unwrap();
    let mut transcript = Transcript::parse(&mcots_text).unwrap();
    let last = transcript.messages.last_mut().unwrap();
    if let Some(Segment::Bytes(b)) = last.plain.last_mut() {
        b.pop();
    }
    let edited = tempfile::tempdir().unwrap();
    for (path, text) in transcripts(dir.path()) {
        let name = path.file_name().unwrap();
        let text = if text == mcots_text {
            transcript.to_text()
        } else {
            text
        };
        std::fs::write(edited.path().join(name), text).unwrap();
    }
    let db3 = TestDatabase::sqlite();
    let third = start(&db3, true, None).await;
    add_mco_account(&third).await;
    let report = replay(&[edited.path().to_path_buf()], &options(&third))
        .await
        .unwrap();
    assert_eq!(report.differences(), 1, "{report}");
    assert!(report.to_string().contains("bytes (recorded"), "{report}");
    stop(fresh).await;
    stop(third).await;
}

#[tokio::test]
async fn record_secrets_keeps_them_for_local_research() {
    let db = TestDatabase::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let t = start(&db, true, Some((dir.path(), true))).await;
    let token = mmws_session(&t).await;
    let secrets = mco_session(&t).await;
    stop(t).await;

    let text = all_text(dir.path());
    assert!(text.contains("# secrets recorded"));
    assert!(text.contains(&token));
    assert!(text.contains(MCO_PASSWORD));
    assert!(text.contains(&secrets.ticket));
    let key_hex: String = secrets
        .key
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(text.contains(&key_hex), "session key in its ! secret line");
    assert!(!text.contains('«'), "nothing redacted");

    // Such a transcript replays too: recorded values map to fresh ones.
    let db2 = TestDatabase::sqlite();
    let fresh = start(&db2, true, None).await;
    add_mco_account(&fresh).await;
    let files = transcripts(dir.path()).len();
    let report = replay(&[dir.path().to_path_buf()], &options(&fresh))
        .await
        .unwrap();
    assert_clean(&report, files);
    stop(fresh).await;
}

/// A recorded session kept as a fixture (ServerStatus, then AuthLogin to
/// MCOTS, secrets redacted): replayed against today's server it must
/// still get answers of the recorded shapes. When a layout changes on
/// purpose, record the session again (docs/recording.md).
#[tokio::test]
async fn the_committed_mco_session_still_replays_without_differences() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recordings/mco-session");
    let db = TestDatabase::sqlite();
    let t = start(&db, true, None).await;
    add_mco_account(&t).await;
    let report = replay(&[fixture], &options(&t)).await.unwrap();
    assert_clean(&report, 8);
    stop(t).await;
}

/// `pitlane replay` as an operator runs it: the server's pub.key and CA
/// found in its data directory, exit code 0 without differences and
/// non-zero with them.
#[tokio::test]
async fn the_replay_command_exits_non_zero_on_differences() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recordings/mco-session");
    let db = TestDatabase::sqlite();
    let t = start(&db, true, None).await;
    let l = t.server.listening;
    let run = |dir: PathBuf, t: &TestServer| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_pitlane"));
        c.arg("--data-dir")
            .arg(t.data_dir.path())
            .arg("replay")
            .arg(dir)
            .args(["--server", "127.0.0.1", "--password", MCO_PASSWORD]);
        for (channel, addr) in [
            ("http", l.mmws_http),
            ("https", l.https.unwrap()),
            ("mco-login", l.mco_login.unwrap()),
            ("mco-persona", l.mco_persona.unwrap()),
            ("mco-lobby", l.mco_lobby.unwrap()),
            ("mco-mcots", l.mco_mcots.unwrap()),
        ] {
            c.arg("--port").arg(format!("{channel}={}", addr.port()));
        }
        c.output()
    };
    add_mco_account(&t).await;
    let out = run(fixture.clone(), &t).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("8 transcripts, 0 differences"), "{stdout}");

    // The same session with the recorded channel list one byte longer.
    let edited = tempfile::tempdir().unwrap();
    for (path, text) in transcripts(&fixture) {
        let mut transcript = Transcript::parse(&text).unwrap();
        if transcript.header.channel == pitlane_core::recording::Channel::McoLobby {
            let list = transcript
                .messages
                .iter_mut()
                .find(|m| m.summary.starts_with("lobby 0x0404"))
                .unwrap();
            list.plain.push(Segment::Bytes(vec![0]));
        }
        std::fs::write(
            edited.path().join(path.file_name().unwrap()),
            transcript.to_text(),
        )
        .unwrap();
    }
    let out = run(edited.path().to_path_buf(), &t).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stdout.contains("lobby command 0x0404 is 41 bytes (recorded 42)"),
        "{stdout}"
    );
    stop(t).await;
}

/// `pitlane serve --record DIR` as an operator runs it: it says where it
/// records, and a request to it lands in a transcript there.
#[cfg(unix)]
#[tokio::test]
async fn serve_record_writes_transcripts_into_the_directory() {
    use std::process::Stdio;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pitlane.toml");
    std::fs::write(
        &config,
        "[listen]\nmmws_http = \"127.0.0.1:0\"\nhttps = \"127.0.0.1:0\"\n\
         [motorcity]\nenabled = false\n[tls]\nenabled = false\n[web]\nenabled = false\n",
    )
    .unwrap();
    let recordings = dir.path().join("recordings");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pitlane"))
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .arg("serve")
        .arg("--record")
        .arg(&recordings)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let text = common::startup_banner(&mut child);
    assert!(
        text.contains("Recording every connection into") && text.contains("(secrets redacted)"),
        "{text}"
    );
    let addr: std::net::SocketAddr = text
        .lines()
        .find_map(|l| l.strip_prefix("HTTP (both games) on "))
        .unwrap_or_else(|| panic!("{text}"))
        .trim()
        .parse()
        .unwrap();
    let status = MmwsClient::new(addr).server_status().await.unwrap();
    assert_eq!(status.status, 200);

    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
    let files = transcripts(&recordings);
    assert_eq!(files.len(), 1, "one connection, one transcript");
    let transcript = Transcript::parse(&files[0].1).unwrap();
    assert_eq!(transcript.messages.len(), 2, "request and answer");
    assert!(transcript.messages[0].summary.contains("ServerStatus.xml"));
    assert!(transcript.messages[1].summary.starts_with("HTTP 200"));
}
