//! The files a player needs to point Motor City Online at this server
//! (spec §4), as pure functions so that `pitlane mco client-setup` only
//! has to write them and tests can check every byte.
//!
//! The client finds every server through the registry, so one `.reg` file
//! and the server's `pub.key` and CA certificate are all a player needs;
//! no hosts file. The game is a 32-bit program: on 32-bit Windows it reads
//! `HKLM\SOFTWARE\…`, on 64-bit Windows the 32-bit view
//! `HKLM\SOFTWARE\WOW6432Node\…`. There is one `.reg` file per flavour
//! rather than one with both, because each half would only litter the
//! other system with keys nothing reads, and a player who picks the wrong
//! file sees nothing change instead of a half-working setup.
//!
//! The undo files remove exactly the values the setup files write, and no
//! key: the game's installer made most of these keys (with values of its
//! own, such as the install path), and a `.reg` file cannot tell which
//! ones. `Language` is the one value left in place, because the installer
//! sets it too and the game may need it to start; see
//! `docs/mco-player-guide.md` for a backup that restores everything
//! exactly.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The server's public key, copied over the one in the game folder.
pub const PUB_KEY_FILE: &str = "pub.key";
/// The certificate authority to import into the machine's Root store
/// (DER, the form `certutil -addstore` and a double-click both take).
pub const CA_CERT_FILE: &str = "ca.cer";
/// Instructions for the player, in the folder with the other files.
pub const README_FILE: &str = "README.txt";

/// Value that is written but never removed by the undo files.
const KEPT_ON_UNDO: &str = "Language";

/// Which registry view the game reads, i.e. which Windows the player has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowsBits {
    /// 32-bit Windows (XP and the like): `HKLM\SOFTWARE\…`.
    Bits32,
    /// 64-bit Windows: the 32-bit game is redirected to
    /// `HKLM\SOFTWARE\WOW6432Node\…`.
    Bits64,
}

impl WindowsBits {
    /// Both, in the order the files are listed to players.
    pub const ALL: [WindowsBits; 2] = [WindowsBits::Bits64, WindowsBits::Bits32];

    /// The key under which the game's own keys live.
    pub fn software_key(self) -> &'static str {
        match self {
            WindowsBits::Bits32 => r"HKEY_LOCAL_MACHINE\SOFTWARE",
            WindowsBits::Bits64 => r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node",
        }
    }

    /// File name of the settings file.
    pub fn reg_file_name(self) -> &'static str {
        match self {
            WindowsBits::Bits32 => "mco-windows-32bit.reg",
            WindowsBits::Bits64 => "mco-windows-64bit.reg",
        }
    }

    /// File name of the file that removes the settings again.
    pub fn undo_file_name(self) -> &'static str {
        match self {
            WindowsBits::Bits32 => "mco-windows-32bit-undo.reg",
            WindowsBits::Bits64 => "mco-windows-64bit-undo.reg",
        }
    }

    fn label(self) -> &'static str {
        match self {
            WindowsBits::Bits32 => "32-bit",
            WindowsBits::Bits64 => "64-bit",
        }
    }
}

/// Why a server address cannot go into the player's registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Nothing given.
    #[error("the server address is empty")]
    Empty,
    /// Longer than a DNS name can be.
    #[error("the server address is longer than 253 characters")]
    TooLong,
    /// A bind address such as 0.0.0.0, which no player can connect to.
    #[error("{0} is not an address players can reach; give this server's public name or address")]
    Unspecified(String),
    /// An IPv6 literal.
    #[error(
        "{0} is an IPv6 address; the client puts the host into http://host/ URLs and dates \
         from 2001, so give a host name or an IPv4 address"
    )]
    Ipv6(String),
    /// A character that is neither a letter, digit, `-`, `_` nor `.`
    /// (a port, a scheme, a path, a space, a quote…). The ports are fixed
    /// by the client, so there is nothing to add to the host.
    #[error("the server address contains {0:?}; give only a host name or an IPv4 address")]
    BadCharacter(char),
    /// An empty label (`a..b`, a leading or trailing dot), a label over 63
    /// characters or one starting or ending with `-`.
    #[error("{0:?} is not a valid host name")]
    BadName(String),
}

/// The address players use to reach this server: a DNS or LAN host name,
/// or an IPv4 address, checked so that it is safe to put into registry
/// values and URLs unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHost(String);

impl ServerHost {
    /// Checks `text` (surrounding spaces ignored).
    pub fn parse(text: &str) -> Result<ServerHost, HostError> {
        let host = text.trim();
        if host.is_empty() {
            return Err(HostError::Empty);
        }
        if host.len() > 253 {
            return Err(HostError::TooLong);
        }
        let unbracketed = host.trim_start_matches('[').trim_end_matches(']');
        if unbracketed.parse::<Ipv6Addr>().is_ok() {
            return Err(HostError::Ipv6(host.to_string()));
        }
        if let Ok(v4) = host.parse::<Ipv4Addr>() {
            if v4.is_unspecified() || v4.is_broadcast() {
                return Err(HostError::Unspecified(host.to_string()));
            }
            return Ok(ServerHost(host.to_string()));
        }
        if let Some(bad) = host
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(HostError::BadCharacter(bad));
        }
        let labels_ok = host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        // All-numeric names that are not IPv4 addresses ("300.1.2.3",
        // "10.1") are typos of addresses, not names.
        let numeric = host.chars().all(|c| c.is_ascii_digit() || c == '.');
        if !labels_ok || numeric {
            return Err(HostError::BadName(host.to_string()));
        }
        Ok(ServerHost(host.to_string()))
    }

    /// The host as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One registry key and the string values Pitlane sets in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryKey {
    /// Path below `HKLM\SOFTWARE` (or its `WOW6432Node`).
    pub path: &'static str,
    /// Name and value, in the order written. All are `REG_SZ`, as in the
    /// community's setup.
    pub values: Vec<(&'static str, String)>,
}

/// Every registry value of spec §4, in the spec's order.
///
/// Both AuthAuth keys are set because the material does not say which of
/// the two the client reads; `ShardUrlDev` gets the same URL as `ShardUrl`
/// so that a debug build, the only one seen working, finds the shard list
/// too; `Log=1` turns on the client's own NPS log, which is what a player
/// can send when reporting a problem.
pub fn registry_keys(host: &ServerHost) -> Vec<RegistryKey> {
    let host = host.as_str();
    let auth = || {
        vec![
            ("AuthLoginBaseService", "AuthLogin".to_string()),
            ("AuthLoginServer", host.to_string()),
        ]
    };
    let shard_url = format!("http://{host}/ShardList/");
    vec![
        RegistryKey {
            path: r"EACom\AuthAuth",
            values: auth(),
        },
        RegistryKey {
            path: r"Electronic Arts\Motor City",
            values: vec![
                ("GamePatch", "games/EA_Seattle/MotorCity/MCO".to_string()),
                (
                    "UpdateInfoPatch",
                    "games/EA_Seattle/MotorCity/UpdateInfo".to_string(),
                ),
                ("NPSPatch", "games/EA_Seattle/MotorCity/NPS".to_string()),
                ("PatchServerIP", host.to_string()),
                ("PatchServerPort", "80".to_string()),
                (
                    "CreateAccount",
                    format!("{host}/SubscribeEntry.jsp?prodID=REG-MCO"),
                ),
                (KEPT_ON_UNDO, "English".to_string()),
            ],
        },
        RegistryKey {
            path: r"Electronic Arts\Motor City\1.0",
            values: vec![("ShardUrl", shard_url.clone()), ("ShardUrlDev", shard_url)],
        },
        RegistryKey {
            path: r"Electronic Arts\Motor City\AuthAuth",
            values: auth(),
        },
        RegistryKey {
            path: r"Electronic Arts\Network Play System",
            values: vec![("Log", "1".to_string())],
        },
    ]
}

/// First line of every `.reg` file regedit 5 and later accept.
pub const REG_HEADER: &str = "Windows Registry Editor Version 5.00";

/// The settings file as text (before encoding), CRLF line ends.
pub fn reg_text(host: &ServerHost, bits: WindowsBits) -> String {
    let mut lines = vec![
        REG_HEADER.to_string(),
        String::new(),
        format!(
            "; Motor City Online on {host}, for {} Windows. Written by Pitlane.",
            bits.label()
        ),
        format!("; {} removes these values again.", bits.undo_file_name()),
    ];
    for key in registry_keys(host) {
        lines.push(String::new());
        lines.push(format!("[{}\\{}]", bits.software_key(), key.path));
        for (name, value) in key.values {
            lines.push(format!(
                "\"{}\"=\"{}\"",
                reg_escape(name),
                reg_escape(&value)
            ));
        }
    }
    crlf(lines)
}

/// The undo file as text: a `"Name"=-` line for every value of
/// [`reg_text`] except `Language`, under the same keys, and no key
/// removal (see the module documentation).
pub fn undo_reg_text(bits: WindowsBits) -> String {
    // The values do not depend on the host; any valid one lists them.
    let any = ServerHost("localhost".to_string());
    let mut lines = vec![
        REG_HEADER.to_string(),
        String::new(),
        format!(
            "; Removes the Motor City Online server settings of {}.",
            bits.reg_file_name()
        ),
        "; Keys stay (the game's installer made them) and so does Language.".to_string(),
    ];
    for key in registry_keys(&any) {
        lines.push(String::new());
        lines.push(format!("[{}\\{}]", bits.software_key(), key.path));
        for (name, _) in key.values {
            if name != KEPT_ON_UNDO {
                lines.push(format!("\"{}\"=-", reg_escape(name)));
            }
        }
    }
    crlf(lines)
}

/// The settings file as regedit writes them: UTF-16LE with a byte-order
/// mark. (Version 5 files are Unicode; an ANSI file would need the
/// `REGEDIT4` header instead.)
pub fn reg_file(host: &ServerHost, bits: WindowsBits) -> Vec<u8> {
    utf16le_with_bom(&reg_text(host, bits))
}

/// The undo file, encoded like [`reg_file`].
pub fn undo_reg_file(bits: WindowsBits) -> Vec<u8> {
    utf16le_with_bom(&undo_reg_text(bits))
}

/// UTF-16LE with a leading byte-order mark (`FF FE`).
pub fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + text.len() * 2);
    out.extend_from_slice(&[0xff, 0xfe]);
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// Inside a quoted `.reg` string only `\` and `"` are special.
fn reg_escape(text: &str) -> String {
    text.replace('\\', r"\\").replace('"', "\\\"")
}

/// Lines joined with CRLF, with the trailing blank line regedit's own
/// exports end with.
fn crlf(lines: Vec<String>) -> String {
    let mut out = lines.join("\r\n");
    out.push_str("\r\n\r\n");
    out
}

/// `README.txt` for the player folder: ASCII with CRLF line ends, so that
/// Notepad on any Windows shows it properly. `ca_name` is the CA
/// certificate's common name, which `certutil -delstore` needs to remove it.
pub fn readme(host: &ServerHost, ca_name: &str) -> String {
    let ca_name = ca_name.replace(['"', '\r', '\n'], " ");
    let title = format!("Motor City Online on {host}");
    let text = format!(
        r#"{title}
{underline}

These files set up Motor City Online (EA, 2001) on a Windows PC to play
on the Pitlane server at {host}.
Be aware: only the debug build of the client is known to have worked
with community servers; whether the retail build does is untested.

Files
  {pub_key:<29}the server's key; goes into the game folder
  {ca:<29}the server's certificate authority (CA)
  {reg64:<29}settings for 64-bit Windows
  {reg32:<29}settings for 32-bit Windows
  {undo64:<29}removes those settings (64-bit)
  {undo32:<29}removes those settings (32-bit)

Not sure which Windows you have? Settings > System > About (or right-click
Computer > Properties) shows "64-bit" or "32-bit". Windows XP is almost
always 32-bit.

Set up (you need an administrator account)
  1. Find the game folder: the folder Motor City Online is installed in,
     which already has a file called pub.key. Rename that file to
     pub.key.original, then copy the {pub_key} from here into the game
     folder.
  2. Open a Command Prompt as administrator (Windows Vista and later:
     right-click it, "Run as administrator"), go to this folder with cd,
     and run:
       certutil -addstore -f Root {ca}
     Windows XP may have no certutil: double-click {ca} instead, choose
     Install Certificate, and place it in "Trusted Root Certification
     Authorities" (this way is untested with the game).
  3. Double-click the settings file for your Windows ({reg64}
     or {reg32}) and confirm.
  4. Start the game and log in with the account name and password the
     server's operator gave you.

Undo everything
  1. Double-click {undo64} (or {undo32}).
  2. In a Command Prompt as administrator, run:
       certutil -delstore Root "{ca_name}"
     (Without certutil: run certmgr.msc, open Trusted Root Certification
     Authorities > Certificates and delete "{ca_name}".)
  3. In the game folder, delete pub.key and rename pub.key.original back
     to pub.key.
"#,
        underline = "=".repeat(title.len()),
        pub_key = PUB_KEY_FILE,
        ca = CA_CERT_FILE,
        reg64 = WindowsBits::Bits64.reg_file_name(),
        reg32 = WindowsBits::Bits32.reg_file_name(),
        undo64 = WindowsBits::Bits64.undo_file_name(),
        undo32 = WindowsBits::Bits32.undo_file_name(),
    );
    text.replace('\n', "\r\n")
}

/// One file of the player folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupFile {
    /// File name, without a directory.
    pub name: &'static str,
    /// Exact contents.
    pub contents: Vec<u8>,
}

/// Every file of the player folder except the CA certificate, which the
/// TLS side produces: `pub.key` (the text of
/// [`PublicLoginKey::to_pub_key_file`](crate::crypto::PublicLoginKey::to_pub_key_file),
/// written as is), the four `.reg` files and `README.txt`.
pub fn player_files(host: &ServerHost, pub_key_file: &str, ca_name: &str) -> Vec<SetupFile> {
    let mut files = vec![SetupFile {
        name: PUB_KEY_FILE,
        contents: pub_key_file.as_bytes().to_vec(),
    }];
    for bits in WindowsBits::ALL {
        files.push(SetupFile {
            name: bits.reg_file_name(),
            contents: reg_file(host, bits),
        });
        files.push(SetupFile {
            name: bits.undo_file_name(),
            contents: undo_reg_file(bits),
        });
    }
    files.push(SetupFile {
        name: README_FILE,
        contents: readme(host, ca_name).into_bytes(),
    });
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(text: &str) -> ServerHost {
        ServerHost::parse(text).unwrap()
    }

    const SETUP_64: &str = "Windows Registry Editor Version 5.00\r\n\
\r\n\
; Motor City Online on mco.example.org, for 64-bit Windows. Written by Pitlane.\r\n\
; mco-windows-64bit-undo.reg removes these values again.\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\EACom\\AuthAuth]\r\n\
\"AuthLoginBaseService\"=\"AuthLogin\"\r\n\
\"AuthLoginServer\"=\"mco.example.org\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Electronic Arts\\Motor City]\r\n\
\"GamePatch\"=\"games/EA_Seattle/MotorCity/MCO\"\r\n\
\"UpdateInfoPatch\"=\"games/EA_Seattle/MotorCity/UpdateInfo\"\r\n\
\"NPSPatch\"=\"games/EA_Seattle/MotorCity/NPS\"\r\n\
\"PatchServerIP\"=\"mco.example.org\"\r\n\
\"PatchServerPort\"=\"80\"\r\n\
\"CreateAccount\"=\"mco.example.org/SubscribeEntry.jsp?prodID=REG-MCO\"\r\n\
\"Language\"=\"English\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Electronic Arts\\Motor City\\1.0]\r\n\
\"ShardUrl\"=\"http://mco.example.org/ShardList/\"\r\n\
\"ShardUrlDev\"=\"http://mco.example.org/ShardList/\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Electronic Arts\\Motor City\\AuthAuth]\r\n\
\"AuthLoginBaseService\"=\"AuthLogin\"\r\n\
\"AuthLoginServer\"=\"mco.example.org\"\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\WOW6432Node\\Electronic Arts\\Network Play System]\r\n\
\"Log\"=\"1\"\r\n\
\r\n";

    const UNDO_32: &str = "Windows Registry Editor Version 5.00\r\n\
\r\n\
; Removes the Motor City Online server settings of mco-windows-32bit.reg.\r\n\
; Keys stay (the game's installer made them) and so does Language.\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\EACom\\AuthAuth]\r\n\
\"AuthLoginBaseService\"=-\r\n\
\"AuthLoginServer\"=-\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Electronic Arts\\Motor City]\r\n\
\"GamePatch\"=-\r\n\
\"UpdateInfoPatch\"=-\r\n\
\"NPSPatch\"=-\r\n\
\"PatchServerIP\"=-\r\n\
\"PatchServerPort\"=-\r\n\
\"CreateAccount\"=-\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Electronic Arts\\Motor City\\1.0]\r\n\
\"ShardUrl\"=-\r\n\
\"ShardUrlDev\"=-\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Electronic Arts\\Motor City\\AuthAuth]\r\n\
\"AuthLoginBaseService\"=-\r\n\
\"AuthLoginServer\"=-\r\n\
\r\n\
[HKEY_LOCAL_MACHINE\\SOFTWARE\\Electronic Arts\\Network Play System]\r\n\
\"Log\"=-\r\n\
\r\n";

    #[test]
    fn the_64_bit_settings_file_is_exact() {
        assert_eq!(
            reg_text(&host("mco.example.org"), WindowsBits::Bits64),
            SETUP_64
        );
    }

    #[test]
    fn the_32_bit_settings_differ_only_in_the_root_and_names() {
        let expected = SETUP_64
            .replace(r"SOFTWARE\WOW6432Node\", r"SOFTWARE\")
            .replace("64-bit", "32-bit")
            .replace("64bit", "32bit");
        assert_eq!(
            reg_text(&host("mco.example.org"), WindowsBits::Bits32),
            expected
        );
    }

    #[test]
    fn the_undo_files_are_exact() {
        assert_eq!(undo_reg_text(WindowsBits::Bits32), UNDO_32);
        let expected = UNDO_32
            .replace(r"SOFTWARE\", r"SOFTWARE\WOW6432Node\")
            .replace("32bit", "64bit");
        assert_eq!(undo_reg_text(WindowsBits::Bits64), expected);
    }

    #[test]
    fn undo_removes_every_value_written_but_language_and_no_key() {
        let setup = reg_text(&host("10.0.0.2"), WindowsBits::Bits64);
        let undo = undo_reg_text(WindowsBits::Bits64);
        let keys = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| l.starts_with('['))
                .map(String::from)
                .collect()
        };
        assert_eq!(keys(&setup), keys(&undo));
        assert!(!undo.contains("[-"));
        let written: Vec<&str> = setup
            .lines()
            .filter(|l| l.starts_with('"'))
            .filter_map(|l| l.split('=').next())
            .filter(|name| *name != "\"Language\"")
            .collect();
        let removed: Vec<&str> = undo
            .lines()
            .filter(|l| l.starts_with('"'))
            .filter_map(|l| l.strip_suffix("=-"))
            .collect();
        assert_eq!(written, removed);
        assert_eq!(written.len(), 13);
    }

    #[test]
    fn files_are_utf16le_with_a_bom() {
        let bytes = reg_file(&host("mco.example.org"), WindowsBits::Bits64);
        assert_eq!(&bytes[..2], &[0xff, 0xfe]);
        // "Wi" of the header, little-endian.
        assert_eq!(&bytes[2..6], &[b'W', 0, b'i', 0]);
        assert_eq!(bytes.len(), 2 + 2 * SETUP_64.len());
        let units: Vec<u16> = bytes[2..]
            .chunks_exact(2)
            .map(|p| u16::from_le_bytes([p[0], p[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).unwrap(), SETUP_64);
        assert_eq!(
            &bytes[bytes.len() - 8..],
            &[b'\r', 0, b'\n', 0, b'\r', 0, b'\n', 0]
        );

        let undo = undo_reg_file(WindowsBits::Bits32);
        assert_eq!(undo, utf16le_with_bom(UNDO_32));
        assert_eq!(utf16le_with_bom("\u{e9}"), [0xff, 0xfe, 0xe9, 0x00]);
    }

    #[test]
    fn hosts() {
        assert_eq!(host(" mco.example.org ").as_str(), "mco.example.org");
        assert_eq!(host("192.168.1.20").as_str(), "192.168.1.20");
        assert_eq!(host("127.0.0.1").as_str(), "127.0.0.1");
        assert_eq!(host("LAN_PC-2").as_str(), "LAN_PC-2");
        assert_eq!(ServerHost::parse(""), Err(HostError::Empty));
        assert_eq!(
            ServerHost::parse("0.0.0.0"),
            Err(HostError::Unspecified("0.0.0.0".into()))
        );
        assert_eq!(ServerHost::parse("::1"), Err(HostError::Ipv6("::1".into())));
        assert_eq!(
            ServerHost::parse("[2001:db8::1]"),
            Err(HostError::Ipv6("[2001:db8::1]".into()))
        );
        assert_eq!(
            ServerHost::parse("mco.example.org:8080"),
            Err(HostError::BadCharacter(':'))
        );
        assert_eq!(
            ServerHost::parse("http://mco.example.org/"),
            Err(HostError::BadCharacter(':'))
        );
        assert_eq!(
            ServerHost::parse("mco\".example"),
            Err(HostError::BadCharacter('"'))
        );
        assert_eq!(ServerHost::parse("a b"), Err(HostError::BadCharacter(' ')));
        for bad in ["a..b", ".a", "a.", "-a.b", "a-.b", "300.1.2.3", "10.1"] {
            assert_eq!(
                ServerHost::parse(bad),
                Err(HostError::BadName(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(ServerHost::parse(&"a".repeat(254)), Err(HostError::TooLong));
        assert!(ServerHost::parse(&"a".repeat(64)).is_err());
        assert!(ServerHost::parse(&"a".repeat(63)).is_ok());
    }

    #[test]
    fn every_spec_value_is_there() {
        let keys = registry_keys(&host("h.example"));
        let all: Vec<(&str, &str, &str)> = keys
            .iter()
            .flat_map(|k| k.values.iter().map(move |(n, v)| (k.path, *n, v.as_str())))
            .collect();
        assert_eq!(all.len(), 14);
        for expected in [
            (r"EACom\AuthAuth", "AuthLoginServer", "h.example"),
            (r"Electronic Arts\Motor City", "PatchServerIP", "h.example"),
            (
                r"Electronic Arts\Motor City\1.0",
                "ShardUrl",
                "http://h.example/ShardList/",
            ),
            (
                r"Electronic Arts\Motor City\AuthAuth",
                "AuthLoginBaseService",
                "AuthLogin",
            ),
            (r"Electronic Arts\Network Play System", "Log", "1"),
        ] {
            assert!(all.contains(&expected), "{expected:?}");
        }
    }

    #[test]
    fn readme_names_every_file_and_the_ca() {
        let text = readme(&host("mco.example.org"), "Pitlane MCO CA \"x\"");
        assert!(text.starts_with(
            "Motor City Online on mco.example.org\r\n====================================\r\n"
        ));
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(text.is_ascii());
        for bits in WindowsBits::ALL {
            assert!(text.contains(bits.reg_file_name()));
            assert!(text.contains(bits.undo_file_name()));
        }
        assert!(text.contains("certutil -addstore -f Root ca.cer\r\n"));
        assert!(text.contains("certutil -delstore Root \"Pitlane MCO CA  x \"\r\n"));
        assert!(text.contains("only the debug build"));
    }

    #[test]
    fn the_player_folder() {
        let files = player_files(&host("mco.example.org"), "30819f30", "Pitlane CA");
        let names: Vec<&str> = files.iter().map(|f| f.name).collect();
        assert_eq!(
            names,
            [
                "pub.key",
                "mco-windows-64bit.reg",
                "mco-windows-64bit-undo.reg",
                "mco-windows-32bit.reg",
                "mco-windows-32bit-undo.reg",
                "README.txt"
            ]
        );
        assert_eq!(files[0].contents, b"30819f30");
        assert_eq!(
            files[1].contents,
            reg_file(&host("mco.example.org"), WindowsBits::Bits64)
        );
        assert_eq!(files[4].contents, undo_reg_file(WindowsBits::Bits32));
    }
}
