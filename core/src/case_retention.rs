//! Retention of family-finding cases, as pure functions of a case, its
//! organisation's terms and the time now.
//!
//! A case is due to go after its organisation's retention period without
//! activity (three years unless the organisation chose another), or three
//! months after the organisation's licence expired if nothing happened in
//! those months. It is then marked, and anonymised 14 days later unless
//! its organisation keeps it or puts it on legal hold.
//!
//! Anonymising keeps only this field list, for statistics:
//!
//! | field | kept as |
//! |---|---|
//! | kind | `child` or `family` |
//! | status | outcome: `placed`, or `closed` for any other |
//! | region | the region code, already a broad area |
//! | last activity | its year |
//! | children's ages | the youngest child's age band (child cases) |
//! | group size | `1`, `2` or `3+` |
//!
//! Everything else is dropped. That is the sealed profile with names,
//! dates of birth, stories and pictures, and the ethnicity, needs, legal
//! status, plan, approvals and age range. It is also the owning
//! organisation, the workers, the family's account, every other date, and
//! the shares, transfers, media, interests and their discussions.
//!
//! Every combination of kept fields must be shared by at least
//! [`K_ANONYMITY`] records. A record in a smaller group loses its most
//! specific field left, in the order group size, age band, year, region,
//! outcome, kind, until its group is large enough. A record that keeps no
//! field at all only records that a case existed.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, Months, Utc};

use crate::profiles::age_band;

/// How long after an organisation's licence expired its inactive cases go.
pub const LICENCE_ENDED_MONTHS: u32 = 3;

/// The smallest group of anonymous records sharing one combination of
/// kept fields.
pub const K_ANONYMITY: usize = 5;

/// The reason a case was marked to go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkReason {
    /// No activity for the organisation's retention period.
    Inactive,
    /// No activity since three months after the licence expired.
    LicenceEnded,
    /// A manager of the organisation asked for it.
    OrganisationRequest,
}

impl MarkReason {
    /// Returns the stored code.
    pub fn as_str(self) -> &'static str {
        match self {
            MarkReason::Inactive => "inactive",
            MarkReason::LicenceEnded => "licence_ended",
            MarkReason::OrganisationRequest => "organisation_request",
        }
    }

    /// Parses a stored code.
    pub fn parse(code: &str) -> Option<MarkReason> {
        [
            MarkReason::Inactive,
            MarkReason::LicenceEnded,
            MarkReason::OrganisationRequest,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == code)
    }
}

/// The terms of an organisation that decide when its cases go.
#[derive(Clone, Copy, Debug)]
pub struct OrganisationTerms {
    /// Days without activity after which a case goes.
    pub retention_days: i32,
    pub licence_expires_at: Option<DateTime<Utc>>,
}

/// Returns the instant at or before which a case's last activity makes it
/// due at `now`, with the rule that sets it: the later of the two rules'
/// cut-offs, so the one that takes more cases wins.
pub fn idle_cutoff(terms: OrganisationTerms, now: DateTime<Utc>) -> (DateTime<Utc>, MarkReason) {
    let inactive = now - Duration::days(i64::from(terms.retention_days.max(0)));
    let grace_start = now
        .checked_sub_months(Months::new(LICENCE_ENDED_MONTHS))
        .unwrap_or(now - Duration::days(92));
    match terms.licence_expires_at {
        Some(expired) if expired <= grace_start && grace_start > inactive => {
            (grace_start, MarkReason::LicenceEnded)
        }
        _ => (inactive, MarkReason::Inactive),
    }
}

/// Returns why a case whose last activity was at `last_activity_at` is due
/// to go at `now`, or `None` when it stays.
pub fn case_due(
    last_activity_at: DateTime<Utc>,
    terms: OrganisationTerms,
    now: DateTime<Utc>,
) -> Option<MarkReason> {
    let (cutoff, reason) = idle_cutoff(terms, now);
    (last_activity_at <= cutoff).then_some(reason)
}

/// The facts of a case that anonymising reads.
#[derive(Clone, Copy, Debug)]
pub struct CaseFacts<'a> {
    pub kind: &'a str,
    pub status: &'a str,
    pub region: &'a str,
    pub last_activity_at: DateTime<Utc>,
    /// Each child's age, comma-separated (child cases).
    pub child_ages: Option<&'a str>,
    pub group_size: i16,
}

/// The fields an anonymised case keeps; `None` where a field was dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct AnonymousCase {
    pub kind: Option<String>,
    pub outcome: Option<String>,
    pub region: Option<String>,
    pub end_year: Option<i16>,
    pub age_band: Option<String>,
    pub group_size: Option<String>,
}

impl AnonymousCase {
    /// Generalises a case into the kept fields, each at its most detailed.
    pub fn of(facts: CaseFacts<'_>) -> AnonymousCase {
        let youngest = facts.child_ages.and_then(|ages| {
            ages.split(',')
                .filter_map(|age| age.trim().parse::<u8>().ok())
                .min()
        });
        let group_size = match facts.group_size {
            size if size <= 1 => "1",
            2 => "2",
            _ => "3+",
        };
        AnonymousCase {
            kind: Some(facts.kind.to_owned()),
            outcome: Some(
                if facts.status == "placed" {
                    "placed"
                } else {
                    "closed"
                }
                .to_owned(),
            ),
            region: Some(facts.region.to_owned()),
            end_year: i16::try_from(facts.last_activity_at.year()).ok(),
            age_band: youngest.map(|age| age_band(age).to_owned()),
            group_size: Some(group_size.to_owned()),
        }
    }

    /// Drops the most specific field still kept. Returns false when none
    /// was left to drop.
    pub fn coarsen(&mut self) -> bool {
        if self.group_size.take().is_some() || self.age_band.take().is_some() {
            return true;
        }
        if self.end_year.take().is_some() {
            return true;
        }
        self.region.take().is_some() || self.outcome.take().is_some() || self.kind.take().is_some()
    }

    /// Returns whether the record keeps any field.
    pub fn keeps_anything(&self) -> bool {
        *self != AnonymousCase::default()
    }
}

/// Coarsens records until every combination that keeps a field is shared
/// by at least [`K_ANONYMITY`] records. Returns the indexes of the records
/// it changed. Records only ever lose fields, so groups only grow.
pub fn enforce_k_anonymity(records: &mut [AnonymousCase]) -> Vec<usize> {
    let mut changed = vec![false; records.len()];
    loop {
        let mut sizes: HashMap<AnonymousCase, usize> = HashMap::new();
        for record in records.iter() {
            *sizes.entry(record.clone()).or_default() += 1;
        }
        let mut coarsened = false;
        for (index, record) in records.iter_mut().enumerate() {
            if record.keeps_anything() && sizes[record] < K_ANONYMITY && record.coarsen() {
                changed[index] = true;
                coarsened = true;
            }
        }
        if !coarsened {
            break;
        }
    }
    changed
        .into_iter()
        .enumerate()
        .filter_map(|(index, changed)| changed.then_some(index))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap()
    }

    const THREE_YEARS: OrganisationTerms = OrganisationTerms {
        retention_days: 1095,
        licence_expires_at: None,
    };

    #[test]
    fn inactive_for_the_organisation_period() {
        let now = utc("2030-01-10T01:30:00Z");
        let boundary = now - Duration::days(1095);
        assert_eq!(
            case_due(boundary, THREE_YEARS, now),
            Some(MarkReason::Inactive)
        );
        assert_eq!(
            case_due(boundary + Duration::minutes(1), THREE_YEARS, now),
            None
        );
        let own = OrganisationTerms {
            retention_days: 365,
            ..THREE_YEARS
        };
        assert_eq!(
            case_due(now - Duration::days(366), own, now),
            Some(MarkReason::Inactive)
        );
        assert_eq!(case_due(now - Duration::days(364), own, now), None);
    }

    #[test]
    fn licence_ended_three_months_ago() {
        let now = utc("2030-06-01T01:30:00Z");
        let expired = OrganisationTerms {
            licence_expires_at: Some(utc("2030-02-15T00:00:00Z")),
            ..THREE_YEARS
        };
        // Active until the licence expired, then nothing for three months.
        assert_eq!(
            case_due(utc("2030-02-14T00:00:00Z"), expired, now),
            Some(MarkReason::LicenceEnded)
        );
        // Something happened within the last three months.
        assert_eq!(case_due(utc("2030-03-02T00:00:00Z"), expired, now), None);
        // The licence expired less than three months ago.
        let recent = OrganisationTerms {
            licence_expires_at: Some(utc("2030-03-15T00:00:00Z")),
            ..THREE_YEARS
        };
        assert_eq!(case_due(utc("2030-02-14T00:00:00Z"), recent, now), None);
    }

    #[test]
    fn reasons_round_trip() {
        for reason in [
            MarkReason::Inactive,
            MarkReason::LicenceEnded,
            MarkReason::OrganisationRequest,
        ] {
            assert_eq!(MarkReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(MarkReason::parse("whim"), None);
    }

    fn facts(region: &'static str, ages: Option<&'static str>, year: &str) -> CaseFacts<'static> {
        CaseFacts {
            kind: "child",
            status: "active",
            region,
            last_activity_at: utc(&format!("{year}-05-01T00:00:00Z")),
            child_ages: ages,
            group_size: 2,
        }
    }

    #[test]
    fn generalises_each_field() {
        let record = AnonymousCase::of(facts("north_west", Some("7, 3"), "2027"));
        assert_eq!(record.kind.as_deref(), Some("child"));
        assert_eq!(record.outcome.as_deref(), Some("closed"));
        assert_eq!(record.region.as_deref(), Some("north_west"));
        assert_eq!(record.end_year, Some(2027));
        assert_eq!(record.age_band.as_deref(), Some("1_to_4"));
        assert_eq!(record.group_size.as_deref(), Some("2"));
        let placed = AnonymousCase::of(CaseFacts {
            status: "placed",
            group_size: 4,
            child_ages: None,
            ..facts("london", None, "2028")
        });
        assert_eq!(placed.outcome.as_deref(), Some("placed"));
        assert_eq!(placed.group_size.as_deref(), Some("3+"));
        assert_eq!(placed.age_band, None);
    }

    #[test]
    fn coarsens_in_order_until_nothing_is_left() {
        let mut record = AnonymousCase::of(facts("london", Some("12"), "2027"));
        let mut kept = Vec::new();
        while record.coarsen() {
            kept.push(record.clone());
        }
        assert_eq!(kept.len(), 6);
        assert_eq!(kept[0].group_size, None);
        assert!(kept[0].age_band.is_some());
        assert_eq!(kept[1].age_band, None);
        assert_eq!(kept[2].end_year, None);
        assert!(kept[2].region.is_some());
        assert_eq!(kept[3].region, None);
        assert_eq!(kept[4].outcome, None);
        assert!(kept[4].kind.is_some());
        assert!(!kept[5].keeps_anything());
    }

    /// Checks that every combination that keeps a field has at least K
    /// records.
    fn assert_k_anonymous(records: &[AnonymousCase]) {
        let mut sizes: HashMap<&AnonymousCase, usize> = HashMap::new();
        for record in records {
            *sizes.entry(record).or_default() += 1;
        }
        for (record, size) in sizes {
            assert!(
                !record.keeps_anything() || size >= K_ANONYMITY,
                "{record:?} is shared by {size}"
            );
        }
    }

    #[test]
    fn every_kept_combination_has_five_records() {
        let regions = ["london", "north_west", "wales", "scotland"];
        let ages = ["1", "6", "12", "16"];
        let mut records = Vec::new();
        // A deterministic spread: many records in few combinations and a
        // tail of unique ones.
        for index in 0..230usize {
            let region = regions[(index * index) % regions.len()];
            let age = ages[(index / 3) % ages.len()];
            let year = 2026 + (index % 7) as i32;
            records.push(AnonymousCase::of(facts(
                region,
                Some(age),
                &year.to_string(),
            )));
        }
        let before = records.clone();
        let changed = enforce_k_anonymity(&mut records);
        assert_k_anonymous(&records);
        assert!(!changed.is_empty());
        // Records in large enough groups keep every field.
        let untouched = (0..records.len()).filter(|i| !changed.contains(i)).count();
        assert!(untouched > 0);
        for index in 0..records.len() {
            if !changed.contains(&index) {
                assert_eq!(records[index], before[index]);
            }
        }
    }

    #[test]
    fn fewer_than_five_keep_nothing() {
        let mut records: Vec<AnonymousCase> = (0..4)
            .map(|_| AnonymousCase::of(facts("london", Some("3"), "2027")))
            .collect();
        enforce_k_anonymity(&mut records);
        assert!(records.iter().all(|record| !record.keeps_anything()));
        // A fifth record with the same fields keeps them all.
        let mut five: Vec<AnonymousCase> = (0..5)
            .map(|_| AnonymousCase::of(facts("london", Some("3"), "2027")))
            .collect();
        assert!(enforce_k_anonymity(&mut five).is_empty());
    }
}
