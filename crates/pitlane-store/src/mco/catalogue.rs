//! The Motor City car catalogue as migration 0007 loads it (brands, stock
//! cars, their parts and default part trees, skins, dealerships), and the
//! dealer stock the server creates per refresh period.
//!
//! The catalogue is read per request rather than cached: it is small,
//! indexed by primary key, and an operator who edits prices in the
//! database sees them served at once by every instance.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use pitlane_core::clock::to_millis;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::Result;

/// A car the dealers can sell (`mco_stock_cars`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McoStockCar {
    /// Its branded-part id (cars are branded parts: 101…).
    pub branded_part_id: i64,
    pub brand_id: i64,
    pub model_name: String,
    pub car_class: i64,
    pub retail_price: i64,
    /// Part type: skins belong to part types.
    pub part_type_id: i64,
}

/// One edge of a stock car's default part tree, in branded-part ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McoAssemblyRow {
    pub parent_part_id: i64,
    pub child_part_id: i64,
    pub attachment_point: i64,
}

/// A paint skin of a part type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McoSkin {
    pub skin_id: i64,
    pub price: i64,
    pub is_default: bool,
}

/// Price and wear limit of a branded part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McoPartPrice {
    pub retail_price: i64,
    pub max_item_wear: i64,
}

/// One car a dealer offers in one refresh period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McoDealerOffer {
    pub dealer_id: i64,
    pub period: i64,
    pub branded_part_id: i64,
    pub price: i64,
    pub deal_of_the_day: bool,
}

const CAR_COLUMNS: &str =
    "branded_part_id, brand_id, model_name, car_class, retail_price, part_type_id";

fn car_from_row(row: &AnyRow) -> Result<McoStockCar> {
    Ok(McoStockCar {
        branded_part_id: row.try_get("branded_part_id")?,
        brand_id: row.try_get("brand_id")?,
        model_name: row.try_get("model_name")?,
        car_class: row.try_get("car_class")?,
        retail_price: row.try_get("retail_price")?,
        part_type_id: row.try_get("part_type_id")?,
    })
}

fn offer_from_row(row: &AnyRow) -> Result<McoDealerOffer> {
    let deal: i64 = row.try_get("deal_of_the_day")?;
    Ok(McoDealerOffer {
        dealer_id: row.try_get("dealer_id")?,
        period: row.try_get("period")?,
        branded_part_id: row.try_get("branded_part_id")?,
        price: row.try_get("price")?,
        deal_of_the_day: deal != 0,
    })
}

pub struct CarCatalogue<'a> {
    pool: &'a AnyPool,
}

impl<'a> CarCatalogue<'a> {
    pub(crate) fn new(pool: &'a AnyPool) -> Self {
        Self { pool }
    }

    /// Every stock car, by id.
    pub async fn stock_cars(&self) -> Result<Vec<McoStockCar>> {
        let rows = sqlx::query(&format!(
            "SELECT {CAR_COLUMNS} FROM mco_stock_cars ORDER BY branded_part_id"
        ))
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(car_from_row).collect()
    }

    pub async fn stock_car(&self, id: i64) -> Result<Option<McoStockCar>> {
        let row = sqlx::query(&format!(
            "SELECT {CAR_COLUMNS} FROM mco_stock_cars WHERE branded_part_id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(car_from_row).transpose()
    }

    pub async fn brand(&self, id: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT name FROM mco_brands WHERE brand_id = $1")
            .bind(id)
            .fetch_optional(self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("name")).transpose()?)
    }

    /// A dealership's name; `None` for players that sell no cars.
    pub async fn dealer(&self, id: i64) -> Result<Option<String>> {
        let row = sqlx::query("SELECT name FROM mco_dealers WHERE dealer_id = $1")
            .bind(id)
            .fetch_optional(self.pool)
            .await?;
        Ok(row.map(|r| r.try_get("name")).transpose()?)
    }

    /// Every dealership: id and name.
    pub async fn dealers(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT dealer_id, name FROM mco_dealers ORDER BY dealer_id")
            .fetch_all(self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("dealer_id")?, r.try_get("name")?)))
            .collect()
    }

    /// A stock car's default part tree, parents before children.
    pub async fn assembly(&self, car: i64) -> Result<Vec<McoAssemblyRow>> {
        let rows = sqlx::query(
            "SELECT parent_part_id, child_part_id, attachment_point FROM mco_stock_assembly \
             WHERE car_id = $1 ORDER BY position",
        )
        .bind(car)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(McoAssemblyRow {
                    parent_part_id: r.try_get("parent_part_id")?,
                    child_part_id: r.try_get("child_part_id")?,
                    attachment_point: r.try_get("attachment_point")?,
                })
            })
            .collect()
    }

    /// The skins of a part type.
    pub async fn skins(&self, part_type: i64) -> Result<Vec<McoSkin>> {
        let rows = sqlx::query(
            "SELECT skin_id, price, is_default FROM mco_skins WHERE part_type_id = $1 ORDER BY skin_id",
        )
        .bind(part_type)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let d: i64 = r.try_get("is_default")?;
                Ok(McoSkin {
                    skin_id: r.try_get("skin_id")?,
                    price: r.try_get("price")?,
                    is_default: d != 0,
                })
            })
            .collect()
    }

    /// Prices of the branded parts one owned car is made of, by branded
    /// part id (parts missing from the catalogue are absent). A car's own
    /// branded part has price 0 in the seed; its price is the stock car's.
    pub async fn prices_for_vehicle(&self, vehicle_id: i64) -> Result<HashMap<i64, McoPartPrice>> {
        let rows = sqlx::query(
            "SELECT bp.branded_part_id, COALESCE(sc.retail_price, bp.retail_price) AS retail_price, \
             bp.max_item_wear FROM mco_branded_parts bp \
             LEFT JOIN mco_stock_cars sc ON sc.branded_part_id = bp.branded_part_id \
             WHERE bp.branded_part_id IN (SELECT branded_part_id FROM mco_parts WHERE vehicle_id = $1)",
        )
        .bind(vehicle_id)
        .fetch_all(self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("branded_part_id")?,
                    McoPartPrice {
                        retail_price: r.try_get("retail_price")?,
                        max_item_wear: r.try_get("max_item_wear")?,
                    },
                ))
            })
            .collect()
    }

    /// What a dealer offers in a period, by car id; empty when the stock
    /// of that period has not been created yet.
    pub async fn dealer_stock(&self, dealer: i64, period: i64) -> Result<Vec<McoDealerOffer>> {
        let rows = sqlx::query(
            "SELECT dealer_id, period, branded_part_id, price, deal_of_the_day FROM mco_dealer_stock \
             WHERE dealer_id = $1 AND period = $2 ORDER BY branded_part_id",
        )
        .bind(dealer)
        .bind(period)
        .fetch_all(self.pool)
        .await?;
        rows.iter().map(offer_from_row).collect()
    }

    /// One car of a dealer's stock in a period.
    pub async fn offer(
        &self,
        dealer: i64,
        period: i64,
        car: i64,
    ) -> Result<Option<McoDealerOffer>> {
        let row = sqlx::query(
            "SELECT dealer_id, period, branded_part_id, price, deal_of_the_day FROM mco_dealer_stock \
             WHERE dealer_id = $1 AND period = $2 AND branded_part_id = $3",
        )
        .bind(dealer)
        .bind(period)
        .bind(car)
        .fetch_optional(self.pool)
        .await?;
        row.as_ref().map(offer_from_row).transpose()
    }

    /// Stores a dealer's stock for a period, in one transaction. Rows that
    /// exist already (another connection or instance was first) are kept:
    /// concurrent creators compute the same stock, and the primary key
    /// keeps one copy of each row.
    pub async fn create_dealer_stock(
        &self,
        offers: &[McoDealerOffer],
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for o in offers {
            sqlx::query(
                "INSERT INTO mco_dealer_stock (dealer_id, period, branded_part_id, price, deal_of_the_day, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (dealer_id, period, branded_part_id) DO NOTHING",
            )
            .bind(o.dealer_id)
            .bind(o.period)
            .bind(o.branded_part_id)
            .bind(o.price)
            .bind(i64::from(o.deal_of_the_day))
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes the stock of periods before `period`; returns how many
    /// rows went. Cars bought keep their price in `mco_vehicles`.
    pub async fn purge_dealer_stock_before(&self, period: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM mco_dealer_stock WHERE period < $1")
            .bind(period)
            .execute(self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}
