//! Request metrics of the game listeners, kept in memory: totals since
//! start for `/metrics` (Prometheus computes rates itself), and a ring of
//! per-second buckets for the dashboard's "requests per second" and "error
//! rate" without a time-series database.
//!
//! What is counted, and why it is cheap enough to count on every request:
//! answers by game, operation and status, a latency histogram per
//! operation, connections open per listener, and refusals per limit. The
//! labels are `&'static str` chosen by the server (operation names from
//! the route tables, limit names from the config keys), never text from
//! the network, so a scanner cannot grow the label set. One short lock per
//! request holds the per-operation table and the ring together.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Seconds of per-second history kept: the overview's chart.
pub const HISTORY_SECS: usize = 300;

/// Upper bounds (seconds) of the latency histogram. Matchmaking long polls
/// are held up to 25 s by design, hence the long tail.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 90.0,
];

/// The game label of requests whose path belongs to no game.
pub const NO_GAME: &str = "none";

/// Requests and errors (status 500 and above) within one second.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Second {
    pub requests: u64,
    pub errors: u64,
}

/// Non-cumulative counts per latency bucket (the last slot is +Inf) and
/// the sum of the latencies.
#[derive(Debug, Default, Clone)]
struct Histogram {
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
    micros_sum: u64,
}

impl Histogram {
    fn observe(&mut self, elapsed: Duration) {
        self.buckets[bucket_of(elapsed)] += 1;
        self.micros_sum = self
            .micros_sum
            .saturating_add(u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX));
    }
}

fn bucket_of(elapsed: Duration) -> usize {
    let secs = elapsed.as_secs_f64();
    LATENCY_BUCKETS
        .iter()
        .position(|le| secs <= *le)
        .unwrap_or(LATENCY_BUCKETS.len())
}

#[derive(Debug, Default)]
struct Operation {
    by_status: BTreeMap<u16, u64>,
    latency: Histogram,
}

/// A value read when `/metrics` is scraped (queue sizes, held polls, open
/// MCO connections): the owner of the number registers how to read it.
struct Gauge {
    name: &'static str,
    help: &'static str,
    read: Box<dyn Fn() -> Vec<(String, f64)> + Send + Sync>,
}

impl std::fmt::Debug for Gauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gauge").field("name", &self.name).finish()
    }
}

#[derive(Debug)]
struct Inner {
    /// For each slot, the second (since start) it holds, and its counts.
    ring: Vec<(u64, Second)>,
    operations: HashMap<(&'static str, &'static str), Operation>,
    limit_hits: BTreeMap<&'static str, u64>,
}

#[derive(Debug)]
pub struct Metrics {
    started: Instant,
    /// Responses by status class: index 0 = 1xx ... 4 = 5xx.
    by_class: [AtomicU64; 5],
    /// All requests together, for the dashboard and older scrapers.
    latency: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    latency_micros_sum: AtomicU64,
    inner: Mutex<Inner>,
    connections: Mutex<Vec<(&'static str, Arc<AtomicI64>)>>,
    gauges: Mutex<Vec<Gauge>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts one open connection of a listener while it lives.
#[derive(Debug)]
pub struct OpenConnection(Arc<AtomicI64>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The open-connection counter of one listener.
#[derive(Debug, Clone)]
pub struct ConnectionGauge(Arc<AtomicI64>);

impl ConnectionGauge {
    pub fn open(&self) -> OpenConnection {
        self.0.fetch_add(1, Ordering::Relaxed);
        OpenConnection(self.0.clone())
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            by_class: Default::default(),
            latency: Default::default(),
            latency_micros_sum: AtomicU64::new(0),
            inner: Mutex::new(Inner {
                ring: vec![(u64::MAX, Second::default()); HISTORY_SECS],
                operations: HashMap::new(),
                limit_hits: BTreeMap::new(),
            }),
            connections: Mutex::new(Vec::new()),
            gauges: Mutex::new(Vec::new()),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        // Counters only: a panic half-way leaves nothing unusable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// An answered request whose game and operation are not known.
    pub fn record(&self, status: u16, elapsed: Duration) {
        self.record_request(NO_GAME, "unknown", status, elapsed);
    }

    /// Called once per answered request by the game listeners.
    pub fn record_request(
        &self,
        game: &'static str,
        operation: &'static str,
        status: u16,
        elapsed: Duration,
    ) {
        self.record_at(
            game,
            operation,
            status,
            elapsed,
            self.started.elapsed().as_secs(),
        );
    }

    fn record_at(
        &self,
        game: &'static str,
        operation: &'static str,
        status: u16,
        elapsed: Duration,
        second: u64,
    ) {
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.latency[bucket_of(elapsed)].fetch_add(1, Ordering::Relaxed);
        self.latency_micros_sum.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        let mut inner = self.inner();
        let op = inner.operations.entry((game, operation)).or_default();
        *op.by_status.entry(status).or_default() += 1;
        op.latency.observe(elapsed);
        let slot = &mut inner.ring[(second % HISTORY_SECS as u64) as usize];
        if slot.0 != second {
            *slot = (second, Second::default());
        }
        slot.1.requests += 1;
        if status >= 500 {
            slot.1.errors += 1;
        }
    }

    /// A limit refused something (a request, a connection, a frame). `limit`
    /// is the config key of the limit, e.g. `max_body_bytes`.
    pub fn limit_hit(&self, limit: &'static str) {
        *self.inner().limit_hits.entry(limit).or_default() += 1;
    }

    /// Refusals since start, per limit.
    pub fn limit_hits(&self) -> BTreeMap<&'static str, u64> {
        self.inner().limit_hits.clone()
    }

    /// Answers since start of one operation, per status.
    pub fn operation_counts(&self, game: &str, operation: &str) -> BTreeMap<u16, u64> {
        self.inner()
            .operations
            .iter()
            .find(|((g, o), _)| *g == game && *o == operation)
            .map(|(_, op)| op.by_status.clone())
            .unwrap_or_default()
    }

    /// The open-connection counter of `listener` (created on first use).
    pub fn connections(&self, listener: &'static str) -> ConnectionGauge {
        let mut all = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, gauge)) = all.iter().find(|(name, _)| *name == listener) {
            return ConnectionGauge(gauge.clone());
        }
        let gauge = Arc::new(AtomicI64::new(0));
        all.push((listener, gauge.clone()));
        ConnectionGauge(gauge)
    }

    /// Registers a gauge read at each scrape: `read` returns
    /// `(labels, value)` pairs, labels already in `{k="v"}` form (or empty).
    pub fn add_gauge(
        &self,
        name: &'static str,
        help: &'static str,
        read: impl Fn() -> Vec<(String, f64)> + Send + Sync + 'static,
    ) {
        self.gauges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Gauge {
                name,
                help,
                read: Box::new(read),
            });
    }

    /// The last `secs` complete seconds, oldest first (the running second
    /// is left out: it would always look quiet).
    pub fn history(&self, secs: usize) -> Vec<Second> {
        self.history_at(secs, self.started.elapsed().as_secs())
    }

    fn history_at(&self, secs: usize, now: u64) -> Vec<Second> {
        let secs = secs.min(HISTORY_SECS - 1);
        let inner = self.inner();
        (1..=secs as u64)
            .rev()
            .map(|back| {
                let Some(second) = now.checked_sub(back) else {
                    return Second::default();
                };
                let slot = inner.ring[(second % HISTORY_SECS as u64) as usize];
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

    /// Every metric in Prometheus text format (exposition format 0.0.4).
    pub fn write_prometheus(&self, out: &mut String) {
        use std::fmt::Write;
        let _ = writeln!(
            out,
            "# HELP pitlane_http_requests_total Requests answered by the game HTTP listeners, by status class.\n# TYPE pitlane_http_requests_total counter"
        );
        for (class, n) in self.totals() {
            let _ = writeln!(out, "pitlane_http_requests_total{{class=\"{class}\"}} {n}");
        }
        let mut all = Histogram::default();
        for (i, slot) in all.buckets.iter_mut().enumerate() {
            *slot = self.latency[i].load(Ordering::Relaxed);
        }
        all.micros_sum = self.latency_micros_sum.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "# HELP pitlane_http_request_duration_seconds Time to answer a game HTTP request (matchmaking polls are held up to 25 s).\n# TYPE pitlane_http_request_duration_seconds histogram"
        );
        write_histogram(out, "pitlane_http_request_duration_seconds", "", &all);

        let (mut operations, limit_hits) = {
            let inner = self.inner();
            let ops: Vec<_> = inner
                .operations
                .iter()
                .map(|(k, op)| (*k, op.by_status.clone(), op.latency.clone()))
                .collect();
            (ops, inner.limit_hits.clone())
        };
        operations.sort_by_key(|(k, _, _)| *k);
        let _ = writeln!(
            out,
            "# HELP pitlane_requests_total Requests answered, by game, operation and HTTP status.\n# TYPE pitlane_requests_total counter"
        );
        for ((game, operation), by_status, _) in &operations {
            for (status, n) in by_status {
                let _ = writeln!(
                    out,
                    "pitlane_requests_total{{game=\"{game}\",operation=\"{operation}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP pitlane_request_duration_seconds Time to answer a request, by game and operation.\n# TYPE pitlane_request_duration_seconds histogram"
        );
        for ((game, operation), _, latency) in &operations {
            let labels = format!("game=\"{game}\",operation=\"{operation}\"");
            write_histogram(out, "pitlane_request_duration_seconds", &labels, latency);
        }

        let _ = writeln!(
            out,
            "# HELP pitlane_limit_hits_total Requests, connections or frames refused by a configured limit ([limits] key).\n# TYPE pitlane_limit_hits_total counter"
        );
        for (limit, n) in &limit_hits {
            let _ = writeln!(out, "pitlane_limit_hits_total{{limit=\"{limit}\"}} {n}");
        }

        let _ = writeln!(
            out,
            "# HELP pitlane_open_connections Connections open now, by listener.\n# TYPE pitlane_open_connections gauge"
        );
        let connections: Vec<(&'static str, i64)> = self
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(name, n)| (*name, n.load(Ordering::Relaxed)))
            .collect();
        for (listener, n) in connections {
            let _ = writeln!(
                out,
                "pitlane_open_connections{{listener=\"{listener}\"}} {n}"
            );
        }

        write_password_checks(out, pitlane_store::password_cache::mco_password_checks());

        let gauges = self.gauges.lock().unwrap_or_else(|e| e.into_inner());
        for gauge in gauges.iter() {
            let _ = writeln!(
                out,
                "# HELP {} {}\n# TYPE {} gauge",
                gauge.name, gauge.help, gauge.name
            );
            for (labels, value) in (gauge.read)() {
                let _ = writeln!(out, "{}{labels} {value}", gauge.name);
            }
        }
    }
}

/// MCO AuthLogin's password checks by how they were answered. Counted by
/// the store for the whole process (one process runs one server), so the
/// series is there, at zero, with Motor City Online off too.
fn write_password_checks(out: &mut String, checks: pitlane_store::password_cache::PasswordChecks) {
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "# HELP pitlane_mco_password_checks_total Motor City Online password checks since start, by how they were answered: argon2 (unknown names, wrong passwords, passwords not remembered) or cache (a password argon2 verified for the account within [motorcity] password_cache_secs).\n# TYPE pitlane_mco_password_checks_total counter"
    );
    for (via, n) in checks.by_label() {
        let _ = writeln!(
            out,
            "pitlane_mco_password_checks_total{{via=\"{via}\"}} {n}"
        );
    }
}

/// One histogram's `_bucket`, `_sum` and `_count` lines; `labels` without
/// braces, empty for none.
fn write_histogram(out: &mut String, name: &str, labels: &str, h: &Histogram) {
    use std::fmt::Write;
    let sep = if labels.is_empty() { "" } else { "," };
    let mut cumulative = 0u64;
    for (i, le) in LATENCY_BUCKETS.iter().enumerate() {
        cumulative += h.buckets[i];
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
        );
    }
    cumulative += h.buckets[LATENCY_BUCKETS.len()];
    let _ = writeln!(
        out,
        "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
    );
    let braces = if labels.is_empty() {
        String::new()
    } else {
        format!("{{{labels}}}")
    };
    let _ = writeln!(out, "{name}_sum{braces} {}", h.micros_sum as f64 / 1e6);
    let _ = writeln!(out, "{name}_count{braces} {cumulative}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_histogram_and_ring() {
        let m = Metrics::new();
        m.record_at("mmws", "Login", 200, Duration::from_millis(2), 10);
        m.record_at("mmws", "Login", 204, Duration::from_millis(30), 10);
        m.record_at(NO_GAME, "unknown", 404, Duration::from_secs(2), 11);
        m.record_at("mmws", "Login", 503, Duration::from_secs(100), 11);
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
        m.record_at(
            "mmws",
            "Login",
            200,
            Duration::ZERO,
            10 + HISTORY_SECS as u64,
        );
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
        for line in [
            "pitlane_requests_total{game=\"mmws\",operation=\"Login\",status=\"200\"} 2\n",
            "pitlane_requests_total{game=\"mmws\",operation=\"Login\",status=\"503\"} 1\n",
            "pitlane_requests_total{game=\"none\",operation=\"unknown\",status=\"404\"} 1\n",
            "pitlane_request_duration_seconds_bucket{game=\"mmws\",operation=\"Login\",le=\"0.005\"} 2\n",
            "pitlane_request_duration_seconds_bucket{game=\"mmws\",operation=\"Login\",le=\"+Inf\"} 4\n",
            "pitlane_request_duration_seconds_count{game=\"mmws\",operation=\"Login\"} 4\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert_eq!(
            m.operation_counts("mmws", "Login"),
            BTreeMap::from([(200, 2), (204, 1), (503, 1)])
        );
    }

    #[test]
    fn limits_connections_and_gauges() {
        let m = Metrics::new();
        m.limit_hit("max_body_bytes");
        m.limit_hit("max_body_bytes");
        m.limit_hit("max_held_polls");
        let http = m.connections("http");
        let a = http.open();
        let _b = m.connections("http").open();
        drop(a);
        let _c = m.connections("mco_lobby").open();
        m.add_gauge("pitlane_test_queue", "A test.", || {
            vec![("{queue=\"a\"}".into(), 3.0), (String::new(), 1.5)]
        });
        let mut text = String::new();
        m.write_prometheus(&mut text);
        for line in [
            "pitlane_limit_hits_total{limit=\"max_body_bytes\"} 2\n",
            "pitlane_limit_hits_total{limit=\"max_held_polls\"} 1\n",
            "pitlane_open_connections{listener=\"http\"} 1\n",
            "pitlane_open_connections{listener=\"mco_lobby\"} 1\n",
            "# TYPE pitlane_test_queue gauge\n",
            "pitlane_test_queue{queue=\"a\"} 3\n",
            "pitlane_test_queue 1.5\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
    }

    #[test]
    fn password_checks_are_a_counter_by_fixed_label() {
        let mut text = String::new();
        write_password_checks(
            &mut text,
            pitlane_store::password_cache::PasswordChecks {
                cache: 5,
                argon2: 2,
            },
        );
        for line in [
            "# TYPE pitlane_mco_password_checks_total counter\n",
            "pitlane_mco_password_checks_total{via=\"argon2\"} 2\n",
            "pitlane_mco_password_checks_total{via=\"cache\"} 5\n",
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        let mut all = String::new();
        Metrics::new().write_prometheus(&mut all);
        assert!(
            all.contains("pitlane_mco_password_checks_total{via=\"cache\"} "),
            "{all}"
        );
    }

    #[test]
    fn history_before_the_first_second_is_empty() {
        let m = Metrics::new();
        assert_eq!(m.history_at(5, 2).len(), 5);
        assert_eq!(m.rates(60), (0.0, 0.0));
    }
}
