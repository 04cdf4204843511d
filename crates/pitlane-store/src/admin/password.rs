//! argon2 hashes of operator passwords, computed on tokio's blocking pool:
//! a hash costs tens of milliseconds of CPU by design, which would stall
//! every other connection of a runtime worker.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::{Result, StoreError};

fn hash_now(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Corrupt(format!("cannot hash the password: {e}")))
}

pub(crate) async fn hash(password: &str) -> Result<String> {
    let password = password.to_owned();
    blocking(move || hash_now(&password)).await?
}

/// With `stored = None` (no such operator) a hash nobody knows the password
/// of is checked instead, so that an unknown name takes as long as a wrong
/// password and timing does not reveal which names exist.
pub(crate) async fn verify(password: &str, stored: Option<String>) -> Result<bool> {
    let password = password.to_owned();
    blocking(move || {
        let (phc, real) = match stored {
            Some(phc) => (phc, true),
            None => (decoy()?.to_owned(), false),
        };
        let parsed = PasswordHash::new(&phc)
            .map_err(|e| StoreError::Corrupt(format!("stored password hash: {e}")))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(matches && real)
    })
    .await?
}

fn decoy() -> Result<&'static str> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(phc) = DECOY.get() {
        return Ok(phc);
    }
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let phc = hash_now(&hex::encode(secret))?;
    Ok(DECOY.get_or_init(|| phc))
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(StoreError::Corrupt(format!(
            "password check interrupted: {e}"
        ))),
    }
}
