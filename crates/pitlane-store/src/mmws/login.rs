//! Everything Login reads and writes, as one piece of store logic: the ban
//! check, the account (created on a first login) and its name, the new
//! session, and the player's standing this season. In the SQLite lane that
//! is one job instead of seven hand-offs; on PostgreSQL the same statements
//! run one by one, as the separate calls did.

use chrono::{DateTime, Utc};

use super::{
    bans, progression, scores, sessions, MmAccount, MmBan, MmSession, SeasonScore, SessionCache,
};
use crate::exec::Exec;
use crate::Result;

/// A Login the service has accepted the form of.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    pub steam_id: u64,
    pub display_name: String,
    /// For a new account.
    pub default_title: String,
    pub now: DateTime<Utc>,
    /// Digest of the new session token.
    pub token_digest: String,
    pub expires_at: DateTime<Utc>,
    pub client_addr: String,
    pub config_hash: i64,
    /// The season running at `now`.
    pub season_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Refused: nothing was written.
    Banned(MmBan),
    LoggedIn {
        account: MmAccount,
        created: bool,
        session: MmSession,
        standing: Standing,
    },
}

/// Where the player stands in the season, as Login shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    /// Scored this season: the score and its 0-based rank.
    Scored { score: SeasonScore, rank: i64 },
    /// Never scored in any season: shown after everyone who has.
    Unscored { ranked_players: i64 },
    /// Scored in an earlier season but not yet in this one: the head start
    /// is due first ([`super::Progression::enter_season`]).
    Returning,
}

pub struct Logins<'a> {
    hot: Exec<'a>,
    sessions: &'a SessionCache,
}

impl<'a> Logins<'a> {
    pub(crate) fn new(hot: Exec<'a>, sessions: &'a SessionCache) -> Self {
        Self { hot, sessions }
    }

    pub async fn login(&self, attempt: LoginAttempt) -> Result<LoginOutcome> {
        let digest = attempt.token_digest.clone();
        let seen = self.sessions.generation();
        let outcome = self
            .hot
            .run(move |st| {
                Box::pin(async move {
                    let a = &attempt;
                    if let Some(ban) = bans::get_in(st, a.steam_id).await? {
                        if ban.in_force(a.now) {
                            return Ok(LoginOutcome::Banned(ban));
                        }
                    }
                    let (account, created) = super::accounts::login_in(
                        st,
                        a.steam_id,
                        &a.display_name,
                        &a.default_title,
                        a.now,
                    )
                    .await?;
                    let session = MmSession {
                        user_id: account.user_id,
                        steam_id: account.steam_id,
                        issued_at: a.now,
                        expires_at: a.expires_at,
                        config_hash: a.config_hash,
                    };
                    sessions::start_in(st, &a.token_digest, &session, &a.client_addr).await?;
                    let standing =
                        match progression::latest_season_in(st, account.user_id, a.season_id)
                            .await?
                        {
                            Some(latest) if latest == a.season_id => {
                                match scores::get_in(st, a.season_id, account.user_id).await? {
                                    Some(score) => {
                                        let rank = scores::rank_of_in(st, &score).await?;
                                        Standing::Scored { score, rank }
                                    }
                                    None => Standing::Returning,
                                }
                            }
                            Some(_) => Standing::Returning,
                            None => Standing::Unscored {
                                ranked_players: scores::ranked_players_in(st, a.season_id).await?,
                            },
                        };
                    Ok(LoginOutcome::LoggedIn {
                        account,
                        created,
                        session,
                        standing,
                    })
                })
            })
            .await?;
        if let LoginOutcome::LoggedIn { session, .. } = &outcome {
            self.sessions.start(&digest, session, seen);
        }
        Ok(outcome)
    }
}
