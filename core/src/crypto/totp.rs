//! Time-based one-time passwords (RFC 6238: HMAC-SHA1, 6 digits, 30 s
//! steps, one step of clock skew either way), and one-time recovery codes.

use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret};

use super::{CryptoError, random_bytes};

/// Length of a new TOTP secret (RFC 4226 recommends 160 bits).
pub const SECRET_LEN: usize = 20;
/// Number of recovery codes issued at enrolment.
pub const RECOVERY_CODES: usize = 10;

fn totp(secret: &[u8]) -> totp_rs::Totp {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::from(secret))
        .build_noncompliant()
}

/// Creates a fresh random secret.
pub fn new_secret() -> Result<[u8; SECRET_LEN], CryptoError> {
    random_bytes::<SECRET_LEN>()
}

/// Returns the base32 text an authenticator app takes.
pub fn secret_base32(secret: &[u8]) -> String {
    Secret::from(secret).to_base32()
}

/// Returns the code for a secret given as base32 text, as an authenticator
/// app computes it; `None` when the text is not base32.
pub fn code_from_base32(secret: &str, unix_seconds: u64) -> Option<String> {
    let secret = Secret::try_from_base32(secret).ok()?;
    Some(code_at(secret.as_ref(), unix_seconds))
}

/// Returns the code for a Unix time, in seconds.
pub fn code_at(secret: &[u8], unix_seconds: u64) -> String {
    totp(secret).generate(unix_seconds).to_string()
}

/// Checks a code against a Unix time, allowing one step of skew.
pub fn verify(secret: &[u8], code: &str, unix_seconds: u64) -> bool {
    let code = code.trim();
    code.len() == 6
        && code.bytes().all(|byte| byte.is_ascii_digit())
        && totp(secret).check(code, unix_seconds).is_some()
}

/// Returns the time step (Unix seconds / 30) whose code matches, allowing
/// one step of skew either way, or `None`.
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let current = unix_seconds / 30;
    (current.saturating_sub(1)..=current + 1).find(|step| {
        let expected = code_at(secret, step * 30);
        bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            code.as_bytes(),
        ))
    })
}

/// Creates recovery codes as `xxxxx-xxxxx` in lower-case base32.
pub fn new_recovery_codes() -> Result<Vec<String>, CryptoError> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    (0..RECOVERY_CODES)
        .map(|_| {
            let bytes = random_bytes::<10>()?;
            let chars: String = bytes
                .iter()
                .map(|b| ALPHABET[usize::from(b % 32)] as char)
                .collect();
            Ok(format!("{}-{}", &chars[..5], &chars[5..]))
        })
        .collect()
}

/// Hashes a recovery code for storage, ignoring case and spaces.
pub fn recovery_code_hash(code: &str) -> [u8; 32] {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    Sha256::digest(normal.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B, SHA-1 seed, T = 59 s, truncated to 6 digits.
        let seed = b"12345678901234567890";
        assert_eq!(code_at(seed, 59), "287082");
    }

    #[test]
    fn accepts_one_step_of_skew() {
        let secret = new_secret().unwrap();
        let code = code_at(&secret, 1_000_000);
        assert!(verify(&secret, &code, 1_000_000 + 30));
        assert!(!verify(&secret, &code, 1_000_000 + 95));
    }

    #[test]
    fn base32_round_trip() {
        let secret = new_secret().unwrap();
        let text = secret_base32(&secret);
        assert_eq!(code_from_base32(&text, 90).unwrap(), code_at(&secret, 90));
        assert!(code_from_base32("not base32!", 90).is_none());
    }

    #[test]
    fn matching_step_names_the_step() {
        let secret = new_secret().unwrap();
        let code = code_at(&secret, 3000);
        assert_eq!(matching_step(&secret, &code, 3000), Some(100));
        assert_eq!(matching_step(&secret, &code, 3030), Some(100));
        assert_eq!(matching_step(&secret, &code, 3100), None);
    }

    #[test]
    fn rejects_malformed_codes() {
        let secret = new_secret().unwrap();
        assert!(!verify(&secret, "12345", 0));
        assert!(!verify(&secret, "abcdef", 0));
    }

    #[test]
    fn recovery_code_hash_ignores_case() {
        assert_eq!(
            recovery_code_hash("ABCDE-fghij"),
            recovery_code_hash(" abcde-fghij ")
        );
        assert_eq!(new_recovery_codes().unwrap().len(), RECOVERY_CODES);
    }
}
