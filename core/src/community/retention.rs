//! Retention rules of community data, as pure functions of a record and
//! the time now. The retention supervisor runs them; they decide, it acts.

use chrono::{DateTime, Duration, Months, Utc};

/// How long a community record outlives the member's last sign-in or
/// interaction: three years.
pub const INACTIVE_MONTHS: u32 = 36;

/// Returns the instant at or before which a last interaction or sign-in
/// is three years old at `now`.
pub fn inactive_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(INACTIVE_MONTHS))
        .unwrap_or(now - Duration::days(3 * 365))
}

/// Returns whether a social profile is due to go: three years after the
/// member's last interaction (a post, a reply, a report or a profile change).
pub fn profile_due(last_interaction_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    last_interaction_at <= inactive_cutoff(now)
}

/// The facts about a user that the rule reads.
#[derive(Clone, Copy, Debug)]
pub struct CommunityUser {
    /// Whether the user has a role in an organisation. The community rule
    /// then does not decide their record.
    pub has_organisation_role: bool,
    /// The last sign-in, or the account's creation for one who never signed
    /// in.
    pub last_sign_in_at: DateTime<Utc>,
}

/// Returns whether a community-only user is due to go: no sign-in for
/// three years.
pub fn community_only_user_due(user: CommunityUser, now: DateTime<Utc>) -> bool {
    !user.has_organisation_role && user.last_sign_in_at <= inactive_cutoff(now)
}

/// Returns the text an erased member's post keeps. The post is shown as
/// written by "former member", and its text stays only when the member
/// agreed to it at erasure.
pub fn erased_post_text(body: &str, keep_text_agreed: bool) -> Option<String> {
    keep_text_agreed.then(|| body.to_owned())
}

/// Returns whether an erased member's images in posts stay. They go with
/// the text: a photo says as much about a family as words do.
pub fn erased_post_images_kept(keep_text_agreed: bool) -> bool {
    keep_text_agreed
}

/// The author name an erased member's posts are shown with.
pub const FORMER_MEMBER: &str = "former member";

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(year: i32, month: u32, day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, month, day, 12, 0, 0).unwrap()
    }

    #[test]
    fn profile_goes_after_three_years() {
        let last = at(2023, 3, 1);
        assert!(!profile_due(last, at(2026, 2, 28)));
        assert!(profile_due(last, at(2026, 3, 1)));
    }

    #[test]
    fn only_community_only_users_go() {
        let idle = CommunityUser {
            has_organisation_role: false,
            last_sign_in_at: at(2022, 1, 1),
        };
        assert!(community_only_user_due(idle, at(2025, 1, 2)));
        assert!(!community_only_user_due(idle, at(2024, 12, 31)));
        let worker = CommunityUser {
            has_organisation_role: true,
            ..idle
        };
        assert!(!community_only_user_due(worker, at(2030, 1, 1)));
    }

    #[test]
    fn erased_text_stays_only_by_agreement() {
        assert_eq!(
            erased_post_text("thanks all", true).as_deref(),
            Some("thanks all")
        );
        assert_eq!(erased_post_text("thanks all", false), None);
    }

    #[test]
    fn images_of_an_erased_post_follow_its_text() {
        assert!(erased_post_images_kept(true));
        assert!(!erased_post_images_kept(false));
        assert_eq!(erased_post_text("Our day out", false), None);
    }
}
