//! Invitations into a contact link. The supervising practitioner invites a
//! family member by email; the email's link (its token after `#`, so it
//! never reaches a server or proxy log) opens the web page, which sends
//! the token in the body of a `POST`. Accepting creates an account that is
//! pending until the practitioner who invited confirms who it is; only
//! then does it join the link.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use kinlink_core::crypto::token::Token;
use kinlink_core::letterbox::{LinkStatus, PartyRelationship, Side};
use kinlink_core::permissions::{Action, Role};
use kinlink_core::values::{DisplayName, EmailAddress};
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::entity::invitation;
use kinlink_store::invitations::InvitationProblem;
use kinlink_store::users::AccountStatus;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use crate::accounts::{AccountRequest, prepare_account};
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox::{self, invalid};
use crate::state::AppState;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    email: String,
    display_name: String,
    side: String,
    relationship: String,
}

#[derive(Serialize)]
pub struct InvitationView {
    id: uuid::Uuid,
    email: String,
    display_name: String,
    side: String,
    relationship: String,
    status: &'static str,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    user_id: Option<UserId>,
}

fn status_of(row: &invitation::Model, now: DateTime<Utc>) -> &'static str {
    if row.confirmed_at.is_some() {
        "confirmed"
    } else if row.accepted_at.is_some() {
        "accepted"
    } else if row.expires_at <= now {
        "expired"
    } else {
        "waiting"
    }
}

fn view(row: invitation::Model, now: DateTime<Utc>) -> InvitationView {
    InvitationView {
        id: row.id,
        status: status_of(&row, now),
        email: row.email,
        display_name: row.display_name,
        side: row.side,
        relationship: row.relationship,
        created_at: row.created_at,
        expires_at: row.expires_at,
        user_id: row.user_id.map(UserId),
    }
}

/// Invites a family member into a contact link by email.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn create(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<InviteBody>,
) -> Result<HttpResponse, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let link = letterbox::link(&state, &user, id).await?;
    link.require(&user, Action::ManageMembers)?;
    let email = EmailAddress::parse(&body.email)?;
    let display_name = DisplayName::parse(&body.display_name)?;
    let side = Side::parse(&body.side).ok_or_else(|| {
        invalid(
            "side",
            format!("unknown side {:?}: expected adoptive or birth", body.side),
        )
    })?;
    let relationship = PartyRelationship::parse(&body.relationship).ok_or_else(|| {
        invalid(
            "relationship",
            format!("unknown relationship {:?}", body.relationship),
        )
    })?;
    if relationship.side() != side {
        return Err(invalid(
            "relationship",
            format!(
                "{} belongs to the {} side",
                relationship.as_str(),
                relationship.side().as_str()
            ),
        ));
    }
    if let Some(agreement) = &link.agreement
        && agreement.row.status != LinkStatus::Active.as_str()
    {
        return Err(ApiError::Conflict(format!(
            "the contact link is {}: nobody new can be invited",
            agreement.row.status
        )));
    }
    let now = Utc::now();
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
    if state.store.open_invitation_for(email.as_str(), now).await? {
        return Err(ApiError::Conflict(
            "an invitation to this email is waiting already".to_owned(),
        ));
    }
    let row = invitation::Model {
        id: uuid::Uuid::now_v7(),
        conversation_id: id.0,
        invited_by: user.user_id.0,
        email: email.as_str().to_owned(),
        display_name: display_name.as_str().to_owned(),
        side: side.as_str().to_owned(),
        relationship: relationship.as_str().to_owned(),
        token_hash: None,
        created_at: now,
        expires_at: now + Duration::days(INVITATION_DAYS),
        accepted_at: None,
        user_id: None,
        confirmed_at: None,
    };
    state.store.create_invitation(row.clone()).await?;
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(OrganisationId(link.conversation.organisation_id)),
            action: "invitation.created",
            subject_kind: "conversation",
            subject_id: Some(id.0),
            detail: serde_json::json!({ "invitation": row.id, "side": side.as_str() }),
            at: now,
        })
        .await?;
    info!(conversation = %id, invitation = %row.id, "invitation created");
    Ok(HttpResponse::Created().json(view(row, now)))
}

/// Lists a link's invitations, for its supervisor.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<InvitationView>>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let link = letterbox::link(&state, &user, id).await?;
    link.require(&user, Action::ManageMembers)?;
    let now = Utc::now();
    Ok(web::Json(
        state
            .store
            .invitations_of(id)
            .await?
            .into_iter()
            .map(|row| view(row, now))
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

#[derive(Serialize)]
pub struct OpenedView {
    display_name: String,
    expires_at: DateTime<Utc>,
}

/// Finds the invitation a link token opens, or says why it cannot be used.
async fn find(
    state: &AppState,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(invitation::Model, [u8; 32]), ApiError> {
    let token = Token::parse(text).ok_or(ApiError::Invitation(InvitationProblem::Unknown))?;
    let hash = token.hash();
    let invitation = state
        .store
        .invitation_by_token(&hash, now)
        .await?
        .map_err(ApiError::Invitation)?;
    Ok((invitation, hash))
}

/// Tells the page whom an invitation link is for, without using it.
#[instrument(skip_all)]
pub async fn open(
    state: web::Data<AppState>,
    body: JsonBody<TokenBody>,
) -> Result<web::Json<OpenedView>, ApiError> {
    let (invitation, _hash) = find(&state, &body.token, Utc::now()).await?;
    Ok(web::Json(OpenedView {
        display_name: invitation.display_name,
        expires_at: invitation.expires_at,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptBody {
    token: String,
    password: String,
    /// Whether the person wants news about KinLink by email; off unless
    /// they tick it.
    #[serde(default)]
    marketing: bool,
}

/// Uses an invitation link: creates the invited person's account, pending
/// until the practitioner who invited confirms them.
#[instrument(skip_all)]
pub async fn accept(
    state: web::Data<AppState>,
    body: JsonBody<AcceptBody>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let (invitation, hash) = find(&state, &body.token, now).await?;
    let side = Side::parse(&invitation.side).ok_or(ApiError::Internal(anyhow::anyhow!(
        "stored invitation side is invalid"
    )))?;
    let role = match side {
        Side::Adoptive => Role::AdoptiveFamilyMember,
        Side::Birth => Role::BirthFamilyMember,
    };
    let conversation = state
        .store
        .conversation(ConversationId(invitation.conversation_id))
        .await?;
    let organisation = OrganisationId(conversation.organisation_id);
    let (user, secrets) = prepare_account(
        &state.recovery_public_key,
        AccountRequest {
            email: &invitation.email,
            display_name: &invitation.display_name,
            password: &body.password,
            status: AccountStatus::Pending,
            organisation,
            role,
            invited_by: Some(UserId(invitation.invited_by)),
            marketing_opt_in: body.marketing,
        },
    )
    .await?;

    let accepted = match state
        .store
        .accept_invitation(&invitation, &hash, user, (organisation, role), now)
        .await
    {
        Ok(accepted) => accepted,
        Err(error) if error.is_unique_violation() => {
            return Err(ApiError::Conflict(
                "an account with this email exists already".to_owned(),
            ));
        }
        Err(error) => return Err(error.into()),
    };
    if !accepted {
        return Err(ApiError::Invitation(InvitationProblem::Used));
    }

    state
        .store
        .audit(AuditRecord {
            actor_id: Some(secrets.user_id),
            organisation_id: Some(organisation),
            action: "invitation.accepted",
            subject_kind: "user",
            subject_id: Some(secrets.user_id.0),
            detail: serde_json::json!({ "invitation": invitation.id }),
            at: now,
        })
        .await?;
    info!(invitation = %invitation.id, user = %secrets.user_id, "invitation accepted");
    Ok(HttpResponse::Created().json(serde_json::json!({
        "user_id": secrets.user_id,
        "status": "pending",
    })))
}
