//! `LeaderboardService.svc`: the season ranking, friends, and the page
//! around the caller.

use chrono::{DateTime, Utc};
use pitlane_store::mmws::{LeaderboardRow, MmSession};

use crate::contracts::{LeaderboardEntries, LeaderboardEntry};
use crate::http::Failure;
use crate::xml::{Element, XmlWriter};
use crate::MicroMachines;

fn entry(row: LeaderboardRow) -> LeaderboardEntry {
    LeaderboardEntry {
        division: row.division,
        name: row.name,
        platform_id: row.steam_id,
        points: row.points,
        title: row.title,
        untrusted_level: row.level,
        untrusted_prestige: row.prestige,
        user_id: row.user_id,
    }
}

impl MicroMachines {
    /// The caller's 0-based rank and points this season (a player without a
    /// score ranks after everyone who has one).
    async fn standing(&self, user_id: i64, season_id: i64) -> Result<(i64, i64), Failure> {
        let scores = self.store.mm_scores();
        Ok(match scores.get(season_id, user_id).await? {
            Some(score) => (scores.rank_of(&score).await?, score.points),
            None => (scores.ranked_players(season_id).await?, 0),
        })
    }

    fn page_size(&self, requested: i64) -> i64 {
        requested.clamp(0, i64::from(self.settings.leaderboards.max_page))
    }

    pub(crate) async fn get_elite(
        &self,
        session: &MmSession,
        e: &Element,
        now: DateTime<Utc>,
    ) -> Result<String, Failure> {
        let start = e.required_i64("StartRank")?.max(0);
        let count = self.page_size(e.required_i64("NumResults")?);
        let season_id = self.season_of(now);
        let rows = self.store.mm_scores().page(season_id, start, count).await?;
        let (player_rank, player_score) = self.standing(session.user_id, season_id).await?;
        let result = LeaderboardEntries {
            entries: rows.into_iter().map(entry).collect(),
            player_rank,
            player_score,
        };
        Ok(XmlWriter::document("LeaderboardEntries", &result))
    }

    /// The page of `NumResults` (default 10) entries centred on the caller
    /// (inferred: GetEliteRank was never captured).
    pub(crate) async fn get_elite_rank(
        &self,
        session: &MmSession,
        e: &Element,
        now: DateTime<Utc>,
    ) -> Result<String, Failure> {
        let count = match e.optional("NumResults") {
            Some(_) => self.page_size(e.required_i64("NumResults")?),
            None => self.page_size(10),
        };
        let season_id = self.season_of(now);
        let (player_rank, player_score) = self.standing(session.user_id, season_id).await?;
        let start = (player_rank - count / 2).max(0);
        let rows = self.store.mm_scores().page(season_id, start, count).await?;
        let result = LeaderboardEntries {
            entries: rows.into_iter().map(entry).collect(),
            player_rank,
            player_score,
        };
        Ok(XmlWriter::document("LeaderboardEntries", &result))
    }

    /// Friends (the client lists itself last) who scored this season, in
    /// leaderboard order; `PlayerRank` is the caller's index in that list
    /// (observed: 0 when the caller was the only entry).
    pub(crate) async fn get_friends(
        &self,
        session: &MmSession,
        e: &Element,
        now: DateTime<Utc>,
    ) -> Result<String, Failure> {
        let list = e
            .child("PlatformIds")
            .ok_or_else(|| Failure::bad_request("missing element PlatformIds"))?;
        let mut ids = Vec::new();
        for item in list.children_named("PlatformIdEntry") {
            ids.push(item.required_u64("PlatformId")?);
        }
        ids.truncate(self.settings.leaderboards.max_friends as usize);
        let me = session.steam_id;
        if !ids.contains(&me) {
            ids.push(me);
        }
        let max = match e.optional("MaxEntries") {
            Some(_) => self.page_size(e.required_i64("MaxEntries")?),
            None => self.page_size(100),
        };
        let season_id = self.season_of(now);
        let rows = self
            .store
            .mm_scores()
            .of_steam_ids(season_id, &ids, max)
            .await?;
        let position = rows.iter().position(|r| r.user_id == session.user_id);
        let player_score = match position {
            Some(i) => rows[i].points,
            None => self.standing(session.user_id, season_id).await?.1,
        };
        let player_rank = position.unwrap_or(rows.len()) as i64;
        let result = LeaderboardEntries {
            entries: rows.into_iter().map(entry).collect(),
            player_rank,
            player_score,
        };
        Ok(XmlWriter::document("LeaderboardEntries", &result))
    }
}
