//! The storage boundary of the MCO servers.
//!
//! The handlers need a handful of facts about accounts, sessions and
//! personas, and nothing else; [`McoDirectory`] lists exactly those. The
//! binary implements it on the real store (SQLite or PostgreSQL), so that
//! several Pitlane instances behind one database agree on tickets, session
//! keys and personas, and so that the lobby and MCOTS servers, which run on
//! other connections (perhaps other instances), find the session key the
//! login server stored.

use std::error::Error;
use std::fmt;

use async_trait::async_trait;

use crate::crypto::SessionKey;
use crate::persona::NameProblem;

/// An account ("customer" in NPS terms). The client quotes it as a u32 in
/// every message after login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomerId(pub u32);

/// A persona: the in-game driver an account plays as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonaId(pub u32);

/// A shard: one game world in the ShardList (id 44 in the captures).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ShardId(pub u32);

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for PersonaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A persona as the persona list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Persona {
    /// Its id; the client sends it back when the player picks it.
    pub id: PersonaId,
    /// The shard it lives on.
    pub shard: ShardId,
    /// Its name. The wire carries at most 15 bytes here and 12 in MCOTS,
    /// so names longer than that are cut when sent.
    pub name: String,
}

/// A failure of the storage behind [`McoDirectory`] (database down, query
/// failed). Handlers treat it as "cannot answer now": they log it and refuse
/// the request, never guess.
#[derive(Debug, thiserror::Error)]
#[error("MCO directory: {0}")]
pub struct DirectoryError(#[source] Box<dyn Error + Send + Sync>);

impl DirectoryError {
    /// Wraps any storage error.
    pub fn new(source: impl Into<Box<dyn Error + Send + Sync>>) -> DirectoryError {
        DirectoryError(source.into())
    }
}

/// Why a persona could not be created.
///
/// The persona server turns each kind into its own reply, so the kinds the
/// player can fix (another name, delete a persona first) are kept apart
/// from storage failures.
#[derive(Debug, thiserror::Error)]
pub enum NewPersonaError {
    /// The name breaks the rules of [`check_persona_name`](crate::persona::check_persona_name).
    #[error("persona name refused: {0}")]
    BadName(#[from] NameProblem),
    /// Another persona, on any account, has this name (ASCII case ignored).
    #[error("a persona named {0:?} already exists")]
    NameTaken(String),
    /// The account already has this many personas, the most allowed.
    #[error("the account already has {0} personas, the most allowed")]
    TooMany(u32),
    /// No account has this customer id.
    #[error("no account with customer id {0}")]
    NoSuchAccount(CustomerId),
    /// The store failed.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

/// What the login and persona servers need from storage.
///
/// Every method is a single question or a single change so that an
/// implementation can map each to one statement or transaction. Methods
/// take `&self` and may be called concurrently from many connections.
#[async_trait]
pub trait McoDirectory: Send + Sync {
    /// Exchanges an AuthLogin ticket for the account it was issued to.
    ///
    /// The client echoes the ticket in 0x501; this is the only proof on the
    /// NPS side that the peer knows the password. So a ticket must work
    /// **once** (consume it here, atomically, so two connections racing with
    /// the same ticket cannot both win), must expire after a short time, and
    /// must return `None` for unknown, used, expired or banned-account
    /// tickets. Comparison is byte-exact.
    async fn redeem_ticket(&self, ticket: &str) -> Result<Option<CustomerId>, DirectoryError>;

    /// Remembers the session key the client chose for this login,
    /// replacing any earlier one.
    ///
    /// The lobby (7003) and MCOTS (43300) connections of the same login
    /// encrypt with this key but never send it again, and may be served by
    /// another instance, so it must be durable and shared, keyed by
    /// customer. Storing also marks the customer as having a live session
    /// for [`has_session`](Self::has_session).
    async fn store_session_key(
        &self,
        customer: CustomerId,
        key: &SessionKey,
    ) -> Result<(), DirectoryError>;

    /// Whether this customer completed an NPS login recently enough to be
    /// trusted now.
    ///
    /// The persona server's requests carry nothing but the customer id the
    /// login server announced, with no ticket or signature; this check is
    /// what stops a stranger from listing or selecting another account's
    /// personas by guessing ids. An implementation should answer `false`
    /// once the session is older than its lifetime.
    async fn has_session(&self, customer: CustomerId) -> Result<bool, DirectoryError>;

    /// The customer's personas, in the order the client should list them.
    async fn list_personas(&self, customer: CustomerId) -> Result<Vec<Persona>, DirectoryError>;

    /// Records that the customer plays `persona` on `shard` from now on, if
    /// that persona belongs to the customer and lives on that shard.
    ///
    /// Returns `false` (and changes nothing) otherwise, because the ids come
    /// straight from the client. The lobby login that follows names only
    /// the persona, so the store must be able to map it back to the
    /// customer and its session key.
    async fn select_persona(
        &self,
        customer: CustomerId,
        persona: PersonaId,
        shard: ShardId,
    ) -> Result<bool, DirectoryError>;

    /// Whether a persona with this name exists on any account.
    ///
    /// Names are compared case-insensitively (ASCII), because two drivers
    /// called "Dr Brown" and "dr brown" cannot be told apart in chat and
    /// race results.
    async fn persona_name_taken(&self, name: &str) -> Result<bool, DirectoryError>;

    /// Creates a persona for the customer on `shard`.
    ///
    /// The name must pass [`check_persona_name`](crate::persona::check_persona_name)
    /// and be free on every account (ASCII case ignored, as in
    /// [`persona_name_taken`](Self::persona_name_taken)), and the account
    /// must have fewer personas than the `MaxPersonasPerUser` the ShardList
    /// announces. Uniqueness and the limit must be decided atomically with
    /// the insert: two connections creating at once must not both win.
    async fn create_persona(
        &self,
        customer: CustomerId,
        shard: ShardId,
        name: &str,
    ) -> Result<Persona, NewPersonaError>;

    /// Deletes one of the customer's personas; `false` (and nothing
    /// changes) when the customer has no persona with this id, because the
    /// ids come straight from the client. A session that had chosen the
    /// persona forgets the choice, so the lobby can no longer be entered
    /// as it.
    async fn delete_persona(
        &self,
        customer: CustomerId,
        persona: PersonaId,
    ) -> Result<bool, DirectoryError>;
}
