//! The real directory on real databases (SQLite always, PostgreSQL when
//! PITLANE_TEST_DATABASE_URL is set): AuthLogin decisions, account and
//! persona creation, and the login and persona servers on loopback fed the
//! captured client bytes, with the replies and the stored state checked.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Duration as Delta, Utc};
use common::*;
use motorcity::http::{AuthLoginResponse, ShardEntry, TICKET_LEN};
use motorcity::store_directory::{
    AuthOutcome, NewAccountError, NewPersonaError, PasswordProblem, UsernameProblem,
};
use motorcity::wire::persona::PersonaSelection;
use motorcity::wire::persona::{
    DeleteGamePersona, GetPersonaMaps, NewGameAccount, PersonaMapEntry, PersonaMaps,
    RegisterGameLogin, GAME_NAME,
};
use motorcity::wire::{ids, read_frame, write_frame, Direction, NpsCodec, NpsFrame, NpsMessage};
use motorcity::{
    serve_login, serve_persona, CustomerId, DirectorySettings, LoginKey, McoDirectory, PersonaId,
    ServerSettings, SessionKey, ShardId, StoreDirectory,
};
use pitlane_core::ManualClock;
use pitlane_store::mco::ThrottleRule;
use pitlane_store::testing::databases;
use pitlane_store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::codec::Encoder;

fn t0() -> DateTime<Utc> {
    DateTime::from_timestamp(1_700_336_721, 0).unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

async fn open(url: &str, settings: DirectorySettings) -> (Arc<StoreDirectory>, ManualClock) {
    let store = Store::open(url).await.unwrap();
    let clock = ManualClock::new(t0());
    let dir = StoreDirectory::new(store, Arc::new(clock.clone()), settings);
    (Arc::new(dir), clock)
}

fn ticket_of(response: &AuthLoginResponse) -> String {
    match response {
        AuthLoginResponse::Valid { ticket } => ticket.clone(),
        other => panic!("expected a ticket, got {other:?}"),
    }
}

fn reason_code(response: &AuthLoginResponse) -> String {
    match response {
        AuthLoginResponse::Invalid(failure) => failure.code.clone(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn auth_login_issues_a_single_use_ticket_for_the_right_password() {
    for db in databases().await {
        let (dir, clock) = open(&db.url, DirectorySettings::default()).await;
        let account = dir.create_account("moo", "moo").await.unwrap();

        let response = dir.auth_login("moo", "moo", ip("192.0.2.7")).await;
        let ticket = ticket_of(&response);
        assert_eq!(ticket.len(), TICKET_LEN);
        assert!(response.body().starts_with("Valid=TRUE\nTicket="));

        let customer = CustomerId(account.customer_id as u32);
        assert_eq!(
            dir.redeem_ticket(&ticket).await.unwrap(),
            Some(customer),
            "{}",
            db.label
        );
        assert_eq!(
            dir.redeem_ticket(&ticket).await.unwrap(),
            None,
            "single use"
        );
        assert_eq!(
            dir.store()
                .mco_accounts()
                .by_id(account.customer_id)
                .await
                .unwrap()
                .unwrap()
                .last_login_at,
            Some(t0())
        );

        // Names are matched case-insensitively.
        let again = dir.auth_login("MOO", "moo", ip("192.0.2.7")).await;
        let second = ticket_of(&again);
        assert_ne!(second, ticket);

        // Tickets expire.
        clock.advance(Delta::minutes(5));
        assert_eq!(dir.redeem_ticket(&second).await.unwrap(), None);
        dir.store().close().await;
    }
}

#[tokio::test]
async fn wrong_passwords_unknown_and_banned_accounts_are_refused() {
    for db in databases().await {
        let (dir, clock) = open(&db.url, DirectorySettings::default()).await;
        let account = dir.create_account("moo", "moo").await.unwrap();
        let addr = ip("192.0.2.7");

        let wrong = dir.auth_login("moo", "Moo", addr).await;
        assert_eq!(reason_code(&wrong), "INV-100");
        assert!(wrong.body().starts_with("reasoncode=INV-100\nreasontext="));
        let unknown = dir.auth_login("nobody", "moo", addr).await;
        assert_eq!(unknown, wrong, "unknown and wrong look the same");
        let silly = dir.auth_login("a&b=c", "moo", addr).await;
        assert_eq!(silly, wrong);

        dir.store()
            .mco_accounts()
            .ban(
                account.customer_id,
                "testing",
                Some(t0() + Delta::hours(1)),
                t0(),
            )
            .await
            .unwrap();
        let banned = dir.auth_login("moo", "moo", addr).await;
        assert_eq!(reason_code(&banned), "INV-200", "{}", db.label);
        assert!(banned.body().contains("disabled"));
        assert_eq!(
            dir.authenticate("moo", "moo", addr).await.unwrap(),
            AuthOutcome::Banned(CustomerId(account.customer_id as u32))
        );

        // The ban lapses; a ticket issued before a later ban is refused.
        clock.advance(Delta::hours(1));
        let ticket = ticket_of(&dir.auth_login("moo", "moo", addr).await);
        dir.store()
            .mco_accounts()
            .ban(account.customer_id, "again", None, clock_now(&clock))
            .await
            .unwrap();
        assert_eq!(dir.redeem_ticket(&ticket).await.unwrap(), None);
        dir.store().close().await;
    }
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    use pitlane_core::Clock;
    clock.now()
}

fn strict_settings() -> DirectorySettings {
    DirectorySettings {
        account_throttle: ThrottleRule {
            max_failures: 3,
            window: Duration::from_secs(300),
            lockout: Duration::from_secs(900),
        },
        address_throttle: ThrottleRule {
            max_failures: 5,
            window: Duration::from_secs(300),
            lockout: Duration::from_secs(900),
        },
        ..DirectorySettings::default()
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_account_name_for_a_while() {
    for db in databases().await {
        let (dir, clock) = open(&db.url, strict_settings()).await;
        dir.create_account("moo", "moo").await.unwrap();
        dir.create_account("other", "pw").await.unwrap();
        // Guesses from different addresses still add up for the name.
        for i in 0..3 {
            let response = dir
                .auth_login("moo", "guess", ip(&format!("198.51.100.{i}")))
                .await;
            assert_eq!(reason_code(&response), "INV-100");
        }
        let locked = dir.auth_login("MOO", "moo", ip("192.0.2.7")).await;
        assert_eq!(reason_code(&locked), "INV-200", "{}", db.label);
        assert!(locked.body().contains("Too many"), "{}", locked.body());
        assert!(matches!(
            dir.authenticate("moo", "moo", ip("192.0.2.7")).await.unwrap(),
            AuthOutcome::Throttled { until } if until == t0() + Delta::minutes(15)
        ));
        // Another account from the same address is unaffected.
        ticket_of(&dir.auth_login("other", "pw", ip("198.51.100.0")).await);

        clock.advance(Delta::minutes(15));
        ticket_of(&dir.auth_login("moo", "moo", ip("192.0.2.7")).await);
        // Success cleared the name's failures: three more are needed.
        for _ in 0..2 {
            dir.auth_login("moo", "guess", ip("192.0.2.7")).await;
        }
        ticket_of(&dir.auth_login("moo", "moo", ip("192.0.2.7")).await);
        dir.store().close().await;
    }
}

#[tokio::test]
async fn repeated_failures_lock_the_address_for_every_name() {
    for db in databases().await {
        let (dir, clock) = open(&db.url, strict_settings()).await;
        dir.create_account("moo", "moo").await.unwrap();
        // A sprayer tries one guess on many names from one IPv6 /64.
        for i in 0..5 {
            let from = ip(&format!("2001:db8:7:7::{i:x}"));
            dir.auth_login(&format!("name{i}"), "guess", from).await;
        }
        let locked = dir.auth_login("moo", "moo", ip("2001:db8:7:7::99")).await;
        assert_eq!(reason_code(&locked), "INV-200", "{}", db.label);
        // Another network is not.
        ticket_of(&dir.auth_login("moo", "moo", ip("2001:db8:8:8::1")).await);
        // And the lock ends.
        clock.advance(Delta::minutes(15));
        ticket_of(&dir.auth_login("moo", "moo", ip("2001:db8:7:7::99")).await);
        // Housekeeping removes what no longer matters.
        clock.advance(Delta::hours(1));
        assert!(dir.purge_expired().await.unwrap() >= 5);
        dir.store().close().await;
    }
}

#[tokio::test]
async fn a_failing_store_refuses_instead_of_panicking() {
    for db in databases().await {
        let (dir, _clock) = open(&db.url, DirectorySettings::default()).await;
        dir.create_account("moo", "moo").await.unwrap();
        dir.store().close().await;
        let response = dir.auth_login("moo", "moo", ip("192.0.2.7")).await;
        assert_eq!(reason_code(&response), "INV-200", "{}", db.label);
        assert!(response.body().contains("cannot check"));
        assert!(dir.redeem_ticket("x").await.is_err());
        assert!(dir.has_session(CustomerId(1)).await.is_err());
    }
}

#[tokio::test]
async fn accounts_and_personas_follow_the_rules() {
    for db in databases().await {
        let (dir, _clock) = open(&db.url, DirectorySettings::default()).await;
        let moo = dir.create_account("Moo", "moo").await.unwrap();
        assert!(matches!(
            dir.create_account("mOO", "x").await,
            Err(NewAccountError::NameTaken(_))
        ));
        assert!(matches!(
            dir.create_account("a b", "x").await,
            Err(NewAccountError::BadName(UsernameProblem::BadCharacter(' ')))
        ));
        assert!(matches!(
            dir.create_account("ok", "").await,
            Err(NewAccountError::BadPassword(PasswordProblem::Empty))
        ));
        let err = dir.create_account("moo", "x").await.unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");

        let customer = CustomerId(moo.customer_id as u32);
        let shard = ShardId(44);
        let brown = dir
            .create_persona(customer, shard, "Dr Brown")
            .await
            .unwrap();
        assert_eq!(brown.name, "Dr Brown");
        assert!(matches!(
            dir.create_persona(customer, shard, "DR BROWN").await,
            Err(NewPersonaError::NameTaken(_))
        ));
        assert!(matches!(
            dir.create_persona(customer, shard, "x").await,
            Err(NewPersonaError::BadName(_))
        ));
        let morty = dir
            .create_persona(customer, shard, "Morty Dr")
            .await
            .unwrap();
        assert!(matches!(
            dir.create_persona(customer, shard, "Third One").await,
            Err(NewPersonaError::TooMany(2))
        ));
        assert!(matches!(
            dir.create_persona(CustomerId(999), shard, "Ghost").await,
            Err(NewPersonaError::NoSuchAccount(CustomerId(999)))
        ));
        assert_eq!(
            dir.list_personas(customer).await.unwrap(),
            vec![brown.clone(), morty.clone()],
            "{}",
            db.label
        );
        assert!(dir.persona_name_taken("morty dr").await.unwrap());
        assert!(dir.delete_persona(customer, morty.id).await.unwrap());
        assert!(!dir.persona_name_taken("morty dr").await.unwrap());
        assert_eq!(dir.list_personas(customer).await.unwrap(), vec![brown]);
        dir.store().close().await;
    }
}

struct Servers {
    login: SocketAddr,
    persona: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Servers {
    async fn stop(self) {
        self.stop.send(true).unwrap();
        for task in self.tasks {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("servers stop on shutdown")
                .unwrap();
        }
    }
}

async fn start(dir: Arc<StoreDirectory>) -> Servers {
    let key = Arc::new(LoginKey::from_pem(KEY_2019).unwrap());
    let (stop, shutdown) = watch::channel(false);
    let login_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let persona_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let login = login_listener.local_addr().unwrap();
    let persona = persona_listener.local_addr().unwrap();
    let dir: Arc<dyn McoDirectory> = dir;
    let tasks = vec![
        tokio::spawn(serve_login(
            login_listener,
            dir.clone(),
            key,
            ServerSettings::default(),
            shutdown.clone(),
        )),
        tokio::spawn(serve_persona(
            persona_listener,
            dir,
            ServerSettings::default(),
            shutdown,
        )),
    ];
    Servers {
        login,
        persona,
        stop,
        tasks,
    }
}

/// Sends `request`, then reads until the server closes or `expect` bytes
/// arrived.
async fn exchange(addr: SocketAddr, request: &[u8], expect: usize) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut reply = Vec::new();
    let mut buf = [0u8; 1024];
    while reply.len() < expect {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf))
            .await
            .expect("server answers or closes in time")
            .unwrap_or(0);
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&buf[..n]);
    }
    reply
}

fn encode(frame: motorcity::wire::NpsFrame) -> Vec<u8> {
    let mut wire = bytes::BytesMut::new();
    NpsCodec::server(4096).encode(frame, &mut wire).unwrap();
    wire.to_vec()
}

const CAPTURED_TICKET: &str = "d316cd2dd6bf870893dfbaaf17f965884e";
const CAPTURED_CUSTOMER: i64 = 5_551_212;
const REFUSED: &str = "0602000c000000000000000c";

#[tokio::test]
async fn the_captured_client_logs_in_and_picks_a_persona_on_the_store() {
    for db in databases().await {
        let (dir, _clock) = open(&db.url, DirectorySettings::default()).await;
        // The captured session's account, personas and ticket, as an import
        // would create them.
        let store = dir.store();
        store
            .mco_accounts()
            .create_with_id(CAPTURED_CUSTOMER, "moo", "moo", t0())
            .await
            .unwrap();
        for (id, name) in [(8_675_309, "Dr Brown"), (8_675_310, "Morty Dr")] {
            store
                .mco_personas()
                .create_with_id(id, CAPTURED_CUSTOMER, 44, name, 2, t0())
                .await
                .unwrap();
        }
        store
            .mco_tickets()
            .issue(
                CAPTURED_TICKET,
                CAPTURED_CUSTOMER,
                "127.0.0.1",
                t0(),
                t0() + Delta::minutes(5),
            )
            .await
            .unwrap();
        let servers = start(dir.clone()).await;

        // Before login, the persona server knows no session.
        let persona_maps = bytes(&record(PERSONA, "nps-0x532-2019"));
        assert_eq!(exchange(servers.persona, &persona_maps, 1).await, b"");

        // 8226: the captured 0x501 gets the accepted 0x601.
        let login = record(LOGIN, "nps-0x501-D");
        let reply = exchange(servers.login, &bytes(&login), 256).await;
        assert_eq!(
            reply,
            bytes(&record(LOGIN, "nps-0x601-2023")),
            "{}",
            db.label
        );
        let session = store
            .mco_sessions()
            .live(CAPTURED_CUSTOMER, t0())
            .await
            .unwrap()
            .expect("session stored");
        assert_eq!(
            hex::encode(&session.session_key),
            login["decoded"]["session_key_hex"].as_str().unwrap()
        );
        assert_eq!(session.persona_id, None);

        // 8228: list, select, name check, each on a fresh connection.
        let reply = exchange(servers.persona, &persona_maps, 88).await;
        assert_eq!(
            reply,
            bytes(&record(PERSONA, "nps-0x607-2019")),
            "{}",
            db.label
        );
        let reply = exchange(
            servers.persona,
            &bytes(&record(PERSONA, "nps-0x503-2019")),
            263,
        )
        .await;
        assert_eq!(reply, bytes(&record(PERSONA, "nps-0x207-2019")));
        let session = store
            .mco_sessions()
            .live(CAPTURED_CUSTOMER, t0())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (session.persona_id, session.shard_id),
            (Some(8_675_309), Some(44))
        );
        let (customer, key) = dir
            .session_for_persona(PersonaId(8_675_309))
            .await
            .unwrap()
            .expect("the lobby can find the key");
        assert_eq!(customer, CustomerId(CAPTURED_CUSTOMER as u32));
        assert_eq!(key.as_bytes().to_vec(), session.session_key);

        let reply = exchange(servers.persona, &bytes(&record(PERSONA, "nps-0x533")), 12).await;
        assert_eq!(reply, hex::decode("020a000c000000000000000c").unwrap());

        // The ticket is spent: the same 0x501 again is refused.
        let reply = exchange(servers.login, &bytes(&login), 64).await;
        assert_eq!(reply, hex::decode(REFUSED).unwrap(), "{}", db.label);

        let shards = dir
            .shard_list(&[ShardEntry::new("The Clocktower", 44, "mco.example")])
            .await;
        assert!(shards.contains("\tPopulation=1\n"), "{shards}");
        assert!(shards.contains("\tMaxPersonasPerUser=2\n"));

        servers.stop().await;
        dir.store().close().await;
    }
}

#[tokio::test]
async fn a_simulated_client_goes_from_auth_login_to_its_personas() {
    for db in databases().await {
        let (dir, clock) = open(&db.url, DirectorySettings::default()).await;
        let account = dir.create_account("racer", "pa55 word").await.unwrap();
        let customer = CustomerId(account.customer_id as u32);
        dir.create_persona(customer, ShardId(44), "Speedy")
            .await
            .unwrap();
        let servers = start(dir.clone()).await;

        let public = motorcity::crypto::PublicLoginKey::from_pub_key_file(PUB_2019).unwrap();
        let login_with = |ticket: &str, session: &SessionKey| {
            encode(
                motorcity::wire::login::UserLogin {
                    ticket: ticket.into(),
                    reserved: 0,
                    encrypted_session_key: public.encrypt_session_key(session).unwrap(),
                    service_id: "2176".into(),
                    trailer: Some(motorcity::wire::login::USER_LOGIN_TRAILER),
                }
                .to_frame()
                .unwrap(),
            )
        };

        // A wrong password gets no ticket; a made-up ticket gets 0x602.
        assert_eq!(
            reason_code(&dir.auth_login("racer", "pa55", ip("127.0.0.1")).await),
            "INV-100"
        );
        let session = SessionKey::new([0x42; 32], 0);
        let reply = exchange(servers.login, &login_with(&"0".repeat(34), &session), 64).await;
        assert_eq!(reply, hex::decode(REFUSED).unwrap());

        let ticket = ticket_of(&dir.auth_login("racer", "pa55 word", ip("127.0.0.1")).await);
        let reply = exchange(servers.login, &login_with(&ticket, &session), 256).await;
        assert_eq!(&reply[..2], &[0x06, 0x01], "{}", db.label);
        assert_eq!(&reply[12..16], &customer.0.to_be_bytes());
        assert_eq!(dir.session_key(customer).await.unwrap(), Some(session));

        let list = encode(
            GetPersonaMaps {
                customer_id: customer.0,
            }
            .to_frame()
            .unwrap(),
        );
        let reply = exchange(servers.persona, &list, 50).await;
        assert_eq!(reply.len(), 12 + 38, "{}", db.label);
        assert_eq!(&reply[..2], &[0x06, 0x07]);
        assert_eq!(&reply[34..40], b"Speedy");

        // Once the session has expired, the persona server stops trusting
        // the customer id.
        clock.advance(Delta::hours(6));
        assert!(!dir.has_session(customer).await.unwrap());
        assert_eq!(exchange(servers.persona, &list, 1).await, b"");

        servers.stop().await;
        dir.store().close().await;
    }
}

#[tokio::test]
async fn two_logins_racing_with_one_ticket_get_one_session() {
    for db in databases().await {
        let (dir, _clock) = open(&db.url, DirectorySettings::default()).await;
        let store = dir.store();
        store
            .mco_accounts()
            .create_with_id(CAPTURED_CUSTOMER, "moo", "moo", t0())
            .await
            .unwrap();
        store
            .mco_tickets()
            .issue(
                CAPTURED_TICKET,
                CAPTURED_CUSTOMER,
                "127.0.0.1",
                t0(),
                t0() + Delta::minutes(5),
            )
            .await
            .unwrap();
        let servers = start(dir.clone()).await;
        let login = bytes(&record(LOGIN, "nps-0x501-D"));
        let (a, b) = tokio::join!(
            exchange(servers.login, &login, 256),
            exchange(servers.login, &login, 256)
        );
        let accepted = bytes(&record(LOGIN, "nps-0x601-2023"));
        let refused = hex::decode(REFUSED).unwrap();
        let mut replies = [a, b];
        replies.sort();
        assert_eq!(replies, [accepted, refused], "{}", db.label);
        servers.stop().await;
        dir.store().close().await;
    }
}

/// One request on a fresh connection; the reply, or `None` when the server
/// closed without one.
async fn ask(addr: SocketAddr, frame: NpsFrame) -> Option<NpsFrame> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    write_frame(&mut stream, frame, 4096).await.unwrap();
    tokio::time::timeout(
        Duration::from_secs(10),
        read_frame(&mut stream, Direction::ServerToClient, 4096),
    )
    .await
    .expect("server answers or closes in time")
    .ok()
    .flatten()
}

#[tokio::test]
async fn personas_are_created_listed_selected_and_deleted_over_the_wire() {
    for db in databases().await {
        let (dir, _clock) = open(&db.url, DirectorySettings::default()).await;
        let racer = dir.create_account("racer", "pw").await.unwrap();
        let customer = CustomerId(racer.customer_id as u32);
        let other = dir.create_account("other", "pw").await.unwrap();
        let other = CustomerId(other.customer_id as u32);
        let speedy = dir
            .create_persona(other, ShardId(44), "Speedy")
            .await
            .unwrap();
        let servers = start(dir.clone()).await;

        let create = |name: &str| {
            NewGameAccount {
                customer_id: customer.0,
                name: name.into(),
                game: GAME_NAME.into(),
                shard_id: 44,
            }
            .to_frame()
            .unwrap()
        };
        let delete = |who: CustomerId, persona: PersonaId| {
            DeleteGamePersona {
                customer_id: who.0,
                persona_id: persona.0,
            }
            .to_frame()
            .unwrap()
        };
        let select = |persona: PersonaId| {
            RegisterGameLogin(PersonaSelection {
                customer_id: customer.0,
                persona_id: persona.0,
                shard_id: 44,
            })
            .to_frame()
            .unwrap()
        };
        let list = || async {
            let frame = GetPersonaMaps {
                customer_id: customer.0,
            }
            .to_frame()
            .unwrap();
            let reply = ask(servers.persona, frame).await.expect("a persona list");
            PersonaMaps::from_frame(&reply).unwrap().entries
        };

        // Without a login the persona server creates nothing.
        assert_eq!(ask(servers.persona, create("Doc")).await, None);
        assert!(dir.list_personas(customer).await.unwrap().is_empty());

        dir.store_session_key(customer, &SessionKey::generate())
            .await
            .unwrap();
        assert_eq!(list().await, vec![], "{}", db.label);

        let reply = ask(servers.persona, create("Doc")).await.unwrap();
        assert_eq!((reply.id, reply.body.len()), (ids::USER_VALID, 0));
        let stored = dir.list_personas(customer).await.unwrap();
        assert_eq!(stored.len(), 1);
        let doc = stored[0].clone();
        assert_eq!(
            list().await,
            vec![PersonaMapEntry {
                persona_id: doc.id.0,
                shard_id: 44,
                name: "Doc".into()
            }],
            "{}",
            db.label
        );

        // Duplicates (any case, any account) and bad names: 0x20a.
        for name in ["DOC", "speedy", "no", "Doc!"] {
            let reply = ask(servers.persona, create(name)).await.unwrap();
            assert_eq!(reply.id, ids::DUP_USER, "{name} on {}", db.label);
        }
        // MaxPersonasPerUser is 2: the third gets 0x640.
        let reply = ask(servers.persona, create("Marty")).await.unwrap();
        assert_eq!(reply.id, ids::USER_VALID);
        let reply = ask(servers.persona, create("Biff")).await.unwrap();
        assert_eq!(reply.id, ids::SHARD_PERSONA_LIMIT_REACHED, "{}", db.label);
        assert_eq!(list().await.len(), 2);

        // Pick Doc, then delete it: the session forgets the choice and
        // picking it again is refused.
        let reply = ask(servers.persona, select(doc.id)).await.unwrap();
        assert_eq!(reply.id, ids::ACK);
        assert!(dir.session_for_persona(doc.id).await.unwrap().is_some());
        let reply = ask(servers.persona, delete(other, speedy.id)).await;
        assert_eq!(reply, None, "the other account has no session");
        let reply = ask(servers.persona, delete(customer, speedy.id))
            .await
            .unwrap();
        assert_eq!(reply.id, ids::PERSONA_DELETION_DENY, "not yours");
        assert_eq!(dir.list_personas(other).await.unwrap(), vec![speedy]);
        let reply = ask(servers.persona, delete(customer, doc.id))
            .await
            .unwrap();
        assert_eq!((reply.id, reply.body.len()), (ids::USER_DELETED, 0));
        let reply = ask(servers.persona, delete(customer, doc.id))
            .await
            .unwrap();
        assert_eq!(reply.id, ids::PERSONA_DELETION_DENY);
        assert!(dir.session_for_persona(doc.id).await.unwrap().is_none());
        assert_eq!(
            ask(servers.persona, select(doc.id)).await,
            None,
            "{}",
            db.label
        );
        let names: Vec<String> = list().await.into_iter().map(|e| e.name).collect();
        assert_eq!(names, ["Marty"]);

        // The freed slot and the freed name can be used again.
        let reply = ask(servers.persona, create("doc")).await.unwrap();
        assert_eq!(reply.id, ids::USER_VALID, "{}", db.label);
        assert_eq!(list().await.len(), 2);

        servers.stop().await;
        dir.store().close().await;
    }
}
