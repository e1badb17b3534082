//! Notification email: the fixed templates and the rules for sending
//! again after a failure.
//!
//! A notification lets someone know that something is waiting for them and
//! links to the sign-in page. Its subject and body are fixed text: no
//! names, no case, no content, so an email read over a shoulder or kept by
//! a mail provider gives nothing away. The link carries a path only.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::values::InvalidValue;

/// The templates a notification can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A new message or letter waits in one of the user's conversations.
    NewMessage,
    /// A letter waits for the practitioner's review.
    LetterToReview,
    /// A practitioner decided on a letter the user wrote.
    LetterDecided,
    /// A letter exchange is two weeks away.
    ExchangeDueSoon,
    /// A letter exchange is due today.
    ExchangeDue,
    /// A letter exchange was due two weeks ago and no letter came.
    ExchangeOverdue,
    /// An invitation to join a contact link, with a link to accept it.
    Invitation,
    /// An invitation to work in an organisation on KinLink, with a link
    /// to accept it.
    WorkerInvitation,
    /// An invitation to keep a family's own profile, with a link to
    /// accept it.
    FamilyInvitation,
    /// The link to go on with an application to the community support
    /// network, sent to the address the applicant gave.
    CommunityApplication,
    /// An answer to an application to the community from an address that
    /// has an account already: sign in and apply from the menu.
    CommunityAccountExists,
    /// Someone replied in a community topic the user opened.
    CommunityReply,
    /// Someone mentioned the user in a community post.
    CommunityMention,
    /// A moderator decided something about the user's application, posts
    /// or membership, or answered their appeal.
    CommunityDecision,
    /// A community moderator passed a safeguarding concern to the user's
    /// organisation.
    SafeguardingConcern,
    /// A live call was arranged in one of the user's conversations.
    CallScheduled,
    /// A live call arranged in one of the user's conversations was
    /// cancelled.
    CallCancelled,
    /// Two platform admins were asked to restore the user's access after
    /// a lost password.
    RecoveryRequested,
    /// Someone tried to recover the user's account and was rejected.
    RecoveryRejected,
    /// The one-time link to choose a new password after a recovery.
    RecoveryLink,
    /// News about KinLink, for users who opted in to marketing email.
    News,
    /// The daily digest: several things wait.
    Digest,
}

impl Template {
    /// Returns whether the email is marketing, which carries an
    /// unsubscribe link and goes only to users who opted in.
    pub fn is_marketing(self) -> bool {
        self == Template::News
    }

    /// Returns whether the email goes out at once even to a user who chose
    /// the daily digest: a safeguarding concern cannot wait a day, nor can
    /// word that someone is recovering the user's account.
    pub fn is_urgent(self) -> bool {
        matches!(
            self,
            Template::SafeguardingConcern
                | Template::RecoveryRequested
                | Template::RecoveryRejected
        )
    }

    /// Returns the stable name stored with a queued email.
    pub fn code(self) -> &'static str {
        match self {
            Template::NewMessage => "new_message",
            Template::LetterToReview => "letter_to_review",
            Template::LetterDecided => "letter_decided",
            Template::ExchangeDueSoon => "exchange_due_soon",
            Template::ExchangeDue => "exchange_due",
            Template::ExchangeOverdue => "exchange_overdue",
            Template::Invitation => "invitation",
            Template::WorkerInvitation => "worker_invitation",
            Template::FamilyInvitation => "family_invitation",
            Template::CommunityApplication => "community_application",
            Template::CommunityAccountExists => "community_account_exists",
            Template::CommunityReply => "community_reply",
            Template::CommunityMention => "community_mention",
            Template::CommunityDecision => "community_decision",
            Template::SafeguardingConcern => "safeguarding_concern",
            Template::CallScheduled => "call_scheduled",
            Template::CallCancelled => "call_cancelled",
            Template::RecoveryRequested => "recovery_requested",
            Template::RecoveryRejected => "recovery_rejected",
            Template::RecoveryLink => "recovery_link",
            Template::News => "news",
            Template::Digest => "digest",
        }
    }

    /// Returns the template stored under `code`.
    pub fn from_code(code: &str) -> Option<Template> {
        match code {
            "new_message" => Some(Template::NewMessage),
            "letter_to_review" => Some(Template::LetterToReview),
            "letter_decided" => Some(Template::LetterDecided),
            "exchange_due_soon" => Some(Template::ExchangeDueSoon),
            "exchange_due" => Some(Template::ExchangeDue),
            "exchange_overdue" => Some(Template::ExchangeOverdue),
            "invitation" => Some(Template::Invitation),
            "worker_invitation" => Some(Template::WorkerInvitation),
            "family_invitation" => Some(Template::FamilyInvitation),
            "community_application" => Some(Template::CommunityApplication),
            "community_account_exists" => Some(Template::CommunityAccountExists),
            "community_reply" => Some(Template::CommunityReply),
            "community_mention" => Some(Template::CommunityMention),
            "community_decision" => Some(Template::CommunityDecision),
            "safeguarding_concern" => Some(Template::SafeguardingConcern),
            "call_scheduled" => Some(Template::CallScheduled),
            "call_cancelled" => Some(Template::CallCancelled),
            "recovery_requested" => Some(Template::RecoveryRequested),
            "recovery_rejected" => Some(Template::RecoveryRejected),
            "recovery_link" => Some(Template::RecoveryLink),
            "news" => Some(Template::News),
            "digest" => Some(Template::Digest),
            _ => None,
        }
    }

    /// Returns the subject line.
    pub fn subject(self) -> &'static str {
        match self {
            Template::NewMessage => "Something is waiting for you in KinLink",
            Template::LetterToReview => "A letter is waiting for your review in KinLink",
            Template::LetterDecided => "There is news about a letter you wrote in KinLink",
            Template::ExchangeDueSoon => "A letter exchange is coming up in KinLink",
            Template::ExchangeDue => "A letter exchange is due in KinLink",
            Template::ExchangeOverdue => "A letter exchange is overdue in KinLink",
            Template::Invitation => "You are invited to KinLink",
            Template::WorkerInvitation => "You are invited to work in KinLink",
            Template::FamilyInvitation => "You are invited to KinLink",
            Template::CommunityApplication => "Joining the KinLink community",
            Template::CommunityAccountExists => "Joining the KinLink community",
            Template::CommunityReply => "A new reply is waiting in the KinLink community",
            Template::CommunityMention => "You were mentioned in the KinLink community",
            Template::CommunityDecision => {
                "A moderator's decision is waiting in the KinLink community"
            }
            Template::SafeguardingConcern => {
                "A safeguarding concern is waiting for your organisation in KinLink"
            }
            Template::CallScheduled => "A video session has been arranged in KinLink",
            Template::CallCancelled => "A video session in KinLink has been cancelled",
            Template::RecoveryRequested => "A recovery of your KinLink account was asked for",
            Template::RecoveryRejected => "An attempt to recover your KinLink account was rejected",
            Template::RecoveryLink => "Choose a new password for KinLink",
            Template::News => "News from KinLink",
            Template::Digest => "Your daily KinLink summary: new things are waiting",
        }
    }

    /// Returns the plain-text body with `link` to sign in, or, for an
    /// invitation, to accept it.
    pub fn body(self, link: &str) -> String {
        if self == Template::Invitation {
            return format!(
                "Hello,\r\n\r\nAn organisation that supports your family has invited you to \
                 KinLink, where you can exchange letters safely.\r\n\r\nOpen this link to \
                 choose a password and accept. It works once, for seven days:\r\n{link}\r\n\r\n\
                 This email contains no details on purpose. If you did not expect it, you can \
                 ignore it.\r\n"
            );
        }
        if self == Template::WorkerInvitation {
            return format!(
                "Hello,\r\n\r\nA manager of your organisation has invited you to work in \
                 KinLink.\r\n\r\nOpen this link to choose a password, set up an \
                 authenticator app and accept. It works once, for seven days:\r\n{link}\r\n\r\n\
                 This email contains no details on purpose. If you did not expect it, you can \
                 ignore it.\r\n"
            );
        }
        if self == Template::FamilyInvitation {
            return format!(
                "Hello,\r\n\r\nAn organisation that works with your family has invited you to \
                 KinLink, where you can see and keep up to date your own profile.\r\n\r\n\
                 Open this link to choose a password and accept. It works once, for seven \
                 days:\r\n{link}\r\n\r\nThis email contains no details on purpose. If you \
                 did not expect it, you can ignore it.\r\n"
            );
        }
        if self == Template::CommunityApplication {
            return format!(
                "Hello,\r\n\r\nSomeone, probably you, asked to join the KinLink community \
                 support network with this email address.\r\n\r\nOpen this link to choose \
                 the name other members will see and a password. It works once, for 24 \
                 hours:\r\n{link}\r\n\r\nThis email contains no details on purpose. If you \
                 did not ask to join, you can ignore it.\r\n"
            );
        }
        if self == Template::CommunityAccountExists {
            return format!(
                "Hello,\r\n\r\nSomeone, probably you, asked to join the KinLink community \
                 support network with this email address. It has a KinLink account already: \
                 sign in, then choose Community in the menu to apply.\r\n\r\n{link}\r\n\r\n\
                 This email contains no details on purpose. If you did not ask to join, you \
                 can ignore it.\r\n"
            );
        }
        if self == Template::RecoveryLink {
            return format!(
                "Hello,\r\n\r\nYou asked your organisation for help because you lost your \
                 KinLink password. Two administrators have approved it.\r\n\r\nOpen this link \
                 to choose a new password; everything you could read before stays readable. \
                 It works once, for 24 hours:\r\n{link}\r\n\r\nEvery place where you were \
                 signed in has been signed out. If you did not ask for this, tell your \
                 organisation at once.\r\n"
            );
        }
        let waiting = match self {
            Template::NewMessage => "There is something new for you to read in KinLink.",
            Template::LetterToReview => "A letter has been submitted and waits for your review.",
            Template::LetterDecided => "A letter you wrote has been looked at.",
            Template::ExchangeDueSoon => "A letter exchange is due in two weeks.",
            Template::ExchangeDue => "A letter exchange is due today.",
            Template::ExchangeOverdue => {
                "A letter exchange was due two weeks ago, and no letter has come yet."
            }
            Template::Invitation
            | Template::WorkerInvitation
            | Template::FamilyInvitation
            | Template::CommunityApplication
            | Template::CommunityAccountExists
            | Template::RecoveryLink => "",
            Template::CommunityReply => "Someone replied in a topic you started in the community.",
            Template::CommunityMention => "Someone mentioned you in a post in the community.",
            Template::CommunityDecision => {
                "A moderator has made a decision that concerns you in the community."
            }
            Template::SafeguardingConcern => {
                "A community moderator has passed a safeguarding concern to your organisation."
            }
            Template::CallScheduled => "A video session has been arranged for you.",
            Template::CallCancelled => "A video session arranged for you has been cancelled.",
            Template::RecoveryRequested => {
                "A KinLink administrator has asked to restore access to your account because \
                 its password was lost. A second administrator must approve it before you get a \
                 link to choose a new password. If you did not lose your password, tell your \
                 organisation at once."
            }
            Template::RecoveryRejected => {
                "Someone tried to start or approve a recovery of your KinLink account and was \
                 rejected. Nothing changed. If you did not expect this, tell your organisation."
            }
            Template::News => "There is news about KinLink for you to read.",
            Template::Digest => {
                "Since your last summary, new things have arrived for you in KinLink."
            }
        };
        format!(
            "Hello,\r\n\r\n{waiting}\r\n\r\nSign in to see it:\r\n{link}\r\n\r\n\
             This email contains no details on purpose. If you did not expect it, you can \
             ignore it.\r\n"
        )
    }
}

/// A user's choice of notification email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// An email for each notification, as it happens.
    Immediate,
    /// One email a day, at the user's digest hour, if anything arrived.
    Digest,
}

impl Delivery {
    /// Returns the stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Immediate => "immediate",
            Delivery::Digest => "digest",
        }
    }
}

/// A user's choices for notification email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preferences {
    pub delivery: Delivery,
    /// The local hour, 0 to 23, at which the digest goes out.
    pub digest_hour: u32,
    /// The zone the digest hour is in.
    pub time_zone: Tz,
}

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            delivery: Delivery::Immediate,
            digest_hour: 18,
            time_zone: chrono_tz::Europe::London,
        }
    }
}

impl Preferences {
    /// Checks each field as the API names it: `delivery` is `immediate`
    /// or `digest`, `digest_hour` is 0 to 23, and `time_zone` is an IANA
    /// zone name such as `Europe/London`.
    pub fn parse(delivery: &str, digest_hour: i64, time_zone: &str) -> Result<Self, InvalidValue> {
        let delivery = match delivery {
            "immediate" => Delivery::Immediate,
            "digest" => Delivery::Digest,
            other => {
                let reason = format!("{:?} is not immediate or digest", shortened(other));
                return Err(InvalidValue::new("delivery", reason));
            }
        };
        let digest_hour = u32::try_from(digest_hour)
            .ok()
            .filter(|hour| *hour < 24)
            .ok_or_else(|| InvalidValue::new("digest_hour", "must be a whole hour from 0 to 23"))?;
        let time_zone: Tz = time_zone.parse().map_err(|_unknown| {
            let reason = format!(
                "{:?} is not a time zone name such as Europe/London",
                shortened(time_zone)
            );
            InvalidValue::new("time_zone", reason)
        })?;
        Ok(Preferences {
            delivery,
            digest_hour,
            time_zone,
        })
    }

    /// Returns the digest time of day.
    pub fn digest_time(self) -> NaiveTime {
        NaiveTime::from_hms_opt(self.digest_hour, 0, 0).unwrap_or(NaiveTime::MIN)
    }
}

/// Returns at most the first 64 characters of `value`, to quote it in an
/// error.
fn shortened(value: &str) -> String {
    value.chars().take(64).collect()
}

/// The states of a queued email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailState {
    /// Waiting for its next attempt.
    Pending,
    /// A node is sending it.
    Sending,
    /// The mail server accepted it.
    Sent,
    /// Sent twice without a reply from the server either time, so not sent
    /// again: the recipient may have it once, twice, or not at all.
    Unconfirmed,
    /// Given up: refused for good, out of attempts, or no recipient.
    Failed,
}

impl EmailState {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            EmailState::Pending => "pending",
            EmailState::Sending => "sending",
            EmailState::Sent => "sent",
            EmailState::Unconfirmed => "unconfirmed",
            EmailState::Failed => "failed",
        }
    }
}

/// The outcome of one attempt to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// The server accepted the email.
    Accepted,
    /// The server replied with a permanent refusal (5xx).
    Refused,
    /// Nothing was sent: no connection, or a temporary refusal (4xx).
    NotSent,
    /// The connection failed after the email may have been handed over,
    /// so the server may or may not have it.
    Unknown,
}

/// The step after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// Done, in this final state.
    Finish(EmailState),
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
}

/// Attempts after which an email that could not be sent is given up:
/// with the backoff below, about a day and a half of trying.
pub const MAX_ATTEMPTS: u32 = 12;

/// The wait before the first retry, doubled for each later one.
const FIRST_RETRY: Duration = Duration::minutes(1);

/// The maximum wait between two attempts.
const MAX_RETRY_DELAY: Duration = Duration::hours(6);

/// Returns what to do after an attempt that ended with `outcome`, when
/// `attempts` attempts (this one included) have been made and
/// `unknown_outcomes` of them (this one included) ended unknown.
///
/// An email whose sending ended unknown is sent once more, so a reader may
/// get it twice but never a third time. A second unknown ending stops it.
pub fn next_step(
    outcome: SendOutcome,
    attempts: u32,
    unknown_outcomes: u32,
    now: DateTime<Utc>,
) -> NextStep {
    match outcome {
        SendOutcome::Accepted => NextStep::Finish(EmailState::Sent),
        SendOutcome::Refused => NextStep::Finish(EmailState::Failed),
        SendOutcome::Unknown if unknown_outcomes >= 2 => NextStep::Finish(EmailState::Unconfirmed),
        _ if attempts >= MAX_ATTEMPTS => NextStep::Finish(EmailState::Failed),
        _ => NextStep::RetryAt(now + retry_delay(attempts)),
    }
}

/// Returns the wait after the `attempts`-th failed attempt.
pub fn retry_delay(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    (FIRST_RETRY * (1 << doublings)).min(MAX_RETRY_DELAY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    #[test]
    fn accepted_email_is_sent() {
        let step = next_step(SendOutcome::Accepted, 1, 0, now());
        assert_eq!(step, NextStep::Finish(EmailState::Sent));
    }

    #[test]
    fn refused_email_fails_at_once() {
        let step = next_step(SendOutcome::Refused, 1, 0, now());
        assert_eq!(step, NextStep::Finish(EmailState::Failed));
    }

    #[test]
    fn unsent_email_backs_off_then_fails() {
        let first = next_step(SendOutcome::NotSent, 1, 0, now());
        assert_eq!(first, NextStep::RetryAt(now() + Duration::minutes(1)));
        let third = next_step(SendOutcome::NotSent, 3, 0, now());
        assert_eq!(third, NextStep::RetryAt(now() + Duration::minutes(4)));
        let late = next_step(SendOutcome::NotSent, 11, 0, now());
        assert_eq!(late, NextStep::RetryAt(now() + Duration::hours(6)));
        let last = next_step(SendOutcome::NotSent, MAX_ATTEMPTS, 0, now());
        assert_eq!(last, NextStep::Finish(EmailState::Failed));
    }

    #[test]
    fn unknown_outcome_resends_once_only() {
        let first = next_step(SendOutcome::Unknown, 1, 1, now());
        assert_eq!(first, NextStep::RetryAt(now() + Duration::minutes(1)));
        let second = next_step(SendOutcome::Unknown, 2, 2, now());
        assert_eq!(second, NextStep::Finish(EmailState::Unconfirmed));
    }

    #[test]
    fn preferences_name_the_bad_field() {
        let field = |d: &str, h: i64, z: &str| Preferences::parse(d, h, z).map_err(|e| e.field);
        assert_eq!(field("weekly", 18, "Europe/London"), Err("delivery"));
        assert_eq!(field("digest", 24, "Europe/London"), Err("digest_hour"));
        assert_eq!(field("digest", -1, "Europe/London"), Err("digest_hour"));
        assert_eq!(field("digest", 7, "Mars/Olympus"), Err("time_zone"));
        let parsed = Preferences::parse("digest", 7, "Europe/Paris");
        assert_eq!(
            parsed.map(|p| (p.delivery, p.digest_hour)),
            Ok((Delivery::Digest, 7))
        );
    }

    #[test]
    fn templates_round_trip_by_code() {
        for template in [
            Template::NewMessage,
            Template::LetterToReview,
            Template::LetterDecided,
            Template::ExchangeDueSoon,
            Template::ExchangeDue,
            Template::ExchangeOverdue,
            Template::Invitation,
            Template::WorkerInvitation,
            Template::FamilyInvitation,
            Template::News,
            Template::Digest,
            Template::CommunityApplication,
            Template::CommunityAccountExists,
            Template::CommunityReply,
            Template::CommunityMention,
            Template::CommunityDecision,
            Template::SafeguardingConcern,
            Template::CallScheduled,
            Template::CallCancelled,
            Template::RecoveryRequested,
            Template::RecoveryRejected,
            Template::RecoveryLink,
        ] {
            assert_eq!(Template::from_code(template.code()), Some(template));
        }
        assert_eq!(Template::from_code("unknown"), None);
    }

    #[test]
    fn safeguarding_and_recovery_notices_skip_the_digest() {
        assert!(Template::SafeguardingConcern.is_urgent());
        assert!(Template::RecoveryRequested.is_urgent());
        assert!(Template::RecoveryRejected.is_urgent());
        assert!(!Template::CommunityDecision.is_urgent());
        assert!(!Template::NewMessage.is_urgent());
    }

    #[test]
    fn recovery_link_body_holds_the_link() {
        let link = "https://kinlink.example.org/recover#abc";
        let body = Template::RecoveryLink.body(link);
        assert!(body.lines().any(|line| line == link));
        assert!(body.contains("24 hours"));
    }

    #[test]
    fn body_holds_the_link_whole() {
        let link = format!("https://kinlink.example.org/{}", "a".repeat(1200));
        let body = Template::NewMessage.body(&link);
        assert!(body.lines().any(|line| line == link));
    }
}
