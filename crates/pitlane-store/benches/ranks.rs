//! Leaderboard reads on SQLite with a few thousand players: the rank shown
//! at every Login and AddPoints, and a GetElite page.
//!
//! `cargo bench -p pitlane-store --bench ranks`

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use pitlane_store::Store;

const PLAYERS: u64 = 5_000;
const SEASON: i64 = 45;

fn ranks(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let now = Utc.with_ymd_and_hms(2023, 11, 18, 19, 45, 21).unwrap();
    let (store, middle) = runtime.block_on(async {
        let store = Store::open(&url).await.unwrap();
        let mut middle = None;
        for i in 0..PLAYERS {
            let (account, _) = store
                .mm_accounts()
                .login(76_561_198_000_000_000 + i, &format!("P{i}"), "t", now)
                .await
                .unwrap();
            let points = ((i * 7919) % 4000) as i64;
            store
                .mm_scores()
                .set(SEASON, account.user_id, points, points / 500, now)
                .await
                .unwrap();
            if i == PLAYERS / 2 {
                middle = Some(account.user_id);
            }
        }
        let score = store
            .mm_scores()
            .get(SEASON, middle.unwrap())
            .await
            .unwrap()
            .unwrap();
        (store, score)
    });
    c.bench_function("rank/rank_of among 5000 players", |b| {
        b.iter(|| {
            runtime
                .block_on(store.mm_scores().rank_of(black_box(&middle)))
                .unwrap()
        })
    });
    c.bench_function("rank/GetElite page of 10 at rank 2000", |b| {
        b.iter(|| {
            runtime
                .block_on(store.mm_scores().page(SEASON, black_box(2000), 10))
                .unwrap()
        })
    });
    c.bench_function("rank/score get", |b| {
        b.iter(|| {
            runtime
                .block_on(store.mm_scores().get(SEASON, black_box(middle.user_id)))
                .unwrap()
        })
    });
}

criterion_group!(benches, ranks);
criterion_main!(benches);
