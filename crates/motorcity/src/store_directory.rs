//! [`McoDirectory`] on Pitlane's database, and the account-side services
//! that go with it: AuthLogin (password check, bans, throttling, tickets),
//! account and persona creation, and what the ShardList and the lobby need
//! to know about live sessions.
//!
//! Everything is kept in the store, not in memory, so several instances on
//! one PostgreSQL behave as one server: AuthLogin on one, 0x501 on another,
//! the lobby on a third.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use pitlane_core::Clock;
use pitlane_store::mco::{
    name_key, AccountError, FailureScope, McoAccount, McoSession, PasswordCheck, PersonaError,
    ThrottleRule,
};
use pitlane_store::password_cache::{self, PasswordCache, PasswordChecks};
use pitlane_store::{Store, StoreError};
use tracing::{error, info, warn};

use crate::crypto::SessionKey;
pub use crate::directory::NewPersonaError;
use crate::directory::{CustomerId, DirectoryError, McoDirectory, Persona, PersonaId, ShardId};
use crate::http::{new_ticket, render_shard_list, AuthFailure, AuthLoginResponse, ShardEntry};
use crate::persona::check_persona_name;

/// The numbers behind AuthLogin and the NPS session. Defaults suit a public
/// server; the binary may override them from its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectorySettings {
    /// How long a ticket from AuthLogin stays redeemable. The client goes
    /// straight from AuthLogin to 0x501 (it asks for a ticket again after
    /// the shard list), so minutes are plenty, and a ticket that leaks
    /// from a log is soon useless.
    pub ticket_lifetime: Duration,
    /// How long after 0x501 the persona server and the lobby trust a
    /// customer id. Long enough for an evening's play on one login.
    pub session_lifetime: Duration,
    /// Failed logins for one account name before it is locked for a while.
    /// Kept low: this is what stops guessing one player's password.
    pub account_throttle: ThrottleRule,
    /// Failed logins from one address (an IPv6 /64) before it is locked.
    /// Higher than per account, because a LAN party or a carrier NAT puts
    /// many honest players behind one address.
    pub address_throttle: ThrottleRule,
    /// `MaxPersonasPerUser` of the ShardList, and the limit when creating.
    pub max_personas_per_account: u32,
    /// `reasonurl` of AuthLogin refusals: a page where players can read
    /// about their account (the server's own help page).
    pub help_url: String,
    /// Most players logged in at once (live sessions); 0 = no cap. A full
    /// shard refuses AuthLogin to accounts without a live session (those
    /// with one are coming back, e.g. after a crash, and already count)
    /// and shows `Status_Reason=Full` in the shard list.
    pub population_cap: u32,
    /// How long AuthLogin remembers a password argon2 verified, per account
    /// ([`PasswordCache`]); zero = off, every check runs argon2.
    pub password_cache: Duration,
}

impl Default for DirectorySettings {
    fn default() -> DirectorySettings {
        DirectorySettings {
            ticket_lifetime: Duration::from_secs(5 * 60),
            session_lifetime: Duration::from_secs(6 * 60 * 60),
            account_throttle: ThrottleRule {
                max_failures: 5,
                window: Duration::from_secs(5 * 60),
                lockout: Duration::from_secs(15 * 60),
            },
            address_throttle: ThrottleRule {
                max_failures: 20,
                window: Duration::from_secs(5 * 60),
                lockout: Duration::from_secs(15 * 60),
            },
            max_personas_per_account: 2,
            help_url: String::new(),
            population_cap: 0,
            password_cache: Duration::from_secs(600),
        }
    }
}

/// Longest account name accepted.
pub const USERNAME_MAX: usize = 32;
/// Longest password accepted.
pub const PASSWORD_MAX: usize = 64;

/// Why an account name is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UsernameProblem {
    #[error("the name is empty")]
    Empty,
    #[error("the name is longer than {USERNAME_MAX} characters")]
    TooLong,
    /// Only ASCII letters, digits, `.`, `_` and `-`: the client puts the
    /// name into the AuthLogin URL itself, and nothing shows it escaping
    /// `&`, `=`, `%` or spaces there.
    #[error("the name contains {0:?}; use letters, digits, '.', '_' and '-'")]
    BadCharacter(char),
}

/// Checks a new account name against the rules above.
pub fn check_username(name: &str) -> Result<(), UsernameProblem> {
    if name.is_empty() {
        return Err(UsernameProblem::Empty);
    }
    if name.chars().count() > USERNAME_MAX {
        return Err(UsernameProblem::TooLong);
    }
    match name
        .chars()
        .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        Some(bad) => Err(UsernameProblem::BadCharacter(bad)),
        None => Ok(()),
    }
}

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("the password is empty")]
    Empty,
    #[error("the password is longer than {PASSWORD_MAX} characters")]
    TooLong,
    /// The client sends 8-bit text (read as Latin-1 on arrival), so a
    /// password with characters beyond that could never be typed in it,
    /// and control characters cannot be typed at all.
    #[error("the password contains {0:?}, which the game cannot send")]
    BadCharacter(char),
}

/// Checks a new password against the rules above.
pub fn check_password(password: &str) -> Result<(), PasswordProblem> {
    if password.is_empty() {
        return Err(PasswordProblem::Empty);
    }
    if password.chars().count() > PASSWORD_MAX {
        return Err(PasswordProblem::TooLong);
    }
    match password
        .chars()
        .find(|&c| c.is_control() || u32::from(c) > 0xff)
    {
        Some(bad) => Err(PasswordProblem::BadCharacter(bad)),
        None => Ok(()),
    }
}

/// Why an account could not be created.
#[derive(Debug, thiserror::Error)]
pub enum NewAccountError {
    #[error("account name refused: {0}")]
    BadName(#[from] UsernameProblem),
    #[error("password refused: {0}")]
    BadPassword(#[from] PasswordProblem),
    #[error("an account named {0:?} already exists")]
    NameTaken(String),
    #[error("cannot create the account: {0}")]
    Store(#[source] AccountError),
}

/// What AuthLogin decided, before it is turned into the answer text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The password matched: here is the ticket for 0x501.
    Issued {
        customer: CustomerId,
        ticket: String,
    },
    /// Unknown name or wrong password; which of the two is not told.
    WrongCredentials,
    /// Right password, but the account is banned.
    Banned(CustomerId),
    /// Too many recent failures for this name or address; the password was
    /// not checked.
    Throttled { until: DateTime<Utc> },
    /// Right password, but the shard is at its population cap and this
    /// account is not logged in already.
    ShardFull(CustomerId),
}

/// The MCO servers' directory on Pitlane's store.
pub struct StoreDirectory {
    store: Store,
    clock: Arc<dyn Clock>,
    settings: DirectorySettings,
    /// Passwords verified recently, in this process only: a password
    /// change on any instance stores a new hash, which no entry matches.
    password_cache: PasswordCache,
}

impl std::fmt::Debug for StoreDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreDirectory")
            .field("backend", &self.store.backend())
            .field("settings", &self.settings)
            .finish()
    }
}

fn store_error(error: StoreError) -> DirectoryError {
    DirectoryError::new(error)
}

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn later(now: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    now.checked_add_signed(delta(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Ids in the store are i64 so both backends agree; on the wire they are
/// u32, and the store never hands out larger ones. A larger one can only
/// come from a damaged row, so it is an error rather than a truncation.
fn wire_id(id: i64, what: &str) -> Result<u32, DirectoryError> {
    u32::try_from(id).map_err(|_| {
        store_error(StoreError::Corrupt(format!(
            "{what} id {id} does not fit the wire"
        )))
    })
}

/// The throttling key of an address. An IPv6 client usually has a whole
/// /64 to pick addresses from, so that is the unit; IPv4-mapped addresses
/// count as the IPv4 address they are.
pub fn address_subject(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

fn session_key(session: &McoSession) -> Result<SessionKey, DirectoryError> {
    let bytes: [u8; SessionKey::LEN] = session.session_key.as_slice().try_into().map_err(|_| {
        store_error(StoreError::Corrupt(format!(
            "session key of customer {} is {} bytes",
            session.customer_id,
            session.session_key.len()
        )))
    })?;
    let expiry = u32::try_from(session.key_expiry).map_err(|_| {
        store_error(StoreError::Corrupt(format!(
            "session key expiry of customer {} is out of range",
            session.customer_id
        )))
    })?;
    Ok(SessionKey::new(bytes, expiry))
}

impl StoreDirectory {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: DirectorySettings) -> StoreDirectory {
        let password_cache =
            PasswordCache::new(settings.password_cache, password_cache::MAX_ENTRIES);
        StoreDirectory {
            store,
            clock,
            settings,
            password_cache,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The directory's clock, for servers that date what they store.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn settings(&self) -> &DirectorySettings {
        &self.settings
    }

    /// AuthLogin's password checks through this directory, by how they
    /// were answered (argon2 or the cache of verified passwords).
    pub fn password_checks(&self) -> PasswordChecks {
        self.password_cache.checks()
    }

    /// Answers `GET /AuthLogin`. Never fails: a store error becomes a
    /// refusal (logged), because the client only understands the answer
    /// lines. Logs one line per attempt, with the name but never the
    /// password.
    pub async fn auth_login(
        &self,
        username: &str,
        password: &str,
        client_ip: IpAddr,
    ) -> AuthLoginResponse {
        let url = &self.settings.help_url;
        match self.authenticate(username, password, client_ip).await {
            Ok(AuthOutcome::Issued { customer, ticket }) => {
                info!(?username, %client_ip, %customer, "AuthLogin: ticket issued");
                AuthLoginResponse::Valid { ticket }
            }
            Ok(AuthOutcome::WrongCredentials) => {
                info!(?username, %client_ip, "AuthLogin: wrong name or password");
                AuthLoginResponse::Invalid(AuthFailure::invalid_credentials(url))
            }
            Ok(AuthOutcome::Banned(customer)) => {
                info!(?username, %client_ip, %customer, "AuthLogin: account banned");
                AuthLoginResponse::Invalid(AuthFailure::account_disabled(url))
            }
            Ok(AuthOutcome::Throttled { until }) => {
                warn!(?username, %client_ip, %until, "AuthLogin: throttled");
                AuthLoginResponse::Invalid(AuthFailure::throttled(url))
            }
            Ok(AuthOutcome::ShardFull(customer)) => {
                info!(?username, %client_ip, %customer, cap = self.settings.population_cap, "AuthLogin: shard full");
                AuthLoginResponse::Invalid(AuthFailure::shard_full(url))
            }
            Err(error) => {
                error!(?username, %client_ip, %error, "AuthLogin: store failed");
                AuthLoginResponse::Invalid(AuthFailure::new(
                    "INV-200",
                    "The server cannot check logins right now. Try again later.",
                    url,
                ))
            }
        }
    }

    /// The decision behind [`auth_login`](Self::auth_login), for callers
    /// that want the reason (tests, metrics).
    ///
    /// Throttling is checked first, so a locked name or address gets no
    /// answer about its password, right or wrong. Failures count against
    /// the address and against the name whether or not an account has it,
    /// so the throttle does not reveal which names exist. A correct
    /// password clears the name's failures but not the address's: else one
    /// account of one's own would reset the address count between guesses.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
        client_ip: IpAddr,
    ) -> Result<AuthOutcome, DirectoryError> {
        let now = self.clock.now();
        let failures = self.store.mco_login_failures();
        let address = address_subject(client_ip);
        let name_ok = check_username(username).is_ok();
        let account = name_key(username);

        let mut blocked = failures
            .blocked_until(
                FailureScope::Address,
                &address,
                &self.settings.address_throttle,
                now,
            )
            .await
            .map_err(store_error)?;
        if blocked.is_none() && name_ok {
            blocked = failures
                .blocked_until(
                    FailureScope::Account,
                    &account,
                    &self.settings.account_throttle,
                    now,
                )
                .await
                .map_err(store_error)?;
        }
        if let Some(until) = blocked {
            return Ok(AuthOutcome::Throttled { until });
        }

        // A name no account can have is not looked up; its failure still
        // counts against the address.
        let check = if name_ok {
            self.store
                .mco_accounts()
                .check_password_cached(username, password, &self.password_cache)
                .await
                .map_err(store_error)?
        } else {
            PasswordCheck::UnknownAccount
        };
        let found = match check {
            PasswordCheck::Correct(found) => found,
            PasswordCheck::UnknownAccount | PasswordCheck::WrongPassword(_) => {
                failures
                    .record(FailureScope::Address, &address, now)
                    .await
                    .map_err(store_error)?;
                if name_ok {
                    failures
                        .record(FailureScope::Account, &account, now)
                        .await
                        .map_err(store_error)?;
                }
                return Ok(AuthOutcome::WrongCredentials);
            }
        };
        let customer = CustomerId(wire_id(found.customer_id, "customer")?);
        if found.is_banned(now) {
            return Ok(AuthOutcome::Banned(customer));
        }
        failures
            .clear(FailureScope::Account, &account)
            .await
            .map_err(store_error)?;
        if self.is_full().await? {
            let returning = self
                .store
                .mco_sessions()
                .live(found.customer_id, now)
                .await
                .map_err(store_error)?
                .is_some();
            if !returning {
                return Ok(AuthOutcome::ShardFull(customer));
            }
        }
        let ticket = new_ticket();
        self.store
            .mco_tickets()
            .issue(
                &ticket,
                found.customer_id,
                &client_ip.to_string(),
                now,
                later(now, self.settings.ticket_lifetime),
            )
            .await
            .map_err(store_error)?;
        self.store
            .mco_accounts()
            .record_login(found.customer_id, now)
            .await
            .map_err(store_error)?;
        Ok(AuthOutcome::Issued { customer, ticket })
    }

    /// Creates an account (`pitlane mco account add`, registration) after
    /// checking the name and password rules.
    pub async fn create_account(
        &self,
        username: &str,
        password: &str,
    ) -> Result<McoAccount, NewAccountError> {
        check_username(username)?;
        check_password(password)?;
        match self
            .store
            .mco_accounts()
            .create(username, password, self.clock.now())
            .await
        {
            Ok(account) => {
                info!(
                    ?username,
                    customer = account.customer_id,
                    "MCO account created"
                );
                Ok(account)
            }
            Err(AccountError::NameTaken(name)) => Err(NewAccountError::NameTaken(name)),
            Err(other) => Err(NewAccountError::Store(other)),
        }
    }

    /// Creates a persona for a customer, checking the name rules, global
    /// name uniqueness and [`DirectorySettings::max_personas_per_account`].
    pub async fn create_persona(
        &self,
        customer: CustomerId,
        shard: ShardId,
        name: &str,
    ) -> Result<Persona, NewPersonaError> {
        check_persona_name(name)?;
        let max = self.settings.max_personas_per_account;
        let created = self
            .store
            .mco_personas()
            .create(
                i64::from(customer.0),
                i64::from(shard.0),
                name,
                i64::from(max),
                self.clock.now(),
            )
            .await;
        match created {
            Ok(persona) => {
                info!(%customer, persona = persona.persona_id, %shard, ?name, "persona created");
                Ok(Persona {
                    id: PersonaId(wire_id(persona.persona_id, "persona")?),
                    shard,
                    name: persona.name,
                })
            }
            Err(PersonaError::NameTaken(name)) => Err(NewPersonaError::NameTaken(name)),
            Err(PersonaError::TooMany { .. }) => Err(NewPersonaError::TooMany(max)),
            Err(PersonaError::NoSuchAccount(_)) => Err(NewPersonaError::NoSuchAccount(customer)),
            Err(other) => Err(DirectoryError::new(other).into()),
        }
    }

    /// Deletes one of the customer's personas; false if it has none with
    /// this id.
    pub async fn delete_persona(
        &self,
        customer: CustomerId,
        persona: PersonaId,
    ) -> Result<bool, DirectoryError> {
        self.store
            .mco_personas()
            .delete(i64::from(customer.0), i64::from(persona.0))
            .await
            .map_err(store_error)
    }

    /// The session key of a customer's live session.
    pub async fn session_key(
        &self,
        customer: CustomerId,
    ) -> Result<Option<SessionKey>, DirectoryError> {
        let session = self
            .store
            .mco_sessions()
            .live(i64::from(customer.0), self.clock.now())
            .await
            .map_err(store_error)?;
        session.as_ref().map(session_key).transpose()
    }

    /// The customer and session key behind a persona chosen with 0x503:
    /// the lobby login names only the persona.
    pub async fn session_for_persona(
        &self,
        persona: PersonaId,
    ) -> Result<Option<(CustomerId, SessionKey)>, DirectoryError> {
        let session = self
            .store
            .mco_sessions()
            .by_persona(i64::from(persona.0), self.clock.now())
            .await
            .map_err(store_error)?;
        match session {
            Some(session) => Ok(Some((
                CustomerId(wire_id(session.customer_id, "customer")?),
                session_key(&session)?,
            ))),
            None => Ok(None),
        }
    }

    /// Players online: with a live session, on one shard (persona chosen
    /// there) or on all of them (`None`).
    pub async fn population(&self, shard: Option<ShardId>) -> Result<u32, DirectoryError> {
        let n = self
            .store
            .mco_sessions()
            .count_live(shard.map(|s| i64::from(s.0)), self.clock.now())
            .await
            .map_err(store_error)?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Whether the population cap is reached (never without a cap).
    pub async fn is_full(&self) -> Result<bool, DirectoryError> {
        let cap = self.settings.population_cap;
        Ok(cap > 0 && self.population(None).await? >= cap)
    }

    /// The ShardList document for these shards, with live populations and
    /// this directory's persona limit filled in. With a single shard every
    /// logged-in player counts, including those still on the persona
    /// screen; with several, each counts the players who chose it. If the
    /// store fails, the populations given are kept (and the error logged):
    /// a shard list with a stale number beats none.
    pub async fn shard_list(&self, shards: &[ShardEntry]) -> String {
        let mut shards = shards.to_vec();
        let single = shards.len() == 1;
        for shard in &mut shards {
            shard.max_personas_per_user = self.settings.max_personas_per_account;
            let which = (!single).then_some(ShardId(shard.shard_id));
            match self.population(which).await {
                Ok(n) => shard.population = n,
                Err(error) => error!(%error, shard = shard.shard_id, "ShardList population"),
            }
            let cap = self.settings.population_cap;
            if cap > 0 && shard.population >= cap && shard.status_reason.is_empty() {
                shard.status_reason = "Full".into();
            }
        }
        render_shard_list(&shards)
    }

    /// Deletes expired tickets and sessions and failure records too old to
    /// matter; returns how many rows went. For the binary to call every few
    /// minutes: nothing else removes them.
    pub async fn purge_expired(&self) -> Result<u64, DirectoryError> {
        let now = self.clock.now();
        let horizon = self
            .settings
            .account_throttle
            .horizon()
            .max(self.settings.address_throttle.horizon());
        let before = now
            .checked_sub_signed(delta(horizon))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let tickets = self.store.mco_tickets().purge_expired(now).await;
        let sessions = self.store.mco_sessions().purge_expired(now).await;
        let failures = self.store.mco_login_failures().purge_before(before).await;
        Ok(tickets.map_err(store_error)?
            + sessions.map_err(store_error)?
            + failures.map_err(store_error)?)
    }
}

#[crate::async_trait]
impl McoDirectory for StoreDirectory {
    async fn redeem_ticket(&self, ticket: &str) -> Result<Option<CustomerId>, DirectoryError> {
        let now = self.clock.now();
        let Some(customer) = self
            .store
            .mco_tickets()
            .redeem(ticket, now)
            .await
            .map_err(store_error)?
        else {
            return Ok(None);
        };
        // Banning deletes the account's tickets, but a timed ban that
        // starts between issue and redeem is still caught here.
        let account = self
            .store
            .mco_accounts()
            .by_id(customer)
            .await
            .map_err(store_error)?;
        match account {
            Some(account) if !account.is_banned(now) => {
                Ok(Some(CustomerId(wire_id(customer, "customer")?)))
            }
            _ => Ok(None),
        }
    }

    async fn store_session_key(
        &self,
        customer: CustomerId,
        key: &SessionKey,
    ) -> Result<(), DirectoryError> {
        let now = self.clock.now();
        self.store
            .mco_sessions()
            .start(
                i64::from(customer.0),
                key.as_bytes(),
                i64::from(key.expiry()),
                now,
                later(now, self.settings.session_lifetime),
            )
            .await
            .map_err(store_error)
    }

    async fn has_session(&self, customer: CustomerId) -> Result<bool, DirectoryError> {
        let session = self
            .store
            .mco_sessions()
            .live(i64::from(customer.0), self.clock.now())
            .await
            .map_err(store_error)?;
        Ok(session.is_some())
    }

    async fn list_personas(&self, customer: CustomerId) -> Result<Vec<Persona>, DirectoryError> {
        let personas = self
            .store
            .mco_personas()
            .list(i64::from(customer.0))
            .await
            .map_err(store_error)?;
        personas
            .into_iter()
            .map(|p| {
                Ok(Persona {
                    id: PersonaId(wire_id(p.persona_id, "persona")?),
                    shard: ShardId(wire_id(p.shard_id, "shard")?),
                    name: p.name,
                })
            })
            .collect()
    }

    async fn select_persona(
        &self,
        customer: CustomerId,
        persona: PersonaId,
        shard: ShardId,
    ) -> Result<bool, DirectoryError> {
        self.store
            .mco_sessions()
            .select_persona(
                i64::from(customer.0),
                i64::from(persona.0),
                i64::from(shard.0),
                self.clock.now(),
            )
            .await
            .map_err(store_error)
    }

    async fn persona_name_taken(&self, name: &str) -> Result<bool, DirectoryError> {
        self.store
            .mco_personas()
            .name_taken(name)
            .await
            .map_err(store_error)
    }

    async fn create_persona(
        &self,
        customer: CustomerId,
        shard: ShardId,
        name: &str,
    ) -> Result<Persona, NewPersonaError> {
        StoreDirectory::create_persona(self, customer, shard, name).await
    }

    async fn delete_persona(
        &self,
        customer: CustomerId,
        persona: PersonaId,
    ) -> Result<bool, DirectoryError> {
        StoreDirectory::delete_persona(self, customer, persona).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(check_username("moo"), Ok(()));
        assert_eq!(check_username("Dr.Brown_88-x"), Ok(()));
        assert_eq!(check_username(""), Err(UsernameProblem::Empty));
        assert_eq!(
            check_username(&"a".repeat(USERNAME_MAX + 1)),
            Err(UsernameProblem::TooLong)
        );
        assert_eq!(
            check_username("a&b"),
            Err(UsernameProblem::BadCharacter('&'))
        );
        assert_eq!(
            check_username("a b"),
            Err(UsernameProblem::BadCharacter(' '))
        );
        assert_eq!(
            check_username("\u{e9}t\u{e9}"),
            Err(UsernameProblem::BadCharacter('\u{e9}'))
        );
    }

    #[test]
    fn passwords() {
        assert_eq!(check_password("moo"), Ok(()));
        assert_eq!(check_password("p+q %&= \u{e9}"), Ok(()));
        assert_eq!(check_password(""), Err(PasswordProblem::Empty));
        assert_eq!(
            check_password(&"x".repeat(PASSWORD_MAX + 1)),
            Err(PasswordProblem::TooLong)
        );
        assert_eq!(
            check_password("euro\u{20ac}"),
            Err(PasswordProblem::BadCharacter('\u{20ac}'))
        );
        assert_eq!(
            check_password("tab\t"),
            Err(PasswordProblem::BadCharacter('\t'))
        );
    }

    #[test]
    fn addresses_group_ipv6_by_64() {
        let v4: IpAddr = "203.0.113.9".parse().unwrap();
        assert_eq!(address_subject(v4), "203.0.113.9");
        let mapped: IpAddr = "::ffff:203.0.113.9".parse().unwrap();
        assert_eq!(address_subject(mapped), "203.0.113.9");
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        assert_eq!(address_subject(a), "2001:db8:1:2::/64");
        assert_eq!(address_subject(a), address_subject(b));
    }
}
