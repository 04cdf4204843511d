//! The two files the client fetches before logging in.

use bytes::Bytes;
use pitlane_core::config::ServerStatusSettings;

use crate::xml::writer::escape_into;

/// `ServerStatus.xml` in the official file's exact layout (CRLF line
/// breaks, blank lines and indentation as the IIS static file had them),
/// with the operator's message and switches.
pub fn server_status_document(status: &ServerStatusSettings) -> Bytes {
    let mut message = String::new();
    escape_into(&mut message, &status.message);
    let message = message.replace('"', "&quot;");
    Bytes::from(format!(
        "<OnlineServiceStatus>\r\n\r\n  <Message display=\"{}\" localize=\"false\">\r\n    {}\r\n  </Message>\r\n  \r\n  <ServerStatus accessible=\"{}\"/>\r\n  <Egonet enabled=\"{}\"/>\r\n    \r\n</OnlineServiceStatus>\r\n",
        status.display_message, message, status.accessible, status.egonet_enabled
    ))
}

/// The CDN's answer: the name of the server environment, no newline.
pub fn cdn_document(server_type: &str) -> Bytes {
    Bytes::from(server_type.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_status_is_byte_for_byte_the_official_file() {
        let official: &[u8] = b"<OnlineServiceStatus>\r\n\r\n  <Message display=\"false\" localize=\"false\">\r\n    Server is up!\r\n  </Message>\r\n  \r\n  <ServerStatus accessible=\"true\"/>\r\n  <Egonet enabled=\"true\"/>\r\n    \r\n</OnlineServiceStatus>\r\n";
        assert_eq!(
            &server_status_document(&ServerStatusSettings::default())[..],
            official
        );
        assert_eq!(official.len(), 203);
    }

    #[test]
    fn operator_settings_show_up_escaped() {
        let doc = server_status_document(&ServerStatusSettings {
            message: "Maintenance <2h> & \"back\" soon".into(),
            display_message: true,
            accessible: false,
            egonet_enabled: false,
        });
        let text = std::str::from_utf8(&doc).unwrap();
        assert!(text.contains("display=\"true\""));
        assert!(text.contains("Maintenance &lt;2h&gt; &amp; &quot;back&quot; soon"));
        assert!(text.contains("accessible=\"false\""));
        assert!(text.contains("<Egonet enabled=\"false\"/>"));
    }
}
