//! Accounts are keyed by the SteamID64 from the player's ticket; the display
//! name is only a label that follows the Steam persona name, unless an
//! operator has set one (`name_override`), which wins until cleared.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use pitlane_core::ids;
use sqlx::{AnyPool, Row};

use crate::exec::{args, Columns, Exec, Statements};
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MmAccount {
    /// The service's sequential account number (`UserID`).
    pub user_id: i64,
    pub steam_id: u64,
    /// 13 Crockford characters, stable for the account's life.
    pub user_facing_id: String,
    pub display_name: String,
    pub title: String,
    /// As last reported by the client (`UntrustedLevel`).
    pub level: i64,
    pub prestige: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

pub struct Accounts<'a> {
    pool: &'a AnyPool,
    /// Login's statements and the per-request lookups (the SQLite lane).
    hot: Exec<'a>,
}

const COLUMNS: &str = "user_id, steam_id, user_facing_id, display_name, title, level, prestige, created_at, last_seen_at";

/// SteamID64s have the universe in their top byte (1 = public), so real ids
/// fit in an `i64`; anything larger is refused before it reaches SQL.
fn steam_key(steam_id: u64) -> Result<i64> {
    i64::try_from(steam_id)
        .map_err(|_| StoreError::Corrupt(format!("SteamID {steam_id} is out of range")))
}

fn from_row(row: &impl Columns) -> Result<MmAccount> {
    Ok(MmAccount {
        user_id: row.int("user_id")?,
        steam_id: row.int("steam_id")? as u64,
        user_facing_id: row.text("user_facing_id")?,
        display_name: row.text("display_name")?,
        title: row.text("title")?,
        level: row.int("level")?,
        prestige: row.int("prestige")?,
        created_at: from_millis(row.int("created_at")?),
        last_seen_at: from_millis(row.int("last_seen_at")?),
    })
}

impl<'a> Accounts<'a> {
    pub(crate) fn new(pool: &'a AnyPool, hot: Exec<'a>) -> Self {
        Self { pool, hot }
    }

    /// Finds the account of a Steam user, creating it on the first login,
    /// and records the name it uses now. Returns the account and whether it
    /// was created. Safe against two first logins racing each other: the
    /// unique SteamID decides, and the loser reads the winner's row.
    pub async fn login(
        &self,
        steam_id: u64,
        display_name: &str,
        default_title: &str,
        now: DateTime<Utc>,
    ) -> Result<(MmAccount, bool)> {
        let (name, title) = (display_name.to_owned(), default_title.to_owned());
        self.hot
            .run(move |st| {
                Box::pin(async move { login_in(st, steam_id, &name, &title, now).await })
            })
            .await
    }

    pub async fn by_user_id(&self, user_id: i64) -> Result<Option<MmAccount>> {
        let row = self
            .hot
            .optional(
                format!("SELECT {COLUMNS} FROM mm_accounts WHERE user_id = $1"),
                args![user_id],
            )
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    pub async fn by_steam_id(&self, steam_id: u64) -> Result<Option<MmAccount>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mm_accounts WHERE steam_id = $1"
        ))
        .bind(steam_key(steam_id)?)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Every name the account has logged in with, most recent first.
    pub async fn names(&self, user_id: i64) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT name FROM mm_account_names WHERE user_id = $1 \
             ORDER BY last_seen_at DESC, name",
        )
        .bind(user_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| r.try_get("name").map_err(StoreError::from))
            .collect()
    }

    /// Returns false when no such account exists.
    pub async fn set_title(&self, user_id: i64, title: &str) -> Result<bool> {
        let changed = self
            .hot
            .execute(
                "UPDATE mm_accounts SET title = $2 WHERE user_id = $1",
                args![user_id, title],
            )
            .await?;
        Ok(changed > 0)
    }

    pub async fn count(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM mm_accounts")
            .fetch_one(self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}

/// [`Accounts::login`], as a part of larger store logic (Login's one job).
pub(crate) async fn login_in(
    st: &mut dyn Statements,
    steam_id: u64,
    display_name: &str,
    default_title: &str,
    now: DateTime<Utc>,
) -> Result<(MmAccount, bool)> {
    let key = steam_key(steam_id)?;
    let at = to_millis(now);
    let mut created = false;
    let mut account = touch(st, key, display_name, at).await?;
    if account.is_none() {
        // A clash on user_facing_id is astronomically rare but possible;
        // try a few fresh ids before giving up.
        for _ in 0..4 {
            let inserted = st
                .optional(
                    format!(
                        "INSERT INTO mm_accounts (steam_id, user_facing_id, display_name, title, \
                         level, prestige, created_at, last_seen_at) \
                         VALUES ($1, $2, $3, $4, 0, 0, $5, $5) \
                         ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
                    ),
                    args![
                        key,
                        ids::user_facing_id(13),
                        display_name,
                        default_title,
                        at
                    ],
                )
                .await?;
            if let Some(row) = inserted {
                created = true;
                account = Some(from_row(&row)?);
                break;
            }
            // Either another login for this SteamID won the race, or the
            // user-facing id clashed: look again before retrying.
            account = touch(st, key, display_name, at).await?;
            if account.is_some() {
                break;
            }
        }
    }
    let account = account.ok_or_else(|| {
        StoreError::Corrupt(format!(
            "could not create an account for SteamID {steam_id}"
        ))
    })?;
    st.run(
        "INSERT INTO mm_account_names (user_id, name, first_seen_at, last_seen_at) \
         VALUES ($1, $2, $3, $3) \
         ON CONFLICT (user_id, name) DO UPDATE SET last_seen_at = excluded.last_seen_at",
        args![account.user_id, display_name, at],
    )
    .await?;
    Ok((account, created))
}

async fn touch(
    st: &mut dyn Statements,
    key: i64,
    display_name: &str,
    at: i64,
) -> Result<Option<MmAccount>> {
    let row = st
        .optional(
            format!(
                "UPDATE mm_accounts SET display_name = COALESCE(name_override, $2), last_seen_at = $3 \
                 WHERE steam_id = $1 RETURNING {COLUMNS}"
            ),
            args![key, display_name, at],
        )
        .await?;
    row.as_ref().map(from_row).transpose()
}
