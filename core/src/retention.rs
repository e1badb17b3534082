//! Retention: when the daily sweep runs, and when a record that is due to
//! go takes its final step. Pure functions of the facts and the time now;
//! the retention supervisor applies them.
//!
//! Deletion is two steps unless a rule states otherwise: a record due to go
//! is first marked (hidden everywhere at once), and the final step
//! (anonymising or deleting it) comes [`FINAL_STEP_AFTER`] later, counted
//! from the marking.

use chrono::{DateTime, Duration, Months, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::local_time::latest_daily;

/// The zone of the sweep's local time.
pub const SWEEP_ZONE: Tz = chrono_tz::Europe::London;

/// The local time of the daily sweep, 01:30, when few people use the
/// service.
pub const SWEEP_TIME: NaiveTime = match NaiveTime::from_hms_opt(1, 30, 0) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

/// The time between marking a record and its final step.
pub const FINAL_STEP_AFTER: Duration = Duration::days(14);

/// How long technical and usage data is kept after it was collected.
pub const TECHNICAL_MONTHS: u32 = 12;

/// Returns the instant of the latest sweep due at or before `now`, with
/// the local date it belongs to. There is one instant per local date, also
/// on the days the clocks change: a skipped 01:30 runs at the first minute
/// after the gap, and a repeated one at its first occurrence.
pub fn latest_sweep(time: NaiveTime, now: DateTime<Utc>) -> (DateTime<Utc>, NaiveDate) {
    let at = latest_daily(SWEEP_ZONE, time, now);
    (at, at.with_timezone(&SWEEP_ZONE).date_naive())
}

/// Returns the instant before which technical and usage data collected is
/// due to go at `now`.
pub fn technical_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(TECHNICAL_MONTHS))
        .unwrap_or(now - Duration::days(365))
}

/// Returns the instant before which technical and usage data is deleted at
/// `now`: a year after it was collected, and the final step after that.
/// Nothing shows technical data, so marking it would hide nothing; its
/// deletion waits the same time as any other record's final step.
pub fn technical_deletion_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    technical_cutoff(now) - FINAL_STEP_AFTER
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
    fn sweep_once_per_local_day() {
        // Clocks go forward on 28 March 2027 and back on 31 October 2027.
        for (from, days) in [("2027-03-26T12:00:00Z", 4), ("2027-10-29T12:00:00Z", 4)] {
            let start = utc(from);
            let mut seen = Vec::new();
            let mut now = start;
            while now < start + Duration::days(days) {
                let (at, day) = latest_sweep(SWEEP_TIME, now);
                if at > start && seen.last() != Some(&(at, day)) {
                    seen.push((at, day));
                }
                now += Duration::minutes(1);
            }
            let dates: Vec<NaiveDate> = seen.iter().map(|(_, day)| *day).collect();
            let mut unique = dates.clone();
            unique.dedup();
            assert_eq!(dates, unique, "{seen:?}");
            assert_eq!(dates.len(), days as usize, "{seen:?}");
        }
    }

    #[test]
    fn sweep_times_on_change_days() {
        // 01:30 does not exist on 28 March 2027: the sweep runs at 02:00 BST.
        let (at, day) = latest_sweep(SWEEP_TIME, utc("2027-03-28T12:00:00Z"));
        assert_eq!(at, utc("2027-03-28T01:00:00Z"));
        assert_eq!(day.to_string(), "2027-03-28");
        // 01:30 happens twice on 31 October 2027: the first one, in BST.
        let (at, day) = latest_sweep(SWEEP_TIME, utc("2027-10-31T12:00:00Z"));
        assert_eq!(at, utc("2027-10-31T00:30:00Z"));
        assert_eq!(day.to_string(), "2027-10-31");
        // An ordinary winter day.
        let (at, _) = latest_sweep(SWEEP_TIME, utc("2027-01-10T01:29:00Z"));
        assert_eq!(at, utc("2027-01-09T01:30:00Z"));
    }

    #[test]
    fn technical_cutoff_year_and_two_weeks() {
        let now = utc("2027-06-15T01:30:00Z");
        assert_eq!(technical_cutoff(now), utc("2026-06-15T01:30:00Z"));
        assert_eq!(technical_deletion_cutoff(now), utc("2026-06-01T01:30:00Z"));
        let leap = utc("2028-02-29T01:30:00Z");
        assert_eq!(technical_cutoff(leap), utc("2027-02-28T01:30:00Z"));
    }
}
