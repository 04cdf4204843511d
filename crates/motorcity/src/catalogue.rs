//! The car catalogue: stock cars with their prices and default part
//! trees, part prices, paint skins and the system players that act as
//! dealers, from `data/catalogue.json` (converted from the community's
//! seed of the game's database by `tools/extract_mco_catalogue.py`).
//!
//! The seed has no dealer stock, so [`Catalogue::dealer_stock`] makes it:
//! a choice of cars per dealer that changes every refresh period and is a
//! pure function of dealer, period and catalogue, so every instance on one
//! database offers the same cars without storing them.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

const BUILTIN: &str = include_str!("../data/catalogue.json");

/// A car the dealers can sell.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StockCar {
    /// Its branded-part id (cars are branded parts: 101…).
    pub id: u32,
    /// Brand id.
    pub brand: u32,
    /// Model name.
    pub name: String,
    /// Car class.
    pub class: u32,
    /// Retail price.
    pub price: u32,
    /// Part type (skins belong to part types).
    pub part_type: u32,
}

#[derive(Debug, Deserialize)]
struct Raw {
    brands: BTreeMap<String, String>,
    cars: Vec<StockCar>,
    parts: HashMap<String, (u32, u32)>,
    assemblies: HashMap<String, Vec<(u32, u32, u32)>>,
    skins: HashMap<String, Vec<(u32, u32, u8)>>,
    dealers: Vec<Dealer>,
}

/// A system player that sells cars.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Dealer {
    /// Its player id (the client's `lotOwnerId`).
    pub id: u32,
    /// Its name.
    pub name: String,
}

/// One row of a dealer's stock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockItem {
    /// The car.
    pub car: u32,
    /// The price today (the deal of the day is discounted).
    pub price: u32,
    /// Whether this is the dealer's deal of the day.
    pub deal_of_the_day: bool,
}

/// A part of a stock car's default tree: `(parent, child, attachment
/// point)` in branded-part ids, parents before children.
pub type AssemblyRow = (u32, u32, u32);

/// The loaded catalogue.
#[derive(Debug)]
pub struct Catalogue {
    brands: BTreeMap<u32, String>,
    cars: BTreeMap<u32, StockCar>,
    parts: HashMap<u32, (u32, u32)>,
    assemblies: HashMap<u32, Vec<AssemblyRow>>,
    skins: HashMap<u32, Vec<(u32, u32, bool)>>,
    dealers: BTreeMap<u32, Dealer>,
}

/// Why the catalogue could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("MCO catalogue: {0}")]
pub struct CatalogueError(String);

fn key(s: &str) -> Result<u32, CatalogueError> {
    s.parse()
        .map_err(|_| CatalogueError(format!("{s:?} is not an id")))
}

impl Catalogue {
    /// The catalogue shipped with Pitlane.
    pub fn builtin() -> Result<Catalogue, CatalogueError> {
        Catalogue::from_json(BUILTIN)
    }

    /// Parses a catalogue document.
    pub fn from_json(text: &str) -> Result<Catalogue, CatalogueError> {
        let raw: Raw = serde_json::from_str(text).map_err(|e| CatalogueError(e.to_string()))?;
        let mut brands = BTreeMap::new();
        for (k, v) in raw.brands {
            brands.insert(key(&k)?, v);
        }
        let mut parts = HashMap::new();
        for (k, v) in raw.parts {
            parts.insert(key(&k)?, v);
        }
        let mut assemblies = HashMap::new();
        for (k, v) in raw.assemblies {
            assemblies.insert(key(&k)?, v);
        }
        let mut skins = HashMap::new();
        for (k, v) in raw.skins {
            skins.insert(
                key(&k)?,
                v.into_iter()
                    .map(|(id, price, d)| (id, price, d != 0))
                    .collect(),
            );
        }
        let cars: BTreeMap<u32, StockCar> = raw.cars.into_iter().map(|c| (c.id, c)).collect();
        if cars.is_empty() {
            return Err(CatalogueError("no cars".into()));
        }
        Ok(Catalogue {
            brands,
            cars,
            parts,
            assemblies,
            skins,
            dealers: raw.dealers.into_iter().map(|d| (d.id, d)).collect(),
        })
    }

    /// Every stock car, by id.
    pub fn cars(&self) -> impl Iterator<Item = &StockCar> {
        self.cars.values()
    }

    /// One stock car.
    pub fn car(&self, id: u32) -> Option<&StockCar> {
        self.cars.get(&id)
    }

    /// A brand's name.
    pub fn brand(&self, id: u32) -> Option<&str> {
        self.brands.get(&id).map(String::as_str)
    }

    /// A dealer.
    pub fn dealer(&self, id: u32) -> Option<&Dealer> {
        self.dealers.get(&id)
    }

    /// `(retail price, max wear)` of a branded part.
    pub fn part(&self, id: u32) -> Option<(u32, u32)> {
        self.parts.get(&id).copied()
    }

    /// The default part tree of a stock car.
    pub fn assembly(&self, car: u32) -> &[AssemblyRow] {
        self.assemblies.get(&car).map_or(&[], Vec::as_slice)
    }

    /// The skin to paint a new car with: the one asked for if it belongs to
    /// the car, else the car's default (or first) skin, else 0.
    pub fn skin_for(&self, car: &StockCar, wanted: u32) -> u32 {
        let Some(skins) = self.skins.get(&car.part_type) else {
            return 0;
        };
        if skins.iter().any(|s| s.0 == wanted) {
            return wanted;
        }
        skins
            .iter()
            .find(|s| s.2)
            .or_else(|| skins.first())
            .map_or(0, |s| s.0)
    }

    /// What `dealer` offers in the refresh period containing `now`:
    /// `size` cars picked from the catalogue, the first of them the deal
    /// of the day at `deal_percent_off`. Unknown dealers offer nothing.
    pub fn dealer_stock(
        &self,
        dealer: u32,
        now: DateTime<Utc>,
        refresh: Duration,
        size: usize,
        deal_percent_off: u32,
    ) -> Vec<StockItem> {
        if !self.dealers.contains_key(&dealer) {
            return Vec::new();
        }
        let period = u64::try_from(now.timestamp()).unwrap_or(0) / refresh.as_secs().max(1);
        let mut state = splitmix(u64::from(dealer) ^ period.rotate_left(32));
        let mut pool: Vec<&StockCar> = self.cars.values().collect();
        let mut out = Vec::new();
        while out.len() < size && !pool.is_empty() {
            state = splitmix(state);
            let i = usize::try_from(state % pool.len() as u64).unwrap_or(0);
            let car = pool.swap_remove(i);
            let deal = out.is_empty();
            let price = if deal {
                let off = u64::from(car.price) * u64::from(deal_percent_off.min(100)) / 100;
                car.price - u32::try_from(off).unwrap_or(0)
            } else {
                car.price
            };
            out.push(StockItem {
                car: car.id,
                price,
                deal_of_the_day: deal,
            });
        }
        out.sort_by_key(|s| s.car);
        out
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalogue_has_the_seed_facts() {
        let c = Catalogue::builtin().unwrap();
        assert_eq!(c.cars().count(), 145);
        let coupe = c.car(101).unwrap();
        assert_eq!(coupe.price, 7610);
        assert_eq!(c.brand(coupe.brand), Some("Ford"));
        assert!(!c.assembly(105).is_empty());
        assert_eq!(c.dealer(8).map(|d| d.name.as_str()), Some("Original GM"));
    }

    #[test]
    fn dealer_stock_is_stable_within_a_period_and_changes_after() {
        let c = Catalogue::builtin().unwrap();
        let day = Duration::from_secs(86_400);
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let a = c.dealer_stock(8, t, day, 10, 10);
        assert_eq!(a.len(), 10);
        assert_eq!(
            a,
            c.dealer_stock(8, t + chrono::TimeDelta::seconds(60), day, 10, 10)
        );
        assert_ne!(
            a,
            c.dealer_stock(8, t + chrono::TimeDelta::days(3), day, 10, 10)
        );
        assert_eq!(a.iter().filter(|s| s.deal_of_the_day).count(), 1);
        assert!(c.dealer_stock(999_999, t, day, 10, 10).is_empty());
    }
}
