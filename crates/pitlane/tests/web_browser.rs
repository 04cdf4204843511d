//! The dashboard in a real browser: Debian's headless Chromium, driven over
//! the DevTools protocol (a minimal WebSocket client below, so the test
//! needs no browser-automation crate and never downloads a browser).
//!
//! It walks what an operator does: is refused without a session, mistypes
//! the password, logs in, sees the overview (saved as a screenshot), finds
//! the player a simulated client created, bans them, watches the client's
//! next login being refused, lifts the ban and reads both actions in the
//! audit log. Skips with a note when no Chromium is installed (`.ci/run`
//! installs it).

mod common;
mod web_support;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use common::TestServer;
use pitlane_core::Clock;
use pitlane_sim::mmws::SimError;
use pitlane_store::testing::TestDatabase;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use web_support::{ADMIN, PASSWORD};

const CHROMIUM: &str = "/usr/bin/chromium";
const ME: u64 = 76561198081105540;

#[tokio::test]
async fn an_operator_bans_and_unbans_a_player_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        eprintln!("NOTE: skipping the browser test: {CHROMIUM} is not installed (apt-get install chromium; .ci/run does)");
        return;
    }
    let db = TestDatabase::sqlite();
    let t = TestServer::start(&db).await;
    t.server
        .store()
        .admin_accounts()
        .create(ADMIN, PASSWORD, t.clock.now())
        .await
        .unwrap();
    let me = t.client.login(ME, "Heatray").await.unwrap();
    t.client
        .register_game(&me.token, "00000000000000C3", &[ME], 9)
        .await
        .unwrap();
    t.client
        .add_points(&me.token, "00000000000000C3", 250)
        .await
        .unwrap();
    let base = format!("http://{}", t.server.listening.web.unwrap());

    let profile = tempfile::tempdir().unwrap();
    let mut browser = Chromium::launch(profile.path()).await;
    let mut page = browser.page().await;
    page.call("Page.enable", json!({})).await;

    // Without a session: sent to the login page, which will come back.
    page.goto(&format!("{base}/audit")).await;
    page.wait_for("document.querySelector('form.login') !== null")
        .await;
    assert_eq!(
        page.eval("location.pathname + location.search").await,
        "/login?next=%2Faudit"
    );

    // A wrong password is refused.
    page.fill_and_submit(ADMIN, "not the password").await;
    page.wait_for("document.body.innerText.includes('Wrong name or password.')")
        .await;

    // The right one lands where the operator wanted to go.
    page.fill_and_submit(ADMIN, PASSWORD).await;
    page.wait_for("location.pathname === '/audit'").await;
    assert!(page.text().await.contains("Nothing has been changed"));

    // The overview, with the live numbers the refresh script keeps up.
    page.goto(&format!("{base}/")).await;
    page.wait_for(
        "document.querySelector('h1') && document.querySelector('h1').innerText === 'Overview'",
    )
    .await;
    let online = page
        .eval("document.querySelector('[data-live=\"micromachines.online\"]').innerText")
        .await;
    assert_eq!(online, "1");
    // Let the refresh script run once: the number must survive it.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let online = page
        .eval("document.querySelector('[data-live=\"micromachines.online\"]').innerText")
        .await;
    assert_eq!(online, "1", "after a live refresh");
    assert!(page.text().await.contains("Certificates"));
    let shot = page.screenshot("dashboard-overview.png").await;
    eprintln!("overview screenshot: {}", shot.display());

    // Find the player and ban them through the form.
    page.goto(&format!("{base}/players?q=heat")).await;
    page.wait_for("document.querySelector('table a[href^=\"/players/mmws/\"]') !== null")
        .await;
    page.eval("document.querySelector('table a[href^=\"/players/mmws/\"]').click(); 1")
        .await;
    page.wait_for("location.pathname.startsWith('/players/mmws/') && document.querySelector('h1')")
        .await;
    assert!(
        page.text().await.contains("250 points"),
        "{}",
        page.text().await
    );
    page.eval(
        "var f = document.querySelector('form[action$=\"/ban\"]');\
         f.querySelector('[name=reason]').value = 'speed hack';\
         f.querySelector('[name=days]').value = '3';\
         f.querySelector('button').click(); 1",
    )
    .await;
    page.wait_for("document.body.innerText.includes('The ban is in force.')")
        .await;
    let shot = page.screenshot("dashboard-player-banned.png").await;
    eprintln!("player screenshot: {}", shot.display());

    match t.client.login(ME, "Heatray").await {
        Err(SimError::Status {
            status: 403, body, ..
        }) => {
            assert!(body.contains("speed hack"), "{body}")
        }
        other => panic!("the banned player's login was not refused: {other:?}"),
    }

    page.eval(
        "var f = document.querySelector('form[action$=\"/unban\"]');\
         f.querySelector('[name=reason]').value = 'appeal accepted';\
         f.querySelector('button').click(); 1",
    )
    .await;
    page.wait_for("document.body.innerText.includes('The ban was lifted.')")
        .await;
    assert!(t.client.login(ME, "Heatray").await.is_ok());

    // Rename through the form: the name outlives the player's next login.
    page.eval(
        "var f = document.querySelector('form[action$=\"/rename\"]');\
         f.querySelector('[name=name]').value = 'Fair Play';\
         f.querySelector('[name=reason]').value = 'offensive name';\
         f.querySelector('button').click(); 1",
    )
    .await;
    page.wait_for("document.body.innerText.includes('The name was changed.')")
        .await;
    let again = t.client.login(ME, "Heatray").await.unwrap();
    let board = t.client.get_elite(&again.token, 0, 10).await.unwrap();
    assert_eq!(board.entries[0].name, "Fair Play");

    // Start the next season from the Micro Machines page.
    page.goto(&format!("{base}/mmws")).await;
    page.wait_for("document.querySelector('form[action=\"/mmws/next-season\"]') !== null")
        .await;
    page.eval(
        "var f = document.querySelector('form[action=\"/mmws/next-season\"]');\
         f.querySelector('[name=reason]').value = 'new track pack';\
         f.querySelector('button').click(); 1",
    )
    .await;
    page.wait_for("document.body.innerText.includes('The next season has started.')")
        .await;
    assert_eq!(t.client.login(ME, "Heatray").await.unwrap().season_id, 46);

    // The settings in effect.
    page.goto(&format!("{base}/settings")).await;
    page.wait_for(
        "document.querySelector('h1') && document.querySelector('h1').innerText === 'Settings'",
    )
    .await;
    let settings = page.text().await;
    assert!(
        settings.contains("Micro Machines modes") && settings.contains("Elimination"),
        "{settings}"
    );
    let shot = page.screenshot("dashboard-settings.png").await;
    eprintln!("settings screenshot: {}", shot.display());

    page.goto(&format!("{base}/audit")).await;
    page.wait_for("location.pathname === '/audit' && document.querySelector('table') !== null")
        .await;
    let audit = page.text().await;
    assert!(
        audit.contains("mmws.ban") && audit.contains("speed hack"),
        "{audit}"
    );
    assert!(
        audit.contains("mmws.unban") && audit.contains("appeal accepted"),
        "{audit}"
    );
    assert!(
        audit.contains("mmws.rename") && audit.contains("mmws.next-season"),
        "{audit}"
    );

    // Logging out ends it: the next page asks for the password again.
    page.eval("document.querySelector('form.logout button').click(); 1")
        .await;
    page.wait_for("document.querySelector('form.login') !== null")
        .await;
    page.goto(&format!("{base}/")).await;
    page.wait_for("location.pathname === '/login'").await;

    browser.close().await;
    t.server.shutdown().await;
}

struct Chromium {
    child: tokio::process::Child,
    port: u16,
}

impl Chromium {
    async fn launch(profile: &Path) -> Self {
        let mut child = tokio::process::Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--window-size=1280,1000",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromium");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(rest) = line.split("DevTools listening on ws://").nth(1) {
                    let hostport = rest.split('/').next().unwrap();
                    return hostport.rsplit(':').next().unwrap().parse::<u16>().unwrap();
                }
            }
            panic!("chromium exited before opening DevTools");
        })
        .await
        .expect("chromium did not open DevTools within 30 s");
        // Keep draining its log so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, port }
    }

    /// The first page target (the about:blank tab it started with).
    async fn page(&mut self) -> Page {
        let addr = format!("127.0.0.1:{}", self.port);
        let request = http::Request::get("/json/list")
            .header("Host", &addr)
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .unwrap();
        let list = pitlane_sim::http::send(addr.parse().unwrap(), request, Duration::from_secs(10))
            .await
            .unwrap();
        let targets: Value = serde_json::from_slice(&list.body).unwrap();
        let url = targets
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "page")
            .and_then(|t| t["webSocketDebuggerUrl"].as_str())
            .expect("a page target")
            .to_string();
        Page {
            ws: WebSocket::connect(&url).await,
            next_id: 0,
        }
    }

    async fn close(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

struct Page {
    ws: WebSocket,
    next_id: u64,
}

impl Page {
    /// One DevTools command; events that arrive meanwhile are skipped.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.ws
            .send(&json!({"id": id, "method": method, "params": params}).to_string())
            .await;
        tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                let message: Value = serde_json::from_str(&self.ws.receive().await).unwrap();
                if message["id"] == id {
                    if let Some(error) = message.get("error") {
                        panic!("{method}: {error}");
                    }
                    return message["result"].clone();
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("{method}: no answer within 30 s"))
    }

    async fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url })).await;
    }

    /// Evaluates an expression in the page; its value as text.
    async fn eval(&mut self, expression: &str) -> String {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({"expression": expression, "returnByValue": true}),
            )
            .await;
        if let Some(exception) = result.get("exceptionDetails") {
            panic!("{expression}: {exception}");
        }
        match &result["result"]["value"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    async fn text(&mut self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .await
    }

    /// Polls until the condition holds in the page (navigations included).
    async fn wait_for(&mut self, condition: &str) {
        let check = format!(
            "(function() {{ try {{ return !!({condition}); }} catch (e) {{ return false; }} }})()"
        );
        for _ in 0..150 {
            if self.eval(&check).await == "true" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text = self.text().await;
        let at = self.eval("location.href").await;
        panic!("still not true after 15 s: {condition}\nat {at}:\n{text}");
    }

    async fn fill_and_submit(&mut self, name: &str, password: &str) {
        self.eval(&format!(
            "document.querySelector('[name=name]').value = {};\
             document.querySelector('[name=password]').value = {};\
             document.querySelector('form.login button').click(); 1",
            json!(name),
            json!(password)
        ))
        .await;
        // The click navigates; wait for the next document.
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.wait_for("document.readyState === 'complete'").await;
    }

    /// A PNG of the viewport, kept as a test artifact.
    async fn screenshot(&mut self, name: &str) -> PathBuf {
        let result = self
            .call("Page.captureScreenshot", json!({"format": "png"}))
            .await;
        let png = base64_decode(result["data"].as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// Just enough WebSocket (RFC 6455) for DevTools on loopback: text frames,
/// masked from us, unmasked from the browser, fragments joined.
struct WebSocket {
    stream: BufReader<TcpStream>,
}

impl WebSocket {
    async fn connect(url: &str) -> Self {
        let rest = url.strip_prefix("ws://").unwrap();
        let (hostport, path) = rest.split_once('/').unwrap();
        let stream = TcpStream::connect(hostport).await.unwrap();
        let mut stream = BufReader::new(stream);
        let handshake = format!(
            "GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        );
        stream
            .get_mut()
            .write_all(handshake.as_bytes())
            .await
            .unwrap();
        let mut status = String::new();
        stream.read_line(&mut status).await.unwrap();
        assert!(
            status.contains(" 101 "),
            "DevTools refused the WebSocket: {status}"
        );
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
        }
        Self { stream }
    }

    async fn send(&mut self, text: &str) {
        let payload = text.as_bytes();
        let mut frame = vec![0x81u8];
        match payload.len() {
            n if n < 126 => frame.push(0x80 | n as u8),
            n if n <= 0xFFFF => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        let mask = [0x37u8, 0xfa, 0x21, 0x3d];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.get_mut().write_all(&frame).await.unwrap();
    }

    async fn receive(&mut self) -> String {
        let mut message = Vec::new();
        loop {
            let mut head = [0u8; 2];
            self.stream.read_exact(&mut head).await.unwrap();
            let fin = head[0] & 0x80 != 0;
            let opcode = head[0] & 0x0f;
            let mut len = u64::from(head[1] & 0x7f);
            if len == 126 {
                len = u64::from(self.stream.read_u16().await.unwrap());
            } else if len == 127 {
                len = self.stream.read_u64().await.unwrap();
            }
            let mask = if head[1] & 0x80 != 0 {
                let mut m = [0u8; 4];
                self.stream.read_exact(&mut m).await.unwrap();
                Some(m)
            } else {
                None
            };
            let mut payload = vec![0u8; len as usize];
            self.stream.read_exact(&mut payload).await.unwrap();
            if let Some(m) = mask {
                payload
                    .iter_mut()
                    .enumerate()
                    .for_each(|(i, b)| *b ^= m[i % 4]);
            }
            match opcode {
                0x8 => panic!("DevTools closed the WebSocket"),
                0x9 | 0xA => continue,
                _ => message.extend_from_slice(&payload),
            }
            if fin {
                return String::from_utf8(message).unwrap();
            }
        }
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| *c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let v: Vec<u32> = chunk.iter().map(|c| u32::from(value(*c))).collect();
        let n = v
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, x)| acc | (x << (18 - 6 * i)));
        out.push((n >> 16) as u8);
        if v.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if v.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

#[test]
fn base64_decodes() {
    assert_eq!(base64_decode("aGVsbG8="), b"hello");
    assert_eq!(base64_decode("aGk="), b"hi");
    assert_eq!(base64_decode("YWJj"), b"abc");
}
