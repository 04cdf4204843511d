//! MCOTS, the transaction server (TCP 43300): dealer, garage and player
//! data over `TOMC` frames.
//!
//! A connection starts with a clear MC_CLIENT_CONNECT naming customer and
//! persona; the session key comes from the store, as for the lobby. The
//! connect reply goes out in clear (what the 2019 server did and the
//! client accepted); after it both directions are RC4 with a fresh state
//! each, restarted on every connect, and every reply echoes the request's
//! sequence number.

pub mod frame;
pub mod messages;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use pitlane_store::mco::PurchaseError;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::codec::Framed;
use tracing::{debug, error, info, warn};

use crate::catalogue::{self, StockRules};
use crate::crypto::McotsCipher;
use crate::directory::PersonaId;
use crate::server::accept_loop;
use crate::store_directory::StoreDirectory;
use frame::{TomcCodec, TomcFrame, FLAG_ENCRYPTED};
use messages::{no, GenericReply, GenericRequest};
use pitlane_core::recording::{Channel, ConnectionLog, Recorder};

/// How the transaction server behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct McotsSettings {
    /// Money a persona starts with at its first MCOTS login.
    pub starting_money: u32,
    /// How dealers stock their lots.
    pub stock: StockRules,
    /// Lobbies in MC_LOBBIES: id and name.
    pub lobbies: Vec<(u32, String)>,
    /// Game URLs: id and URL.
    pub game_urls: Vec<(u32, String)>,
    /// The tunables record.
    pub tunables: messages::Tunables,
    /// Connections served at once.
    pub max_connections: usize,
    /// Silence allowed on a connection (the client keeps it for the
    /// session).
    pub idle_timeout: Duration,
    /// Largest frame accepted.
    pub max_frame_len: usize,
    /// Where `--record` writes each connection's payloads (off by default).
    pub recorder: Recorder,
}

impl Default for McotsSettings {
    fn default() -> McotsSettings {
        McotsSettings {
            starting_money: 25_000,
            stock: StockRules {
                refresh: Duration::from_secs(24 * 3600),
                size: 12,
                deal_percent_off: 10,
            },
            lobbies: vec![(1, "main".into())],
            game_urls: Vec::new(),
            tunables: messages::Tunables::default(),
            max_connections: 1024,
            idle_timeout: Duration::from_secs(600),
            max_frame_len: frame::DEFAULT_MAX_FRAME_LEN,
            recorder: Recorder::off(),
        }
    }
}

impl McotsSettings {
    /// The operator's `[motorcity]` settings: money, dealer stock, race
    /// lobbies, game URLs, tunables, connection limit and idle timeout.
    pub fn from_config(mc: &pitlane_core::config::MotorCitySettings) -> McotsSettings {
        McotsSettings {
            starting_money: mc.starting_money,
            stock: StockRules {
                refresh: Duration::from_secs(mc.dealer_refresh_hours.max(1) * 3600),
                size: mc.dealer_stock_size,
                deal_percent_off: mc.deal_percent_off,
            },
            lobbies: mc.lobbies.iter().map(|l| (l.id, l.name.clone())).collect(),
            game_urls: mc.game_urls.iter().map(|u| (u.id, u.url.clone())).collect(),
            tunables: mc.tunables.clone(),
            max_connections: mc.max_connections,
            idle_timeout: Duration::from_secs(mc.session_idle_timeout_secs),
            ..McotsSettings::default()
        }
    }
}

/// The transaction server's shared parts.
pub struct Mcots {
    directory: Arc<StoreDirectory>,
    settings: McotsSettings,
    unknown_logged: Mutex<HashSet<u16>>,
}

impl Mcots {
    pub fn new(directory: Arc<StoreDirectory>, settings: McotsSettings) -> Mcots {
        Mcots {
            directory,
            settings,
            unknown_logged: Mutex::new(HashSet::new()),
        }
    }
}

/// Serves MCOTS on `listener` until `shutdown` becomes `true`.
pub async fn serve_mcots(
    listener: TcpListener,
    mcots: Arc<Mcots>,
    shutdown: watch::Receiver<bool>,
) {
    let max = mcots.settings.max_connections;
    accept_loop(
        "mcots",
        listener,
        max,
        shutdown,
        move |stream, peer, shutdown| connection(stream, peer, mcots.clone(), shutdown),
    )
    .await;
}

/// A connection after MC_CLIENT_CONNECT.
struct Session {
    customer: u32,
    persona: u32,
    name: String,
    rx: McotsCipher,
    tx: McotsCipher,
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    mcots: Arc<Mcots>,
    mut shutdown: watch::Receiver<bool>,
) {
    debug!(%peer, "connected");
    let idle = mcots.settings.idle_timeout;
    let log =
        (mcots.settings.recorder).connection_on(Channel::McoMcots, stream.local_addr().ok(), peer);
    let mut framed = Framed::new(stream, TomcCodec::new(mcots.settings.max_frame_len));
    let mut session: Option<Session> = None;
    loop {
        let next = tokio::select! {
            changed = shutdown.changed() => {
                if changed.is_ok() && !*shutdown.borrow_and_update() {
                    continue;
                }
                break;
            }
            next = tokio::time::timeout(idle, framed.next()) => next,
        };
        let request = match next {
            Err(_) => {
                info!("idle timeout; closing");
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(error))) => {
                if matches!(error, frame::TomcError::TooLong { .. }) {
                    crate::server::count_oversized_frame(framed.get_ref());
                }
                warn!(%error, "bad MCOTS input; closing");
                break;
            }
            Ok(Some(Ok(frame))) => frame,
        };
        let sequence = request.sequence;
        let mut payload = request.payload.to_vec();
        if request.encrypted() {
            match session.as_mut() {
                Some(s) => s.rx.apply(&mut payload),
                None => {
                    warn!("encrypted MCOTS frame before MC_CLIENT_CONNECT; closing");
                    break;
                }
            }
        }
        record(&log, true, &payload, &request);
        let Ok(number) = messages::msg_no(&payload) else {
            warn!("MCOTS frame without a message number; closing");
            break;
        };
        if number == no::MC_CLIENT_CONNECT {
            let (reply, next_session) = connect(&mcots, &payload, &log).await;
            let ok = next_session.is_some();
            session = next_session;
            let out = TomcFrame {
                sequence,
                flags: 0,
                payload: reply,
            };
            record(&log, false, &out.payload, &out);
            if framed.send(out).await.is_err() || !ok {
                break;
            }
            continue;
        }
        let Some(s) = session.as_mut() else {
            warn!(number, "MCOTS message before MC_CLIENT_CONNECT; refused");
            let out = TomcFrame {
                sequence,
                flags: 0,
                payload: GenericReply::failed(number).to_bytes(),
            };
            record(&log, false, &out.payload, &out);
            if framed.send(out).await.is_err() {
                break;
            }
            continue;
        };
        let replies = route(&mcots, s, number, &payload).await;
        let mut failed = false;
        for reply in replies {
            let mut data = reply.to_vec();
            s.tx.apply(&mut data);
            let out = TomcFrame {
                sequence,
                flags: FLAG_ENCRYPTED,
                payload: Bytes::from(data),
            };
            record(&log, false, &reply, &out);
            match tokio::time::timeout(idle, framed.send(out)).await {
                Ok(Ok(())) => {}
                _ => {
                    failed = true;
                    break;
                }
            }
        }
        if failed {
            warn!("send failed; closing");
            break;
        }
    }
    debug!("MCOTS connection closed");
}

/// MC_CLIENT_CONNECT → MC_SUCCESS with fresh RC4 states, or MC_FAILED
/// without a session key (the connection then closes).
/// A payload into the transcript: `plain` after RC4, `raw` the frame.
fn record(log: &ConnectionLog, inbound: bool, plain: &[u8], frame: &TomcFrame) {
    if !log.is_on() {
        return;
    }
    let mut raw = bytes::BytesMut::new();
    let _ = tokio_util::codec::Encoder::encode(
        &mut TomcCodec::new(usize::from(u16::MAX)),
        frame.clone(),
        &mut raw,
    );
    if inbound {
        log.inbound(plain, &raw);
    } else {
        log.outbound(plain, &raw);
    }
}

async fn connect(mcots: &Mcots, payload: &[u8], log: &ConnectionLog) -> (Bytes, Option<Session>) {
    let failed = GenericReply::failed(no::MC_CLIENT_CONNECT).to_bytes();
    let request = match messages::ClientConnect::parse(payload) {
        Ok(request) => request,
        Err(error) => {
            warn!(%error, "malformed MC_CLIENT_CONNECT");
            return (failed, None);
        }
    };
    let persona = PersonaId(request.persona_id);
    let key = match mcots.directory.session_for_persona(persona).await {
        Ok(Some((customer, key))) if customer.0 == request.customer_id => key,
        Ok(_) => {
            warn!(%persona, customer = request.customer_id, "MCOTS connect without a session key for this customer and persona; refused");
            return (failed, None);
        }
        Err(error) => {
            error!(%error, "session lookup failed");
            return (failed, None);
        }
    };
    let now = mcots.directory.now();
    match mcots
        .directory
        .store()
        .mco_garage()
        .ensure_player(
            i64::from(request.persona_id),
            i64::from(mcots.settings.starting_money),
            now,
        )
        .await
    {
        Ok(Some(_)) => {}
        Ok(None) => return (failed, None),
        Err(error) => {
            error!(%error, "player record");
            return (failed, None);
        }
    }
    log.secret("session-key", key.as_bytes());
    info!(%persona, "MCOTS connect");
    (
        GenericReply::success(no::MC_CLIENT_CONNECT).to_bytes(),
        Some(Session {
            customer: request.customer_id,
            persona: request.persona_id,
            name: request.persona_name,
            rx: McotsCipher::new(&key),
            tx: McotsCipher::new(&key),
        }),
    )
}

/// MCOTS's routing table: message number → handler.
async fn route(mcots: &Mcots, s: &Session, number: u16, payload: &[u8]) -> Vec<Bytes> {
    let result = match number {
        no::MC_LOGIN => login(s, payload),
        no::MC_LOGOUT => Ok(vec![GenericReply::success(number).to_bytes()]),
        no::MC_SET_OPTIONS => set_options(mcots, s, payload).await,
        no::MC_UPDATE_PLAYER_PHYSICAL => update_physical(mcots, s, payload).await,
        no::MC_GET_PLAYER_PHYSICAL => get_physical(mcots, s).await,
        no::MC_GET_LOBBIES => Ok(vec![
            messages::lobbies(&mcots.settings.lobbies),
            messages::entry_fees(mcots.settings.lobbies.len()),
        ]),
        no::MC_STOCK_CAR_INFO => stock_car_info(mcots, payload).await,
        no::MC_PURCHASE_STOCK_CAR => purchase(mcots, s, payload).await,
        no::MC_GET_OWNED_VEHICLES => owned_vehicles(mcots, s).await,
        no::MC_GET_OWNED_PARTS | no::MC_GET_COMPLETE_VEHICLE_INFO => parts(mcots, s, payload).await,
        no::MC_GET_PLAYER_INFO => player_info(mcots, s).await,
        no::MC_GET_PLAYER_RACING_HISTORY => Ok(vec![messages::racing_history(s.persona)]),
        no::MC_GET_GAME_URLS => Ok(vec![messages::game_urls(&mcots.settings.game_urls)]),
        no::MC_GET_MCO_TUNABLES => Ok(vec![messages::tunables(&mcots.settings.tunables)]),
        no::MC_GET_ARCADE_CARS => Ok(vec![messages::empty_list(no::MC_ARCADE_CARS)]),
        no::MC_TRACKING_MSG => {
            let mut r = messages::Le::new(payload);
            let _ = r.u16("message number");
            let kind = r.u16("type").unwrap_or(0);
            let text = r
                .fixed(256.min(payload.len().saturating_sub(4)), "text")
                .unwrap_or_default();
            info!(kind, %text, "client tracking message");
            Ok(Vec::new())
        }
        other => {
            let first = mcots
                .unknown_logged
                .lock()
                .map(|mut seen| seen.insert(other))
                .unwrap_or(true);
            if first {
                warn!(
                    number = other,
                    "MCOTS message without a handler; answering MC_FAILED (logged once per number)"
                );
            }
            Err("unhandled")
        }
    };
    match result {
        Ok(replies) => {
            debug!(number, replies = replies.len(), "MCOTS message");
            replies
        }
        Err(reason) => {
            if reason != "unhandled" {
                info!(number, reason, "MCOTS request refused");
            }
            vec![GenericReply::failed(number).to_bytes()]
        }
    }
}

type Outcome = Result<Vec<Bytes>, &'static str>;

fn login(s: &Session, payload: &[u8]) -> Outcome {
    let request = messages::McLogin::parse(payload).map_err(|_| "malformed MC_LOGIN")?;
    if request.customer_id != s.customer || request.persona_id != s.persona {
        return Err("MC_LOGIN for another persona than the connect");
    }
    info!(persona = s.persona, name = %s.name, "MC_LOGIN");
    Ok(vec![
        GenericReply::new(no::MC_LOGIN_COMPLETE, no::MC_LOGIN).to_bytes()
    ])
}

async fn set_options(mcots: &Mcots, s: &Session, payload: &[u8]) -> Outcome {
    let o = messages::SetOptions::parse(payload).map_err(|_| "malformed MC_SET_OPTIONS")?;
    mcots
        .directory
        .store()
        .mco_garage()
        .set_options(
            i64::from(s.persona),
            i64::from(o.plate_code),
            &o.plate_text,
            i64::from(o.car_info_settings),
            &o.car_numbers.join("/"),
        )
        .await
        .map_err(|_| "store")?;
    Ok(vec![GenericReply::success(no::MC_SET_OPTIONS).to_bytes()])
}

async fn update_physical(mcots: &Mcots, s: &Session, payload: &[u8]) -> Outcome {
    let (player, looks) = messages::parse_physical(payload).map_err(|_| "malformed physical")?;
    if player != s.persona {
        return Err("physical update for another player");
    }
    mcots
        .directory
        .store()
        .mco_garage()
        .set_physical(i64::from(player), looks.map(i64::from))
        .await
        .map_err(|_| "store")?;
    Ok(vec![
        GenericReply::success(no::MC_UPDATE_PLAYER_PHYSICAL).to_bytes()
    ])
}

async fn get_physical(mcots: &Mcots, s: &Session) -> Outcome {
    let p = player(mcots, s).await?;
    let looks = [
        p.body_type,
        p.hair_color,
        p.skin_color,
        p.shirt_color,
        p.pants_color,
    ]
    .map(wire_u32);
    Ok(vec![messages::physical_info(s.persona, looks)])
}

fn wire_u32(v: i64) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

async fn player(mcots: &Mcots, s: &Session) -> Result<pitlane_store::mco::McoPlayer, &'static str> {
    mcots
        .directory
        .store()
        .mco_garage()
        .player(i64::from(s.persona))
        .await
        .map_err(|_| "store")?
        .ok_or("no player record")
}

async fn stock_car_info(mcots: &Mcots, payload: &[u8]) -> Outcome {
    let request = GenericRequest::parse(payload).map_err(|_| "malformed")?;
    let dealer = request.data;
    let set = &mcots.settings;
    let stock = catalogue::dealer_stock(
        mcots.directory.store(),
        dealer,
        mcots.directory.now(),
        &set.stock,
    )
    .await
    .map_err(|error| {
        error!(%error, dealer, "dealer stock");
        "store"
    })?;
    if stock.is_empty() {
        return Err("unknown dealer");
    }
    let info = messages::StockCarInfo {
        starter_cash: set.starting_money,
        dealer_id: dealer,
        brand_id: 0,
        cars: stock
            .iter()
            .map(|o| {
                (
                    wire_u32(o.branded_part_id),
                    wire_u32(o.price),
                    o.deal_of_the_day,
                )
            })
            .collect(),
    };
    Ok(vec![info.to_bytes()])
}

async fn purchase(mcots: &Mcots, s: &Session, payload: &[u8]) -> Outcome {
    let request = messages::Purchase::parse(payload).map_err(|_| "malformed purchase")?;
    if request.trade_in_car_id != 0 {
        return Err("trade-ins are not served yet");
    }
    let store = mcots.directory.store();
    let now = mcots.directory.now();
    let stock = catalogue::dealer_stock(store, request.dealer_id, now, &mcots.settings.stock)
        .await
        .map_err(|_| "store")?;
    let offer = stock
        .into_iter()
        .find(|o| o.branded_part_id == i64::from(request.branded_part_id))
        .ok_or("the dealer does not offer this car")?;
    let cat = store.mco_catalogue();
    let car = cat
        .stock_car(offer.branded_part_id)
        .await
        .map_err(|_| "store")?
        .ok_or("car not in the catalogue")?;
    let skins = cat.skins(car.part_type_id).await.map_err(|_| "store")?;
    let skin = catalogue::skin_for(&skins, request.skin_id);
    let assembly = cat
        .assembly(car.branded_part_id)
        .await
        .map_err(|_| "store")?;
    let tree = catalogue::part_tree(car.branded_part_id, &assembly);
    let bought = store
        .mco_garage()
        .purchase(
            i64::from(s.persona),
            car.branded_part_id,
            skin,
            offer.price,
            &tree,
            now,
        )
        .await;
    match bought {
        Ok((vehicle, bank)) => {
            info!(
                persona = s.persona,
                car = car.branded_part_id,
                vehicle,
                price = offer.price,
                bank,
                "car bought"
            );
            let mut reply = GenericReply::new(no::MC_PURCHASE_RESULT, no::MC_PURCHASE_STOCK_CAR);
            reply.data = wire_u32(vehicle);
            Ok(vec![reply.to_bytes()])
        }
        Err(PurchaseError::InsufficientFunds { .. }) => Err("not enough money"),
        Err(error) => {
            error!(%error, "purchase failed");
            Err("store")
        }
    }
}

async fn owned_vehicles(mcots: &Mcots, s: &Session) -> Outcome {
    let cars = mcots
        .directory
        .store()
        .mco_garage()
        .vehicles(i64::from(s.persona))
        .await
        .map_err(|_| "store")?;
    let list: Vec<(u32, u32)> = cars
        .iter()
        .map(|c| (wire_u32(c.vehicle_id), wire_u32(c.branded_part_id)))
        .collect();
    Ok(vec![messages::owned_vehicles(&list)])
}

async fn parts(mcots: &Mcots, s: &Session, payload: &[u8]) -> Outcome {
    let request = GenericRequest::parse(payload).map_err(|_| "malformed")?;
    let parts = mcots
        .directory
        .store()
        .mco_garage()
        .parts(i64::from(s.persona), i64::from(request.data))
        .await
        .map_err(|_| "store")?;
    let prices = mcots
        .directory
        .store()
        .mco_catalogue()
        .prices_for_vehicle(i64::from(request.data))
        .await
        .map_err(|_| "store")?;
    let records: Vec<messages::PartRecord> = parts
        .iter()
        .map(|p| {
            let bp = wire_u32(p.branded_part_id);
            let (price, max_wear) = prices.get(&p.branded_part_id).map_or((0, 0), |c| {
                (wire_u32(c.retail_price), wire_u32(c.max_item_wear))
            });
            messages::PartRecord {
                part_id: wire_u32(p.part_id),
                parent_part_id: p.parent_part_id.map_or(0, wire_u32),
                branded_part_id: bp,
                repair_price: 0,
                junk_price: price / 2,
                wear: wire_u32(p.wear),
                attachment_point: u8::try_from(p.attachment_point).unwrap_or(0),
                damage: u8::try_from(p.damage).unwrap_or(0),
                retail_price: price,
                max_wear,
            }
        })
        .collect();
    Ok(vec![messages::parts_assembly(s.persona, &records)])
}

async fn player_info(mcots: &Mcots, s: &Session) -> Outcome {
    let p = player(mcots, s).await?;
    let mut numbers: [String; 6] = Default::default();
    for (slot, n) in numbers.iter_mut().zip(p.car_numbers.split('/')) {
        *slot = n.to_string();
    }
    let info = messages::PlayerInfo {
        player_id: s.persona,
        name: s.name.clone(),
        bank: wire_u32(p.bank),
        vehicles: u16::try_from(p.cars_owned).unwrap_or(u16::MAX),
        car_numbers: numbers,
        plate_code: u16::try_from(p.plate_code).unwrap_or(0),
        plate_text: p.plate_text,
        car_info_settings: wire_u32(p.car_info_settings),
        vehicle_id: p.current_vehicle.map_or(0, wire_u32),
    };
    Ok(vec![info.to_bytes()])
}
