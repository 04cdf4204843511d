//! Structural comparison of XML documents: element names and order, nil
//! markers and namespace declarations, with text left out. Used to hold our
//! responses to the official ones where values are per-player or per-time.

use micromachines::xml::{Element, ParseLimits};
use quick_xml::events::Event;
use quick_xml::Reader;

/// One line per element: its path, attributes that carry structure
/// (`i:nil`, `xmlns:*`), and whether it has text.
pub fn shape(xml: &[u8]) -> Result<Vec<String>, String> {
    let mut reader = Reader::from_reader(xml);
    let mut path: Vec<String> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut buf = Vec::new();
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|e| e.to_string())?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                let mut attrs: Vec<String> = e
                    .attributes()
                    .filter_map(|a| a.ok())
                    .map(|a| {
                        format!(
                            "{}={}",
                            String::from_utf8_lossy(a.key.as_ref()),
                            String::from_utf8_lossy(&a.value)
                        )
                    })
                    .collect();
                attrs.sort();
                path.push(name);
                lines.push(format!("{} [{}]", path.join("/"), attrs.join(" ")));
                if matches!(event, Event::Empty(_)) {
                    path.pop();
                }
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    Ok(lines)
}

/// Parses a document with the server's own reader (for field access).
pub fn parse(xml: &[u8]) -> Result<Element, String> {
    Element::parse(
        xml,
        ParseLimits {
            max_depth: 32,
            max_elements: 1_000_000,
        },
    )
    .map_err(|e| e.to_string())
}

/// [`shape`] with repeated lines kept once: lists of different lengths
/// (a 100-row leaderboard against a 3-row one) compare equal when their
/// items have the same structure.
pub fn shape_of_items(xml: &[u8]) -> Result<Vec<String>, String> {
    let mut seen = std::collections::HashSet::new();
    Ok(shape(xml)?
        .into_iter()
        .filter(|line| seen.insert(line.clone()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_ignores_text_but_not_structure() {
        let a = shape(b"<R xmlns:i=\"x\"><A>1</A><B i:nil=\"true\"/></R>").unwrap();
        let b = shape(b"<R xmlns:i=\"x\"><A>2</A><B i:nil=\"true\"/></R>").unwrap();
        let c = shape(b"<R xmlns:i=\"x\"><A>2</A><B>3</B></R>").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, vec!["R [xmlns:i=x]", "R/A []", "R/B [i:nil=true]"]);
    }
}
