//! Families who keep their own profile. A worker of a family case's
//! organisation invites the household by email. Accepting the link creates
//! the family's account, linked to the case. The account is pending until
//! the worker who invited confirms it (`POST /users/{id}/confirm`). The family then
//! reads its own profile, and changes it and its photos when the
//! organisation lets families edit their profiles. The approval stays the
//! organisation's to record.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use kinlink_actors::events::Event;
use kinlink_core::crypto::keys::{PublicKey, seal_to};
use kinlink_core::crypto::{SecretKey, bindings};
use kinlink_core::permissions::{Action, Role};
use kinlink_core::profiles::CaseKind;
use kinlink_core::values::{DisplayName, EmailAddress};
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::conversations::{KeyRecipient, Rotation};
use kinlink_store::entity::{case, worker_invitation};
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use super::invitations::INVITATION_DAYS;
use super::workers::require_invitable;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::{CaseAccess, audit_case, case_access};
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FamilyInvitationBody {
    email: String,
    display_name: String,
}

/// Whether a family case's family keeps the profile, for the workers of
/// its organisation.
#[derive(Serialize)]
pub struct FamilyAccount {
    /// `none`, `invited`, `expired` (the newest invitation lapsed),
    /// `pending` (accepted, waiting for confirmation), `active` or
    /// `disabled`.
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    /// The account, for confirming it once it is `pending`.
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<UserId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<DateTime<Utc>>,
}

/// Describes a family case's family account.
pub async fn family_account(
    state: &AppState,
    row: &case::Model,
) -> Result<FamilyAccount, ApiError> {
    if let Some(user_id) = row.family_user_id.map(UserId) {
        let account = state.store.user(user_id).await?;
        let account_state = match account.status.as_str() {
            "pending" => "pending",
            "active" => "active",
            _ => "disabled",
        };
        return Ok(FamilyAccount {
            state: account_state,
            display_name: Some(account.display_name),
            email: Some(account.email),
            user_id: Some(user_id),
            expires_at: None,
        });
    }
    let now = Utc::now();
    Ok(match state.store.family_invitation_of_case(row.id).await? {
        // An accepted invitation whose account was unlinked since
        // leaves the case without a family account.
        Some(invitation) if invitation.accepted_at.is_none() => FamilyAccount {
            state: if invitation.expires_at > now {
                "invited"
            } else {
                "expired"
            },
            display_name: Some(invitation.display_name),
            email: Some(invitation.email),
            user_id: None,
            expires_at: Some(invitation.expires_at),
        },
        _ => FamilyAccount {
            state: "none",
            display_name: None,
            email: None,
            user_id: None,
            expires_at: None,
        },
    })
}

/// Loads a family case that a worker of its organisation changes.
async fn staff_family_case(
    state: &AppState,
    user: &SignedIn,
    id: uuid::Uuid,
) -> Result<CaseAccess, ApiError> {
    let access = case_access(state, user, id).await?;
    access.require(user, Action::EditCase)?;
    if !access.owns() {
        return Err(ApiError::Forbidden);
    }
    if access.case.kind != CaseKind::Family.as_str() {
        return Err(ApiError::Conflict(
            "only a family case has a family account".to_owned(),
        ));
    }
    Ok(access)
}

/// Invites the family a case describes to keep its own profile.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn invite(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<FamilyInvitationBody>,
) -> Result<HttpResponse, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let access = staff_family_case(&state, &user, id).await?;
    let email = EmailAddress::parse(&body.email)?;
    let display_name = DisplayName::parse(&body.display_name)?;
    if access.case.family_user_id.is_some() {
        return Err(ApiError::Conflict(
            "the profile has a family account already: remove it first".to_owned(),
        ));
    }
    let now = Utc::now();
    require_invitable(&state, &email, now).await?;
    let row = worker_invitation::Model {
        id: uuid::Uuid::now_v7(),
        organisation_id: access.case.organisation_id,
        invited_by: user.user_id.0,
        email: email.as_str().to_owned(),
        display_name: display_name.as_str().to_owned(),
        role: Role::Adopter.as_str().to_owned(),
        token_hash: None,
        enrolment_sealed_secret: None,
        created_at: now,
        expires_at: now + Duration::days(INVITATION_DAYS),
        accepted_at: None,
        user_id: None,
        case_id: Some(id),
    };
    // Only the newest invitation's link works, so a corrected address
    // replaces a mistyped one.
    state.store.withdraw_family_invitations(id, now).await?;
    state.store.create_worker_invitation(row.clone()).await?;
    audit_case(
        &state,
        user.user_id,
        &access.case,
        "case.family_invited",
        serde_json::json!({ "invitation": row.id }),
    )
    .await?;
    info!(case = %id, invitation = %row.id, "family invited to keep its profile");
    Ok(HttpResponse::Created().json(family_account(&state, &access.case).await?))
}

/// Takes a family out of every discussion about its case that it is still
/// a member of. Each discussion moves to a new key epoch, sealed to the
/// organisations of the interest's two cases and to the members who stay,
/// so nothing written afterwards is sealed to the family.
pub async fn leave_discussions(
    state: &AppState,
    case_id: uuid::Uuid,
    family: UserId,
    actor: UserId,
) -> Result<(), ApiError> {
    for conversation in state.store.case_discussions(case_id).await? {
        let id = ConversationId(conversation);
        if state.store.active_membership(id, family).await?.is_none() {
            continue;
        }
        let Some(interest) = state.store.interest_of_conversation(conversation).await? else {
            continue;
        };
        let row = state.store.conversation(id).await?;
        let epoch = row.key_epoch + 1;
        let info = bindings::conversation_key_info(id, epoch);
        let key = SecretKey::generate()?;
        let mut organisations = Vec::new();
        for case in [interest.child_case_id, interest.family_case_id] {
            if let Some(case) = state.store.case(case).await? {
                organisations.push(OrganisationId(case.organisation_id));
            }
        }
        organisations.sort_by_key(|organisation| organisation.0);
        organisations.dedup();
        let mut sealed_keys = Vec::new();
        for organisation in organisations {
            let public =
                PublicKey::from_slice(&state.store.organisation(organisation).await?.public_key)?;
            sealed_keys.push((
                KeyRecipient::Organisation(organisation),
                seal_to(&public, &key, &info)?,
            ));
        }
        for member in state.store.members(id).await? {
            if member.user_id == family {
                continue;
            }
            let public =
                PublicKey::from_slice(&state.store.user(member.user_id).await?.public_key)?;
            sealed_keys.push((
                KeyRecipient::User(member.user_id),
                seal_to(&public, &key, &info)?,
            ));
        }
        let epoch = state
            .store
            .remove_member_and_rotate(Rotation {
                conversation_id: id,
                removed: family,
                from_epoch: row.key_epoch,
                sealed_keys,
                at: Utc::now(),
            })
            .await?;
        state
            .broker
            .publish(Event::MemberRemoved {
                conversation_id: id,
                user_id: family,
            })
            .await;
        state.calls.member_removed(id, family);
        state
            .store
            .audit(AuditRecord {
                actor_id: Some(actor),
                organisation_id: Some(OrganisationId(row.organisation_id)),
                action: "conversation.member_removed",
                subject_kind: "conversation",
                subject_id: Some(id.0),
                detail: serde_json::json!({ "removed": family, "key_epoch": epoch }),
                at: Utc::now(),
            })
            .await?;
    }
    Ok(())
}

/// Ends a family's access to its profile, or withdraws the invitation
/// that waits for it. The account stays, for anything else it takes part
/// in.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn remove(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let access = staff_family_case(&state, &user, id).await?;
    let unlinked = state
        .store
        .unlink_family_account(id, OrganisationId(access.case.organisation_id))
        .await?;
    let withdrawn = state
        .store
        .withdraw_family_invitations(id, Utc::now())
        .await?;
    if let Some(account) = unlinked {
        leave_discussions(&state, id, account, user.user_id).await?;
    }
    let (action, detail) = match unlinked {
        Some(account) => (
            "case.family_account_removed",
            serde_json::json!({ "user": account }),
        ),
        None if withdrawn => ("case.family_invitation_withdrawn", serde_json::json!({})),
        None => return Err(ApiError::NotFound),
    };
    audit_case(&state, user.user_id, &access.case, action, detail).await?;
    info!(case = %id, action, "family access to its profile ended");
    Ok(HttpResponse::NoContent().finish())
}
