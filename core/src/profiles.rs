//! Family-finding profiles: a child case (one child or a sibling group) and
//! a family case (adopters or foster carers).
//!
//! A profile has two parts. The coded part (region, plan, ages, need
//! levels, ethnicity group) is what search, matching and statistics read,
//! so it is stored in clear columns. Everything else (names, descriptions,
//! notes on needs, religion, approval date) is the sealed part, stored
//! under the platform data key and opened only for a reader the
//! permission check allows.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::codes;
use crate::letterbox::free_text;
use crate::values::InvalidValue;

/// Oldest age, in whole years, a child in family finding can have.
pub const MAX_AGE_YEARS: u8 = 17;
/// Most children a sibling group or a family's offer can count.
pub const MAX_GROUP_SIZE: u8 = 8;
/// Most characters of a description or a household description.
pub const DESCRIPTION_MAX_CHARS: usize = 5_000;
/// Most characters of a note on one area of need.
pub const NEED_NOTE_MAX_CHARS: usize = 2_000;
/// Most characters of a child's first name or a household's name.
pub const NAME_MAX_CHARS: usize = 60;
/// Most characters of a religion as written.
pub const RELIGION_MAX_CHARS: usize = 100;

codes! {
    /// Whether a case is about children or about a family.
    CaseKind {
        Child => "child",
        Family => "family",
    }
}

codes! {
    /// A region of the United Kingdom, as family finding groups them.
    Region {
        NorthEast => "north_east",
        NorthWest => "north_west",
        YorkshireAndHumber => "yorkshire_and_humber",
        EastMidlands => "east_midlands",
        WestMidlands => "west_midlands",
        EastOfEngland => "east_of_england",
        London => "london",
        SouthEast => "south_east",
        SouthWest => "south_west",
        Wales => "wales",
        Scotland => "scotland",
        NorthernIreland => "northern_ireland",
    }
}

codes! {
    /// The court order or arrangement a child is looked after under.
    LegalStatus {
        PlacementOrder => "placement_order",
        CareOrder => "care_order",
        InterimCareOrder => "interim_care_order",
        Accommodated => "accommodated",
        Other => "other",
    }
}

codes! {
    /// The permanence plan a child needs a family for, and what a family is
    /// approved to offer.
    Plan {
        Adoption => "adoption",
        LongTermFostering => "long_term_fostering",
        ShortTermFostering => "short_term_fostering",
    }
}

codes! {
    /// How much support an area of need calls for, or the most a family
    /// can meet.
    NeedLevel {
        None => "none",
        Low => "low",
        Moderate => "moderate",
        High => "high",
    }
}

codes! {
    /// Ethnic group at the level of the five high-level census groups.
    Ethnicity {
        White => "white",
        Mixed => "mixed",
        Asian => "asian",
        Black => "black",
        Other => "other",
        NotRecorded => "not_recorded",
    }
}

impl NeedLevel {
    /// Returns the level as a number from 0 (none) to 3 (high), the form
    /// stored in the database so that searches can compare levels.
    pub fn rank(self) -> i16 {
        match self {
            NeedLevel::None => 0,
            NeedLevel::Low => 1,
            NeedLevel::Moderate => 2,
            NeedLevel::High => 3,
        }
    }

    /// Returns the level with this rank.
    pub fn from_rank(rank: i16) -> Option<NeedLevel> {
        NeedLevel::ALL
            .iter()
            .copied()
            .find(|level| level.rank() == rank)
    }
}

/// Levels in each area of need: what a child needs, or the most a family
/// can meet.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Needs {
    pub health: NeedLevel,
    pub development: NeedLevel,
    pub history: NeedLevel,
}

impl Needs {
    /// Returns each area's name with its level.
    pub fn areas(&self) -> [(&'static str, NeedLevel); 3] {
        [
            ("health", self.health),
            ("development", self.development),
            ("history", self.history),
        ]
    }
}

/// One child of a child case.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Child {
    pub first_name: String,
    pub age_years: u8,
}

/// A practitioner's notes on each area of need.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NeedNotes {
    pub health: String,
    pub development: String,
    pub history: String,
}

/// A child case as the child's practitioner writes it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildProfile {
    pub children: Vec<Child>,
    pub description: String,
    pub legal_status: LegalStatus,
    pub plan: Plan,
    pub region: Region,
    pub needs: Needs,
    #[serde(default)]
    pub need_notes: NeedNotes,
    pub ethnicity: Ethnicity,
    #[serde(default)]
    pub religion: String,
}

/// A family's offer: the children it can take and the needs it can meet.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub min_age: u8,
    pub max_age: u8,
    pub max_children: u8,
    pub needs: Needs,
}

/// A family case as the family's practitioner (or the family) writes it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyProfile {
    pub household_name: String,
    pub household_description: String,
    pub approved_for: Vec<Plan>,
    pub approval_date: NaiveDate,
    pub region: Region,
    pub ethnicity: Ethnicity,
    pub offer: Offer,
}

/// The coded part of a child case.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
pub struct ChildCodes {
    pub region: Region,
    pub legal_status: LegalStatus,
    pub plan: Plan,
    pub min_age: u8,
    pub max_age: u8,
    pub group_size: u8,
    pub needs: Needs,
    pub ethnicity: Ethnicity,
}

/// The coded part of a family case.
#[derive(Clone, PartialEq, Eq, Debug, Serialize)]
pub struct FamilyCodes {
    pub region: Region,
    pub approved_for: Vec<Plan>,
    pub offer: Offer,
    pub ethnicity: Ethnicity,
}

/// Returns whether a character shows nothing: white space, or a
/// zero-width or soft-hyphen character.
pub fn shows_nothing(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00ad}' | '\u{034f}' | '\u{180e}' | '\u{200b}'
                ..='\u{200d}' | '\u{2060}' | '\u{feff}'
        )
}

pub(crate) fn required_text(
    field: &'static str,
    text: &str,
    max_chars: usize,
) -> Result<(), InvalidValue> {
    if text.chars().all(shows_nothing) {
        return Err(InvalidValue::new(field, "must not be empty"));
    }
    free_text(field, text, max_chars)?;
    if max_chars == NAME_MAX_CHARS && text.contains(['\n', '\r', '\t']) {
        return Err(InvalidValue::new(field, "must be one line"));
    }
    Ok(())
}

/// Returns the earliest approval date accepted, which catches mistyped
/// years.
pub fn earliest_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN)
}

fn age(field: &'static str, years: u8) -> Result<(), InvalidValue> {
    if years > MAX_AGE_YEARS {
        return Err(InvalidValue::new(
            field,
            format!("{years} is over the maximum of {MAX_AGE_YEARS}"),
        ));
    }
    Ok(())
}

impl ChildProfile {
    /// Checks every field and returns the coded part.
    pub fn validate(&self) -> Result<ChildCodes, InvalidValue> {
        let size = self.children.len();
        if size == 0 {
            return Err(InvalidValue::new(
                "children",
                "must name at least one child",
            ));
        }
        if size > usize::from(MAX_GROUP_SIZE) {
            return Err(InvalidValue::new(
                "children",
                format!("{size} children is over the maximum of {MAX_GROUP_SIZE}"),
            ));
        }
        for (index, child) in self.children.iter().enumerate() {
            // The field does not identify the child, so the reason names it.
            let which = |invalid: InvalidValue| InvalidValue {
                field: invalid.field,
                reason: format!("child {} of {size}: {}", index + 1, invalid.reason),
            };
            required_text("children.first_name", &child.first_name, NAME_MAX_CHARS)
                .map_err(which)?;
            age("children.age_years", child.age_years).map_err(which)?;
        }
        required_text("description", &self.description, DESCRIPTION_MAX_CHARS)?;
        free_text(
            "need_notes.health",
            &self.need_notes.health,
            NEED_NOTE_MAX_CHARS,
        )?;
        free_text(
            "need_notes.development",
            &self.need_notes.development,
            NEED_NOTE_MAX_CHARS,
        )?;
        free_text(
            "need_notes.history",
            &self.need_notes.history,
            NEED_NOTE_MAX_CHARS,
        )?;
        free_text("religion", &self.religion, RELIGION_MAX_CHARS)?;
        let ages = self.children.iter().map(|child| child.age_years);
        Ok(ChildCodes {
            region: self.region,
            legal_status: self.legal_status,
            plan: self.plan,
            min_age: ages.clone().min().unwrap_or(0),
            max_age: ages.max().unwrap_or(0),
            group_size: size as u8,
            needs: self.needs,
            ethnicity: self.ethnicity,
        })
    }
}

impl FamilyProfile {
    /// Checks every field against `today` (an approval cannot be dated in
    /// the future) and returns the coded part.
    pub fn validate(&self, today: NaiveDate) -> Result<FamilyCodes, InvalidValue> {
        required_text("household_name", &self.household_name, NAME_MAX_CHARS)?;
        required_text(
            "household_description",
            &self.household_description,
            DESCRIPTION_MAX_CHARS,
        )?;
        if self.approved_for.is_empty() {
            return Err(InvalidValue::new(
                "approved_for",
                "must name at least one plan",
            ));
        }
        let mut approved_for = self.approved_for.clone();
        approved_for.sort();
        approved_for.dedup();
        if approved_for.len() != self.approved_for.len() {
            return Err(InvalidValue::new("approved_for", "names a plan twice"));
        }
        if self.approval_date > today {
            return Err(InvalidValue::new(
                "approval_date",
                "must not be in the future",
            ));
        }
        if self.approval_date < earliest_date() {
            return Err(InvalidValue::new(
                "approval_date",
                "must be in 1900 or later",
            ));
        }
        let offer = &self.offer;
        age("offer.min_age", offer.min_age)?;
        age("offer.max_age", offer.max_age)?;
        if offer.min_age > offer.max_age {
            return Err(InvalidValue::new(
                "offer.min_age",
                format!("{} is above offer.max_age {}", offer.min_age, offer.max_age),
            ));
        }
        if offer.max_children == 0 || offer.max_children > MAX_GROUP_SIZE {
            return Err(InvalidValue::new(
                "offer.max_children",
                format!("must be from 1 to {MAX_GROUP_SIZE}"),
            ));
        }
        Ok(FamilyCodes {
            region: self.region,
            approved_for,
            offer: self.offer,
            ethnicity: self.ethnicity,
        })
    }
}

/// The age bands that statistics count waiting children in, youngest
/// first, with the oldest age each band holds.
pub const AGE_BANDS: [(&str, u8); 5] = [
    ("under_1", 0),
    ("1_to_4", 4),
    ("5_to_9", 9),
    ("10_to_15", 15),
    ("16_to_17", MAX_AGE_YEARS),
];

/// Returns the age band of an age in whole years.
pub fn age_band(years: u8) -> &'static str {
    AGE_BANDS
        .iter()
        .find(|(_, oldest)| years <= *oldest)
        .map_or(AGE_BANDS[AGE_BANDS.len() - 1].0, |(band, _)| band)
}

/// Encodes a family's approved plans for a text column: codes joined by
/// commas, in sorted order.
pub fn encode_plans(plans: &[Plan]) -> String {
    let mut codes: Vec<&str> = plans.iter().map(|plan| plan.as_str()).collect();
    codes.sort_unstable();
    codes.join(",")
}

/// Decodes a column written by [`encode_plans`], skipping unknown codes.
pub fn decode_plans(column: &str) -> Vec<Plan> {
    column.split(',').filter_map(Plan::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(level: NeedLevel) -> Needs {
        Needs {
            health: level,
            development: level,
            history: level,
        }
    }

    fn siblings() -> ChildProfile {
        ChildProfile {
            children: vec![
                Child {
                    first_name: "Ada".into(),
                    age_years: 3,
                },
                Child {
                    first_name: "Ben".into(),
                    age_years: 6,
                },
            ],
            description: "Two lively siblings.".into(),
            legal_status: LegalStatus::PlacementOrder,
            plan: Plan::Adoption,
            region: Region::NorthWest,
            needs: needs(NeedLevel::Low),
            need_notes: NeedNotes::default(),
            ethnicity: Ethnicity::Mixed,
            religion: String::new(),
        }
    }

    fn family() -> FamilyProfile {
        FamilyProfile {
            household_name: "The Okafors".into(),
            household_description: "A couple with a dog.".into(),
            approved_for: vec![Plan::Adoption],
            approval_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            region: Region::NorthWest,
            ethnicity: Ethnicity::Black,
            offer: Offer {
                min_age: 0,
                max_age: 8,
                max_children: 2,
                needs: needs(NeedLevel::Moderate),
            },
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 5).unwrap()
    }

    #[test]
    fn child_codes_span_the_group() {
        let codes = siblings().validate().unwrap();
        assert_eq!(codes.min_age, 3);
        assert_eq!(codes.max_age, 6);
        assert_eq!(codes.group_size, 2);
    }

    #[test]
    fn child_profile_rejects_bad_fields() {
        let mut empty = siblings();
        empty.children.clear();
        assert_eq!(empty.validate().unwrap_err().field, "children");

        let mut old = siblings();
        old.children[1].age_years = 18;
        let error = old.validate().unwrap_err();
        assert_eq!(error.field, "children.age_years");
        assert!(
            error.reason.starts_with("child 2 of 2: "),
            "{}",
            error.reason
        );

        let mut blank = siblings();
        blank.description = "  ".into();
        assert_eq!(blank.validate().unwrap_err().field, "description");

        let mut invisible = siblings();
        invisible.children[0].first_name = "\u{200b}\u{feff}".into();
        assert_eq!(
            invisible.validate().unwrap_err().field,
            "children.first_name"
        );

        let mut two_lines = siblings();
        two_lines.children[0].first_name = "Ada\nBen".into();
        assert_eq!(
            two_lines.validate().unwrap_err().field,
            "children.first_name"
        );

        let mut crowd = siblings();
        crowd.children = vec![crowd.children[0].clone(); 9];
        assert_eq!(crowd.validate().unwrap_err().field, "children");
    }

    #[test]
    fn family_profile_rejects_bad_fields() {
        let mut reversed = family();
        reversed.offer.min_age = 9;
        assert_eq!(
            reversed.validate(today()).unwrap_err().field,
            "offer.min_age"
        );

        let mut future = family();
        future.approval_date = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(future.validate(today()).unwrap_err().field, "approval_date");

        let mut ancient = family();
        ancient.approval_date = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        assert_eq!(
            ancient.validate(today()).unwrap_err().field,
            "approval_date"
        );

        let mut twice = family();
        twice.approved_for = vec![Plan::Adoption, Plan::Adoption];
        assert_eq!(twice.validate(today()).unwrap_err().field, "approved_for");

        let mut none = family();
        none.offer.max_children = 0;
        assert_eq!(
            none.validate(today()).unwrap_err().field,
            "offer.max_children"
        );
    }

    #[test]
    fn plans_round_trip_through_column() {
        let plans = vec![Plan::ShortTermFostering, Plan::Adoption];
        let column = encode_plans(&plans);
        assert_eq!(column, "adoption,short_term_fostering");
        assert_eq!(
            decode_plans(&column),
            vec![Plan::Adoption, Plan::ShortTermFostering]
        );
    }

    #[test]
    fn ages_fall_in_bands() {
        assert_eq!(age_band(0), "under_1");
        assert_eq!(age_band(1), "1_to_4");
        assert_eq!(age_band(4), "1_to_4");
        assert_eq!(age_band(5), "5_to_9");
        assert_eq!(age_band(15), "10_to_15");
        assert_eq!(age_band(17), "16_to_17");
    }

    #[test]
    fn codes_parse_what_they_print() {
        for region in Region::ALL {
            assert_eq!(Region::parse(region.as_str()), Some(*region));
        }
        for level in NeedLevel::ALL {
            assert_eq!(NeedLevel::from_rank(level.rank()), Some(*level));
        }
        assert_eq!(Region::parse("atlantis"), None);
    }
}
