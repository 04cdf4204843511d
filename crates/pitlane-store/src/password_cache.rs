//! Passwords argon2 verified a short while ago, remembered so that the same
//! account logging in again with the same password skips argon2: the MCO
//! client runs AuthLogin at every launch and reconnect, and each argon2 run
//! costs tens of milliseconds of a core and 19 MiB (the same trade-off as
//! Elasticsearch's realm credential cache).
//!
//! What is kept per customer id is an HMAC-SHA256, under a random key made
//! for this cache, of the stored PHC string and the password, with an
//! expiry; never the password. A later check is answered from here only
//! when the stored PHC (read from the database every time) and the given
//! password give the same MAC before the expiry: a password change makes a
//! new PHC, so it invalidates the entry by itself, on every instance.
//! Wrong passwords are never remembered; bans are not a password matter and
//! are checked by the caller on the account row read with the hash.
//!
//! The cost: someone who can read the process's memory (a core dump, a
//! swapped page) gets the key and the MACs, and can test guesses for the
//! accounts remembered at HMAC-SHA256 speed instead of argon2 speed. A
//! lifetime of zero turns the cache off.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Most accounts remembered at once by the server's cache (a few MB).
pub const MAX_ENTRIES: usize = 100_000;

/// How a password check was answered, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckedBy {
    /// A MAC remembered from an earlier argon2 check matched.
    Cache,
    /// argon2 ran (every unknown name and wrong password, and every right
    /// password not remembered).
    Argon2,
}

impl CheckedBy {
    pub fn label(self) -> &'static str {
        match self {
            CheckedBy::Cache => "cache",
            CheckedBy::Argon2 => "argon2",
        }
    }

    fn index(self) -> usize {
        match self {
            CheckedBy::Cache => 0,
            CheckedBy::Argon2 => 1,
        }
    }
}

/// Password checks by how they were answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PasswordChecks {
    pub cache: u64,
    pub argon2: u64,
}

impl PasswordChecks {
    /// `(label, count)` pairs, in a fixed order.
    pub fn by_label(self) -> [(&'static str, u64); 2] {
        [
            (CheckedBy::Argon2.label(), self.argon2),
            (CheckedBy::Cache.label(), self.cache),
        ]
    }
}

#[derive(Debug, Default)]
struct Counters([AtomicU64; 2]);

impl Counters {
    fn add(&self, by: CheckedBy) {
        self.0[by.index()].fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> PasswordChecks {
        PasswordChecks {
            cache: self.0[CheckedBy::Cache.index()].load(Ordering::Relaxed),
            argon2: self.0[CheckedBy::Argon2.index()].load(Ordering::Relaxed),
        }
    }
}

/// MCO password checks since the process started, for `/metrics` (one
/// process runs one server, as for the database error count).
static MCO_CHECKS: Counters = Counters([AtomicU64::new(0), AtomicU64::new(0)]);

/// MCO account password checks since the process started, by how they were
/// answered.
pub fn mco_password_checks() -> PasswordChecks {
    MCO_CHECKS.get()
}

pub(crate) fn count_mco_check(by: CheckedBy) {
    MCO_CHECKS.add(by);
}

/// The MAC of a (stored hash, password) pair under a cache's key. Not
/// `Debug`: it must not end up in a log.
pub struct Digest([u8; 32]);

struct Entry {
    mac: [u8; 32],
    expires: Instant,
}

struct Entries {
    by_customer: HashMap<i64, Entry>,
    /// When full and nothing had expired: the earliest expiry seen, before
    /// which looking for expired entries again is pointless.
    full_until: Option<Instant>,
}

/// Verified passwords per customer id; see the module documentation.
pub struct PasswordCache {
    key: [u8; 32],
    ttl: Duration,
    max_entries: usize,
    entries: Mutex<Entries>,
    checks: Counters,
}

impl std::fmt::Debug for PasswordCache {
    // The key and the MACs stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordCache")
            .field("ttl", &self.ttl)
            .field("max_entries", &self.max_entries)
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}

impl PasswordCache {
    /// A cache keeping entries for `ttl` (zero: off, nothing is kept), at
    /// most `max_entries` of them, under a fresh random key.
    pub fn new(ttl: Duration, max_entries: usize) -> PasswordCache {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        PasswordCache {
            key,
            ttl,
            max_entries,
            entries: Mutex::new(Entries {
                by_customer: HashMap::new(),
                full_until: None,
            }),
            checks: Counters::default(),
        }
    }

    /// Off: never remembers, never answers.
    pub fn disabled() -> PasswordCache {
        PasswordCache::new(Duration::ZERO, 0)
    }

    pub fn is_enabled(&self) -> bool {
        !self.ttl.is_zero() && self.max_entries > 0
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Entries held now, expired ones included until they are dropped.
    pub fn len(&self) -> usize {
        self.lock().by_customer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks answered through this cache, by how.
    pub fn checks(&self) -> PasswordChecks {
        self.checks.get()
    }

    pub(crate) fn count(&self, by: CheckedBy) {
        self.checks.add(by);
    }

    fn lock(&self) -> MutexGuard<'_, Entries> {
        // A panic half-way leaves at worst a missing entry.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The MAC of `stored_phc` and `password` under this cache's key. The
    /// PHC's length goes first, so no other split of the same bytes gives
    /// the same input.
    pub fn digest(&self, stored_phc: &str, password: &str) -> Digest {
        Digest(
            self.mac(stored_phc, password)
                .finalize()
                .into_bytes()
                .into(),
        )
    }

    fn mac(&self, stored_phc: &str, password: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(&(stored_phc.len() as u64).to_le_bytes());
        mac.update(stored_phc.as_bytes());
        mac.update(password.as_bytes());
        mac
    }

    /// Whether argon2 verified `password` against `stored_phc` for this
    /// customer less than the lifetime before `now`. The MACs are compared
    /// in constant time.
    pub fn verified(
        &self,
        customer_id: i64,
        stored_phc: &str,
        password: &str,
        now: Instant,
    ) -> bool {
        if !self.is_enabled() {
            return false;
        }
        // The MAC is computed before taking the lock, to keep it short.
        let candidate = self.mac(stored_phc, password);
        let remembered = {
            let mut entries = self.lock();
            match entries.by_customer.get(&customer_id) {
                Some(entry) if entry.expires > now => Some(entry.mac),
                Some(_) => {
                    entries.by_customer.remove(&customer_id);
                    None
                }
                None => None,
            }
        };
        remembered.is_some_and(|mac| candidate.verify_slice(&mac).is_ok())
    }

    /// Remembers that argon2 verified the pair `digest` was made from, for
    /// this customer, until the lifetime after `now`. Call only after a
    /// successful argon2 check. A full cache first drops expired entries;
    /// if it is still full, nothing is remembered.
    pub fn remember(&self, customer_id: i64, digest: Digest, now: Instant) {
        if !self.is_enabled() {
            return;
        }
        let Some(expires) = now.checked_add(self.ttl) else {
            return;
        };
        let mut entries = self.lock();
        let entries = &mut *entries;
        let map = &mut entries.by_customer;
        if !map.contains_key(&customer_id) && map.len() >= self.max_entries {
            if entries.full_until.is_some_and(|until| now < until) {
                return;
            }
            map.retain(|_, entry| entry.expires > now);
            if map.len() >= self.max_entries {
                entries.full_until = map.values().map(|entry| entry.expires).min();
                return;
            }
            entries.full_until = None;
        }
        map.insert(
            customer_id,
            Entry {
                mac: digest.0,
                expires,
            },
        );
    }

    /// Forgets everything (e.g. after the key might have leaked).
    pub fn clear(&self) {
        let mut entries = self.lock();
        entries.by_customer.clear();
        entries.full_until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    const OTHER_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$b3RoZXJzYWx0$b3RoZXJoYXNob3RoZXJoYQ";

    fn cache(ttl_secs: u64, max: usize) -> PasswordCache {
        PasswordCache::new(Duration::from_secs(ttl_secs), max)
    }

    #[test]
    fn a_verified_password_is_remembered_until_it_expires() {
        let c = cache(60, 10);
        let t0 = Instant::now();
        assert!(!c.verified(7, PHC, "pw", t0), "nothing before a check");
        c.remember(7, c.digest(PHC, "pw"), t0);
        assert!(c.verified(7, PHC, "pw", t0));
        assert!(c.verified(7, PHC, "pw", t0 + Duration::from_secs(59)));
        assert!(!c.verified(7, PHC, "pw", t0 + Duration::from_secs(60)));
        assert!(c.is_empty(), "an expired entry is dropped when found");
        assert!(!c.verified(7, PHC, "pw", t0 + Duration::from_secs(1)));
    }

    #[test]
    fn only_the_same_account_hash_and_password_match() {
        let c = cache(60, 10);
        let t0 = Instant::now();
        c.remember(7, c.digest(PHC, "pw"), t0);
        assert!(!c.verified(7, PHC, "Pw", t0), "another password");
        assert!(!c.verified(7, PHC, "pw ", t0));
        assert!(!c.verified(7, PHC, "", t0));
        assert!(!c.verified(8, PHC, "pw", t0), "another account");
        // A password change stores a new hash: the old entry no longer
        // matches, whatever password is given.
        assert!(!c.verified(7, OTHER_PHC, "pw", t0));
        assert!(c.verified(7, PHC, "pw", t0), "a miss does not evict");
        // No split of the same bytes between hash and password matches.
        let (head, tail) = PHC.split_at(PHC.len() - 1);
        assert!(!c.verified(7, head, &format!("{tail}pw"), t0));
    }

    #[test]
    fn a_wrong_password_is_never_accepted_from_the_cache() {
        // Only the caller's successful argon2 check remembers anything, so
        // a wrong password has no entry of its own; and the right one's
        // entry never answers for it.
        let c = cache(60, 10);
        let t0 = Instant::now();
        for wrong in ["guess", "pw\0", "PW"] {
            assert!(!c.verified(7, PHC, wrong, t0));
        }
        assert!(c.is_empty());
        c.remember(7, c.digest(PHC, "pw"), t0);
        for wrong in ["guess", "pw\0", "PW"] {
            assert!(!c.verified(7, PHC, wrong, t0), "{wrong}");
        }
    }

    #[test]
    fn a_new_verification_replaces_the_old_entry() {
        let c = cache(60, 10);
        let t0 = Instant::now();
        c.remember(7, c.digest(PHC, "old"), t0);
        c.remember(7, c.digest(OTHER_PHC, "new"), t0 + Duration::from_secs(30));
        assert_eq!(c.len(), 1);
        assert!(!c.verified(7, PHC, "old", t0 + Duration::from_secs(31)));
        assert!(c.verified(7, OTHER_PHC, "new", t0 + Duration::from_secs(89)));
    }

    #[test]
    fn zero_lifetime_keeps_nothing() {
        let c = cache(0, 10);
        assert!(!c.is_enabled());
        let t0 = Instant::now();
        c.remember(7, c.digest(PHC, "pw"), t0);
        assert!(c.is_empty());
        assert!(!c.verified(7, PHC, "pw", t0));
        assert!(!PasswordCache::disabled().is_enabled());
    }

    #[test]
    fn a_full_cache_drops_expired_entries_or_takes_no_more() {
        let c = cache(60, 3);
        let t0 = Instant::now();
        for id in 1..=3 {
            c.remember(id, c.digest(PHC, "pw"), t0 + Duration::from_secs(id as u64));
        }
        // Full, nothing expired: the newcomer is not remembered, the
        // others stay, and renewing one already there still works.
        c.remember(4, c.digest(PHC, "pw"), t0 + Duration::from_secs(10));
        assert_eq!(c.len(), 3);
        assert!(!c.verified(4, PHC, "pw", t0 + Duration::from_secs(10)));
        c.remember(2, c.digest(PHC, "pw"), t0 + Duration::from_secs(20));
        assert_eq!(c.len(), 3);
        for _ in 0..100 {
            c.remember(5, c.digest(PHC, "pw"), t0 + Duration::from_secs(30));
        }
        assert_eq!(c.len(), 3, "never above the bound");

        // Once entry 1 has expired (t0 + 61 s), it makes room.
        c.remember(6, c.digest(PHC, "pw"), t0 + Duration::from_secs(62));
        assert_eq!(c.len(), 3);
        let now = t0 + Duration::from_secs(62);
        assert!(c.verified(6, PHC, "pw", now));
        assert!(c.verified(2, PHC, "pw", now), "renewed at 20 s");
        assert!(c.verified(3, PHC, "pw", now), "expires at 63 s");
        assert!(!c.verified(1, PHC, "pw", now));
    }

    #[test]
    fn checks_are_counted_per_cache() {
        let c = cache(60, 3);
        c.count(CheckedBy::Argon2);
        c.count(CheckedBy::Cache);
        c.count(CheckedBy::Cache);
        assert_eq!(
            c.checks(),
            PasswordChecks {
                cache: 2,
                argon2: 1
            }
        );
        assert_eq!(c.checks().by_label(), [("argon2", 1), ("cache", 2)]);
    }

    #[test]
    fn debug_shows_neither_key_nor_macs() {
        let c = cache(60, 3);
        c.remember(7, c.digest(PHC, "pw"), Instant::now());
        let text = format!("{c:?}");
        assert!(text.contains("entries: 1"), "{text}");
        assert!(!text.contains(&hex::encode(c.key)), "{text}");
        assert!(!text.contains("key"), "{text}");
    }
}
