//! Password derivation: Argon2id once, then HKDF-SHA256 splits the result
//! into an authentication verifier (stored only as a hash) and a
//! key-encryption key (never stored).
//!
//! Argon2id runs with 19 MiB of memory, 2 passes and 1 lane (the OWASP
//! minimum for Argon2id). The work is CPU-bound: callers run it on a
//! blocking thread.

use argon2::{Algorithm, Argon2, Params, Version};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{CryptoError, SecretKey, random_bytes};

/// Argon2id memory cost in KiB.
pub const MEMORY_KIB: u32 = 19 * 1024;
/// Argon2id passes over memory.
pub const PASSES: u32 = 2;
/// Argon2id lanes.
pub const LANES: u32 = 1;
/// Length of the per-user salt.
pub const SALT_LEN: usize = 16;

/// The two keys that one password yields.
pub struct DerivedPasswordKeys {
    /// Proves knowledge of the password; only its SHA-256 hash is stored.
    pub verifier: SecretKey,
    /// Seals the user's private key; never stored.
    pub key_encryption_key: SecretKey,
}

/// Creates a fresh random salt for a new password.
pub fn new_salt() -> Result<[u8; SALT_LEN], CryptoError> {
    random_bytes::<SALT_LEN>()
}

/// Runs Argon2id over the password and splits the result with HKDF.
pub fn derive(password: &str, salt: &[u8]) -> Result<DerivedPasswordKeys, CryptoError> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, Some(32))
        .map_err(|_params| CryptoError::PasswordHash)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let mut master = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password.as_bytes(), salt, master.as_mut())
        .map_err(|_argon| CryptoError::PasswordHash)?;

    let hkdf = Hkdf::<Sha256>::new(Some(b"kinlink password v1"), master.as_ref());
    let mut verifier = Zeroizing::new([0u8; 32]);
    let mut kek = Zeroizing::new([0u8; 32]);
    hkdf.expand(b"authentication verifier", verifier.as_mut())
        .map_err(|_length| CryptoError::PasswordHash)?;
    hkdf.expand(b"key-encryption key", kek.as_mut())
        .map_err(|_length| CryptoError::PasswordHash)?;

    Ok(DerivedPasswordKeys {
        verifier: SecretKey::from_bytes(*verifier),
        key_encryption_key: SecretKey::from_bytes(*kek),
    })
}

/// Hashes a verifier for storage.
pub fn verifier_hash(verifier: &SecretKey) -> [u8; 32] {
    Sha256::digest(verifier.expose()).into()
}

/// Compares a verifier with a stored hash in constant time.
pub fn verifier_matches(verifier: &SecretKey, stored_hash: &[u8]) -> bool {
    verifier_hash(verifier).ct_eq(stored_hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_password_same_keys() {
        let salt = [1u8; SALT_LEN];
        let first = derive("correct horse", &salt).unwrap();
        let second = derive("correct horse", &salt).unwrap();
        assert_eq!(first.verifier, second.verifier);
        assert_eq!(first.key_encryption_key, second.key_encryption_key);
    }

    #[test]
    fn verifier_and_kek_differ() {
        let keys = derive("correct horse", &[1u8; SALT_LEN]).unwrap();
        assert_ne!(keys.verifier, keys.key_encryption_key);
    }

    #[test]
    fn wrong_password_does_not_match() {
        let salt = [2u8; SALT_LEN];
        let stored = verifier_hash(&derive("right", &salt).unwrap().verifier);
        assert!(verifier_matches(
            &derive("right", &salt).unwrap().verifier,
            &stored
        ));
        assert!(!verifier_matches(
            &derive("wrong", &salt).unwrap().verifier,
            &stored
        ));
    }

    #[test]
    fn salt_changes_keys() {
        let first = derive("same", &[1u8; SALT_LEN]).unwrap();
        let second = derive("same", &[3u8; SALT_LEN]).unwrap();
        assert_ne!(first.key_encryption_key, second.key_encryption_key);
    }
}
