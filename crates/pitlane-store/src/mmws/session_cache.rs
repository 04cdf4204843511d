//! Live Micro Machines sessions kept in memory, so that a request does not
//! have to ask the database who its `SessionToken` belongs to.
//!
//! Every call after Login looks its session up, and under matchmaking load
//! that lookup was half of the SQLite lane's jobs: one hand-off to the
//! lane's thread and back per poll, for a row that changes only at the next
//! Login. The cache is filled by the Login that starts a session and by
//! lookups that had to read the database.
//!
//! What could make a cached session wrong, and why each is covered:
//! - a newer Login of the same account (the old token must stop working):
//!   one account has one session, and storing the new one here replaces the
//!   old one by account;
//! - a ban (it ends the player's sessions at once): [`Bans::ban`] forgets
//!   the account's sessions here after its transaction commits;
//! - expiry: checked against the request's time on every hit, as the
//!   database query does;
//! - the same changes made by another Pitlane instance on a shared
//!   PostgreSQL database, or by hand: an entry is trusted only for
//!   [`RECHECK_AFTER`] after the database last confirmed it, which bounds
//!   how long such a change can go unseen.
//!
//! [`Bans::ban`]: super::Bans::ban

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::MmSession;

/// How long the database's word on a session is trusted before it is asked
/// again: the longest a change made outside this process (another
/// instance's Login or ban, a hand edit) can take to be seen here.
pub const RECHECK_AFTER: Duration = Duration::from_secs(5);

/// More live players than one server serves; past it, entries due for a
/// recheck are dropped, then everything (the cache only saves work).
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug)]
struct Entry {
    session: MmSession,
    confirmed: Instant,
}

#[derive(Debug, Default)]
struct Entries {
    by_digest: HashMap<String, Entry>,
    /// The digest each account's one session is cached under.
    digest_of_user: HashMap<i64, String>,
}

impl Entries {
    fn remove_user(&mut self, user_id: i64) {
        if let Some(digest) = self.digest_of_user.remove(&user_id) {
            self.by_digest.remove(&digest);
        }
    }
}

/// Session lookups since the process started, by how they were answered.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SessionLookups {
    pub cache: u64,
    pub database: u64,
}

#[derive(Debug)]
pub struct SessionCache {
    entries: Mutex<Entries>,
    recheck_after: Duration,
    cache_hits: AtomicU64,
    database_reads: AtomicU64,
}

impl Default for SessionCache {
    fn default() -> Self {
        Self::new(RECHECK_AFTER)
    }
}

impl SessionCache {
    pub fn new(recheck_after: Duration) -> Self {
        Self {
            entries: Mutex::default(),
            recheck_after,
            cache_hits: AtomicU64::new(0),
            database_reads: AtomicU64::new(0),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Every change below leaves both maps consistent before it can
        // panic, so a poisoned lock holds nothing half-done.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session behind `digest` if it is cached, confirmed recently
    /// enough and not expired at `now`.
    pub fn get(&self, digest: &str, now: DateTime<Utc>) -> Option<MmSession> {
        let found = {
            let entries = self.entries();
            entries
                .by_digest
                .get(digest)
                .filter(|e| {
                    e.confirmed.elapsed() < self.recheck_after && e.session.expires_at > now
                })
                .map(|e| e.session.clone())
        };
        match found {
            Some(_) => self.cache_hits.fetch_add(1, Ordering::Relaxed),
            None => self.database_reads.fetch_add(1, Ordering::Relaxed),
        };
        found
    }

    /// Remembers the account's session as the database has it now, in place
    /// of any other session of the same account.
    pub fn put(&self, digest: &str, session: &MmSession) {
        let mut entries = self.entries();
        entries.remove_user(session.user_id);
        if entries.by_digest.len() >= MAX_ENTRIES {
            let recheck_after = self.recheck_after;
            entries
                .by_digest
                .retain(|_, e| e.confirmed.elapsed() < recheck_after);
            if entries.by_digest.len() >= MAX_ENTRIES {
                entries.by_digest.clear();
            }
            let Entries {
                by_digest,
                digest_of_user,
            } = &mut *entries;
            digest_of_user.retain(|_, d| by_digest.contains_key(d));
        }
        entries
            .digest_of_user
            .insert(session.user_id, digest.to_owned());
        entries.by_digest.insert(
            digest.to_owned(),
            Entry {
                session: session.clone(),
                confirmed: Instant::now(),
            },
        );
    }

    /// Forgets a token the database no longer knows (or never did).
    pub fn forget_digest(&self, digest: &str) {
        let mut entries = self.entries();
        if let Some(entry) = entries.by_digest.remove(digest) {
            entries.digest_of_user.remove(&entry.session.user_id);
        }
    }

    /// Forgets every session of a Steam account (a ban ends them).
    pub fn forget_steam_id(&self, steam_id: u64) {
        let mut entries = self.entries();
        let users: Vec<i64> = entries
            .by_digest
            .values()
            .filter(|e| e.session.steam_id == steam_id)
            .map(|e| e.session.user_id)
            .collect();
        for user_id in users {
            entries.remove_user(user_id);
        }
    }

    pub fn lookups(&self) -> SessionLookups {
        SessionLookups {
            cache: self.cache_hits.load(Ordering::Relaxed),
            database: self.database_reads.load(Ordering::Relaxed),
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        let entries = self.entries();
        assert_eq!(entries.by_digest.len(), entries.digest_of_user.len());
        entries.by_digest.len()
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration as Span;

    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_336_721, 0).unwrap()
    }

    fn session(user_id: i64, steam_id: u64) -> MmSession {
        MmSession {
            user_id,
            steam_id,
            issued_at: t0(),
            expires_at: t0() + Span::hours(6),
            config_hash: 7,
        }
    }

    #[test]
    fn a_put_session_is_found_until_it_expires() {
        let cache = SessionCache::default();
        assert_eq!(cache.get("a", t0()), None);
        cache.put("a", &session(1, 11));
        assert_eq!(cache.get("a", t0()), Some(session(1, 11)));
        assert_eq!(cache.get("a", t0() + Span::hours(6)), None, "expired");
        assert_eq!(
            cache.lookups(),
            SessionLookups {
                cache: 1,
                database: 2
            }
        );
    }

    #[test]
    fn a_newer_session_of_the_account_replaces_the_older() {
        let cache = SessionCache::default();
        cache.put("old", &session(1, 11));
        cache.put("other", &session(2, 22));
        cache.put("new", &session(1, 11));
        assert_eq!(cache.get("old", t0()), None);
        assert_eq!(cache.get("new", t0()).map(|s| s.user_id), Some(1));
        assert_eq!(cache.get("other", t0()).map(|s| s.user_id), Some(2));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn entries_are_trusted_only_until_the_recheck() {
        let cache = SessionCache::new(Duration::ZERO);
        cache.put("a", &session(1, 11));
        assert_eq!(cache.get("a", t0()), None);
    }

    #[test]
    fn forgetting_by_steam_id_and_digest() {
        let cache = SessionCache::default();
        cache.put("a", &session(1, 11));
        cache.put("b", &session(2, 22));
        cache.forget_steam_id(11);
        assert_eq!(cache.get("a", t0()), None);
        assert!(cache.get("b", t0()).is_some());
        cache.forget_digest("b");
        assert_eq!(cache.get("b", t0()), None);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = SessionCache::default();
        for user in 0..(MAX_ENTRIES as i64 + 10) {
            cache.put(&format!("d{user}"), &session(user, user as u64));
        }
        assert!(cache.len() <= MAX_ENTRIES);
        let last = MAX_ENTRIES as i64 + 9;
        assert!(cache.get(&format!("d{last}"), t0()).is_some());
    }
}
