//! Wall-clock times in a time zone, turned into instants.
//!
//! Reminders and digests are set in local time ("09:00 in Europe/London",
//! "the user's 18:00") and stored as UTC instants. Twice a year a local
//! time does not map to exactly one instant: when clocks go forward an
//! hour of local times never happens, and when they go back an hour
//! happens twice. The rules here are fixed so that a daily job that takes
//! its next run from [`next_daily`] runs once each day: a skipped local time runs at the first valid
//! minute after it, and a repeated one at its first occurrence.

use chrono::{
    DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;

/// The time zone in which letterbox schedules are computed.
pub const SCHEDULE_ZONE: Tz = chrono_tz::Europe::London;

/// An upper bound on the local time one clock change skips: Samoa skipped
/// a whole day when it moved across the date line in 2011.
const MAX_GAP_MINUTES: i64 = 26 * 60;

/// Returns the instant at which the local time `local` happens in `zone`: the
/// first valid minute after it if the clocks skip it, the first of two if
/// they pass it twice.
pub fn instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => after_gap(zone, local),
    }
}

/// Returns the first whole minute after `local` that exists in `zone`.
fn after_gap(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let whole_minute = local
        .with_second(0)
        .unwrap_or(local)
        .with_nanosecond(0)
        .unwrap_or(local);
    (1..=MAX_GAP_MINUTES)
        .map(|m| whole_minute + Duration::minutes(m))
        .find_map(|candidate| zone.from_local_datetime(&candidate).earliest())
        .map_or_else(
            || Utc.from_utc_datetime(&local),
            |at| at.with_timezone(&Utc),
        )
}

/// Returns the instant of `time` on `date` in `zone`, by the rules of [`instant`].
pub fn on_day(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    instant(zone, date.and_time(time))
}

/// Returns the first instant strictly after `after` at which the local clock in
/// `zone` reads `time`, counting a skipped `time` as the first valid
/// minute after it. A daily job calls this once per run, so it runs once a
/// day whatever the clocks do.
pub fn next_daily(zone: Tz, time: NaiveTime, after: DateTime<Utc>) -> DateTime<Utc> {
    let today = after.with_timezone(&zone).date_naive();
    today
        .iter_days()
        .take(3)
        .map(|date| on_day(zone, date, time))
        .find(|at| *at > after)
        .unwrap_or_else(|| on_day(zone, today + Duration::days(1), time))
}

/// Returns the latest instant at or before `at` at which the local clock in
/// `zone` reads `time`, by the rules of [`instant`]. A daily digest sent at
/// this instant contains what arrived before it.
pub fn latest_daily(zone: Tz, time: NaiveTime, at: DateTime<Utc>) -> DateTime<Utc> {
    let today = at.with_timezone(&zone).date_naive();
    [today, today - Duration::days(1), today - Duration::days(2)]
        .into_iter()
        .map(|date| on_day(zone, date, time))
        .find(|instant| *instant <= at)
        .unwrap_or_else(|| on_day(zone, today - Duration::days(1), time))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn local(date: &str, time: &str) -> NaiveDateTime {
        let date = NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap_or_default();
        date.and_time(NaiveTime::parse_from_str(time, "%H:%M").unwrap_or_default())
    }

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap_or_default()
    }

    #[test]
    fn ordinary_times_follow_zone_offset() {
        assert_eq!(
            instant(SCHEDULE_ZONE, local("2026-01-15", "09:00")),
            utc("2026-01-15T09:00:00Z")
        );
        assert_eq!(
            instant(SCHEDULE_ZONE, local("2026-07-15", "09:00")),
            utc("2026-07-15T08:00:00Z")
        );
    }

    #[test]
    fn skipped_time_runs_at_next_valid_minute() {
        // Clocks go from 01:00 GMT to 02:00 BST on 29 March 2026.
        let at = instant(SCHEDULE_ZONE, local("2026-03-29", "01:30"));
        assert_eq!(at, utc("2026-03-29T01:00:00Z"));
        assert_eq!(
            at.with_timezone(&SCHEDULE_ZONE).format("%H:%M").to_string(),
            "02:00"
        );
    }

    #[test]
    fn repeated_time_runs_at_first_occurrence() {
        // Clocks go from 02:00 BST back to 01:00 GMT on 25 October 2026.
        let at = instant(SCHEDULE_ZONE, local("2026-10-25", "01:30"));
        assert_eq!(at, utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn daily_time_runs_once_across_changes() {
        for (from, until) in [("2026-03-27", "2026-04-01"), ("2026-10-23", "2026-10-28")] {
            let start = utc(&format!("{from}T00:00:00Z"));
            let end = utc(&format!("{until}T00:00:00Z"));
            let mut runs = Vec::new();
            let mut now = start;
            loop {
                let next = next_daily(SCHEDULE_ZONE, time("01:30"), now);
                if next >= end {
                    break;
                }
                runs.push(next.with_timezone(&SCHEDULE_ZONE).date_naive());
                now = next;
            }
            let first = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap_or_default();
            let expected: Vec<_> = first.iter_days().take(5).collect();
            assert_eq!(runs, expected, "runs between {from} and {until}");
        }
    }

    #[test]
    fn daily_time_at_its_instant_moves_on() {
        let now = utc("2026-10-25T00:30:00Z");
        assert_eq!(
            next_daily(SCHEDULE_ZONE, time("01:30"), now),
            utc("2026-10-26T01:30:00Z")
        );
    }

    #[test]
    fn latest_daily_looks_back_to_yesterday() {
        let before = utc("2026-06-01T07:00:00Z");
        assert_eq!(
            latest_daily(SCHEDULE_ZONE, time("09:00"), before),
            utc("2026-05-31T08:00:00Z")
        );
        let after = utc("2026-06-01T08:00:00Z");
        assert_eq!(latest_daily(SCHEDULE_ZONE, time("09:00"), after), after);
    }

    #[test]
    fn digest_hour_follows_users_zone() {
        let now = utc("2026-06-01T12:00:00Z");
        let sydney = chrono_tz::Australia::Sydney;
        assert_eq!(
            next_daily(sydney, time("18:00"), now),
            utc("2026-06-02T08:00:00Z")
        );
    }
}
