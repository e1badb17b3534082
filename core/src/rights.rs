//! Requests from the people in the data about their rights: a copy of
//! their data, correction, erasure, restriction of processing, and the
//! withdrawal of marketing consent. Each request is due one calendar month
//! after it was received, and moves through a fixed set of states.

use chrono::{DateTime, Months, NaiveDate, Utc};

use crate::codes;
use crate::values::InvalidValue;

codes! {
    /// The right a request is about.
    RightsKind {
        /// A copy of the person's data with their files, which also serves
        /// portability: the copy is structured and machine-readable.
        Access => "access",
        Correction => "correction",
        Erasure => "erasure",
        /// The data stays, but leaves search, matching and statistics.
        Restriction => "restriction",
        /// No more marketing email; applied at once.
        Marketing => "marketing",
    }
}

codes! {
    /// The state of a request.
    RightsState {
        Received => "received",
        InProgress => "in_progress",
        Completed => "completed",
        /// Refused with a stated legal reason.
        Refused => "refused",
    }
}

impl RightsState {
    /// Returns whether the request is finished.
    pub fn is_closed(self) -> bool {
        matches!(self, RightsState::Completed | RightsState::Refused)
    }

    /// Checks a move from this state to `to`. A refusal needs a reason,
    /// which names the legal ground.
    pub fn check_move(self, to: RightsState, reason: Option<&str>) -> Result<(), InvalidValue> {
        if self.is_closed() {
            return Err(InvalidValue::new(
                "state",
                format!("the request is {} already and cannot change", self.as_str()),
            ));
        }
        if to == self || to == RightsState::Received {
            return Err(InvalidValue::new(
                "state",
                format!("cannot move a {} request to {}", self.as_str(), to.as_str()),
            ));
        }
        let reason_given = reason.is_some_and(|reason| !reason.trim().is_empty());
        if to == RightsState::Refused && !reason_given {
            return Err(InvalidValue::new(
                "reason",
                "is required to refuse: state the legal reason",
            ));
        }
        Ok(())
    }
}

/// Returns the day a request received at `received_at` is due: the same
/// day of the next month in UTC, or that month's last day when it is
/// shorter.
pub fn due_on(received_at: DateTime<Utc>) -> NaiveDate {
    let day = received_at.date_naive();
    day.checked_add_months(Months::new(1)).unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    #[test]
    fn due_one_month_later() {
        let due = due_on(utc("2027-03-14T16:00:00Z"));
        assert_eq!(due.to_string(), "2027-04-14");
        // A month with fewer days ends on its last day.
        assert_eq!(
            due_on(utc("2027-01-31T09:00:00Z")).to_string(),
            "2027-02-28"
        );
        assert_eq!(
            due_on(utc("2028-01-31T09:00:00Z")).to_string(),
            "2028-02-29"
        );
        assert_eq!(
            due_on(utc("2027-12-15T09:00:00Z")).to_string(),
            "2028-01-15"
        );
    }

    #[test]
    fn moves_between_states() {
        use RightsState::*;
        assert!(Received.check_move(InProgress, None).is_ok());
        assert!(Received.check_move(Completed, None).is_ok());
        assert!(InProgress.check_move(Completed, None).is_ok());
        assert!(
            InProgress
                .check_move(Refused, Some("Crime prevention exemption"))
                .is_ok()
        );
        let refused = InProgress.check_move(Refused, Some("  ")).unwrap_err();
        assert_eq!(refused.field, "reason");
        assert!(Completed.check_move(InProgress, None).is_err());
        assert!(Refused.check_move(Completed, None).is_err());
        assert!(InProgress.check_move(Received, None).is_err());
        assert!(InProgress.check_move(InProgress, None).is_err());
    }

    #[test]
    fn codes_round_trip() {
        for kind in RightsKind::ALL {
            assert_eq!(RightsKind::parse(kind.as_str()), Some(*kind));
        }
        for state in RightsState::ALL {
            assert_eq!(RightsState::parse(state.as_str()), Some(*state));
        }
        assert_eq!(RightsKind::parse("everything"), None);
    }
}
