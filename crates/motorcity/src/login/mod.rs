//! The NPS login server (TCP 8226): 0x501 in, 0x601 out.
//!
//! One request per connection: the client sends its AuthLogin ticket and its
//! RSA-encrypted session key, the server checks the ticket, stores the key
//! for the customer and answers with the customer id the client will quote
//! from then on.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{error, warn};

use crate::crypto::LoginKey;
use crate::directory::McoDirectory;
use crate::server::{self, Reply, ServerSettings};
use crate::wire::login::{UserInvalid, UserLogin, UserValid, MCO_SERVICE_ID};
use crate::wire::{ids, NpsFrame, NpsMessage};

/// Serves the login server on `listener` until `shutdown` becomes `true`.
///
/// `key` is the server's private RSA key, whose public half the players
/// installed as `pub.key`; load it with [`LoginKey::load`].
pub async fn serve_login(
    listener: TcpListener,
    dir: Arc<dyn McoDirectory>,
    key: Arc<LoginKey>,
    settings: ServerSettings,
    shutdown: watch::Receiver<bool>,
) {
    server::run("login", listener, settings, shutdown, move |frame| {
        let dir = dir.clone();
        let key = key.clone();
        async move { handle_frame(frame, dir.as_ref(), &key).await }
    })
    .await;
}

/// The login server's routing table: message id → handler.
pub async fn handle_frame(frame: NpsFrame, dir: &dyn McoDirectory, key: &LoginKey) -> Reply {
    match frame.id {
        ids::USER_LOGIN => match UserLogin::from_frame(&frame) {
            Ok(request) => handle_user_login(&request, dir, key).await,
            Err(error) => {
                warn!(%error, "malformed 0x501");
                refuse("malformed 0x501")
            }
        },
        _ => Reply::close("unexpected message"),
    }
}

/// Handles 0x501 NPS_USER_LOGIN.
///
/// The session key is decrypted before the ticket is redeemed, so that a
/// client with the wrong `pub.key` (the usual setup mistake) or a peer
/// sending garbage cannot burn a valid single-use ticket. Every refusal is
/// answered with 0x602 and a close, so a client never waits for a timeout.
pub async fn handle_user_login(
    request: &UserLogin,
    dir: &dyn McoDirectory,
    key: &LoginKey,
) -> Reply {
    if request.service_id != MCO_SERVICE_ID {
        warn!(service_id = %request.service_id, "0x501 for another game");
        return refuse("wrong service id");
    }
    let session_key = match key.decrypt_session_key(&request.encrypted_session_key) {
        Ok(session_key) => session_key,
        Err(error) => {
            warn!(%error, "0x501 session key; does the client have this server's pub.key?");
            return refuse("undecryptable session key");
        }
    };
    let customer = match dir.redeem_ticket(&request.ticket).await {
        Ok(Some(customer)) => customer,
        Ok(None) => return refuse("ticket refused"),
        Err(error) => {
            error!(%error, "redeeming ticket");
            return refuse("directory error");
        }
    };
    if let Err(error) = dir.store_session_key(customer, &session_key).await {
        error!(%error, %customer, "storing session key");
        return refuse("directory error");
    }
    match UserValid::new(customer.0).to_frame() {
        Ok(frame) => Reply::send(frame, "login accepted"),
        Err(error) => {
            error!(%error, "building 0x601");
            Reply::close("encode error")
        }
    }
}

fn refuse(outcome: &'static str) -> Reply {
    match UserInvalid.to_frame() {
        Ok(frame) => Reply::send_and_close(frame, outcome),
        Err(_) => Reply::close(outcome),
    }
}
