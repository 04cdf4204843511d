//! Dealer stock and new cars from the car catalogue in the store
//! (migration 0007, generated from the community's seed of the game's
//! database by `tools/extract_mco_catalogue.py`).
//!
//! The seed has no dealer stock, so the server creates it: per dealer and
//! refresh period a choice of cars, the first of them the deal of the day,
//! stored in `mco_dealer_stock` the first time anyone asks. The choice is
//! a pure function of dealer, period and catalogue, so two instances on
//! one database that create the same period at once write the same rows;
//! once stored, the stock is what every answer and every purchase uses,
//! even if the operator changes the stock size in the meantime.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use pitlane_store::mco::{McoAssemblyRow, McoDealerOffer, McoSkin, McoStockCar, NewPart};
use pitlane_store::{Store, StoreError};

/// How dealers stock their lots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockRules {
    /// How long one stock lasts.
    pub refresh: Duration,
    /// Cars per dealer.
    pub size: usize,
    /// Discount of the deal of the day, in percent.
    pub deal_percent_off: u32,
}

/// The refresh period containing `now`.
pub fn period(now: DateTime<Utc>, refresh: Duration) -> i64 {
    now.timestamp().max(0) / i64::try_from(refresh.as_secs().max(1)).unwrap_or(i64::MAX)
}

/// The stock `dealer` gets in `period`: `rules.size` cars drawn from
/// `cars`, the first drawn the deal of the day, sorted by car id.
pub fn choose_stock(
    cars: &[McoStockCar],
    dealer: i64,
    period: i64,
    rules: &StockRules,
) -> Vec<McoDealerOffer> {
    let mut state = splitmix(dealer as u64 ^ (period as u64).rotate_left(32));
    let mut pool: Vec<&McoStockCar> = cars.iter().collect();
    pool.sort_by_key(|c| c.branded_part_id);
    let mut out = Vec::new();
    while out.len() < rules.size && !pool.is_empty() {
        state = splitmix(state);
        let i = usize::try_from(state % pool.len() as u64).unwrap_or(0);
        let car = pool.swap_remove(i);
        let deal = out.is_empty();
        let price = if deal {
            car.retail_price - car.retail_price * i64::from(rules.deal_percent_off.min(100)) / 100
        } else {
            car.retail_price
        };
        out.push(McoDealerOffer {
            dealer_id: dealer,
            period,
            branded_part_id: car.branded_part_id,
            price: price.max(0),
            deal_of_the_day: deal,
        });
    }
    out.sort_by_key(|o| o.branded_part_id);
    out
}

/// A dealer's stock now: the stored one, or a new one created and stored.
/// Empty for a player that runs no dealership.
pub async fn dealer_stock(
    store: &Store,
    dealer: u32,
    now: DateTime<Utc>,
    rules: &StockRules,
) -> Result<Vec<McoDealerOffer>, StoreError> {
    let catalogue = store.mco_catalogue();
    let dealer = i64::from(dealer);
    let period = period(now, rules.refresh);
    let stored = catalogue.dealer_stock(dealer, period).await?;
    if !stored.is_empty() {
        return Ok(stored);
    }
    if catalogue.dealer(dealer).await?.is_none() {
        return Ok(Vec::new());
    }
    let cars = catalogue.stock_cars().await?;
    let offers = choose_stock(&cars, dealer, period, rules);
    catalogue.create_dealer_stock(&offers, now).await?;
    // A new period began: stock older than the one before it can go (the
    // previous one stays, to look up what was on offer yesterday; cars
    // bought keep their price in mco_vehicles). Purchases are priced from
    // the current period only: a client still showing the old list is
    // refused a car that is no longer offered and reopens the dealer.
    catalogue.purge_dealer_stock_before(period - 1).await?;
    catalogue.dealer_stock(dealer, period).await
}

/// The skin to paint a new car with: the one asked for if the car's part
/// type has it, else the default (or first) skin, else 0.
pub fn skin_for(skins: &[McoSkin], wanted: u32) -> i64 {
    let wanted = i64::from(wanted);
    if skins.iter().any(|s| s.skin_id == wanted) {
        return wanted;
    }
    skins
        .iter()
        .find(|s| s.is_default)
        .or_else(|| skins.first())
        .map_or(0, |s| s.skin_id)
}

/// A stock car's default part tree as rows to create, parents first;
/// rows whose parent is not (yet) in the tree are skipped.
pub fn part_tree(car: i64, rows: &[McoAssemblyRow]) -> Vec<NewPart> {
    let mut index: HashMap<i64, usize> = HashMap::new();
    let mut out = Vec::new();
    for row in rows {
        let parent = if row.parent_part_id == car {
            None
        } else {
            match index.get(&row.parent_part_id) {
                Some(&i) => Some(i),
                None => continue,
            }
        };
        index.entry(row.child_part_id).or_insert(out.len());
        out.push(NewPart {
            branded_part_id: row.child_part_id,
            parent,
            attachment_point: row.attachment_point,
        });
    }
    out
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

    fn cars(n: i64) -> Vec<McoStockCar> {
        (0..n)
            .map(|i| McoStockCar {
                branded_part_id: 101 + i,
                brand_id: 1,
                model_name: format!("Car {i}"),
                car_class: 1,
                retail_price: 1000 * (i + 1),
                part_type_id: 101 + i,
            })
            .collect()
    }

    #[test]
    fn stock_is_a_function_of_dealer_and_period() {
        let rules = StockRules {
            refresh: Duration::from_secs(86_400),
            size: 10,
            deal_percent_off: 10,
        };
        let all = cars(40);
        let a = choose_stock(&all, 8, 100, &rules);
        assert_eq!(a.len(), 10);
        assert_eq!(a, choose_stock(&all, 8, 100, &rules));
        assert_ne!(a, choose_stock(&all, 8, 101, &rules));
        assert_ne!(a, choose_stock(&all, 7, 100, &rules));
        let deals: Vec<_> = a.iter().filter(|o| o.deal_of_the_day).collect();
        assert_eq!(deals.len(), 1);
        let list = all
            .iter()
            .find(|c| c.branded_part_id == deals[0].branded_part_id)
            .unwrap()
            .retail_price;
        assert_eq!(deals[0].price, list - list / 10);
        assert_eq!(choose_stock(&all[..3], 8, 100, &rules).len(), 3);
    }

    #[test]
    fn periods_follow_the_refresh_length() {
        let t = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let day = Duration::from_secs(86_400);
        assert_eq!(period(t, day), 1_700_000_000 / 86_400);
        assert_eq!(period(t, Duration::from_secs(3600)), 1_700_000_000 / 3600);
        assert_eq!(period(t, Duration::ZERO), 1_700_000_000);
    }

    #[test]
    fn part_trees_keep_parents_before_children() {
        let row = |p, c, a| McoAssemblyRow {
            parent_part_id: p,
            child_part_id: c,
            attachment_point: a,
        };
        let tree = part_tree(101, &[row(101, 5, 1), row(5, 6, 2), row(99, 7, 3)]);
        assert_eq!(tree.len(), 2);
        assert_eq!(tree[0].parent, None);
        assert_eq!(tree[1].parent, Some(0));
        let skins = [
            McoSkin {
                skin_id: 3,
                price: 0,
                is_default: false,
            },
            McoSkin {
                skin_id: 4,
                price: 0,
                is_default: true,
            },
        ];
        assert_eq!(skin_for(&skins, 3), 3);
        assert_eq!(skin_for(&skins, 9), 4);
        assert_eq!(skin_for(&[], 9), 0);
    }
}
