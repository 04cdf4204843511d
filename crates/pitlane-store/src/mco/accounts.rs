//! MCO accounts: a name and an argon2 password, created by the operator
//! (`pitlane mco account add`) or by open registration. The customer id is
//! what the client quotes in every NPS message after login.

use std::time::Instant;

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{name_key, next_id, reserve_id, Counter, MAX_ID};
use crate::password::{self, HashError};
use crate::password_cache::{count_mco_check, CheckedBy, PasswordCache};
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McoAccount {
    /// Sequential, from 1; at most [`MAX_ID`].
    pub customer_id: i64,
    /// As it was given at creation; logins match it case-insensitively.
    pub username: String,
    pub ban: Option<Ban>,
    pub created_at: DateTime<Utc>,
    /// The last successful AuthLogin.
    pub last_login_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ban {
    pub since: DateTime<Utc>,
    /// `None`: until lifted by hand.
    pub until: Option<DateTime<Utc>>,
    pub reason: String,
}

impl McoAccount {
    /// Whether a ban is in force at `now`. Timed bans lapse by themselves,
    /// so nobody has to remember to lift them.
    pub fn is_banned(&self, now: DateTime<Utc>) -> bool {
        self.ban
            .as_ref()
            .is_some_and(|ban| ban.until.is_none_or(|until| until > now))
    }
}

/// Outcome of checking a name and password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordCheck {
    UnknownAccount,
    WrongPassword(McoAccount),
    /// The password matches. Bans are the caller's to check.
    Correct(McoAccount),
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Another account has this name, compared case-insensitively.
    #[error("an account named {0:?} already exists")]
    NameTaken(String),
    #[error("customer id {0} is already in use")]
    IdTaken(i64),
    #[error("customer id {0} is outside 1..={MAX_ID}")]
    IdOutOfRange(i64),
    #[error("no customer ids are left (the wire carries them as u32)")]
    IdsExhausted,
    #[error(transparent)]
    Password(#[from] HashError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AccountError {
    fn from(e: sqlx::Error) -> Self {
        AccountError::Store(e.into())
    }
}

pub struct Accounts<'a> {
    pool: &'a AnyPool,
}

const COLUMNS: &str =
    "customer_id, username, banned_at, banned_until, ban_reason, created_at, last_login_at";

fn from_row(row: &AnyRow) -> Result<McoAccount> {
    let banned_at: Option<i64> = row.try_get("banned_at")?;
    let banned_until: Option<i64> = row.try_get("banned_until")?;
    let reason: Option<String> = row.try_get("ban_reason")?;
    let last_login: Option<i64> = row.try_get("last_login_at")?;
    Ok(McoAccount {
        customer_id: row.try_get("customer_id")?,
        username: row.try_get("username")?,
        ban: banned_at.map(|since| Ban {
            since: from_millis(since),
            until: banned_until.map(from_millis),
            reason: reason.unwrap_or_default(),
        }),
        created_at: from_millis(row.try_get("created_at")?),
        last_login_at: last_login.map(from_millis),
    })
}

impl<'a> Accounts<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// Creates an account with the next customer id. The password is hashed
    /// here; neither it nor anything derived from it but the hash is kept.
    pub async fn create(
        &self,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<McoAccount, AccountError> {
        self.insert(None, username, password, now).await
    }

    /// Creates an account with a chosen customer id, for imports from other
    /// servers (players keep their ids) and for replaying captured sessions.
    /// Later [`create`](Self::create)s continue after the highest id used.
    pub async fn create_with_id(
        &self,
        customer_id: i64,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<McoAccount, AccountError> {
        if !(1..=MAX_ID).contains(&customer_id) {
            return Err(AccountError::IdOutOfRange(customer_id));
        }
        self.insert(Some(customer_id), username, password, now)
            .await
    }

    async fn insert(
        &self,
        customer_id: Option<i64>,
        username: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<McoAccount, AccountError> {
        // Hash before the transaction: the counter row stays locked until
        // commit, and hashing takes far longer than the inserts.
        let hash = password::hash(password).await?;
        let mut tx = self.pool.begin().await?;
        let id = match customer_id {
            Some(id) => {
                reserve_id(&mut tx, Counter::Customer, id).await?;
                id
            }
            None => next_id(&mut tx, Counter::Customer)
                .await?
                .ok_or(AccountError::IdsExhausted)?,
        };
        let row = sqlx::query(&format!(
            "INSERT INTO mco_accounts (customer_id, username, username_key, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(username)
        .bind(name_key(username))
        .bind(&hash)
        .bind(to_millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let id_used = sqlx::query("SELECT 1 AS one FROM mco_accounts WHERE customer_id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return Err(if id_used && customer_id.is_some() {
                AccountError::IdTaken(id)
            } else {
                AccountError::NameTaken(username.to_string())
            });
        };
        let account = from_row(&row)?;
        tx.commit().await?;
        Ok(account)
    }

    pub async fn by_id(&self, customer_id: i64) -> Result<Option<McoAccount>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mco_accounts WHERE customer_id = $1"
        ))
        .bind(customer_id)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Looks an account up by name, case-insensitively.
    pub async fn by_name(&self, username: &str) -> Result<Option<McoAccount>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mco_accounts WHERE username_key = $1"
        ))
        .bind(name_key(username))
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Checks a name (case-insensitively) and password with argon2. Takes
    /// about as long for an unknown name as for a wrong password.
    pub async fn check_password(&self, username: &str, password: &str) -> Result<PasswordCheck> {
        self.check(username, password, None).await
    }

    /// [`check_password`](Self::check_password) for AuthLogin: a password
    /// argon2 verified for this account, against the hash stored now, less
    /// than the cache's lifetime ago is accepted without argon2, and a
    /// password argon2 verifies is remembered. Unknown names and wrong
    /// passwords always take argon2's time. The account row, bans
    /// included, is read from the database every time.
    pub async fn check_password_cached(
        &self,
        username: &str,
        password: &str,
        cache: &PasswordCache,
    ) -> Result<PasswordCheck> {
        self.check(username, password, Some(cache)).await
    }

    async fn check(
        &self,
        username: &str,
        password: &str,
        cache: Option<&PasswordCache>,
    ) -> Result<PasswordCheck> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, password_hash FROM mco_accounts WHERE username_key = $1"
        ))
        .bind(name_key(username))
        .fetch_optional(self.pool)
        .await?;
        let found = match &row {
            Some(row) => Some((from_row(row)?, row.try_get::<String, _>("password_hash")?)),
            None => None,
        };
        let count = |by: CheckedBy| {
            count_mco_check(by);
            if let Some(cache) = cache {
                cache.count(by);
            }
        };
        let (account, stored) = match found {
            Some((account, hash)) => (Some(account), Some(hash)),
            None => (None, None),
        };
        // Only a known account with the cache on can skip argon2; the MAC
        // to remember is made before the hash moves into argon2's thread.
        let mut remember = None;
        if let (Some(account), Some(hash), Some(cache)) = (&account, &stored, cache) {
            if cache.is_enabled() {
                if cache.verified(account.customer_id, hash, password, Instant::now()) {
                    count(CheckedBy::Cache);
                    return Ok(PasswordCheck::Correct(account.clone()));
                }
                remember = Some((cache, cache.digest(hash, password)));
            }
        }
        count(CheckedBy::Argon2);
        let matches = password::verify(password, stored).await?;
        Ok(match (account, matches) {
            (None, _) => PasswordCheck::UnknownAccount,
            (Some(account), true) => {
                if let Some((cache, digest)) = remember {
                    cache.remember(account.customer_id, digest, Instant::now());
                }
                PasswordCheck::Correct(account)
            }
            (Some(account), false) => PasswordCheck::WrongPassword(account),
        })
    }

    /// Replaces the password. Returns false when no such account exists.
    pub async fn set_password(
        &self,
        customer_id: i64,
        password: &str,
    ) -> Result<bool, AccountError> {
        let hash = password::hash(password).await?;
        let done = sqlx::query("UPDATE mco_accounts SET password_hash = $2 WHERE customer_id = $1")
            .bind(customer_id)
            .bind(&hash)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Bans an account, for good (`until = None`) or until a time, and ends
    /// its session and outstanding tickets at once: a ban should not wait
    /// for the player to log out. Returns false when no such account exists.
    pub async fn ban(
        &self,
        customer_id: i64,
        reason: &str,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE mco_accounts SET banned_at = $2, banned_until = $3, ban_reason = $4 \
             WHERE customer_id = $1",
        )
        .bind(customer_id)
        .bind(to_millis(now))
        .bind(until.map(to_millis))
        .bind(reason)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for table in ["mco_sessions", "mco_tickets"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE customer_id = $1"))
                .bind(customer_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Lifts a ban. Returns false when no such account exists.
    pub async fn unban(&self, customer_id: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE mco_accounts SET banned_at = NULL, banned_until = NULL, ban_reason = NULL \
             WHERE customer_id = $1",
        )
        .bind(customer_id)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn record_login(&self, customer_id: i64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE mco_accounts SET last_login_at = $2 WHERE customer_id = $1")
            .bind(customer_id)
            .bind(to_millis(now))
            .execute(self.pool)
            .await?;
        Ok(())
    }

    /// Deletes an account with its personas, session and tickets. Returns
    /// false when no such account exists.
    pub async fn delete(&self, customer_id: i64) -> Result<bool> {
        let done = sqlx::query("DELETE FROM mco_accounts WHERE customer_id = $1")
            .bind(customer_id)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Up to `limit` accounts with ids above `after`, in id order: pages for
    /// the CLI and the dashboard.
    pub async fn list(&self, after: i64, limit: i64) -> Result<Vec<McoAccount>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mco_accounts WHERE customer_id > $1 \
             ORDER BY customer_id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM mco_accounts")
            .fetch_one(self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::password_cache::PasswordChecks;
    use crate::testing::databases;
    use crate::Store;

    fn t0() -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_336_721, 0).unwrap()
    }

    fn checks(cache: u64, argon2: u64) -> PasswordChecks {
        PasswordChecks { cache, argon2 }
    }

    #[tokio::test]
    async fn verified_passwords_skip_argon2_until_the_hash_changes() {
        for db in databases().await {
            let store = Store::open(&db.url).await.unwrap();
            let accounts = store.mco_accounts();
            let alice = accounts.create("Alice", "pw", t0()).await.unwrap();
            let id = alice.customer_id;
            let cache = PasswordCache::new(Duration::from_secs(60), 10);
            let check = |name: &'static str, password: &'static str| {
                let accounts = store.mco_accounts();
                let cache = &cache;
                async move {
                    accounts
                        .check_password_cached(name, password, cache)
                        .await
                        .unwrap()
                }
            };

            assert_eq!(
                check("alice", "pw").await,
                PasswordCheck::Correct(alice.clone())
            );
            assert_eq!(cache.checks(), checks(0, 1), "{}", db.label);
            assert_eq!(
                check("ALICE", "pw").await,
                PasswordCheck::Correct(alice.clone())
            );
            assert_eq!(cache.checks(), checks(1, 1), "a hit, any case of the name");

            // Wrong passwords and unknown names always run argon2, and a
            // wrong password is never remembered.
            for _ in 0..2 {
                assert!(matches!(
                    check("alice", "Pw").await,
                    PasswordCheck::WrongPassword(_)
                ));
            }
            assert_eq!(check("nobody", "pw").await, PasswordCheck::UnknownAccount);
            assert_eq!(cache.checks(), checks(1, 4));
            assert_eq!(cache.len(), 1);

            // The account row, its ban with it, is read every time.
            assert!(accounts.ban(id, "cheating", None, t0()).await.unwrap());
            match check("alice", "pw").await {
                PasswordCheck::Correct(found) => assert!(found.is_banned(t0())),
                other => panic!("{other:?}"),
            }
            assert_eq!(cache.checks(), checks(2, 4));
            assert!(accounts.unban(id).await.unwrap());

            // A new password is a new hash: the old one is refused by
            // argon2, the new one verified by argon2 and then remembered.
            assert!(accounts.set_password(id, "new pw").await.unwrap());
            assert!(matches!(
                check("alice", "pw").await,
                PasswordCheck::WrongPassword(_)
            ));
            assert!(matches!(
                check("alice", "new pw").await,
                PasswordCheck::Correct(_)
            ));
            assert_eq!(cache.checks(), checks(2, 6));
            assert!(matches!(
                check("alice", "new pw").await,
                PasswordCheck::Correct(_)
            ));
            assert_eq!(cache.checks(), checks(3, 6));

            // A deleted account is unknown, whatever was remembered.
            assert!(accounts.delete(id).await.unwrap());
            assert_eq!(
                check("alice", "new pw").await,
                PasswordCheck::UnknownAccount
            );
            assert_eq!(cache.checks(), checks(3, 7));

            // Off: argon2 every time, nothing kept.
            let off = PasswordCache::disabled();
            accounts.create("bob", "pw", t0()).await.unwrap();
            for _ in 0..2 {
                assert!(matches!(
                    accounts
                        .check_password_cached("bob", "pw", &off)
                        .await
                        .unwrap(),
                    PasswordCheck::Correct(_)
                ));
            }
            assert_eq!(off.checks(), checks(0, 2));
            assert!(off.is_empty());
            store.close().await;
        }
    }
}
