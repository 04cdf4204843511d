//! `pitlane doctor`: the simulator's check, printed for a person.

use std::net::IpAddr;
use std::path::PathBuf;

use pitlane_sim::doctor::{run, Check, DoctorOptions};

/// Runs the checks; returns the report text and whether everything passed.
pub async fn doctor(options: &DoctorOptions) -> (String, bool) {
    let checks: Vec<Check> = run(options).await;
    let ok = checks.iter().all(|c| c.ok);
    let mut text: String = checks.iter().map(|c| format!("{c}\n")).collect();
    text.push_str(if ok {
        "\nEverything a player needs works.\n"
    } else {
        "\nSome checks failed: follow the fixes above, then run doctor again.\n"
    });
    (text, ok)
}

/// Resolves `--server` (an address or a host name).
pub async fn server_address(text: &str) -> anyhow::Result<IpAddr> {
    if let Ok(ip) = text.parse() {
        return Ok(ip);
    }
    let mut addrs = tokio::net::lookup_host((text, 443)).await?;
    addrs
        .next()
        .map(|a| a.ip())
        .ok_or_else(|| anyhow::anyhow!("{text} has no address"))
}

/// The CA to trust: the one given, else this server's own when the
/// command runs on the server.
pub fn default_ca(given: Option<PathBuf>, data_dir: &std::path::Path) -> Option<PathBuf> {
    given.or_else(|| {
        let own = crate::tls::cert_dir(data_dir).join("ca.pem");
        own.exists().then_some(own)
    })
}
