//! A minimal browser for the dashboard tests: keeps cookies, posts forms,
//! finds the CSRF token in a page.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::Full;
use pitlane_sim::http::{send, HttpResponse};

pub const ADMIN: &str = "ops";
pub const PASSWORD: &str = "pit lane password";

pub struct Browser {
    pub addr: SocketAddr,
    pub cookies: BTreeMap<String, String>,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, method: Method, path: &str, body: String) -> HttpResponse {
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("Host", self.addr.to_string());
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            builder = builder.header("Cookie", jar.join("; "));
        }
        if method == Method::POST {
            builder = builder
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", format!("http://{}", self.addr));
        }
        let request = builder.body(Full::new(Bytes::from(body))).unwrap();
        let response = send(self.addr, request, Duration::from_secs(30))
            .await
            .unwrap();
        for value in response.headers.get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let (pair, attrs) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        response
    }

    pub async fn get(&mut self, path: &str) -> HttpResponse {
        self.send(Method::GET, path, String::new()).await
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> HttpResponse {
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        let body = body.join("&");
        self.send(Method::POST, path, body).await
    }

    /// Loads the login form and posts it.
    pub async fn log_in(&mut self, name: &str, password: &str) -> HttpResponse {
        let form = self.get("/login").await;
        assert_eq!(form.status, 200, "{}", form.text());
        let csrf = csrf_of(&form.text());
        self.post(
            "/login",
            &[
                ("csrf", &csrf),
                ("name", name),
                ("password", password),
                ("next", "/"),
            ],
        )
        .await
    }

    /// A page's CSRF token, read from a GET of it.
    pub async fn csrf(&mut self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.text());
        csrf_of(&page.text())
    }
}

/// `application/x-www-form-urlencoded` escaping of one key or value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                (b as char).to_string()
            }
            b' ' => "+".into(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

pub fn location(r: &HttpResponse) -> String {
    r.headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The value of a Prometheus sample line, e.g. `pitlane_http_requests_total{class="2xx"}`.
pub fn sample(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{metrics}"))
}
