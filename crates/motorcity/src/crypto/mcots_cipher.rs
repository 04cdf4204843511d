use std::fmt;

use rc4::consts::U16;
use rc4::{KeyInit, Rc4, StreamCipher};

use super::SessionKey;

/// RC4 for MCOTS payloads, one object per connection and direction.
///
/// Both directions are keyed identically with the first 16 bytes of the
/// session key, and each advances only by the bytes it processes; the client
/// restarts its state when it sends a new MC_CLIENT_CONNECT, so a server
/// makes a new pair per connect.
pub struct McotsCipher {
    rc4: Rc4<U16>,
}

impl McotsCipher {
    /// A fresh stream keyed from the session key.
    pub fn new(key: &SessionKey) -> McotsCipher {
        McotsCipher::from_rc4_key(key.rc4_key())
    }

    /// A fresh stream from a raw 16-byte key.
    pub fn from_rc4_key(key: [u8; 16]) -> McotsCipher {
        McotsCipher {
            rc4: Rc4::new(&key.into()),
        }
    }

    /// Encrypts or decrypts (the same operation) in place.
    pub fn apply(&mut self, data: &mut [u8]) {
        self.rc4.apply_keystream(data);
    }
}

/// Redacted: the stream state is key material.
impl fmt::Debug for McotsCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McotsCipher").finish_non_exhaustive()
    }
}
