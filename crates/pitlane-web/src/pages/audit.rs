//! The audit log, newest first.

use pitlane_store::admin::AdminSession;

use crate::form::Form;
use crate::html;
use crate::respond::{Resp, WebError};
use crate::Dashboard;

const PAGE: i64 = 50;

pub async fn page(d: &Dashboard, s: &AdminSession, q: &Form) -> Result<Resp, WebError> {
    let before = q.number("before");
    let entries = d.store.audit_log().page(before, PAGE).await?;
    let mut body = html::table(
        &super::AUDIT_HEADERS,
        &super::audit_rows(&entries),
        "Nothing has been changed through the dashboard yet.",
    );
    if entries.len() as i64 == PAGE {
        if let Some(last) = entries.last() {
            body.push_str(&format!(
                "<p class=\"paging\"><a href=\"/audit?before={}\">Older entries →</a></p>",
                last.audit_id
            ));
        }
    }
    if before.is_some() {
        body.push_str("<p class=\"paging\"><a href=\"/audit\">← Newest entries</a></p>");
    }
    Ok(super::render(d, s, "Audit log", None, &body))
}
