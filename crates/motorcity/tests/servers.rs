//! The login and persona servers on loopback, spoken to with the captured
//! client bytes, answering with the bytes the real client accepted.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use motorcity::persona::check_persona_name;
use motorcity::wire::persona::{
    DeleteGamePersona, GetPersonaMaps, NewGameAccount, PersonaMaps, GAME_NAME,
};
use motorcity::wire::{ids, read_frame, write_frame, Direction, NpsFrame, NpsMessage};
use motorcity::{
    serve_login, serve_persona, CustomerId, DirectoryError, LoginKey, McoDirectory,
    NewPersonaError, Persona, PersonaId, ServerSettings, SessionKey, ShardId,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A directory for tests: the real one lives in the store.
#[derive(Default)]
struct TestDirectory {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    tickets: HashMap<String, CustomerId>,
    sessions: HashMap<CustomerId, SessionKey>,
    personas: Vec<(CustomerId, Persona)>,
    selected: Vec<(CustomerId, PersonaId, ShardId)>,
    next_persona: u32,
}

/// The per-account limit of the test directory.
const MAX_PERSONAS: u32 = 3;

impl TestDirectory {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

#[async_trait]
impl McoDirectory for TestDirectory {
    async fn redeem_ticket(&self, ticket: &str) -> Result<Option<CustomerId>, DirectoryError> {
        Ok(self.state().tickets.remove(ticket))
    }

    async fn store_session_key(
        &self,
        customer: CustomerId,
        key: &SessionKey,
    ) -> Result<(), DirectoryError> {
        self.state().sessions.insert(customer, key.clone());
        Ok(())
    }

    async fn has_session(&self, customer: CustomerId) -> Result<bool, DirectoryError> {
        Ok(self.state().sessions.contains_key(&customer))
    }

    async fn list_personas(&self, customer: CustomerId) -> Result<Vec<Persona>, DirectoryError> {
        Ok(self
            .state()
            .personas
            .iter()
            .filter(|(c, _)| *c == customer)
            .map(|(_, p)| p.clone())
            .collect())
    }

    async fn select_persona(
        &self,
        customer: CustomerId,
        persona: PersonaId,
        shard: ShardId,
    ) -> Result<bool, DirectoryError> {
        let mut state = self.state();
        let owned = state
            .personas
            .iter()
            .any(|(c, p)| *c == customer && p.id == persona && p.shard == shard);
        if owned {
            state.selected.push((customer, persona, shard));
        }
        Ok(owned)
    }

    async fn persona_name_taken(&self, name: &str) -> Result<bool, DirectoryError> {
        Ok(self
            .state()
            .personas
            .iter()
            .any(|(_, p)| p.name.eq_ignore_ascii_case(name)))
    }

    async fn create_persona(
        &self,
        customer: CustomerId,
        shard: ShardId,
        name: &str,
    ) -> Result<Persona, NewPersonaError> {
        check_persona_name(name)?;
        let mut state = self.state();
        if state
            .personas
            .iter()
            .any(|(_, p)| p.name.eq_ignore_ascii_case(name))
        {
            return Err(NewPersonaError::NameTaken(name.into()));
        }
        let owned = state
            .personas
            .iter()
            .filter(|(c, _)| *c == customer)
            .count();
        if owned >= MAX_PERSONAS as usize {
            return Err(NewPersonaError::TooMany(MAX_PERSONAS));
        }
        state.next_persona += 1;
        let persona = Persona {
            id: PersonaId(9_000_000 + state.next_persona),
            shard,
            name: name.into(),
        };
        state.personas.push((customer, persona.clone()));
        Ok(persona)
    }

    async fn delete_persona(
        &self,
        customer: CustomerId,
        persona: PersonaId,
    ) -> Result<bool, DirectoryError> {
        let mut state = self.state();
        let before = state.personas.len();
        state
            .personas
            .retain(|(c, p)| !(*c == customer && p.id == persona));
        Ok(state.personas.len() < before)
    }
}

const TICKET: &str = "d316cd2dd6bf870893dfbaaf17f965884e";
const CUSTOMER: CustomerId = CustomerId(5_551_212);

fn directory() -> Arc<TestDirectory> {
    let dir = TestDirectory::default();
    {
        let mut state = dir.state();
        state.tickets.insert(TICKET.into(), CUSTOMER);
        for (id, name) in [(8_675_309, "Dr Brown"), (8_675_310, "Morty Dr")] {
            state.personas.push((
                CUSTOMER,
                Persona {
                    id: PersonaId(id),
                    shard: ShardId(44),
                    name: name.into(),
                },
            ));
        }
    }
    Arc::new(dir)
}

struct Servers {
    login: std::net::SocketAddr,
    persona: std::net::SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

async fn start(dir: Arc<TestDirectory>, settings: ServerSettings) -> Servers {
    let key = Arc::new(LoginKey::from_pem(KEY_2019).unwrap());
    let (stop, shutdown) = watch::channel(false);
    let login_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let persona_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let login = login_listener.local_addr().unwrap();
    let persona = persona_listener.local_addr().unwrap();
    let tasks = vec![
        tokio::spawn(serve_login(
            login_listener,
            dir.clone(),
            key,
            settings.clone(),
            shutdown.clone(),
        )),
        tokio::spawn(serve_persona(persona_listener, dir, settings, shutdown)),
    ];
    Servers {
        login,
        persona,
        stop,
        tasks,
    }
}

/// Sends `request` (in two pieces, to exercise reassembly), then reads
/// until the server closes or `expect` bytes arrived.
async fn exchange(addr: std::net::SocketAddr, request: &[u8], expect: usize) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let (a, b) = request.split_at(request.len() / 2);
    stream.write_all(a).await.unwrap();
    stream.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    stream.write_all(b).await.unwrap();
    read_reply(&mut stream, expect).await
}

async fn read_reply(stream: &mut TcpStream, expect: usize) -> Vec<u8> {
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

async fn closed_without_reply(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(Duration::from_secs(10), stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test]
async fn captured_client_logs_in_and_picks_a_persona() {
    let dir = directory();
    let servers = start(dir.clone(), ServerSettings::default()).await;

    // 8226: the captured 0x501 (session 2019, key test-key-2019).
    let login = record(LOGIN, "nps-0x501-D");
    let reply = exchange(servers.login, &bytes(&login), 256).await;
    assert_eq!(reply, bytes(&record(LOGIN, "nps-0x601-2023")));
    let stored = dir
        .state()
        .sessions
        .get(&CUSTOMER)
        .cloned()
        .expect("key stored");
    assert_eq!(
        hex::encode(stored.as_bytes()),
        login["decoded"]["session_key_hex"].as_str().unwrap()
    );

    // 8228: persona list, then (new connection) persona selection.
    let reply = exchange(
        servers.persona,
        &bytes(&record(PERSONA, "nps-0x532-2019")),
        88,
    )
    .await;
    assert_eq!(reply, bytes(&record(PERSONA, "nps-0x607-2019")));
    let reply = exchange(
        servers.persona,
        &bytes(&record(PERSONA, "nps-0x503-2019")),
        263,
    )
    .await;
    assert_eq!(reply, bytes(&record(PERSONA, "nps-0x207-2019")));
    assert_eq!(
        dir.state().selected,
        vec![(CUSTOMER, PersonaId(8_675_309), ShardId(44))]
    );

    // Name check: the captured 0x533 asks for a name that exists.
    let reply = exchange(servers.persona, &bytes(&record(PERSONA, "nps-0x533")), 12).await;
    assert_eq!(reply, hex::decode("020a000c000000000000000c").unwrap());

    // The ticket was single-use: the same 0x501 again gets 0x602 and a close.
    let reply = exchange(servers.login, &bytes(&login), 64).await;
    assert_eq!(reply, hex::decode("0602000c000000000000000c").unwrap());

    servers.stop.send(true).unwrap();
    for task in servers.tasks {
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("servers stop on shutdown")
            .unwrap();
    }
}

#[tokio::test]
async fn bad_clients_are_closed_and_do_not_harm_the_next() {
    let dir = directory();
    let settings = ServerSettings {
        idle_timeout: Duration::from_millis(300),
        max_frame_len: 1024,
        ..ServerSettings::default()
    };
    let servers = start(dir.clone(), settings).await;

    // A frame longer than the cap: closed without an answer.
    let mut stream = TcpStream::connect(servers.login).await.unwrap();
    stream
        .write_all(&[0x05, 0x01, 0xff, 0xff, 1, 1])
        .await
        .unwrap();
    assert!(closed_without_reply(&mut stream).await);

    // A length below the header size.
    let mut stream = TcpStream::connect(servers.persona).await.unwrap();
    stream.write_all(&[0x05, 0x32, 0x00, 0x04]).await.unwrap();
    assert!(closed_without_reply(&mut stream).await);

    // A well-framed 0x501 with a garbage body gets 0x602.
    let garbage = hex::decode("0501000f010100000000000fffff00").unwrap();
    let reply = exchange(servers.login, &garbage, 64).await;
    assert_eq!(reply, hex::decode("0602000c000000000000000c").unwrap());

    // An undecryptable session key (wrong key) gets 0x602 and keeps the ticket.
    let other_key = record(LOGIN, "nps-0x501-E");
    let reply = exchange(servers.login, &bytes(&other_key), 64).await;
    assert_eq!(reply, hex::decode("0602000c000000000000000c").unwrap());
    assert!(dir.state().tickets.contains_key(TICKET));

    // Persona requests before any login: no session, closed.
    let mut stream = TcpStream::connect(servers.persona).await.unwrap();
    stream
        .write_all(&bytes(&record(PERSONA, "nps-0x532-2019")))
        .await
        .unwrap();
    assert!(closed_without_reply(&mut stream).await);

    // A silent client is dropped after the idle timeout.
    let mut stream = TcpStream::connect(servers.persona).await.unwrap();
    assert!(closed_without_reply(&mut stream).await);

    // After all that, a real client still gets through.
    let reply = exchange(servers.login, &bytes(&record(LOGIN, "nps-0x501-D")), 256).await;
    assert_eq!(reply, bytes(&record(LOGIN, "nps-0x601-2023")));
    let reply = exchange(
        servers.persona,
        &bytes(&record(PERSONA, "nps-0x532-2019")),
        88,
    )
    .await;
    assert_eq!(reply, bytes(&record(PERSONA, "nps-0x607-2019")));

    servers.stop.send(true).unwrap();
}

#[tokio::test]
async fn a_simulated_client_with_its_own_session_key() {
    // What the client does, done here: encrypt a fresh key to pub.key.
    let dir = directory();
    let servers = start(dir.clone(), ServerSettings::default()).await;
    let public = motorcity::crypto::PublicLoginKey::from_pub_key_file(PUB_2019).unwrap();
    let session = SessionKey::new([0x42; 32], 0);
    let request = motorcity::wire::login::UserLogin {
        ticket: TICKET.into(),
        reserved: 0,
        encrypted_session_key: public.encrypt_session_key(&session).unwrap(),
        service_id: "2176".into(),
        trailer: Some(motorcity::wire::login::USER_LOGIN_TRAILER),
    };
    use motorcity::wire::{NpsCodec, NpsMessage};
    use tokio_util::codec::Encoder;
    let mut wire = bytes::BytesMut::new();
    NpsCodec::server(4096)
        .encode(request.to_frame().unwrap(), &mut wire)
        .unwrap();
    assert_eq!(
        wire.len(),
        318,
        "same size as the captured 34-character-ticket logins"
    );
    let reply = exchange(servers.login, &wire, 256).await;
    assert_eq!(&reply[12..16], &CUSTOMER.0.to_be_bytes());
    assert_eq!(dir.state().sessions.get(&CUSTOMER), Some(&session));
    servers.stop.send(true).unwrap();
}

/// One request on a fresh connection, as the client does it; the reply, or
/// `None` when the server closed without one.
async fn ask(addr: std::net::SocketAddr, frame: NpsFrame) -> Option<NpsFrame> {
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

fn new_persona(customer: CustomerId, name: &str) -> NpsFrame {
    NewGameAccount {
        customer_id: customer.0,
        name: name.into(),
        game: GAME_NAME.into(),
        shard_id: 44,
    }
    .to_frame()
    .unwrap()
}

fn delete(customer: CustomerId, persona: PersonaId) -> NpsFrame {
    DeleteGamePersona {
        customer_id: customer.0,
        persona_id: persona.0,
    }
    .to_frame()
    .unwrap()
}

async fn names(addr: std::net::SocketAddr, customer: CustomerId) -> Vec<String> {
    let reply = ask(
        addr,
        GetPersonaMaps {
            customer_id: customer.0,
        }
        .to_frame()
        .unwrap(),
    )
    .await
    .expect("a persona list");
    PersonaMaps::from_frame(&reply)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.name)
        .collect()
}

#[tokio::test]
async fn personas_are_created_and_deleted_over_the_wire() {
    let dir = directory();
    let servers = start(dir.clone(), ServerSettings::default()).await;
    let stranger = CustomerId(77);

    // Every request needs a login first.
    assert_eq!(
        ask(servers.persona, new_persona(CUSTOMER, "Doc")).await,
        None
    );
    assert_eq!(
        ask(servers.persona, delete(CUSTOMER, PersonaId(8_675_309))).await,
        None
    );
    dir.state()
        .sessions
        .insert(CUSTOMER, SessionKey::new([1; 32], 0));
    dir.state()
        .sessions
        .insert(stranger, SessionKey::new([2; 32], 0));

    let created = ask(servers.persona, new_persona(CUSTOMER, "Doc")).await;
    assert_eq!(
        created.map(|f| (f.id, f.body.len())),
        Some((ids::USER_VALID, 0))
    );
    assert_eq!(
        names(servers.persona, CUSTOMER).await,
        ["Dr Brown", "Morty Dr", "Doc"]
    );

    // Taken (any case) and unusable names get 0x20a; the limit 0x640.
    for name in ["doc", "MORTY DR", "x", "Dr<Brown>"] {
        let reply = ask(servers.persona, new_persona(stranger, name)).await;
        assert_eq!(reply.map(|f| f.id), Some(ids::DUP_USER), "{name}");
    }
    let reply = ask(servers.persona, new_persona(CUSTOMER, "Fourth")).await;
    assert_eq!(reply.map(|f| f.id), Some(ids::SHARD_PERSONA_LIMIT_REACHED));
    assert_eq!(names(servers.persona, CUSTOMER).await.len(), 3);

    // Someone else's persona cannot be deleted; one's own can, once.
    let reply = ask(servers.persona, delete(stranger, PersonaId(8_675_309))).await;
    assert_eq!(reply.map(|f| f.id), Some(ids::PERSONA_DELETION_DENY));
    let reply = ask(servers.persona, delete(CUSTOMER, PersonaId(8_675_309))).await;
    assert_eq!(
        reply.map(|f| (f.id, f.body.len())),
        Some((ids::USER_DELETED, 0))
    );
    let reply = ask(servers.persona, delete(CUSTOMER, PersonaId(8_675_309))).await;
    assert_eq!(reply.map(|f| f.id), Some(ids::PERSONA_DELETION_DENY));
    assert_eq!(names(servers.persona, CUSTOMER).await, ["Morty Dr", "Doc"]);

    // The captured selection of the deleted persona is now refused.
    let mut stream = TcpStream::connect(servers.persona).await.unwrap();
    stream
        .write_all(&bytes(&record(PERSONA, "nps-0x503-2019")))
        .await
        .unwrap();
    assert!(closed_without_reply(&mut stream).await);

    // A malformed 0x507 closes that connection only.
    let mut stream = TcpStream::connect(servers.persona).await.unwrap();
    stream
        .write_all(&hex::decode("0507001001010000000000100054b46c").unwrap())
        .await
        .unwrap();
    assert!(closed_without_reply(&mut stream).await);
    let reply = ask(servers.persona, new_persona(CUSTOMER, "Marty")).await;
    assert_eq!(reply.map(|f| f.id), Some(ids::USER_VALID));

    servers.stop.send(true).unwrap();
}
