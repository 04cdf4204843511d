//! EgoNet through the network, as the game does it: the captured logins of
//! session3 (flows 16 and 28) replayed after an MMCOS Login, players kept
//! apart, refusals in EgoNet's own form, and the server serving on after
//! hostile bodies. On every configured database backend.

mod common;

use bytes::Bytes;
use chrono::Duration;
use common::{fixture, TestServer};
use micromachines::egonet::login::account_ref;
use micromachines::egonet::vdic::{Dict, Value, EMPTY};
use pitlane_sim::egonet::{
    app_ticket, decode_answer, EgoNetAnswer, EgoNetClient, DATA_EVENT_FUNCTION, EGONET_HOST,
    EGONET_PATH, LOGIN_FUNCTION,
};
use pitlane_sim::http::{send, unity_request};
use pitlane_store::testing::databases;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HEATRAY: u64 = 76561198081105540;
const OTHER: u64 = 76561197960287930;

const FLOW_16: &str = "16-EgoNet-LoginService.Login";
const FLOW_28: &str = "28-EgoNet-LoginService.Login";

fn egonet(t: &TestServer) -> EgoNetClient {
    EgoNetClient::new(t.server.listening.mmws_http)
}

/// Replays a captured request body byte for byte with the game's headers.
async fn replay(t: &TestServer, flow: &str) -> EgoNetAnswer {
    let body = fixture(&format!("{flow}/request.bin"));
    egonet(t)
        .call(Some(LOGIN_FUNCTION), body)
        .await
        .unwrap_or_else(|e| panic!("{flow}: {e}"))
}

/// The headers the official server sent that the client may check.
fn assert_egonet_form(a: &EgoNetAnswer, label: &str) {
    let h = &a.response.headers;
    assert_eq!(a.response.status, 200, "{label}");
    assert_eq!(h["content-type"], "text/html", "{label}");
    assert_eq!(h["cache-control"], "private", "{label}");
    assert!(h.get("x-egonet-result").is_some(), "{label}");
}

fn assert_success(a: &EgoNetAnswer, label: &str) {
    assert_egonet_form(a, label);
    assert_eq!(a.result, 0, "{label}");
    let id = a
        .session_id
        .as_deref()
        .unwrap_or_else(|| panic!("{label}: no session id"));
    assert_eq!(id.len(), 32, "{label}");
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
        "{label}: {id}"
    );
}

fn assert_refused(a: &EgoNetAnswer, label: &str) {
    assert_egonet_form(a, label);
    assert_ne!(a.result, 0, "{label}");
    assert_eq!(a.response.body.as_ref(), EMPTY, "{label}");
    assert!(a.session_id.is_none(), "{label}");
}

/// Same keys, order and tags as the official answer; the ids are the
/// player's own, the unused ones zero.
fn assert_login_answer(a: &EgoNetAnswer, user_id: i64, name: &str, label: &str) {
    let recorded = Dict::decode(&fixture(&format!("{FLOW_16}/response.bin"))).unwrap();
    let shape = |d: &Dict| {
        d.iter()
            .map(|(k, v)| (k.to_string(), v.tag()))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&a.dict), shape(&recorded), "{label}: structure");
    let d = &a.dict;
    assert_eq!(d.i64("PrincipalId"), Some(user_id), "{label}");
    assert_eq!(d.str("Name"), Some(name), "{label}");
    let reference = account_ref(user_id);
    assert_eq!(d.u64("SteamId"), Some(reference), "{label}");
    assert_eq!(d.i64("AccountRef"), Some(reference as i64), "{label}");
    assert_ne!(
        d.u64("SteamId"),
        Some(HEATRAY),
        "{label}: not the SteamID64"
    );
    for zero in ["XUID", "SubjectId", "OculusId", "Flags"] {
        assert_eq!(d.u64(zero), Some(0), "{label}: {zero}");
    }
}

#[tokio::test]
async fn captured_logins_get_the_players_own_stable_ids() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let label = db.label;

        // Flow 15 then 16: MMCOS Login, EgoNet login a second later.
        let mmcos = t.client.login(HEATRAY, "Heatray").await.unwrap();
        t.clock.advance(Duration::seconds(1));
        let first = replay(&t, FLOW_16).await;
        assert_success(&first, label);
        assert_login_answer(&first, mmcos.user_id, "Heatray", label);
        assert_eq!(
            first.response.body.len(),
            fixture(&format!("{FLOW_16}/response.bin")).len(),
            "{label}: same name, same size as the official answer"
        );

        // Flows 27 and 28, minutes later in a new game session.
        t.clock.advance(Duration::minutes(10));
        let again = t.client.login(HEATRAY, "Heatray").await.unwrap();
        assert_eq!(again.user_id, mmcos.user_id);
        t.clock.advance(Duration::seconds(1));
        let second = replay(&t, FLOW_28).await;
        assert_success(&second, label);
        assert_login_answer(&second, mmcos.user_id, "Heatray", label);
        assert_eq!(
            first.login_ids(),
            second.login_ids(),
            "{label}: the same ids on every login"
        );
        assert_ne!(
            first.session_id, second.session_id,
            "{label}: a new EgoNet session per login"
        );

        // Through the simulator, with a ticket of its own making.
        let third = egonet(&t).login("Heatray", &app_ticket(1)).await.unwrap();
        assert_eq!(third.login_ids(), first.login_ids(), "{label}");

        let calls = t.server.micromachines().egonet_calls();
        assert_eq!(calls[LOGIN_FUNCTION], 3, "{label}");
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn a_second_player_gets_ids_of_their_own() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let label = db.label;
        let heatray = t.client.login(HEATRAY, "Heatray").await.unwrap();
        let other = t.client.login(OTHER, "Vlad Noob").await.unwrap();
        assert_ne!(heatray.user_id, other.user_id);

        let a = egonet(&t).login("Heatray", &app_ticket(1)).await.unwrap();
        let b = egonet(&t).login("Vlad Noob", &app_ticket(2)).await.unwrap();
        assert_success(&a, label);
        assert_success(&b, label);
        assert_login_answer(&a, heatray.user_id, "Heatray", label);
        assert_login_answer(&b, other.user_id, "Vlad Noob", label);
        let (a, b) = (a.login_ids().unwrap(), b.login_ids().unwrap());
        assert_ne!(a.principal_id, b.principal_id, "{label}");
        assert_ne!(a.steam_id, b.steam_id, "{label}");
        assert_ne!(a.account_ref, b.account_ref, "{label}");
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn without_a_live_mmcos_login_the_answer_is_an_egonet_error() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let label = db.label;

        let nobody = replay(&t, FLOW_16).await;
        assert_refused(&nobody, &format!("{label}: no login at all"));

        t.client.login(HEATRAY, "Heatray").await.unwrap();
        let wrong_name = egonet(&t).login("Someone", &app_ticket(1)).await.unwrap();
        assert_refused(&wrong_name, &format!("{label}: another name"));
        let other_address = login_from("127.0.0.2", &t).await;
        assert_ne!(other_address, 0, "{label}: another address");
        assert_eq!(login_from("127.0.0.1", &t).await, 0, "{label}: control");

        // The link lasts as long as the MMCOS session (6 hours).
        t.clock.advance(Duration::hours(7));
        let expired = replay(&t, FLOW_16).await;
        assert_refused(&expired, &format!("{label}: session expired"));
        t.server.shutdown().await;
    }
}

/// Flow 16's body sent from a chosen loopback address (the simulator always
/// uses 127.0.0.1); returns `X-EgoNet-Result`.
async fn login_from(local: &str, t: &TestServer) -> u32 {
    let body = fixture(&format!("{FLOW_16}/request.bin"));
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(format!("{local}:0").parse().unwrap()).unwrap();
    let mut stream = socket.connect(t.server.listening.mmws_http).await.unwrap();
    let head = format!(
        "POST {EGONET_PATH} HTTP/1.1\r\nHost: {EGONET_HOST}\r\nContent-Length: {}\r\n\
         X-EgoNet-Function: {LOGIN_FUNCTION}\r\ncontent-type: application/egonet-stream\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    text.lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("x-egonet-result")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or_else(|| panic!("no X-EgoNet-Result in {text:?}"))
}

#[tokio::test]
async fn malformed_requests_get_an_egonet_error_and_the_server_keeps_serving() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let label = db.label;
        t.client.login(HEATRAY, "Heatray").await.unwrap();
        let client = egonet(&t);
        let captured = fixture(&format!("{FLOW_16}/request.bin"));

        let mut count_1000 = b"vdic".to_vec();
        count_1000.extend_from_slice(&1000u32.to_le_bytes());
        let mut huge_length = b"vdic\x01\x00\x00\x00\x04Namedstr".to_vec();
        huge_length.extend_from_slice(&u32::MAX.to_le_bytes());
        huge_length.extend_from_slice(b"Heatray");
        let mut huge_ticket = captured[..44].to_vec();
        huge_ticket.extend_from_slice(&0x200u32.to_le_bytes());
        huge_ticket.extend_from_slice(&captured[48..]);
        let mut trailing = captured.clone();
        trailing.push(0);
        let mut no_name = Dict::new();
        no_name
            .insert("SteamTicket", Value::Blob(vec![1; 126]))
            .unwrap();
        let mut name_as_blob = Dict::new();
        name_as_blob
            .insert("Name", Value::Blob(b"Heatray".to_vec()))
            .unwrap();

        let cases: Vec<(&str, Option<&str>, Vec<u8>)> = vec![
            ("truncated", Some(LOGIN_FUNCTION), captured[..100].to_vec()),
            ("magic only", Some(LOGIN_FUNCTION), b"vdic".to_vec()),
            ("count 1000, no data", Some(LOGIN_FUNCTION), count_1000),
            ("length 0xFFFFFFFF", Some(LOGIN_FUNCTION), huge_length),
            (
                "ticket length beyond the body",
                Some(LOGIN_FUNCTION),
                huge_ticket,
            ),
            ("trailing byte", Some(LOGIN_FUNCTION), trailing),
            ("empty", Some(LOGIN_FUNCTION), vec![]),
            ("XML", Some(LOGIN_FUNCTION), b"<Login/>".to_vec()),
            ("no Name", Some(LOGIN_FUNCTION), no_name.encode()),
            (
                "Name not a dstr",
                Some(LOGIN_FUNCTION),
                name_as_blob.encode(),
            ),
            (
                "unknown function",
                Some("LoginService.Logout"),
                captured.clone(),
            ),
            ("no function header", None, captured.clone()),
            (
                "over the body limit",
                Some(LOGIN_FUNCTION),
                vec![0; t.config.limits.max_body_bytes + 1],
            ),
        ];
        for (case, function, body) in cases {
            let answer = client
                .call(function, body)
                .await
                .unwrap_or_else(|e| panic!("{label}: {case}: {e}"));
            assert_refused(&answer, &format!("{label}: {case}"));
        }

        // Wrong method: still EgoNet's form, not an XML or HTML page.
        let get = unity_request(
            http::Method::GET,
            EGONET_HOST,
            EGONET_PATH,
            None,
            &[("X-EgoNet-Function", LOGIN_FUNCTION)],
            Bytes::new(),
        )
        .unwrap();
        let get = decode_answer(
            send(t.server.listening.mmws_http, get, client.timeout)
                .await
                .unwrap(),
        )
        .unwrap();
        assert_refused(&get, &format!("{label}: GET"));

        // Still serving, EgoNet and MMCOS alike.
        let ok = replay(&t, FLOW_16).await;
        assert_success(&ok, label);
        assert_eq!(t.client.server_status().await.unwrap().status, 200);

        let calls = t.server.micromachines().egonet_calls();
        assert_eq!(calls["(unknown function)"], 1, "{label}");
        assert_eq!(calls["(no function header)"], 1, "{label}");
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn data_events_are_accepted_and_counted() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let label = db.label;
        let client = egonet(&t);
        let before = t.server.micromachines().egonet_calls()[DATA_EVENT_FUNCTION];

        let mut event = Dict::new();
        event
            .insert("Event", Value::Str("RaceFinished".into()))
            .unwrap();
        event.insert("Position", Value::I64(1)).unwrap();
        let decoded = client.data_event(&event).await.unwrap();
        let empty = client
            .call(Some(DATA_EVENT_FUNCTION), Dict::new().encode())
            .await
            .unwrap();
        let opaque = client
            .call(Some(DATA_EVENT_FUNCTION), b"not a vdic at all".to_vec())
            .await
            .unwrap();
        let unknown_tag = client
            .call(
                Some(DATA_EVENT_FUNCTION),
                b"vdic\x01\x00\x00\x00\x01Xsi32\x01\x00\x00\x00".to_vec(),
            )
            .await
            .unwrap();
        for (case, a) in [
            ("vdic", &decoded),
            ("empty vdic", &empty),
            ("not vdic", &opaque),
            ("unknown tag", &unknown_tag),
        ] {
            assert_egonet_form(a, &format!("{label}: {case}"));
            assert_eq!(a.result, 0, "{label}: {case}");
            assert_eq!(a.response.body.as_ref(), EMPTY, "{label}: {case}");
            assert!(a.dict.is_empty());
        }

        // A session id sent back is echoed; anything else is not.
        let session = "90EA3B86433449A8A4F05CACEA5619D0";
        for (sent, echoed) in [(session, Some(session)), ("<script>", None)] {
            let response = client
                .post(
                    Some(DATA_EVENT_FUNCTION),
                    &[("X-EgoNet-SessionID", sent)],
                    Dict::new().encode(),
                )
                .await
                .unwrap();
            let a = decode_answer(response).unwrap();
            assert_eq!(a.result, 0);
            assert_eq!(a.session_id.as_deref(), echoed, "{label}: {sent}");
        }

        let after = t.server.micromachines().egonet_calls()[DATA_EVENT_FUNCTION];
        assert_eq!(after - before, 6, "{label}");
        t.server.shutdown().await;
    }
}
