//! Per-address limits for the HTTP listeners: open connections and a
//! request-rate token bucket per IP, and a server-wide cap on held
//! matchmaking polls. One scanner or cheater must not be able to take the
//! capacity that every other player shares.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use pitlane_core::config::Limits;

/// Entries are pruned once the table holds this many addresses: only
/// addresses with open connections or a partly spent bucket are kept, so
/// the table stays as small as the set of currently active clients.
const PRUNE_AT: usize = 4096;

#[derive(Debug)]
struct Entry {
    connections: usize,
    tokens: f64,
    refilled: Instant,
}

/// Which limit refused something, for the counters and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ConnectionsPerAddress,
    RequestRate,
    HeldPolls,
}

#[derive(Debug)]
pub struct AddressLimits {
    max_connections: usize,
    rate: f64,
    burst: f64,
    max_held_polls: usize,
    held_polls: AtomicUsize,
    table: Mutex<HashMap<IpAddr, Entry>>,
    /// Refusals since start, by [`Refusal`] (in declaration order).
    refused: [AtomicU64; 3],
}

impl AddressLimits {
    pub fn new(limits: &Limits) -> Self {
        Self {
            max_connections: limits.max_connections_per_address,
            rate: f64::from(limits.requests_per_second_per_address),
            burst: f64::from(
                limits
                    .request_burst_per_address
                    .max(limits.requests_per_second_per_address)
                    .max(1),
            ),
            max_held_polls: limits.max_held_polls,
            held_polls: AtomicUsize::new(0),
            table: Mutex::new(HashMap::new()),
            refused: Default::default(),
        }
    }

    fn table(&self) -> MutexGuard<'_, HashMap<IpAddr, Entry>> {
        // Counters only: a panic half-way leaves nothing a later caller
        // could not live with.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self, refusal: Refusal) {
        self.refused[refusal as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Refusals since start: (connections per address, request rate,
    /// held polls).
    pub fn refusals(&self) -> (u64, u64, u64) {
        (
            self.refused[0].load(Ordering::Relaxed),
            self.refused[1].load(Ordering::Relaxed),
            self.refused[2].load(Ordering::Relaxed),
        )
    }

    fn entry<'a>(&self, table: &'a mut HashMap<IpAddr, Entry>, ip: IpAddr) -> &'a mut Entry {
        if table.len() >= PRUNE_AT && !table.contains_key(&ip) {
            let now = Instant::now();
            let (rate, burst) = (self.rate, self.burst);
            table.retain(|_, e| {
                let full = rate == 0.0
                    || e.tokens + now.duration_since(e.refilled).as_secs_f64() * rate >= burst;
                e.connections > 0 || !full
            });
        }
        table.entry(ip).or_insert_with(|| Entry {
            connections: 0,
            tokens: self.burst,
            refilled: Instant::now(),
        })
    }

    /// A new connection from `ip`: a guard that counts it while it lives,
    /// or `None` when the address already has its share open.
    pub fn connect(self: &Arc<Self>, ip: IpAddr) -> Option<ConnectionGuard> {
        if self.max_connections == 0 {
            return Some(ConnectionGuard { limits: None, ip });
        }
        let mut table = self.table();
        let entry = self.entry(&mut table, ip);
        if entry.connections >= self.max_connections {
            drop(table);
            self.count(Refusal::ConnectionsPerAddress);
            return None;
        }
        entry.connections += 1;
        Some(ConnectionGuard {
            limits: Some(self.clone()),
            ip,
        })
    }

    /// Takes one token from `ip`'s bucket; `false` when it is empty.
    pub fn allow_request(&self, ip: IpAddr) -> bool {
        if self.rate == 0.0 {
            return true;
        }
        let mut table = self.table();
        let entry = self.entry(&mut table, ip);
        let now = Instant::now();
        let elapsed = now.duration_since(entry.refilled).as_secs_f64();
        entry.tokens = (entry.tokens + elapsed * self.rate).min(self.burst);
        entry.refilled = now;
        if entry.tokens >= 1.0 {
            entry.tokens -= 1.0;
            true
        } else {
            drop(table);
            self.count(Refusal::RequestRate);
            false
        }
    }

    /// A slot for one held matchmaking poll, or `None` at the cap.
    pub fn hold_poll(self: &Arc<Self>) -> Option<PollSlot> {
        let taken = self.held_polls.fetch_add(1, Ordering::AcqRel);
        if taken >= self.max_held_polls {
            self.held_polls.fetch_sub(1, Ordering::AcqRel);
            self.count(Refusal::HeldPolls);
            return None;
        }
        Some(PollSlot(self.clone()))
    }

    pub fn held_polls(&self) -> usize {
        self.held_polls.load(Ordering::Acquire)
    }
}

/// One open connection, counted against its address until dropped.
#[derive(Debug)]
pub struct ConnectionGuard {
    limits: Option<Arc<AddressLimits>>,
    ip: IpAddr,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        if let Some(limits) = &self.limits {
            let mut table = limits.table();
            if let Some(entry) = table.get_mut(&self.ip) {
                entry.connections = entry.connections.saturating_sub(1);
            }
        }
    }
}

/// One held matchmaking poll, counted until dropped.
#[derive(Debug)]
pub struct PollSlot(Arc<AddressLimits>);

impl Drop for PollSlot {
    fn drop(&mut self) {
        self.0.held_polls.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(conns: usize, rate: u32, burst: u32, polls: usize) -> Arc<AddressLimits> {
        Arc::new(AddressLimits::new(&Limits {
            max_connections_per_address: conns,
            requests_per_second_per_address: rate,
            request_burst_per_address: burst,
            max_held_polls: polls,
            ..Limits::default()
        }))
    }

    #[test]
    fn connections_are_counted_per_address_and_released() {
        let l = limits(2, 0, 0, 1);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = l.connect(a).unwrap();
        let _second = l.connect(a).unwrap();
        assert!(l.connect(a).is_none());
        assert!(l.connect(b).is_some(), "another address is not affected");
        drop(first);
        assert!(l.connect(a).is_some());
        assert_eq!(l.refusals().0, 1);
    }

    #[test]
    fn the_bucket_allows_a_burst_then_the_rate() {
        let l = limits(0, 1, 3, 1);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert!((0..3).all(|_| l.allow_request(a)));
        assert!(!l.allow_request(a));
        assert!(l.allow_request("10.0.0.9".parse().unwrap()));
        assert_eq!(l.refusals().1, 1);
    }

    #[test]
    fn held_polls_are_capped_server_wide() {
        let l = limits(0, 0, 0, 2);
        let one = l.hold_poll().unwrap();
        let _two = l.hold_poll().unwrap();
        assert!(l.hold_poll().is_none());
        drop(one);
        assert!(l.hold_poll().is_some());
    }

    #[test]
    fn the_table_is_pruned_of_idle_addresses() {
        let l = limits(4, 1000, 1000, 1);
        for i in 0..(PRUNE_AT as u32 + 10) {
            let ip = IpAddr::from(i.to_be_bytes());
            drop(l.connect(ip));
        }
        assert!(l.table().len() < PRUNE_AT + 10);
    }
}
