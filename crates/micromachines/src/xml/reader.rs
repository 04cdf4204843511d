//! Parsing the client's requests: hand-built, pretty-printed XML with CRLF
//! line breaks and the client's own element order. Requests are read into a
//! small tree and fields are looked up by name, never by position. Depth and
//! element count are bounded so a hostile body cannot make us allocate
//! without limit; DTDs are refused outright.

use quick_xml::events::Event;
use quick_xml::Reader;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    pub max_depth: usize,
    pub max_elements: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        Self {
            max_depth: 16,
            max_elements: 20_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the body is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the body is empty")]
    Empty,
    #[error("the XML is nested deeper than {0} levels")]
    TooDeep(usize),
    #[error("the XML has more than {0} elements")]
    TooManyElements(usize),
    #[error("document type declarations are not accepted")]
    Doctype,
    #[error("expected root element <{expected}>, found <{found}>")]
    WrongRoot { expected: String, found: String },
    #[error("missing element <{0}>")]
    Missing(String),
    #[error("element <{name}> has value {value:?}, expected {expected}")]
    BadValue {
        name: String,
        value: String,
        expected: &'static str,
    },
}

/// One element: its local name, its text (concatenated, untrimmed) and its
/// child elements in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn parse(body: &[u8], limits: ParseLimits) -> Result<Element, XmlError> {
        let mut reader = Reader::from_reader(body);
        reader.config_mut().trim_text(false);
        let mut stack: Vec<Element> = Vec::new();
        let mut root: Option<Element> = None;
        let mut count = 0usize;
        let mut buf = Vec::new();
        loop {
            let event = reader
                .read_event_into(&mut buf)
                .map_err(|e| XmlError::Malformed(e.to_string()))?;
            match event {
                Event::Start(ref start) | Event::Empty(ref start) => {
                    if root.is_some() {
                        return Err(XmlError::Malformed("content after the root element".into()));
                    }
                    count += 1;
                    if count > limits.max_elements {
                        return Err(XmlError::TooManyElements(limits.max_elements));
                    }
                    if stack.len() >= limits.max_depth {
                        return Err(XmlError::TooDeep(limits.max_depth));
                    }
                    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
                    let element = Element {
                        name,
                        ..Default::default()
                    };
                    if matches!(event, Event::Empty(_)) {
                        attach(&mut stack, &mut root, element);
                    } else {
                        stack.push(element);
                    }
                }
                Event::End(_) => {
                    let element = stack
                        .pop()
                        .ok_or_else(|| XmlError::Malformed("unexpected closing tag".into()))?;
                    attach(&mut stack, &mut root, element);
                }
                Event::Text(text) => {
                    let value = text
                        .unescape()
                        .map_err(|e| XmlError::Malformed(e.to_string()))?;
                    match stack.last_mut() {
                        Some(top) => top.text.push_str(&value),
                        None if value.trim().is_empty() => {}
                        None => {
                            return Err(XmlError::Malformed("text outside the root element".into()))
                        }
                    }
                }
                Event::CData(data) => match stack.last_mut() {
                    Some(top) => top.text.push_str(&String::from_utf8_lossy(&data)),
                    None => {
                        return Err(XmlError::Malformed("CDATA outside the root element".into()))
                    }
                },
                Event::DocType(_) => return Err(XmlError::Doctype),
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        if !stack.is_empty() {
            return Err(XmlError::Malformed(
                "unclosed element at end of body".into(),
            ));
        }
        root.ok_or(XmlError::Empty)
    }

    /// Parses and checks the root element's name (the operation's name).
    pub fn parse_root(body: &[u8], root: &str, limits: ParseLimits) -> Result<Element, XmlError> {
        let element = Self::parse(body, limits)?;
        if element.name != root {
            return Err(XmlError::WrongRoot {
                expected: root.into(),
                found: element.name,
            });
        }
        Ok(element)
    }

    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of a required child.
    pub fn required(&self, name: &str) -> Result<&str, XmlError> {
        self.child(name)
            .map(|c| c.text.trim())
            .ok_or_else(|| XmlError::Missing(name.into()))
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    pub fn required_i64(&self, name: &str) -> Result<i64, XmlError> {
        let text = self.required(name)?;
        text.parse().map_err(|_| bad(name, text, "an integer"))
    }

    pub fn required_u64(&self, name: &str) -> Result<u64, XmlError> {
        let text = self.required(name)?;
        text.parse()
            .map_err(|_| bad(name, text, "an unsigned integer"))
    }

    pub fn required_bool(&self, name: &str) -> Result<bool, XmlError> {
        let text = self.required(name)?;
        match text {
            "true" | "True" | "1" => Ok(true),
            "false" | "False" | "0" => Ok(false),
            _ => Err(bad(name, text, "true or false")),
        }
    }
}

fn bad(name: &str, value: &str, expected: &'static str) -> XmlError {
    XmlError::BadValue {
        name: name.into(),
        value: value.chars().take(64).collect(),
        expected,
    }
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGIN: &str = "<Login>\r\n  <ProtocolVersion>1</ProtocolVersion>\r\n  <DisplayName>Jiggl'O &amp; Łukasz</DisplayName>\r\n  <Empty/>\r\n</Login>";

    #[test]
    fn reads_the_clients_pretty_printed_xml() {
        let e = Element::parse_root(LOGIN.as_bytes(), "Login", ParseLimits::default()).unwrap();
        assert_eq!(e.required_i64("ProtocolVersion").unwrap(), 1);
        assert_eq!(e.required("DisplayName").unwrap(), "Jiggl'O & Łukasz");
        assert_eq!(e.required("Empty").unwrap(), "");
        assert_eq!(
            e.required("Nope").unwrap_err(),
            XmlError::Missing("Nope".into())
        );
    }

    #[test]
    fn refuses_what_is_not_a_request() {
        let limits = ParseLimits::default();
        assert!(matches!(Element::parse(b"", limits), Err(XmlError::Empty)));
        assert!(matches!(
            Element::parse(b"<a><b></a>", limits),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(
            Element::parse(b"<a>", limits),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(
            Element::parse(b"<a/><b/>", limits),
            Err(XmlError::Malformed(_))
        ));
        assert!(matches!(
            Element::parse(b"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", limits),
            Err(XmlError::Doctype)
        ));
        assert!(matches!(
            Element::parse_root(b"<Other/>", "Login", limits),
            Err(XmlError::WrongRoot { .. })
        ));
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(matches!(
            Element::parse(deep.as_bytes(), limits),
            Err(XmlError::TooDeep(16))
        ));
        let wide = format!("<a>{}</a>", "<b/>".repeat(30));
        let small = ParseLimits {
            max_depth: 4,
            max_elements: 10,
        };
        assert!(matches!(
            Element::parse(wide.as_bytes(), small),
            Err(XmlError::TooManyElements(10))
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = Element::parse(&bytes, ParseLimits::default());
        }

        #[test]
        fn text_round_trips_through_escaping(text in "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\r]{0,40}") {
            let mut escaped = String::new();
            crate::xml::writer::escape_into(&mut escaped, &text);
            let doc = format!("<R><V>{escaped}</V></R>");
            let e = Element::parse(doc.as_bytes(), ParseLimits::default()).unwrap();
            proptest::prop_assert_eq!(&e.child("V").unwrap().text, &text);
        }
    }
}
