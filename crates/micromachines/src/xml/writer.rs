//! Output in the shape of .NET's DataContractSerializer, which the official
//! server used: no declaration, no whitespace, one `xmlns:i` declaration on
//! the root, members in ordinal alphabetical order (the contract types here
//! call the writer in that order), `<X i:nil="true"/>` for null, string
//! lists in the Arrays namespace declared on each list.

use chrono::{DateTime, Timelike, Utc};

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
const ARRAYS: &str = "http://schemas.microsoft.com/2003/10/Serialization/Arrays";

/// A data contract: a type whose members are written in the official order.
pub trait Contract {
    /// Writes the members (not the enclosing element).
    fn write_members(&self, w: &mut XmlWriter);
}

#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn with_capacity(n: usize) -> Self {
        Self {
            out: String::with_capacity(n),
        }
    }

    /// A whole document whose root element is `root`.
    pub fn document<C: Contract + ?Sized>(root: &str, value: &C) -> String {
        let mut w = XmlWriter::with_capacity(512);
        w.open_root(root);
        value.write_members(&mut w);
        w.close_root(root);
        w.out
    }

    /// The root element's opening tag, with the document's one namespace
    /// declaration: for a document written in parts.
    pub fn open_root(&mut self, root: &str) {
        self.out.push('<');
        self.out.push_str(root);
        self.out.push_str(" xmlns:i=\"");
        self.out.push_str(XSI);
        self.out.push_str("\">");
    }

    /// The root element's closing tag (see [`XmlWriter::open_root`]).
    pub fn close_root(&mut self, root: &str) {
        self.close(root);
    }

    pub fn into_string(self) -> String {
        self.out
    }

    /// Appends already-serialised members (a pre-built block).
    pub fn raw(&mut self, xml: &str) {
        self.out.push_str(xml);
    }

    fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    pub fn nil(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" i:nil=\"true\"/>");
    }

    pub fn text(&mut self, name: &str, value: &str) {
        self.open(name);
        escape_into(&mut self.out, value);
        self.close(name);
    }

    pub fn opt_text(&mut self, name: &str, value: Option<&str>) {
        match value {
            Some(v) => self.text(name, v),
            None => self.nil(name),
        }
    }

    pub fn int(&mut self, name: &str, value: i64) {
        self.open(name);
        self.out.push_str(&value.to_string());
        self.close(name);
    }

    pub fn uint(&mut self, name: &str, value: u64) {
        self.open(name);
        self.out.push_str(&value.to_string());
        self.close(name);
    }

    pub fn bool(&mut self, name: &str, value: bool) {
        self.open(name);
        self.out.push_str(if value { "true" } else { "false" });
        self.close(name);
    }

    /// `decimal` in its shortest form (`84.2`, `1.5`, `0`).
    pub fn decimal(&mut self, name: &str, value: f64) {
        self.open(name);
        self.out.push_str(&format_decimal(value));
        self.close(name);
    }

    pub fn datetime(&mut self, name: &str, value: DateTime<Utc>) {
        self.open(name);
        self.out.push_str(&format_datetime(value));
        self.close(name);
    }

    /// A nested data contract.
    pub fn object<C: Contract + ?Sized>(&mut self, name: &str, value: &C) {
        self.open(name);
        value.write_members(self);
        self.close(name);
    }

    pub fn opt_object<C: Contract>(&mut self, name: &str, value: Option<&C>) {
        match value {
            Some(v) => self.object(name, v),
            None => self.nil(name),
        }
    }

    /// A list of contracts: `<Name><Item>..</Item>..</Name>`, or `<Name/>`
    /// when empty.
    pub fn list<C: Contract>(&mut self, name: &str, item: &str, values: &[C]) {
        if values.is_empty() {
            self.out.push('<');
            self.out.push_str(name);
            self.out.push_str("/>");
            return;
        }
        self.open(name);
        for v in values {
            self.object(item, v);
        }
        self.close(name);
    }

    /// A `string[]` member, with the Arrays namespace on the list itself.
    pub fn strings<S: AsRef<str>>(&mut self, name: &str, values: &[S]) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" xmlns:a=\"");
        self.out.push_str(ARRAYS);
        if values.is_empty() {
            self.out.push_str("\"/>");
            return;
        }
        self.out.push_str("\">");
        for v in values {
            self.text("a:string", v.as_ref());
        }
        self.close(name);
    }
}

/// Only `<`, `>` and `&` are escaped in text, as the official output did
/// (apostrophes, quotes and non-ASCII travel raw).
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            _ => out.push(c),
        }
    }
}

pub fn format_decimal(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".into();
    }
    format!("{value}")
}

/// `2023-11-18T00:00:00Z`; fractional seconds only when present, up to the
/// 7 digits .NET keeps, trailing zeros dropped.
pub fn format_datetime(value: DateTime<Utc>) -> String {
    let base = value.format("%Y-%m-%dT%H:%M:%S").to_string();
    let ticks = value.nanosecond() / 100;
    if ticks == 0 {
        return format!("{base}Z");
    }
    let fraction = format!("{ticks:07}");
    format!("{base}.{}Z", fraction.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Sample;
    impl Contract for Sample {
        fn write_members(&self, w: &mut XmlWriter) {
            w.nil("Error");
            w.text("Name", "Jiggl'O <&> Łukasz™");
            w.strings("Empty", &[] as &[&str]);
            w.strings("Levels", &["a", "b"]);
            w.list::<Sample2>("Mutators", "PlaylistMutator", &[]);
            w.decimal("D", 1.5);
            w.decimal("Z", 0.0);
            w.int("Hash", -1647532852);
        }
    }
    struct Sample2;
    impl Contract for Sample2 {
        fn write_members(&self, _: &mut XmlWriter) {}
    }

    #[test]
    fn writes_the_wcf_shapes() {
        assert_eq!(
            XmlWriter::document("Root", &Sample),
            "<Root xmlns:i=\"http://www.w3.org/2001/XMLSchema-instance\"><Error i:nil=\"true\"/>\
             <Name>Jiggl'O &lt;&amp;&gt; Łukasz™</Name>\
             <Empty xmlns:a=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\"/>\
             <Levels xmlns:a=\"http://schemas.microsoft.com/2003/10/Serialization/Arrays\"><a:string>a</a:string><a:string>b</a:string></Levels>\
             <Mutators/><D>1.5</D><Z>0</Z><Hash>-1647532852</Hash></Root>"
        );
    }

    #[test]
    fn datetimes_drop_zero_fractions() {
        let t = DateTime::parse_from_rfc3339("2023-11-18T00:00:00Z")
            .unwrap()
            .to_utc();
        assert_eq!(format_datetime(t), "2023-11-18T00:00:00Z");
        let t = DateTime::parse_from_rfc3339("2023-11-18T00:00:00.1234567Z")
            .unwrap()
            .to_utc();
        assert_eq!(format_datetime(t), "2023-11-18T00:00:00.1234567Z");
        let t = DateTime::parse_from_rfc3339("2023-11-18T00:00:00.5Z")
            .unwrap()
            .to_utc();
        assert_eq!(format_datetime(t), "2023-11-18T00:00:00.5Z");
    }

    #[test]
    fn decimals_are_shortest() {
        assert_eq!(format_decimal(84.2), "84.2");
        assert_eq!(format_decimal(85.3), "85.3");
        assert_eq!(format_decimal(-0.0), "0");
        assert_eq!(format_decimal(12.0), "12");
    }
}
