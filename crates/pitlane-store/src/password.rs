//! argon2 password hashes, for every kind of account (MCO players and
//! dashboard operators).
//!
//! Hashing costs tens of milliseconds of CPU by design, so it runs on
//! tokio's blocking pool: doing it on a runtime worker would stall every
//! other connection that worker serves. At most one hash per core runs at
//! once: each argon2 run holds 19 MiB, and under a login storm the blocking
//! pool would otherwise start hundreds together, costing gigabytes of
//! memory for no extra throughput.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use tokio::sync::Semaphore;

use crate::{Result, StoreError};

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

impl From<HashError> for StoreError {
    fn from(e: HashError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// An argon2id PHC string for `password` with a fresh random salt.
pub(crate) async fn hash(password: &str) -> Result<String, HashError> {
    let password = password.to_owned();
    run_blocking(move || hash_now(&password))
        .await
        .map_err(|e| HashError(e.to_string()))?
}

fn hash_now(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches `stored`. With `stored = None` (no such
/// account) a throw-away hash is checked instead, so that the answer takes
/// as long for an unknown name as for a wrong password and timing does not
/// tell which names exist.
pub(crate) async fn verify(password: &str, stored: Option<String>) -> Result<bool> {
    let password = password.to_owned();
    run_blocking(move || {
        let (phc, real) = match stored {
            Some(phc) => (phc, true),
            None => (decoy_hash()?.to_owned(), false),
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

/// A hash of random bytes nobody knows, with the same parameters as real
/// ones; made once per process.
fn decoy_hash() -> Result<&'static str> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(phc) = DECOY.get() {
        return Ok(phc);
    }
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let phc = hash_now(&hex::encode(secret)).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(DECOY.get_or_init(|| phc))
}

/// The permits for hashes running now, one per core.
fn hashing_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Semaphore::new(cores)
    })
}

async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    // The semaphore is never closed, so acquiring only waits.
    let _slot = hashing_slots()
        .acquire()
        .await
        .map_err(|e| StoreError::Corrupt(format!("password check interrupted: {e}")))?;
    match tokio::task::spawn_blocking(f).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        // Only when the runtime is shutting down.
        Err(e) => Err(StoreError::Corrupt(format!(
            "password check interrupted: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_never_contain_the_password() {
        let phc = hash("Ch4ng3+me").await.unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(!phc.contains("Ch4ng3+me"));
        assert!(verify("Ch4ng3+me", Some(phc.clone())).await.unwrap());
        assert!(!verify("ch4ng3+me", Some(phc.clone())).await.unwrap());
        assert_ne!(hash("Ch4ng3+me").await.unwrap(), phc, "salted");
        assert!(!verify("", None).await.unwrap());
        assert!(verify("x", Some("not a hash".into())).await.is_err());
    }
}
