//! A simulated Micro Machines World Series client: the calls of the Steam
//! build, in its format (pretty-printed XML with CRLF, Unity's headers).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::Method;

use crate::http::{send, unity_request, ClientError, HttpResponse};
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
    /// `/MMCOS` (Live mode) or empty (Localhost mode).
    pub prefix: &'static str,
    pub timeout: Duration,
}

impl MmwsClient {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
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
        send(self.addr, request, self.timeout).await
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
        send(self.addr, request, self.timeout).await
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
