//! When letterbox exchanges are due, and when their reminders go out.
//!
//! Each exchange of a contact agreement falls on a day of a named month,
//! every year. Three reminders go to the side whose turn it is and to the
//! practitioner: 14 days before ("due soon"), on the day ("due") and 14
//! days after ("overdue"). Each goes out at the configured local time in
//! Europe/London, by the rules of [`crate::local_time`], so a time that
//! the clocks skip runs at the first valid minute after it, and one that
//! happens twice runs at its first occurrence. [`occurrences`] lists the
//! reminders whose instant falls in a window; the store's unique key on
//! (link, side, exchange day, kind) makes each one go out once.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::letterbox::{Exchange, Side};
use crate::local_time::on_day;

/// Days between the "due soon" reminder and the exchange.
pub const LEAD_DAYS: i64 = 14;
/// Days between the exchange and the "overdue" reminder.
pub const OVERDUE_DAYS: i64 = 14;
/// A letter submitted this many days before an exchange counts for it.
pub const EARLY_DAYS: i64 = 30;

/// One of an exchange's three reminders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReminderKind {
    /// The exchange is 14 days away.
    DueSoon,
    /// The exchange is today.
    Due,
    /// The exchange was 14 days ago and no letter came.
    Overdue,
}

impl ReminderKind {
    /// All kinds, in the order they go out.
    pub const ALL: [ReminderKind; 3] = [
        ReminderKind::DueSoon,
        ReminderKind::Due,
        ReminderKind::Overdue,
    ];

    /// Returns the stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::DueSoon => "due_soon",
            ReminderKind::Due => "due",
            ReminderKind::Overdue => "overdue",
        }
    }

    /// Returns the days from the exchange to this reminder.
    fn offset_days(self) -> i64 {
        match self {
            ReminderKind::DueSoon => -LEAD_DAYS,
            ReminderKind::Due => 0,
            ReminderKind::Overdue => OVERDUE_DAYS,
        }
    }
}

/// One reminder of one exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// Which reminder.
    pub kind: ReminderKind,
    /// The side whose turn it is.
    pub side: Side,
    /// The day of the exchange itself.
    pub due_on: NaiveDate,
    /// The instant the reminder goes out.
    pub fire_at: DateTime<Utc>,
}

/// Returns the day an exchange falls on in `year`.
pub fn exchange_day(exchange: &Exchange, year: i32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, exchange.month, exchange.day)
}

/// Lists the reminders of `exchanges` whose instant lies in
/// `(after, until]`, at local `time` in `zone`, ordered by instant.
pub fn occurrences(
    exchanges: &[Exchange],
    time: NaiveTime,
    zone: Tz,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<Occurrence> {
    let mut found = Vec::new();
    if until <= after {
        return found;
    }
    // An exchange early in a year has its "due soon" reminder in the year
    // before, and one late in a year its "overdue" reminder in the next.
    let first_year = after.with_timezone(&zone).year() - 1;
    let last_year = until.with_timezone(&zone).year() + 1;
    for year in first_year..=last_year {
        for exchange in exchanges {
            let Some(due_on) = exchange_day(exchange, year) else {
                continue;
            };
            for kind in ReminderKind::ALL {
                let day = due_on + Duration::days(kind.offset_days());
                let fire_at = on_day(zone, day, time);
                if fire_at > after && fire_at <= until {
                    found.push(Occurrence {
                        kind,
                        side: exchange.from,
                        due_on,
                        fire_at,
                    });
                }
            }
        }
    }
    found.sort_by_key(|o| (o.fire_at, o.kind, o.side.as_str()));
    found
}

/// Where an exchange stands on a day, for the practitioner's to-do list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeState {
    /// The side whose turn it is.
    pub side: Side,
    /// The day of the exchange.
    pub due_on: NaiveDate,
    /// The latest reminder whose day has come.
    pub kind: ReminderKind,
}

/// Lists the exchanges that are due soon, due or overdue on `today`: from
/// [`LEAD_DAYS`] before their day until [`EARLY_DAYS`] after it. The
/// caller drops those that a letter has already answered.
pub fn open_exchanges(exchanges: &[Exchange], today: NaiveDate) -> Vec<ExchangeState> {
    let mut open = Vec::new();
    for year in [today.year() - 1, today.year(), today.year() + 1] {
        for exchange in exchanges {
            let Some(due_on) = exchange_day(exchange, year) else {
                continue;
            };
            let days = (today - due_on).num_days();
            if !(-LEAD_DAYS..=EARLY_DAYS).contains(&days) {
                continue;
            }
            let kind = if days >= OVERDUE_DAYS {
                ReminderKind::Overdue
            } else if days >= 0 {
                ReminderKind::Due
            } else {
                ReminderKind::DueSoon
            };
            open.push(ExchangeState {
                side: exchange.from,
                due_on,
                kind,
            });
        }
    }
    open.sort_by_key(|state| (state.due_on, state.side.as_str()));
    open
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::local_time::SCHEDULE_ZONE;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn time(text: &str) -> NaiveTime {
        NaiveTime::parse_from_str(text, "%H:%M").unwrap_or_default()
    }

    fn date(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    fn exchange(month: u32, day: u32, from: Side) -> Exchange {
        Exchange { month, day, from }
    }

    /// Steps a simulated clock through `[start, end]` in `step` and
    /// collects every occurrence each tick finds since the tick before.
    fn tick_through(
        exchanges: &[Exchange],
        at: NaiveTime,
        start: &str,
        end: &str,
        step: Duration,
    ) -> Vec<Occurrence> {
        let mut found = Vec::new();
        let mut last = utc(start);
        let end = utc(end);
        while last < end {
            let now = last + step;
            found.extend(occurrences(exchanges, at, SCHEDULE_ZONE, last, now));
            last = now;
        }
        found
    }

    #[test]
    fn three_reminders_around_each_exchange() {
        let exchanges = [exchange(9, 15, Side::Birth)];
        let found = occurrences(
            &exchanges,
            time("09:00"),
            SCHEDULE_ZONE,
            utc("2026-01-01T00:00:00Z"),
            utc("2026-12-31T23:59:00Z"),
        );
        let days: Vec<(ReminderKind, DateTime<Utc>)> =
            found.iter().map(|o| (o.kind, o.fire_at)).collect();
        assert_eq!(
            days,
            [
                (ReminderKind::DueSoon, utc("2026-09-01T08:00:00Z")),
                (ReminderKind::Due, utc("2026-09-15T08:00:00Z")),
                (ReminderKind::Overdue, utc("2026-09-29T08:00:00Z")),
            ]
        );
        assert!(found.iter().all(|o| o.due_on == date("2026-09-15")));
    }

    #[test]
    fn skipped_local_time_fires_once_after_the_gap() {
        // 01:30 on 29 March 2026 does not happen in London: the clocks go
        // from 01:00 to 02:00. The "due soon" reminder of an exchange on
        // 12 April falls that night.
        let exchanges = [exchange(4, 12, Side::Adoptive)];
        let found = tick_through(
            &exchanges,
            time("01:30"),
            "2026-03-28T12:00:00Z",
            "2026-03-30T12:00:00Z",
            Duration::minutes(1),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, ReminderKind::DueSoon);
        assert_eq!(found[0].fire_at, utc("2026-03-29T01:00:00Z"));
    }

    #[test]
    fn repeated_local_time_fires_once_at_the_first() {
        // 01:30 on 25 October 2026 happens twice in London. An exchange on
        // 11 October is overdue that night.
        let exchanges = [exchange(10, 11, Side::Birth)];
        let found = tick_through(
            &exchanges,
            time("01:30"),
            "2026-10-24T12:00:00Z",
            "2026-10-26T12:00:00Z",
            Duration::minutes(1),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].kind, ReminderKind::Overdue);
        assert_eq!(found[0].fire_at, utc("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn uneven_ticks_find_each_reminder_once() {
        let exchanges = [
            exchange(1, 5, Side::Birth),
            exchange(12, 28, Side::Adoptive),
        ];
        for step in [7, 61, 1440, 3 * 1440] {
            let found = tick_through(
                &exchanges,
                time("09:00"),
                "2026-01-01T00:00:00Z",
                "2027-01-31T00:00:00Z",
                Duration::minutes(step),
            );
            let keys: std::collections::HashSet<_> =
                found.iter().map(|o| (o.due_on, o.kind, o.side)).collect();
            assert_eq!(
                keys.len(),
                found.len(),
                "step {step}: a reminder came twice"
            );
            // In January 2026: 2025-12-28 overdue, 2026-01-05 due and
            // overdue (its "due soon" fell in 2025). Then all three of
            // 2026-12-28, and 2027-01-05's three.
            assert_eq!(found.len(), 3 + 3 + 3, "step {step}: {found:?}");
        }
    }

    #[test]
    fn open_exchanges_follow_the_calendar() {
        let exchanges = [exchange(3, 1, Side::Adoptive)];
        assert!(open_exchanges(&exchanges, date("2026-02-14")).is_empty());
        let soon = open_exchanges(&exchanges, date("2026-02-15"));
        assert_eq!(soon[0].kind, ReminderKind::DueSoon);
        assert_eq!(
            open_exchanges(&exchanges, date("2026-03-01"))[0].kind,
            ReminderKind::Due
        );
        assert_eq!(
            open_exchanges(&exchanges, date("2026-03-15"))[0].kind,
            ReminderKind::Overdue
        );
        assert_eq!(
            open_exchanges(&exchanges, date("2026-03-31"))[0].due_on,
            date("2026-03-01")
        );
        assert!(open_exchanges(&exchanges, date("2026-04-01")).is_empty());
    }
}
