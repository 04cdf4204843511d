//! Certificates, hosts lines, the game-folder configuration and the MCO
//! player files: everything that makes a player's PC reach this server.

use std::net::IpAddr;
use std::path::Path;

use pitlane_core::Config;

use crate::hosts::{self, MMWS_HOSTS};
use crate::tls;

/// `pitlane certs`: creates or renews the certificates and says what
/// players must import.
pub fn certs(config: &Config) -> anyhow::Result<String> {
    let now = chrono::Utc::now();
    let (server, mco) = tls::ensure_certificates(config, now)?;
    let mut out = String::new();
    let paths = tls::cert_store(config).paths().clone();
    for (what, status) in [
        ("Micro Machines server", &server),
        ("Motor City Online", &mco),
    ] {
        out.push_str(&format!(
            "{what} certificate: {} ({:?}), valid until {} ({} days)\n",
            status.leaf.cert_path.display(),
            status.leaf_action,
            status.leaf.not_after.format("%Y-%m-%d"),
            status.leaf.days_left(now)
        ));
        for warning in &status.warnings {
            out.push_str(&format!("warning: {warning}\n"));
        }
    }
    if let Some(ca) = &server.ca {
        out.push_str(&format!(
            "\nPlayers import the CA once: {}\n  Windows (administrator command prompt): certutil -addstore -f Root ca.cer\n  To remove it later:                      certutil -delstore Root \"{}\"\n  CA valid until {}\n",
            paths.ca_cer.display(),
            ca.common_name,
            ca.not_after.format("%Y-%m-%d")
        ));
    } else {
        out.push_str("\nThe operator's own certificate is in use; players import nothing.\n");
    }
    Ok(out)
}

/// `pitlane hosts`: the lines to add, and PowerShell commands that add and
/// remove exactly them.
pub fn hosts(address: IpAddr) -> String {
    let lines = hosts::hosts_lines(address);
    let names = MMWS_HOSTS.join("|").replace('.', "\\.");
    format!(
        "{lines}\n\
         # Add them (PowerShell as administrator):\n\
         #   Add-Content -Path $env:windir\\System32\\drivers\\etc\\hosts -Value \"{}\"\n\
         # Remove them again:\n\
         #   (Get-Content $env:windir\\System32\\drivers\\etc\\hosts) | Where-Object {{ $_ -notmatch '\\s({names})\\s*$' }} | Set-Content $env:windir\\System32\\drivers\\etc\\hosts\n",
        lines.trim_end().replace('\n', "`r`n")
    )
}

/// The game-folder configuration of the no-certificate route: the game in
/// `Localhost` mode talks plain HTTP to `http://localhost/MMCOS-...`
/// (spec 1.4), and Windows' own port proxy forwards that to this server.
pub const BOOT_CONFIG_LOCALHOST: &str = "<BootConfig>\r\n  <property name=\"m_serverEnvironment\" value=\"Localhost\" />\r\n  <property name=\"m_disableEgoNet\" value=\"true\" />\r\n</BootConfig>\r\n";

/// What the file holds as shipped (spec 1.4): puts the game back.
pub const BOOT_CONFIG_SHIPPED: &str =
    "<BootConfig>\r\n  <property name=\"m_serverEnvironment\" value=\"CDN\" />\r\n</BootConfig>\r\n";

/// `pitlane client-config`: writes the two BootConfig files and returns
/// the instructions.
pub fn client_config(out: &Path, server: IpAddr, http_port: u16) -> anyhow::Result<String> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join("BootConfig_User.xml"), BOOT_CONFIG_LOCALHOST)?;
    std::fs::write(
        out.join("BootConfig_User.original.xml"),
        BOOT_CONFIG_SHIPPED,
    )?;
    let local = if server.is_loopback() {
        "The server runs on this PC: nothing else to do.".to_string()
    } else {
        format!(
            "Forward this PC's port 80 to the server (administrator command prompt):\n  \
             netsh interface portproxy add v4tov4 listenaddress=127.0.0.1 listenport=80 connectaddress={server} connectport={http_port}\n\
             Undo: netsh interface portproxy delete v4tov4 listenaddress=127.0.0.1 listenport=80"
        )
    };
    Ok(format!(
        "Wrote {dir}/BootConfig_User.xml and BootConfig_User.original.xml.\n\n\
         No-certificate route for Micro Machines World Series (no hosts file, no CA):\n\
         1. Copy BootConfig_User.xml into <game folder>\\MicroMachines_Data\\StreamingAssets\\ (keep the old file).\n\
         2. {local}\n\
         3. Start the game.\n\
         EgoNet is switched off in this mode (the game plays without it).\n\
         Undo: copy BootConfig_User.original.xml over BootConfig_User.xml (it holds the shipped content).\n",
        dir = out.display()
    ))
}

/// `pitlane mco client-setup`: the MCO player folder (pub.key, .reg files,
/// README and the CA certificate).
pub fn mco_client_setup(config: &Config, host: &str, out: &Path) -> anyhow::Result<String> {
    let host = motorcity::client_setup::ServerHost::parse(host)?;
    // Creates the key pair (and pub.key) if this server has none yet.
    crate::mco::load_or_create_login_key(&config.server.data_dir)?;
    let pub_key =
        std::fs::read_to_string(crate::mco::key_dir(&config.server.data_dir).join("pub.key"))?;
    let (server, _) = tls::ensure_certificates(config, chrono::Utc::now())?;
    let ca_name = server
        .ca
        .as_ref()
        .map(|ca| ca.common_name.clone())
        .unwrap_or_else(|| "(the operator's CA)".into());
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    for file in motorcity::client_setup::player_files(&host, &pub_key, &ca_name) {
        std::fs::write(out.join(file.name), &file.contents)?;
        written.push(file.name.to_string());
    }
    if server.ca.is_some() {
        let cer = tls::cert_store(config).paths().ca_cer.clone();
        std::fs::copy(&cer, out.join(motorcity::client_setup::CA_CERT_FILE))?;
        written.push(motorcity::client_setup::CA_CERT_FILE.into());
    }
    Ok(format!(
        "Wrote {} to {}.\nGive the folder to players; README.txt walks them through it (see also docs/mco-player-guide.md).\n",
        written.join(", "),
        out.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_output_adds_and_removes_exactly_our_lines() {
        let text = hosts("192.168.1.20".parse().unwrap());
        assert!(text.starts_with("192.168.1.20 mmcos.codemasters.com\n192.168.1.20 prod.egonet.codemasters.com\n192.168.1.20 ecdn.codemasters.com\n"));
        assert!(text.contains("Add-Content"));
        assert!(text.contains(
            "mmcos\\.codemasters\\.com|prod\\.egonet\\.codemasters\\.com|ecdn\\.codemasters\\.com"
        ));
    }

    #[test]
    fn client_config_writes_localhost_mode_and_the_shipped_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = client_config(dir.path(), "192.168.1.20".parse().unwrap(), 80).unwrap();
        let written = std::fs::read_to_string(dir.path().join("BootConfig_User.xml")).unwrap();
        assert!(written.contains("name=\"m_serverEnvironment\" value=\"Localhost\""));
        let original =
            std::fs::read_to_string(dir.path().join("BootConfig_User.original.xml")).unwrap();
        assert!(original.contains("value=\"CDN\""));
        assert!(text.contains("connectaddress=192.168.1.20 connectport=80"));
        assert!(text.contains("portproxy delete"));
    }
}
