//! HTTP messages as the bytes a transcript stores: request line or status
//! line, headers in the order hyper kept them, a blank line, the body.

use http::{request, response};

pub fn request(parts: &request::Parts, body: &[u8]) -> Vec<u8> {
    let target = parts
        .uri
        .path_and_query()
        .map_or_else(|| parts.uri.to_string(), |p| p.as_str().to_string());
    let mut out = format!("{} {} {:?}\r\n", parts.method, target, parts.version).into_bytes();
    headers(&mut out, &parts.headers);
    out.extend_from_slice(body);
    out
}

pub fn response(parts: &response::Parts, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{:?} {}\r\n", parts.version, parts.status).into_bytes();
    headers(&mut out, &parts.headers);
    out.extend_from_slice(body);
    out
}

fn headers(out: &mut Vec<u8>, headers: &http::HeaderMap) {
    for (name, value) in headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// An HTTP message split back into its first line, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub first_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Parsed {
    pub fn parse(bytes: &[u8]) -> Option<Parsed> {
        let end = bytes.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = std::str::from_utf8(&bytes[..end]).ok()?;
        let mut lines = head.split("\r\n");
        let first_line = lines.next()?.to_string();
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect();
        Some(Parsed {
            first_line,
            headers,
            body: bytes[end + 4..].to_vec(),
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        self.first_line.split(' ').nth(1)?.parse().ok()
    }

    /// Method and target of a request.
    pub fn method_and_target(&self) -> Option<(&str, &str)> {
        let mut words = self.first_line.split(' ');
        Some((words.next()?, words.next()?))
    }
}
