//! Request metrics of the game listeners, kept in memory: totals since
//! start for `/metrics` (Prometheus computes rates itself), and a ring of
//! per-second buckets for the dashboard's "requests per second" and "error
//! rate" without a time-series database.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Seconds of per-second history kept: the overview's chart.
pub const HISTORY_SECS: usize = 300;

/// Upper bounds (seconds) of the latency histogram. Matchmaking long polls
/// are held up to 25 s by design, hence the long tail.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 90.0,
];

/// Requests and errors (status 500 and above) within one second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Second {
    pub requests: u64,
    pub errors: u64,
}

#[derive(Debug)]
struct Ring {
    /// For each slot, the second (since start) it holds, and its counts.
    slots: Vec<(u64, Second)>,
}

#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// Responses by status class: index 0 = 1xx ... 4 = 5xx.
    by_class: [AtomicU64; 5],
    /// Non-cumulative counts per latency bucket; the last slot is +Inf.
    latency: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_micros_sum: AtomicU64,
    ring: Mutex<Ring>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            by_class: Default::default(),
            latency: Default::default(),
            latency_micros_sum: AtomicU64::new(0),
            ring: Mutex::new(Ring {
                slots: vec![(u64::MAX, Second::default()); HISTORY_SECS],
            }),
        }
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Called once per answered request by the game listeners.
    pub fn record(&self, status: u16, elapsed: Duration) {
        self.record_at(status, elapsed, self.started.elapsed().as_secs());
    }

    fn record_at(&self, status: u16, elapsed: Duration, second: u64) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|le| secs <= *le)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.latency[bucket].fetch_add(1, Ordering::Relaxed);
        self.latency_micros_sum.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let slot = &mut ring.slots[(second % HISTORY_SECS as u64) as usize];
        if slot.0 != second {
            *slot = (second, Second::default());
        }
        slot.1.requests += 1;
        if status >= 500 {
            slot.1.errors += 1;
        }
    }

    /// The last `secs` complete seconds, oldest first (the running second
    /// is left out: it would always look quiet).
    pub fn history(&self, secs: usize) -> Vec<Second> {
        self.history_at(secs, self.started.elapsed().as_secs())
    }

    fn history_at(&self, secs: usize, now: u64) -> Vec<Second> {
        let secs = secs.min(HISTORY_SECS - 1);
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        (1..=secs as u64)
            .rev()
            .map(|back| {
                let Some(second) = now.checked_sub(back) else {
                    return Second::default();
                };
                let slot = ring.slots[(second % HISTORY_SECS as u64) as usize];
                if slot.0 == second {
                    slot.1
                } else {
                    Second::default()
                }
            })
            .collect()
    }

    /// Requests per second and the share of them that failed (5xx) over
    /// the last `secs` seconds, or since start if that is shorter.
    pub fn rates(&self, secs: usize) -> (f64, f64) {
        let span = (self.started.elapsed().as_secs() as usize).clamp(1, secs.max(1));
        let history = self.history(span);
        let requests: u64 = history.iter().map(|s| s.requests).sum();
        let errors: u64 = history.iter().map(|s| s.errors).sum();
        let per_second = requests as f64 / history.len().max(1) as f64;
        let error_rate = if requests == 0 {
            0.0
        } else {
            errors as f64 / requests as f64
        };
        (per_second, error_rate)
    }

    /// Responses since start by status class (`1xx` .. `5xx`).
    pub fn totals(&self) -> [(&'static str, u64); 5] {
        let n = |i: usize| self.by_class[i].load(Ordering::Relaxed);
        [
            ("1xx", n(0)),
            ("2xx", n(1)),
            ("3xx", n(2)),
            ("4xx", n(3)),
            ("5xx", n(4)),
        ]
    }

    /// The request counters and latency histogram in Prometheus text
    /// format (exposition format 0.0.4).
    pub fn write_prometheus(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP pitlane_http_requests_total Requests answered by the game HTTP listeners, by status class.\n# TYPE pitlane_http_requests_total counter"
        );
        for (class, n) in self.totals() {
            let _ = writeln!(out, "pitlane_http_requests_total{{class=\"{class}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "# HELP pitlane_http_request_duration_seconds Time to answer a game HTTP request (matchmaking polls are held up to 25 s).\n# TYPE pitlane_http_request_duration_seconds histogram"
        );
        let mut cumulative = 0u64;
        for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += self.latency[i].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "pitlane_http_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        cumulative += self.latency[LATENCY_BUCKETS.len()].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "pitlane_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let sum = self.latency_micros_sum.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "pitlane_http_request_duration_seconds_sum {sum}");
        let _ = writeln!(
            out,
            "pitlane_http_request_duration_seconds_count {cumulative}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_histogram_and_ring() {
        let m = Metrics::new();
        m.record_at(200, Duration::from_millis(2), 10);
        m.record_at(204, Duration::from_millis(30), 10);
        m.record_at(404, Duration::from_secs(2), 11);
        m.record_at(503, Duration::from_secs(100), 11);
        assert_eq!(
            m.totals().map(|(_, n)| n),
            [0, 2, 0, 1, 1],
            "status classes"
        );
        let h = m.history_at(3, 12);
        assert_eq!(
            h,
            [
                Second::default(),
                Second {
                    requests: 2,
                    errors: 0
                },
                Second {
                    requests: 2,
                    errors: 1
                }
            ]
        );
        // A slot reused a ring later starts from zero.
        m.record_at(200, Duration::ZERO, 10 + HISTORY_SECS as u64);
        assert_eq!(
            m.history_at(1, 11 + HISTORY_SECS as u64),
            [Second {
                requests: 1,
                errors: 0
            }]
        );
        let mut text = String::new();
        m.write_prometheus(&mut text);
        assert!(
            text.contains("pitlane_http_requests_total{class=\"2xx\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("pitlane_http_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(
            text.contains("pitlane_http_request_duration_seconds_bucket{le=\"5\"} 4\n"),
            "{text}"
        );
        assert!(text.contains("pitlane_http_request_duration_seconds_bucket{le=\"+Inf\"} 5\n"));
        assert!(text.contains("pitlane_http_request_duration_seconds_count 5\n"));
    }

    #[test]
    fn history_before_the_first_second_is_empty() {
        let m = Metrics::new();
        assert_eq!(m.history_at(5, 2).len(), 5);
        assert_eq!(m.rates(60), (0.0, 0.0));
    }
}
