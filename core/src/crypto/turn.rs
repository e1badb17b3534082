//! Time-limited TURN credentials, in the form that TURN servers such as
//! coturn check against a secret they share with KinLink (coturn's
//! `use-auth-secret`). The user name is the expiry time in Unix seconds
//! and a label, joined by a colon. The password is the Base64 of the
//! HMAC-SHA1 of the user name under the shared secret, so the TURN server
//! checks it without asking KinLink, and it stops working at the expiry.

use std::fmt;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::CryptoError;

/// The secret shared with the TURN server. It cannot be printed and is
/// wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct TurnSecret(Vec<u8>);

impl TurnSecret {
    /// Wraps the configured secret, or returns `None` when it is empty.
    pub fn new(secret: &str) -> Option<Self> {
        (!secret.is_empty()).then(|| Self(secret.as_bytes().to_vec()))
    }

    /// Returns the user name and password that the TURN server accepts
    /// until `expires` (Unix seconds).
    pub fn credential(&self, expires: i64, label: &str) -> Result<TurnCredential, CryptoError> {
        let username = format!("{expires}:{label}");
        // HMAC accepts keys of any length (RFC 2104), so this branch is not taken.
        let mut mac =
            Hmac::<Sha1>::new_from_slice(&self.0).map_err(|_length| CryptoError::Malformed {
                what: "TURN secret",
                expected: 1,
                found: self.0.len(),
            })?;
        mac.update(username.as_bytes());
        let password =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        Ok(TurnCredential { username, password })
    }
}

impl fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TurnSecret(***)")
    }
}

/// A user name and password for a TURN server.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnCredential {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for TurnCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TurnCredential")
            .field("username", &self.username)
            .field("password", &"***")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_matches_known_answer() {
        // Computed with Python's hmac and hashlib, apart from this crate.
        let secret = TurnSecret::new("a TURN secret shared with coturn").unwrap();
        let credential = secret
            .credential(1_765_000_000, "0193a1c2-cccc-7abc-8def-00000000000c")
            .unwrap();
        assert_eq!(
            credential.username,
            "1765000000:0193a1c2-cccc-7abc-8def-00000000000c"
        );
        assert_eq!(credential.password, "JwvXWoOUO/FmX4w575j4CvndbTY=");
    }

    #[test]
    fn empty_secret_is_none() {
        assert!(TurnSecret::new("").is_none());
    }

    #[test]
    fn debug_hides_secret_and_password() {
        let secret = TurnSecret::new("hunter22 turn").unwrap();
        assert!(!format!("{secret:?}").contains("hunter22"));
        let credential = secret.credential(1, "x").unwrap();
        assert!(!format!("{credential:?}").contains(&credential.password));
    }
}
