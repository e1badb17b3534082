//! Validated values. Each constructor rejects bad input with an error that
//! names the field and the rule, so that an invalid value cannot exist past
//! the edge where it arrived.

use serde::Serialize;
use std::fmt;

/// A value that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {reason}")]
pub struct InvalidValue {
    /// The field's name as the API spells it.
    pub field: &'static str,
    /// The rule that was broken, without echoing secret input.
    pub reason: String,
}

impl InvalidValue {
    pub(crate) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}

/// Maximum length of an email address (RFC 5321 path limit).
pub const EMAIL_MAX_LEN: usize = 254;

/// An email address, trimmed and lower-cased.
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Validates the shape `local@domain.tld` with no spaces, control
    /// characters, or the brackets, quotes and separators that make an
    /// address part of a header (`<x@example.org>`, `a@b.org, c@d.org`).
    /// Delivery is what proves an address; this only rejects values that
    /// cannot be a bare one.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let value = input.trim().to_lowercase();
        if value.is_empty() {
            return Err(InvalidValue::new("email", "must not be empty"));
        }
        if value.len() > EMAIL_MAX_LEN {
            return Err(InvalidValue::new(
                "email",
                format!("longer than {EMAIL_MAX_LEN} characters"),
            ));
        }
        let Some((local, domain)) = value.split_once('@') else {
            return Err(InvalidValue::new("email", "must contain @"));
        };
        let bad_char =
            |c: char| c.is_whitespace() || c.is_control() || "@<>()[]\\,;:\"".contains(c);
        if local.is_empty() || local.chars().any(bad_char) {
            return Err(InvalidValue::new("email", "invalid part before @"));
        }
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.chars().any(bad_char);
        if !domain_ok {
            return Err(InvalidValue::new("email", "invalid domain after @"));
        }
        Ok(Self(value))
    }

    /// Returns the address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EmailAddress(***)")
    }
}

/// Maximum length of a display name, in characters.
pub const DISPLAY_NAME_MAX_CHARS: usize = 80;

/// The name a person is shown by.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Validates a display name: 1 to 80 characters, no control characters
    /// and no bidirectional controls, which could make a name read as
    /// another person's.
    pub fn parse(input: &str) -> Result<Self, InvalidValue> {
        let value = input.trim();
        if value.is_empty() {
            return Err(InvalidValue::new("display_name", "must not be empty"));
        }
        if value.chars().count() > DISPLAY_NAME_MAX_CHARS {
            return Err(InvalidValue::new(
                "display_name",
                format!("longer than {DISPLAY_NAME_MAX_CHARS} characters"),
            ));
        }
        let hidden = |c: char| {
            c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        };
        if let Some(found) = value.chars().find(|c| hidden(*c)) {
            return Err(InvalidValue::new(
                "display_name",
                format!("contains the control character U+{:04X}", u32::from(found)),
            ));
        }
        Ok(Self(value.to_owned()))
    }

    /// Returns the name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Minimum length of a new password, in characters.
pub const PASSWORD_MIN_CHARS: usize = 12;
/// Maximum length of a password, in bytes, so hashing cost stays bounded.
pub const PASSWORD_MAX_BYTES: usize = 1024;

/// Checks a new password against the length rules; `field` names it in
/// the error, which never contains the password.
pub fn check_new_password(password: &str, field: &'static str) -> Result<(), InvalidValue> {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(InvalidValue::new(
            field,
            format!("shorter than {PASSWORD_MIN_CHARS} characters"),
        ));
    }
    if password.len() > PASSWORD_MAX_BYTES {
        return Err(InvalidValue::new(
            field,
            format!("longer than {PASSWORD_MAX_BYTES} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_normalised() {
        assert_eq!(
            EmailAddress::parse(" Ann@Example.ORG ").unwrap().as_str(),
            "ann@example.org"
        );
    }

    #[test]
    fn email_rejections_name_field() {
        for bad in [
            "",
            "no-at-sign",
            "@example.org",
            "a@nodot",
            "a b@example.org",
            "a@.org",
            "a@b@c.org",
            "<x@example.org>",
            "a@example.org, b@example.org",
            "\"a\"@example.org",
            "a@[127.0.0.1]",
        ] {
            let error = EmailAddress::parse(bad).unwrap_err();
            assert_eq!(error.field, "email", "input {bad:?}");
        }
    }

    #[test]
    fn display_name_limits() {
        assert!(DisplayName::parse("Sam").is_ok());
        assert!(DisplayName::parse("  ").is_err());
        assert!(DisplayName::parse(&"x".repeat(81)).is_err());
        assert!(DisplayName::parse("bell\u{7}").is_err());
        assert!(DisplayName::parse("\u{202e}ekaM").is_err());
        assert!(DisplayName::parse("Sam\u{2066}").is_err());
    }

    #[test]
    fn password_rules_do_not_echo() {
        let error = check_new_password("hunter2", "new_password").unwrap_err();
        assert!(!error.to_string().contains("hunter2"));
        assert_eq!(error.field, "new_password");
        assert!(check_new_password("a long enough passphrase", "password").is_ok());
    }
}
