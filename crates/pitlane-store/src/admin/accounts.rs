//! Operator accounts, made on the command line (`pitlane admin add`), never
//! through the dashboard itself: whoever can run the binary on the server
//! is the root of trust.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{name_key, valid_admin_name};
use crate::password;
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminAccount {
    pub admin_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub password_changed_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("an operator named {0:?} already exists")]
    NameTaken(String),
    #[error("{0:?} is not a valid operator name: use 1 to 32 letters, digits, '.', '_' or '-'")]
    InvalidName(String),
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters long")]
    WeakPassword,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AdminError {
    fn from(e: sqlx::Error) -> Self {
        AdminError::Store(e.into())
    }
}

/// The dashboard can ban players and rewrite scores; a short password on an
/// exposed listener would be guessed despite the throttling.
pub const MIN_PASSWORD_CHARS: usize = 10;

const COLUMNS: &str = "admin_id, name, created_at, password_changed_at, last_login_at";

fn from_row(row: &AnyRow) -> Result<AdminAccount> {
    let last: Option<i64> = row.try_get("last_login_at")?;
    Ok(AdminAccount {
        admin_id: row.try_get("admin_id")?,
        name: row.try_get("name")?,
        created_at: from_millis(row.try_get("created_at")?),
        password_changed_at: from_millis(row.try_get("password_changed_at")?),
        last_login_at: last.map(from_millis),
    })
}

fn check_password_strength(password: &str) -> Result<(), AdminError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AdminError::WeakPassword);
    }
    Ok(())
}

pub struct AdminAccounts<'a> {
    pool: &'a AnyPool,
}

impl<'a> AdminAccounts<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    pub async fn create(
        &self,
        name: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<AdminAccount, AdminError> {
        if !valid_admin_name(name) {
            return Err(AdminError::InvalidName(name.to_string()));
        }
        check_password_strength(password)?;
        let hash = password::hash(password).await.map_err(StoreError::from)?;
        let row = sqlx::query(&format!(
            "INSERT INTO admin_accounts (name, name_key, password_hash, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(name)
        .bind(name_key(name))
        .bind(&hash)
        .bind(to_millis(now))
        .fetch_optional(self.pool)
        .await?;
        match row {
            Some(row) => Ok(from_row(&row)?),
            None => Err(AdminError::NameTaken(name.to_string())),
        }
    }

    /// Replaces the password and ends the operator's sessions, so a leaked
    /// password stops working everywhere at once. Returns false when no
    /// such operator exists.
    pub async fn set_password(
        &self,
        name: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, AdminError> {
        check_password_strength(password)?;
        let hash = password::hash(password).await.map_err(StoreError::from)?;
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "UPDATE admin_accounts SET password_hash = $2, password_changed_at = $3 \
             WHERE name_key = $1 RETURNING admin_id",
        )
        .bind(name_key(name))
        .bind(&hash)
        .bind(to_millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let admin_id: i64 = row.try_get("admin_id")?;
        sqlx::query("DELETE FROM admin_sessions WHERE admin_id = $1")
            .bind(admin_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn by_name(&self, name: &str) -> Result<Option<AdminAccount>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM admin_accounts WHERE name_key = $1"
        ))
        .bind(name_key(name))
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The operator if name (any case) and password match. Takes about as
    /// long for an unknown name as for a wrong password.
    pub async fn check_password(&self, name: &str, password: &str) -> Result<Option<AdminAccount>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS}, password_hash FROM admin_accounts WHERE name_key = $1"
        ))
        .bind(name_key(name))
        .fetch_optional(self.pool)
        .await?;
        let (account, stored) = match &row {
            Some(row) => (
                Some(from_row(row)?),
                Some(row.try_get::<String, _>("password_hash")?),
            ),
            None => (None, None),
        };
        let matches = password::verify(password, stored).await?;
        Ok(account.filter(|_| matches))
    }

    pub async fn record_login(&self, admin_id: i64, now: DateTime<Utc>) -> Result<()> {
        sqlx::query("UPDATE admin_accounts SET last_login_at = $2 WHERE admin_id = $1")
            .bind(admin_id)
            .bind(to_millis(now))
            .execute(self.pool)
            .await?;
        Ok(())
    }

    pub async fn list(&self) -> Result<Vec<AdminAccount>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM admin_accounts ORDER BY name_key"
        ))
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }
}
