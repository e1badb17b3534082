//! Session tokens: 256 random bits that only the browser's cookie carries.
//! The store keeps a SHA-256 hash of the token, and the user's private key
//! sealed under a key derived from the token, so any node can open the key
//! for a request that presents the cookie and nobody can without it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::{CryptoError, SecretKey, random_bytes};

/// A bearer token for a link or a session. Printing it shows `***`.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Token([u8; 32]);

impl Token {
    /// Creates a fresh random token.
    pub fn generate() -> Result<Self, CryptoError> {
        Ok(Self(random_bytes::<32>()?))
    }

    /// Parses the URL-safe base64 text form used in cookies and links.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = Zeroizing::new(URL_SAFE_NO_PAD.decode(text.as_bytes()).ok()?);
        let array: [u8; 32] = bytes.as_slice().try_into().ok()?;
        Some(Self(array))
    }

    /// Returns the URL-safe base64 text form, for the cookie only.
    pub fn to_text(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.0))
    }

    /// Returns the hash under which the store finds the token.
    pub fn hash(&self) -> [u8; 32] {
        Sha256::digest(self.0).into()
    }

    /// Derives the key that seals the user's private key for this session.
    pub fn session_key(&self) -> Result<SecretKey, CryptoError> {
        self.derive(b"kinlink session v1", b"session key")
    }

    /// Derives the key that seals the second-factor secret offered with a
    /// worker invitation, until the invited person accepts it.
    pub fn enrolment_key(&self) -> Result<SecretKey, CryptoError> {
        self.derive(b"kinlink enrolment v1", b"enrolment key")
    }

    /// Derives the key that seals a user's private key for a key recovery,
    /// until the user chooses a new password through the emailed link.
    pub fn recovery_key(&self) -> Result<SecretKey, CryptoError> {
        self.derive(b"kinlink recovery v1", b"recovery key")
    }

    fn derive(&self, salt: &[u8], info: &[u8]) -> Result<SecretKey, CryptoError> {
        let hkdf = Hkdf::<Sha256>::new(Some(salt), &self.0);
        let mut key = Zeroizing::new([0u8; 32]);
        hkdf.expand(info, key.as_mut())
            .map_err(|_length| CryptoError::Random)?;
        Ok(SecretKey::from_bytes(*key))
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        let token = Token::generate().unwrap();
        let parsed = Token::parse(&token.to_text()).unwrap();
        assert_eq!(parsed.hash(), token.hash());
    }

    #[test]
    fn hash_and_session_key_differ_from_token() {
        let token = Token::generate().unwrap();
        assert_ne!(&token.hash(), token.session_key().unwrap().expose());
        assert_ne!(
            token.session_key().unwrap().expose(),
            token.enrolment_key().unwrap().expose()
        );
    }

    #[test]
    fn rejects_short_text() {
        assert!(Token::parse("abc").is_none());
        assert!(Token::parse("!!!!").is_none());
    }

    #[test]
    fn debug_hides_value() {
        let token = Token::generate().unwrap();
        assert_eq!(format!("{token:?}"), "Token(***)");
    }
}
