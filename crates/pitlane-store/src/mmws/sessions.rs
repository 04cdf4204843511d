//! Login sessions. The client proves who it is only by the `SessionToken`
//! it got from Login; we keep a digest of it, never the token itself.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::AnyPool;

use super::{SessionCache, SessionLookups};
use crate::exec::{args, Columns, Exec, Statements};
use crate::Result;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmSession {
    pub user_id: i64,
    /// The account's SteamID64, read with the session: matchmaking and
    /// friends need it on every call, and a second lookup per request was
    /// a second trip to the database.
    pub steam_id: u64,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The game-configuration hash the client received at login, so a later
    /// call can tell it that the configuration changed since.
    pub config_hash: i64,
}

fn from_row(row: &impl Columns) -> Result<MmSession> {
    Ok(MmSession {
        user_id: row.int("user_id")?,
        steam_id: row.int("steam_id")? as u64,
        issued_at: from_millis(row.int("issued_at")?),
        expires_at: from_millis(row.int("expires_at")?),
        config_hash: row.int("config_hash")?,
    })
}

pub struct Sessions<'a> {
    pool: &'a AnyPool,
    /// Login's and every request's session statements (the SQLite lane).
    hot: Exec<'a>,
    cache: &'a SessionCache,
}

impl<'a> Sessions<'a> {
    pub(crate) fn new(pool: &'a AnyPool, hot: Exec<'a>, cache: &'a SessionCache) -> Self {
        Self { pool, hot, cache }
    }

    /// Stores a new session in place of the account's earlier one: each
    /// Login renews the session, as the official server's fresh token per
    /// login suggests, and a stolen old token stops working. One statement
    /// (an upsert on the unique user_id), so it is atomic on its own.
    pub async fn start(
        &self,
        token_digest: &str,
        session: &MmSession,
        client_addr: &str,
    ) -> Result<()> {
        let (digest, session, addr) = (
            token_digest.to_owned(),
            session.clone(),
            client_addr.to_owned(),
        );
        let stored = session.clone();
        let seen = self.cache.generation();
        self.hot
            .run(move |st| Box::pin(async move { start_in(st, &digest, &session, &addr).await }))
            .await?;
        self.cache.start(token_digest, &stored, seen);
        Ok(())
    }

    /// The live session behind a token digest, if it has not expired: from
    /// the cache when the database confirmed it recently (`session_cache`).
    pub async fn find(&self, token_digest: &str, now: DateTime<Utc>) -> Result<Option<MmSession>> {
        if let Some(session) = self.cache.get(token_digest, now) {
            return Ok(Some(session));
        }
        let seen = self.cache.generation();
        let row = self
            .hot
            .optional(
                "SELECT s.user_id, a.steam_id, s.issued_at, s.expires_at, s.config_hash \
                 FROM mm_sessions s JOIN mm_accounts a ON a.user_id = s.user_id \
                 WHERE s.token_digest = $1 AND s.expires_at > $2",
                args![token_digest, to_millis(now)],
            )
            .await?;
        let session = row.as_ref().map(from_row).transpose()?;
        match &session {
            Some(session) => self.cache.confirm(token_digest, session, seen),
            None => self.cache.forget_digest(token_digest),
        }
        Ok(session)
    }

    /// Session lookups since the store was opened, by where they were
    /// answered.
    pub fn lookups(&self) -> SessionLookups {
        self.cache.lookups()
    }

    /// The most recent live session started from `client_addr` by an
    /// account whose current display name is exactly `display_name`.
    /// EgoNet's login proves nothing by itself, so it borrows the identity
    /// of the MMCOS Login the same machine just made; "live" bounds how
    /// long ago that may have been to the session's own lifetime.
    pub async fn latest_login_from(
        &self,
        client_addr: &str,
        display_name: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<MmSession>> {
        let row = sqlx::query(
            "SELECT s.user_id, a.steam_id, s.issued_at, s.expires_at, s.config_hash \
             FROM mm_sessions s JOIN mm_accounts a ON a.user_id = s.user_id \
             WHERE s.client_addr = $1 AND a.display_name = $2 AND s.expires_at > $3 \
             ORDER BY s.issued_at DESC, s.user_id DESC LIMIT 1",
        )
        .bind(client_addr)
        .bind(display_name)
        .bind(to_millis(now))
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Deletes expired sessions; returns how many.
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> Result<u64> {
        self.hot
            .execute(
                "DELETE FROM mm_sessions WHERE expires_at <= $1",
                args![to_millis(now)],
            )
            .await
    }
}

/// [`Sessions::start`], as a part of larger store logic (Login's one job).
pub(crate) async fn start_in(
    st: &mut dyn Statements,
    token_digest: &str,
    session: &MmSession,
    client_addr: &str,
) -> Result<()> {
    st.run(
        "INSERT INTO mm_sessions (token_digest, user_id, issued_at, expires_at, client_addr, config_hash) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (user_id) DO UPDATE SET token_digest = excluded.token_digest, \
         issued_at = excluded.issued_at, expires_at = excluded.expires_at, \
         client_addr = excluded.client_addr, config_hash = excluded.config_hash",
        args![
            token_digest,
            session.user_id,
            to_millis(session.issued_at),
            to_millis(session.expires_at),
            client_addr,
            session.config_hash,
        ],
    )
    .await?;
    Ok(())
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::testing::databases;
    use crate::Store;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_336_721, 0).unwrap()
    }

    async fn login(store: &Store, steam_id: u64, name: &str, addr: &str, at: DateTime<Utc>) -> i64 {
        let (account, _) = store
            .mm_accounts()
            .login(steam_id, name, "t", at)
            .await
            .unwrap();
        let session = MmSession {
            user_id: account.user_id,
            steam_id: account.steam_id,
            issued_at: at,
            expires_at: at + Duration::hours(6),
            config_hash: 1,
        };
        store
            .mm_sessions()
            .start(
                &format!("digest-{steam_id}-{}", at.timestamp()),
                &session,
                addr,
            )
            .await
            .unwrap();
        account.user_id
    }

    /// The cache in front of `find` must never answer for a session the
    /// database would refuse: replaced by a newer login, ended by a ban.
    #[tokio::test]
    async fn cached_sessions_end_with_a_newer_login_and_a_ban() {
        for db in databases().await {
            let store = Store::open(&db.url).await.unwrap();
            let sessions = store.mm_sessions();
            let steam_id = 76561198081105540;
            let user = login(&store, steam_id, "Heatray", "10.0.0.1", t0()).await;
            let first = format!("digest-{steam_id}-{}", t0().timestamp());
            let soon = t0() + Duration::seconds(1);
            let found = sessions.find(&first, soon).await.unwrap();
            assert_eq!(found.map(|s| s.user_id), Some(user), "{}", db.label);
            let before = sessions.lookups();

            let later = t0() + Duration::minutes(1);
            login(&store, steam_id, "Heatray", "10.0.0.1", later).await;
            let second = format!("digest-{steam_id}-{}", later.timestamp());
            assert_eq!(
                sessions.find(&first, later).await.unwrap(),
                None,
                "{}",
                db.label
            );
            assert!(sessions.find(&second, later).await.unwrap().is_some());
            let after = sessions.lookups();
            assert_eq!(
                after.cache - before.cache,
                1,
                "the new session came from the cache"
            );
            assert_eq!(
                after.database - before.database,
                1,
                "the old one was asked for"
            );

            store
                .mm_bans()
                .ban(steam_id, "cheating", None, "admin", later)
                .await
                .unwrap();
            assert_eq!(
                sessions.find(&second, later).await.unwrap(),
                None,
                "{}",
                db.label
            );
            assert_eq!(sessions.find(&second, later).await.unwrap(), None);
            store.close().await;
        }
    }

    #[tokio::test]
    async fn latest_login_from_matches_address_name_and_lifetime() {
        for db in databases().await {
            let store = Store::open(&db.url).await.unwrap();
            let sessions = store.mm_sessions();
            let a = login(&store, 76561198081105540, "Heatray", "10.0.0.1", t0()).await;
            let b = login(&store, 76561197960287930, "Other", "10.0.0.1", t0()).await;
            let found = |addr: &'static str, name: &'static str, at| {
                let sessions = &sessions;
                async move {
                    sessions
                        .latest_login_from(addr, name, at)
                        .await
                        .unwrap()
                        .map(|s| s.user_id)
                }
            };
            let soon = t0() + Duration::seconds(2);
            assert_eq!(
                found("10.0.0.1", "Heatray", soon).await,
                Some(a),
                "{}",
                db.label
            );
            assert_eq!(found("10.0.0.1", "Other", soon).await, Some(b));
            assert_eq!(
                found("10.0.0.2", "Heatray", soon).await,
                None,
                "other address"
            );
            assert_eq!(
                found("10.0.0.1", "heatray", soon).await,
                None,
                "names are exact"
            );
            assert_eq!(found("10.0.0.1", "Nobody", soon).await, None);
            let expired = t0() + Duration::hours(6);
            assert_eq!(found("10.0.0.1", "Heatray", expired).await, None, "expired");

            // Same name behind one address: the later MMCOS Login wins.
            let later = t0() + Duration::minutes(1);
            let c = login(&store, 76561197960287931, "Heatray", "10.0.0.1", later).await;
            assert_eq!(
                found("10.0.0.1", "Heatray", later).await,
                Some(c),
                "{}",
                db.label
            );
            // The first player logging in again takes it back.
            let again = t0() + Duration::minutes(2);
            assert_eq!(
                login(&store, 76561198081105540, "Heatray", "10.0.0.1", again).await,
                a
            );
            assert_eq!(found("10.0.0.1", "Heatray", again).await, Some(a));
            store.close().await;
        }
    }
}
