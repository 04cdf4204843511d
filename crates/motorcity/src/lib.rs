//! Motor City Online (EA, 2001): the server side of its login path.
//!
//! The crate is laid out along the protocol's own layers so that a reader can
//! follow a client from the first HTTPS request to the persona screen:
//!
//! - [`http`]: the AuthLogin answer lines and the ShardList document, the two
//!   plain-text steps before any binary traffic.
//! - [`wire`]: NPS framing (big-endian id + length, 4- or 12-byte header fixed
//!   per message id) and the typed login/persona messages.
//! - [`crypto`]: the RSA step that recovers the client's session key, and the
//!   DES-CBC / RC4 channel ciphers that later connections derive from it.
//! - [`directory`]: the storage boundary. The handlers never see a database;
//!   the binary plugs the real store in behind [`McoDirectory`].
//! - [`login`] (TCP 8226) and [`persona`] (TCP 8228): request handlers and the
//!   async servers that run them.
//! - [`lobby`] (TCP 7003): the DES-wrapped lobby commands, channels and
//!   chat between the players connected to it.
//! - [`store_directory`]: [`McoDirectory`] on Pitlane's database, plus the
//!   account side (AuthLogin with throttling, account and persona creation).
//! - [`client_setup`]: the registry files and instructions a player needs
//!   to point the game at this server.
//!
//! `docs/mco-protocol.md` at the repository root says which parts are
//! verified against real client bytes and which are choices made here.

pub mod catalogue;
pub mod client_setup;
pub mod crypto;
pub mod directory;
pub mod fuzzing;
pub mod http;
pub mod lobby;
pub mod login;
pub mod mcots;
pub mod persona;
pub mod server;
pub mod store_directory;
pub mod wire;

/// Re-exported so the store can implement [`McoDirectory`] without adding
/// the macro crate itself: `#[motorcity::async_trait] impl McoDirectory for …`.
pub use async_trait::async_trait;
pub use crypto::{LoginKey, SessionKey};
pub use directory::{
    CustomerId, DirectoryError, McoDirectory, NewPersonaError, Persona, PersonaId, ShardId,
};
pub use lobby::{serve_lobby, Lobby, LobbySettings};
pub use login::serve_login;
pub use mcots::{serve_mcots, Mcots, McotsSettings};
pub use persona::serve_persona;
pub use server::ServerSettings;
pub use store_directory::{DirectorySettings, StoreDirectory};
