//! The parts every family-finding route shares: the caller's standing towards a
//! case, the organisation's licence, and sealing profiles under the
//! platform data key.

use chrono::{DateTime, Utc};
use kinlink_core::crypto::{SecretKey, aead, bindings};
use kinlink_core::licence::{LicenceState, licence_state};
use kinlink_core::permissions::{self, Action, Relationship};
use kinlink_core::profiles::{
    CaseKind, ChildCodes, ChildProfile, FamilyCodes, FamilyProfile, NeedLevel, Needs, Offer,
    decode_plans, encode_plans,
};
use kinlink_core::{OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::cases::CaseColumns;
use kinlink_store::entity::{case, organisation};
use serde::{Deserialize, Serialize};

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;

/// A profile of either kind, as sealed and as sent.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    content = "profile",
    rename_all = "snake_case",
    deny_unknown_fields
)]
pub enum Profile {
    Child(ChildProfile),
    Family(FamilyProfile),
}

impl Profile {
    /// Returns the kind of case the profile describes.
    pub fn kind(&self) -> CaseKind {
        match self {
            Profile::Child(_) => CaseKind::Child,
            Profile::Family(_) => CaseKind::Family,
        }
    }

    /// Checks every field and returns the coded columns to store.
    pub fn columns(&self, today: chrono::NaiveDate) -> Result<CaseColumns, ApiError> {
        Ok(match self {
            Profile::Child(child) => {
                let codes = child.validate()?;
                let ages: Vec<String> = child
                    .children
                    .iter()
                    .map(|one| one.age_years.to_string())
                    .collect();
                child_columns(&codes, &ages)
            }
            Profile::Family(family) => family_columns(&family.validate(today)?),
        })
    }
}

fn needs_ranks(needs: &Needs) -> [i16; 3] {
    [
        needs.health.rank(),
        needs.development.rank(),
        needs.history.rank(),
    ]
}

fn child_columns(codes: &ChildCodes, ages: &[String]) -> CaseColumns {
    CaseColumns {
        region: codes.region.as_str().to_owned(),
        ethnicity: codes.ethnicity.as_str().to_owned(),
        plan: Some(codes.plan.as_str().to_owned()),
        legal_status: Some(codes.legal_status.as_str().to_owned()),
        approved_for: None,
        min_age: i16::from(codes.min_age),
        max_age: i16::from(codes.max_age),
        group_size: i16::from(codes.group_size),
        child_ages: Some(ages.join(",")),
        needs: needs_ranks(&codes.needs),
    }
}

fn family_columns(codes: &FamilyCodes) -> CaseColumns {
    CaseColumns {
        region: codes.region.as_str().to_owned(),
        ethnicity: codes.ethnicity.as_str().to_owned(),
        plan: None,
        legal_status: None,
        approved_for: Some(encode_plans(&codes.approved_for)),
        min_age: i16::from(codes.offer.min_age),
        max_age: i16::from(codes.offer.max_age),
        group_size: i16::from(codes.offer.max_children),
        child_ages: None,
        needs: needs_ranks(&codes.offer.needs),
    }
}

/// Reads the coded part of a stored child case back from its columns, for
/// matching without opening the sealed profile.
pub fn child_codes(row: &case::Model) -> Option<ChildCodes> {
    use kinlink_core::profiles::{Ethnicity, LegalStatus, Plan, Region};
    Some(ChildCodes {
        region: Region::parse(&row.region)?,
        legal_status: LegalStatus::parse(row.legal_status.as_deref()?)?,
        plan: Plan::parse(row.plan.as_deref()?)?,
        min_age: u8::try_from(row.min_age).ok()?,
        max_age: u8::try_from(row.max_age).ok()?,
        group_size: u8::try_from(row.group_size).ok()?,
        needs: stored_needs(row)?,
        ethnicity: Ethnicity::parse(&row.ethnicity)?,
    })
}

/// Reads the coded part of a stored family case back from its columns.
pub fn family_codes(row: &case::Model) -> Option<FamilyCodes> {
    use kinlink_core::profiles::{Ethnicity, Region};
    Some(FamilyCodes {
        region: Region::parse(&row.region)?,
        approved_for: decode_plans(row.approved_for.as_deref()?),
        offer: Offer {
            min_age: u8::try_from(row.min_age).ok()?,
            max_age: u8::try_from(row.max_age).ok()?,
            max_children: u8::try_from(row.group_size).ok()?,
            needs: stored_needs(row)?,
        },
        ethnicity: Ethnicity::parse(&row.ethnicity)?,
    })
}

fn stored_needs(row: &case::Model) -> Option<Needs> {
    Some(Needs {
        health: NeedLevel::from_rank(row.need_health)?,
        development: NeedLevel::from_rank(row.need_development)?,
        history: NeedLevel::from_rank(row.need_history)?,
    })
}

/// Seals a profile under the platform data key, bound to its case.
pub fn seal_profile(
    key: &SecretKey,
    case_id: uuid::Uuid,
    profile: &Profile,
) -> Result<Vec<u8>, ApiError> {
    let plaintext =
        serde_json::to_vec(profile).map_err(|error| ApiError::Internal(error.into()))?;
    let aad = bindings::case_profile(case_id, profile.kind().as_str());
    Ok(aead::seal(key, &plaintext, aad.as_bytes())?)
}

/// Opens a stored case's profile.
pub fn open_profile(key: &SecretKey, row: &case::Model) -> Result<Profile, ApiError> {
    let aad = bindings::case_profile(row.id, &row.kind);
    let plaintext = aead::open(key, &row.sealed_profile, aad.as_bytes())?;
    serde_json::from_slice(&plaintext).map_err(|error| ApiError::Internal(error.into()))
}

/// Returns an organisation's licence state now.
pub fn licence_now(organisation: &organisation::Model, now: DateTime<Utc>) -> LicenceState {
    licence_state(
        organisation.licence_starts_at,
        organisation.licence_expires_at,
        now,
    )
}

/// The caller's organisation, with its licence state.
pub struct Workplace {
    pub organisation: organisation::Model,
    pub licence: LicenceState,
}

impl Workplace {
    /// Returns the organisation's id.
    pub fn id(&self) -> OrganisationId {
        OrganisationId(self.organisation.id)
    }

    /// Returns `403` unless the licence allows creating and changing.
    pub fn require_changes(&self) -> Result<(), ApiError> {
        match self.licence {
            LicenceState::Active => Ok(()),
            LicenceState::ReadOnly => Err(ApiError::ReadOnly),
            LicenceState::NotStarted | LicenceState::Ended => Err(ApiError::LicenceInactive),
        }
    }
}

/// Loads the caller's organisation. Someone without one (the platform
/// operator) has no workplace and may use no case route.
pub async fn workplace(state: &AppState, user: &SignedIn) -> Result<Workplace, ApiError> {
    let Some(id) = user.organisation_id else {
        return Err(ApiError::Forbidden);
    };
    let organisation = state.store.organisation(id).await?;
    let licence = licence_now(&organisation, Utc::now());
    if !licence.allows_reading() {
        return Err(ApiError::LicenceInactive);
    }
    Ok(Workplace {
        organisation,
        licence,
    })
}

/// Loads the caller's organisation and returns `403` unless they may take
/// `action` as its staff, and for a change, unless its licence allows
/// changes.
pub async fn staff_workplace(
    state: &AppState,
    user: &SignedIn,
    action: Action,
) -> Result<Workplace, ApiError> {
    let workplace = workplace(state, user).await?;
    permissions::check(
        &user.roles,
        action,
        &[Relationship::OwningOrganisationStaff],
    )
    .map_err(|_denied| ApiError::Forbidden)?;
    if changes_case(action) {
        workplace.require_changes()?;
    }
    Ok(workplace)
}

/// The caller's standing towards one case.
pub struct CaseAccess {
    pub case: case::Model,
    pub relationships: Vec<Relationship>,
    pub workplace: Option<Workplace>,
}

impl CaseAccess {
    /// Returns whether the caller works for the case's organisation.
    pub fn owns(&self) -> bool {
        self.relationships
            .contains(&Relationship::OwningOrganisationStaff)
    }

    /// Returns `403` unless the caller may take `action` on the case, and
    /// for a change, unless their organisation's licence allows changes.
    pub fn require(&self, user: &SignedIn, action: Action) -> Result<(), ApiError> {
        permissions::check(&user.roles, action, &self.relationships)
            .map_err(|_denied| ApiError::Forbidden)?;
        if changes_case(action)
            && let Some(workplace) = &self.workplace
        {
            workplace.require_changes()?;
        }
        Ok(())
    }
}

/// Returns whether an action creates or changes case content, which an
/// organisation whose licence expired may no longer do.
pub fn changes_case(action: Action) -> bool {
    matches!(
        action,
        Action::CreateCase
            | Action::EditCase
            | Action::PublishCase
            | Action::ExpressInterest
            | Action::ChangeInterestState
            | Action::TransferCase
    )
}

/// Loads a case the caller may read; anything else returns `404`, exactly
/// like a case that does not exist.
pub async fn case_access(
    state: &AppState,
    user: &SignedIn,
    id: uuid::Uuid,
) -> Result<CaseAccess, ApiError> {
    // The licence comes first, so a caller whose licence has ended gets the
    // same response for every id and cannot tell which cases exist.
    let workplace = match user.organisation_id {
        Some(_) => Some(workplace(state, user).await?),
        None => None,
    };
    // A case marked to go is hidden everywhere, from its own organisation
    // too. Its managers find it only in the list of marked cases.
    let Some(case) = state
        .store
        .case(id)
        .await?
        .filter(|case| case.marked_at.is_none())
    else {
        return Err(ApiError::NotFound);
    };
    let mut relationships = Vec::new();
    if case.family_user_id == Some(user.user_id.0) {
        relationships.push(Relationship::CaseFamily);
    }
    // Only workers act for their organisation: a family that is a member
    // of it reaches its own case as the case's family alone.
    let staff = user.roles.iter().any(|role| role.is_worker());
    if let Some(workplace) = workplace.as_ref().filter(|_| staff) {
        if workplace.organisation.id == case.organisation_id {
            relationships.push(Relationship::OwningOrganisationStaff);
        } else if published_to(state, &case, workplace.id()).await? {
            relationships.push(Relationship::PublishedToActor);
        }
    }
    if takes_part_in_discussion(state, user, case.id).await? {
        relationships.push(Relationship::DiscussionParty);
    }
    permissions::check(&user.roles, Action::ReadCase, &relationships)
        .map_err(|_denied| ApiError::NotFound)?;
    Ok(CaseAccess {
        case,
        relationships,
        workplace,
    })
}

/// Returns whether the caller is a current member of a discussion about
/// the case whose interest has not been declined or withdrawn.
async fn takes_part_in_discussion(
    state: &AppState,
    user: &SignedIn,
    case_id: uuid::Uuid,
) -> Result<bool, ApiError> {
    for conversation in state.store.live_case_discussions(case_id).await? {
        let membership = state
            .store
            .active_membership(kinlink_core::ConversationId(conversation), user.user_id)
            .await?;
        if membership.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Returns whether workers of `organisation` may see a case's details in
/// lists now: their own case, one published to them, or one in a live
/// discussion with one of their cases.
pub async fn case_visible_to(
    state: &AppState,
    case: &case::Model,
    organisation: OrganisationId,
) -> Result<bool, ApiError> {
    if case.organisation_id == organisation.0 || published_to(state, case, organisation).await? {
        return Ok(true);
    }
    let is_child = case.kind == kinlink_core::profiles::CaseKind::Child.as_str();
    Ok(state
        .store
        .discussed_with(case.id, is_child, organisation)
        .await?)
}

/// Returns whether another organisation may see a case now: it is active,
/// published to all or by name to that organisation, and its owner's
/// licence is active.
async fn published_to(
    state: &AppState,
    case: &case::Model,
    viewer: OrganisationId,
) -> Result<bool, ApiError> {
    if case.status != "active" {
        return Ok(false);
    }
    let published = match case.visibility.as_str() {
        "all" => true,
        "named" => state.store.case_shared_with(case.id, viewer).await?,
        _ => false,
    };
    if !published {
        return Ok(false);
    }
    let owner = state
        .store
        .organisation(OrganisationId(case.organisation_id))
        .await?;
    Ok(licence_now(&owner, Utc::now()).allows_changes())
}

/// Appends a case event to the owning organisation's audit trail.
pub async fn audit_case(
    state: &AppState,
    actor: UserId,
    case: &case::Model,
    action: &'static str,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(actor),
            organisation_id: Some(OrganisationId(case.organisation_id)),
            action,
            subject_kind: "case",
            subject_id: Some(case.id),
            detail,
            at: Utc::now(),
        })
        .await?;
    Ok(())
}
