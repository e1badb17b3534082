//! Expressions of interest: a family's organisation enquires about a child, a
//! discussion opens between the two organisations, and the interest moves
//! through its states until it ends with a reason.

use crate::codes;
use crate::values::InvalidValue;

codes! {
    /// The state of an expression of interest.
    InterestState {
        /// Just expressed: the organisations are talking.
        Open => "open",
        /// Both sides want to find out more: visits, reports, meetings.
        Progressing => "progressing",
        /// The family has been linked with the child by the agency panel.
        Linked => "linked",
        /// The child has moved in. An end.
        Placed => "placed",
        /// One side decided against it. An end.
        Declined => "declined",
        /// The family's side withdrew it, or the child's plan changed. An end.
        Withdrawn => "withdrawn",
    }
}

codes! {
    /// The reason an interest ended.
    EndReason {
        /// The placement was made.
        PlacementMade => "placement_made",
        /// The family cannot meet the child's needs.
        NeedsNotMet => "needs_not_met",
        /// Another family was chosen for the child.
        AnotherFamilyChosen => "another_family_chosen",
        /// The family's circumstances changed.
        FamilyCircumstances => "family_circumstances",
        /// The child's plan or circumstances changed.
        ChildPlanChanged => "child_plan_changed",
        /// The family withdrew.
        FamilyWithdrew => "family_withdrew",
        /// Any other reason, recorded in the discussion.
        Other => "other",
    }
}

impl InterestState {
    /// Returns whether the interest has ended.
    pub fn is_end(self) -> bool {
        matches!(
            self,
            InterestState::Placed | InterestState::Declined | InterestState::Withdrawn
        )
    }

    /// Returns the reasons an interest may end in this state with.
    pub fn reasons(self) -> &'static [EndReason] {
        use EndReason::*;
        match self {
            InterestState::Placed => &[PlacementMade],
            InterestState::Declined => &[
                NeedsNotMet,
                AnotherFamilyChosen,
                FamilyCircumstances,
                ChildPlanChanged,
                Other,
            ],
            InterestState::Withdrawn => {
                &[FamilyWithdrew, FamilyCircumstances, ChildPlanChanged, Other]
            }
            _ => &[],
        }
    }
}

/// The side of an interest a worker acts for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Side {
    /// The organisation that has the child's case.
    Child,
    /// The organisation that has the family's case.
    Family,
}

impl InterestState {
    /// Returns whether a worker for `side` may move an interest to this
    /// state. Linking and placing are the child's organisation's decisions,
    /// and so is declining the family; the family's side withdraws. Either
    /// side may take an interest on to progressing.
    pub fn decided_by(self, side: Side) -> bool {
        match self {
            InterestState::Progressing => true,
            InterestState::Linked | InterestState::Placed | InterestState::Declined => {
                side == Side::Child
            }
            InterestState::Withdrawn => side == Side::Family,
            InterestState::Open => false,
        }
    }
}

/// Checks a move from `from` to `to` with its reason, and returns the
/// reason to store: an end needs one of its reasons, any other state none.
pub fn check_transition(
    from: InterestState,
    to: InterestState,
    reason: Option<EndReason>,
) -> Result<Option<EndReason>, InvalidValue> {
    use InterestState::*;
    let allowed = match from {
        Open => matches!(to, Progressing | Declined | Withdrawn),
        Progressing => matches!(to, Linked | Declined | Withdrawn),
        Linked => matches!(to, Placed | Declined | Withdrawn),
        Placed | Declined | Withdrawn => false,
    };
    if !allowed {
        return Err(InvalidValue::new(
            "state",
            format!(
                "an interest that is {} cannot become {}",
                from.as_str(),
                to.as_str()
            ),
        ));
    }
    match (to.is_end(), reason) {
        (true, Some(reason)) if to.reasons().contains(&reason) => Ok(Some(reason)),
        (true, Some(reason)) => Err(InvalidValue::new(
            "reason",
            format!("{} is not a reason for {}", reason.as_str(), to.as_str()),
        )),
        (true, None) => Err(InvalidValue::new(
            "reason",
            format!("is required to end an interest as {}", to.as_str()),
        )),
        (false, Some(_)) => Err(InvalidValue::new(
            "reason",
            "may only be given when the interest ends",
        )),
        (false, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EndReason::*;
    use InterestState::*;

    #[test]
    fn interest_moves_forward_to_placement() {
        assert_eq!(check_transition(Open, Progressing, None), Ok(None));
        assert_eq!(check_transition(Progressing, Linked, None), Ok(None));
        assert_eq!(
            check_transition(Linked, Placed, Some(PlacementMade)),
            Ok(Some(PlacementMade))
        );
    }

    #[test]
    fn ends_need_a_fitting_reason() {
        assert_eq!(
            check_transition(Open, Declined, None).unwrap_err().field,
            "reason"
        );
        assert_eq!(
            check_transition(Open, Declined, Some(PlacementMade))
                .unwrap_err()
                .field,
            "reason"
        );
        assert!(check_transition(Progressing, Withdrawn, Some(FamilyWithdrew)).is_ok());
        assert_eq!(
            check_transition(Open, Progressing, Some(Other))
                .unwrap_err()
                .field,
            "reason"
        );
    }

    #[test]
    fn each_side_decides_its_own_moves() {
        assert!(Placed.decided_by(Side::Child));
        assert!(!Placed.decided_by(Side::Family));
        assert!(!Linked.decided_by(Side::Family));
        assert!(Withdrawn.decided_by(Side::Family));
        assert!(!Withdrawn.decided_by(Side::Child));
        assert!(Declined.decided_by(Side::Child));
        assert!(Progressing.decided_by(Side::Family));
        assert!(Progressing.decided_by(Side::Child));
    }

    #[test]
    fn no_skipping_and_no_way_back() {
        assert_eq!(
            check_transition(Open, Linked, None).unwrap_err().field,
            "state"
        );
        assert_eq!(
            check_transition(Open, Placed, Some(PlacementMade))
                .unwrap_err()
                .field,
            "state"
        );
        assert!(check_transition(Declined, Open, None).is_err());
        assert!(check_transition(Linked, Progressing, None).is_err());
    }
}
