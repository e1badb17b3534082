//! Organisations as the platform operator sets them up: kind, name,
//! licence dates and retention period.

use chrono::{DateTime, Utc};

use crate::codes;
use crate::letterbox::free_text;
use crate::values::InvalidValue;

codes! {
    /// The kind of body an organisation is.
    OrganisationKind {
        LocalAuthority => "local_authority",
        VoluntaryAdoptionAgency => "voluntary_adoption_agency",
        IndependentFosteringProvider => "independent_fostering_provider",
        /// A membership body whose moderators keep the community support
        /// network. It places no children: it publishes nothing, is not
        /// offered as a placing organisation and is counted in no
        /// statistics.
        CommunityPartner => "community_partner",
    }
}

impl OrganisationKind {
    /// Returns whether organisations of this kind place children, and so
    /// take part in family finding.
    pub fn places_children(self) -> bool {
        !matches!(self, OrganisationKind::CommunityPartner)
    }
}

/// Returns whether a stored organisation kind places children: not the
/// operator's own organisation, and not a community partner.
pub fn places_children(kind: &str) -> bool {
    OrganisationKind::parse(kind).is_some_and(OrganisationKind::places_children)
}

/// The kind of the organisation that contains the platform operators'
/// accounts. It is not a placing organisation: it publishes nothing, is
/// not listed to workers and is counted in no statistics.
pub const OPERATOR_KIND: &str = "platform_operator";

/// Most characters of an organisation's name.
pub const NAME_MAX_CHARS: usize = 120;
/// Minimum retention period an organisation may set: one year.
pub const MIN_RETENTION_DAYS: i32 = 365;
/// Maximum retention period an organisation may set: ten years.
pub const MAX_RETENTION_DAYS: i32 = 3_650;

/// Checks an organisation's name.
pub fn check_name(name: &str) -> Result<(), InvalidValue> {
    if name.chars().all(crate::profiles::shows_nothing) {
        return Err(InvalidValue::new("name", "must not be empty"));
    }
    free_text("name", name, NAME_MAX_CHARS)?;
    if name.contains(['\n', '\r', '\t']) {
        return Err(InvalidValue::new("name", "must be one line"));
    }
    Ok(())
}

/// Returns the form two organisation names are compared in: compatibility
/// normalised (NFKC), lower case, without characters that show nothing,
/// and with runs of spaces as one. Two names with the same form would be
/// mistaken for each other in a list.
pub fn comparable_name(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let visible: String = name
        .nfkc()
        .filter(|c| c.is_whitespace() || !crate::profiles::shows_nothing(*c))
        .collect();
    visible
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Checks a retention period in days.
pub fn check_retention_days(days: i32) -> Result<(), InvalidValue> {
    if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
        return Err(InvalidValue::new(
            "retention_days",
            format!("{days} is outside {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}"),
        ));
    }
    Ok(())
}

/// Checks that a licence ends after it starts.
pub fn check_licence_dates(
    starts_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
) -> Result<(), InvalidValue> {
    if let (Some(start), Some(expiry)) = (starts_at, expires_at)
        && expiry <= start
    {
        return Err(InvalidValue::new(
            "licence_expires_at",
            "must be after licence_starts_at",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {

    #[test]
    fn look_alike_names_compare_equal() {
        let plain = comparable_name("Northshire Council");
        for alike in [
            "northshire   COUNCIL",
            "North\u{200b}shire Council",
            "North\u{00ad}shire Council",
            "\u{ff2e}orthshire Council",
        ] {
            assert_eq!(comparable_name(alike), plain, "{alike:?}");
        }
        assert_ne!(comparable_name("Southshire Council"), plain);
        assert!(check_name("\u{200b}").is_err());
    }

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn name_rules() {
        assert!(check_name("Northshire Council").is_ok());
        assert_eq!(check_name(" ").unwrap_err().field, "name");
        assert_eq!(check_name("two\nlines").unwrap_err().field, "name");
        assert!(check_name(&"x".repeat(121)).is_err());
    }

    #[test]
    fn retention_bounds() {
        assert!(check_retention_days(3 * 365).is_ok());
        assert!(check_retention_days(364).is_err());
        assert!(check_retention_days(3_651).is_err());
    }

    #[test]
    fn licence_must_end_after_start() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(check_licence_dates(Some(start), Some(start)).is_err());
        assert!(check_licence_dates(Some(start), None).is_ok());
        assert_eq!(
            OrganisationKind::parse("local_authority"),
            Some(OrganisationKind::LocalAuthority)
        );
    }
}
