//! The states of an organisation's licence, and what each allows.
//!
//! A licence runs from its start date to its expiry. After expiry the
//! organisation's workers keep read-only access for three months (they can
//! read and export, not create or send); then the retention rules apply.

use chrono::{DateTime, Months, Utc};
use serde::Serialize;

/// How long read-only access lasts after a licence expires.
pub const READ_ONLY_MONTHS: u32 = 3;

/// The state of an organisation's licence.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenceState {
    /// The licence has not started yet: nothing may be created.
    NotStarted,
    /// Full use.
    Active,
    /// Expired less than three months ago: read and export only.
    ReadOnly,
    /// Expired three months ago or more: retention rules apply.
    Ended,
}

impl LicenceState {
    /// Returns whether the organisation may create, change or send.
    pub fn allows_changes(self) -> bool {
        self == LicenceState::Active
    }

    /// Returns whether the organisation's workers may read.
    pub fn allows_reading(self) -> bool {
        matches!(self, LicenceState::Active | LicenceState::ReadOnly)
    }
}

/// Returns the licence state at `now`. A missing start means the licence
/// started when the organisation was created; a missing expiry means it
/// does not expire.
pub fn licence_state(
    starts_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> LicenceState {
    if starts_at.is_some_and(|start| now < start) {
        return LicenceState::NotStarted;
    }
    let Some(expiry) = expires_at else {
        return LicenceState::Active;
    };
    if now < expiry {
        return LicenceState::Active;
    }
    let read_only_until = expiry
        .checked_add_months(Months::new(READ_ONLY_MONTHS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    if now < read_only_until {
        LicenceState::ReadOnly
    } else {
        LicenceState::Ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(year: i32, month: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, month, day, 0, 0, 0).unwrap()
    }

    #[test]
    fn licence_passes_through_each_state() {
        let start = Some(at(2026, 1, 1));
        let expiry = Some(at(2027, 1, 1));
        assert_eq!(
            licence_state(start, expiry, at(2025, 12, 31)),
            LicenceState::NotStarted
        );
        assert_eq!(
            licence_state(start, expiry, at(2026, 6, 1)),
            LicenceState::Active
        );
        assert_eq!(
            licence_state(start, expiry, at(2027, 1, 1)),
            LicenceState::ReadOnly
        );
        assert_eq!(
            licence_state(start, expiry, at(2027, 3, 31)),
            LicenceState::ReadOnly
        );
        assert_eq!(
            licence_state(start, expiry, at(2027, 4, 1)),
            LicenceState::Ended
        );
    }

    #[test]
    fn open_licence_stays_active() {
        assert_eq!(
            licence_state(None, None, at(2090, 1, 1)),
            LicenceState::Active
        );
    }

    #[test]
    fn only_active_licence_allows_changes() {
        assert!(LicenceState::Active.allows_changes());
        assert!(!LicenceState::ReadOnly.allows_changes());
        assert!(LicenceState::ReadOnly.allows_reading());
        assert!(!LicenceState::Ended.allows_reading());
        assert!(!LicenceState::NotStarted.allows_changes());
    }
}
