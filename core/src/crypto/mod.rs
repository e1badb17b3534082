//! The key hierarchy.
//!
//! - [`password`]: Argon2id once per sign-in, split by HKDF into an
//!   authentication verifier and a key-encryption key.
//! - [`aead`]: AES-256-GCM with associated data that binds a ciphertext to
//!   its place.
//! - [`keys`]: X25519 key pairs, and HPKE (RFC 9180, base mode,
//!   DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM) to seal a key to a
//!   public key.
//! - [`segments`]: files sealed in fixed-size segments that open one at a
//!   time, for HTTP Range.
//! - [`token`]: random session tokens, their hashes and the session key
//!   derived from them.
//!
//! Every secret lives in a type whose `Debug` prints `***` and whose memory
//! is wiped on drop.

pub mod aead;
pub mod bindings;
pub mod keys;
pub mod password;
pub mod secret;
pub mod segments;
pub mod token;
pub mod totp;
pub mod turn;

pub use secret::SecretKey;

/// A failure of a cryptographic operation. It never carries key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The ciphertext, its nonce or its associated data was altered, or the
    /// key is not the one it was sealed with.
    #[error("ciphertext failed to open: it was altered or sealed for another place")]
    OpenFailed,
    /// A stored value has the wrong length or layout.
    #[error("malformed {what}: expected {expected} bytes, found {found}")]
    Malformed {
        what: &'static str,
        expected: usize,
        found: usize,
    },
    /// The operating system's random source failed.
    #[error("the system random number generator failed")]
    Random,
    /// Argon2 rejected its parameters.
    #[error("password hashing failed")]
    PasswordHash,
}

/// Fills a fixed-size array from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_source| CryptoError::Random)?;
    Ok(bytes)
}
