//! A simulated Micro Machines World Series client: the calls of the Steam
//! build, in its format (pretty-printed XML with CRLF, Unity's headers).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::Method;

use crate::http::{send_via, unity_request, ClientError, HttpResponse};
use crate::xml_shape::parse;

pub const MMCOS_HOST: &str = "mmcos.codemasters.com";
pub const CDN_HOST: &str = "ecdn.codemasters.com";
pub const LOGIN_PATH: &str = "/MMCOS-Account/AccountService.svc/Login";
pub const UPDATE_TITLE_PATH: &str = "/MMCOS-Account/AccountService.svc/UpdateAccountTitle";
pub const STATUS_PATH: &str = "/MMCOS-ServerStatus/ServerStatus.xml";

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("{operation} answered {status}: {body}")]
    Status {
        operation: &'static str,
        status: u16,
        body: String,
    },
    #[error("{operation} answer is not what the game expects: {reason}")]
    Shape {
        operation: &'static str,
        reason: String,
    },
}

/// A Steam session ticket (GetAuthSessionTicket layout, 234 bytes) for
/// `steam_id`, hex-encoded with the client's `^^^^true` suffix.
pub fn steam_ticket_hex(steam_id: u64) -> String {
    let mut t = Vec::with_capacity(234);
    t.extend_from_slice(&20u32.to_le_bytes());
    t.extend_from_slice(&[0xAE, 0x00, 0x0F, 0x6C, 0x42, 0xA8, 0xB5, 0x4E]);
    t.extend_from_slice(&steam_id.to_le_bytes());
    t.extend_from_slice(&0x6558_DAD0u32.to_le_bytes());
    t.extend_from_slice(&24u32.to_le_bytes());
    t.resize(52, 0);
    t.extend_from_slice(&178u32.to_le_bytes());
    t.resize(234, 0);
    let hex: String = t.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}^^^^true")
}

/// The client's request layout: root = operation, two-space indentation,
/// CRLF, no trailing newline.
pub fn request_xml(root: &str, fields: &[(&str, String)]) -> String {
    let mut out = format!("<{root}>");
    for (name, value) in fields {
        out.push_str("\r\n  <");
        out.push_str(name);
        out.push('>');
        for c in value.chars() {
            match c {
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '&' => out.push_str("&amp;"),
                _ => out.push(c),
            }
        }
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    }
    out.push_str(&format!("\r\n</{root}>"));
    out
}

pub fn login_body(steam_id: u64, name: &str, extra_season: i64) -> String {
    request_xml(
        "Login",
        &[
            ("ProtocolVersion", "1".into()),
            ("PlatformType", "Steam".into()),
            ("PlatformID", steam_ticket_hex(steam_id)),
            ("DisplayName", name.into()),
            ("DefaultTitle", "lng_player_title_default".into()),
            ("ExtraSeason", extra_season.to_string()),
        ],
    )
}

/// What a Login gave the player.
#[derive(Debug, Clone)]
pub struct LoginOutcome {
    pub token: String,
    pub user_id: i64,
    pub user_facing_id: String,
    pub platform_id: String,
    pub points: i64,
    pub rank: i64,
    pub division: i64,
    pub season_id: i64,
    pub config_hash: i64,
    pub response: HttpResponse,
}

#[derive(Debug, Clone)]
pub struct MmwsClient {
    pub addr: SocketAddr,
    /// HTTPS with a client that trusts the server's CA, as the game does
    /// on port 443; `None` for plain HTTP.
    pub tls: Option<crate::tls::TrustingClient>,
    /// `/MMCOS` (Live mode) or empty (Localhost mode).
    pub prefix: &'static str,
    pub timeout: Duration,
}

impl MmwsClient {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            tls: None,
            prefix: "/MMCOS",
            timeout: Duration::from_secs(60),
        }
    }

    pub async fn get(&self, host: &str, path: &str) -> Result<HttpResponse, ClientError> {
        let ct = (host != CDN_HOST).then_some("application/xml");
        let request = unity_request(
            Method::GET,
            host,
            &format!("{}{path}", self.prefix),
            ct,
            &[],
            Bytes::new(),
        )?;
        send_via(self.addr, self.tls.as_ref(), request, self.timeout).await
    }

    pub async fn post(
        &self,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Result<HttpResponse, ClientError> {
        let request = unity_request(
            Method::POST,
            MMCOS_HOST,
            &format!("{}{path}", self.prefix),
            Some("application/xml"),
            &[],
            body.into(),
        )?;
        send_via(self.addr, self.tls.as_ref(), request, self.timeout).await
    }

    pub async fn cdn(&self) -> Result<HttpResponse, ClientError> {
        self.get(CDN_HOST, "/redirect_steam_submission3.txt").await
    }

    pub async fn server_status(&self) -> Result<HttpResponse, ClientError> {
        self.get(MMCOS_HOST, STATUS_PATH).await
    }

    pub async fn login(&self, steam_id: u64, name: &str) -> Result<LoginOutcome, SimError> {
        let response = self
            .post(LOGIN_PATH, login_body(steam_id, name, 45))
            .await?;
        if response.status != 200 {
            return Err(SimError::Status {
                operation: "Login",
                status: response.status.as_u16(),
                body: response.text(),
            });
        }
        let shape = |reason: String| SimError::Shape {
            operation: "Login",
            reason,
        };
        let doc = parse(&response.body).map_err(shape)?;
        let score = doc
            .child("GameInfo")
            .and_then(|g| g.child("ScoreInfo"))
            .ok_or_else(|| shape("no GameInfo/ScoreInfo".into()))?;
        let int = |e: &micromachines::xml::Element, name: &str| {
            e.required_i64(name).map_err(|err| shape(err.to_string()))
        };
        let config = doc
            .child("GameConfigurationData")
            .ok_or_else(|| shape("no GameConfigurationData".into()))?;
        Ok(LoginOutcome {
            token: doc
                .required("SessionToken")
                .map_err(|e| shape(e.to_string()))?
                .to_string(),
            user_id: int(&doc, "UserID")?,
            user_facing_id: doc
                .required("UserFacingID")
                .map_err(|e| shape(e.to_string()))?
                .to_string(),
            platform_id: doc
                .required("PlatformID")
                .map_err(|e| shape(e.to_string()))?
                .to_string(),
            points: int(score, "Points")?,
            rank: int(score, "Rank")?,
            division: int(score, "Division")?,
            season_id: int(score, "CurrentSeasonID")?,
            config_hash: int(config, "Hash")?,
            response,
        })
    }

    pub async fn update_title(
        &self,
        token: &str,
        title: &str,
    ) -> Result<HttpResponse, ClientError> {
        let body = request_xml(
            "UpdateAccountTitle",
            &[("SessionToken", token.into()), ("Title", title.into())],
        );
        self.post(UPDATE_TITLE_PATH, body).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tickets_carry_the_steam_id_where_the_server_reads_it() {
        let hex = steam_ticket_hex(76561198081105540);
        assert_eq!(hex.len(), 468 + 8);
        assert_eq!(
            micromachines::steam_ticket::steam_id_from_platform_id(&hex),
            Ok(76561198081105540)
        );
    }

    #[test]
    fn request_layout_matches_the_client() {
        assert_eq!(
            request_xml("UpdateAccountTitle", &[("SessionToken", "a".into()), ("Title", "b&".into())]),
            "<UpdateAccountTitle>\r\n  <SessionToken>a</SessionToken>\r\n  <Title>b&amp;</Title>\r\n</UpdateAccountTitle>"
        );
    }
}

pub const GET_ELITE_PATH: &str = "/MMCOS-Leaderboard/LeaderboardService.svc/GetElite";
pub const GET_FRIENDS_PATH: &str = "/MMCOS-Leaderboard/LeaderboardService.svc/GetFriends";
pub const GET_ELITE_RANK_PATH: &str = "/MMCOS-Leaderboard/LeaderboardService.svc/GetEliteRank";
pub const ENTER_MATCHMAKING_PATH: &str =
    "/MMCOS-Matchmaking/MatchmakingService.svc/EnterMatchmaking2";
pub const CANCEL_MATCHMAKING_PATH: &str =
    "/MMCOS-Matchmaking/MatchmakingService.svc/CancelMatchmaking";
pub const REGISTER_GAME_PATH: &str =
    "/MMCOS-Matchmaking/MatchmakingService.svc/RegisterActiveGameWithPlayers";
pub const ADD_POINTS_PATH: &str = "/MMCOS-GameProgression/GameProgressionService.svc/AddPoints";

/// What one EnterMatchmaking2 call asks for.
#[derive(Debug, Clone)]
pub struct Search {
    pub group_lobby_id: u64,
    pub game_lobby_id: u64,
    pub game_type: String,
    pub rule_set: String,
    pub ranking: String,
    pub group_size: u32,
    pub skill_level: u64,
    pub start_now: bool,
}

impl Search {
    /// A search shaped like the captured one (Steam lobby ids, skill level).
    pub fn new(party: u64, game_type: &str, rule_set: &str, ranking: &str) -> Self {
        Self {
            group_lobby_id: 0x0186_0000_0000_0000 | party,
            game_lobby_id: 0x0186_0000_8000_0000 | party,
            game_type: game_type.into(),
            rule_set: rule_set.into(),
            ranking: ranking.into(),
            group_size: 1,
            skill_level: 0x0FAF_0000,
            start_now: false,
        }
    }

    pub fn body(&self, token: &str) -> String {
        request_xml(
            "EnterMatchmaking2",
            &[
                ("SessionToken", token.into()),
                ("GroupLobbyId", self.group_lobby_id.to_string()),
                ("GameLobbyId", self.game_lobby_id.to_string()),
                ("NetworkVersion", "1".into()),
                ("GameType", self.game_type.clone()),
                ("GroupSize", self.group_size.to_string()),
                ("SkillLevel", self.skill_level.to_string()),
                ("RuleSet", self.rule_set.clone()),
                ("Ranking", self.ranking.clone()),
                ("IgnoreMinimumMatchRequirements", self.start_now.to_string()),
            ],
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupView {
    pub game_lobby_id: u64,
    pub group_lobby_id: u64,
    pub group_size: i64,
    pub is_host: bool,
    pub team: i64,
}

#[derive(Debug, Clone)]
pub struct MatchOutcome {
    pub race_key: String,
    pub session_id: i64,
    pub groups: Vec<GroupView>,
    pub average_wait_ranked: f64,
    pub average_wait_non_ranked: f64,
}

impl MatchOutcome {
    /// Whether this answer places the party in a race (`Team` 0 means
    /// "nothing yet").
    pub fn is_match(&self) -> bool {
        self.groups.iter().any(|g| g.team != 0)
    }

    pub fn host(&self) -> Option<&GroupView> {
        self.groups.iter().find(|g| g.is_host)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardEntry {
    pub name: String,
    pub platform_id: u64,
    pub points: i64,
    pub division: i64,
    pub user_id: i64,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Board {
    pub entries: Vec<BoardEntry>,
    pub player_rank: i64,
    pub player_score: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsOutcome {
    pub points: i64,
    pub rank: i64,
    pub old_division: i64,
    pub new_division: i64,
    pub old_season: i64,
    pub new_season: i64,
    pub bonus_points: i64,
    pub config_changed: bool,
}

fn expect_ok(
    operation: &'static str,
    response: &HttpResponse,
) -> Result<micromachines::xml::Element, SimError> {
    if response.status != 200 {
        return Err(SimError::Status {
            operation,
            status: response.status.as_u16(),
            body: response.text(),
        });
    }
    parse(&response.body).map_err(|reason| SimError::Shape { operation, reason })
}

fn field<T: std::str::FromStr>(
    operation: &'static str,
    e: &micromachines::xml::Element,
    name: &str,
) -> Result<T, SimError> {
    e.required(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| SimError::Shape {
            operation,
            reason: format!("missing or bad <{name}>"),
        })
}

impl MmwsClient {
    pub async fn enter_matchmaking(
        &self,
        token: &str,
        search: &Search,
    ) -> Result<MatchOutcome, SimError> {
        const OP: &str = "EnterMatchmaking2";
        let response = self
            .post(ENTER_MATCHMAKING_PATH, search.body(token))
            .await?;
        let doc = expect_ok(OP, &response)?;
        let groups = doc
            .child("Groups")
            .map(|g| g.children_named("MatchmakingGroup").collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|g| {
                Ok(GroupView {
                    game_lobby_id: field(OP, g, "GameLobbyId")?,
                    group_lobby_id: field(OP, g, "GroupLobbyId")?,
                    group_size: field(OP, g, "GroupSize")?,
                    is_host: field(OP, g, "IsHost")?,
                    team: field(OP, g, "Team")?,
                })
            })
            .collect::<Result<Vec<_>, SimError>>()?;
        Ok(MatchOutcome {
            race_key: field(OP, &doc, "RaceKey")?,
            session_id: field(OP, &doc, "SessionId")?,
            groups,
            average_wait_ranked: field(OP, &doc, "AverageWaitTimeRanked")?,
            average_wait_non_ranked: field(OP, &doc, "AverageWaitTimeNonRanked")?,
        })
    }

    /// Polls like the game: a new game lobby each call, until placed in a
    /// race or `max_polls` answers said "nothing yet".
    pub async fn search_until_matched(
        &self,
        token: &str,
        search: &Search,
        max_polls: usize,
    ) -> Result<Option<MatchOutcome>, SimError> {
        let mut search = search.clone();
        for _ in 0..max_polls {
            let outcome = self.enter_matchmaking(token, &search).await?;
            if outcome.is_match() {
                return Ok(Some(outcome));
            }
            search.game_lobby_id += 0x1_0000;
        }
        Ok(None)
    }

    pub async fn cancel_matchmaking(
        &self,
        token: &str,
        group_lobby_id: u64,
    ) -> Result<HttpResponse, ClientError> {
        let body = request_xml(
            "CancelMatchmaking",
            &[
                ("SessionToken", token.into()),
                ("GroupLobbyId", group_lobby_id.to_string()),
            ],
        );
        self.post(CANCEL_MATCHMAKING_PATH, body).await
    }

    pub async fn register_game(
        &self,
        token: &str,
        race_key: &str,
        platform_ids: &[u64],
        seconds: i64,
    ) -> Result<HttpResponse, ClientError> {
        let ids: Vec<String> = platform_ids.iter().map(u64::to_string).collect();
        let body = request_xml(
            "RegisterActiveGameWithPlayers",
            &[
                ("SessionToken", token.into()),
                ("RaceKey", race_key.into()),
                ("HostPlatformID", "x".into()),
                ("GameLobbyId", "x".into()),
                ("NetworkVersion", "1".into()),
                ("GameType", "x".into()),
                ("RuleSet", "Race".into()),
                ("Ranking", "Ranked".into()),
                ("Team1Size", "0".into()),
                ("Team2Size", "0".into()),
                ("SecondsItTookToMatchmake", seconds.to_string()),
                ("PlatformIDs", ids.join(",")),
            ],
        );
        self.post(REGISTER_GAME_PATH, body).await
    }

    pub async fn add_points_raw(
        &self,
        token: &str,
        race_key: &str,
        points: i64,
        level: i64,
        prestige: i64,
    ) -> Result<HttpResponse, ClientError> {
        let body = request_xml(
            "AddPoints",
            &[
                ("SessionToken", token.into()),
                ("RaceKey", race_key.into()),
                ("Points", points.to_string()),
                ("Level", level.to_string()),
                ("Prestige", prestige.to_string()),
            ],
        );
        self.post(ADD_POINTS_PATH, body).await
    }

    pub async fn add_points(
        &self,
        token: &str,
        race_key: &str,
        points: i64,
    ) -> Result<PointsOutcome, SimError> {
        const OP: &str = "AddPoints";
        let response = self.add_points_raw(token, race_key, points, 10, 1).await?;
        let doc = expect_ok(OP, &response)?;
        Ok(PointsOutcome {
            points: field(OP, &doc, "Points")?,
            rank: field(OP, &doc, "Rank")?,
            old_division: field(OP, &doc, "OldDivision")?,
            new_division: field(OP, &doc, "NewDivision")?,
            old_season: field(OP, &doc, "OldSeason")?,
            new_season: field(OP, &doc, "NewSeason")?,
            bonus_points: field(OP, &doc, "BonusPoints")?,
            config_changed: field(OP, &doc, "GameConfigChanged")?,
        })
    }

    async fn board(
        &self,
        operation: &'static str,
        path: &str,
        body: String,
    ) -> Result<Board, SimError> {
        let response = self.post(path, body).await?;
        let doc = expect_ok(operation, &response)?;
        let entries = doc
            .child("Entries")
            .map(|e| e.children_named("LeaderboardEntry").collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter()
            .map(|e| {
                Ok(BoardEntry {
                    name: field(operation, e, "Name")?,
                    platform_id: field(operation, e, "PlatformID")?,
                    points: field(operation, e, "Points")?,
                    division: field(operation, e, "Division")?,
                    user_id: field(operation, e, "UserID")?,
                    title: field(operation, e, "Title")?,
                })
            })
            .collect::<Result<Vec<_>, SimError>>()?;
        Ok(Board {
            entries,
            player_rank: field(operation, &doc, "PlayerRank")?,
            player_score: field(operation, &doc, "PlayerScore")?,
        })
    }

    pub async fn get_elite(&self, token: &str, start: i64, count: i64) -> Result<Board, SimError> {
        let body = request_xml(
            "GetElite",
            &[
                ("SessionToken", token.into()),
                ("StartRank", start.to_string()),
                ("NumResults", count.to_string()),
            ],
        );
        self.board("GetElite", GET_ELITE_PATH, body).await
    }

    pub async fn get_elite_rank(&self, token: &str, count: i64) -> Result<Board, SimError> {
        let body = request_xml(
            "GetEliteRank",
            &[
                ("SessionToken", token.into()),
                ("NumResults", count.to_string()),
            ],
        );
        self.board("GetEliteRank", GET_ELITE_RANK_PATH, body).await
    }

    pub async fn get_friends(
        &self,
        token: &str,
        friends: &[u64],
        max: i64,
    ) -> Result<Board, SimError> {
        let mut body =
            format!("<GetFriends>\r\n  <SessionToken>{token}</SessionToken>\r\n  <PlatformIds>");
        for id in friends {
            body.push_str(&format!(
                "\r\n    <PlatformIdEntry>\r\n      <PlatformId>{id}</PlatformId>\r\n    </PlatformIdEntry>"
            ));
        }
        body.push_str(&format!(
            "\r\n  </PlatformIds>\r\n  <MaxEntries>{max}</MaxEntries>\r\n</GetFriends>"
        ));
        self.board("GetFriends", GET_FRIENDS_PATH, body).await
    }
}
