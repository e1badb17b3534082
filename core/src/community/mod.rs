//! The community support network: the states and codes of membership,
//! groups, posts and moderation, the checks on what members write, the
//! reading of a partner's membership list, and the retention rules of
//! community data.
//!
//! Community data is kept apart from case data: nothing here refers to
//! organisations' cases or contact links.

mod membership_list;
pub mod retention;

pub use membership_list::{ListEntry, MAX_LIST_BYTES, parse_membership_list};

use crate::codes;
use crate::letterbox::free_text;
use crate::values::{DisplayName, InvalidValue};

/// The version of the acceptable-use rules members accept before their
/// first post. Members accept again after it is raised.
pub const RULES_VERSION: i32 = 1;
/// Maximum characters in a community display name.
pub const DISPLAY_NAME_MAX_CHARS: usize = 40;
/// Maximum characters in a topic's title.
pub const TITLE_MAX_CHARS: usize = 150;
/// Maximum characters in a post.
pub const BODY_MAX_CHARS: usize = 10_000;
/// Maximum characters in a profile field, a report or a moderator's reason.
pub const SHORT_TEXT_MAX_CHARS: usize = 500;
/// Maximum characters in a group's name.
pub const GROUP_NAME_MAX_CHARS: usize = 80;
/// Maximum characters in a membership number.
pub const MEMBERSHIP_NUMBER_MAX_CHARS: usize = 40;
/// Posts and replies one member may write in a minute.
pub const POSTS_PER_MINUTE: u64 = 10;
/// Maximum length of a suspension, in days.
pub const MAX_SUSPENSION_DAYS: i64 = 365;

codes! {
    /// The state of a person's membership of the community.
    MembershipState {
        /// Waiting for a moderator.
        Applied => "applied",
        /// Verified.
        Active => "active",
        /// Turned down, with a reason.
        Rejected => "rejected",
    }
}

codes! {
    /// The way an active membership was verified.
    VerifiedHow {
        /// The partner's uploaded membership list had the number and email.
        List => "list",
        /// A moderator verified the applicant.
        Hand => "hand",
    }
}

codes! {
    /// The legal footing of a member's placement, as they choose to say it.
    LegalStatus {
        Fostering => "fostering",
        PlacementOrder => "placement_order",
        AdoptionOrder => "adoption_order",
        SpecialGuardianshipOrder => "special_guardianship_order",
        KinshipCare => "kinship_care",
        Other => "other",
    }
}

codes! {
    /// The rule for reading a group's topics.
    GroupJoin {
        /// Every member.
        Open => "open",
        /// Members a moderator let in.
        Approval => "approval",
    }
}

codes! {
    /// A member's place in a group.
    GroupMembership {
        /// Asked to join an approval group.
        Requested => "requested",
        /// In the group.
        Member => "member",
    }
}

codes! {
    /// Whether a post is shown.
    PostState {
        Visible => "visible",
        /// Shown only to its author and moderators, with the reason.
        Hidden => "hidden",
        /// Its text is deleted, and the author is shown the reason.
        Removed => "removed",
    }
}

codes! {
    /// A moderator's action on a post.
    PostAction {
        Hide => "hide",
        Remove => "remove",
        Restore => "restore",
    }
}

codes! {
    /// A moderator's action on a member.
    MemberAction {
        Warn => "warn",
        Suspend => "suspend",
        Lift => "lift",
    }
}

codes! {
    /// A moderation decision as its subject is notified of it.
    NoticeKind {
        Warning => "warning",
        Suspension => "suspension",
        SuspensionLifted => "suspension_lifted",
        PostHidden => "post_hidden",
        PostRemoved => "post_removed",
        PostRestored => "post_restored",
        ConcernRaised => "concern_raised",
    }
}

impl PostAction {
    /// Returns the state a post is left in, and the notice its author gets.
    pub fn outcome(self) -> (PostState, NoticeKind) {
        match self {
            PostAction::Hide => (PostState::Hidden, NoticeKind::PostHidden),
            PostAction::Remove => (PostState::Removed, NoticeKind::PostRemoved),
            PostAction::Restore => (PostState::Visible, NoticeKind::PostRestored),
        }
    }
}

/// Checks a community display name: a display name of at most 40
/// characters on one line, with something visible in it.
pub fn check_display_name(input: &str) -> Result<String, InvalidValue> {
    let name = DisplayName::parse(input)?;
    let text = name.as_str();
    free_text("display_name", text, DISPLAY_NAME_MAX_CHARS)?;
    if text.chars().all(crate::profiles::shows_nothing) {
        return Err(InvalidValue::new("display_name", "shows nothing"));
    }
    check_distinct(text)?;
    Ok(text.to_owned())
}

/// Returns whether a character shows nothing or too little to tell two
/// names apart: invisible characters, fillers and selectors.
fn is_invisible(c: char) -> bool {
    crate::profiles::shows_nothing(c)
        || matches!(
            c,
            '\u{115f}'
                | '\u{1160}'
                | '\u{3164}'
                | '\u{ffa0}'
                | '\u{2061}'..='\u{2064}'
                | '\u{2800}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{e0000}'..='\u{e007f}'
                | '\u{e0100}'..='\u{e01ef}'
        )
}

/// Returns whether a character is a combining mark, drawn over the letter
/// before it.
fn is_combining(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036f}'
            | '\u{1ab0}'..='\u{1aff}'
            | '\u{1dc0}'..='\u{1dff}'
            | '\u{20d0}'..='\u{20ff}'
            | '\u{fe20}'..='\u{fe2f}'
    )
}

/// The alphabets whose letters look alike: a name may use one of them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Alphabet {
    Latin,
    Greek,
    Cyrillic,
}

fn alphabet(c: char) -> Option<Alphabet> {
    match c {
        'a'..='z' | 'A'..='Z' | '\u{00c0}'..='\u{024f}' | '\u{1e00}'..='\u{1eff}' => {
            Some(Alphabet::Latin)
        }
        '\u{0370}'..='\u{03ff}' | '\u{1f00}'..='\u{1fff}' => Some(Alphabet::Greek),
        '\u{0400}'..='\u{052f}' => Some(Alphabet::Cyrillic),
        _ => None,
    }
}

/// Checks that a display name cannot be mistaken for another: no
/// invisible characters, no more than two accents on a letter, letters
/// from one of the look-alike alphabets only, and not a name the
/// community shows for someone else.
fn check_distinct(name: &str) -> Result<(), InvalidValue> {
    if let Some(found) = name.chars().find(|c| *c != ' ' && is_invisible(*c)) {
        return Err(InvalidValue::new(
            "display_name",
            format!("contains U+{:04X}, which shows nothing", u32::from(found)),
        ));
    }
    let mut marks = 0;
    for c in name.chars() {
        marks = if is_combining(c) { marks + 1 } else { 0 };
        if marks > 2 {
            return Err(InvalidValue::new(
                "display_name",
                "has more than two accents on one letter",
            ));
        }
    }
    let mut alphabets = name.chars().filter_map(alphabet);
    if let Some(first) = alphabets.next()
        && alphabets.any(|other| other != first)
    {
        return Err(InvalidValue::new(
            "display_name",
            "mixes Latin, Greek or Cyrillic letters, which look alike; use one alphabet",
        ));
    }
    let comparable = comparable_display_name(name);
    if comparable == retention::FORMER_MEMBER || comparable.contains("moderator") {
        return Err(InvalidValue::new(
            "display_name",
            "is a name the community shows for someone else; choose another",
        ));
    }
    Ok(())
}

/// Returns the form two display names are compared in, so that one member
/// cannot take a name that reads as another's.
pub fn comparable_display_name(name: &str) -> String {
    crate::organisations::comparable_name(name)
}

/// Checks a one-line text that must show something: a title or a name.
pub fn check_line(
    field: &'static str,
    input: &str,
    max_chars: usize,
) -> Result<String, InvalidValue> {
    let text = input.trim();
    if text.chars().all(crate::profiles::shows_nothing) {
        return Err(InvalidValue::new(field, "must not be empty"));
    }
    free_text(field, text, max_chars)?;
    if text.contains(['\n', '\r']) {
        return Err(InvalidValue::new(field, "must be one line"));
    }
    Ok(text.to_owned())
}

/// Checks text of several lines that must show something: a post, a
/// report or a reason.
pub fn check_text(
    field: &'static str,
    input: &str,
    max_chars: usize,
) -> Result<String, InvalidValue> {
    let text = input.trim();
    if text.chars().all(crate::profiles::shows_nothing) {
        return Err(InvalidValue::new(field, "must not be empty"));
    }
    free_text(field, text, max_chars)?;
    Ok(text.to_owned())
}

/// Checks a profile field, which may be empty.
pub fn check_profile_text(field: &'static str, input: &str) -> Result<String, InvalidValue> {
    let text = input.trim();
    free_text(field, text, SHORT_TEXT_MAX_CHARS)?;
    Ok(text.to_owned())
}

/// Checks a membership number: one line of at most 40 characters with no
/// spaces inside, compared without case.
pub fn check_membership_number(input: &str) -> Result<String, InvalidValue> {
    let text = input.trim();
    if text.is_empty() {
        return Err(InvalidValue::new("membership_number", "must not be empty"));
    }
    let count = text.chars().count();
    if count > MEMBERSHIP_NUMBER_MAX_CHARS {
        return Err(InvalidValue::new(
            "membership_number",
            format!("{count} characters is over the limit of {MEMBERSHIP_NUMBER_MAX_CHARS}"),
        ));
    }
    if let Some(found) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || crate::profiles::shows_nothing(*c))
    {
        return Err(InvalidValue::new(
            "membership_number",
            format!(
                "contains U+{:04X}, which a membership number may not",
                u32::from(found)
            ),
        ));
    }
    Ok(text.to_uppercase())
}

/// Maximum number of mentions a post notifies.
pub const MAX_MENTIONS: usize = 10;
/// Maximum words of a display name after an `@`.
const MENTION_MAX_WORDS: usize = 5;

/// Returns, for each `@` in a post, the display names it may begin,
/// longest first: one to five words after the `@`, without the
/// punctuation that ends a sentence. Display names may have spaces, so the
/// caller takes the longest that names a member.
pub fn mention_candidates(body: &str) -> Vec<Vec<String>> {
    let trim = |word: &str| {
        word.trim_end_matches(['.', ',', '!', '?', ':', ';', ')', '"', '\''])
            .to_owned()
    };
    body.match_indices('@')
        .filter(|(at, _)| {
            // An address such as a@b is not a mention.
            body[..*at]
                .chars()
                .next_back()
                .is_none_or(|before| !before.is_alphanumeric())
        })
        .take(MAX_MENTIONS)
        .filter_map(|(at, _)| {
            let words: Vec<&str> = body[at + 1..]
                .split_whitespace()
                .take(MENTION_MAX_WORDS)
                .collect();
            let names: Vec<String> = (1..=words.len())
                .rev()
                .map(|count| trim(&words[..count].join(" ")))
                .filter(|name| !name.is_empty() && !body[at + 1..].starts_with(char::is_whitespace))
                .collect();
            (!names.is_empty()).then_some(names)
        })
        .collect()
}

/// Checks the length of a suspension.
pub fn check_suspension_days(days: Option<i64>) -> Result<i64, InvalidValue> {
    match days {
        Some(days) if (1..=MAX_SUSPENSION_DAYS).contains(&days) => Ok(days),
        Some(days) => Err(InvalidValue::new(
            "days",
            format!("{days} is outside 1 to {MAX_SUSPENSION_DAYS}"),
        )),
        None => Err(InvalidValue::new("days", "is required to suspend")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert_eq!(
            check_display_name("  Calm Harbour ").unwrap(),
            "Calm Harbour"
        );
        assert_eq!(check_display_name("").unwrap_err().field, "display_name");
        assert!(check_display_name(&"x".repeat(41)).is_err());
        assert!(check_display_name("\u{200b}\u{200b}").is_err());
        assert!(check_display_name("a\u{202e}b").is_err());
        assert!(check_display_name("a\u{2028}b").is_err());
        assert!(check_display_name("a\u{061c}b").is_err());
        assert_eq!(
            comparable_display_name("Calm  HARBOUR"),
            comparable_display_name("calm harbour")
        );
    }

    #[test]
    fn look_alike_names_are_refused() {
        for name in [
            "C\u{0430}lm Harbour",
            "Calm Harb\u{03bf}ur",
            "Calm\u{fe0f} Harbour",
            "Calm\u{3164}Harbour",
            "Calm\u{e0041} Harbour",
            "Calm\u{2800}Harbour",
            "a\u{0323}\u{0323}\u{0323}",
            "Former Member",
            "Lee Carter Moderator",
        ] {
            assert!(check_display_name(name).is_err(), "{name:?}");
        }
        for name in [
            "Zoë Brontë",
            "Ольга",
            "Ελένη",
            "Calm Harbour 2",
            "O'Neill-Jones",
        ] {
            assert!(check_display_name(name).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn titles_and_bodies() {
        assert!(check_line("title", "Starting school", TITLE_MAX_CHARS).is_ok());
        assert_eq!(
            check_line("title", "two\nlines", TITLE_MAX_CHARS)
                .unwrap_err()
                .field,
            "title"
        );
        assert!(check_text("body", "line one\nline two", BODY_MAX_CHARS).is_ok());
        assert!(check_text("body", " \n ", BODY_MAX_CHARS).is_err());
        let long = "y".repeat(BODY_MAX_CHARS + 1);
        assert!(check_text("body", &long, BODY_MAX_CHARS).is_err());
        // Markup is text like any other: the page shows it as written.
        assert!(check_text("body", "<img src=x onerror=alert(1)>", BODY_MAX_CHARS).is_ok());
    }

    #[test]
    fn membership_numbers() {
        assert_eq!(check_membership_number(" asn-1042 ").unwrap(), "ASN-1042");
        assert!(check_membership_number("ASN 1042").is_err());
        assert!(check_membership_number("").is_err());
        assert!(check_membership_number(&"1".repeat(41)).is_err());
    }

    #[test]
    fn mentions() {
        let found = mention_candidates("Thanks @Calm Harbour, and @River!  Mail a@b.org");
        assert_eq!(found.len(), 2);
        assert_eq!(
            found[0],
            vec![
                "Calm Harbour, and @River! Mail",
                "Calm Harbour, and @River",
                "Calm Harbour, and",
                "Calm Harbour",
                "Calm",
            ]
        );
        assert_eq!(
            found[1],
            vec!["River! Mail a@b.org", "River! Mail", "River"]
        );
        assert!(mention_candidates("no one @ here").is_empty());
    }

    #[test]
    fn suspensions() {
        assert_eq!(check_suspension_days(Some(7)).unwrap(), 7);
        assert!(check_suspension_days(Some(0)).is_err());
        assert!(check_suspension_days(Some(366)).is_err());
        assert_eq!(check_suspension_days(None).unwrap_err().field, "days");
    }

    #[test]
    fn post_actions() {
        assert_eq!(PostAction::Hide.outcome().0, PostState::Hidden);
        assert_eq!(PostAction::Restore.outcome().1, NoticeKind::PostRestored);
    }
}
