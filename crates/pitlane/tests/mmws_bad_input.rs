//! Hostile or broken requests get a 4xx with an error document in the
//! service's XML form, store nothing, and the server keeps serving.

mod common;

use bytes::Bytes;
use common::TestServer;
use http::Method;
use pitlane_sim::http::{send, unity_request};
use pitlane_sim::mmws::{login_body, request_xml, LOGIN_PATH, MMCOS_HOST, UPDATE_TITLE_PATH};
use pitlane_store::testing::databases;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HEATRAY: u64 = 76561198081105540;

#[tokio::test]
async fn broken_requests_are_refused_in_the_services_form_and_store_nothing() {
    for db in databases().await {
        let t = TestServer::start(&db).await;
        let c = &t.client;
        let cases: Vec<(&str, String, String, u16, &str)> = vec![
            (
                "malformed",
                LOGIN_PATH.into(),
                "<Login><DisplayName>x</Login>".into(),
                400,
                "well-formed",
            ),
            ("empty", LOGIN_PATH.into(), String::new(), 400, "empty"),
            (
                "wrong root",
                LOGIN_PATH.into(),
                "<GetElite/>".into(),
                400,
                "expected root element &lt;Login&gt;",
            ),
            (
                "missing ticket",
                LOGIN_PATH.into(),
                request_xml(
                    "Login",
                    &[
                        ("PlatformType", "Steam".into()),
                        ("DisplayName", "x".into()),
                    ],
                ),
                400,
                "missing element &lt;PlatformID&gt;",
            ),
            (
                "ticket not hex",
                LOGIN_PATH.into(),
                login_body(HEATRAY, "x", 45).replace("<PlatformID>14", "<PlatformID>zz"),
                400,
                "not hexadecimal",
            ),
            (
                "ticket too short",
                LOGIN_PATH.into(),
                request_xml(
                    "Login",
                    &[
                        ("PlatformType", "Steam".into()),
                        ("PlatformID", "1400^^^^true".into()),
                        ("DisplayName", "x".into()),
                    ],
                ),
                400,
                "too short",
            ),
            (
                "other platform",
                LOGIN_PATH.into(),
                login_body(HEATRAY, "x", 45).replace(">Steam<", ">XboxOne<"),
                400,
                "not supported",
            ),
            (
                "entity expansion",
                LOGIN_PATH.into(),
                "<!DOCTYPE Login [<!ENTITY a \"aaaa\">]><Login>&a;</Login>".into(),
                400,
                "document type",
            ),
            (
                "unknown operation",
                "/MMCOS-Account/AccountService.svc/DeleteEverything".into(),
                "<DeleteEverything/>".into(),
                404,
                "no operation",
            ),
        ];
        for (name, path, body, status, needle) in cases {
            let answer = c.post(&path, body).await.unwrap();
            let text = answer.text();
            assert_eq!(
                answer.status.as_u16(),
                status,
                "{} {name}: {text}",
                db.label
            );
            assert_eq!(
                answer.content_type(),
                Some("application/xml; charset=utf-8"),
                "{name}"
            );
            assert!(
                text.contains("xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\""),
                "{name}: {text}"
            );
            assert!(
                text.contains(&format!("<ErrorCode>{status}</ErrorCode>")),
                "{name}: {text}"
            );
            assert!(text.contains(needle), "{name}: {text}");
        }
        // Login errors use the LoginDetails root the client parses.
        let answer = c.post(LOGIN_PATH, "<nope").await.unwrap();
        assert!(
            answer.text().starts_with("<LoginDetails xmlns:i="),
            "{}",
            answer.text()
        );

        assert_eq!(
            t.server.store().mm_accounts().count().await.unwrap(),
            0,
            "{}: nothing stored",
            db.label
        );
        // ...and the server still serves.
        assert!(c.login(HEATRAY, "Heatray").await.is_ok());
        t.server.shutdown().await;
    }
}

#[tokio::test]
async fn wrong_methods_and_oversized_bodies_are_refused() {
    let db = pitlane_store::testing::TestDatabase::sqlite();
    let t = TestServer::start(&db).await;
    let addr = t.server.listening.mmws_http;

    let get_login = unity_request(
        Method::GET,
        MMCOS_HOST,
        "/MMCOS/MMCOS-Account/AccountService.svc/Login",
        None,
        &[],
        Bytes::new(),
    )
    .unwrap();
    let answer = send(addr, get_login, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(answer.status, 405);

    // 15 KB, the size of a real GetFriends, passes the body limit.
    let padding = " ".repeat(15 * 1024);
    let body = request_xml(
        "UpdateAccountTitle",
        &[("SessionToken", "x".into()), ("Title", "y".into())],
    )
    .replace(
        "</UpdateAccountTitle>",
        &format!("{padding}</UpdateAccountTitle>"),
    );
    let answer = t.client.post(UPDATE_TITLE_PATH, body).await.unwrap();
    assert_eq!(
        answer.status, 401,
        "parsed, then refused for the unknown token"
    );

    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    let answer =
        common::post_declaring_length(&mut raw, &format!("/MMCOS{LOGIN_PATH}"), 300 * 1024).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("larger than 262144 bytes"), "{answer}");

    // A body that lies about its length and then stops: the server answers
    // what it can (or drops the connection) and keeps serving.
    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    raw.write_all(b"POST /MMCOS/MMCOS-Account/AccountService.svc/Login HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n<Lo").await.unwrap();
    raw.shutdown().await.unwrap();
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        raw.read_to_end(&mut sink),
    )
    .await;

    // Garbage instead of HTTP.
    let mut raw = tokio::net::TcpStream::connect(addr).await.unwrap();
    raw.write_all(&[0xff; 64]).await.unwrap();
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        raw.read_to_end(&mut sink),
    )
    .await;
    assert!(
        sink.is_empty() || sink.starts_with(b"HTTP/1.1 4"),
        "{:?}",
        String::from_utf8_lossy(&sink)
    );

    assert!(
        t.client.login(HEATRAY, "Heatray").await.is_ok(),
        "still serving"
    );
    t.server.shutdown().await;
}
