//! Match suggestions between a child case and a family case, with a score
//! that lists every criterion it counted, met or not.
//!
//! Each criterion carries a weight. The score is the met weight as a
//! percentage of the total weight, rounded down, so a reader can rebuild it
//! from the explanation alone.

use serde::Serialize;

use crate::profiles::{ChildCodes, FamilyCodes};

/// One criterion of a match, with what the child needs and what the family
/// offers, as text a practitioner can check.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Criterion {
    /// Stable name: `plan`, `ages`, `group_size`, `needs.health`,
    /// `needs.development`, `needs.history` or `region`.
    pub name: &'static str,
    pub met: bool,
    pub weight: u8,
    /// The child case's requirement.
    pub needed: String,
    /// The family case's offer.
    pub offered: String,
}

/// A scored match with its explanation.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct Match {
    /// Met weight as a percentage of the total weight, rounded down.
    pub score: u8,
    pub criteria: Vec<Criterion>,
}

/// Weight of the plan, ages and group size: a family that cannot take the
/// children at all.
const ESSENTIAL: u8 = 3;
/// Weight of each area of need.
const NEED: u8 = 2;
/// Weight of living in the same region, which eases contact and
/// introductions but is never required.
const PREFERENCE: u8 = 1;

/// Scores a family case against a child case.
pub fn explain(child: &ChildCodes, family: &FamilyCodes) -> Match {
    let offer = &family.offer;
    let mut criteria = vec![
        Criterion {
            name: "plan",
            met: family.approved_for.contains(&child.plan),
            weight: ESSENTIAL,
            needed: child.plan.as_str().to_owned(),
            offered: family
                .approved_for
                .iter()
                .map(|plan| plan.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        },
        Criterion {
            name: "ages",
            met: offer.min_age <= child.min_age && child.max_age <= offer.max_age,
            weight: ESSENTIAL,
            needed: age_range(child.min_age, child.max_age),
            offered: age_range(offer.min_age, offer.max_age),
        },
        Criterion {
            name: "group_size",
            met: child.group_size <= offer.max_children,
            weight: ESSENTIAL,
            needed: child.group_size.to_string(),
            offered: format!("up to {}", offer.max_children),
        },
    ];
    let names = ["needs.health", "needs.development", "needs.history"];
    let needed = child.needs.areas();
    let capacities = offer.needs.areas();
    for ((name, (_, level)), (_, capacity)) in names.into_iter().zip(needed).zip(capacities) {
        criteria.push(Criterion {
            name,
            met: level.rank() <= capacity.rank(),
            weight: NEED,
            needed: level.as_str().to_owned(),
            offered: format!("up to {}", capacity.as_str()),
        });
    }
    criteria.push(Criterion {
        name: "region",
        met: child.region == family.region,
        weight: PREFERENCE,
        needed: child.region.as_str().to_owned(),
        offered: family.region.as_str().to_owned(),
    });
    Match {
        score: score(&criteria),
        criteria,
    }
}

fn score(criteria: &[Criterion]) -> u8 {
    let total: u32 = criteria.iter().map(|c| u32::from(c.weight)).sum();
    let met: u32 = criteria
        .iter()
        .filter(|c| c.met)
        .map(|c| u32::from(c.weight))
        .sum();
    if total == 0 {
        return 0;
    }
    (met * 100 / total) as u8
}

fn age_range(min: u8, max: u8) -> String {
    if min == max {
        min.to_string()
    } else {
        format!("{min}–{max}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profiles::{Ethnicity, LegalStatus, NeedLevel, Needs, Offer, Plan, Region};

    fn child() -> ChildCodes {
        ChildCodes {
            region: Region::London,
            legal_status: LegalStatus::PlacementOrder,
            plan: Plan::Adoption,
            min_age: 2,
            max_age: 5,
            group_size: 2,
            needs: Needs {
                health: NeedLevel::Low,
                development: NeedLevel::Moderate,
                history: NeedLevel::High,
            },
            ethnicity: Ethnicity::White,
        }
    }

    fn family() -> FamilyCodes {
        FamilyCodes {
            region: Region::London,
            approved_for: vec![Plan::Adoption],
            offer: Offer {
                min_age: 0,
                max_age: 6,
                max_children: 3,
                needs: Needs {
                    health: NeedLevel::High,
                    development: NeedLevel::High,
                    history: NeedLevel::High,
                },
            },
            ethnicity: Ethnicity::Asian,
        }
    }

    fn criterion<'a>(found: &'a Match, name: &str) -> &'a Criterion {
        found.criteria.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn full_match_scores_hundred() {
        let found = explain(&child(), &family());
        assert_eq!(found.score, 100);
        assert!(found.criteria.iter().all(|c| c.met));
        assert_eq!(found.criteria.len(), 7);
    }

    #[test]
    fn unmet_criteria_are_named() {
        let mut family = family();
        family.offer.max_age = 4;
        family.offer.needs.history = NeedLevel::Moderate;
        family.region = Region::Wales;
        let found = explain(&child(), &family);
        let ages = criterion(&found, "ages");
        assert!(!ages.met);
        assert_eq!(ages.needed, "2–5");
        assert_eq!(ages.offered, "0–4");
        assert!(!criterion(&found, "needs.history").met);
        assert!(!criterion(&found, "region").met);
        assert!(criterion(&found, "plan").met);
        // 16 weight in all; ages (3), history (2) and region (1) unmet.
        assert_eq!(found.score, (10 * 100 / 16) as u8);
    }

    #[test]
    fn score_rebuilds_from_criteria() {
        let mut family = family();
        family.approved_for = vec![Plan::ShortTermFostering];
        family.offer.max_children = 1;
        let found = explain(&child(), &family);
        let total: u32 = found.criteria.iter().map(|c| u32::from(c.weight)).sum();
        let met: u32 = found
            .criteria
            .iter()
            .filter(|c| c.met)
            .map(|c| u32::from(c.weight))
            .sum();
        assert_eq!(u32::from(found.score), met * 100 / total);
        assert!(!criterion(&found, "plan").met);
        assert!(!criterion(&found, "group_size").met);
    }
}
