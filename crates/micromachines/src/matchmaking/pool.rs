//! The in-memory search pool. Every method runs under the matchmaker's lock
//! and never awaits; time comes in as a monotonic `Instant`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use pitlane_core::config::MatchmakingSettings;
use tokio::sync::Notify;
use tokio::time::Instant;

use super::wait_times::WaitTimes;
use super::{group, new_race_key, random_race_key, teams, SearchRequest};
use crate::contracts::MatchmakingResult;

/// Searches are compatible when all four agree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct QueueKey {
    pub game_type: String,
    pub rule_set: String,
    pub ranking: String,
    pub network_version: i64,
}

impl QueueKey {
    pub fn is_ranked(&self) -> bool {
        self.ranking.eq_ignore_ascii_case("Ranked")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchView {
    pub group_lobby_id: u64,
    pub user_id: i64,
    pub queue: QueueKey,
    pub group_size: u32,
    pub waiting_secs: f64,
    pub matched: bool,
}

#[derive(Debug)]
struct Search {
    user_id: i64,
    steam_id: u64,
    queue: QueueKey,
    group_size: u32,
    skill: u32,
    game_lobby_id: u64,
    started: Instant,
    last_seen: Instant,
    active_polls: u32,
    assigned: Option<u64>,
    notify: Arc<Notify>,
}

#[derive(Debug, Clone)]
struct Member {
    group_lobby_id: u64,
    game_lobby_id: u64,
    size: u32,
    is_host: bool,
    team: i64,
}

#[derive(Debug)]
struct Match {
    session_id: i64,
    race_key: String,
    queue: QueueKey,
    members: Vec<Member>,
    host_skill: u32,
    formed: Instant,
    ready: bool,
    started: bool,
    teams: u32,
    max_players: u32,
}

/// A race just formed, for the caller to store before it is announced.
#[derive(Debug, Clone)]
pub struct Formed {
    pub match_id: u64,
    pub race_key: String,
    pub session_id: i64,
    pub queue: QueueKey,
    pub steam_ids: Vec<u64>,
}

pub enum Step {
    Deliver(MatchmakingResult),
    Formed(Formed),
    Wait {
        notify: Arc<Notify>,
        until: Option<Instant>,
    },
}

#[derive(Debug)]
pub struct Pool {
    settings: MatchmakingSettings,
    searches: HashMap<u64, Search>,
    /// By match id, which grows with time: the oldest races are first, so
    /// forgetting them and finding recent ones never walks the whole map
    /// (a busy server forms thousands of races a minute).
    matches: BTreeMap<u64, Match>,
    /// When the first idle search (no poll open) passes `leave_after_secs`:
    /// before then a purge has nothing to drop and skips the walk.
    searches_due: Option<Instant>,
    next_match: u64,
    closing: bool,
    pub waits: WaitTimes,
    /// How formed races get their keys (see [`super::new_race_key`]).
    race_key: fn() -> String,
}

/// The rating part of `SkillLevel`: the capture's values were
/// 0x0FAF0000 + n with n counting retries, so the low 16 bits are not skill
/// (inferred).
pub(super) fn rating(skill_level: u64) -> u32 {
    ((skill_level >> 16) & 0xFFFF_FFFF) as u32
}

impl Pool {
    pub fn new(settings: MatchmakingSettings) -> Self {
        Self {
            settings,
            searches: HashMap::new(),
            matches: BTreeMap::new(),
            searches_due: None,
            next_match: 1,
            closing: false,
            waits: WaitTimes::default(),
            race_key: new_race_key,
        }
    }

    /// Formed races get wholly random keys: for the pool several instances
    /// share, where two servers' time-ordered keys could meet.
    pub fn with_random_race_keys(mut self) -> Self {
        self.race_key = random_race_key;
        self
    }

    fn secs(&self, s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    /// Allowed rating difference after waiting `waited`.
    fn band(&self, waited: Duration) -> Option<u32> {
        if waited.as_secs_f64() >= self.settings.skill_band_open_after_secs {
            return None;
        }
        let widen =
            (waited.as_secs_f64() * f64::from(self.settings.skill_band_widen_per_sec)) as u32;
        Some(self.settings.skill_band_initial.saturating_add(widen))
    }

    fn compatible(
        &self,
        a_skill: u32,
        a_started: Instant,
        b_skill: u32,
        b_started: Instant,
        now: Instant,
    ) -> bool {
        let diff = a_skill.abs_diff(b_skill);
        let ok = |started: Instant| match self.band(now.saturating_duration_since(started)) {
            None => true,
            Some(band) => diff <= band,
        };
        ok(a_started) || ok(b_started)
    }

    pub fn poll_started(&mut self, r: &SearchRequest, now: Instant) {
        let fresh = |notify: Arc<Notify>| Search {
            user_id: r.user_id,
            steam_id: r.steam_id,
            queue: r.queue.clone(),
            group_size: r.group_size.max(1),
            skill: rating(r.skill_level),
            game_lobby_id: r.game_lobby_id,
            started: now,
            last_seen: now,
            active_polls: 0,
            assigned: None,
            notify,
        };
        let search = self
            .searches
            .entry(r.group_lobby_id)
            .or_insert_with(|| fresh(Arc::new(Notify::new())));
        if search.assigned.is_none() && search.queue != r.queue {
            // The party changed what it searches for: a new search.
            *search = fresh(search.notify.clone());
        }
        search.user_id = r.user_id;
        search.steam_id = r.steam_id;
        search.group_size = r.group_size.max(1);
        search.skill = rating(r.skill_level);
        search.game_lobby_id = r.game_lobby_id;
        search.last_seen = now;
        search.active_polls += 1;
        if let Some(id) = search.assigned {
            if let Some(m) = self.matches.get_mut(&id) {
                // Only the host's lobby is joined by others; a member's own
                // lobby id follows its latest call.
                if let Some(member) = m
                    .members
                    .iter_mut()
                    .find(|m| m.group_lobby_id == r.group_lobby_id && !m.is_host)
                {
                    member.game_lobby_id = r.game_lobby_id;
                }
            }
        }
    }

    pub fn poll_ended(&mut self, group_lobby_id: u64, now: Instant) {
        if let Some(search) = self.searches.get_mut(&group_lobby_id) {
            search.active_polls = search.active_polls.saturating_sub(1);
            search.last_seen = now;
            if search.active_polls == 0 {
                self.search_idle_since(now);
            }
        }
    }

    /// Notes that a search with no poll open was last seen at `last_seen`.
    fn search_idle_since(&mut self, last_seen: Instant) {
        let due = last_seen + self.secs(self.settings.leave_after_secs);
        self.searches_due = Some(self.searches_due.map_or(due, |d| d.min(due)));
    }

    /// Drops parties that stopped polling (and takes them out of races they
    /// had not yet been told about) and forgets old races.
    fn purge(&mut self, now: Instant) {
        let leave = self.secs(self.settings.leave_after_secs);
        if self.searches_due.is_some_and(|due| now > due) {
            self.searches_due = None;
            let mut gone = Vec::new();
            for (id, s) in &self.searches {
                if s.active_polls > 0 {
                    continue;
                }
                if now.saturating_duration_since(s.last_seen) > leave {
                    gone.push(*id);
                } else {
                    let due = s.last_seen + leave;
                    self.searches_due = Some(self.searches_due.map_or(due, |d| d.min(due)));
                }
            }
            for id in gone {
                if let Some(search) = self.searches.remove(&id) {
                    if let Some(m) = search.assigned.and_then(|mid| self.matches.get_mut(&mid)) {
                        m.members
                            .retain(|member| member.group_lobby_id != id || member.is_host);
                    }
                    tracing::debug!(
                        group_lobby_id = id,
                        user_id = search.user_id,
                        "party left matchmaking"
                    );
                }
            }
        }
        // A race is dropped once nobody can join it late and every party in
        // it has been told (a busy server forms thousands a minute), and in
        // any case after `keep`.
        let late_join = self.secs(self.settings.late_join_secs);
        let keep = self.secs(self.settings.late_join_secs + self.settings.leave_after_secs + 60.0);
        while let Some(oldest) = self.matches.first_entry() {
            let id = *oldest.key();
            let age = now.saturating_duration_since(oldest.get().formed);
            let untold = oldest.get().members.iter().any(|m| {
                self.searches
                    .get(&m.group_lobby_id)
                    .is_some_and(|s| s.assigned == Some(id))
            });
            if age <= keep && (age <= late_join || untold) {
                break;
            }
            oldest.remove();
        }
    }

    pub fn close(&mut self) {
        self.closing = true;
        for s in self.searches.values() {
            s.notify.notify_waiters();
        }
    }

    pub fn step(&mut self, r: &SearchRequest, now: Instant, session_id: i64) -> Step {
        if self.closing {
            return Step::Deliver(self.not_yet(r, session_id));
        }
        self.purge(now);
        let Some(search) = self.searches.get(&r.group_lobby_id) else {
            // Cancelled while held.
            return Step::Deliver(self.not_yet(r, session_id));
        };
        let notify = search.notify.clone();
        if let Some(id) = search.assigned {
            if self.matches.get(&id).is_some_and(|m| m.ready) {
                if let Some(result) = self.deliver(r.group_lobby_id, now) {
                    return Step::Deliver(result);
                }
            }
            return Step::Wait {
                notify,
                until: None,
            };
        }
        if r.start_now {
            return Step::Formed(self.form_now(r.group_lobby_id, now, session_id));
        }
        if let Some(result) = self.late_join(r.group_lobby_id, now) {
            return Step::Deliver(result);
        }
        let (formed, until) = self.try_form(&r.queue, now, session_id);
        match formed {
            Some(formed) => Step::Formed(formed),
            None => Step::Wait { notify, until },
        }
    }

    /// Unplaced, live searches of a queue, longest waiting first.
    fn candidates(&self, queue: &QueueKey) -> Vec<u64> {
        let mut ids: Vec<(Instant, u64)> = self
            .searches
            .iter()
            .filter(|(_, s)| s.assigned.is_none() && &s.queue == queue)
            .map(|(id, s)| (s.started, *id))
            .collect();
        ids.sort();
        ids.into_iter().map(|(_, id)| id).collect()
    }

    fn try_form(
        &mut self,
        queue: &QueueKey,
        now: Instant,
        session_id: i64,
    ) -> (Option<Formed>, Option<Instant>) {
        let max = self.settings.mode(&queue.rule_set).max_players;
        let gather = self.secs(self.settings.gather_secs);
        let candidates = self.candidates(queue);
        let mut next: Option<Instant> = None;
        // Bounded work per call even with thousands searching.
        for &anchor in candidates.iter().take(64) {
            let a = &self.searches[&anchor];
            let mut members = vec![anchor];
            let mut total = a.group_size;
            for &other in &candidates {
                if other == anchor {
                    continue;
                }
                let o = &self.searches[&other];
                if total + o.group_size > max {
                    continue;
                }
                if self.compatible(a.skill, a.started, o.skill, o.started, now) {
                    members.push(other);
                    total += o.group_size;
                    if total >= max {
                        break;
                    }
                }
            }
            if members.len() < 2 {
                continue;
            }
            members.sort_by_key(|id| (self.searches[id].started, *id));
            let second = self.searches[&members[1]].started;
            let ready_at = second + gather;
            if total >= max || now >= ready_at {
                let host = members
                    .iter()
                    .copied()
                    .find(|id| self.searches[id].active_polls > 0);
                if let Some(host) = host {
                    return (Some(self.form(members, host, now, session_id)), None);
                }
            } else {
                next = Some(next.map_or(ready_at, |n: Instant| n.min(ready_at)));
            }
        }
        (None, next)
    }

    /// "Start now with whoever is matched": the caller hosts, compatible
    /// searchers of the same queue join while there is room, AI fills the rest.
    fn form_now(&mut self, me: u64, now: Instant, session_id: i64) -> Formed {
        let (queue, skill, started, size) = {
            let s = &self.searches[&me];
            (s.queue.clone(), s.skill, s.started, s.group_size)
        };
        let max = self.settings.mode(&queue.rule_set).max_players;
        let mut members = vec![me];
        let mut total = size;
        for other in self.candidates(&queue) {
            if other == me {
                continue;
            }
            let o = &self.searches[&other];
            if total + o.group_size <= max
                && self.compatible(skill, started, o.skill, o.started, now)
            {
                members.push(other);
                total += o.group_size;
            }
        }
        self.form(members, me, now, session_id)
    }

    fn form(&mut self, mut members: Vec<u64>, host: u64, now: Instant, session_id: i64) -> Formed {
        members.sort_by_key(|id| (*id != host, self.searches[id].started, *id));
        let queue = self.searches[&host].queue.clone();
        let mode = self.settings.mode(&queue.rule_set);
        let sizes: Vec<u32> = members
            .iter()
            .map(|id| self.searches[id].group_size)
            .collect();
        let team_of = if mode.teams == 2 {
            teams::balance(&sizes)
        } else {
            vec![1; sizes.len()]
        };
        let match_id = self.next_match;
        self.next_match += 1;
        let race_key = (self.race_key)();
        let mut steam_ids = Vec::with_capacity(members.len());
        let mut list = Vec::with_capacity(members.len());
        for (i, id) in members.iter().enumerate() {
            let s = self.searches.get_mut(id).expect("members are searches");
            s.assigned = Some(match_id);
            steam_ids.push(s.steam_id);
            list.push(Member {
                group_lobby_id: *id,
                game_lobby_id: s.game_lobby_id,
                size: s.group_size,
                is_host: *id == host,
                team: team_of[i],
            });
        }
        let host_skill = self.searches[&host].skill;
        self.matches.insert(
            match_id,
            Match {
                session_id,
                race_key: race_key.clone(),
                queue: queue.clone(),
                members: list,
                host_skill,
                formed: now,
                ready: false,
                started: false,
                teams: mode.teams,
                max_players: mode.max_players,
            },
        );
        tracing::info!(%race_key, session_id, rule_set = %queue.rule_set, parties = members.len(), players = sizes.iter().sum::<u32>(), "race formed");
        Formed {
            match_id,
            race_key,
            session_id,
            queue,
            steam_ids,
        }
    }

    /// A search joins a formed, not yet started race of its queue with room.
    fn late_join(&mut self, me: u64, now: Instant) -> Option<MatchmakingResult> {
        let window = self.secs(self.settings.late_join_secs);
        let (queue, skill, started, size) = {
            let s = &self.searches[&me];
            (s.queue.clone(), s.skill, s.started, s.group_size)
        };
        // Newest first, back to the window's edge (ids follow formation
        // time to within the few microseconds between two requests' clock
        // reads, hence the slack); the oldest open race gets the player.
        let slack = window + Duration::from_secs(1);
        let target = self
            .matches
            .iter()
            .rev()
            .take_while(|(_, m)| now.saturating_duration_since(m.formed) <= slack)
            .filter(|(_, m)| {
                let players: u32 = m.members.iter().map(|x| x.size).sum();
                let open =
                    m.ready && !m.started && now.saturating_duration_since(m.formed) <= window;
                open && m.queue == queue
                    && players + size <= m.max_players
                    && self.compatible(skill, started, m.host_skill, m.formed, now)
            })
            .last()
            .map(|(id, _)| *id)?;
        let game_lobby_id = self.searches[&me].game_lobby_id;
        let m = self.matches.get_mut(&target)?;
        let team = if m.teams == 2 {
            let t1: u32 = m
                .members
                .iter()
                .filter(|x| x.team == 1)
                .map(|x| x.size)
                .sum();
            let t2: u32 = m
                .members
                .iter()
                .filter(|x| x.team == 2)
                .map(|x| x.size)
                .sum();
            if t1 <= t2 {
                1
            } else {
                2
            }
        } else {
            1
        };
        m.members.push(Member {
            group_lobby_id: me,
            game_lobby_id,
            size,
            is_host: false,
            team,
        });
        tracing::info!(race_key = %m.race_key, group_lobby_id = me, "late searcher joined a forming race");
        if let Some(s) = self.searches.get_mut(&me) {
            s.assigned = Some(target);
        }
        self.deliver(me, now)
    }

    pub fn mark_ready(&mut self, match_id: u64) {
        if let Some(m) = self.matches.get_mut(&match_id) {
            m.ready = true;
            for member in &m.members {
                if let Some(s) = self.searches.get(&member.group_lobby_id) {
                    s.notify.notify_waiters();
                }
            }
        }
    }

    pub fn is_ready_for(&self, group_lobby_id: u64) -> bool {
        if self.closing {
            return true;
        }
        match self.searches.get(&group_lobby_id) {
            None => true,
            Some(s) => s
                .assigned
                .and_then(|id| self.matches.get(&id))
                .is_some_and(|m| m.ready),
        }
    }

    /// The race result for a placed party; its search ends here.
    pub fn deliver(&mut self, group_lobby_id: u64, now: Instant) -> Option<MatchmakingResult> {
        let search = self.searches.get(&group_lobby_id)?;
        let m = self.matches.get(&search.assigned?)?;
        if !m.ready {
            return None;
        }
        let result = MatchmakingResult {
            average_wait_non_ranked: 0.0,
            average_wait_ranked: 0.0,
            groups: m
                .members
                .iter()
                .map(|x| group(x.game_lobby_id, x.group_lobby_id, x.size, x.is_host, x.team))
                .collect(),
            race_key: m.race_key.clone(),
            session_id: m.session_id,
        };
        let ranked = m.queue.is_ranked();
        let waited = now.saturating_duration_since(search.started).as_secs_f64();
        self.searches.remove(&group_lobby_id);
        self.waits.record(ranked, waited);
        Some(self.with_waits(result))
    }

    fn with_waits(&self, mut result: MatchmakingResult) -> MatchmakingResult {
        let default = self.settings.default_average_wait_secs;
        result.average_wait_ranked = self.waits.average(true, default);
        result.average_wait_non_ranked = self.waits.average(false, default);
        result
    }

    /// "Nothing yet": the party alone, host of its own lobby, Team 0, with a
    /// fresh RaceKey and SessionId, as the official server answered a
    /// search that timed out.
    pub fn not_yet(&self, r: &SearchRequest, session_id: i64) -> MatchmakingResult {
        self.with_waits(not_yet(r, session_id))
    }

    pub fn cancel(&mut self, user_id: i64, group_lobby_id: Option<u64>) -> usize {
        let ids: Vec<u64> = self
            .searches
            .iter()
            .filter(|(id, s)| s.user_id == user_id && group_lobby_id.is_none_or(|g| g == **id))
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            if let Some(s) = self.searches.remove(id) {
                if let Some(m) = s.assigned.and_then(|mid| self.matches.get_mut(&mid)) {
                    m.members
                        .retain(|member| member.group_lobby_id != *id || member.is_host);
                }
                s.notify.notify_waiters();
            }
        }
        ids.len()
    }

    pub fn mark_started(&mut self, race_key: &str) {
        // A race is registered seconds after it formed: look newest first.
        if let Some(m) = self
            .matches
            .values_mut()
            .rev()
            .find(|m| m.race_key == race_key)
        {
            m.started = true;
        }
    }

    /// Polls held now.
    pub fn active_polls(&self) -> usize {
        self.searches
            .values()
            .map(|s| s.active_polls as usize)
            .sum()
    }

    pub fn views(&self, now: Instant) -> Vec<SearchView> {
        let mut views: Vec<SearchView> = self
            .searches
            .iter()
            .map(|(id, s)| SearchView {
                group_lobby_id: *id,
                user_id: s.user_id,
                queue: s.queue.clone(),
                group_size: s.group_size,
                waiting_secs: now.saturating_duration_since(s.started).as_secs_f64(),
                matched: s.assigned.is_some(),
            })
            .collect();
        views.sort_by(|a, b| b.waiting_secs.total_cmp(&a.waiting_secs));
        views
    }
}

/// "Nothing yet" without the wait averages, which the caller adds.
pub(super) fn not_yet(r: &SearchRequest, session_id: i64) -> MatchmakingResult {
    MatchmakingResult {
        average_wait_non_ranked: 0.0,
        average_wait_ranked: 0.0,
        groups: vec![group(
            r.game_lobby_id,
            r.group_lobby_id,
            r.group_size.max(1),
            true,
            0,
        )],
        race_key: new_race_key(),
        session_id,
    }
}

/// A search as read back from the shared pool, its times already turned
/// into this process's `Instant`s.
#[derive(Debug, Clone)]
pub(super) struct LoadedSearch {
    pub group_lobby_id: u64,
    pub user_id: i64,
    pub steam_id: u64,
    pub queue: QueueKey,
    pub group_size: u32,
    pub skill: u32,
    pub game_lobby_id: u64,
    pub started: Instant,
    pub last_seen: Instant,
    pub active: bool,
    pub assigned: Option<u64>,
}

/// A member of a race, for writing back to the shared pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MemberView {
    pub group_lobby_id: u64,
    pub game_lobby_id: u64,
    pub size: u32,
    pub is_host: bool,
    pub team: i64,
}

/// A race in the pool, for writing back to the shared pool.
#[derive(Debug, Clone)]
pub(super) struct MatchView {
    pub session_id: i64,
    pub race_key: String,
    pub queue: QueueKey,
    pub members: Vec<MemberView>,
    pub host_skill: u32,
    pub formed: Instant,
    pub started: bool,
    pub teams: u32,
    pub max_players: u32,
}

/// A snapshot of the shared pool runs the same rules as the in-process
/// pool: it is filled with the rows a step needs, stepped once, and what
/// changed is written back.
impl Pool {
    pub(super) fn load_search(&mut self, s: LoadedSearch) {
        self.searches.insert(
            s.group_lobby_id,
            Search {
                user_id: s.user_id,
                steam_id: s.steam_id,
                queue: s.queue,
                group_size: s.group_size.max(1),
                skill: s.skill,
                game_lobby_id: s.game_lobby_id,
                started: s.started,
                last_seen: s.last_seen,
                active_polls: u32::from(s.active),
                assigned: s.assigned,
                notify: Arc::new(Notify::new()),
            },
        );
        if !s.active {
            self.search_idle_since(s.last_seen);
        }
    }

    /// Loads a stored race (stored races are always announced: they are
    /// written in the same transaction that forms them).
    pub(super) fn load_match(&mut self, id: u64, m: MatchView) {
        self.next_match = self.next_match.max(id + 1);
        self.matches.insert(
            id,
            Match {
                session_id: m.session_id,
                race_key: m.race_key,
                queue: m.queue,
                members: m
                    .members
                    .into_iter()
                    .map(|x| Member {
                        group_lobby_id: x.group_lobby_id,
                        game_lobby_id: x.game_lobby_id,
                        size: x.size,
                        is_host: x.is_host,
                        team: x.team,
                    })
                    .collect(),
                host_skill: m.host_skill,
                formed: m.formed,
                ready: true,
                started: m.started,
                teams: m.teams,
                max_players: m.max_players,
            },
        );
    }

    pub(super) fn match_view(&self, id: u64) -> Option<MatchView> {
        let m = self.matches.get(&id)?;
        Some(MatchView {
            session_id: m.session_id,
            race_key: m.race_key.clone(),
            queue: m.queue.clone(),
            members: m
                .members
                .iter()
                .map(|x| MemberView {
                    group_lobby_id: x.group_lobby_id,
                    game_lobby_id: x.game_lobby_id,
                    size: x.size,
                    is_host: x.is_host,
                    team: x.team,
                })
                .collect(),
            host_skill: m.host_skill,
            formed: m.formed,
            started: m.started,
            teams: m.teams,
            max_players: m.max_players,
        })
    }

    /// The id of the race with this key, if loaded.
    pub(super) fn match_id(&self, race_key: &str) -> Option<u64> {
        self.matches
            .iter()
            .find_map(|(id, m)| (m.race_key == race_key).then_some(*id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue() -> QueueKey {
        QueueKey {
            game_type: "RankedRace".into(),
            rule_set: "Race".into(),
            ranking: "Unranked".into(),
            network_version: 1,
        }
    }

    fn search(group_lobby_id: u64, start_now: bool) -> SearchRequest {
        SearchRequest {
            user_id: group_lobby_id as i64,
            steam_id: 76561198000000000 + group_lobby_id,
            group_lobby_id,
            game_lobby_id: 1000 + group_lobby_id,
            queue: queue(),
            group_size: 1,
            skill_level: 0x0FAF_0000,
            start_now,
        }
    }

    fn pool() -> Pool {
        Pool::new(MatchmakingSettings {
            leave_after_secs: 20.0,
            late_join_secs: 10.0,
            ..MatchmakingSettings::default()
        })
    }

    /// A race formed at once by a start-now search, announced and delivered.
    fn race_now(pool: &mut Pool, id: u64, now: Instant) -> Formed {
        let r = search(id, true);
        pool.poll_started(&r, now);
        let Step::Formed(formed) = pool.step(&r, now, id as i64) else {
            panic!("a start-now search forms a race");
        };
        pool.mark_ready(formed.match_id);
        pool.deliver(id, now).expect("delivered");
        pool.poll_ended(id, now);
        formed
    }

    #[test]
    fn an_idle_search_leaves_exactly_after_leave_after_secs() {
        let mut pool = pool();
        let t0 = Instant::now();
        let waiting = search(1, false);
        pool.poll_started(&waiting, t0);
        pool.poll_ended(1, t0);
        // In a queue of its own: the two never form a race.
        let mut other = search(2, false);
        other.queue.network_version = 2;
        pool.poll_started(&other, t0);
        pool.step(&other, t0 + Duration::from_secs(20), 1);
        assert!(pool.searches.contains_key(&1), "not before its time");
        pool.step(&other, t0 + Duration::from_millis(20_001), 1);
        assert!(!pool.searches.contains_key(&1), "gone just after");
        assert!(
            pool.searches.contains_key(&2),
            "an open poll keeps a search"
        );
        assert_eq!(pool.searches_due, None, "nothing idle is left to wait for");
    }

    #[test]
    fn old_races_are_forgotten_oldest_first_and_late_joiners_get_the_oldest_open_one() {
        let mut pool = pool();
        let t0 = Instant::now();
        let first = race_now(&mut pool, 1, t0);
        let second = race_now(&mut pool, 2, t0 + Duration::from_secs(5));
        // A searcher at t0+8 s: both races are open (10 s window); the older
        // one gets the player.
        let late = search(3, false);
        pool.poll_started(&late, t0 + Duration::from_secs(8));
        let Step::Deliver(result) = pool.step(&late, t0 + Duration::from_secs(8), 3) else {
            panic!("joined a forming race");
        };
        assert_eq!(result.race_key, first.race_key);
        // Past the first race's window only the second is open.
        let later = search(4, false);
        pool.poll_started(&later, t0 + Duration::from_secs(12));
        let Step::Deliver(result) = pool.step(&later, t0 + Duration::from_secs(12), 4) else {
            panic!("joined a forming race");
        };
        assert_eq!(result.race_key, second.race_key);
        // Everyone in the first race has been told and nobody can join it
        // any more: forgotten; the second is still open.
        assert_eq!(pool.match_id(&first.race_key), None, "forgotten");
        pool.mark_started(&second.race_key);
        assert!(pool.matches[&second.match_id].started);
        let probe = search(9, false);
        pool.poll_started(&probe, t0 + Duration::from_secs(16));
        pool.step(&probe, t0 + Duration::from_secs(16), 9);
        assert_eq!(pool.match_id(&second.race_key), None, "forgotten too");
    }

    #[test]
    fn a_race_with_a_party_not_yet_told_is_kept_for_90_seconds() {
        let mut pool = pool();
        let t0 = Instant::now();
        // Two parties form a race; only the host hears of it.
        let (a, b) = (search(1, true), search(2, false));
        pool.poll_started(&b, t0);
        pool.poll_ended(2, t0);
        pool.poll_started(&a, t0);
        let Step::Formed(formed) = pool.step(&a, t0, 1) else {
            panic!("a start-now search forms a race");
        };
        assert_eq!(formed.steam_ids.len(), 2);
        pool.mark_ready(formed.match_id);
        pool.deliver(1, t0).expect("the host is told");
        // The other party keeps its search open (a poll in flight).
        pool.poll_started(&b, t0 + Duration::from_secs(1));
        let mut other = search(3, false);
        other.queue.network_version = 2;
        pool.poll_started(&other, t0 + Duration::from_secs(89));
        pool.step(&other, t0 + Duration::from_secs(89), 3);
        assert_eq!(pool.match_id(&formed.race_key), Some(formed.match_id));
        pool.step(&other, t0 + Duration::from_secs(91), 3);
        assert_eq!(pool.match_id(&formed.race_key), None, "kept at most 90 s");
    }
}
