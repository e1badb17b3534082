//! Signing in, and the extractor that turns a session cookie back into the
//! signed-in user with their private key.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{Duration, Utc};
use kinlink_core::community::MembershipState;
use kinlink_core::crypto::token::Token;
use kinlink_core::crypto::{SecretKey, aead, bindings, password, totp};
use kinlink_core::permissions::Role;
use kinlink_core::values::{EmailAddress, PASSWORD_MAX_BYTES};
use kinlink_core::{OrganisationId, SessionId, UserId};
use kinlink_store::entity::user;
use kinlink_store::sessions::NewSession;
use kinlink_store::users::AccountStatus;
use sha2::{Digest, Sha256};
use tracing::info;

use crate::error::ApiError;
use crate::http::client_address;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "kinlink_session";

/// The fields of a sign-in request.
pub struct Credentials {
    pub email: String,
    pub password: String,
    pub totp_code: Option<String>,
    pub recovery_code: Option<String>,
}

/// The result of a successful sign-in.
pub struct SignedInSession {
    pub user: user::Model,
    pub token: Token,
}

/// The signed-in user of a request, with their opened private key.
pub struct SignedIn {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub organisation_id: Option<OrganisationId>,
    pub private_key: SecretKey,
}

/// Returns the throttling key of an account: a hash, so the table holds
/// no email address.
pub fn account_subject(email: &str) -> String {
    let digest = Sha256::digest(email.as_bytes());
    let hex: String = digest
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("account:{hex}")
}

/// Signs a user in: throttle, Argon2id, second factor, then a new session.
/// A wrong email and a wrong password get the same answer after the same
/// work, because a dummy hash runs for an unknown email.
pub async fn sign_in(
    state: &AppState,
    request: &HttpRequest,
    credentials: Credentials,
) -> Result<SignedInSession, ApiError> {
    let email = EmailAddress::parse(&credentials.email)?;
    if credentials.password.len() > PASSWORD_MAX_BYTES {
        return Err(ApiError::InvalidCredentials);
    }
    let address = client_address(request, &state.config.server.trusted_proxies);
    let subjects = [
        account_subject(email.as_str()),
        format!("address:{address}"),
    ];
    let window = Duration::minutes(state.config.session.failure_window_minutes);
    let now = Utc::now();
    // Count this attempt before any work, so that parallel attempts cannot
    // all pass the check before the first failure is recorded.
    for subject in &subjects {
        state
            .store
            .record_sign_in_failure(subject, now, window)
            .await?;
        let current = state
            .store
            .sign_in_failure_window(subject, now, window)
            .await?;
        if let Some((failures, ends_at)) = current
            && failures > state.config.session.max_failures
        {
            // Whole seconds until the window that counted these failures
            // ends, rounded up so a client that waits that long is let in.
            let remaining = (ends_at - now).num_milliseconds().max(0);
            return Err(ApiError::Throttled {
                retry_after_seconds: ((remaining + 999) / 1000).max(1),
            });
        }
    }

    let account = state.store.find_user_by_email(email.as_str()).await?;
    let salt = account
        .as_ref()
        .map_or(state.dummy_salt.to_vec(), |row| row.password_salt.clone());
    let password_text = credentials.password;
    let derived = derive_password(state, password_text, salt).await?;
    let account = match account {
        Some(row) if password::verifier_matches(&derived.verifier, &row.auth_hash) => row,
        _ => return Err(ApiError::InvalidCredentials),
    };
    let user_id = UserId(account.id);
    match AccountStatus::parse(&account.status)? {
        AccountStatus::Active => {}
        AccountStatus::Pending => return Err(ApiError::AccountPending),
        AccountStatus::Disabled => return Err(ApiError::AccountDisabled),
    }

    let private_key = SecretKey::from_slice(
        &aead::open(
            &derived.key_encryption_key,
            &account.sealed_private_key,
            bindings::user_private_key(user_id).as_bytes(),
        )?,
        "private key",
    )?;
    if let Some(sealed_secret) = &account.totp_sealed_secret {
        let secret = zeroize::Zeroizing::new(aead::open(
            &derived.key_encryption_key,
            sealed_secret,
            bindings::totp_secret(user_id).as_bytes(),
        )?);
        let passed = match (&credentials.totp_code, &credentials.recovery_code) {
            (Some(code), _) => {
                match totp::matching_step(&secret, code, now.timestamp().max(0) as u64) {
                    // A code works once: a step at or before the last one used is
                    // a replay.
                    Some(step) => state.store.use_totp_step(user_id, step as i64).await?,
                    None => false,
                }
            }
            (None, Some(code)) => {
                state
                    .store
                    .spend_recovery_code(user_id, totp::recovery_code_hash(code), now)
                    .await?
            }
            (None, None) => {
                // Asking for the second factor is a step, not a failure.
                for subject in &subjects {
                    state.store.forgive_sign_in_failure(subject).await?;
                }
                return Err(ApiError::SecondFactorRequired);
            }
        };
        if !passed {
            return Err(ApiError::SecondFactorInvalid);
        }
    }

    // The account's failures end with a success; the address keeps its
    // earlier failures, so that signing in to one's own account does not
    // reset a count of guesses at other people's.
    state.store.clear_sign_in_failures(&subjects[0]).await?;
    state.store.forgive_sign_in_failure(&subjects[1]).await?;
    let token = start_session(state, request, user_id, &private_key, address).await?;
    state.store.record_sign_in(user_id, now).await?;
    info!(user = %user_id, "signed in");
    Ok(SignedInSession {
        user: account,
        token,
    })
}

/// Runs Argon2id on a blocking thread, at most one per core at a time:
/// each run holds 19 MiB, so a burst of sign-ins waits in line instead of
/// exhausting memory.
pub async fn derive_password(
    state: &AppState,
    password_text: String,
    salt: Vec<u8>,
) -> Result<password::DerivedPasswordKeys, ApiError> {
    let _permit = state
        .password_hashing
        .acquire()
        .await
        .map_err(|closed| ApiError::Internal(closed.into()))?;
    web::block(move || password::derive(&password_text, &salt))
        .await
        .map_err(|blocking| ApiError::Internal(blocking.into()))?
        .map_err(ApiError::from)
}

pub(crate) async fn start_session(
    state: &AppState,
    request: &HttpRequest,
    user_id: UserId,
    private_key: &SecretKey,
    client_address: String,
) -> Result<Token, ApiError> {
    let token = Token::generate()?;
    let session_id = SessionId::new();
    let sealed_private_key = aead::seal(
        &token.session_key()?,
        private_key.expose(),
        bindings::session_private_key(session_id, user_id).as_bytes(),
    )?;
    let user_agent: String = request
        .headers()
        .get("user-agent")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect();
    let now = Utc::now();
    state
        .store
        .create_session(NewSession {
            id: session_id,
            user_id,
            token_hash: token.hash(),
            sealed_private_key,
            created_at: now,
            absolute_expires_at: now + Duration::hours(state.config.session.absolute_timeout_hours),
            user_agent,
            client_address,
        })
        .await?;
    Ok(token)
}

/// Builds the session cookie; `Secure` when the public origin is HTTPS.
pub fn session_cookie(state: &AppState, value: String) -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.public_origin.starts_with("https://"))
        .finish();
    if cookie.value().is_empty() {
        cookie.make_removal();
    }
    cookie
}

/// Audits a request made with a session of an account that was disabled,
/// at most once a minute per session.
async fn audit_disabled_attempt(state: &AppState, token_hash: &[u8]) -> Result<(), ApiError> {
    let Some((user_id, first_in_a_while)) = state
        .store
        .revoked_session_attempt(token_hash, Utc::now())
        .await?
    else {
        return Ok(());
    };
    tracing::warn!(user = %user_id, "request with a session of a disabled account rejected");
    if first_in_a_while {
        let organisation = state
            .store
            .grants(user_id)
            .await?
            .first()
            .map(|grant| grant.organisation_id);
        state
            .store
            .audit(kinlink_store::audit::AuditRecord {
                actor_id: Some(user_id),
                organisation_id: organisation,
                action: "session.refused_disabled_account",
                subject_kind: "user",
                subject_id: Some(user_id.0),
                detail: serde_json::json!({}),
                at: Utc::now(),
            })
            .await?;
    }
    Ok(())
}

/// Returns the roles a user holds, with the organisation of the first. The
/// community's membership is kept apart from organisations: its role is
/// held while the membership is active.
pub async fn roles_of(
    state: &AppState,
    user_id: UserId,
) -> Result<(Vec<Role>, Option<OrganisationId>), ApiError> {
    let grants = state.store.grants(user_id).await?;
    let mut roles: Vec<Role> = grants.iter().map(|grant| grant.role).collect();
    if state
        .store
        .community_member(user_id)
        .await?
        .is_some_and(|member| member.state == MembershipState::Active.as_str())
    {
        roles.push(Role::CommunityMember);
    }
    Ok((roles, grants.first().map(|grant| grant.organisation_id)))
}

/// Resolves the session cookie into the signed-in user.
pub async fn authenticate(state: &AppState, request: &HttpRequest) -> Result<SignedIn, ApiError> {
    let cookie = request
        .cookie(SESSION_COOKIE)
        .ok_or(ApiError::AuthRequired)?;
    let token = Token::parse(cookie.value()).ok_or(ApiError::AuthRequired)?;
    let Some(session) = state.store.session_by_token_hash(&token.hash()).await? else {
        audit_disabled_attempt(state, &token.hash()).await?;
        return Err(ApiError::AuthRequired);
    };
    let session_id = SessionId(session.id);
    let user_id = UserId(session.user_id);

    let now = Utc::now();
    let idle_limit = Duration::minutes(state.config.session.idle_timeout_minutes);
    if session.absolute_expires_at <= now || session.last_seen_at + idle_limit <= now {
        state.store.delete_session(user_id, session_id).await?;
        return Err(ApiError::AuthRequired);
    }
    let private_key = SecretKey::from_slice(
        &aead::open(
            &token.session_key()?,
            &session.sealed_private_key,
            bindings::session_private_key(session_id, user_id).as_bytes(),
        )
        .map_err(|_tampered| ApiError::AuthRequired)?,
        "private key",
    )?;

    let account = state.store.user(user_id).await?;
    if AccountStatus::parse(&account.status)? != AccountStatus::Active {
        return Err(ApiError::AuthRequired);
    }
    // Writing on every request would make each one a write; a minute of
    // precision is enough for an idle timeout counted in minutes.
    if now - session.last_seen_at > Duration::seconds(60) {
        state.store.touch_session(session_id, now).await?;
    }
    let (roles, organisation_id) = roles_of(state, user_id).await?;
    Ok(SignedIn {
        user_id,
        session_id,
        display_name: account.display_name,
        roles,
        organisation_id,
        private_key,
    })
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let state = request
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state missing")))?;
            authenticate(state, &request).await
        })
    }
}
