//! Repositories of the Motor City Online services: accounts with argon2
//! passwords, single-use AuthLogin tickets, the NPS session (key and chosen
//! persona) of each customer, personas, and the failure records that
//! throttle password guessing.
//!
//! Everything the MCO servers share lives here rather than in memory, so
//! that several Pitlane instances on one PostgreSQL act as one server: a
//! ticket issued by one instance is redeemed by another, and the lobby of a
//! third finds the session key.

mod accounts;
mod catalogue;
mod failures;
mod garage;
mod personas;
mod sessions;
mod tickets;

pub use accounts::{AccountError, Accounts, Ban, McoAccount, PasswordCheck};
pub use catalogue::{
    CarCatalogue, McoAssemblyRow, McoDealerOffer, McoPartPrice, McoSkin, McoStockCar,
};
pub use failures::{FailureScope, LoginFailures, ThrottleRule};
pub use garage::{Garage, McoPart, McoPlayer, McoVehicle, NewPart, PurchaseError};
pub use personas::{McoPersona, PersonaError, Personas};
pub use sessions::{McoSession, Sessions};
pub use tickets::Tickets;

use sqlx::{AnyConnection, Row};

use crate::{Result, StoreError};

/// Largest customer or persona id: the wire carries both as u32.
pub const MAX_ID: i64 = u32::MAX as i64;

/// The form a name is made unique by. ASCII-only folding, because the
/// client's text is 8-bit and because SQLite's and PostgreSQL's `lower()`
/// disagree beyond ASCII; doing it here keeps both backends identical.
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Which id counter of `mco_counters` to draw from.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Counter {
    Customer,
    Persona,
    Part,
}

impl Counter {
    fn name(self) -> &'static str {
        match self {
            Counter::Customer => "customer",
            Counter::Persona => "persona",
            Counter::Part => "part",
        }
    }
}

/// Takes the next id of a counter. Must run inside the transaction that
/// inserts the row: the counter row stays locked until commit, so
/// concurrent creators queue instead of colliding, and a rollback gives the
/// id back. Returns `None` once ids would no longer fit the wire.
pub(crate) async fn next_id(conn: &mut AnyConnection, counter: Counter) -> Result<Option<i64>> {
    let row = sqlx::query(
        "UPDATE mco_counters SET next_value = next_value + 1 WHERE name = $1 \
         RETURNING next_value - 1 AS id",
    )
    .bind(counter.name())
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.ok_or_else(|| {
        StoreError::Corrupt(format!("the {} id counter is missing", counter.name()))
    })?;
    let id: i64 = row.try_get("id")?;
    Ok((1..=MAX_ID).contains(&id).then_some(id))
}

/// Moves a counter past an id chosen by the caller (imports), so later
/// allocated ids never collide with it. Same transaction rule as
/// [`next_id`].
pub(crate) async fn reserve_id(conn: &mut AnyConnection, counter: Counter, id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE mco_counters SET next_value = \
         CASE WHEN next_value > $2 THEN next_value ELSE $2 + 1 END WHERE name = $1",
    )
    .bind(counter.name())
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
