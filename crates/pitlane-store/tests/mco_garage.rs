//! MCO money and cars on SQLite and PostgreSQL: a purchase debits and
//! creates the car with its parts in one step, never overdraws, and
//! concurrent purchases never spend the same money twice.

use chrono::Utc;
use pitlane_store::mco::{NewPart, PurchaseError};
use pitlane_store::testing::databases;
use pitlane_store::Store;

async fn persona(store: &Store, user: &str) -> i64 {
    let now = Utc::now();
    let account = store.mco_accounts().create(user, "pw", now).await.unwrap();
    store
        .mco_personas()
        .create(account.customer_id, 44, user, 2, now)
        .await
        .unwrap()
        .persona_id
}

fn tree() -> Vec<NewPart> {
    vec![
        NewPart {
            branded_part_id: 1001,
            parent: None,
            attachment_point: 0,
        },
        NewPart {
            branded_part_id: 2001,
            parent: Some(0),
            attachment_point: 11,
        },
    ]
}

#[tokio::test]
async fn purchases_debit_create_and_refuse_overdrafts() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let garage = store.mco_garage();
        let p = persona(&store, "alice").await;
        assert!(garage
            .ensure_player(9999, 10, Utc::now())
            .await
            .unwrap()
            .is_none());
        let player = garage
            .ensure_player(p, 20_000, Utc::now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(player.bank, 20_000);
        // Asking again never refills the bank.
        garage
            .purchase(p, 101, 1, 5_000, &tree(), Utc::now())
            .await
            .unwrap();
        let again = garage
            .ensure_player(p, 20_000, Utc::now())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.bank, 15_000, "{}", db.label);
        assert_eq!(again.cars_owned, 1);

        let refused = garage
            .purchase(p, 105, 1, 15_001, &tree(), Utc::now())
            .await;
        assert!(
            matches!(
                refused,
                Err(PurchaseError::InsufficientFunds {
                    bank: 15_000,
                    price: 15_001
                })
            ),
            "{refused:?}"
        );
        let cars = garage.vehicles(p).await.unwrap();
        assert_eq!(cars.len(), 1, "nothing stored for the refused purchase");
        let parts = garage.parts(p, cars[0].vehicle_id).await.unwrap();
        assert_eq!(parts.len(), 3, "root + two parts");
        assert_eq!(parts[0].part_id, cars[0].vehicle_id);
        assert_eq!(parts[2].parent_part_id, Some(parts[1].part_id));
        let other = persona(&store, "bob").await;
        assert!(garage
            .parts(other, cars[0].vehicle_id)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            garage.player(p).await.unwrap().unwrap().current_vehicle,
            Some(cars[0].vehicle_id)
        );
    }
}

#[tokio::test]
async fn concurrent_purchases_never_overspend() {
    for db in databases().await {
        let store = Store::open(&db.url).await.unwrap();
        let p = persona(&store, "racer").await;
        store
            .mco_garage()
            .ensure_player(p, 10_000, Utc::now())
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .mco_garage()
                    .purchase(p, 101, 1, 3_000, &tree(), Utc::now())
                    .await
            }));
        }
        let mut bought = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(_) => bought += 1,
                Err(PurchaseError::InsufficientFunds { .. }) => {}
                Err(e) => panic!("{}: {e}", db.label),
            }
        }
        assert_eq!(bought, 3, "{}", db.label);
        let player = store.mco_garage().player(p).await.unwrap().unwrap();
        assert_eq!(player.bank, 1_000);
        assert_eq!(store.mco_garage().vehicles(p).await.unwrap().len(), 3);
    }
}
