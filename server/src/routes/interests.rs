//! Expressions of interest: a family's worker enquires about a child, which
//! opens an encrypted discussion between the two organisations, and the
//! parties move the interest on until it ends with a reason.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::crypto::keys::{PublicKey, seal_to};
use kinlink_core::crypto::{SecretKey, bindings};
use kinlink_core::interests::{EndReason, InterestState, Side, check_transition};
use kinlink_core::permissions::{self, Action, Relationship};
use kinlink_core::profiles::CaseKind;
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::conversations::{ConversationKind, KeyRecipient, NewConversation};
use kinlink_store::entity::{case, interest};
use kinlink_store::interests::{NewInterest, Opened};
use kinlink_store::users::AccountStatus;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use super::cases::{CaseSummary, summary, withheld_summary};
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::{case_access, case_visible_to, staff_workplace, workplace};
use crate::letterbox::invalid;
use crate::state::AppState;

/// An expression of interest, as returned to either side.
#[derive(Serialize)]
pub struct InterestView {
    id: uuid::Uuid,
    child: CaseSummary,
    family: CaseSummary,
    /// The discussion between the organisations.
    conversation_id: ConversationId,
    state: String,
    reason: Option<String>,
    opened_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

async fn view(
    state: &AppState,
    row: interest::Model,
    reader: OrganisationId,
) -> Result<InterestView, ApiError> {
    let child = state.store.case(row.child_case_id).await?;
    let family = state.store.case(row.family_case_id).await?;
    let (Some(child), Some(family)) = (child, family) else {
        return Err(ApiError::NotFound);
    };
    Ok(InterestView {
        id: row.id,
        child: summary_for(state, &child, reader).await?,
        family: summary_for(state, &family, reader).await?,
        conversation_id: ConversationId(row.conversation_id),
        state: row.state,
        reason: row.reason,
        opened_at: row.opened_at,
        updated_at: row.updated_at,
    })
}

/// Returns a case's summary, or only its id and organisation when the
/// reader's organisation may no longer see it.
async fn summary_for(
    state: &AppState,
    row: &case::Model,
    reader: OrganisationId,
) -> Result<CaseSummary, ApiError> {
    if case_visible_to(state, row, reader).await? {
        summary(state, row, reader).await
    } else {
        withheld_summary(state, row).await
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpressBody {
    family_case_id: String,
}

/// Returns the active account's public key, or `None` for an account that
/// is not active (it does not join a new discussion).
async fn active_key(state: &AppState, user: UserId) -> Result<Option<PublicKey>, ApiError> {
    let row = state.store.user(user).await?;
    if row.status != AccountStatus::Active.as_str() {
        return Ok(None);
    }
    Ok(Some(PublicKey::from_slice(&row.public_key)?))
}

/// Returns who joins a new discussion for the child's organisation: the
/// practitioner who wrote the case while they still work there, or else,
/// as after a transfer, the organisation's managers.
async fn child_side_workers(
    state: &AppState,
    child: &case::Model,
) -> Result<Vec<UserId>, ApiError> {
    let organisation = OrganisationId(child.organisation_id);
    let author = UserId(child.created_by);
    let author_works_there = state
        .store
        .grants(author)
        .await?
        .iter()
        .any(|grant| grant.organisation_id == organisation);
    if author_works_there {
        return Ok(vec![author]);
    }
    Ok(state
        .store
        .workers_of(organisation)
        .await?
        .into_iter()
        .filter(|worker| worker.role == kinlink_core::permissions::Role::Manager)
        .map(|worker| worker.user_id)
        .collect())
}

/// Builds the discussion of a new interest: its key sealed to both
/// organisations and to each member.
async fn discussion(
    state: &AppState,
    user: &SignedIn,
    child: &case::Model,
    family: &case::Model,
) -> Result<NewConversation, ApiError> {
    let id = ConversationId::new();
    let key = SecretKey::generate()?;
    let info = bindings::conversation_key_info(id, 0);
    let child_organisation = OrganisationId(child.organisation_id);
    let mut sealed_keys = Vec::new();
    let mut organisations = vec![child_organisation];
    if family.organisation_id != child.organisation_id {
        organisations.push(OrganisationId(family.organisation_id));
    }
    for organisation in organisations {
        let row = state.store.organisation(organisation).await?;
        let public = PublicKey::from_slice(&row.public_key)?;
        sealed_keys.push((
            KeyRecipient::Organisation(organisation),
            seal_to(&public, &key, &info)?,
        ));
    }
    let mut members = vec![user.user_id];
    for worker in child_side_workers(state, child).await? {
        if !members.contains(&worker) {
            members.push(worker);
        }
    }
    if let Some(family_user) = family.family_user_id.map(UserId) {
        let owner = state
            .store
            .organisation(OrganisationId(family.organisation_id))
            .await?;
        if owner.families_edit_profiles && !members.contains(&family_user) {
            members.push(family_user);
        }
    }
    let mut joined = Vec::new();
    for member in members {
        if let Some(public) = active_key(state, member).await? {
            sealed_keys.push((KeyRecipient::User(member), seal_to(&public, &key, &info)?));
            joined.push((member, "participant"));
        }
    }
    Ok(NewConversation {
        id,
        kind: ConversationKind::Discussion,
        organisation_id: child_organisation,
        created_by: user.user_id,
        members: joined,
        sealed_keys,
        created_at: Utc::now(),
    })
}

/// Expresses a family case's interest in a child case, opening a
/// discussion between the two organisations.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn express(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<ExpressBody>,
) -> Result<HttpResponse, ApiError> {
    let child_id: uuid::Uuid = super::parse_id(&path)?;
    let child = case_access(&state, &user, child_id).await?;
    if child.case.kind != CaseKind::Child.as_str() {
        return Err(ApiError::NotFound);
    }
    let family_id: uuid::Uuid = body
        .family_case_id
        .parse()
        .map_err(|_not_an_id| invalid("family_case_id", "is not a case id"))?;
    let family = match case_access(&state, &user, family_id).await {
        Err(ApiError::NotFound) => {
            return Err(invalid(
                "family_case_id",
                "is not a family case you can act for",
            ));
        }
        other => other?,
    };
    if family.case.kind != CaseKind::Family.as_str() {
        return Err(invalid("family_case_id", "is not a family case"));
    }
    family.require(&user, Action::ExpressInterest)?;
    if child.case.status != "active" {
        return Err(ApiError::Conflict(
            "the child's case is no longer in family finding".to_owned(),
        ));
    }
    if family.case.status != "active" {
        return Err(invalid(
            "family_case_id",
            "the family's case is no longer in family finding",
        ));
    }
    let now = Utc::now();
    let new = NewInterest {
        id: uuid::Uuid::now_v7(),
        child_case_id: child.case.id,
        family_case_id: family.case.id,
        child_organisation: OrganisationId(child.case.organisation_id),
        family_organisation: OrganisationId(family.case.organisation_id),
        opened_by: user.user_id,
        at: now,
        discussion: discussion(&state, &user, &child.case, &family.case).await?,
    };
    let max_open = state.config.family_finding.max_open_interests;
    let row = match state.store.open_interest(new, max_open).await? {
        Opened::Opened(row) => row,
        Opened::CaseChanged => {
            return Err(ApiError::Conflict(
                "the child's or the family's case changed meanwhile; reload it and try again"
                    .to_owned(),
            ));
        }
        Opened::AlreadyOpen => {
            return Err(ApiError::Conflict(
                "this family already has an interest in this child that has not ended".to_owned(),
            ));
        }
        Opened::AtLimit { open } => {
            return Err(ApiError::Conflict(format!(
                "this family has {open} interests that have not ended, the most allowed; end one before expressing another"
            )));
        }
    };
    audit_both(&state, &user, &row, "interest.opened", None).await?;
    info!(interest = %row.id, conversation = %row.conversation_id, "interest expressed");
    let reader = family
        .workplace
        .as_ref()
        .map_or(OrganisationId(family.case.organisation_id), |w| w.id());
    Ok(HttpResponse::Created().json(view(&state, row, reader).await?))
}

/// Writes an interest event to the trails of both organisations.
async fn audit_both(
    state: &AppState,
    user: &SignedIn,
    row: &interest::Model,
    action: &'static str,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let mut sides = Vec::new();
    for case_id in [row.child_case_id, row.family_case_id] {
        if let Some(case) = state.store.case(case_id).await? {
            sides.push((OrganisationId(case.organisation_id), case.id));
        }
    }
    if sides.len() == 2 && sides[0].0 == sides[1].0 {
        sides.truncate(1);
    }
    for (organisation, case_id) in sides {
        state
            .store
            .audit(AuditRecord {
                actor_id: Some(user.user_id),
                organisation_id: Some(organisation),
                action,
                subject_kind: "case",
                subject_id: Some(case_id),
                detail: serde_json::json!({
                    "interest": row.id,
                    "state": row.state,
                    "reason": reason,
                }),
                at: Utc::now(),
            })
            .await?;
    }
    Ok(())
}

/// Lists the interests in the caller's organisation's cases, on either
/// side, most recently changed first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<InterestView>>, ApiError> {
    let workplace = staff_workplace(&state, &user, Action::ReadCase).await?;
    let mut views = Vec::new();
    for row in state.store.organisation_interests(workplace.id()).await? {
        views.push(view(&state, row, workplace.id()).await?);
    }
    Ok(web::Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateBody {
    state: String,
    reason: Option<String>,
}

/// Moves an interest to its next state, or ends it with a reason. Only the
/// discussion's current members may.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn set_state(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<StateBody>,
) -> Result<web::Json<InterestView>, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let Some(current) = state.store.interest(id).await? else {
        return Err(ApiError::NotFound);
    };
    let membership = state
        .store
        .active_membership(ConversationId(current.conversation_id), user.user_id)
        .await?;
    if membership.is_none() {
        return Err(ApiError::NotFound);
    }
    let workplace = workplace(&state, &user).await?;
    permissions::check(
        &user.roles,
        Action::ChangeInterestState,
        &[Relationship::DiscussionParty],
    )
    .map_err(|_denied| ApiError::Forbidden)?;
    workplace.require_changes()?;
    let to = InterestState::parse(&body.state).ok_or_else(|| {
        invalid(
            "state",
            "must be progressing, linked, placed, declined or withdrawn",
        )
    })?;
    let reason = match body.reason.as_deref() {
        None => None,
        Some(code) => Some(
            EndReason::parse(code)
                .ok_or_else(|| invalid("reason", "is not a known reason code"))?,
        ),
    };
    let from = InterestState::parse(&current.state).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("stored interest state {:?}", current.state))
    })?;
    let reason = check_transition(from, to, reason)?;
    let mut sides = Vec::new();
    for (case_id, side) in [
        (current.child_case_id, Side::Child),
        (current.family_case_id, Side::Family),
    ] {
        let held = state.store.case(case_id).await?;
        if held.is_some_and(|case| case.organisation_id == workplace.organisation.id) {
            sides.push(side);
        }
    }
    if !sides.iter().any(|side| to.decided_by(*side)) {
        return Err(ApiError::Forbidden);
    }
    let moved = state
        .store
        .move_interest(
            &current,
            to.as_str(),
            reason.map(EndReason::as_str),
            user.user_id,
            Utc::now(),
        )
        .await?;
    let Some(moved) = moved else {
        return Err(ApiError::Conflict(
            "the interest changed meanwhile; reload it and try again".to_owned(),
        ));
    };
    for ended in &moved.ended {
        audit_both(
            &state,
            &user,
            ended,
            "interest.state_changed",
            ended.reason.as_deref(),
        )
        .await?;
    }
    let row = moved.interest;
    audit_both(
        &state,
        &user,
        &row,
        "interest.state_changed",
        reason.map(EndReason::as_str),
    )
    .await?;
    info!(interest = %row.id, state = %row.state, "interest moved");
    Ok(web::Json(view(&state, row, workplace.id()).await?))
}
