//! The NPS persona server (TCP 8228).
//!
//! The client opens a fresh connection for each step: 0x532 → 0x607 to list
//! the personas, then 0x503 → 0x207 to pick one; while creating a persona
//! it checks the name (0x533) and plate text (0x534) here too. Creating
//! (0x507) and deleting (0x512) are served with layouts no capture has
//! confirmed (see `docs/mco-protocol.md`).
//!
//! These requests carry only ids, no ticket, so every one of them first
//! asks the directory whether the customer has a live login session.

mod names;

pub use names::{check_persona_name, NameProblem, PERSONA_NAME_MAX, PERSONA_NAME_MIN};

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::directory::{
    CustomerId, DirectoryError, McoDirectory, NewPersonaError, PersonaId, ShardId,
};
use crate::server::{self, Reply, ServerSettings};
use crate::wire::persona::{
    CheckPlateText, DeleteGamePersona, GetPersonaMaps, NameAvailable, NameTaken, NewGameAccount,
    NpsAck, PersonaCreated, PersonaDeleted, PersonaDeletionDenied, PersonaLimitReached,
    PersonaMapEntry, PersonaMaps, RegisterGameLogin, RegisterGameLogout, ValidatePersonaName,
};
use crate::wire::{ids, EncodeError, NpsFrame, NpsMessage, ParseError};

/// Serves the persona server on `listener` until `shutdown` becomes `true`.
pub async fn serve_persona(
    listener: TcpListener,
    dir: Arc<dyn McoDirectory>,
    settings: ServerSettings,
    shutdown: watch::Receiver<bool>,
) {
    server::run("persona", listener, settings, shutdown, move |frame| {
        let dir = dir.clone();
        async move { handle_frame(frame, dir.as_ref()).await }
    })
    .await;
}

/// The persona server's routing table: message id → handler.
pub async fn handle_frame(frame: NpsFrame, dir: &dyn McoDirectory) -> Reply {
    let result = match frame.id {
        ids::GET_PERSONA_MAPS => match GetPersonaMaps::from_frame(&frame) {
            Ok(request) => get_persona_maps(request, dir).await,
            Err(error) => Err(Refusal::Malformed(error)),
        },
        ids::REGISTER_GAME_LOGIN => match RegisterGameLogin::from_frame(&frame) {
            Ok(request) => register_game_login(request, dir).await,
            Err(error) => Err(Refusal::Malformed(error)),
        },
        ids::REGISTER_GAME_LOGOUT => match RegisterGameLogout::from_frame(&frame) {
            Ok(request) => register_game_logout(request, dir).await,
            Err(error) => Err(Refusal::Malformed(error)),
        },
        ids::VALIDATE_PERSONA_NAME => match ValidatePersonaName::from_frame(&frame) {
            Ok(request) => validate_persona_name(&request, dir).await,
            Err(error) => Err(Refusal::Malformed(error)),
        },
        ids::CHECK_TOKEN => match CheckPlateText::from_frame(&frame) {
            Ok(request) => check_plate_text(&request),
            Err(error) => Err(Refusal::Malformed(error)),
        },
        ids::NEW_GAME_ACCOUNT => match NewGameAccount::from_frame(&frame) {
            Ok(request) => new_game_account(&request, dir).await,
            Err(error) => Err(Refusal::Malformed(error)),
        },
        ids::DELETE_GAME_PERSONA => match DeleteGamePersona::from_frame(&frame) {
            Ok(request) => delete_game_persona(request, dir).await,
            Err(error) => Err(Refusal::Malformed(error)),
        },
        _ => Err(Refusal::Unhandled),
    };
    match result {
        Ok(reply) => reply,
        Err(refusal) => refusal.into_reply(frame.id),
    }
}

/// Why a persona request is answered by closing the connection. The
/// persona server has no documented error reply, so closing is the only
/// clear "no" it can give.
#[derive(Debug)]
pub enum Refusal {
    /// The body does not match the message's layout.
    Malformed(ParseError),
    /// No handler for this id.
    Unhandled,
    /// The customer has no live login session.
    NoSession(CustomerId),
    /// The session outlived its account (deleted by an operator while the
    /// player was on the persona screen).
    NoSuchAccount(CustomerId),
    /// The persona/shard pair does not belong to the customer.
    NotYourPersona,
    /// The store failed.
    Directory(DirectoryError),
    /// A reply could not be encoded.
    Encode(EncodeError),
}

impl Refusal {
    fn into_reply(self, id: u16) -> Reply {
        let id = format_args!("{id:#06x}");
        match self {
            Refusal::Malformed(error) => {
                warn!(%id, %error, "malformed request");
                Reply::close("malformed")
            }
            Refusal::Unhandled => {
                warn!(%id, "no handler for this message");
                Reply::close("unhandled message")
            }
            Refusal::NoSession(customer) => {
                warn!(%id, %customer, "customer has no login session");
                Reply::close("no session")
            }
            Refusal::NoSuchAccount(customer) => {
                warn!(%id, %customer, "no account with this customer id");
                Reply::close("no such account")
            }
            Refusal::NotYourPersona => {
                warn!(%id, "persona does not belong to customer");
                Reply::close("not your persona")
            }
            Refusal::Directory(error) => {
                error!(%id, %error, "directory failed");
                Reply::close("directory error")
            }
            Refusal::Encode(error) => {
                error!(%id, %error, "could not encode reply");
                Reply::close("encode error")
            }
        }
    }
}

impl From<DirectoryError> for Refusal {
    fn from(error: DirectoryError) -> Refusal {
        Refusal::Directory(error)
    }
}

impl From<EncodeError> for Refusal {
    fn from(error: EncodeError) -> Refusal {
        Refusal::Encode(error)
    }
}

async fn require_session(dir: &dyn McoDirectory, customer: CustomerId) -> Result<(), Refusal> {
    if dir.has_session(customer).await? {
        Ok(())
    } else {
        Err(Refusal::NoSession(customer))
    }
}

/// 0x532 → 0x607: the customer's personas.
pub async fn get_persona_maps(
    request: GetPersonaMaps,
    dir: &dyn McoDirectory,
) -> Result<Reply, Refusal> {
    let customer = CustomerId(request.customer_id);
    require_session(dir, customer).await?;
    let personas = dir.list_personas(customer).await?;
    let reply = PersonaMaps {
        entries: personas
            .into_iter()
            .map(|p| PersonaMapEntry {
                persona_id: p.id.0,
                shard_id: p.shard.0,
                name: p.name,
            })
            .collect(),
    };
    Ok(Reply::send(reply.to_frame()?, "persona list"))
}

/// 0x503 → 0x207: the player picked a persona.
pub async fn register_game_login(
    request: RegisterGameLogin,
    dir: &dyn McoDirectory,
) -> Result<Reply, Refusal> {
    let selection = request.0;
    let customer = CustomerId(selection.customer_id);
    require_session(dir, customer).await?;
    let persona = PersonaId(selection.persona_id);
    let shard = ShardId(selection.shard_id);
    if !dir.select_persona(customer, persona, shard).await? {
        return Err(Refusal::NotYourPersona);
    }
    info!(%customer, %persona, %shard, "persona selected");
    Ok(Reply::send(NpsAck.to_frame()?, "persona selected"))
}

/// 0x50f → 0x207: the persona logs out. Nothing is stored about it yet; the
/// ack mirrors 0x503 because no capture shows what the client expects.
pub async fn register_game_logout(
    request: RegisterGameLogout,
    dir: &dyn McoDirectory,
) -> Result<Reply, Refusal> {
    let customer = CustomerId(request.0.customer_id);
    require_session(dir, customer).await?;
    Ok(Reply::send(NpsAck.to_frame()?, "persona logged out"))
}

/// 0x533 → 0x601 (free) or 0x20a (taken or not allowed).
pub async fn validate_persona_name(
    request: &ValidatePersonaName,
    dir: &dyn McoDirectory,
) -> Result<Reply, Refusal> {
    let customer = CustomerId(request.customer_id);
    require_session(dir, customer).await?;
    if let Err(problem) = check_persona_name(&request.name) {
        info!(%customer, %problem, "persona name refused");
        return Ok(Reply::send(NameTaken.to_frame()?, "name not allowed"));
    }
    if dir.persona_name_taken(&request.name).await? {
        return Ok(Reply::send(NameTaken.to_frame()?, "name taken"));
    }
    Ok(Reply::send(NameAvailable.to_frame()?, "name available"))
}

/// 0x534 → 0x207: plate text check. Plates are not unique in the data the
/// community kept, and the reply layout is unknown; the community's ack is
/// sent for any text.
pub fn check_plate_text(request: &CheckPlateText) -> Result<Reply, Refusal> {
    info!(plate_type = request.plate_type, text = %request.text, "plate text check");
    Ok(Reply::send(NpsAck.to_frame()?, "plate accepted"))
}

/// 0x507 → 0x601 (created), 0x20a (name taken or not allowed) or 0x640
/// (the account is at `MaxPersonasPerUser`).
///
/// The name rules are checked here as well as in the directory so that a
/// name the game could never show does not reach storage whatever
/// directory is plugged in. The reply ids for the refusals are the same
/// the name check (0x533) uses, so a client that learnt one learns both.
pub async fn new_game_account(
    request: &NewGameAccount,
    dir: &dyn McoDirectory,
) -> Result<Reply, Refusal> {
    let customer = CustomerId(request.customer_id);
    require_session(dir, customer).await?;
    let shard = ShardId(request.shard_id);
    let created = match check_persona_name(&request.name) {
        Err(problem) => Err(NewPersonaError::BadName(problem)),
        Ok(()) => dir.create_persona(customer, shard, &request.name).await,
    };
    match created {
        Ok(persona) => {
            info!(%customer, persona = %persona.id, %shard, name = ?persona.name, "persona created");
            Ok(Reply::send(PersonaCreated.to_frame()?, "persona created"))
        }
        Err(NewPersonaError::BadName(problem)) => {
            info!(%customer, %problem, "persona name refused");
            Ok(Reply::send(NameTaken.to_frame()?, "name not allowed"))
        }
        Err(NewPersonaError::NameTaken(_)) => Ok(Reply::send(NameTaken.to_frame()?, "name taken")),
        Err(NewPersonaError::TooMany(max)) => {
            info!(%customer, max, "persona limit reached");
            Ok(Reply::send(
                PersonaLimitReached.to_frame()?,
                "persona limit reached",
            ))
        }
        Err(NewPersonaError::NoSuchAccount(customer)) => Err(Refusal::NoSuchAccount(customer)),
        Err(NewPersonaError::Directory(error)) => Err(Refusal::Directory(error)),
    }
}

/// 0x512 → 0x60c (deleted) or 0x624 (no such persona on this account).
///
/// A refusal is answered rather than closed on, unlike the other persona
/// requests, because a client that asked to delete something is owed a
/// "that did not happen" it can show.
pub async fn delete_game_persona(
    request: DeleteGamePersona,
    dir: &dyn McoDirectory,
) -> Result<Reply, Refusal> {
    let customer = CustomerId(request.customer_id);
    require_session(dir, customer).await?;
    let persona = PersonaId(request.persona_id);
    if dir.delete_persona(customer, persona).await? {
        info!(%customer, %persona, "persona deleted");
        Ok(Reply::send(PersonaDeleted.to_frame()?, "persona deleted"))
    } else {
        warn!(%customer, %persona, "deletion of a persona the customer does not own");
        Ok(Reply::send(
            PersonaDeletionDenied.to_frame()?,
            "persona deletion denied",
        ))
    }
}
