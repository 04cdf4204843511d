//! Personas: the drivers an account plays as, each on one shard. Names are
//! unique over all accounts, case-insensitively, because chat and race
//! results show nothing but the name.

use chrono::{DateTime, Utc};
use pitlane_core::clock::{from_millis, to_millis};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{name_key, next_id, reserve_id, Counter, MAX_ID};
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McoPersona {
    pub persona_id: i64,
    pub customer_id: i64,
    pub shard_id: i64,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_selected_at: Option<DateTime<Utc>>,
}

#[derive(Debug, thiserror::Error)]
pub enum PersonaError {
    /// Another persona has this name, compared case-insensitively.
    #[error("a persona named {0:?} already exists")]
    NameTaken(String),
    #[error("the account already has {max} personas, the most allowed")]
    TooMany { max: i64 },
    #[error("no account with customer id {0}")]
    NoSuchAccount(i64),
    #[error("persona id {0} is already in use")]
    IdTaken(i64),
    #[error("persona id {0} is outside 1..={MAX_ID}")]
    IdOutOfRange(i64),
    #[error("no persona ids are left (the wire carries them as u32)")]
    IdsExhausted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PersonaError {
    fn from(e: sqlx::Error) -> Self {
        PersonaError::Store(e.into())
    }
}

const COLUMNS: &str = "persona_id, customer_id, shard_id, name, created_at, last_selected_at";

fn from_row(row: &AnyRow) -> Result<McoPersona> {
    let last: Option<i64> = row.try_get("last_selected_at")?;
    Ok(McoPersona {
        persona_id: row.try_get("persona_id")?,
        customer_id: row.try_get("customer_id")?,
        shard_id: row.try_get("shard_id")?,
        name: row.try_get("name")?,
        created_at: from_millis(row.try_get("created_at")?),
        last_selected_at: last.map(from_millis),
    })
}

pub struct Personas<'a> {
    pool: &'a AnyPool,
}

impl<'a> Personas<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// Creates a persona with the next persona id, unless the account
    /// already has `max_per_account` of them or the name is taken. Which
    /// names are acceptable at all is the game's rule, not checked here.
    pub async fn create(
        &self,
        customer_id: i64,
        shard_id: i64,
        name: &str,
        max_per_account: i64,
        now: DateTime<Utc>,
    ) -> Result<McoPersona, PersonaError> {
        self.insert(None, customer_id, shard_id, name, max_per_account, now)
            .await
    }

    /// As [`create`](Self::create) with a chosen persona id (imports, and
    /// the ids of captured sessions in tests).
    pub async fn create_with_id(
        &self,
        persona_id: i64,
        customer_id: i64,
        shard_id: i64,
        name: &str,
        max_per_account: i64,
        now: DateTime<Utc>,
    ) -> Result<McoPersona, PersonaError> {
        if !(1..=MAX_ID).contains(&persona_id) {
            return Err(PersonaError::IdOutOfRange(persona_id));
        }
        self.insert(
            Some(persona_id),
            customer_id,
            shard_id,
            name,
            max_per_account,
            now,
        )
        .await
    }

    async fn insert(
        &self,
        persona_id: Option<i64>,
        customer_id: i64,
        shard_id: i64,
        name: &str,
        max_per_account: i64,
        now: DateTime<Utc>,
    ) -> Result<McoPersona, PersonaError> {
        let mut tx = self.pool.begin().await?;
        // Lock the account row first: two creations for one account then
        // run one after the other, so both cannot pass the count below.
        // (Writing first also keeps SQLite from failing the transaction
        // when it later upgrades from reading to writing.)
        let locked = sqlx::query(
            "UPDATE mco_accounts SET last_login_at = last_login_at WHERE customer_id = $1",
        )
        .bind(customer_id)
        .execute(&mut *tx)
        .await?;
        if locked.rows_affected() == 0 {
            return Err(PersonaError::NoSuchAccount(customer_id));
        }
        let row = sqlx::query("SELECT COUNT(*) AS n FROM mco_personas WHERE customer_id = $1")
            .bind(customer_id)
            .fetch_one(&mut *tx)
            .await?;
        let count: i64 = row.try_get("n")?;
        if count >= max_per_account {
            return Err(PersonaError::TooMany {
                max: max_per_account,
            });
        }
        let id = match persona_id {
            Some(id) => {
                reserve_id(&mut tx, Counter::Persona, id).await?;
                id
            }
            None => next_id(&mut tx, Counter::Persona)
                .await?
                .ok_or(PersonaError::IdsExhausted)?,
        };
        let row = sqlx::query(&format!(
            "INSERT INTO mco_personas (persona_id, customer_id, shard_id, name, name_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(customer_id)
        .bind(shard_id)
        .bind(name)
        .bind(name_key(name))
        .bind(to_millis(now))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let id_used = sqlx::query("SELECT 1 AS one FROM mco_personas WHERE persona_id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
            return Err(if id_used && persona_id.is_some() {
                PersonaError::IdTaken(id)
            } else {
                PersonaError::NameTaken(name.to_string())
            });
        };
        let persona = from_row(&row)?;
        tx.commit().await?;
        Ok(persona)
    }

    /// The account's personas in creation order, the order the persona
    /// screen lists them in.
    pub async fn list(&self, customer_id: i64) -> Result<Vec<McoPersona>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mco_personas WHERE customer_id = $1 ORDER BY persona_id"
        ))
        .bind(customer_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    pub async fn by_id(&self, persona_id: i64) -> Result<Option<McoPersona>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM mco_personas WHERE persona_id = $1"
        ))
        .bind(persona_id)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Whether any account has a persona of this name, case-insensitively.
    pub async fn name_taken(&self, name: &str) -> Result<bool> {
        let row = sqlx::query("SELECT 1 AS one FROM mco_personas WHERE name_key = $1")
            .bind(name_key(name))
            .fetch_optional(self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Deletes one of the customer's personas; false when the customer has
    /// no persona with this id. A session that had chosen it forgets the
    /// choice (the foreign key sets it to NULL).
    pub async fn delete(&self, customer_id: i64, persona_id: i64) -> Result<bool> {
        let done =
            sqlx::query("DELETE FROM mco_personas WHERE persona_id = $1 AND customer_id = $2")
                .bind(persona_id)
                .bind(customer_id)
                .execute(self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }
}
