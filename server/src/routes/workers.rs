//! An organisation's workers: a manager invites a practitioner or another
//! manager by email, sees who is waiting for approval, and approves them
//! through the accounts' confirm route.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use kinlink_core::permissions::{self, Action, Relationship, Role};
use kinlink_core::values::{DisplayName, EmailAddress};
use kinlink_core::{OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::entity::worker_invitation;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use super::invitations::INVITATION_DAYS;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteWorkerBody {
    email: String,
    display_name: String,
    role: String,
}

#[derive(Serialize)]
pub struct WorkerInvitationView {
    id: uuid::Uuid,
    email: String,
    display_name: String,
    role: String,
    status: &'static str,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_id: Option<UserId>,
}

fn view(row: worker_invitation::Model, now: DateTime<Utc>) -> WorkerInvitationView {
    let status = if row.accepted_at.is_some() {
        "accepted"
    } else if row.expires_at <= now {
        "expired"
    } else {
        "waiting"
    };
    WorkerInvitationView {
        id: row.id,
        status,
        email: row.email,
        display_name: row.display_name,
        role: row.role,
        created_at: row.created_at,
        expires_at: row.expires_at,
        user_id: row.user_id.map(UserId),
    }
}

#[derive(Serialize)]
pub struct WorkerView {
    user_id: UserId,
    display_name: String,
    email: String,
    role: Role,
    status: String,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct WorkersView {
    workers: Vec<WorkerView>,
    invitations: Vec<WorkerInvitationView>,
}

/// Checks that the actor may invite and approve workers of the
/// organisation in the path: only the roles they hold in that organisation
/// count.
async fn require_manager(
    state: &AppState,
    actor: &SignedIn,
    path: &str,
) -> Result<OrganisationId, ApiError> {
    let organisation: OrganisationId = super::parse_id(path)?;
    let roles: Vec<Role> = state
        .store
        .grants(actor.user_id)
        .await?
        .into_iter()
        .filter(|grant| grant.organisation_id == organisation)
        .map(|grant| grant.role)
        .collect();
    if !roles.is_empty() {
        permissions::check(
            &roles,
            Action::InviteWorker,
            &[Relationship::OwningOrganisationStaff],
        )
        .map_err(|_denied| ApiError::Forbidden)?;
        return Ok(organisation);
    }
    if founding_operator(state, actor, organisation).await? {
        return Ok(organisation);
    }
    Err(ApiError::NotFound)
}

/// Returns whether the actor is a platform operator acting for an
/// organisation that no worker has a key for yet, which may invite and
/// approve its first manager.
pub async fn founding_operator(
    state: &AppState,
    actor: &SignedIn,
    organisation: OrganisationId,
) -> Result<bool, ApiError> {
    if !actor.roles.contains(&Role::PlatformAdmin) {
        return Ok(false);
    }
    match state.store.organisation(organisation).await {
        Ok(row) if row.kind != kinlink_core::organisations::OPERATOR_KIND => {}
        Ok(_) | Err(kinlink_store::StoreError::NotFound { .. }) => return Ok(false),
        Err(other) => return Err(other.into()),
    }
    if founded(state, organisation).await? {
        return Ok(false);
    }
    Ok(permissions::check(
        &actor.roles,
        Action::InviteWorker,
        &[Relationship::FoundingOperator],
    )
    .is_ok())
}

/// Returns whether an organisation is founded: its own managers approve its
/// workers, and the operator no longer may. An organisation that ever had a
/// confirmed worker is founded, even if every one of them was disabled
/// since: the operator must not become able to hand its key and its cases
/// to a manager of their choosing.
// NOTE: restoring such an organisation needs the recovery of an
// organisation key, which is not built yet.
pub async fn founded(state: &AppState, organisation: OrganisationId) -> Result<bool, ApiError> {
    let confirmed_worker = state
        .store
        .workers_of(organisation)
        .await?
        .iter()
        .any(|worker| worker.status != "pending");
    Ok(confirmed_worker
        || state.store.organisation_key_holders(organisation).await? > 0
        || state.store.organisation_key_in_use(organisation).await?)
}

/// Returns `409` unless an invitation may go to `email`: no account has it
/// and no invitation to it waits.
pub async fn require_invitable(
    state: &AppState,
    email: &EmailAddress,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    if state
        .store
        .find_user_by_email(email.as_str())
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict(
            "an account with this email exists already; an invitation creates a new account"
                .to_owned(),
        ));
    }
    if state
        .store
        .open_worker_invitation_for(email.as_str(), now)
        .await?
        || state.store.open_invitation_for(email.as_str(), now).await?
    {
        return Err(ApiError::Conflict(
            "an invitation to this email is waiting already".to_owned(),
        ));
    }
    Ok(())
}

/// Parses the role a worker is invited to: a community partner's staff
/// are its moderators, and a placing organisation's its practitioners and
/// managers.
async fn worker_role(
    state: &AppState,
    organisation: OrganisationId,
    text: &str,
) -> Result<Role, ApiError> {
    let kind = state.store.organisation(organisation).await?.kind;
    if !kinlink_core::organisations::places_children(&kind) {
        return match Role::parse(text) {
            Some(Role::Moderator) => Ok(Role::Moderator),
            _ => Err(invalid(
                "role",
                format!("unknown role {text:?}: a community partner's staff are moderators"),
            )),
        };
    }
    match Role::parse(text) {
        Some(role @ (Role::Practitioner | Role::Manager)) => Ok(role),
        _ => Err(invalid(
            "role",
            format!("unknown role {text:?}: expected practitioner or manager"),
        )),
    }
}

/// Invites a worker into the organisation by email.
#[instrument(skip_all, fields(user = %actor.user_id))]
pub async fn invite(
    state: web::Data<AppState>,
    actor: SignedIn,
    path: web::Path<String>,
    body: JsonBody<InviteWorkerBody>,
) -> Result<HttpResponse, ApiError> {
    let organisation = require_manager(&state, &actor, &path).await?;
    let email = EmailAddress::parse(&body.email)?;
    let display_name = DisplayName::parse(&body.display_name)?;
    let role = worker_role(&state, organisation, &body.role).await?;
    if role == Role::Practitioner && founding_operator(&state, &actor, organisation).await? {
        return Err(invalid(
            "role",
            "an organisation's first worker is its manager, who then invites the rest",
        ));
    }
    let now = Utc::now();
    require_invitable(&state, &email, now).await?;
    let row = worker_invitation::Model {
        id: uuid::Uuid::now_v7(),
        organisation_id: organisation.0,
        invited_by: actor.user_id.0,
        email: email.as_str().to_owned(),
        display_name: display_name.as_str().to_owned(),
        role: role.as_str().to_owned(),
        token_hash: None,
        enrolment_sealed_secret: None,
        created_at: now,
        expires_at: now + Duration::days(INVITATION_DAYS),
        accepted_at: None,
        user_id: None,
        case_id: None,
    };
    state.store.create_worker_invitation(row.clone()).await?;
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(actor.user_id),
            organisation_id: Some(organisation),
            action: "worker_invitation.created",
            subject_kind: "organisation",
            subject_id: Some(organisation.0),
            detail: serde_json::json!({ "invitation": row.id, "role": role.as_str() }),
            at: now,
        })
        .await?;
    info!(%organisation, invitation = %row.id, "worker invitation created");
    Ok(HttpResponse::Created().json(view(row, now)))
}

/// Lists the organisation's workers, pending ones included, and its worker
/// invitations.
#[instrument(skip_all, fields(user = %actor.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    actor: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<WorkersView>, ApiError> {
    let organisation = require_manager(&state, &actor, &path).await?;
    let now = Utc::now();
    let workers = state
        .store
        .workers_of(organisation)
        .await?
        .into_iter()
        .map(|worker| WorkerView {
            user_id: worker.user_id,
            display_name: worker.display_name,
            email: worker.email,
            role: worker.role,
            status: worker.status,
            created_at: worker.created_at,
        })
        .collect();
    let invitations = state
        .store
        .worker_invitations_of(organisation)
        .await?
        .into_iter()
        .map(|row| view(row, now))
        .collect();
    Ok(web::Json(WorkersView {
        workers,
        invitations,
    }))
}
