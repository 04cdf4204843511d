//! The pool shared by several instances on one PostgreSQL database.
//!
//! Each step of a held poll reads the rows it needs into a snapshot
//! [`Pool`], runs exactly the rules of the in-process pool on it, and
//! writes back what changed, all in one transaction that holds the queue's
//! advisory lock. So a race forms once however many instances hold polls
//! for its parties, and every party reads the same stored race. Held polls
//! wake on `NOTIFY` from any instance; they also look again every
//! [`RECHECK`] in case a notification was lost with a connection.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use pitlane_store::mmws::{
    Heard, MatchRow, MemberRow, PollStart, PoolStep, PurgeRules, RaceInfo, SearchRow, StoredQueue,
};
use pitlane_store::StoreError;
use tokio::sync::{watch, Notify};
use tokio::time::Instant;

use super::pool::{self, LoadedSearch, MatchView, Pool, Step};
use super::wait_times::WaitTimes;
use super::{Matchmaker, QueueKey, SearchRequest, SearchView};
use crate::contracts::MatchmakingResult;

/// Longest a held poll sleeps without looking at the pool.
const RECHECK: Duration = Duration::from_secs(2);
/// A held poll counts as held this much past its hold time, then its
/// instance is presumed dead.
const HOLD_GRACE_MS: i64 = 5_000;
/// Wait averages read the latest this many waits (as in-process).
const RECENT_WAITS: i64 = 100;

/// This instance's side of the shared pool: who is held here, to wake them.
#[derive(Debug, Default)]
pub(super) struct Shared {
    waiters: Mutex<HashMap<u64, (Arc<Notify>, usize)>>,
    closing: AtomicBool,
    /// Every instance's searches, as last read (for the synchronous
    /// operator view).
    views: Mutex<Vec<SearchView>>,
}

impl Shared {
    fn waiters(&self) -> MutexGuard<'_, HashMap<u64, (Arc<Notify>, usize)>> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn register(&self, group_lobby_id: u64) -> Arc<Notify> {
        let mut waiters = self.waiters();
        let entry = waiters
            .entry(group_lobby_id)
            .or_insert_with(|| (Arc::new(Notify::new()), 0));
        entry.1 += 1;
        entry.0.clone()
    }

    fn unregister(&self, group_lobby_id: u64) {
        let mut waiters = self.waiters();
        if let Some(entry) = waiters.get_mut(&group_lobby_id) {
            entry.1 = entry.1.saturating_sub(1);
            if entry.1 == 0 {
                waiters.remove(&group_lobby_id);
            }
        }
    }

    pub(super) fn wake(&self, groups: &[u64]) {
        let waiters = self.waiters();
        for g in groups {
            if let Some((notify, _)) = waiters.get(g) {
                notify.notify_waiters();
            }
        }
    }

    pub(super) fn wake_all(&self) {
        for (notify, _) in self.waiters().values() {
            notify.notify_waiters();
        }
    }

    pub(super) fn close(&self) {
        self.closing.store(true, Ordering::SeqCst);
        self.wake_all();
    }

    pub(super) fn held_polls(&self) -> usize {
        self.waiters().values().map(|(_, n)| *n).sum()
    }

    pub(super) fn views(&self) -> Vec<SearchView> {
        self.views.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_views(&self, views: Vec<SearchView>) {
        *self.views.lock().unwrap_or_else(|e| e.into_inner()) = views;
    }
}

fn stored(q: &QueueKey) -> StoredQueue {
    StoredQueue {
        game_type: q.game_type.clone(),
        rule_set: q.rule_set.clone(),
        ranking: q.ranking.clone(),
        network_version: q.network_version,
    }
}

fn queue_key(q: &StoredQueue) -> QueueKey {
    QueueKey {
        game_type: q.game_type.clone(),
        rule_set: q.rule_set.clone(),
        ranking: q.ranking.clone(),
        network_version: q.network_version,
    }
}

/// A database time as an `Instant` of this process, given one moment known
/// on both clocks.
fn instant_at(now: Instant, now_ms: i64, at_ms: i64) -> Instant {
    let ago = Duration::from_millis(now_ms.saturating_sub(at_ms).max(0) as u64);
    now.checked_sub(ago).unwrap_or(now)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

enum Outcome {
    Answer(MatchmakingResult),
    /// Nothing for this party yet; look again by then at the latest.
    Wait(Option<Instant>),
    /// A race formed without this party; step again at once.
    Again,
}

/// Counts the poll as held (here and in its row) while its future lives.
struct SharedPoll {
    matchmaker: Arc<Matchmaker>,
    group_lobby_id: u64,
    in_row: bool,
}

impl Drop for SharedPoll {
    fn drop(&mut self) {
        if let Some(shared) = &self.matchmaker.shared {
            shared.unregister(self.group_lobby_id);
        }
        if !self.in_row {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let store = self.matchmaker.store.clone();
        let group = self.group_lobby_id;
        handle.spawn(async move {
            if let Err(e) = store.mm_shared_pool().poll_ended(group).await {
                // The row's hold time runs out on its own.
                tracing::warn!(error = %e, group_lobby_id = group, "could not record the end of a matchmaking poll");
            }
        });
    }
}

impl Matchmaker {
    /// The long poll on the shared pool: same answers as the in-process
    /// one, whichever instance holds the poll.
    pub(super) async fn search_shared(
        self: &Arc<Self>,
        shared: &Shared,
        request: SearchRequest,
        season_id: i64,
    ) -> Result<MatchmakingResult, StoreError> {
        let session_id = self.next_session_id().await?;
        let hold = Duration::from_secs_f64(self.settings.hold_secs);
        let deadline = Instant::now() + hold;
        let notify = shared.register(request.group_lobby_id);
        let mut poll = SharedPoll {
            matchmaker: self.clone(),
            group_lobby_id: request.group_lobby_id,
            in_row: false,
        };
        self.store
            .mm_shared_pool()
            .poll_started(&PollStart {
                group_lobby_id: request.group_lobby_id,
                user_id: request.user_id,
                steam_id: request.steam_id,
                queue: stored(&request.queue),
                group_size: request.group_size.max(1),
                skill: pool::rating(request.skill_level),
                game_lobby_id: request.game_lobby_id,
                hold_ms: millis(hold) + HOLD_GRACE_MS,
            })
            .await?;
        poll.in_row = true;
        loop {
            let notified = notify.clone().notified_owned();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let last_look = Instant::now() >= deadline;
            let outcome = match self
                .shared_step(shared, &request, session_id, season_id, last_look)
                .await
            {
                Ok(outcome) => outcome,
                Err(e) if Instant::now() < deadline => {
                    // A deadlock victim or a dropped connection: the step
                    // rolled back whole, so it can simply run again.
                    tracing::warn!(error = %e, "matchmaking step failed; retrying");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                Err(e) => return Err(e),
            };
            match outcome {
                Outcome::Answer(result) => return Ok(result),
                Outcome::Again => continue,
                Outcome::Wait(_) if last_look => {
                    return self.shared_not_yet(&request, session_id).await;
                }
                Outcome::Wait(until) => {
                    let wake = until
                        .map_or(deadline, |u| u.min(deadline))
                        .min(Instant::now() + RECHECK);
                    tokio::select! {
                        _ = &mut notified => {}
                        _ = tokio::time::sleep_until(wake) => {}
                    }
                }
            }
        }
    }

    async fn shared_not_yet(
        &self,
        request: &SearchRequest,
        session_id: i64,
    ) -> Result<MatchmakingResult, StoreError> {
        let mut tx = self.store.mm_shared_pool().begin().await?;
        let result = self
            .with_shared_waits(&mut tx, pool::not_yet(request, session_id))
            .await?;
        tx.commit().await?;
        Ok(result)
    }

    async fn with_shared_waits(
        &self,
        tx: &mut PoolStep,
        mut result: MatchmakingResult,
    ) -> Result<MatchmakingResult, StoreError> {
        let default = self.settings.default_average_wait_secs;
        for ranked in [true, false] {
            let mut waits = WaitTimes::default();
            for seconds in tx.recent_waits(ranked, RECENT_WAITS).await? {
                waits.record(ranked, seconds);
            }
            let average = waits.average(ranked, default);
            if ranked {
                result.average_wait_ranked = average;
            } else {
                result.average_wait_non_ranked = average;
            }
        }
        Ok(result)
    }

    /// One look at the pool in one transaction. With `last_look` the party
    /// is only told a race it was already placed in (as the in-process
    /// pool does when the hold runs out).
    async fn shared_step(
        &self,
        shared: &Shared,
        request: &SearchRequest,
        session_id: i64,
        season_id: i64,
        last_look: bool,
    ) -> Result<Outcome, StoreError> {
        let me = request.group_lobby_id;
        if shared.closing.load(Ordering::SeqCst) {
            return Ok(Outcome::Answer(
                self.shared_not_yet(request, session_id).await?,
            ));
        }
        let mut tx = self.store.mm_shared_pool().begin().await?;
        let now = Instant::now();
        let now_ms = tx.now_ms;
        let at = |ms: i64| instant_at(now, now_ms, ms);
        tx.lock_queue(&stored(&request.queue)).await?;
        let secs = |s: f64| millis(Duration::from_secs_f64(s.max(0.0)));
        tx.purge(PurgeRules {
            leave_ms: secs(self.settings.leave_after_secs),
            keep_ms: secs(self.settings.late_join_secs + self.settings.leave_after_secs + 60.0),
        })
        .await?;
        let Some(mine) = tx.search(me).await? else {
            // Cancelled or left while held.
            let result = self
                .with_shared_waits(&mut tx, pool::not_yet(request, session_id))
                .await?;
            tx.commit().await?;
            return Ok(Outcome::Answer(result));
        };
        if last_look && mine.assigned.is_none() {
            tx.commit().await?;
            return Ok(Outcome::Wait(None));
        }
        let mut snapshot = Pool::new(self.settings.clone()).with_random_race_keys();
        let since = now_ms - secs(self.settings.late_join_secs);
        let matches = tx
            .matches(&mine.queue, since, mine.assigned.as_deref())
            .await?;
        let mut ids = HashMap::new();
        for (i, m) in matches.into_iter().enumerate() {
            let id = i as u64 + 1;
            ids.insert(m.race_key.clone(), id);
            snapshot.load_match(id, match_view(m, &at));
        }
        let others = if mine.assigned.is_none() {
            tx.open_searches(&mine.queue).await?
        } else {
            Vec::new()
        };
        let started_ms = mine.started_ms;
        let was_assigned = mine.assigned.is_some();
        for row in std::iter::once(mine).chain(others) {
            // A race no longer stored leaves the party waiting, as a
            // forgotten race does in-process (id 0 is never a race).
            let assigned = row
                .assigned
                .as_ref()
                .map(|key| ids.get(key).copied().unwrap_or(0));
            snapshot.load_search(loaded(row, assigned, &at));
        }
        let waited = (now_ms - started_ms).max(0) as f64 / 1000.0;
        match snapshot.step(request, now, session_id) {
            Step::Deliver(result) => {
                let Some(id) = snapshot.match_id(&result.race_key) else {
                    // Not a race (the pool answered "nothing yet").
                    tx.commit().await?;
                    return Ok(Outcome::Answer(result));
                };
                let view = snapshot.match_view(id).expect("the race was just found");
                if !was_assigned {
                    // Joined a forming race late: its party list grows.
                    if let Some((position, member)) = view
                        .members
                        .iter()
                        .enumerate()
                        .find(|(_, m)| m.group_lobby_id == me)
                    {
                        tx.add_member(&view.race_key, &member_row(member), position)
                            .await?;
                    }
                }
                self.finish(tx, me, view.queue.is_ranked(), waited, result)
                    .await
                    .map(Outcome::Answer)
            }
            Step::Formed(formed) => {
                let view = snapshot
                    .match_view(formed.match_id)
                    .expect("a formed race is in the pool");
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
                let row = MatchRow {
                    race_key: view.race_key.clone(),
                    session_id: view.session_id,
                    queue: stored(&view.queue),
                    host_skill: view.host_skill,
                    formed_ms: now_ms,
                    started: false,
                    teams: view.teams,
                    max_players: view.max_players,
                    members: view.members.iter().map(member_row).collect(),
                };
                tx.store_match(&row, &race, &formed.steam_ids).await?;
                self.count_formed();
                snapshot.mark_ready(formed.match_id);
                match snapshot.deliver(me, now) {
                    Some(result) => self
                        .finish(tx, me, view.queue.is_ranked(), waited, result)
                        .await
                        .map(Outcome::Answer),
                    None => {
                        tx.commit().await?;
                        Ok(Outcome::Again)
                    }
                }
            }
            Step::Wait { until, .. } => {
                tx.commit().await?;
                Ok(Outcome::Wait(until))
            }
        }
    }

    /// The party is told its race: its search ends and its wait counts.
    async fn finish(
        &self,
        mut tx: PoolStep,
        me: u64,
        ranked: bool,
        waited: f64,
        result: MatchmakingResult,
    ) -> Result<MatchmakingResult, StoreError> {
        tx.remove_search(me).await?;
        tx.record_wait(ranked, waited).await?;
        let result = self.with_shared_waits(&mut tx, result).await?;
        tx.commit().await?;
        Ok(result)
    }

    /// Every search on every instance, read now (and kept for
    /// [`Matchmaker::searching`]).
    pub(super) async fn shared_views(
        &self,
        shared: &Shared,
    ) -> Result<Vec<SearchView>, StoreError> {
        let (rows, now_ms) = self.store.mm_shared_pool().searches().await?;
        let mut views: Vec<SearchView> = rows
            .into_iter()
            .map(|r| SearchView {
                group_lobby_id: r.group_lobby_id,
                user_id: r.user_id,
                queue: queue_key(&r.queue),
                group_size: r.group_size,
                waiting_secs: (now_ms - r.started_ms).max(0) as f64 / 1000.0,
                matched: r.assigned.is_some(),
            })
            .collect();
        views.sort_by(|a, b| b.waiting_secs.total_cmp(&a.waiting_secs));
        shared.set_views(views.clone());
        Ok(views)
    }

    /// Wakes this instance's held polls when any instance changes their
    /// searches, until shutdown. Reconnects on its own; meanwhile polls
    /// still look again every few seconds.
    pub async fn run_pool_listener(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let Some(shared) = &self.shared else {
            return;
        };
        loop {
            let mut listener = tokio::select! {
                l = self.store.mm_pool_listener() => match l {
                    Ok(Some(l)) => l,
                    Ok(None) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for matchmaking changes; retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                            _ = shutdown.changed() => return,
                        }
                    }
                },
                _ = shutdown.changed() => return,
            };
            // Anything may have happened while not listening.
            shared.wake_all();
            loop {
                tokio::select! {
                    heard = listener.recv() => match heard {
                        Ok(Heard::Groups(groups)) => shared.wake(&groups),
                        Ok(Heard::Reconnected) => shared.wake_all(),
                        Err(e) => {
                            tracing::warn!(error = %e, "matchmaking listener lost its connection");
                            break;
                        }
                    },
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
}

fn match_view(m: MatchRow, at: &impl Fn(i64) -> Instant) -> MatchView {
    MatchView {
        session_id: m.session_id,
        race_key: m.race_key,
        queue: queue_key(&m.queue),
        members: m
            .members
            .into_iter()
            .map(|x| pool::MemberView {
                group_lobby_id: x.group_lobby_id,
                game_lobby_id: x.game_lobby_id,
                size: x.group_size,
                is_host: x.is_host,
                team: x.team,
            })
            .collect(),
        host_skill: m.host_skill,
        formed: at(m.formed_ms),
        started: m.started,
        teams: m.teams,
        max_players: m.max_players,
    }
}

fn member_row(m: &pool::MemberView) -> MemberRow {
    MemberRow {
        group_lobby_id: m.group_lobby_id,
        game_lobby_id: m.game_lobby_id,
        group_size: m.size,
        is_host: m.is_host,
        team: m.team,
    }
}

fn loaded(row: SearchRow, assigned: Option<u64>, at: &impl Fn(i64) -> Instant) -> LoadedSearch {
    LoadedSearch {
        group_lobby_id: row.group_lobby_id,
        user_id: row.user_id,
        steam_id: row.steam_id,
        queue: queue_key(&row.queue),
        group_size: row.group_size,
        skill: row.skill,
        game_lobby_id: row.game_lobby_id,
        started: at(row.started_ms),
        last_seen: at(row.last_seen_ms),
        active: row.active,
        assigned,
    }
}
