//! The cryptography of the login path and of the channels that follow it.
//!
//! The client picks a random 32-byte session key per login and sends it
//! RSA-OAEP-encrypted inside 0x501 ([`LoginKey`]). Every later connection of
//! that login derives its cipher from the same key: the lobby's 0x1101
//! wrapper uses single DES in one continuous CBC chain per connection and
//! direction ([`LobbyCipher`]), and MCOTS uses RC4 with one state per
//! direction ([`McotsCipher`]). All three relations are reproduced against
//! captured client bytes in the tests.

mod lobby_cipher;
mod login_key;
mod mcots_cipher;
mod session_key;

pub use lobby_cipher::LobbyCipher;
pub use login_key::{LoginKey, PublicLoginKey, LOGIN_KEY_BITS};
pub use mcots_cipher::McotsCipher;
pub use session_key::SessionKey;

/// Why a key could not be loaded or a payload not be decrypted.
///
/// Decryption failures deliberately carry no detail from the RSA layer:
/// telling a peer *why* OAEP failed is what padding-oracle attacks feed on.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key file could not be read.
    #[error("cannot read key file {path}: {source}")]
    KeyFile {
        /// The file.
        path: String,
        /// What the file system said.
        source: std::io::Error,
    },
    /// The key text is not a key this crate understands.
    #[error("key is not usable: {0}")]
    KeyFormat(String),
    /// RSA-OAEP decryption failed (wrong key, or not OAEP at all).
    #[error("the session key does not decrypt with this server's private key")]
    Decrypt,
    /// Encryption failed (only the simulator and tests encrypt).
    #[error("RSA encryption failed")]
    Encrypt,
    /// The decrypted blob is not `u16 length, key, u32 expiry`.
    #[error("decrypted session-key blob is malformed: {0}")]
    Blob(&'static str),
    /// A block cipher was handed a partial block.
    #[error("{len} bytes is not a whole number of 8-byte DES blocks")]
    PartialBlock {
        /// The length handed in.
        len: usize,
    },
}
