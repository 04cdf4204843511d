//! This instance's heartbeat row: written at start and every few seconds,
//! removed on a clean shutdown. Several instances on one database add
//! their rows up for the live views; one that dies simply stops beating.

use std::sync::Arc;
use std::time::Duration;

use micromachines::MicroMachines;
use pitlane_core::Clock;
use pitlane_store::instances::{Beat, BEAT_SECS};
use pitlane_store::Store;
use tokio::sync::watch;

/// Seconds over which the request rate in a beat is averaged.
const RATE_SECS: usize = 60;

/// What a beat reads from the running server.
pub struct Sources {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub micromachines: Arc<MicroMachines>,
    pub metrics: Arc<pitlane_web::Metrics>,
    pub mco_lobby: Option<Arc<motorcity::lobby::LobbyHub>>,
    pub address: String,
}

pub async fn run(sources: Sources, mut shutdown: watch::Receiver<bool>) {
    let id = sources.store.instance_id().to_string();
    let started_at = sources.clock.now();
    let mut every = tokio::time::interval(Duration::from_secs(BEAT_SECS));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tracing::info!(instance = %id, "instance heartbeat started");
    loop {
        tokio::select! {
            _ = every.tick() => beat(&sources, &id, started_at).await,
            _ = shutdown.changed() => break,
        }
    }
    if let Err(e) = sources.store.instances().remove(&id).await {
        tracing::warn!(error = %e, "could not remove this instance's heartbeat row");
    }
}

async fn beat(s: &Sources, id: &str, started_at: chrono::DateTime<chrono::Utc>) {
    let mm = s.micromachines.matchmaker();
    let searches = match mm.searching_everywhere().await {
        Ok(searches) => searches,
        Err(e) => {
            tracing::warn!(error = %e, "could not read the matchmaking pool for the heartbeat");
            mm.searching()
        }
    };
    let searching: Vec<_> = searches.iter().filter(|s| !s.matched).collect();
    let beat = Beat {
        instance_id: id.to_string(),
        address: s.address.clone(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        mm_polls_held: mm.held_polls() as i64,
        mm_searching_parties: searching.len() as i64,
        mm_searching_players: searching.iter().map(|s| i64::from(s.group_size)).sum(),
        mm_races_formed: mm.races_formed() as i64,
        mco_lobby_online: s.mco_lobby.as_ref().map_or(0, |hub| hub.online() as i64),
        requests_per_second: s.metrics.rates(RATE_SECS).0,
    };
    let now = s.clock.now();
    if let Err(e) = s.store.instances().beat(&beat, now).await {
        tracing::warn!(error = %e, "could not write the heartbeat");
    }
    // Rows of instances gone for a day are history, not status.
    let _ = s
        .store
        .instances()
        .forget_silent(now - chrono::Duration::days(1))
        .await;
}
