//! `pitlane init` with a terminal: a short first-run conversation that
//! writes the config and says what players must do next. Without a
//! terminal it writes the commented defaults (scripts, containers).

use std::io::{self, BufRead, Write};
use std::net::IpAddr;

use pitlane_core::config::EXAMPLE;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    pub name: String,
    pub motor_city: bool,
    /// `None`: players on the LAN, the address is found at start-up.
    pub public_address: Option<IpAddr>,
    /// Operator name and password for the dashboard.
    pub admin: Option<(String, String)>,
}

fn ask(
    input: &mut impl BufRead,
    output: &mut impl Write,
    question: &str,
    default: &str,
) -> io::Result<String> {
    write!(output, "{question} [{default}]: ")?;
    output.flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    let line = line.trim();
    Ok(if line.is_empty() {
        default.to_string()
    } else {
        line.to_string()
    })
}

fn yes(answer: &str) -> bool {
    matches!(
        answer.to_ascii_lowercase().as_str(),
        "y" | "yes" | "j" | "ja" | "o" | "oui"
    )
}

/// Asks the questions; `secret` reads a password without echo.
pub fn converse(
    input: &mut impl BufRead,
    output: &mut impl Write,
    lan: Option<IpAddr>,
    secret: &mut dyn FnMut(&str) -> io::Result<String>,
) -> io::Result<Answers> {
    writeln!(
        output,
        "Pitlane first-run setup. Press Enter to keep the value in brackets."
    )?;
    let name = ask(input, output, "Server name", "Pitlane")?;
    let motor_city = yes(&ask(
        input,
        output,
        "Serve Motor City Online too (y/n)",
        "y",
    )?);
    let lan_text = lan.map_or_else(|| "none found".to_string(), |ip| ip.to_string());
    let public_address = loop {
        let answer = ask(
            input,
            output,
            &format!(
                "Players on the LAN only (this PC: {lan_text}), or the public address players use"
            ),
            "lan",
        )?;
        if answer.eq_ignore_ascii_case("lan") {
            break None;
        }
        match answer.parse::<IpAddr>() {
            Ok(ip) => break Some(ip),
            Err(_) => writeln!(
                output,
                "  \"{answer}\" is not an IP address; type one, or lan"
            )?,
        }
    };
    let admin_name = ask(
        input,
        output,
        "Dashboard operator name (- for none)",
        "admin",
    )?;
    let admin = if admin_name == "-" {
        None
    } else {
        loop {
            let first = secret(&format!("Password for {admin_name}: "))?;
            if first.len() < 8 {
                writeln!(output, "  at least 8 characters, please")?;
                continue;
            }
            let again = secret("Again: ")?;
            if first == again {
                break Some((admin_name.clone(), first));
            }
            writeln!(output, "  the two passwords differ")?;
        }
    };
    Ok(Answers {
        name,
        motor_city,
        public_address,
        admin,
    })
}

/// The commented default config with the answers filled in.
pub fn config_text(answers: &Answers) -> String {
    let name = answers.name.replace('\\', "\\\\").replace('"', "\\\"");
    let mut text = EXAMPLE.replacen("name = \"Pitlane\"", &format!("name = \"{name}\""), 1);
    if let Some(ip) = answers.public_address {
        text = text.replacen(
            "# public_address = \"203.0.113.7\"",
            &format!("public_address = \"{ip}\""),
            1,
        );
    }
    if !answers.motor_city {
        text = text.replacen(
            "[motorcity]\n# Serve Motor City Online.\nenabled = true",
            "[motorcity]\n# Serve Motor City Online.\nenabled = false",
            1,
        );
    }
    text
}

/// What to tell the operator when the file is written.
pub fn next_steps(answers: &Answers, config_path: &str) -> String {
    let mut out = format!(
        "\nWrote {config_path}. Start the server with `pitlane serve`.\n\nThen:\n\
         - Micro Machines players: the hosts lines from `pitlane hosts` and the CA from `pitlane certs` (docs/mmws-player-guide.md).\n"
    );
    if answers.motor_city {
        out.push_str("- Motor City Online players: an account each (`pitlane mco account add NAME`) and the folder from `pitlane mco client-setup` (docs/mco-player-guide.md).\n");
    }
    if answers.public_address.is_some() {
        out.push_str(if answers.motor_city {
            "- Open TCP ports 80, 443, 8226 and 8228 to this machine.\n"
        } else {
            "- Open TCP ports 80 and 443 to this machine.\n"
        });
    }
    if let Some((name, _)) = &answers.admin {
        out.push_str(&format!(
            "- The dashboard is at http://127.0.0.1:8080/ (operator {name}).\n"
        ));
    }
    out.push_str("- Check everything with `pitlane doctor --server <address>`.\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(script: &str, passwords: &[&str]) -> (Answers, String) {
        let mut input = io::Cursor::new(script.as_bytes().to_vec());
        let mut output = Vec::new();
        let mut pw = passwords.iter().map(|p| p.to_string());
        let answers = converse(
            &mut input,
            &mut output,
            Some("192.168.1.20".parse().unwrap()),
            &mut |_| Ok(pw.next().unwrap_or_default()),
        )
        .unwrap();
        (answers, String::from_utf8(output).unwrap())
    }

    #[test]
    fn defaults_give_a_lan_server_for_both_games() {
        let (answers, shown) = run("\n\n\n\n", &["longpassword", "longpassword"]);
        assert_eq!(answers.name, "Pitlane");
        assert!(answers.motor_city);
        assert_eq!(answers.public_address, None);
        assert_eq!(answers.admin, Some(("admin".into(), "longpassword".into())));
        assert!(shown.contains("192.168.1.20"));
        let config =
            pitlane_core::Config::from_toml(&config_text(&answers), std::path::Path::new("t"))
                .unwrap();
        assert_eq!(config, pitlane_core::Config::default());
    }

    #[test]
    fn answers_end_up_in_the_config() {
        let (answers, shown) = run(
            "Friday \"Night\" Racing\nn\nnot-an-ip\n203.0.113.7\n-\n",
            &[],
        );
        assert!(shown.contains("is not an IP address"));
        assert_eq!(answers.admin, None);
        let config =
            pitlane_core::Config::from_toml(&config_text(&answers), std::path::Path::new("t"))
                .unwrap();
        assert_eq!(config.server.name, "Friday \"Night\" Racing");
        assert_eq!(
            config.server.public_address,
            Some("203.0.113.7".parse().unwrap())
        );
        assert!(!config.motorcity.enabled);
        let steps = next_steps(&answers, "pitlane.toml");
        assert!(steps.contains("Open TCP ports"));
        assert!(!steps.contains("Motor City"));
    }

    #[test]
    fn short_or_mismatched_passwords_are_asked_again() {
        let (answers, shown) = run(
            "\n\n\nops\n",
            &[
                "short",
                "longpassword",
                "different",
                "longpassword",
                "longpassword",
            ],
        );
        assert_eq!(answers.admin, Some(("ops".into(), "longpassword".into())));
        assert!(shown.contains("at least 8"));
        assert!(shown.contains("differ"));
    }
}
