//! What MCO personas own: money, cars and the parts of each car, and the
//! looks and options the client sets. Prices and catalogue facts are the
//! game crate's business; this module only keeps the books straight.

use chrono::{DateTime, Utc};
use pitlane_core::clock::to_millis;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::{next_id, Counter};
use crate::{Result, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McoPlayer {
    pub persona_id: i64,
    pub bank: i64,
    pub cars_owned: i64,
    pub current_vehicle: Option<i64>,
    pub plate_code: i64,
    pub plate_text: String,
    pub car_info_settings: i64,
    pub car_numbers: String,
    pub body_type: i64,
    pub hair_color: i64,
    pub skin_color: i64,
    pub shirt_color: i64,
    pub pants_color: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McoVehicle {
    pub vehicle_id: i64,
    pub persona_id: i64,
    pub branded_part_id: i64,
    pub skin_id: i64,
    pub price_paid: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McoPart {
    pub part_id: i64,
    pub vehicle_id: i64,
    pub parent_part_id: Option<i64>,
    pub branded_part_id: i64,
    pub attachment_point: i64,
    pub wear: i64,
    pub damage: i64,
}

/// A part to create with a new car. `parent` is the index of an earlier
/// entry, or `None` for a part fixed to the car's root part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPart {
    pub branded_part_id: i64,
    pub parent: Option<usize>,
    pub attachment_point: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum PurchaseError {
    #[error("the price {price} is more than the {bank} in the bank")]
    InsufficientFunds { bank: i64, price: i64 },
    #[error("persona {0} has no player record")]
    NoPlayer(i64),
    #[error("a price cannot be negative")]
    NegativePrice,
    #[error("no part ids are left (the wire carries them as u32)")]
    IdsExhausted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for PurchaseError {
    fn from(e: sqlx::Error) -> Self {
        PurchaseError::Store(e.into())
    }
}

const PLAYER_COLUMNS: &str = "persona_id, bank, cars_owned, current_vehicle, plate_code, \
    plate_text, car_info_settings, car_numbers, body_type, hair_color, skin_color, \
    shirt_color, pants_color";

fn player_from_row(row: &AnyRow) -> Result<McoPlayer> {
    Ok(McoPlayer {
        persona_id: row.try_get("persona_id")?,
        bank: row.try_get("bank")?,
        cars_owned: row.try_get("cars_owned")?,
        current_vehicle: row.try_get("current_vehicle")?,
        plate_code: row.try_get("plate_code")?,
        plate_text: row.try_get("plate_text")?,
        car_info_settings: row.try_get("car_info_settings")?,
        car_numbers: row.try_get("car_numbers")?,
        body_type: row.try_get("body_type")?,
        hair_color: row.try_get("hair_color")?,
        skin_color: row.try_get("skin_color")?,
        shirt_color: row.try_get("shirt_color")?,
        pants_color: row.try_get("pants_color")?,
    })
}

pub struct Garage<'a> {
    pool: &'a AnyPool,
}

impl<'a> Garage<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// The persona's player record, created with `starting_money` the
    /// first time it is asked for (the first MCOTS login of a persona).
    /// `None` when the persona does not exist.
    pub async fn ensure_player(
        &self,
        persona_id: i64,
        starting_money: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<McoPlayer>> {
        sqlx::query(
            "INSERT INTO mco_players (persona_id, bank, created_at) \
             SELECT persona_id, $2, $3 FROM mco_personas WHERE persona_id = $1 \
             ON CONFLICT (persona_id) DO NOTHING",
        )
        .bind(persona_id)
        .bind(starting_money.max(0))
        .bind(to_millis(now))
        .execute(self.pool)
        .await?;
        self.player(persona_id).await
    }

    pub async fn player(&self, persona_id: i64) -> Result<Option<McoPlayer>> {
        let row = sqlx::query(&format!(
            "SELECT {PLAYER_COLUMNS} FROM mco_players WHERE persona_id = $1"
        ))
        .bind(persona_id)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(player_from_row).transpose()
    }

    /// MC_SET_OPTIONS: plate and car numbers. False without a player record.
    pub async fn set_options(
        &self,
        persona_id: i64,
        plate_code: i64,
        plate_text: &str,
        car_info_settings: i64,
        car_numbers: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE mco_players SET plate_code = $2, plate_text = $3, car_info_settings = $4, \
             car_numbers = $5 WHERE persona_id = $1",
        )
        .bind(persona_id)
        .bind(plate_code)
        .bind(plate_text)
        .bind(car_info_settings)
        .bind(car_numbers)
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// MC_UPDATE_PLAYER_PHYSICAL: body type and colours.
    pub async fn set_physical(&self, persona_id: i64, looks: [i64; 5]) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE mco_players SET body_type = $2, hair_color = $3, skin_color = $4, \
             shirt_color = $5, pants_color = $6 WHERE persona_id = $1",
        )
        .bind(persona_id)
        .bind(looks[0])
        .bind(looks[1])
        .bind(looks[2])
        .bind(looks[3])
        .bind(looks[4])
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Buys a car: debits `price` and creates the car with its parts, all
    /// in one transaction. The debit is conditional on the balance, so two
    /// purchases racing for the last money cannot both pass, and a crash
    /// before commit leaves neither the money gone nor a car created.
    /// Returns the new car's id and the balance after.
    #[allow(clippy::too_many_arguments)]
    pub async fn purchase(
        &self,
        persona_id: i64,
        branded_part_id: i64,
        skin_id: i64,
        price: i64,
        parts: &[NewPart],
        now: DateTime<Utc>,
    ) -> Result<(i64, i64), PurchaseError> {
        if price < 0 {
            return Err(PurchaseError::NegativePrice);
        }
        let mut tx = self.pool.begin().await?;
        // Writing first takes the row lock (PostgreSQL) or the write lock
        // (SQLite) before anything is read.
        let debited = sqlx::query(
            "UPDATE mco_players SET bank = bank - $2, cars_owned = cars_owned + 1 \
             WHERE persona_id = $1 AND bank >= $2 RETURNING bank",
        )
        .bind(persona_id)
        .bind(price)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(debited) = debited else {
            let row = sqlx::query("SELECT bank FROM mco_players WHERE persona_id = $1")
                .bind(persona_id)
                .fetch_optional(&mut *tx)
                .await?;
            return Err(match row {
                Some(row) => PurchaseError::InsufficientFunds {
                    bank: row.try_get("bank")?,
                    price,
                },
                None => PurchaseError::NoPlayer(persona_id),
            });
        };
        let bank: i64 = debited.try_get("bank")?;
        let vehicle_id = next_id(&mut tx, Counter::Part)
            .await?
            .ok_or(PurchaseError::IdsExhausted)?;
        let at = to_millis(now);
        sqlx::query(
            "INSERT INTO mco_vehicles (vehicle_id, persona_id, branded_part_id, skin_id, price_paid, bought_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(vehicle_id)
        .bind(persona_id)
        .bind(branded_part_id)
        .bind(skin_id)
        .bind(price)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        let insert_part = "INSERT INTO mco_parts (part_id, vehicle_id, parent_part_id, branded_part_id, attachment_point) \
             VALUES ($1, $2, $3, $4, $5)";
        sqlx::query(insert_part)
            .bind(vehicle_id)
            .bind(vehicle_id)
            .bind(None::<i64>)
            .bind(branded_part_id)
            .bind(0_i64)
            .execute(&mut *tx)
            .await?;
        let mut ids = Vec::with_capacity(parts.len());
        for part in parts {
            let id = next_id(&mut tx, Counter::Part)
                .await?
                .ok_or(PurchaseError::IdsExhausted)?;
            let parent = match part.parent {
                Some(i) => ids.get(i).copied().ok_or_else(|| {
                    StoreError::Corrupt(format!("part tree refers forward to entry {i}"))
                })?,
                None => vehicle_id,
            };
            sqlx::query(insert_part)
                .bind(id)
                .bind(vehicle_id)
                .bind(Some(parent))
                .bind(part.branded_part_id)
                .bind(part.attachment_point)
                .execute(&mut *tx)
                .await?;
            ids.push(id);
        }
        sqlx::query(
            "UPDATE mco_players SET current_vehicle = $2 WHERE persona_id = $1 AND current_vehicle IS NULL",
        )
        .bind(persona_id)
        .bind(vehicle_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok((vehicle_id, bank))
    }

    pub async fn vehicles(&self, persona_id: i64) -> Result<Vec<McoVehicle>> {
        let rows = sqlx::query(
            "SELECT vehicle_id, persona_id, branded_part_id, skin_id, price_paid FROM mco_vehicles \
             WHERE persona_id = $1 ORDER BY vehicle_id",
        )
        .bind(persona_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(McoVehicle {
                    vehicle_id: row.try_get("vehicle_id")?,
                    persona_id: row.try_get("persona_id")?,
                    branded_part_id: row.try_get("branded_part_id")?,
                    skin_id: row.try_get("skin_id")?,
                    price_paid: row.try_get("price_paid")?,
                })
            })
            .collect()
    }

    /// The parts of one of the persona's cars, root first; empty when the
    /// car is not theirs (the id comes from the client).
    pub async fn parts(&self, persona_id: i64, vehicle_id: i64) -> Result<Vec<McoPart>> {
        let rows = sqlx::query(
            "SELECT p.part_id, p.vehicle_id, p.parent_part_id, p.branded_part_id, p.attachment_point, p.wear, p.damage \
             FROM mco_parts p JOIN mco_vehicles v ON v.vehicle_id = p.vehicle_id \
             WHERE p.vehicle_id = $1 AND v.persona_id = $2 ORDER BY p.part_id",
        )
        .bind(vehicle_id)
        .bind(persona_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(McoPart {
                    part_id: row.try_get("part_id")?,
                    vehicle_id: row.try_get("vehicle_id")?,
                    parent_part_id: row.try_get("parent_part_id")?,
                    branded_part_id: row.try_get("branded_part_id")?,
                    attachment_point: row.try_get("attachment_point")?,
                    wear: row.try_get("wear")?,
                    damage: row.try_get("damage")?,
                })
            })
            .collect()
    }
}
