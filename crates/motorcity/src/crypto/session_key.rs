use std::fmt;

use rand::rngs::OsRng;
use rand::RngCore;

use super::CryptoError;

/// The client's per-login session key and the expiry the client attached.
///
/// The key is shared by every later connection of the same login (lobby and
/// both MCOTS connections), which is why the login server hands it to the
/// store instead of keeping it in the connection.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    bytes: [u8; SessionKey::LEN],
    expiry: u32,
}

impl SessionKey {
    /// Key length in every capture. Other lengths are refused because the
    /// ciphers take fixed prefixes of it and nothing shows the client using
    /// another size.
    pub const LEN: usize = 32;

    /// Size of the decrypted blob: u16 length + key + u32 expiry.
    pub const BLOB_LEN: usize = 2 + SessionKey::LEN + 4;

    /// A key from its bytes and expiry (0 in every capture).
    pub fn new(bytes: [u8; SessionKey::LEN], expiry: u32) -> SessionKey {
        SessionKey { bytes, expiry }
    }

    /// A fresh key from the OS's random source with expiry 0, as the client
    /// makes one for every login. For the simulator and tests: the server
    /// only ever receives keys.
    pub fn generate() -> SessionKey {
        let mut bytes = [0u8; SessionKey::LEN];
        OsRng.fill_bytes(&mut bytes);
        SessionKey { bytes, expiry: 0 }
    }

    /// Parses the plaintext of the RSA blob: u16 BE key length (32), the
    /// key, u32 BE expiry.
    pub fn from_blob(blob: &[u8]) -> Result<SessionKey, CryptoError> {
        if blob.len() != SessionKey::BLOB_LEN {
            return Err(CryptoError::Blob("not 38 bytes"));
        }
        let declared = usize::from(u16::from_be_bytes([blob[0], blob[1]]));
        if declared != SessionKey::LEN {
            return Err(CryptoError::Blob("key length field is not 32"));
        }
        let mut bytes = [0u8; SessionKey::LEN];
        bytes.copy_from_slice(&blob[2..2 + SessionKey::LEN]);
        let e = &blob[2 + SessionKey::LEN..];
        let expiry = u32::from_be_bytes([e[0], e[1], e[2], e[3]]);
        Ok(SessionKey { bytes, expiry })
    }

    /// The plaintext the client encrypts; the inverse of [`from_blob`](Self::from_blob).
    pub fn to_blob(&self) -> Vec<u8> {
        let mut blob = Vec::with_capacity(SessionKey::BLOB_LEN);
        blob.extend_from_slice(&(SessionKey::LEN as u16).to_be_bytes());
        blob.extend_from_slice(&self.bytes);
        blob.extend_from_slice(&self.expiry.to_be_bytes());
        blob
    }

    /// The raw key, for storing.
    pub fn as_bytes(&self) -> &[u8; SessionKey::LEN] {
        &self.bytes
    }

    /// The expiry value the client sent (0 in every capture; meaning unknown).
    pub fn expiry(&self) -> u32 {
        self.expiry
    }

    /// The lobby's DES key: the first 8 bytes, parity bits left as they are.
    pub fn des_key(&self) -> [u8; 8] {
        let mut key = [0u8; 8];
        key.copy_from_slice(&self.bytes[..8]);
        key
    }

    /// The MCOTS RC4 key: the first 16 bytes (the full 32 does not decrypt).
    pub fn rc4_key(&self) -> [u8; 16] {
        let mut key = [0u8; 16];
        key.copy_from_slice(&self.bytes[..16]);
        key
    }
}

/// Redacted: the key decrypts a player's whole session and must not end up
/// in logs.
impl fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKey")
            .field("bytes", &"<redacted>")
            .field("expiry", &self.expiry)
            .finish()
    }
}
