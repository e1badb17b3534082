//! Letterbox contact: the agreement that governs a contact link and the
//! life of a letter through review.
//!
//! A contact agreement says who the parties are and on which side, when
//! letters are due, what each side may attach, how closely letters are
//! reviewed, who sees read receipts and which terms (the adoptive surname,
//! the child's new name, school, town) a letter must not carry. A letter
//! moves from draft through review to release; [`LetterStatus::next`] is
//! the one place that says which moves are allowed.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::identifying::ProtectedTerm;
use crate::values::InvalidValue;

/// Longest protected term, in characters.
pub const TERM_MAX_CHARS: usize = 100;
/// Most protected terms in one agreement.
pub const MAX_TERMS: usize = 50;
/// Maximum length of the reason for suspending or ending a link, in characters.
pub const STATUS_REASON_MAX_CHARS: usize = 1_000;
/// Maximum length of the reason for returning or holding a letter, in characters.
pub const DECISION_REASON_MAX_CHARS: usize = 2_000;
/// Largest letter text, in bytes.
pub const LETTER_MAX_BYTES: usize = 50_000;

/// The family a party belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The child's adoptive family.
    Adoptive,
    /// The child's birth family, siblings placed elsewhere included.
    Birth,
}

impl Side {
    /// Returns the stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Adoptive => "adoptive",
            Side::Birth => "birth",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Side> {
        match name {
            "adoptive" => Some(Side::Adoptive),
            "birth" => Some(Side::Birth),
            _ => None,
        }
    }

    /// Returns the other family.
    pub fn other(self) -> Side {
        match self {
            Side::Adoptive => Side::Birth,
            Side::Birth => Side::Adoptive,
        }
    }
}

/// A party's relationship to the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartyRelationship {
    /// A birth parent.
    Parent,
    /// A birth grandparent.
    Grandparent,
    /// A birth brother or sister living with the birth family.
    Sibling,
    /// A brother or sister placed with another family.
    SiblingPlacedElsewhere,
    /// A birth aunt or uncle.
    AuntOrUncle,
    /// Another birth relative.
    OtherRelative,
    /// An adoptive parent.
    AdoptiveParent,
    /// The adopted child, once old enough to write.
    AdoptedChild,
}

impl PartyRelationship {
    /// All relationships, in a fixed order.
    pub const ALL: [PartyRelationship; 8] = [
        PartyRelationship::Parent,
        PartyRelationship::Grandparent,
        PartyRelationship::Sibling,
        PartyRelationship::SiblingPlacedElsewhere,
        PartyRelationship::AuntOrUncle,
        PartyRelationship::OtherRelative,
        PartyRelationship::AdoptiveParent,
        PartyRelationship::AdoptedChild,
    ];

    /// Returns the stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            PartyRelationship::Parent => "parent",
            PartyRelationship::Grandparent => "grandparent",
            PartyRelationship::Sibling => "sibling",
            PartyRelationship::SiblingPlacedElsewhere => "sibling_placed_elsewhere",
            PartyRelationship::AuntOrUncle => "aunt_or_uncle",
            PartyRelationship::OtherRelative => "other_relative",
            PartyRelationship::AdoptiveParent => "adoptive_parent",
            PartyRelationship::AdoptedChild => "adopted_child",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<PartyRelationship> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// Returns the side this relationship belongs to.
    pub fn side(self) -> Side {
        match self {
            PartyRelationship::AdoptiveParent | PartyRelationship::AdoptedChild => Side::Adoptive,
            _ => Side::Birth,
        }
    }
}

/// The level of review a practitioner gives letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewLevel {
    /// Every letter waits for a practitioner.
    EveryItem,
    /// Each side's letters wait until one of them has been released.
    FirstExchange,
    /// A submitted letter is released at once.
    None,
}

impl ReviewLevel {
    /// Returns the stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewLevel::EveryItem => "every_item",
            ReviewLevel::FirstExchange => "first_exchange",
            ReviewLevel::None => "none",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<ReviewLevel> {
        match name {
            "every_item" => Some(ReviewLevel::EveryItem),
            "first_exchange" => Some(ReviewLevel::FirstExchange),
            "none" => Some(ReviewLevel::None),
            _ => None,
        }
    }

    /// Returns whether a letter just submitted waits for review, given
    /// whether its writer's side already has a released letter.
    pub fn needs_review(self, side_has_released: bool) -> bool {
        match self {
            ReviewLevel::EveryItem => true,
            ReviewLevel::FirstExchange => !side_has_released,
            ReviewLevel::None => false,
        }
    }
}

/// Who sees when a letter was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadReceipts {
    /// The writer and the practitioners.
    Everyone,
    /// The practitioners only.
    Practitioners,
}

impl ReadReceipts {
    /// Returns the stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadReceipts::Everyone => "everyone",
            ReadReceipts::Practitioners => "practitioners",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<ReadReceipts> {
        match name {
            "everyone" => Some(ReadReceipts::Everyone),
            "practitioners" => Some(ReadReceipts::Practitioners),
            _ => None,
        }
    }
}

/// Whether a contact link is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkStatus {
    /// Letters are written and exchanged.
    Active,
    /// Paused by the practitioner: nothing new is written or submitted.
    Suspended,
    /// Closed for good; what was exchanged stays readable.
    Ended,
}

impl LinkStatus {
    /// Returns the stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkStatus::Active => "active",
            LinkStatus::Suspended => "suspended",
            LinkStatus::Ended => "ended",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<LinkStatus> {
        match name {
            "active" => Some(LinkStatus::Active),
            "suspended" => Some(LinkStatus::Suspended),
            "ended" => Some(LinkStatus::Ended),
            _ => None,
        }
    }

    /// Checks a change of status and its reason: suspending and ending need
    /// a reason, and an ended link stays ended. Returns the trimmed reason.
    pub fn change(
        self,
        to: LinkStatus,
        reason: Option<&str>,
    ) -> Result<Option<String>, StatusChangeError> {
        if self == LinkStatus::Ended {
            return Err(StatusChangeError::Ended);
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if let Some(reason) = reason {
            free_text("reason", reason, STATUS_REASON_MAX_CHARS)
                .map_err(StatusChangeError::Invalid)?;
        }
        match (to, reason) {
            (LinkStatus::Active, reason) => Ok(reason.map(str::to_owned)),
            (_, Some(reason)) => Ok(Some(reason.to_owned())),
            (_, None) => Err(StatusChangeError::Invalid(InvalidValue::new(
                "reason",
                format!(
                    "a reason is needed to make a link {}: the parties see it",
                    to.as_str()
                ),
            ))),
        }
    }
}

/// The parts of a contact link's agreement that decide whether a live
/// message may be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveTerms {
    pub status: LinkStatus,
    /// Whether the practitioner lets the families message each other live.
    pub live_messages: bool,
}

/// The reason a live message is rejected in a contact link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveRejection {
    /// The link is suspended or ended: nothing new is sent.
    Closed,
    /// The families exchange letters only, which a practitioner reviews.
    LettersOnly,
}

/// Decides whether a member may send a live message. Live messages reach
/// the other family with no review. So in a contact link, a family member
/// may send one only under an active agreement that allows them, and staff
/// only while the link is active. Other conversations have no agreement.
pub fn live_message_gate(
    contact_link: bool,
    agreement: Option<LiveTerms>,
    family: bool,
) -> Result<(), LiveRejection> {
    if !contact_link {
        return Ok(());
    }
    match agreement {
        Some(terms) if terms.status != LinkStatus::Active => Err(LiveRejection::Closed),
        Some(terms) if terms.live_messages || !family => Ok(()),
        None if !family => Ok(()),
        _ => Err(LiveRejection::LettersOnly),
    }
}

/// Shortest video call an agreement may set, in minutes.
pub const MIN_CALL_MINUTES: u32 = 5;

/// Checks the length of video calls that an agreement sets, in minutes:
/// from [`MIN_CALL_MINUTES`] to `max`, the longest call the server allows.
/// Returns it as stored.
pub fn call_minutes(minutes: i64, max: u32) -> Result<i32, InvalidValue> {
    let allowed = i64::from(MIN_CALL_MINUTES)..=i64::from(max);
    match i32::try_from(minutes) {
        Ok(stored) if allowed.contains(&minutes) => Ok(stored),
        _ => Err(InvalidValue::new(
            "call_minutes",
            format!(
                "{minutes} minutes is outside {MIN_CALL_MINUTES} to {max}, \
                 the call lengths this server allows"
            ),
        )),
    }
}

/// The reason a requested change of a contact link's status is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusChangeError {
    /// The link has ended; that is final.
    #[error("the contact link has ended and cannot change")]
    Ended,
    /// The reason is missing or too long.
    #[error(transparent)]
    Invalid(InvalidValue),
}

/// One exchange of the year: the day, the month and the side that writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// Month of the year, 1 to 12.
    pub month: u32,
    /// Day of the month, 1 to 28, so that every month has it.
    #[serde(default = "first_day")]
    pub day: u32,
    /// The side whose turn it is to write.
    pub from: Side,
}

fn first_day() -> u32 {
    1
}

/// The last day of the month an exchange may fall on.
pub const LAST_EXCHANGE_DAY: u32 = 28;

/// When letters are due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Exchanges happen when a party asks instead of on dates.
    pub on_request: bool,
    /// The exchanges of each year, ordered by month.
    pub exchanges: Vec<Exchange>,
}

impl Schedule {
    /// Checks months and repeats, and orders the exchanges by month.
    pub fn validated(mut self) -> Result<Schedule, InvalidValue> {
        if self.on_request && !self.exchanges.is_empty() {
            return Err(InvalidValue::new(
                "schedule",
                "an on-request schedule lists no exchanges",
            ));
        }
        if !self.on_request && self.exchanges.is_empty() {
            return Err(InvalidValue::new(
                "schedule",
                "list at least one exchange, or set on_request",
            ));
        }
        let mut seen = HashSet::new();
        for exchange in &self.exchanges {
            if !(1..=12).contains(&exchange.month) {
                return Err(InvalidValue::new(
                    "schedule",
                    format!("month {} is not between 1 and 12", exchange.month),
                ));
            }
            if !(1..=LAST_EXCHANGE_DAY).contains(&exchange.day) {
                return Err(InvalidValue::new(
                    "schedule",
                    format!(
                        "day {} is not between 1 and {LAST_EXCHANGE_DAY}",
                        exchange.day
                    ),
                ));
            }
            if !seen.insert((exchange.month, exchange.from)) {
                return Err(InvalidValue::new(
                    "schedule",
                    format!(
                        "month {} is listed twice for the {} side",
                        exchange.month,
                        exchange.from.as_str()
                    ),
                ));
            }
        }
        self.exchanges
            .sort_by_key(|e| (e.month, e.day, e.from.as_str()));
        Ok(self)
    }
}

/// Checks the case's protected terms: trimmed, 1 to [`TERM_MAX_CHARS`]
/// characters, at most [`MAX_TERMS`], none twice.
pub fn validate_terms(terms: Vec<ProtectedTerm>) -> Result<Vec<ProtectedTerm>, InvalidValue> {
    if terms.len() > MAX_TERMS {
        return Err(InvalidValue::new(
            "protected_terms",
            format!("{} terms is over the limit of {MAX_TERMS}", terms.len()),
        ));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(terms.len());
    for (index, term) in terms.into_iter().enumerate() {
        let text = term.text.trim();
        let chars = text.chars().count();
        if chars == 0 || chars > TERM_MAX_CHARS {
            return Err(InvalidValue::new(
                "protected_terms",
                format!("term {index} must have 1 to {TERM_MAX_CHARS} characters"),
            ));
        }
        if text.chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "protected_terms",
                format!("term {index} contains a control character"),
            ));
        }
        if !seen.insert(text.to_lowercase()) {
            return Err(InvalidValue::new(
                "protected_terms",
                format!("term {index} is listed twice"),
            ));
        }
        out.push(ProtectedTerm {
            kind: term.kind,
            text: text.to_owned(),
        });
    }
    Ok(out)
}

/// The stage a letter has reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LetterStatus {
    /// Being written; only the writer sees it.
    Draft,
    /// Waiting for a practitioner.
    Submitted,
    /// Sent back to the writer with a reason, for amendment.
    Returned,
    /// Kept on file with a reason; not passed on.
    Held,
    /// Delivered to the other side. Final.
    Released,
}

/// Something that moves a letter on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterStep {
    /// The writer saves an edit.
    Edit,
    /// The writer submits.
    Submit,
    /// A practitioner releases it.
    Release,
    /// A practitioner returns it for amendment.
    Return,
    /// A practitioner holds it on file.
    Hold,
}

impl LetterStatus {
    /// Returns the stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            LetterStatus::Draft => "draft",
            LetterStatus::Submitted => "submitted",
            LetterStatus::Returned => "returned",
            LetterStatus::Held => "held",
            LetterStatus::Released => "released",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<LetterStatus> {
        match name {
            "draft" => Some(LetterStatus::Draft),
            "submitted" => Some(LetterStatus::Submitted),
            "returned" => Some(LetterStatus::Returned),
            "held" => Some(LetterStatus::Held),
            "released" => Some(LetterStatus::Released),
            _ => None,
        }
    }

    /// Returns the status a step leads to, or `None` when the step does
    /// not apply in this status. A submitted letter that needs no review
    /// is released by the caller in the same write.
    pub fn next(self, step: LetterStep) -> Option<LetterStatus> {
        use LetterStatus::*;
        match (self, step) {
            (Draft | Returned, LetterStep::Edit) => Some(self),
            (Draft | Returned, LetterStep::Submit) => Some(Submitted),
            (Submitted, LetterStep::Release) => Some(Released),
            (Submitted, LetterStep::Return) => Some(Returned),
            (Submitted, LetterStep::Hold) => Some(Held),
            _ => None,
        }
    }

    /// Returns whether anyone but the writer may see the letter.
    pub fn seen_by_practitioners(self) -> bool {
        self != LetterStatus::Draft
    }
}

/// Checks a practitioner's reason for returning or holding a letter.
pub fn decision_reason(reason: Option<&str>) -> Result<String, InvalidValue> {
    let reason = reason.map(str::trim).unwrap_or("");
    if reason.is_empty() {
        return Err(InvalidValue::new(
            "reason",
            "a reason is needed: the writer sees it",
        ));
    }
    free_text("reason", reason, DECISION_REASON_MAX_CHARS)?;
    Ok(reason.to_owned())
}

/// Checks a letter's text: at most [`LETTER_MAX_BYTES`], and no control
/// character other than line breaks and tabs. Nor any character that
/// reorders the text it encloses (bidirectional embeddings, overrides and
/// isolates), which could show the reader a word the check never read,
/// such as a protected surname written backwards inside an override. The
/// marks that set the direction of a single position (U+200E, U+200F),
/// which right-to-left writing needs, are allowed.
pub fn letter_body(text: &str) -> Result<(), InvalidValue> {
    if text.len() > LETTER_MAX_BYTES {
        return Err(InvalidValue::new(
            "body",
            format!(
                "{} bytes is over the limit of {LETTER_MAX_BYTES} bytes",
                text.len()
            ),
        ));
    }
    let hidden = |c: char| {
        (c.is_control() && c != '\n' && c != '\r' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if let Some(found) = text.chars().find(|c| hidden(*c)) {
        return Err(InvalidValue::new(
            "body",
            format!(
                "contains the control character U+{:04X}; remove it and save again",
                u32::from(found)
            ),
        ));
    }
    Ok(())
}

/// Checks a practitioner's free text (a reason, a case note): at most
/// `max_chars` characters, and no control or direction-changing characters
/// other than line breaks and tabs, which could hide or reorder what the
/// reader sees.
pub fn free_text(field: &'static str, text: &str, max_chars: usize) -> Result<(), InvalidValue> {
    let count = text.chars().count();
    if count > max_chars {
        return Err(InvalidValue::new(
            field,
            format!("{count} characters is over the limit of {max_chars}"),
        ));
    }
    let hidden = |c: char| {
        (c.is_control() && c != '\n' && c != '\r' && c != '\t')
            || matches!(
                c,
                '\u{061c}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{2028}'
                    | '\u{2029}'
                    | '\u{202a}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
            )
    };
    if let Some(found) = text.chars().find(|c| hidden(*c)) {
        return Err(InvalidValue::new(
            field,
            format!("contains the control character U+{:04X}", u32::from(found)),
        ));
    }
    Ok(())
}

/// Converts a byte offset in `text` into a count of UTF-16 code units,
/// the unit JavaScript strings index by.
pub fn utf16_offset(text: &str, byte_offset: usize) -> usize {
    Utf16Offsets::new(text).of(byte_offset)
}

/// The UTF-16 offset of every byte offset of one text, counted once, so
/// that converting many offsets costs one pass over the text.
pub struct Utf16Offsets {
    /// For each byte offset, the UTF-16 code units before it; a byte
    /// inside a character maps to the character's start.
    units: Vec<usize>,
}

impl Utf16Offsets {
    /// Counts the offsets of `text`.
    pub fn new(text: &str) -> Utf16Offsets {
        let mut units = Vec::with_capacity(text.len() + 1);
        let mut count = 0;
        for character in text.chars() {
            for _ in 0..character.len_utf8() {
                units.push(count);
            }
            count += character.len_utf16();
        }
        units.push(count);
        Utf16Offsets { units }
    }

    /// Returns the UTF-16 offset of `byte_offset`; past the end, the length.
    pub fn of(&self, byte_offset: usize) -> usize {
        let last = self.units.len() - 1;
        self.units[byte_offset.min(last)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifying::TermKind;

    #[test]
    fn call_minutes_within_server_limit() {
        assert_eq!(call_minutes(5, 90), Ok(5));
        assert_eq!(call_minutes(90, 90), Ok(90));
        for rejected in [4, 91, 0, -5, i64::from(u32::MAX) + 5] {
            let error = call_minutes(rejected, 90).expect_err("out of range");
            assert_eq!(error.field, "call_minutes");
            assert!(error.reason.contains("5 to 90"), "{error:?}");
        }
    }

    #[test]
    fn letter_body_rejects_reordering_and_control_characters() {
        let accepted = [
            "Dear Alex,\r\n\tWe hope you are well.",
            "\u{200f}\u{0645}\u{0631}\u{062d}\u{0628}\u{0627}",
            "",
        ];
        for text in accepted {
            assert_eq!(letter_body(text), Ok(()), "{text:?}");
        }
        let rejected = [
            ("\u{202e}retraC\u{202c}", 0x202e),
            ("a\u{2066}b\u{2069}", 0x2066),
            ("bell\u{7}", 0x7),
            ("nul\u{0}", 0x0),
        ];
        for (text, code) in rejected {
            let error = letter_body(text).expect_err(text);
            assert_eq!(error.field, "body");
            assert!(
                error.reason.contains(&format!("U+{code:04X}")),
                "{text:?}: {error:?}"
            );
        }
        let long = "a".repeat(LETTER_MAX_BYTES + 1);
        assert!(letter_body(&long).is_err());
    }

    #[test]
    fn live_messages_follow_the_agreement() {
        let terms = |status, live_messages| {
            Some(LiveTerms {
                status,
                live_messages,
            })
        };
        let active_off = terms(LinkStatus::Active, false);
        let active_on = terms(LinkStatus::Active, true);
        let suspended_on = terms(LinkStatus::Suspended, true);
        let ended_off = terms(LinkStatus::Ended, false);
        let rows = [
            // (contact link, agreement, family, outcome)
            (false, None, true, Ok(())),
            (false, None, false, Ok(())),
            (true, None, true, Err(LiveRejection::LettersOnly)),
            (true, None, false, Ok(())),
            (true, active_off, true, Err(LiveRejection::LettersOnly)),
            (true, active_off, false, Ok(())),
            (true, active_on, true, Ok(())),
            (true, active_on, false, Ok(())),
            (true, suspended_on, true, Err(LiveRejection::Closed)),
            (true, suspended_on, false, Err(LiveRejection::Closed)),
            (true, ended_off, true, Err(LiveRejection::Closed)),
            (true, ended_off, false, Err(LiveRejection::Closed)),
        ];
        for (contact_link, agreement, family, expected) in rows {
            assert_eq!(
                live_message_gate(contact_link, agreement, family),
                expected,
                "contact link {contact_link}, {agreement:?}, family {family}"
            );
        }
    }

    #[test]
    fn letter_moves_only_along_the_review_path() {
        use LetterStatus::*;
        use LetterStep::*;
        assert_eq!(Draft.next(Submit), Some(Submitted));
        assert_eq!(Returned.next(Edit), Some(Returned));
        assert_eq!(Returned.next(Submit), Some(Submitted));
        assert_eq!(Submitted.next(Return), Some(Returned));
        assert_eq!(Submitted.next(Hold), Some(Held));
        assert_eq!(Submitted.next(Release), Some(Released));
        for step in [Edit, Submit, Release, Return, Hold] {
            assert_eq!(Released.next(step), None, "released then {step:?}");
            assert_eq!(Held.next(step), None, "held then {step:?}");
        }
        assert_eq!(Submitted.next(Edit), None);
        assert_eq!(Draft.next(Release), None);
    }

    #[test]
    fn review_level_decides_who_waits() {
        assert!(ReviewLevel::EveryItem.needs_review(true));
        assert!(ReviewLevel::FirstExchange.needs_review(false));
        assert!(!ReviewLevel::FirstExchange.needs_review(true));
        assert!(!ReviewLevel::None.needs_review(false));
    }

    #[test]
    fn suspending_needs_a_reason_and_ending_is_final() {
        let missing = LinkStatus::Active.change(LinkStatus::Suspended, Some("  "));
        assert!(matches!(missing, Err(StatusChangeError::Invalid(v)) if v.field == "reason"));
        assert_eq!(
            LinkStatus::Active.change(LinkStatus::Ended, Some(" Court order ")),
            Ok(Some("Court order".to_owned()))
        );
        assert_eq!(
            LinkStatus::Suspended.change(LinkStatus::Active, None),
            Ok(None)
        );
        assert_eq!(
            LinkStatus::Ended.change(LinkStatus::Active, Some("reopen")),
            Err(StatusChangeError::Ended)
        );
        let long = "x".repeat(STATUS_REASON_MAX_CHARS + 1);
        assert!(
            LinkStatus::Active
                .change(LinkStatus::Suspended, Some(&long))
                .is_err()
        );
    }

    #[test]
    fn schedule_rejects_bad_months_and_repeats() {
        let schedule = |on_request, exchanges: &[(u32, Side)]| Schedule {
            on_request,
            exchanges: exchanges
                .iter()
                .map(|&(month, from)| Exchange {
                    month,
                    day: 1,
                    from,
                })
                .collect(),
        };
        let ok = schedule(false, &[(9, Side::Birth), (3, Side::Adoptive)])
            .validated()
            .unwrap();
        assert_eq!(ok.exchanges[0].month, 3);
        assert!(schedule(false, &[(13, Side::Birth)]).validated().is_err());
        assert!(schedule(false, &[(0, Side::Birth)]).validated().is_err());
        assert!(
            schedule(false, &[(3, Side::Birth), (3, Side::Birth)])
                .validated()
                .is_err()
        );
        assert!(
            schedule(false, &[(3, Side::Birth), (3, Side::Adoptive)])
                .validated()
                .is_ok()
        );
        assert!(schedule(false, &[]).validated().is_err());
        assert!(schedule(true, &[]).validated().is_ok());
        assert!(schedule(true, &[(3, Side::Birth)]).validated().is_err());
        let mut late = schedule(false, &[(2, Side::Birth)]);
        late.exchanges[0].day = 29;
        assert!(late.validated().is_err());
    }

    #[test]
    fn terms_are_trimmed_bounded_and_unique() {
        let term = |text: &str| ProtectedTerm {
            kind: TermKind::Surname,
            text: text.to_owned(),
        };
        let ok = validate_terms(vec![term(" Carter "), term("Oakfield")]).unwrap();
        assert_eq!(ok[0].text, "Carter");
        assert!(validate_terms(vec![term("Carter"), term("carter")]).is_err());
        assert!(validate_terms(vec![term("  ")]).is_err());
        assert!(validate_terms(vec![term(&"a".repeat(TERM_MAX_CHARS + 1))]).is_err());
        assert!(validate_terms(vec![term("a\nb")]).is_err());
        let many = (0..=MAX_TERMS).map(|i| term(&format!("t{i}"))).collect();
        assert!(validate_terms(many).is_err());
    }

    #[test]
    fn reasons_are_required_and_bounded() {
        assert!(decision_reason(None).is_err());
        assert!(decision_reason(Some(" ")).is_err());
        assert_eq!(decision_reason(Some(" ok ")).unwrap(), "ok");
        let long = "x".repeat(DECISION_REASON_MAX_CHARS + 1);
        assert!(decision_reason(Some(&long)).is_err());
        assert!(decision_reason(Some("two\nlines")).is_ok());
        for hidden in ["a\0b", "a\u{1b}[31mb", "a\u{202e}b"] {
            let error = decision_reason(Some(hidden)).unwrap_err();
            assert_eq!(error.field, "reason", "{hidden:?}");
        }
    }

    #[test]
    fn offsets_count_utf16_units() {
        let text = "Née 😀 LS6 2AB";
        let byte = text.find("LS6").unwrap();
        assert_eq!(utf16_offset(text, byte), 7);
        assert_eq!(utf16_offset(text, text.len()), text.encode_utf16().count());
        let offsets = Utf16Offsets::new(text);
        let inside_emoji = text.find('😀').unwrap() + 1;
        assert_eq!(
            offsets.of(inside_emoji),
            4,
            "a byte inside a character maps to its start"
        );
        assert_eq!(offsets.of(usize::MAX), text.encode_utf16().count());
    }

    #[test]
    fn relationships_belong_to_one_side() {
        for relationship in PartyRelationship::ALL {
            assert_eq!(
                PartyRelationship::parse(relationship.as_str()),
                Some(relationship)
            );
        }
        assert_eq!(
            PartyRelationship::SiblingPlacedElsewhere.side(),
            Side::Birth
        );
        assert_eq!(PartyRelationship::AdoptedChild.side(), Side::Adoptive);
    }
}
