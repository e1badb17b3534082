//! A 32-byte secret that cannot be printed and is wiped on drop.

use std::fmt;
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{CryptoError, random_bytes};

/// A 256-bit symmetric key or private key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// Creates a fresh random key.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(random_bytes::<32>()?))
    }

    /// Wraps bytes that are already secret.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Copies a key from a slice of exactly 32 bytes.
    pub fn from_slice(bytes: &[u8], what: &'static str) -> Result<Self, CryptoError> {
        let array: [u8; 32] = bytes.try_into().map_err(|_length| CryptoError::Malformed {
            what,
            expected: 32,
            found: bytes.len(),
        })?;
        Ok(Self(array))
    }

    /// Exposes the key bytes to a cipher. Callers must not copy them out.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretKey {}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}
