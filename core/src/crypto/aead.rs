//! AES-256-GCM with a random 96-bit nonce stored in front of the ciphertext.
//!
//! The associated data is never stored with the ciphertext: the caller
//! rebuilds it from where the ciphertext was found (conversation, message,
//! sender, key epoch), so a ciphertext copied to another row fails to open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};

use super::{CryptoError, SecretKey, random_bytes};

/// Length of the nonce prefix.
pub const NONCE_LEN: usize = 12;
/// Length of the authentication tag suffix.
pub const TAG_LEN: usize = 16;

/// Encrypts `plaintext` under `key`, returning `nonce || ciphertext || tag`.
pub fn seal(key: &SecretKey, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let nonce_bytes = random_bytes::<NONCE_LEN>()?;
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key.expose()));
    let nonce = Nonce::from(nonce_bytes);
    let body = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_opaque| CryptoError::OpenFailed)?;

    let mut sealed = Vec::with_capacity(NONCE_LEN + body.len());
    sealed.extend_from_slice(&nonce_bytes);
    sealed.extend_from_slice(&body);
    Ok(sealed)
}

/// Decrypts `nonce || ciphertext || tag` sealed by [`seal`] with the same
/// key and associated data.
pub fn open(key: &SecretKey, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return Err(CryptoError::Malformed {
            what: "sealed value",
            expected: NONCE_LEN + TAG_LEN,
            found: sealed.len(),
        });
    }
    let (nonce_bytes, body) = sealed.split_at(NONCE_LEN);
    let nonce_array: [u8; NONCE_LEN] = nonce_bytes
        .try_into()
        .map_err(|_length| CryptoError::OpenFailed)?;
    let cipher = Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key.expose()));
    cipher
        .decrypt(&Nonce::from(nonce_array), Payload { msg: body, aad })
        .map_err(|_opaque| CryptoError::OpenFailed)
}

/// Associated data builder: a domain label followed by length-prefixed
/// fields, so that no two distinct field lists encode alike.
pub struct AssociatedData(Vec<u8>);

impl AssociatedData {
    /// Starts associated data for one kind of sealed value.
    pub fn new(label: &str) -> Self {
        let mut data = Self(Vec::with_capacity(96));
        data.push(label.as_bytes());
        data
    }

    /// Appends one field.
    pub fn push(&mut self, field: &[u8]) -> &mut Self {
        let length = u32::try_from(field.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&length.to_be_bytes());
        self.0.extend_from_slice(field);
        self
    }

    /// Returns the encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> (SecretKey, Vec<u8>, Vec<u8>) {
        let key = SecretKey::from_bytes([7; 32]);
        let aad = b"conversation|message|sender|epoch".to_vec();
        let sealed = seal(&key, b"hello from the birth family", &aad).unwrap();
        (key, aad, sealed)
    }

    #[test]
    fn round_trip() {
        let (key, aad, sealed) = sample();
        assert_eq!(
            open(&key, &sealed, &aad).unwrap(),
            b"hello from the birth family"
        );
    }

    #[test]
    fn wrong_key_fails() {
        let (_key, aad, sealed) = sample();
        let other = SecretKey::from_bytes([8; 32]);
        assert_eq!(open(&other, &sealed, &aad), Err(CryptoError::OpenFailed));
    }

    #[test]
    fn short_input_is_malformed() {
        let key = SecretKey::from_bytes([7; 32]);
        assert!(matches!(
            open(&key, &[0; 27], b""),
            Err(CryptoError::Malformed { .. })
        ));
    }

    proptest! {
        #[test]
        fn any_changed_ciphertext_or_nonce_byte_fails(index in 0usize..1000, flip in 1u8..=255) {
            let (key, aad, mut sealed) = sample();
            let position = index % sealed.len();
            sealed[position] ^= flip;
            prop_assert_eq!(open(&key, &sealed, &aad), Err(CryptoError::OpenFailed));
        }

        #[test]
        fn any_changed_associated_data_byte_fails(index in 0usize..1000, flip in 1u8..=255) {
            let (key, mut aad, sealed) = sample();
            let position = index % aad.len();
            aad[position] ^= flip;
            prop_assert_eq!(open(&key, &sealed, &aad), Err(CryptoError::OpenFailed));
        }

        #[test]
        fn truncated_or_extended_ciphertext_fails(cut in 1usize..20, extra in proptest::collection::vec(any::<u8>(), 1..8)) {
            let (key, aad, sealed) = sample();
            let shorter = &sealed[..sealed.len() - cut];
            prop_assert!(open(&key, shorter, &aad).is_err());
            let mut longer = sealed.clone();
            longer.extend_from_slice(&extra);
            prop_assert!(open(&key, &longer, &aad).is_err());
        }

        #[test]
        fn associated_data_fields_do_not_collide(a in "[a-z]{0,6}", b in "[a-z]{0,6}") {
            let mut first = AssociatedData::new("t");
            first.push(a.as_bytes()).push(b.as_bytes());
            let joined = format!("{a}{b}");
            let mut second = AssociatedData::new("t");
            second.push(joined.as_bytes()).push(b"");
            prop_assume!(!b.is_empty());
            prop_assert_ne!(first.as_bytes(), second.as_bytes());
        }
    }
}
