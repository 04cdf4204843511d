use std::fmt;
use std::path::Path;

use rand::rngs::OsRng;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use sha1::Sha1;

use super::{CryptoError, SessionKey};

/// Size of the key pair the server generates.
///
/// The client's 0x501 carries the ciphertext as 256 hex characters, i.e. a
/// 1024-bit modulus, in every capture; a bigger key has never been tried
/// with the client.
pub const LOGIN_KEY_BITS: usize = 1024;

/// The server's private RSA key, used once per login to recover the session
/// key from 0x501.
///
/// The client encrypts to whatever public key sits in its `pub.key` file, so
/// each Pitlane server uses its own pair and its players install the
/// matching `pub.key` (see [`PublicLoginKey::to_pub_key_file`]).
pub struct LoginKey {
    private: RsaPrivateKey,
}

impl LoginKey {
    /// Reads a PEM private key (PKCS#8 `BEGIN PRIVATE KEY`, or PKCS#1
    /// `BEGIN RSA PRIVATE KEY`) from the path the operator configured.
    pub fn load(path: &Path) -> Result<LoginKey, CryptoError> {
        let pem = std::fs::read_to_string(path).map_err(|source| CryptoError::KeyFile {
            path: path.display().to_string(),
            source,
        })?;
        LoginKey::from_pem(&pem)
    }

    /// Parses a PEM private key (PKCS#8 or PKCS#1).
    pub fn from_pem(pem: &str) -> Result<LoginKey, CryptoError> {
        let private = RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|e| CryptoError::KeyFormat(e.to_string()))?;
        Ok(LoginKey { private })
    }

    /// A fresh key pair of [`LOGIN_KEY_BITS`] bits.
    pub fn generate() -> Result<LoginKey, CryptoError> {
        let private = RsaPrivateKey::new(&mut OsRng, LOGIN_KEY_BITS)
            .map_err(|e| CryptoError::KeyFormat(e.to_string()))?;
        Ok(LoginKey { private })
    }

    /// The private key as PKCS#8 PEM, for saving in the data directory.
    pub fn to_pkcs8_pem(&self) -> Result<String, CryptoError> {
        self.private
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|e| CryptoError::KeyFormat(e.to_string()))
    }

    /// The public half, for the players' `pub.key`.
    pub fn public_key(&self) -> PublicLoginKey {
        PublicLoginKey {
            public: self.private.to_public_key(),
        }
    }

    /// Recovers the session key from the 0x501 ciphertext: RSA-OAEP with
    /// SHA-1 and MGF1-SHA-1, empty label (PKCS#1 v1.5 does not decrypt the
    /// captures). Blinded, so the private-key operation's timing does not
    /// depend on the attacker-chosen ciphertext.
    pub fn decrypt_session_key(&self, ciphertext: &[u8]) -> Result<SessionKey, CryptoError> {
        if ciphertext.len() != self.private.size() {
            return Err(CryptoError::Decrypt);
        }
        let blob = self
            .private
            .decrypt_blinded(&mut OsRng, Oaep::new::<Sha1>(), ciphertext)
            .map_err(|_| CryptoError::Decrypt)?;
        SessionKey::from_blob(&blob)
    }
}

/// Redacted: never print private key material.
impl fmt::Debug for LoginKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginKey")
            .field("bits", &(self.private.size() * 8))
            .finish_non_exhaustive()
    }
}

/// The public half of a [`LoginKey`], in the form the client reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicLoginKey {
    public: RsaPublicKey,
}

impl PublicLoginKey {
    /// Parses the client's `pub.key`: ASCII hex of the DER
    /// SubjectPublicKeyInfo, no newline (surrounding whitespace is ignored
    /// because editors like to add it).
    pub fn from_pub_key_file(text: &str) -> Result<PublicLoginKey, CryptoError> {
        let der = hex::decode(text.trim())
            .map_err(|e| CryptoError::KeyFormat(format!("pub.key is not hex: {e}")))?;
        let public = RsaPublicKey::from_public_key_der(&der)
            .map_err(|e| CryptoError::KeyFormat(e.to_string()))?;
        Ok(PublicLoginKey { public })
    }

    /// The exact contents of `pub.key` for the game folder: lower-case hex
    /// of the DER SubjectPublicKeyInfo, without a trailing newline, like the
    /// file shipped with the community server.
    pub fn to_pub_key_file(&self) -> Result<String, CryptoError> {
        let der = self
            .public
            .to_public_key_der()
            .map_err(|e| CryptoError::KeyFormat(e.to_string()))?;
        Ok(hex::encode(der.as_bytes()))
    }

    /// What the client does with the session key: RSA-OAEP-SHA1 to this
    /// key. Used by the client simulator and tests.
    pub fn encrypt_session_key(&self, key: &SessionKey) -> Result<Vec<u8>, CryptoError> {
        self.public
            .encrypt(&mut OsRng, Oaep::new::<Sha1>(), &key.to_blob())
            .map_err(|_| CryptoError::Encrypt)
    }
}
