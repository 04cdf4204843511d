use std::fmt;

use des::cipher::generic_array::GenericArray;
use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::Des;

use super::{CryptoError, SessionKey};

const BLOCK: usize = 8;

/// Single-DES CBC for the lobby's 0x1101 wrapper, one object per connection
/// and direction.
///
/// The chain never restarts within a connection: message n+1 continues from
/// the last ciphertext block of message n (IV zero only for the first
/// message). Resetting per message gives garbage on the second captured
/// command, so the state must live as long as the connection.
pub struct LobbyCipher {
    des: Des,
    chain: [u8; BLOCK],
}

impl LobbyCipher {
    /// A fresh chain keyed with the first 8 bytes of the session key.
    pub fn new(key: &SessionKey) -> LobbyCipher {
        LobbyCipher::from_des_key(key.des_key())
    }

    /// A fresh chain from a raw 8-byte DES key (parity bits ignored).
    pub fn from_des_key(key: [u8; 8]) -> LobbyCipher {
        LobbyCipher {
            des: Des::new(GenericArray::from_slice(&key)),
            chain: [0u8; BLOCK],
        }
    }

    /// Encrypts whole blocks in place and advances the chain. The caller
    /// pads (the client pads with 0xCD); a partial block is refused before
    /// anything changes.
    pub fn encrypt(&mut self, data: &mut [u8]) -> Result<(), CryptoError> {
        check_blocks(data)?;
        for block in data.chunks_exact_mut(BLOCK) {
            for (b, c) in block.iter_mut().zip(self.chain) {
                *b ^= c;
            }
            self.des.encrypt_block(GenericArray::from_mut_slice(block));
            self.chain.copy_from_slice(block);
        }
        Ok(())
    }

    /// Decrypts whole blocks in place and advances the chain.
    pub fn decrypt(&mut self, data: &mut [u8]) -> Result<(), CryptoError> {
        check_blocks(data)?;
        for block in data.chunks_exact_mut(BLOCK) {
            let mut next = [0u8; BLOCK];
            next.copy_from_slice(block);
            self.des.decrypt_block(GenericArray::from_mut_slice(block));
            for (b, c) in block.iter_mut().zip(self.chain) {
                *b ^= c;
            }
            self.chain = next;
        }
        Ok(())
    }
}

fn check_blocks(data: &[u8]) -> Result<(), CryptoError> {
    if data.len() % BLOCK == 0 {
        Ok(())
    } else {
        Err(CryptoError::PartialBlock { len: data.len() })
    }
}

/// Redacted: the key schedule is key material.
impl fmt::Debug for LobbyCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LobbyCipher").finish_non_exhaustive()
    }
}
