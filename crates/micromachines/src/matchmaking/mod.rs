//! Matchmaking: parties that search at the same time for the same thing end
//! up in the same race.
//!
//! The client polls EnterMatchmaking2 (a new Steam game lobby each time, the
//! same party lobby throughout). A poll is held while nothing forms and is
//! answered the moment its party is placed in a race. On SQLite (one
//! instance) the pool lives in this process; on PostgreSQL it is shared by
//! every instance on the database (`shared`), running the same rules on a
//! snapshot of the stored searches. Races are written to the store when
//! they form, so points can be checked against them later.
//!
//! Choices where the recording is silent (docs/mmws-protocol.md):
//! - `Team` 0 means "nothing yet" (the only answers the client did not start
//!   a game on had Team 0); every race we form gives Team 1, or 1/2 in
//!   team modes.
//! - The host is the held party that has waited longest; the others join
//!   its game lobby.
//! - A late searcher joins a race that has formed but not started instead of
//!   getting `InProgressGameToJoin`, whose shape was never seen.

mod pool;
mod shared;
pub mod teams;
pub mod wait_times;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pitlane_core::config::MatchmakingSettings;
use pitlane_core::ids;
use pitlane_store::mmws::RaceInfo;
use pitlane_store::Store;
use tokio::time::Instant;

use crate::contracts::{MatchmakingGroup, MatchmakingResult};
use pool::{Pool, Step};
pub use pool::{QueueKey, SearchView};

/// One EnterMatchmaking2 call, parsed and tied to its player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRequest {
    pub user_id: i64,
    pub steam_id: u64,
    pub group_lobby_id: u64,
    pub game_lobby_id: u64,
    pub queue: QueueKey,
    pub group_size: u32,
    pub skill_level: u64,
    pub start_now: bool,
}

#[derive(Debug)]
pub struct Matchmaker {
    settings: MatchmakingSettings,
    store: Store,
    pool: Mutex<Pool>,
    session_ids: tokio::sync::Mutex<(i64, i64)>,
    /// Set when the store is shared by several instances (PostgreSQL).
    shared: Option<shared::Shared>,
    races_formed: AtomicU64,
}

/// Session ids are reserved from the store in blocks, so the sequence is
/// server-wide (and shared by several instances on one database) without a
/// database round trip per answer.
const SESSION_ID_BLOCK: i64 = 64;

impl Matchmaker {
    pub fn new(settings: MatchmakingSettings, store: Store) -> Self {
        Self {
            pool: Mutex::new(Pool::new(settings.clone())),
            settings,
            shared: store.is_shared().then(shared::Shared::default),
            store,
            session_ids: tokio::sync::Mutex::new((0, 0)),
            races_formed: AtomicU64::new(0),
        }
    }

    /// Whether the pool is shared with other instances through the database.
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Races formed by this instance since it started.
    pub fn races_formed(&self) -> u64 {
        self.races_formed.load(Ordering::Relaxed)
    }

    fn count_formed(&self) {
        self.races_formed.fetch_add(1, Ordering::Relaxed);
    }

    /// Matchmaking polls held by this instance right now.
    pub fn held_polls(&self) -> usize {
        match &self.shared {
            Some(shared) => shared.held_polls(),
            None => self.pool().active_polls(),
        }
    }

    fn pool(&self) -> MutexGuard<'_, Pool> {
        // The pool holds no invariant a panicking thread could break
        // half-way that a later poll could not live with.
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) async fn next_session_id(&self) -> Result<i64, pitlane_store::StoreError> {
        let mut block = self.session_ids.lock().await;
        if block.0 >= block.1 {
            let first = self
                .store
                .mm_races()
                .reserve_session_ids(SESSION_ID_BLOCK)
                .await?;
            *block = (first, first + SESSION_ID_BLOCK);
        }
        let id = block.0;
        block.0 += 1;
        Ok(id)
    }

    /// The long poll: returns when the party is placed in a race, or with a
    /// "nothing yet" answer after `hold_secs`.
    pub async fn search(
        self: &Arc<Self>,
        mut request: Box<SearchRequest>,
        season_id: i64,
    ) -> Result<MatchmakingResult, pitlane_store::StoreError> {
        self.apply_server_rules(&mut request);
        if let Some(shared) = &self.shared {
            return Box::pin(self.search_shared(shared, *request, season_id)).await;
        }
        let session_id = Box::pin(self.next_session_id()).await?;
        let hold = Duration::from_secs_f64(self.settings.hold_secs);
        let started = Instant::now();
        let deadline = started + hold;
        let _poll = PollGuard::enter(self.clone(), &request, started);
        loop {
            let now = Instant::now();
            // Only the wake-up survives the match: the step itself is not
            // part of what a held poll keeps.
            let step = self.pool().step(&request, now, session_id);
            let (notify, until) = match step {
                Step::Deliver(result) => return Ok(result),
                Step::Formed(formed) => {
                    Box::pin(self.persist(&formed, season_id)).await;
                    self.count_formed();
                    let mut pool = self.pool();
                    pool.mark_ready(formed.match_id);
                    if let Some(result) = pool.deliver(request.group_lobby_id, Instant::now()) {
                        return Ok(result);
                    }
                    continue;
                }
                Step::Wait { notify, until } => (notify, until),
            };
            let notified = notify.notified_owned();
            tokio::pin!(notified);
            notified.as_mut().enable();
            // Re-check after arming: a match formed between the step and
            // `enable` would otherwise be missed.
            if self.pool().is_ready_for(request.group_lobby_id) {
                continue;
            }
            let wake = until.map_or(deadline, |u| u.min(deadline));
            tokio::select! {
                _ = &mut notified => {}
                _ = tokio::time::sleep_until(wake) => {}
            }
            if Instant::now() >= deadline {
                let pool = self.pool();
                if !pool.is_ready_for(request.group_lobby_id) {
                    return Ok(pool.not_yet(&request, session_id));
                }
            }
        }
    }

    /// The operator's rules: a forced mode puts every search in one pool,
    /// and a mode without AI fill turns "start now" into a normal search.
    fn apply_server_rules(&self, request: &mut SearchRequest) {
        if let Some(forced) = &self.settings.forced_rule_set {
            request.queue = QueueKey {
                game_type: "*".into(),
                rule_set: forced.clone(),
                ranking: "*".into(),
                network_version: request.queue.network_version,
            };
        }
        if request.start_now {
            let mode = self.settings.mode(&request.queue.rule_set);
            let ranked = request.queue.is_ranked() || request.queue.game_type.starts_with("Ranked");
            if !mode.may_start_with_ai(ranked) {
                request.start_now = false;
            }
        }
    }

    /// Shutting down: every held poll is answered "nothing yet" now (the
    /// client simply polls again, elsewhere or after the restart) instead
    /// of holding the shutdown for up to `hold_secs`.
    pub fn close(&self) {
        self.pool().close();
        if let Some(shared) = &self.shared {
            shared.close();
        }
    }

    async fn persist(&self, formed: &pool::Formed, season_id: i64) {
        let race = RaceInfo {
            race_key: formed.race_key.clone(),
            session_id: formed.session_id,
            game_type: formed.queue.game_type.clone(),
            rule_set: formed.queue.rule_set.clone(),
            ranking: formed.queue.ranking.clone(),
            network_version: formed.queue.network_version,
            season_id,
            created_at: chrono::Utc::now(),
        };
        if let Err(e) = self.store.mm_races().create(&race, &formed.steam_ids).await {
            // The race is still played; RegisterActiveGameWithPlayers will
            // create it if this write never lands.
            tracing::error!(error = %e, race_key = %formed.race_key, "could not store a formed race");
        }
    }

    /// Removes a party's search (CancelMatchmaking) and answers its held
    /// poll with "nothing yet".
    pub async fn cancel(
        &self,
        user_id: i64,
        group_lobby_id: Option<u64>,
    ) -> Result<usize, pitlane_store::StoreError> {
        let Some(shared) = &self.shared else {
            return Ok(self.pool().cancel(user_id, group_lobby_id));
        };
        let removed = self
            .store
            .mm_shared_pool()
            .cancel(user_id, group_lobby_id)
            .await?;
        // Polls held here wake at once; other instances hear the NOTIFY.
        shared.wake(&removed);
        Ok(removed.len())
    }

    /// A race started: it takes no more late joiners.
    pub async fn mark_started(&self, race_key: &str) -> Result<(), pitlane_store::StoreError> {
        match &self.shared {
            Some(_) => self.store.mm_shared_pool().mark_started(race_key).await,
            None => {
                self.pool().mark_started(race_key);
                Ok(())
            }
        }
    }

    pub fn record_wait(&self, ranked: bool, seconds: f64) {
        self.pool().waits.record(ranked, seconds);
    }

    /// Who is searching right now (for operators). With a shared pool this
    /// is every instance's searches as last read by
    /// [`Matchmaker::searching_everywhere`] (the heartbeat reads them every
    /// few seconds).
    pub fn searching(&self) -> Vec<SearchView> {
        match &self.shared {
            Some(shared) => shared.views(),
            None => self.pool().views(Instant::now()),
        }
    }

    /// Who is searching right now on every instance, read from the database
    /// when it is shared.
    pub async fn searching_everywhere(&self) -> Result<Vec<SearchView>, pitlane_store::StoreError> {
        match &self.shared {
            Some(shared) => self.shared_views(shared).await,
            None => Ok(self.searching()),
        }
    }
}

/// Counts a poll as in flight for as long as its future lives: a client
/// that disconnects drops the future, and its party starts to age out.
struct PollGuard {
    matchmaker: Arc<Matchmaker>,
    group_lobby_id: u64,
}

impl PollGuard {
    fn enter(matchmaker: Arc<Matchmaker>, request: &SearchRequest, now: Instant) -> Self {
        matchmaker.pool().poll_started(request, now);
        Self {
            matchmaker,
            group_lobby_id: request.group_lobby_id,
        }
    }
}

impl Drop for PollGuard {
    fn drop(&mut self) {
        self.matchmaker
            .pool()
            .poll_ended(self.group_lobby_id, Instant::now());
    }
}

/// A fresh race key: 16 upper-case hex digits, as the official server
/// sent (spec: new each call; the client treats it as opaque).
///
/// Time-ordered rather than wholly random: the key is the primary key of
/// the stored races and of their players, and random keys put every new
/// race on a different page of those indexes, so each group commit wrote
/// (and later checkpointed) one page per race instead of a few pages per
/// group; under matchmaking load that was most of the database's work.
/// The high 44 bits are milliseconds since 1970 (good until the year
/// 2527), the low 20 bits random; within this process keys only ever
/// increase, so it never hands out the same key twice. Several instances
/// sharing a database could draw the same key in the same millisecond, so
/// their shared pool uses [`random_race_key`] instead.
pub fn new_race_key() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let millis = chrono::Utc::now().timestamp_millis().max(0) as u64 & ((1 << 44) - 1);
    let drawn = (millis << 20) | u64::from(ids::random_u32() & 0xF_FFFF);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = drawn.max(last.wrapping_add(1));
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return format!("{next:016X}"),
            Err(seen) => last = seen,
        }
    }
}

/// 64 random bits as 16 upper-case hex digits: a key no other instance
/// will draw.
pub fn random_race_key() -> String {
    ids::upper_hex(8)
}

pub(crate) fn group(
    game_lobby_id: u64,
    group_lobby_id: u64,
    size: u32,
    is_host: bool,
    team: i64,
) -> MatchmakingGroup {
    MatchmakingGroup {
        game_lobby_id,
        group_lobby_id,
        group_size: i64::from(size),
        is_host,
        team,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn race_keys_are_sixteen_hex_digits_that_only_increase() {
        let before = chrono::Utc::now().timestamp_millis() as u64;
        let keys: Vec<String> = (0..10_000).map(|_| new_race_key()).collect();
        let after = chrono::Utc::now().timestamp_millis() as u64;
        for key in &keys {
            assert_eq!(key.len(), 16, "{key}");
            assert!(
                key.bytes()
                    .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
                "{key}"
            );
        }
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "strictly increasing");
        // The high bits are the time the key was made, so new races land
        // at the end of the stored indexes. (10,000 keys cannot carry over
        // into the next millisecond more than once.)
        let millis = |key: &str| u64::from_str_radix(key, 16).unwrap() >> 20;
        assert!(millis(&keys[0]) >= before);
        assert!(millis(&keys[keys.len() - 1]) <= after + 1);
    }
}
