//! A simulated EgoNet client: the binary calls the Steam build makes to
//! `prod.egonet.codemasters.com`, with its headers and `vdic` bodies, and
//! the answers decoded so a test or `doctor` can say what went wrong.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use micromachines::egonet::vdic::{Dict, Value, VdicError};

use crate::http::{send_via, unity_request, ClientError, HttpResponse};
use crate::mmws::SimError;

pub const EGONET_HOST: &str = "prod.egonet.codemasters.com";
pub const EGONET_PATH: &str = "/MicroMachines/STEAM/1.0/";
pub const CONTENT_TYPE: &str = "application/egonet-stream";
pub const LOGIN_FUNCTION: &str = "LoginService.Login";
pub const DATA_EVENT_FUNCTION: &str = "Analytics.DataEvent";

const OPERATION: &str = "EgoNet";

/// A decoded EgoNet answer.
#[derive(Debug, Clone)]
pub struct EgoNetAnswer {
    /// `X-EgoNet-Result`: 0 is success.
    pub result: u32,
    pub session_id: Option<String>,
    pub dict: Dict,
    pub response: HttpResponse,
}

/// What a successful `LoginService.Login` handed out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EgoNetIds {
    pub principal_id: i64,
    pub name: String,
    pub steam_id: u64,
    pub account_ref: i64,
}

impl EgoNetAnswer {
    pub fn is_success(&self) -> bool {
        self.result == 0
    }

    /// The ids of a login answer; `None` if the answer lacks one of them.
    pub fn login_ids(&self) -> Option<EgoNetIds> {
        Some(EgoNetIds {
            principal_id: self.dict.i64("PrincipalId")?,
            name: self.dict.str("Name")?.to_string(),
            steam_id: self.dict.u64("SteamId")?,
            account_ref: self.dict.i64("AccountRef")?,
        })
    }
}

/// The login request as the game builds it: `Name`, then `SteamTicket`.
pub fn login_request(name: &str, ticket: &[u8]) -> Result<Vec<u8>, VdicError> {
    let mut d = Dict::new();
    d.insert("Name", Value::Str(name.to_string()))?;
    d.insert("SteamTicket", Value::Blob(ticket.to_vec()))?;
    Ok(d.encode())
}

/// A 126-byte stand-in for Steam's encrypted app ticket, laid out like the
/// captured ones (protobuf fields 1 = 1, 2 = a 5-byte varint, 3 = 0,
/// 4 = 58, 5 = 112 opaque bytes). Servers cannot read the real thing, so
/// only the shape matters; `seed` makes tickets differ between players.
pub fn app_ticket(seed: u32) -> Vec<u8> {
    let mut t = vec![0x08, 0x01, 0x10];
    let mut crc = u64::from(seed & 0x0FFF_FFFF) | 0x1000_0000;
    while crc >= 0x80 {
        t.push((crc as u8 & 0x7F) | 0x80);
        crc >>= 7;
    }
    t.push(crc as u8);
    t.extend_from_slice(&[0x18, 0x00, 0x20, 0x3A, 0x2A, 0x70]);
    let mut x = u64::from(seed) ^ 0x9E37_79B9_7F4A_7C15;
    while t.len() < 126 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        t.push(x as u8);
    }
    t
}

#[derive(Debug, Clone)]
pub struct EgoNetClient {
    pub addr: SocketAddr,
    pub timeout: Duration,
    /// HTTPS as the game uses it; `None` for plain HTTP.
    pub tls: Option<crate::tls::TrustingClient>,
}

impl EgoNetClient {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            // The game gives up on EgoNet after about 15 s (spec 9).
            timeout: Duration::from_secs(15),
            tls: None,
        }
    }

    /// One POST with the game's headers; `function: None` leaves out
    /// `X-EgoNet-Function`. The raw answer, whatever it is.
    pub async fn post(
        &self,
        function: Option<&str>,
        extra: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<HttpResponse, ClientError> {
        let mut headers: Vec<(&str, &str)> = Vec::new();
        if let Some(f) = function {
            headers.push(("X-EgoNet-Function", f));
        }
        headers.extend_from_slice(extra);
        let request = unity_request(
            Method::POST,
            EGONET_HOST,
            EGONET_PATH,
            Some(CONTENT_TYPE),
            &headers,
            body.into(),
        )?;
        send_via(self.addr, self.tls.as_ref(), request, self.timeout).await
    }

    /// A call whose answer must be in EgoNet's form (200, a numeric
    /// `X-EgoNet-Result`, a `vdic` body), whatever the result says.
    pub async fn call(
        &self,
        function: Option<&str>,
        body: impl Into<Bytes>,
    ) -> Result<EgoNetAnswer, SimError> {
        let response = self.post(function, &[], body).await?;
        decode_answer(response)
    }

    pub async fn login(&self, name: &str, ticket: &[u8]) -> Result<EgoNetAnswer, SimError> {
        let body = login_request(name, ticket).map_err(|e| SimError::Shape {
            operation: OPERATION,
            reason: format!("cannot build the login request: {e}"),
        })?;
        self.call(Some(LOGIN_FUNCTION), body).await
    }

    pub async fn data_event(&self, event: &Dict) -> Result<EgoNetAnswer, SimError> {
        self.call(Some(DATA_EVENT_FUNCTION), event.encode()).await
    }
}

/// Checks that an answer is in EgoNet's form and decodes it.
pub fn decode_answer(response: HttpResponse) -> Result<EgoNetAnswer, SimError> {
    let shape = |reason: String| SimError::Shape {
        operation: OPERATION,
        reason,
    };
    if response.status != 200 {
        return Err(SimError::Status {
            operation: OPERATION,
            status: response.status.as_u16(),
            body: response.text(),
        });
    }
    let result = response
        .headers
        .get("x-egonet-result")
        .ok_or_else(|| shape("no X-EgoNet-Result header".into()))?
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .ok_or_else(|| shape("X-EgoNet-Result is not a number".into()))?;
    let session_id = response
        .headers
        .get("x-egonet-sessionid")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let dict = Dict::decode(&response.body).map_err(|e| shape(format!("body: {e}")))?;
    Ok(EgoNetAnswer {
        result,
        session_id,
        dict,
        response,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_have_the_captured_shape() {
        for seed in [0, 1, 0xFFFF_FFFF] {
            let t = app_ticket(seed);
            assert_eq!(t.len(), 126);
            assert_eq!(&t[..3], &[0x08, 0x01, 0x10]);
            assert_eq!(&t[8..14], &[0x18, 0x00, 0x20, 0x3A, 0x2A, 0x70]);
        }
        assert_ne!(app_ticket(1), app_ticket(2));
    }

    #[test]
    fn login_requests_have_the_captured_layout() {
        let body = login_request("Heatray", &app_ticket(7)).unwrap();
        assert_eq!(body.len(), 174, "the captured request is 174 bytes");
        let d = Dict::decode(&body).unwrap();
        assert_eq!(d.keys().collect::<Vec<_>>(), ["Name", "SteamTicket"]);
    }
}
