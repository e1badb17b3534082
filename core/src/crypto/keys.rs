//! X25519 key pairs, and HPKE (RFC 9180) to seal a secret to a public key.
//!
//! Users and organisations each hold a key pair. A conversation's content
//! key is sealed with HPKE to every member and to the owning organisation;
//! the `info` string binds the sealed key to its conversation and epoch.

use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use zeroize::{Zeroize, Zeroizing};

use super::{CryptoError, SecretKey};

type KemType = X25519HkdfSha256;
type HpkePrivate = <KemType as Kem>::PrivateKey;
type HpkePublic = <KemType as Kem>::PublicKey;
type HpkeEncapped = <KemType as Kem>::EncappedKey;

/// Length of an encoded X25519 public key.
pub const PUBLIC_KEY_LEN: usize = 32;
/// Length of an HPKE encapsulated key for X25519.
const ENCAPPED_LEN: usize = 32;

/// A public key, safe to store and print.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PublicKey(pub [u8; PUBLIC_KEY_LEN]);

impl PublicKey {
    /// Reads a stored public key.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, CryptoError> {
        let array = bytes.try_into().map_err(|_length| CryptoError::Malformed {
            what: "public key",
            expected: PUBLIC_KEY_LEN,
            found: bytes.len(),
        })?;
        Ok(Self(array))
    }
}

/// A key pair whose private half is wiped on drop and never printed.
#[derive(Debug)]
pub struct KeyPair {
    /// The private key's 32 bytes.
    pub private: SecretKey,
    /// The matching public key.
    pub public: PublicKey,
}

impl KeyPair {
    /// Creates a fresh key pair from the system's random source.
    pub fn generate() -> Result<Self, CryptoError> {
        let seed = SecretKey::generate()?;
        let (private, public) = KemType::derive_keypair(seed.expose());
        Ok(Self::from_hpke(&private, &public))
    }

    /// Rebuilds the key pair from its private key.
    pub fn from_private(private: SecretKey) -> Result<Self, CryptoError> {
        let hpke_private = hpke_private(&private)?;
        let public = KemType::sk_to_pk(&hpke_private);
        Ok(Self::from_hpke(&hpke_private, &public))
    }

    fn from_hpke(private: &HpkePrivate, public: &HpkePublic) -> Self {
        let mut private_bytes = private.to_bytes();
        let mut private_array = [0u8; 32];
        private_array.copy_from_slice(private_bytes.as_slice());
        private_bytes.as_mut_slice().zeroize();
        let mut public_array = [0u8; PUBLIC_KEY_LEN];
        public_array.copy_from_slice(public.to_bytes().as_slice());
        Self {
            private: SecretKey::from_bytes(private_array),
            public: PublicKey(public_array),
        }
    }
}

fn hpke_private(private: &SecretKey) -> Result<HpkePrivate, CryptoError> {
    HpkePrivate::from_bytes(private.expose()).map_err(|_hpke| CryptoError::Malformed {
        what: "private key",
        expected: 32,
        found: 32,
    })
}

/// Seals a 32-byte secret to a public key. The result is
/// `encapsulated key || ciphertext || tag`.
pub fn seal_to(
    recipient: &PublicKey,
    secret: &SecretKey,
    info: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let public = HpkePublic::from_bytes(&recipient.0).map_err(|_hpke| CryptoError::Malformed {
        what: "public key",
        expected: PUBLIC_KEY_LEN,
        found: recipient.0.len(),
    })?;
    let (encapped, ciphertext) = hpke::single_shot_seal::<AesGcm256, HkdfSha256, KemType>(
        &OpModeS::Base,
        &public,
        info,
        secret.expose(),
        b"",
    )
    .map_err(|_hpke| CryptoError::Random)?;

    let mut sealed = Vec::with_capacity(ENCAPPED_LEN + ciphertext.len());
    sealed.extend_from_slice(encapped.to_bytes().as_slice());
    sealed.extend_from_slice(&ciphertext);
    Ok(sealed)
}

/// Opens a secret sealed by [`seal_to`] with the recipient's private key and
/// the same `info`.
pub fn open_sealed(
    private: &SecretKey,
    sealed: &[u8],
    info: &[u8],
) -> Result<SecretKey, CryptoError> {
    if sealed.len() <= ENCAPPED_LEN {
        return Err(CryptoError::Malformed {
            what: "sealed key",
            expected: ENCAPPED_LEN + 48,
            found: sealed.len(),
        });
    }
    let (encapped_bytes, ciphertext) = sealed.split_at(ENCAPPED_LEN);
    let encapped =
        HpkeEncapped::from_bytes(encapped_bytes).map_err(|_hpke| CryptoError::OpenFailed)?;
    let private = hpke_private(private)?;
    let plaintext = Zeroizing::new(
        hpke::single_shot_open::<AesGcm256, HkdfSha256, KemType>(
            &OpModeR::Base,
            &private,
            &encapped,
            info,
            ciphertext,
            b"",
        )
        .map_err(|_hpke| CryptoError::OpenFailed)?,
    );
    SecretKey::from_slice(&plaintext, "sealed key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open() {
        let pair = KeyPair::generate().unwrap();
        let secret = SecretKey::generate().unwrap();
        let sealed = seal_to(&pair.public, &secret, b"conversation 1 epoch 0").unwrap();
        let opened = open_sealed(&pair.private, &sealed, b"conversation 1 epoch 0").unwrap();
        assert_eq!(opened, secret);
    }

    #[test]
    fn other_info_fails() {
        let pair = KeyPair::generate().unwrap();
        let secret = SecretKey::generate().unwrap();
        let sealed = seal_to(&pair.public, &secret, b"conversation 1 epoch 0").unwrap();
        let result = open_sealed(&pair.private, &sealed, b"conversation 2 epoch 0");
        assert_eq!(result, Err(CryptoError::OpenFailed));
    }

    #[test]
    fn other_recipient_fails() {
        let pair = KeyPair::generate().unwrap();
        let stranger = KeyPair::generate().unwrap();
        let secret = SecretKey::generate().unwrap();
        let sealed = seal_to(&pair.public, &secret, b"i").unwrap();
        assert_eq!(
            open_sealed(&stranger.private, &sealed, b"i"),
            Err(CryptoError::OpenFailed)
        );
    }

    #[test]
    fn private_key_rebuilds_public_key() {
        let pair = KeyPair::generate().unwrap();
        let rebuilt = KeyPair::from_private(pair.private.clone()).unwrap();
        assert_eq!(rebuilt.public, pair.public);
    }

    #[test]
    fn debug_hides_private_key() {
        let pair = KeyPair::generate().unwrap();
        assert!(format!("{pair:?}").contains("SecretKey(***)"));
    }
}
