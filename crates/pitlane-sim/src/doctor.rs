//! `pitlane doctor`: walks the real client's call sequence against a server
//! and says, in plain words, what works and how to fix what does not. Runs
//! on a player's PC (is my setup right?) or anywhere (is the server up?).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::egonet::EgoNetClient;
use crate::mmws::{MmwsClient, Search, CDN_HOST, MMCOS_HOST};
use crate::tls::TrustingClient;

/// The names the game resolves.
pub const GAME_HOSTS: [&str; 3] = [MMCOS_HOST, "prod.egonet.codemasters.com", CDN_HOST];

/// The doctor's own Steam identity: the first individual public account
/// id. The server keeps an account for it, like for any player.
pub const DOCTOR_STEAM_ID: u64 = 76561197960265729;
pub const DOCTOR_NAME: &str = "Pitlane Doctor";

#[derive(Debug, Clone)]
pub struct DoctorOptions {
    /// The server to check; `None`: wherever mmcos.codemasters.com points.
    pub server: Option<IpAddr>,
    pub http_port: u16,
    pub https_port: u16,
    /// The CA the player imported (`ca.pem`/`ca.crt`); `None` skips TLS
    /// and walks the services over plain HTTP.
    pub ca_pem: Option<PathBuf>,
    /// Check that the game's host names point at the server.
    pub check_dns: bool,
    pub timeout: Duration,
}

impl Default for DoctorOptions {
    fn default() -> Self {
        Self {
            server: None,
            http_port: 80,
            https_port: 443,
            ca_pem: None,
            check_dns: true,
            timeout: Duration::from_secs(10),
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
    /// What to do about a failure.
    pub fix: Option<String>,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}] {}: {}",
            if self.ok { "PASS" } else { "FAIL" },
            self.name,
            self.detail
        )?;
        if let Some(fix) = &self.fix {
            write!(f, "\n       fix: {fix}")?;
        }
        Ok(())
    }
}

fn pass(name: &str, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok: true,
        detail: detail.into(),
        fix: None,
    }
}

fn fail(name: &str, detail: impl Into<String>, fix: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok: false,
        detail: detail.into(),
        fix: Some(fix.into()),
    }
}

pub async fn run(options: &DoctorOptions) -> Vec<Check> {
    let mut report = Vec::new();
    let mut resolved: Option<IpAddr> = None;
    if options.check_dns {
        for host in GAME_HOSTS {
            let name = format!("{host} resolves");
            match tokio::net::lookup_host((host, 443)).await {
                Ok(mut addrs) => match addrs.next() {
                    Some(addr) => {
                        let ip = addr.ip();
                        resolved.get_or_insert(ip);
                        match options.server {
                            Some(server) if server != ip => report.push(fail(
                                &name,
                                format!("points to {ip}, not to the server {server}"),
                                "fix the hosts file lines (`pitlane hosts` on the server prints them)",
                            )),
                            _ => report.push(pass(&name, format!("points to {ip}"))),
                        }
                    }
                    None => report.push(fail(
                        &name,
                        "no address",
                        "add the hosts file lines (`pitlane hosts`)",
                    )),
                },
                Err(e) => report.push(fail(
                    &name,
                    format!("cannot be resolved ({e})"),
                    "add the hosts file lines (`pitlane hosts` on the server prints them)",
                )),
            }
        }
    }
    let Some(server) = options.server.or(resolved) else {
        report.push(fail(
            "server",
            "no server address",
            "pass --server ADDRESS or fix the hosts file",
        ));
        return report;
    };

    let tls = match &options.ca_pem {
        None => None,
        Some(path) => match TrustingClient::from_ca_pem_file(path) {
            Ok(client) => Some(client),
            Err(e) => {
                report.push(fail(
                    "CA certificate",
                    e.to_string(),
                    "pass the server's ca.pem/ca.crt with --ca",
                ));
                None
            }
        },
    };
    let https = SocketAddr::new(server, options.https_port);
    let mut tls_ok = tls.is_some();
    if let Some(client) = &tls {
        for host in GAME_HOSTS {
            let name = format!("TLS for {host}");
            let attempt = async {
                let tcp = tokio::net::TcpStream::connect(https).await?;
                client.connect(host, tcp).await
            };
            match tokio::time::timeout(options.timeout, attempt).await {
                Ok(Ok(_)) => report.push(pass(&name, "the certificate chains to the imported CA")),
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    tls_ok = false;
                    report.push(fail(
                        &name,
                        format!("nothing listens on {https}"),
                        "start the server (`pitlane serve`) and open TCP port 443 in its firewall",
                    ));
                }
                Ok(Err(e)) => {
                    tls_ok = false;
                    report.push(fail(&name, format!("handshake failed: {e}"), "import this server's CA (certutil -addstore -f Root ca.cer, as administrator) or check that the names point to the right server"));
                }
                Err(_) => {
                    tls_ok = false;
                    report.push(fail(
                        &name,
                        format!("no answer from {https}"),
                        "check the server and the firewall",
                    ));
                }
            }
        }
    }

    // The services, as the game calls them at start-up.
    let (mut client, over) = if tls_ok {
        (MmwsClient::new(https), "HTTPS")
    } else {
        (
            MmwsClient::new(SocketAddr::new(server, options.http_port)),
            "HTTP",
        )
    };
    client.timeout = options.timeout;
    if tls_ok {
        client.tls = tls.clone();
    }
    let unreachable =
        "start the server (`pitlane serve`), check the address and open its TCP ports 80 and 443";
    match client.cdn().await {
        Ok(r) if r.status == 200 => {
            report.push(pass("CDN file", format!("over {over}: {}", r.text())))
        }
        Ok(r) => report.push(fail(
            "CDN file",
            format!("status {}", r.status),
            "is this a Pitlane server?",
        )),
        Err(e) => {
            report.push(fail("CDN file", e.to_string(), unreachable));
            return report;
        }
    }
    match client.server_status().await {
        Ok(r) if r.status == 200 && r.text().contains("accessible=\"true\"") => {
            report.push(pass("server status", "online play is open"))
        }
        Ok(r) if r.status == 200 => report.push(fail(
            "server status",
            "the server reports online play closed",
            "the operator set [micromachines.status] accessible = false",
        )),
        Ok(r) => report.push(fail(
            "server status",
            format!("status {}", r.status),
            "is this a Pitlane server?",
        )),
        Err(e) => report.push(fail("server status", e.to_string(), unreachable)),
    }
    let login = match client.login(DOCTOR_STEAM_ID, DOCTOR_NAME).await {
        Ok(login) => {
            report.push(pass(
                "login",
                format!("season {}, user id {}", login.season_id, login.user_id),
            ));
            login
        }
        Err(e) => {
            report.push(fail(
                "login",
                e.to_string(),
                "see the server's log for the reason",
            ));
            return report;
        }
    };
    match client.get_elite(&login.token, 0, 10).await {
        Ok(board) => report.push(pass(
            "leaderboards",
            format!("{} entries on the first page", board.entries.len()),
        )),
        Err(e) => report.push(fail("leaderboards", e.to_string(), "see the server's log")),
    }
    let mut search = Search::new(0x00D0_C702, "QuickRace", "Race", "NotRanked");
    search.start_now = true;
    match client.enter_matchmaking(&login.token, &search).await {
        Ok(o) if o.is_match() => report.push(pass(
            "matchmaking",
            format!("race {} (session {})", o.race_key, o.session_id),
        )),
        Ok(_) => report.push(pass(
            "matchmaking",
            "answered (this server keeps start-now searches waiting for humans)",
        )),
        Err(e) => report.push(fail("matchmaking", e.to_string(), "see the server's log")),
    }
    let mut egonet = EgoNetClient::new(client.addr);
    egonet.timeout = options.timeout;
    egonet.tls = client.tls.clone();
    match egonet
        .login(DOCTOR_NAME, &crate::egonet::app_ticket(0xD0C7))
        .await
    {
        Ok(answer) if answer.result == 0 => report.push(pass("EgoNet login", "accepted")),
        Ok(answer) => report.push(fail(
            "EgoNet login",
            format!("result {}", answer.result),
            "the game plays without EgoNet; check the server's log",
        )),
        Err(e) => report.push(fail(
            "EgoNet login",
            e.to_string(),
            "the game plays without EgoNet; check the server's log",
        )),
    }
    report
}
