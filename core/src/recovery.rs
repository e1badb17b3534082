//! Key recovery for a user who lost their password: the states a recovery
//! passes through and the rules that keep one admin from recovering an
//! account alone. Functions of a recovery's facts and the time now.
//!
//! A platform admin requests a recovery, a second platform admin approves it, an operator
//! holding the recovery private key seals the user's key for a one-time
//! link, and the user chooses a new password through it. No one involved
//! can read the user's key or anything it opens.

use chrono::{DateTime, Duration, Utc};

use crate::UserId;

/// How long a request waits for its approval and the operator's command
/// before it lapses.
pub const REQUEST_LIFE: Duration = Duration::days(7);

/// How long the emailed link works once the operator has sent it.
pub const LINK_LIFE: Duration = Duration::hours(24);

/// The time within which the owner of an account gets one email about
/// rejected recovery steps, however many there are. Each step is audited,
/// and one email alerts the owner without letting anyone flood them.
pub const REJECTION_EMAIL_INTERVAL: Duration = Duration::hours(1);

/// The maximum length of an admin's reason, in characters.
pub const MAX_REASON_CHARS: usize = 500;

/// The state of a recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Requested, and waiting for a second admin.
    Requested,
    /// Approved by a second admin, and waiting for the operator's command.
    Approved,
    /// The user's link is out and works until it expires.
    LinkSent,
    /// The user chose a new password.
    Completed,
    /// An admin cancelled it.
    Cancelled,
    /// Not finished in time.
    Expired,
}

impl State {
    /// Returns the API name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Requested => "requested",
            State::Approved => "approved",
            State::LinkSent => "link_sent",
            State::Completed => "completed",
            State::Cancelled => "cancelled",
            State::Expired => "expired",
        }
    }

    /// Returns whether the recovery is over.
    pub fn is_ended(self) -> bool {
        matches!(self, State::Completed | State::Cancelled | State::Expired)
    }
}

/// The stored facts about a recovery that decide its state.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    pub requested_at: DateTime<Utc>,
    pub approved: bool,
    pub link_expires_at: Option<DateTime<Utc>>,
    /// The ending recorded for it, if it has ended.
    pub outcome: Option<Outcome>,
}

/// The recorded ending of a recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Completed,
    Cancelled,
    Expired,
}

impl Outcome {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Cancelled => "cancelled",
            Outcome::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Outcome> {
        [Outcome::Completed, Outcome::Cancelled, Outcome::Expired]
            .into_iter()
            .find(|outcome| outcome.as_str() == name)
    }
}

/// Returns the state of a recovery with `facts` at `now`.
pub fn state(facts: Facts, now: DateTime<Utc>) -> State {
    match facts.outcome {
        Some(Outcome::Completed) => return State::Completed,
        Some(Outcome::Cancelled) => return State::Cancelled,
        Some(Outcome::Expired) => return State::Expired,
        None => {}
    }
    match facts.link_expires_at {
        Some(expires) if expires > now => State::LinkSent,
        Some(_) => State::Expired,
        None if facts.requested_at + REQUEST_LIFE <= now => State::Expired,
        None if facts.approved => State::Approved,
        None => State::Requested,
    }
}

/// The reason an approval or the operator's command is rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// The admin who requested the recovery tried to approve it.
    SameAdmin,
    /// The operator's command ran before a second admin approved.
    NotApproved,
    /// An admin tried to ask for or approve the recovery of their own
    /// account: two others must do it.
    OwnAccount,
    /// The recovery is not in the state the step needs.
    WrongState(State),
}

impl Rejection {
    /// Returns the sentence shown to the admin or the operator.
    pub fn message(self) -> String {
        match self {
            Rejection::SameAdmin => {
                "a second platform admin must approve a recovery: the admin who requested it cannot"
                    .to_owned()
            }
            Rejection::NotApproved => {
                "a second platform admin must approve the recovery before its link is sent"
                    .to_owned()
            }
            Rejection::OwnAccount => {
                "two other platform admins must recover an admin's own account".to_owned()
            }
            Rejection::WrongState(state) => {
                format!("the recovery is {}, not waiting for this", state.as_str())
            }
        }
    }
}

/// Checks that `requester` may ask to recover the account of `user`.
pub fn check_request(user: UserId, requester: UserId) -> Result<(), Rejection> {
    if user == requester {
        return Err(Rejection::OwnAccount);
    }
    Ok(())
}

/// The people a recovery's approval involves.
#[derive(Clone, Copy, Debug)]
pub struct Parties {
    /// The account recovered.
    pub user: UserId,
    pub requested_by: UserId,
}

/// Checks that `approver` may approve a recovery between `parties` that
/// is in `state`.
pub fn check_approval(parties: Parties, approver: UserId, state: State) -> Result<(), Rejection> {
    if parties.user == approver {
        return Err(Rejection::OwnAccount);
    }
    if parties.requested_by == approver {
        return Err(Rejection::SameAdmin);
    }
    if state != State::Requested {
        return Err(Rejection::WrongState(state));
    }
    Ok(())
}

/// Checks that the operator's command may seal a link for a recovery requested
/// for by `requested_by`, approved by `approved_by`, in `state`. A link
/// already sent may be sent again, which replaces it.
pub fn check_reseal(
    requested_by: UserId,
    approved_by: Option<UserId>,
    state: State,
) -> Result<(), Rejection> {
    match (state, approved_by) {
        (State::Requested, _) | (State::Approved | State::LinkSent, None) => {
            Err(Rejection::NotApproved)
        }
        (State::Approved | State::LinkSent, Some(approver)) if approver == requested_by => {
            Err(Rejection::SameAdmin)
        }
        (State::Approved | State::LinkSent, Some(_)) => Ok(()),
        _ => Err(Rejection::WrongState(state)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, day, hour, 0, 0).unwrap()
    }

    fn requested() -> Facts {
        Facts {
            requested_at: at(1, 9),
            approved: false,
            link_expires_at: None,
            outcome: None,
        }
    }

    #[test]
    fn request_lapses_after_a_week() {
        assert_eq!(state(requested(), at(8, 8)), State::Requested);
        assert_eq!(state(requested(), at(8, 9)), State::Expired);
        let approved = Facts {
            approved: true,
            ..requested()
        };
        assert_eq!(state(approved, at(2, 9)), State::Approved);
        assert_eq!(state(approved, at(8, 9)), State::Expired);
    }

    #[test]
    fn link_works_until_it_expires() {
        let sent = Facts {
            approved: true,
            link_expires_at: Some(at(8, 12)),
            ..requested()
        };
        assert_eq!(state(sent, at(8, 11)), State::LinkSent);
        assert_eq!(state(sent, at(8, 12)), State::Expired);
    }

    #[test]
    fn ending_is_final() {
        for (outcome, expected) in [
            (Outcome::Completed, State::Completed),
            (Outcome::Cancelled, State::Cancelled),
            (Outcome::Expired, State::Expired),
        ] {
            let ended = Facts {
                outcome: Some(outcome),
                link_expires_at: Some(at(9, 0)),
                ..requested()
            };
            assert_eq!(state(ended, at(1, 10)), expected);
            assert!(expected.is_ended());
            assert_eq!(Outcome::parse(outcome.as_str()), Some(outcome));
        }
    }

    #[test]
    fn one_admin_alone_cannot_recover() {
        let first = UserId::new();
        let second = UserId::new();
        let user = UserId::new();
        let parties = Parties {
            user,
            requested_by: first,
        };
        assert_eq!(check_request(user, first), Ok(()));
        assert_eq!(check_request(first, first), Err(Rejection::OwnAccount));
        assert_eq!(
            check_approval(parties, first, State::Requested),
            Err(Rejection::SameAdmin)
        );
        assert_eq!(
            check_approval(parties, user, State::Requested),
            Err(Rejection::OwnAccount)
        );
        assert_eq!(check_approval(parties, second, State::Requested), Ok(()));
        assert_eq!(
            check_approval(parties, second, State::Approved),
            Err(Rejection::WrongState(State::Approved))
        );
        assert_eq!(
            check_reseal(first, None, State::Approved),
            Err(Rejection::NotApproved)
        );
        assert_eq!(
            check_reseal(first, Some(first), State::Approved),
            Err(Rejection::SameAdmin)
        );
        assert_eq!(check_reseal(first, Some(second), State::Approved), Ok(()));
        assert_eq!(check_reseal(first, Some(second), State::LinkSent), Ok(()));
        assert_eq!(
            check_reseal(first, None, State::Requested),
            Err(Rejection::NotApproved)
        );
        assert_eq!(
            check_reseal(first, Some(second), State::Cancelled),
            Err(Rejection::WrongState(State::Cancelled))
        );
        assert!(
            Rejection::SameAdmin
                .message()
                .contains("second platform admin")
        );
    }
}
