//! Invitations into a contact link, and the shared steps of worker
//! invitations (see `workers`). The supervising practitioner invites a
//! family member by email; the email's link (its token after `#`, so it
//! never reaches a server or proxy log) opens the web page, which sends
//! the token in the body of a `POST`. Accepting creates an account that is
//! pending until the practitioner who invited confirms who it is; only
//! then does it join the link.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Utc};
use kinlink_core::crypto::token::Token;
use kinlink_core::crypto::{aead, bindings, totp};
use kinlink_core::letterbox::{LinkStatus, PartyRelationship, Side};
use kinlink_core::permissions::{Action, Role};
use kinlink_core::values::{DisplayName, EmailAddress};
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::entity::{invitation, worker_invitation};
use kinlink_store::invitations::InvitationProblem;
use kinlink_store::users::AccountStatus;
use kinlink_store::worker_invitations::AcceptedWorker;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};
use zeroize::Zeroizing;

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
    if state.store.open_invitation_for(email.as_str(), now).await?
        || state
            .store
            .open_worker_invitation_for(email.as_str(), now)
            .await?
    {
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
    pub(crate) token: String,
}

/// An open invitation found by its link token.
enum Found {
    ContactLink(invitation::Model),
    Worker(worker_invitation::Model),
}

/// Finds the invitation a link token opens, or says why it cannot be used.
async fn find(
    state: &AppState,
    text: &str,
    now: DateTime<Utc>,
) -> Result<(Found, Token), ApiError> {
    let token = Token::parse(text).ok_or(ApiError::Invitation(InvitationProblem::Unknown))?;
    let hash = token.hash();
    if let Some(worker) = state.store.worker_invitation_by_token(&hash, now).await? {
        return Ok((Found::Worker(worker.map_err(ApiError::Invitation)?), token));
    }
    let invitation = state
        .store
        .invitation_by_token(&hash, now)
        .await?
        .map_err(ApiError::Invitation)?;
    Ok((Found::ContactLink(invitation), token))
}

#[derive(Serialize)]
pub struct OpenedView {
    display_name: String,
    expires_at: DateTime<Utc>,
    /// `contact_link`, `family_profile` (a family invited to keep its own
    /// profile) or `worker`: a worker sets up a second factor too.
    kind: &'static str,
    /// The organisation a worker is invited into.
    #[serde(skip_serializing_if = "Option::is_none")]
    organisation_name: Option<String>,
    /// The role a worker is invited to.
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<String>,
}

/// Tells the page whom an invitation link is for, without using it.
#[instrument(skip_all)]
pub async fn open(
    state: web::Data<AppState>,
    body: JsonBody<TokenBody>,
) -> Result<web::Json<OpenedView>, ApiError> {
    let (found, _token) = find(&state, &body.token, Utc::now()).await?;
    Ok(web::Json(match found {
        Found::ContactLink(invitation) => OpenedView {
            display_name: invitation.display_name,
            expires_at: invitation.expires_at,
            kind: "contact_link",
            organisation_name: None,
            role: None,
        },
        Found::Worker(invitation) if is_family(&invitation) => OpenedView {
            display_name: invitation.display_name,
            expires_at: invitation.expires_at,
            kind: "family_profile",
            organisation_name: None,
            role: None,
        },
        Found::Worker(invitation) => {
            let organisation = state
                .store
                .organisation(OrganisationId(invitation.organisation_id))
                .await?;
            OpenedView {
                display_name: invitation.display_name,
                expires_at: invitation.expires_at,
                kind: "worker",
                organisation_name: Some(organisation.name),
                role: Some(invitation.role),
            }
        }
    }))
}

#[derive(Serialize)]
pub struct EnrolmentView {
    /// The authenticator key in base32, as authenticator apps take it.
    secret: String,
    /// The name to give the key in the app.
    account_name: String,
    issuer: &'static str,
}

/// A new second-factor secret offered through a link, with its copy
/// sealed under a key derived from the link's token for the store.
pub(crate) struct OfferedSecret {
    pub view: EnrolmentView,
    pub sealed: Vec<u8>,
}

/// Makes a second-factor secret to offer through the link with `token`,
/// bound to the link's record `binding`.
pub(crate) fn offer_secret(
    token: &Token,
    binding: uuid::Uuid,
    account_name: String,
) -> Result<OfferedSecret, ApiError> {
    let secret = Zeroizing::new(totp::new_secret()?);
    let sealed = aead::seal(
        &token.enrolment_key()?,
        secret.as_slice(),
        bindings::enrolment_secret(binding).as_bytes(),
    )?;
    Ok(OfferedSecret {
        view: EnrolmentView {
            secret: totp::secret_base32(secret.as_slice()),
            account_name,
            issuer: "KinLink",
        },
        sealed,
    })
}

/// Opens the secret offered through the link with `token` and checks the
/// authenticator's `code` against it. Returns the secret and the code's
/// time step.
pub(crate) fn enrolled_secret(
    token: &Token,
    binding: uuid::Uuid,
    sealed: &[u8],
    code: &str,
    now: DateTime<Utc>,
) -> Result<([u8; totp::SECRET_LEN], i64), ApiError> {
    let opened = Zeroizing::new(aead::open(
        &token.enrolment_key()?,
        sealed,
        bindings::enrolment_secret(binding).as_bytes(),
    )?);
    let secret: [u8; totp::SECRET_LEN] = opened.as_slice().try_into().map_err(|_length| {
        ApiError::Internal(anyhow::anyhow!("stored enrolment key has the wrong length"))
    })?;
    let step = totp::matching_step(&secret, code, now.timestamp().max(0) as u64).ok_or_else(|| {
        invalid(
            "totp_code",
            "the code does not match the authenticator key: check the key was typed whole and the device's clock is right",
        )
    })?;
    Ok((secret, i64::try_from(step).unwrap_or(i64::MAX)))
}

/// Offers a worker invitation's second-factor key. Each call offers a new
/// key and the previous one stops working, so a page reloaded half way
/// starts the set-up again.
#[instrument(skip_all)]
pub async fn enrol(
    state: web::Data<AppState>,
    body: JsonBody<TokenBody>,
) -> Result<web::Json<EnrolmentView>, ApiError> {
    let now = Utc::now();
    let (found, token) = find(&state, &body.token, now).await?;
    let Some(invitation) = (match found {
        Found::Worker(invitation) if !is_family(&invitation) => Some(invitation),
        _ => None,
    }) else {
        return Err(ApiError::Conflict(
            "this invitation needs no authenticator: accept it with a password only".to_owned(),
        ));
    };
    let offered = offer_secret(&token, invitation.id, invitation.email)?;
    if !state
        .store
        .offer_enrolment(invitation.id, &token.hash(), offered.sealed, now)
        .await?
    {
        return Err(ApiError::Invitation(InvitationProblem::Used));
    }
    info!(invitation = %invitation.id, "second-factor key offered");
    Ok(web::Json(offered.view))
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
    /// The authenticator's current code; a worker invitation needs it.
    #[serde(default)]
    totp_code: Option<String>,
}

/// Uses an invitation link: creates the invited person's account, pending
/// until the practitioner who invited confirms them.
#[instrument(skip_all)]
pub async fn accept(
    state: web::Data<AppState>,
    body: JsonBody<AcceptBody>,
) -> Result<HttpResponse, ApiError> {
    let now = Utc::now();
    let (found, token) = find(&state, &body.token, now).await?;
    let invitation = match found {
        Found::ContactLink(invitation) => invitation,
        Found::Worker(invitation) if is_family(&invitation) => {
            return accept_family(&state, &body, invitation, token, now).await;
        }
        Found::Worker(invitation) => {
            return accept_worker(&state, &body, invitation, token, now).await;
        }
    };
    let hash = token.hash();
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
            organisation: Some(organisation),
            role,
            invited_by: Some(UserId(invitation.invited_by)),
            marketing_opt_in: body.marketing,
            totp_secret: None,
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

/// Uses a worker or family invitation and creates its account. Another
/// request that used the link first gets `410 invitation.used`.
async fn take_invitation(
    state: &AppState,
    invitation: &worker_invitation::Model,
    token: &Token,
    accepted: AcceptedWorker,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    match state
        .store
        .accept_worker_invitation(invitation, &token.hash(), accepted, now)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(ApiError::Invitation(InvitationProblem::Used)),
        // Only a family invitation links a case, which may have changed.
        Err(kinlink_store::StoreError::Conflict { .. }) => Err(ApiError::Conflict(
            "the profile this invitation was for has a family account already, or moved to another organisation"
                .to_owned(),
        )),
        Err(error) if error.is_unique_violation() => Err(ApiError::Conflict(
            "an account with this email exists already".to_owned(),
        )),
        Err(error) => Err(error.into()),
    }
}

/// Returns whether an invitation of the worker table is a family's, to
/// keep its own profile, rather than a worker's.
fn is_family(invitation: &worker_invitation::Model) -> bool {
    invitation.role == Role::Adopter.as_str()
}

/// Accepts a family's invitation to keep its own profile: creates the
/// pending account, linked to the family case, with a password only. The
/// worker who invited confirms who it is before it can sign in.
async fn accept_family(
    state: &AppState,
    body: &AcceptBody,
    invitation: worker_invitation::Model,
    token: Token,
    now: DateTime<Utc>,
) -> Result<HttpResponse, ApiError> {
    if body.totp_code.is_some() {
        return Err(invalid(
            "totp_code",
            "this invitation needs no authenticator: accept it with a password only",
        ));
    }
    let organisation = OrganisationId(invitation.organisation_id);
    let (user, secrets) = prepare_account(
        &state.recovery_public_key,
        AccountRequest {
            email: &invitation.email,
            display_name: &invitation.display_name,
            password: &body.password,
            status: AccountStatus::Pending,
            organisation: Some(organisation),
            role: Role::Adopter,
            invited_by: Some(UserId(invitation.invited_by)),
            marketing_opt_in: body.marketing,
            totp_secret: None,
        },
    )
    .await?;
    let accepted = AcceptedWorker {
        user,
        role: Role::Adopter,
        recovery_code_hashes: Vec::new(),
        totp_step: 0,
    };
    take_invitation(state, &invitation, &token, accepted, now).await?;
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(secrets.user_id),
            organisation_id: Some(organisation),
            action: "family_invitation.accepted",
            subject_kind: "case",
            subject_id: invitation.case_id,
            detail: serde_json::json!({ "invitation": invitation.id, "user": secrets.user_id }),
            at: now,
        })
        .await?;
    info!(invitation = %invitation.id, user = %secrets.user_id, "family invitation accepted");
    Ok(HttpResponse::Created().json(serde_json::json!({
        "user_id": secrets.user_id,
        "status": "pending",
    })))
}

/// Accepts a worker invitation once the authenticator's code matches the
/// key the page was offered: creates the pending account with that key
/// and hands out its recovery codes, once.
async fn accept_worker(
    state: &AppState,
    body: &AcceptBody,
    invitation: worker_invitation::Model,
    token: Token,
    now: DateTime<Utc>,
) -> Result<HttpResponse, ApiError> {
    let code = body.totp_code.as_deref().ok_or_else(|| {
        invalid(
            "totp_code",
            "a worker invitation needs the authenticator's code",
        )
    })?;
    let sealed = invitation
        .enrolment_sealed_secret
        .as_deref()
        .ok_or_else(|| {
            ApiError::Conflict(
                "set up the authenticator first: the page asks for its key before accepting"
                    .to_owned(),
            )
        })?;
    let (secret, step) = enrolled_secret(&token, invitation.id, sealed, code, now)?;
    let role = Role::parse(&invitation.role).ok_or(ApiError::Internal(anyhow::anyhow!(
        "stored worker invitation role is invalid"
    )))?;
    let organisation = OrganisationId(invitation.organisation_id);
    let (user, secrets) = prepare_account(
        &state.recovery_public_key,
        AccountRequest {
            email: &invitation.email,
            display_name: &invitation.display_name,
            password: &body.password,
            status: AccountStatus::Pending,
            organisation: Some(organisation),
            role,
            invited_by: Some(UserId(invitation.invited_by)),
            marketing_opt_in: body.marketing,
            totp_secret: Some(secret),
        },
    )
    .await?;
    let accepted = AcceptedWorker {
        user,
        role,
        recovery_code_hashes: secrets
            .recovery_codes
            .iter()
            .map(|code| totp::recovery_code_hash(code))
            .collect(),
        totp_step: step,
    };
    take_invitation(state, &invitation, &token, accepted, now).await?;
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(secrets.user_id),
            organisation_id: Some(organisation),
            action: "worker_invitation.accepted",
            subject_kind: "user",
            subject_id: Some(secrets.user_id.0),
            detail: serde_json::json!({ "invitation": invitation.id }),
            at: now,
        })
        .await?;
    info!(invitation = %invitation.id, user = %secrets.user_id, "worker invitation accepted");
    Ok(HttpResponse::Created().json(serde_json::json!({
        "user_id": secrets.user_id,
        "status": "pending",
        "recovery_codes": secrets.recovery_codes,
    })))
}
