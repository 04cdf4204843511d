//! The MCO car catalogue as migration 0007 loads it, identical on SQLite
//! and PostgreSQL, and dealer stock kept once per dealer and period.

use chrono::Utc;
use pitlane_store::mco::McoDealerOffer;
use pitlane_store::testing::databases;
use pitlane_store::Store;

#[tokio::test]
async fn migration_0007_loads_the_seed_catalogue_on_both_databases() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let c = store.mco_catalogue();
        let cars = c.stock_cars().await.unwrap();
        assert_eq!(cars.len(), 145, "{}", db.label);
        let coupe = c.stock_car(101).await.unwrap().unwrap();
        assert_eq!(coupe.retail_price, 7610);
        assert_eq!(coupe.model_name, "Coupe");
        assert_eq!(
            c.brand(coupe.brand_id).await.unwrap().as_deref(),
            Some("Ford")
        );
        let tree = c.assembly(105).await.unwrap();
        assert!(!tree.is_empty());
        assert_eq!(tree[0].parent_part_id, 105, "the tree starts at the car");
        assert_eq!(c.dealer(8).await.unwrap().as_deref(), Some("Original GM"));
        assert_eq!(c.dealers().await.unwrap().len(), 8);
        assert_eq!(c.dealer(500).await.unwrap(), None, "AI racers sell nothing");
        assert!(!c.skins(coupe.part_type_id).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn dealer_stock_is_stored_once_per_dealer_and_period() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let c = store.mco_catalogue();
        let offer = |car, price| McoDealerOffer {
            dealer_id: 8,
            period: 100,
            branded_part_id: car,
            price,
            deal_of_the_day: false,
        };
        assert!(c.dealer_stock(8, 100).await.unwrap().is_empty());
        c.create_dealer_stock(&[offer(101, 7000), offer(102, 9000)], Utc::now())
            .await
            .unwrap();
        // A second creator (another instance) changes nothing already there.
        c.create_dealer_stock(&[offer(101, 1), offer(103, 5)], Utc::now())
            .await
            .unwrap();
        let stock = c.dealer_stock(8, 100).await.unwrap();
        assert_eq!(
            stock
                .iter()
                .map(|o| (o.branded_part_id, o.price))
                .collect::<Vec<_>>(),
            vec![(101, 7000), (102, 9000), (103, 5)],
            "{}",
            db.label
        );
        assert_eq!(c.offer(8, 100, 102).await.unwrap().unwrap().price, 9000);
        assert!(c.dealer_stock(8, 101).await.unwrap().is_empty());
        assert_eq!(c.purge_dealer_stock_before(101).await.unwrap(), 3);
    }
}
