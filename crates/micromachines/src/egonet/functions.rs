//! The EgoNet functions we serve, chosen by the `X-EgoNet-Function` header,
//! and a count of calls per function for the admin dashboard.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// `LoginService.Login` (observed, spec 8.3).
    Login,
    /// `Analytics.DataEvent` (named in the community docs, never captured):
    /// telemetry the game sends and nobody needs back, so any body is
    /// accepted.
    DataEvent,
}

/// Header value → function. Read it as the table of contents of EgoNet.
const FUNCTIONS: &[(&str, Function)] = &[
    ("LoginService.Login", Function::Login),
    ("Analytics.DataEvent", Function::DataEvent),
];

impl Function {
    /// IIS matched route names case-insensitively, so we do too.
    pub fn from_header(name: &str) -> Option<Self> {
        FUNCTIONS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.trim()))
            .map(|(_, f)| *f)
    }

    pub fn name(self) -> &'static str {
        match self {
            Function::Login => "LoginService.Login",
            Function::DataEvent => "Analytics.DataEvent",
        }
    }
}

/// What a request asked for, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Called {
    Function(Function),
    /// A header naming a function we do not serve.
    Unknown,
    /// No `X-EgoNet-Function` header at all.
    Missing,
}

pub const UNKNOWN_LABEL: &str = "(unknown function)";
pub const MISSING_LABEL: &str = "(no function header)";

/// Calls per function since start-up. The set of counters is fixed, so a
/// client inventing function names cannot grow it: unknown names share one
/// counter.
#[derive(Debug, Default)]
pub struct CallCounts {
    login: AtomicU64,
    data_event: AtomicU64,
    unknown: AtomicU64,
    missing: AtomicU64,
}

impl CallCounts {
    pub fn record(&self, called: Called) {
        self.counter(called).fetch_add(1, Ordering::Relaxed);
    }

    /// Every counter, zeros included, so a dashboard shows the functions
    /// that exist even before anyone called them.
    pub fn snapshot(&self) -> BTreeMap<&'static str, u64> {
        [
            Called::Function(Function::Login),
            Called::Function(Function::DataEvent),
            Called::Unknown,
            Called::Missing,
        ]
        .into_iter()
        .map(|c| (label(c), self.counter(c).load(Ordering::Relaxed)))
        .collect()
    }

    fn counter(&self, called: Called) -> &AtomicU64 {
        match called {
            Called::Function(Function::Login) => &self.login,
            Called::Function(Function::DataEvent) => &self.data_event,
            Called::Unknown => &self.unknown,
            Called::Missing => &self.missing,
        }
    }
}

pub fn label(called: Called) -> &'static str {
    match called {
        Called::Function(f) => f.name(),
        Called::Unknown => UNKNOWN_LABEL,
        Called::Missing => MISSING_LABEL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_route_case_insensitively_and_nothing_else_does() {
        assert_eq!(
            Function::from_header("LoginService.Login"),
            Some(Function::Login)
        );
        assert_eq!(
            Function::from_header("analytics.dataevent "),
            Some(Function::DataEvent)
        );
        assert_eq!(Function::from_header("LoginService.Logout"), None);
        assert_eq!(Function::from_header(""), None);
        for (name, f) in FUNCTIONS {
            assert_eq!(f.name(), *name);
        }
    }

    #[test]
    fn counts_are_per_function_and_bounded() {
        let c = CallCounts::default();
        c.record(Called::Function(Function::Login));
        c.record(Called::Function(Function::Login));
        c.record(Called::Function(Function::DataEvent));
        for _ in 0..5 {
            c.record(Called::Unknown);
        }
        c.record(Called::Missing);
        let s = c.snapshot();
        assert_eq!(s.len(), 4);
        assert_eq!(s["LoginService.Login"], 2);
        assert_eq!(s["Analytics.DataEvent"], 1);
        assert_eq!(s[UNKNOWN_LABEL], 5);
        assert_eq!(s[MISSING_LABEL], 1);
    }
}
