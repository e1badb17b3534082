//! Key recovery for a user who lost their password.
//!
//! One platform admin asks for a recovery with a reason and a second
//! approves it; both steps are rejected for anyone else, and every rejection
//! is audited and tells the account's owner. The operator's command then
//! seals the user's key for a one-time link (see `recovery_command`); the
//! routes at the end take the user through that link to a new password.
//! No route here opens, shows or logs anything the user's key protects.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_actors::events::Event;
use kinlink_core::crypto::keys::{KeyPair, seal_to};
use kinlink_core::crypto::token::Token;
use kinlink_core::crypto::{SecretKey, aead, bindings, password, totp};
use kinlink_core::notices::Template;
use kinlink_core::permissions::{self, Action, Relationship, Role};
use kinlink_core::recovery::{self, Outcome, Parties, Rejection, State};
use kinlink_core::values::{EmailAddress, check_new_password};
use kinlink_core::{SessionId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::entity::key_recovery;
use kinlink_store::invitations::InvitationProblem;
use kinlink_store::key_recoveries::{NewKeyRecovery, RecoveredAccount};
use kinlink_store::users::AccountStatus;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument, warn};
use zeroize::Zeroizing;

use super::JsonBody;
use super::invitations::{EnrolmentView, TokenBody, enrolled_secret, offer_secret};
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::state::AppState;

/// Returns the state of a stored recovery now.
pub fn state_of(row: &key_recovery::Model, now: DateTime<Utc>) -> State {
    recovery::state(
        recovery::Facts {
            requested_at: row.requested_at,
            approved: row.approved_by.is_some(),
            link_expires_at: row.link_expires_at,
            outcome: row.outcome.as_deref().and_then(Outcome::parse),
        },
        now,
    )
}

/// A recovery as the admins see it: who and for what reason, never anything the
/// user's key protects.
#[derive(Serialize)]
pub struct RecoveryView {
    id: uuid::Uuid,
    user_id: uuid::Uuid,
    email: String,
    display_name: String,
    reason: String,
    /// `requested`, `approved`, `link_sent`, `completed`, `cancelled` or
    /// `expired`.
    state: &'static str,
    requested_by: uuid::Uuid,
    /// The display name of the admin who requested it.
    requested_by_name: String,
    requested_at: DateTime<Utc>,
    approved_by: Option<uuid::Uuid>,
    approved_by_name: Option<String>,
    approved_at: Option<DateTime<Utc>>,
    link_sent_at: Option<DateTime<Utc>>,
    link_expires_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
}

async fn view(state: &AppState, row: key_recovery::Model) -> Result<RecoveryView, ApiError> {
    let account = state.store.user(UserId(row.user_id)).await?;
    let requested_by_name = state
        .store
        .user(UserId(row.requested_by))
        .await?
        .display_name;
    let approved_by_name = match row.approved_by {
        Some(admin) => Some(state.store.user(UserId(admin)).await?.display_name),
        None => None,
    };
    Ok(RecoveryView {
        id: row.id,
        user_id: row.user_id,
        email: account.email,
        display_name: account.display_name,
        state: state_of(&row, Utc::now()).as_str(),
        reason: row.reason,
        requested_by: row.requested_by,
        requested_by_name,
        requested_at: row.requested_at,
        approved_by: row.approved_by,
        approved_by_name,
        approved_at: row.approved_at,
        link_sent_at: row.resealed_at,
        link_expires_at: row.link_expires_at,
        ended_at: row.ended_at,
    })
}

/// Checks the permission table; a rejection is audited and, when `user` is
/// known, the account's owner is emailed.
async fn require(
    state: &AppState,
    actor: &SignedIn,
    action: Action,
    user: Option<UserId>,
) -> Result<(), ApiError> {
    let relationships: &[Relationship] = if actor.roles.contains(&Role::PlatformAdmin) {
        &[Relationship::Platform]
    } else {
        &[]
    };
    if permissions::check(&actor.roles, action, relationships).is_ok() {
        return Ok(());
    }
    reject(state, actor, user, None, "not_platform_admin").await?;
    Err(ApiError::Forbidden)
}

/// Audits a rejected recovery step and emails the account's owner.
async fn reject(
    state: &AppState,
    actor: &SignedIn,
    user: Option<UserId>,
    recovery: Option<uuid::Uuid>,
    reason_code: &'static str,
) -> Result<(), ApiError> {
    let now = Utc::now();
    warn!(actor = %actor.user_id, reason_code, "key recovery step rejected");
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(actor.user_id),
            organisation_id: None,
            action: "key_recovery.rejected",
            subject_kind: "user",
            subject_id: user.map(|u| u.0),
            detail: serde_json::json!({ "recovery": recovery, "reason": reason_code }),
            at: now,
        })
        .await?;
    if let Some(user) = user {
        notify_rejection(state, user, now).await?;
    }
    Ok(())
}

/// Emails the owner of `user` that a recovery step was rejected, unless
/// such an email was queued for them within
/// [`recovery::REJECTION_EMAIL_INTERVAL`].
async fn notify_rejection(
    state: &AppState,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let since = now - recovery::REJECTION_EMAIL_INTERVAL;
    state
        .store
        .notify_unless_emailed_since(user, Template::RecoveryRejected, since, now)
        .await?;
    Ok(())
}

async fn record(
    state: &AppState,
    actor: UserId,
    action: &'static str,
    row: &key_recovery::Model,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(actor),
            organisation_id: None,
            action,
            subject_kind: "user",
            subject_id: Some(row.user_id),
            detail: serde_json::json!({ "recovery": row.id }),
            at: now,
        })
        .await?;
    Ok(())
}

fn rejection_error(rejection: Rejection) -> ApiError {
    match rejection {
        Rejection::WrongState(_) => ApiError::Conflict(rejection.message()),
        Rejection::SameAdmin | Rejection::OwnAccount | Rejection::NotApproved => {
            ApiError::RecoveryRejected(rejection.message())
        }
    }
}

fn rejection_code(rejection: Rejection) -> &'static str {
    match rejection {
        Rejection::SameAdmin => "same_admin",
        Rejection::OwnAccount => "own_account",
        Rejection::NotApproved => "not_approved",
        Rejection::WrongState(_) => "wrong_state",
    }
}

/// Lists recoveries, newest first (platform admins).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<RecoveryView>>, ApiError> {
    require(&state, &user, Action::RequestKeyRecovery, None).await?;
    let mut views = Vec::new();
    for row in state.store.key_recoveries().await? {
        views.push(view(&state, row).await?);
    }
    Ok(web::Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestBody {
    /// The address of the account whose password was lost.
    email: String,
    /// Why: a ticket number, how the person's identity was checked.
    reason: String,
}

/// Asks for the recovery of an account (platform admins). The account's
/// owner is emailed at once.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn request(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<RequestBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let email = EmailAddress::parse(&body.email);
    let account = match &email {
        Ok(email) => state.store.find_user_by_email(email.as_str()).await?,
        Err(_) => None,
    };
    let target = account.as_ref().map(|found| UserId(found.id));
    require(&state, &user, Action::RequestKeyRecovery, target).await?;
    email?;
    let reason =
        kinlink_core::community::check_text("reason", &body.reason, recovery::MAX_REASON_CHARS)?;
    let Some(account) = account else {
        return Err(invalid("email", "no account has this address"));
    };
    if account.status != AccountStatus::Active.as_str() {
        return Err(invalid(
            "email",
            format!(
                "the account is {}: only an active account can be recovered",
                account.status
            ),
        ));
    }
    let target = UserId(account.id);
    if let Err(rejection) = recovery::check_request(target, user.user_id) {
        reject(&state, &user, Some(target), None, rejection_code(rejection)).await?;
        return Err(rejection_error(rejection));
    }
    let now = Utc::now();
    let id = uuid::Uuid::now_v7();
    match state
        .store
        .open_key_recovery(NewKeyRecovery {
            id,
            user_id: target,
            reason,
            requested_by: user.user_id,
            requested_at: now,
        })
        .await
    {
        Ok(()) => {}
        Err(error) if error.is_unique_violation() => {
            return Err(ApiError::Conflict(
                "a recovery of this account is open already: approve or cancel it".to_owned(),
            ));
        }
        Err(error) => return Err(error.into()),
    }
    let row = state.store.key_recovery(id).await?;
    record(&state, user.user_id, "key_recovery.requested", &row, now).await?;
    state
        .store
        .notify(target, Template::RecoveryRequested, "/", now)
        .await?;
    info!(recovery = %id, target = %target, "key recovery requested");
    Ok(HttpResponse::Created().json(view(&state, row).await?))
}

/// Loads the recovery named in the path.
async fn recovery_in_path(
    state: &AppState,
    path: &str,
) -> Result<Option<key_recovery::Model>, ApiError> {
    let id: uuid::Uuid = super::parse_id(path)?;
    match state.store.key_recovery(id).await {
        Ok(row) => Ok(Some(row)),
        Err(kinlink_store::StoreError::NotFound { .. }) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Approves a recovery that another platform admin requested.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn approve(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<RecoveryView>, ApiError> {
    let found = recovery_in_path(&state, &path).await?;
    let target = found.as_ref().map(|row| UserId(row.user_id));
    require(&state, &user, Action::ApproveKeyRecovery, target).await?;
    let row = found.ok_or(ApiError::NotFound)?;
    let now = Utc::now();
    let parties = Parties {
        user: UserId(row.user_id),
        requested_by: UserId(row.requested_by),
    };
    if let Err(rejection) = recovery::check_approval(parties, user.user_id, state_of(&row, now)) {
        if !matches!(rejection, Rejection::WrongState(_)) {
            reject(
                &state,
                &user,
                target,
                Some(row.id),
                rejection_code(rejection),
            )
            .await?;
        }
        return Err(rejection_error(rejection));
    }
    if !state
        .store
        .approve_key_recovery(row.id, user.user_id, now)
        .await?
    {
        let latest = state.store.key_recovery(row.id).await?;
        return Err(rejection_error(Rejection::WrongState(state_of(
            &latest, now,
        ))));
    }
    record(&state, user.user_id, "key_recovery.approved", &row, now).await?;
    info!(recovery = %row.id, "key recovery approved");
    let row = state.store.key_recovery(row.id).await?;
    Ok(web::Json(view(&state, row).await?))
}

/// Cancels an open recovery; its link, if sent, stops working.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn cancel(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<RecoveryView>, ApiError> {
    let found = recovery_in_path(&state, &path).await?;
    let target = found.as_ref().map(|row| UserId(row.user_id));
    require(&state, &user, Action::RequestKeyRecovery, target).await?;
    let row = found.ok_or(ApiError::NotFound)?;
    let now = Utc::now();
    let current = state_of(&row, now);
    if current.is_ended()
        || !state
            .store
            .end_key_recovery(row.id, Outcome::Cancelled, Some(user.user_id), now)
            .await?
    {
        return Err(rejection_error(Rejection::WrongState(current)));
    }
    record(&state, user.user_id, "key_recovery.cancelled", &row, now).await?;
    info!(recovery = %row.id, "key recovery cancelled");
    let row = state.store.key_recovery(row.id).await?;
    Ok(web::Json(view(&state, row).await?))
}

/// A recovery found by its link's token, whose link still works.
struct Opened {
    row: key_recovery::Model,
    account: kinlink_store::entity::user::Model,
    token: Token,
    /// Whether the account must set up a new authenticator: staff, and
    /// anyone who had one, since the old secret was sealed under the lost
    /// password.
    needs_second_factor: bool,
}

async fn open_link(state: &AppState, text: &str, now: DateTime<Utc>) -> Result<Opened, ApiError> {
    let token =
        Token::parse(text.trim()).ok_or(ApiError::RecoveryLink(InvitationProblem::Unknown))?;
    let row = state
        .store
        .key_recovery_by_token(&token.hash())
        .await?
        .ok_or(ApiError::RecoveryLink(InvitationProblem::Unknown))?;
    match state_of(&row, now) {
        State::LinkSent => {}
        State::Completed => return Err(ApiError::RecoveryLink(InvitationProblem::Used)),
        _ => return Err(ApiError::RecoveryLink(InvitationProblem::Expired)),
    }
    let account = state.store.user(UserId(row.user_id)).await?;
    if account.status != AccountStatus::Active.as_str() {
        return Err(ApiError::RecoveryLink(InvitationProblem::Expired));
    }
    let staff = state
        .store
        .grants(UserId(row.user_id))
        .await?
        .iter()
        .any(|grant| grant.role.is_worker());
    let needs_second_factor = staff || account.totp_sealed_secret.is_some();
    Ok(Opened {
        row,
        account,
        token,
        needs_second_factor,
    })
}

#[derive(Serialize)]
pub struct LinkView {
    /// The account the link restores.
    email: String,
    /// A new authenticator key to set up, when the account needs one.
    second_factor: Option<EnrolmentView>,
}

/// Tells the page whose account a recovery link restores and, for an
/// account with a second factor, offers a new authenticator key. Each
/// call offers a new key and the previous one stops working.
#[instrument(skip_all)]
pub async fn open(
    state: web::Data<AppState>,
    body: JsonBody<TokenBody>,
) -> Result<web::Json<LinkView>, ApiError> {
    let now = Utc::now();
    let opened = open_link(&state, &body.token, now).await?;
    let second_factor = if opened.needs_second_factor {
        let offered = offer_secret(&opened.token, opened.row.id, opened.account.email.clone())?;
        if !state
            .store
            .offer_recovery_enrolment(opened.row.id, &opened.token.hash(), offered.sealed, now)
            .await?
        {
            return Err(ApiError::RecoveryLink(InvitationProblem::Used));
        }
        Some(offered.view)
    } else {
        None
    };
    Ok(web::Json(LinkView {
        email: opened.account.email,
        second_factor,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteBody {
    token: String,
    new_password: String,
    /// The new authenticator's current code, when the link offered one.
    #[serde(default)]
    totp_code: Option<String>,
}

/// Opens the user's key sealed for the link and checks it is the key of
/// the account.
fn recovered_key(opened: &Opened) -> Result<SecretKey, ApiError> {
    let sealed =
        opened.row.sealed_private_key.as_deref().ok_or_else(|| {
            ApiError::Internal(anyhow::anyhow!("a recovery link has no sealed key"))
        })?;
    let user = UserId(opened.row.user_id);
    let bytes = Zeroizing::new(aead::open(
        &opened.token.recovery_key()?,
        sealed,
        bindings::recovered_private_key(opened.row.id, user).as_bytes(),
    )?);
    let private = SecretKey::from_slice(&bytes, "recovered private key")?;
    let pair = KeyPair::from_private(private)?;
    if pair.public.0.as_slice() != opened.account.public_key.as_slice() {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "the recovered key is not the account's key"
        )));
    }
    Ok(pair.private)
}

/// Sets the new password through a recovery link. The user's key is
/// sealed under it and escrowed again, a new authenticator and recovery
/// codes replace the old ones for an account with a second factor, and
/// every session ends. Returns the new recovery codes, shown once.
#[instrument(skip_all)]
pub async fn complete(
    state: web::Data<AppState>,
    body: JsonBody<CompleteBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let now = Utc::now();
    let opened = open_link(&state, &body.token, now).await?;
    check_new_password(&body.new_password, "new_password")?;
    let user = UserId(opened.row.user_id);
    let second_factor = if opened.needs_second_factor {
        let code = body.totp_code.as_deref().ok_or_else(|| {
            invalid(
                "totp_code",
                "this account needs the code of the new authenticator key",
            )
        })?;
        let sealed = opened
            .row
            .enrolment_sealed_secret
            .as_deref()
            .ok_or_else(|| {
                ApiError::Conflict(
                    "set up the new authenticator first: open the link's page again".to_owned(),
                )
            })?;
        Some(enrolled_secret(
            &opened.token,
            opened.row.id,
            sealed,
            code,
            now,
        )?)
    } else if body.totp_code.is_some() {
        return Err(invalid(
            "totp_code",
            "this account has no authenticator: choose a password only",
        ));
    } else {
        None
    };
    let private_key = recovered_key(&opened)?;

    let salt = password::new_salt()?;
    let derived = crate::auth::derive_password(&state, body.new_password, salt.to_vec()).await?;
    let sealed_private_key = aead::seal(
        &derived.key_encryption_key,
        private_key.expose(),
        bindings::user_private_key(user).as_bytes(),
    )?;
    let escrow = seal_to(
        &state.recovery_public_key,
        &private_key,
        &bindings::recovery_escrow_info(user),
    )?;
    let (totp_sealed_secret, totp_last_step, recovery_codes) = match &second_factor {
        Some((secret, step)) => (
            Some(aead::seal(
                &derived.key_encryption_key,
                secret,
                bindings::totp_secret(user).as_bytes(),
            )?),
            Some(*step),
            totp::new_recovery_codes()?,
        ),
        None => (None, None, Vec::new()),
    };
    let account = RecoveredAccount {
        password_salt: salt.to_vec(),
        auth_hash: password::verifier_hash(&derived.verifier).to_vec(),
        sealed_private_key,
        recovery_sealed_private_key: escrow,
        totp_sealed_secret,
        totp_last_step,
        recovery_code_hashes: recovery_codes
            .iter()
            .map(|code| totp::recovery_code_hash(code))
            .collect(),
    };
    let Some(ended) = state
        .store
        .complete_key_recovery(&opened.row, &opened.token.hash(), account, now)
        .await?
    else {
        // Another request completed or cancelled it first.
        let latest = state.store.key_recovery(opened.row.id).await?;
        let problem = match state_of(&latest, now) {
            State::Completed => InvitationProblem::Used,
            _ => InvitationProblem::Expired,
        };
        return Err(ApiError::RecoveryLink(problem));
    };
    end_sessions(&state, ended).await;
    state
        .store
        .clear_sign_in_failures(&crate::auth::account_subject(&opened.account.email))
        .await?;
    record(&state, user, "key_recovery.completed", &opened.row, now).await?;
    info!(recovery = %opened.row.id, user = %user, "key recovery completed");
    Ok(HttpResponse::Ok().json(serde_json::json!({ "recovery_codes": recovery_codes })))
}

async fn end_sessions(state: &AppState, ended: Vec<SessionId>) {
    if !ended.is_empty() {
        state
            .broker
            .publish(Event::SessionsEnded { session_ids: ended })
            .await;
    }
}
