//! Rights requests: a person submits one from their own menu, or a worker
//! records one for someone, also for a person with no account. The
//! organisation's managers move each request on until it is completed or
//! refused with a legal reason. Every step is audited.
//!
//! A request goes to the placing organisation the person has a role in, or
//! to the platform's operator for someone with none (the operator's own
//! staff and community members included). Withdrawing marketing consent
//! needs no one: it takes effect at once.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use kinlink_core::crypto::{aead, bindings};
use kinlink_core::permissions::{self, Action, Relationship};
use kinlink_core::rights::{RightsKind, RightsState, due_on};
use kinlink_core::{OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::entity::rights_request;
use kinlink_store::rights::{NewRightsRequest, RightsMove};
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::state::AppState;

/// The maximum length of a request's details, in characters.
const MAX_DETAILS: usize = 2000;
/// The maximum length of a name or a contact of a person without an
/// account, in characters.
const MAX_SUBJECT_FIELD: usize = 200;
/// The maximum length of a refusal's legal reason, in characters.
const MAX_REASON: usize = 500;

/// The name and contact of a person without an account.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    name: String,
    /// An email or postal address, or a phone number.
    contact: String,
}

/// A request, as shown to its reader.
#[derive(Serialize)]
pub struct RightsRequestView {
    id: uuid::Uuid,
    kind: RightsKind,
    state: RightsState,
    organisation_id: Option<OrganisationId>,
    subject_user_id: Option<uuid::Uuid>,
    /// For staff: the person without an account the request is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<Subject>,
    details: Option<String>,
    recorded_by: uuid::Uuid,
    received_at: DateTime<Utc>,
    due_on: NaiveDate,
    /// Whether the request is open after its due day.
    overdue: bool,
    closed_at: Option<DateTime<Utc>>,
    reason: Option<String>,
}

fn seal(state: &AppState, id: uuid::Uuid, part: &str, text: &[u8]) -> Result<Vec<u8>, ApiError> {
    let aad = bindings::rights_request(id, part);
    Ok(aead::seal(&state.profile_key, text, aad.as_bytes())?)
}

fn open(state: &AppState, id: uuid::Uuid, part: &str, sealed: &[u8]) -> Result<Vec<u8>, ApiError> {
    let aad = bindings::rights_request(id, part);
    Ok(aead::open(&state.profile_key, sealed, aad.as_bytes())?)
}

fn view(
    state: &AppState,
    row: &rights_request::Model,
    staff: bool,
) -> Result<RightsRequestView, ApiError> {
    let kind = RightsKind::parse(&row.kind).ok_or(corrupt("kind"))?;
    let request_state = RightsState::parse(&row.state).ok_or(corrupt("state"))?;
    let details = match &row.sealed_details {
        Some(sealed) => Some(
            String::from_utf8(open(state, row.id, "details", sealed)?)
                .map_err(|_not_text| corrupt("details"))?,
        ),
        None => None,
    };
    let subject = match (&row.sealed_subject, staff) {
        (Some(sealed), true) => Some(
            serde_json::from_slice(&open(state, row.id, "subject", sealed)?)
                .map_err(|_not_json| corrupt("subject"))?,
        ),
        _ => None,
    };
    let today = Utc::now().date_naive();
    Ok(RightsRequestView {
        id: row.id,
        kind,
        state: request_state,
        organisation_id: row.organisation_id.map(OrganisationId),
        subject_user_id: row.subject_user_id,
        subject,
        details,
        recorded_by: row.recorded_by,
        received_at: row.received_at,
        due_on: row.due_on,
        overdue: !request_state.is_closed() && today > row.due_on,
        closed_at: row.closed_at,
        reason: row.reason.clone(),
    })
}

fn corrupt(what: &'static str) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("stored rights request {what} is invalid"))
}

/// Checks and trims an optional free text.
fn text_field(
    field: &'static str,
    text: Option<&str>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    kinlink_core::letterbox::free_text(field, text, max)?;
    Ok(Some(text.to_owned()))
}

/// Records a request with its sealed parts, and audits it.
async fn record(
    state: &AppState,
    actor: UserId,
    organisation: Option<OrganisationId>,
    subject_user: Option<UserId>,
    subject: Option<&Subject>,
    kind: RightsKind,
    details: Option<String>,
) -> Result<rights_request::Model, ApiError> {
    let id = uuid::Uuid::now_v7();
    let now = Utc::now();
    let sealed_subject = match subject {
        Some(subject) => {
            let json =
                serde_json::to_vec(subject).map_err(|error| ApiError::Internal(error.into()))?;
            Some(seal(state, id, "subject", &json)?)
        }
        None => None,
    };
    let sealed_details = match details {
        Some(text) => Some(seal(state, id, "details", text.as_bytes())?),
        None => None,
    };
    let row = state
        .store
        .record_rights_request(NewRightsRequest {
            id,
            organisation_id: organisation,
            subject_user_id: subject_user,
            sealed_subject,
            kind,
            sealed_details,
            recorded_by: actor,
            received_at: now,
            due_on: due_on(now),
        })
        .await?;
    audit(
        state,
        actor,
        &row,
        "rights.requested",
        serde_json::json!({
            "kind": kind.as_str(),
            "due_on": row.due_on,
            "for_someone_else": subject_user != Some(actor),
        }),
    )
    .await?;
    Ok(row)
}

async fn audit(
    state: &AppState,
    actor: UserId,
    row: &rights_request::Model,
    action: &'static str,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(actor),
            organisation_id: row.organisation_id.map(OrganisationId),
            action,
            subject_kind: "rights_request",
            subject_id: Some(row.id),
            detail,
            at: Utc::now(),
        })
        .await?;
    Ok(())
}

/// The body of a person's own request.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnRequestBody {
    kind: String,
    details: Option<String>,
}

/// Parses a right. The message does not repeat the value, which may be
/// long or hold characters that change the direction of text.
fn parse_kind(code: &str) -> Result<RightsKind, ApiError> {
    RightsKind::parse(code).ok_or_else(|| {
        invalid(
            "kind",
            "is not a right: use access, correction, erasure, restriction or marketing",
        )
    })
}

/// Returns an error unless a correction request has details.
fn require_correction_details(kind: RightsKind, details: Option<&str>) -> Result<(), ApiError> {
    if kind == RightsKind::Correction && details.is_none() {
        return Err(invalid(
            "details",
            "is required: say what is wrong and what is right",
        ));
    }
    Ok(())
}

/// Returns the placing organisation a person has a role in, whose desk
/// handles their requests, or `None` for the platform's operator.
async fn desk_of(state: &AppState, person: UserId) -> Result<Option<OrganisationId>, ApiError> {
    for grant in state.store.grants(person).await? {
        let organisation = state.store.organisation(grant.organisation_id).await?;
        if kinlink_core::organisations::places_children(&organisation.kind) {
            return Ok(Some(grant.organisation_id));
        }
    }
    Ok(None)
}

/// Records the caller's own request. Withdrawing marketing consent takes
/// effect at once and completes the request.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn ask(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<OwnRequestBody>,
) -> Result<HttpResponse, ApiError> {
    permissions::check(&user.roles, Action::AskRights, &[Relationship::Themselves])
        .map_err(|_denied| ApiError::Forbidden)?;
    let kind = parse_kind(&body.kind)?;
    let details = text_field("details", body.details.as_deref(), MAX_DETAILS)?;
    require_correction_details(kind, details.as_deref())?;
    let desk = desk_of(&state, user.user_id).await?;
    let mut row = record(
        &state,
        user.user_id,
        desk,
        Some(user.user_id),
        None,
        kind,
        details,
    )
    .await?;
    if kind == RightsKind::Marketing {
        let now = Utc::now();
        state
            .store
            .set_marketing_opt_in(user.user_id, false, now)
            .await?;
        if let Some(moved) = state
            .store
            .move_rights_request(RightsMove {
                id: row.id,
                from: RightsState::Received,
                to: RightsState::Completed,
                reason: None,
                by: user.user_id,
                at: now,
            })
            .await?
        {
            row = moved;
            audit(
                &state,
                user.user_id,
                &row,
                "rights.completed",
                serde_json::json!({
                    "kind": kind.as_str(),
                    "marketing_opt_in": false,
                }),
            )
            .await?;
        }
    }
    info!(request = %row.id, kind = kind.as_str(), "rights request received");
    Ok(HttpResponse::Created().json(view(&state, &row, false)?))
}

/// Starts the erasure of an account whose erasure request was completed:
/// the account is marked, which stops its sign-in and ends its sessions at
/// once, and the retention sweep erases it 14 days later.
async fn mark_for_erasure(
    state: &AppState,
    person: UserId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if !state
        .store
        .mark_user(person, kinlink_core::user_erasure::REQUESTED, now)
        .await?
    {
        return Ok(());
    }
    kinlink_actors::retention::log_deletion(
        Some(&state.config.retention.deletion_log(&state.config.data_dir)),
        kinlink_store::deletion_log::DeletedKind::UserMarked,
        person.0,
        now,
    )?;
    let grants = state.store.grants(person).await?;
    super::users::end_account(state, person, &grants).await?;
    state
        .store
        .audit(AuditRecord {
            actor_id: None,
            organisation_id: grants.first().map(|grant| grant.organisation_id),
            action: "retention.marked",
            subject_kind: "user",
            subject_id: Some(person.0),
            detail: serde_json::json!({
                "rule": "user_record",
                "reason": kinlink_core::user_erasure::REQUESTED,
                "final_step_after": now + kinlink_core::retention::FINAL_STEP_AFTER,
            }),
            at: now,
        })
        .await?;
    info!(user = %person, "account marked for erasure");
    Ok(())
}

/// Lists the caller's own requests.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn mine(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<RightsRequestView>>, ApiError> {
    permissions::check(&user.roles, Action::AskRights, &[Relationship::Themselves])
        .map_err(|_denied| ApiError::Forbidden)?;
    let rows = state.store.rights_requests_of_person(user.user_id).await?;
    let views = rows
        .iter()
        .map(|row| view(&state, row, false))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(views))
}

/// Returns the requests desk the caller works at: their organisation, or
/// for a platform admin the platform's operator (`None`), after checking
/// they may take `action` there.
fn desk(user: &SignedIn, action: Action) -> Result<Option<OrganisationId>, ApiError> {
    if permissions::check(
        &user.roles,
        action,
        &[Relationship::OwningOrganisationStaff],
    )
    .is_ok()
        && let Some(organisation) = user.organisation_id
    {
        return Ok(Some(organisation));
    }
    permissions::check(&user.roles, action, &[Relationship::Platform])
        .map_err(|_denied| ApiError::Forbidden)?;
    Ok(None)
}

/// Lists the requests the caller's organisation handles.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<RightsRequestView>>, ApiError> {
    let desk = desk(&user, Action::RecordRightsRequest)?;
    let rows = state.store.rights_requests_of_organisation(desk).await?;
    let views = rows
        .iter()
        .map(|row| view(&state, row, true))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(web::Json(views))
}

/// The body of a request a worker records for someone.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordBody {
    kind: String,
    /// The person's account, when they have one in the organisation.
    subject_user_id: Option<uuid::Uuid>,
    /// Or their name and contact, when they have no account.
    subject: Option<Subject>,
    details: Option<String>,
}

/// Records a request on someone's behalf: a person of the caller's
/// organisation, or someone with no account, such as an adult adoptee.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn record_for(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<RecordBody>,
) -> Result<HttpResponse, ApiError> {
    let desk = desk(&user, Action::RecordRightsRequest)?;
    let kind = parse_kind(&body.kind)?;
    let details = text_field("details", body.details.as_deref(), MAX_DETAILS)?;
    require_correction_details(kind, details.as_deref())?;
    let (subject_user, subject) = match (&body.subject_user_id, &body.subject) {
        (Some(id), None) => {
            let person = UserId(*id);
            let grants = state.store.grants(person).await?;
            // The operator's desk records for people with no placing
            // organisation: the others go to their organisation's desk.
            let belongs = match desk {
                Some(organisation) => grants
                    .iter()
                    .any(|grant| grant.organisation_id == organisation),
                None => {
                    state.store.user(person).await.is_ok()
                        && desk_of(&state, person).await?.is_none()
                }
            };
            if !belongs {
                return Err(invalid(
                    "subject_user_id",
                    format!(
                        "no person your desk handles has the id {id}: for an organisation, one with a role in it; for the operator, one with no placing organisation"
                    ),
                ));
            }
            (Some(person), None)
        }
        (None, Some(subject)) => {
            let name = text_field("subject.name", Some(&subject.name), MAX_SUBJECT_FIELD)?;
            let contact = text_field("subject.contact", Some(&subject.contact), MAX_SUBJECT_FIELD)?;
            let (Some(name), Some(contact)) = (name, contact) else {
                return Err(invalid(
                    "subject",
                    "needs both a name and a contact for someone without an account",
                ));
            };
            (None, Some(Subject { name, contact }))
        }
        _ => {
            return Err(invalid(
                "subject",
                "give either subject_user_id or subject (name and contact), not both or neither",
            ));
        }
    };
    let row = record(
        &state,
        user.user_id,
        desk,
        subject_user,
        subject.as_ref(),
        kind,
        details,
    )
    .await?;
    info!(request = %row.id, kind = kind.as_str(), "rights request recorded");
    Ok(HttpResponse::Created().json(view(&state, &row, true)?))
}

/// The body of a move to a new state.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MoveBody {
    state: String,
    /// The legal reason, required to refuse.
    reason: Option<String>,
}

/// Moves a request of the caller's organisation to its next state. A
/// refusal needs the legal reason, which is shown to the person.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn decide(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<MoveBody>,
) -> Result<HttpResponse, ApiError> {
    let desk = desk(&user, Action::DecideRightsRequest)?;
    let id: uuid::Uuid = super::parse_id(&path)?;
    let Some(row) = state
        .store
        .rights_request(id)
        .await?
        .filter(|row| row.organisation_id == desk.map(|desk| desk.0))
    else {
        return Err(ApiError::NotFound);
    };
    let to = RightsState::parse(&body.state).ok_or_else(|| {
        invalid(
            "state",
            "is not a state: use in_progress, completed or refused",
        )
    })?;
    // Only a refusal keeps a reason, so only a refusal's reason is checked.
    let reason = if to == RightsState::Refused {
        text_field("reason", body.reason.as_deref(), MAX_REASON)?
    } else {
        None
    };
    let from = RightsState::parse(&row.state).ok_or(corrupt("state"))?;
    from.check_move(to, reason.as_deref())?;
    // Completing an erasure of one's own account would leave no one to
    // check it, and could leave an organisation without its manager.
    if to == RightsState::Completed
        && row.kind == RightsKind::Erasure.as_str()
        && row.subject_user_id == Some(user.user_id.0)
    {
        return Err(ApiError::Conflict(
            "an erasure of your own account is completed by another manager or platform admin"
                .to_owned(),
        ));
    }
    let now = Utc::now();
    let Some(moved) = state
        .store
        .move_rights_request(RightsMove {
            id,
            from,
            to,
            reason: reason.as_deref(),
            by: user.user_id,
            at: now,
        })
        .await?
    else {
        return Err(ApiError::Conflict(
            "this request changed since you loaded it; reload it and decide again".to_owned(),
        ));
    };
    if to == RightsState::Completed
        && moved.kind == RightsKind::Marketing.as_str()
        && let Some(person) = moved.subject_user_id
    {
        state
            .store
            .set_marketing_opt_in(UserId(person), false, now)
            .await?;
    }
    if to == RightsState::Completed
        && moved.kind == RightsKind::Erasure.as_str()
        && let Some(person) = moved.subject_user_id
    {
        mark_for_erasure(&state, UserId(person), now).await?;
    }
    let action = match to {
        RightsState::Completed => "rights.completed",
        RightsState::Refused => "rights.refused",
        _ => "rights.in_progress",
    };
    audit(
        &state,
        user.user_id,
        &moved,
        action,
        serde_json::json!({
            "kind": moved.kind,
            "from": from.as_str(),
        }),
    )
    .await?;
    info!(request = %id, state = to.as_str(), "rights request moved");
    Ok(HttpResponse::Ok().json(view(&state, &moved, true)?))
}
