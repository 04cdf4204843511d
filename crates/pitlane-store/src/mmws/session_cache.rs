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
//! - a lookup that read the database just before one of those changes
//!   and would put the old row back after it: every change bumps a
//!   generation, and a lookup caches its row only if the generation it
//!   read before asking the database is still current;
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
    /// Bumped by every change that ends sessions (a newer Login, a ban).
    generation: u64,
}

impl Entries {
    fn remove_user(&mut self, user_id: i64) {
        if let Some(digest) = self.digest_of_user.remove(&user_id) {
            self.by_digest.remove(&digest);
        }
    }

    fn insert(&mut self, digest: &str, session: &MmSession, recheck_after: Duration) {
        self.remove_user(session.user_id);
        if self.by_digest.len() >= MAX_ENTRIES {
            self.by_digest
                .retain(|_, e| e.confirmed.elapsed() < recheck_after);
            if self.by_digest.len() >= MAX_ENTRIES {
                self.by_digest.clear();
            }
            let Entries {
                by_digest,
                digest_of_user,
                ..
            } = self;
            digest_of_user.retain(|_, d| by_digest.contains_key(d));
        }
        self.digest_of_user
            .insert(session.user_id, digest.to_owned());
        self.by_digest.insert(
            digest.to_owned(),
            Entry {
                session: session.clone(),
                confirmed: Instant::now(),
            },
        );
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

    /// Read before asking the database, and handed back to
    /// [`SessionCache::confirm`] or [`SessionCache::start`].
    pub fn generation(&self) -> u64 {
        self.entries().generation
    }

    /// Remembers a session as the database showed it, in place of any
    /// other session of the same account, unless sessions were ended since
    /// `seen` (the row may be one of them).
    pub fn confirm(&self, digest: &str, session: &MmSession, seen: u64) {
        let mut entries = self.entries();
        if entries.generation == seen {
            entries.insert(digest, session, self.recheck_after);
        }
    }

    /// A session this server's Login just stored: it ends the account's
    /// earlier one, here and for lookups already on their way back from the
    /// database. Cached only if nothing else ended sessions since `seen`
    /// (a ban that came after the Login's commit).
    pub fn start(&self, digest: &str, session: &MmSession, seen: u64) {
        let mut entries = self.entries();
        let unchanged = entries.generation == seen;
        entries.generation += 1;
        entries.remove_user(session.user_id);
        if unchanged {
            entries.insert(digest, session, self.recheck_after);
        }
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
        entries.generation += 1;
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
        cache.start("a", &session(1, 11), cache.generation());
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
        cache.confirm("old", &session(1, 11), cache.generation());
        cache.confirm("other", &session(2, 22), cache.generation());
        cache.confirm("new", &session(1, 11), cache.generation());
        assert_eq!(cache.get("old", t0()), None);
        assert_eq!(cache.get("new", t0()).map(|s| s.user_id), Some(1));
        assert_eq!(cache.get("other", t0()).map(|s| s.user_id), Some(2));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn entries_are_trusted_only_until_the_recheck() {
        let cache = SessionCache::new(Duration::ZERO);
        cache.confirm("a", &session(1, 11), cache.generation());
        assert_eq!(cache.get("a", t0()), None);
    }

    /// A lookup that read the database before a ban or a newer Login must
    /// not put its (now ended) session back after it.
    #[test]
    fn rows_read_before_a_change_are_not_cached_after_it() {
        let cache = SessionCache::default();
        let seen = cache.generation();
        cache.forget_steam_id(11);
        cache.confirm("a", &session(1, 11), seen);
        assert_eq!(cache.get("a", t0()), None, "read before the ban");

        cache.start("new", &session(1, 11), cache.generation());
        let seen_by_old_poll = cache.generation() - 1;
        cache.confirm("old", &session(1, 11), seen_by_old_poll);
        assert_eq!(cache.get("old", t0()), None, "read before the newer Login");
        assert!(cache.get("new", t0()).is_some(), "the newer session stays");

        // A Login whose commit came before a ban is not cached either.
        let seen = cache.generation();
        cache.forget_steam_id(22);
        cache.start("banned", &session(2, 22), seen);
        assert_eq!(cache.get("banned", t0()), None);
    }

    #[test]
    fn forgetting_by_steam_id_and_digest() {
        let cache = SessionCache::default();
        cache.confirm("a", &session(1, 11), cache.generation());
        cache.confirm("b", &session(2, 22), cache.generation());
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
            cache.confirm(
                &format!("d{user}"),
                &session(user, user as u64),
                cache.generation(),
            );
        }
        assert!(cache.len() <= MAX_ENTRIES);
        let last = MAX_ENTRIES as i64 + 9;
        assert!(cache.get(&format!("d{last}"), t0()).is_some());
    }
}
