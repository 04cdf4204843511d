use std::fmt::Write;

use super::auth::one_line;

/// Path the client fetches (registry `ShardUrl`).
pub const SHARD_LIST_PATH: &str = "/ShardList/";

/// One shard (game world) in the ShardList (accepted).
///
/// Hosts are what the client connects to, so they must be this server's
/// address as the players reach it, never a bind address like 0.0.0.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardEntry {
    /// Section name in brackets, shown in the shard picker.
    pub name: String,
    /// `Description`.
    pub description: String,
    /// `ShardId`; the client sends it back in 0x503.
    pub shard_id: u32,
    /// `LoginServerIP`.
    pub login_host: String,
    /// `LoginServerPort` (8226).
    pub login_port: u16,
    /// `LobbyServerIP`.
    pub lobby_host: String,
    /// `LobbyServerPort` (7003).
    pub lobby_port: u16,
    /// `MCOTSServerIP` (its port, 43300, is fixed in the client).
    pub mcots_host: String,
    /// `StatusId`; 0 worked, other values are unknown.
    pub status_id: u32,
    /// `Status_Reason`.
    pub status_reason: String,
    /// `ServerGroup_Name`.
    pub server_group: String,
    /// `Population`: players online now.
    pub population: u32,
    /// `MaxPersonasPerUser`.
    pub max_personas_per_user: u32,
    /// `DiagnosticServerHost`.
    pub diagnostic_host: String,
    /// `DiagnosticServerPort`.
    pub diagnostic_port: u16,
}

impl ShardEntry {
    /// A shard served entirely from `host`, with the ports and values of the
    /// accepted shard list.
    pub fn new(name: &str, shard_id: u32, host: &str) -> ShardEntry {
        ShardEntry {
            name: name.to_string(),
            description: name.to_string(),
            shard_id,
            login_host: host.to_string(),
            login_port: 8226,
            lobby_host: host.to_string(),
            lobby_port: 7003,
            mcots_host: host.to_string(),
            status_id: 0,
            status_reason: String::new(),
            server_group: "Group-1".to_string(),
            population: 0,
            max_personas_per_user: 2,
            diagnostic_host: host.to_string(),
            diagnostic_port: 80,
        }
    }
}

/// The ShardList document: one INI-like section per shard, keys indented by
/// a tab, in the order of the accepted list, sections separated by a blank
/// line. Brackets and line breaks inside values are neutralised so that a
/// configured name cannot open a section or key of its own.
pub fn render_shard_list(shards: &[ShardEntry]) -> String {
    let mut out = String::new();
    for (i, shard) in shards.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let name: String = one_line(&shard.name)
            .chars()
            .map(|c| if c == '[' || c == ']' { ' ' } else { c })
            .collect();
        let _ = writeln!(out, "[{name}]");
        let fields: [(&str, String); 14] = [
            ("Description", one_line(&shard.description)),
            ("ShardId", shard.shard_id.to_string()),
            ("LoginServerIP", one_line(&shard.login_host)),
            ("LoginServerPort", shard.login_port.to_string()),
            ("LobbyServerIP", one_line(&shard.lobby_host)),
            ("LobbyServerPort", shard.lobby_port.to_string()),
            ("MCOTSServerIP", one_line(&shard.mcots_host)),
            ("StatusId", shard.status_id.to_string()),
            ("Status_Reason", one_line(&shard.status_reason)),
            ("ServerGroup_Name", one_line(&shard.server_group)),
            ("Population", shard.population.to_string()),
            (
                "MaxPersonasPerUser",
                shard.max_personas_per_user.to_string(),
            ),
            ("DiagnosticServerHost", one_line(&shard.diagnostic_host)),
            ("DiagnosticServerPort", shard.diagnostic_port.to_string()),
        ];
        for (key, value) in fields {
            let _ = writeln!(out, "\t{key}={value}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_accepted_layout() {
        let mut shard = ShardEntry::new("The Clocktower", 44, "mco.example");
        shard.population = 88;
        let expected = "[The Clocktower]\n\
            \tDescription=The Clocktower\n\
            \tShardId=44\n\
            \tLoginServerIP=mco.example\n\
            \tLoginServerPort=8226\n\
            \tLobbyServerIP=mco.example\n\
            \tLobbyServerPort=7003\n\
            \tMCOTSServerIP=mco.example\n\
            \tStatusId=0\n\
            \tStatus_Reason=\n\
            \tServerGroup_Name=Group-1\n\
            \tPopulation=88\n\
            \tMaxPersonasPerUser=2\n\
            \tDiagnosticServerHost=mco.example\n\
            \tDiagnosticServerPort=80\n";
        assert_eq!(render_shard_list(&[shard]), expected);
    }

    #[test]
    fn sections_are_separated_and_values_cannot_inject() {
        let a = ShardEntry::new("A", 1, "h");
        let b = ShardEntry::new("B]\n[C", 2, "h\nShardId=9");
        let text = render_shard_list(&[a, b]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.iter().filter(|l| l.starts_with('[')).count(), 2);
        assert_eq!(
            lines.iter().filter(|l| l.starts_with("\tShardId=")).count(),
            2
        );
        assert_eq!(lines.len(), 2 * 15 + 1);
        assert!(text.contains("\n\n[B"));
    }
}
