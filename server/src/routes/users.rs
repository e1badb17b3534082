//! Confirming, disabling and re-keying accounts, and replacing one's
//! recovery codes.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use kinlink_actors::events::Event;
use kinlink_core::crypto::keys::{PublicKey, open_sealed, seal_to};
use kinlink_core::crypto::{SecretKey, aead, bindings, password, totp};
use kinlink_core::permissions::{self, Action, Relationship, Role};
use kinlink_core::values::check_new_password;
use kinlink_core::{OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::users::{AccountStatus, Grant};
use serde::Deserialize;
use tracing::{info, instrument};

use super::JsonBody;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;

/// The relationships the actor has with a target account.
async fn relationships_to(
    state: &AppState,
    actor: &SignedIn,
    target_grants: &[Grant],
    invited_by: Option<uuid::Uuid>,
) -> Result<Vec<Relationship>, ApiError> {
    let actor_grants = state.store.grants(actor.user_id).await?;
    let mut relationships = Vec::new();
    let shares_organisation = target_grants.iter().any(|target| {
        actor_grants.iter().any(|mine| {
            mine.organisation_id == target.organisation_id
                && matches!(mine.role, Role::Manager | Role::Moderator)
        })
    });
    if shares_organisation {
        relationships.push(Relationship::OwningOrganisationStaff);
    }
    if invited_by == Some(actor.user_id.0) {
        relationships.push(Relationship::Inviter);
    }
    if actor.roles.contains(&Role::PlatformAdmin) {
        relationships.push(Relationship::Platform);
        for target in target_grants {
            if super::workers::founding_operator(state, actor, target.organisation_id).await? {
                relationships.push(Relationship::FoundingOperator);
                break;
            }
        }
    }
    Ok(relationships)
}

fn audit(
    actor: &SignedIn,
    organisation: Option<OrganisationId>,
    action: &'static str,
    subject: UserId,
) -> AuditRecord {
    AuditRecord {
        actor_id: Some(actor.user_id),
        organisation_id: organisation,
        action,
        subject_kind: "user",
        subject_id: Some(subject.0),
        detail: serde_json::json!({}),
        at: Utc::now(),
    }
}

/// An account another user acts on, with how the actor relates to it.
struct Target {
    id: UserId,
    account: kinlink_store::entity::user::Model,
    grants: Vec<Grant>,
    relationships: Vec<Relationship>,
}

/// Loads the account named in the path; one the actor has no relationship
/// with is not found, exactly like one that does not exist.
async fn find_target(state: &AppState, actor: &SignedIn, path: &str) -> Result<Target, ApiError> {
    let id: UserId = super::parse_id(path)?;
    let account = state.store.user(id).await?;
    let grants = state.store.grants(id).await?;
    let relationships = relationships_to(state, actor, &grants, account.invited_by).await?;
    if relationships.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(Target {
        id,
        account,
        grants,
        relationships,
    })
}

/// Confirms a pending account: a manager approves a worker of their
/// organisation, and the practitioner who invited a family member confirms
/// them. A confirmed worker receives the organisation key.
#[instrument(skip_all, fields(user = %actor.user_id))]
pub async fn confirm(
    state: web::Data<AppState>,
    actor: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Target {
        id: target_id,
        account: target,
        grants,
        relationships,
    } = find_target(&state, &actor, &path).await?;
    let is_worker = grants.iter().any(|grant| grant.role.is_worker());
    let action = if is_worker {
        Action::ApproveWorker
    } else {
        Action::ConfirmFamilyMember
    };
    permissions::check(&actor.roles, action, &relationships)
        .map_err(|_denied| ApiError::Forbidden)?;
    if AccountStatus::parse(&target.status)? != AccountStatus::Pending {
        return Ok(HttpResponse::NoContent().finish());
    }

    if !is_worker && let Some(invitation) = state.store.invitation_of_user(target_id).await? {
        join_invited_link(&state, &actor, &target, target_id, invitation).await?;
    }
    let founding = is_worker && relationships.contains(&Relationship::FoundingOperator);
    if founding
        && !grants
            .iter()
            .any(|grant| matches!(grant.role, Role::Manager | Role::Moderator))
    {
        return Err(ApiError::Conflict(
            "an organisation's first confirmed worker must be its manager".to_owned(),
        ));
    }
    state
        .store
        .confirm_user(target_id, actor.user_id, Utc::now())
        .await?;
    // A moderator's name is theirs in the community from now on, before
    // their first visit, so no member can take it meanwhile.
    if let Some(grant) = grants.iter().find(|grant| grant.role == Role::Moderator) {
        state
            .store
            .ensure_moderator_member(
                target_id,
                &target.display_name,
                grant.organisation_id.0,
                Utc::now(),
            )
            .await?;
    }
    let organisation = grants.first().map(|grant| grant.organisation_id);
    if let (true, Some(organisation)) = (is_worker, organisation) {
        let info = bindings::organisation_key_info(organisation);
        let target_public = PublicKey::from_slice(&target.public_key)?;
        if founding {
            // No worker has the organisation's key yet, so nothing was ever
            // sealed to it: the first manager gets a fresh pair.
            let pair = kinlink_core::crypto::keys::KeyPair::generate()?;
            let sealed = seal_to(&target_public, &pair.private, &info)?;
            state
                .store
                .found_organisation_key(
                    organisation,
                    pair.public.0.to_vec(),
                    target_id,
                    sealed,
                    Utc::now(),
                )
                .await
                .map_err(|error| {
                    match error {
                    kinlink_store::StoreError::Conflict { .. } => ApiError::Conflict(
                        "a manager of this organisation has its key now, so they approve its workers"
                            .to_owned(),
                    ),
                    other => other.into(),
                }
                })?;
        } else {
            let sealed = state
                .store
                .organisation_key_for(organisation, actor.user_id)
                .await?
                .ok_or(ApiError::Forbidden)?;
            let organisation_private = open_sealed(&actor.private_key, &sealed, &info)?;
            let resealed = seal_to(&target_public, &organisation_private, &info)?;
            state
                .store
                .add_organisation_key(organisation, target_id, resealed, Utc::now())
                .await?;
        }
    }
    state
        .store
        .audit(audit(&actor, organisation, "user.confirmed", target_id))
        .await?;
    info!(target = %target_id, "account confirmed");
    Ok(HttpResponse::NoContent().finish())
}

/// Adds a confirmed invitee to the contact link they were invited to, with
/// the link's key of every epoch the confirming practitioner holds, so they
/// read what the link already holds, and to the agreement's parties.
async fn join_invited_link(
    state: &AppState,
    actor: &SignedIn,
    target: &kinlink_store::entity::user::Model,
    target_id: UserId,
    invitation: kinlink_store::entity::invitation::Model,
) -> Result<(), ApiError> {
    let conversation_id = kinlink_core::ConversationId(invitation.conversation_id);
    let conversation = state.store.conversation(conversation_id).await?;
    let mut keyring =
        kinlink_actors::keyring::Keyring::new(actor.user_id, actor.private_key.clone());
    let target_public = PublicKey::from_slice(&target.public_key)?;
    let mut sealed_keys = Vec::new();
    for epoch in 0..=conversation.key_epoch {
        let Ok(key) = keyring
            .conversation_key(&state.store, conversation_id, epoch)
            .await
        else {
            continue;
        };
        let info = bindings::conversation_key_info(conversation_id, epoch);
        sealed_keys.push((epoch, seal_to(&target_public, key, &info)?));
    }
    if sealed_keys.is_empty() {
        return Err(ApiError::Forbidden);
    }
    state
        .store
        .join_link(
            kinlink_store::invitations::Joining {
                invitation_id: invitation.id,
                conversation_id,
                user_id: target_id,
                sealed_keys,
                party: (invitation.side, invitation.relationship),
            },
            Utc::now(),
        )
        .await?;
    info!(conversation = %conversation_id, target = %target_id, "invited member joined the contact link");
    Ok(())
}

/// Ends what a disabled account still holds: every session and live socket
/// ends at once, live calls drop it, its open key recoveries are cancelled
/// and a worker loses their copies of the organisation keys.
pub(crate) async fn end_account(
    state: &AppState,
    target_id: UserId,
    grants: &[Grant],
) -> Result<(), ApiError> {
    let ended = state
        .store
        .revoke_sessions_of(target_id, Utc::now())
        .await?;
    state
        .broker
        .publish(Event::SessionsEnded { session_ids: ended })
        .await;
    state.calls.account_disabled(target_id);
    // A recovery link must not outlive the account it restores.
    state
        .store
        .cancel_recoveries_of(target_id, Utc::now())
        .await?;
    for grant in grants {
        state
            .store
            .remove_organisation_key(grant.organisation_id, target_id)
            .await?;
    }
    Ok(())
}

/// Disables an account: every session and live socket ends at once, a
/// worker loses their copy of the organisation key, and any open key
/// recovery of the account is cancelled.
#[instrument(skip_all, fields(user = %actor.user_id))]
pub async fn disable(
    state: web::Data<AppState>,
    actor: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let Target {
        id: target_id,
        account: _,
        grants,
        relationships,
    } = find_target(&state, &actor, &path).await?;
    if target_id == actor.user_id {
        return Err(ApiError::Forbidden);
    }
    permissions::check(&actor.roles, Action::DisableAccount, &relationships)
        .map_err(|_denied| ApiError::Forbidden)?;

    state
        .store
        .set_user_status(target_id, AccountStatus::Disabled)
        .await?;
    end_account(&state, target_id, &grants).await?;
    let organisation = grants.first().map(|grant| grant.organisation_id);
    state
        .store
        .audit(audit(&actor, organisation, "user.disabled", target_id))
        .await?;
    info!(target = %target_id, "account disabled");
    Ok(HttpResponse::NoContent().finish())
}

/// Checks the signed-in user's current password and returns the keys it
/// derives. Every attempt counts against the account like a failed
/// sign-in, so a stolen session cannot be used to guess the password; the
/// caller clears the count once everything it checks has passed.
async fn verify_current_password(
    state: &AppState,
    account: &kinlink_store::entity::user::Model,
    current_password: String,
) -> Result<password::DerivedPasswordKeys, ApiError> {
    let subject = crate::auth::account_subject(&account.email);
    let window = chrono::Duration::minutes(state.config.session.failure_window_minutes);
    state
        .store
        .record_sign_in_failure(&subject, Utc::now(), window)
        .await?;
    if state
        .store
        .sign_in_failures(&subject, Utc::now(), window)
        .await?
        > state.config.session.max_failures
    {
        return Err(ApiError::Throttled {
            retry_after_seconds: window.num_seconds(),
        });
    }
    let old = crate::auth::derive_password(state, current_password, account.password_salt.clone())
        .await?;
    if !password::verifier_matches(&old.verifier, &account.auth_hash) {
        return Err(ApiError::InvalidCredentials);
    }
    Ok(old)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    new_password: String,
}

/// Changes my password. The private key and second-factor secret are
/// re-sealed under the new key-encryption key; nothing is lost, and my
/// sessions stay signed in.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn change_password(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    check_new_password(&body.new_password, "new_password")?;
    let account = state.store.user(user.user_id).await?;
    let old = verify_current_password(&state, &account, body.current_password).await?;
    state
        .store
        .clear_sign_in_failures(&crate::auth::account_subject(&account.email))
        .await?;
    let totp_secret = match &account.totp_sealed_secret {
        Some(sealed) => Some(zeroize::Zeroizing::new(aead::open(
            &old.key_encryption_key,
            sealed,
            bindings::totp_secret(user.user_id).as_bytes(),
        )?)),
        None => None,
    };

    let new_salt = password::new_salt()?;
    let new = crate::auth::derive_password(&state, body.new_password, new_salt.to_vec()).await?;
    let private_key: &SecretKey = &user.private_key;
    let sealed_private_key = aead::seal(
        &new.key_encryption_key,
        private_key.expose(),
        bindings::user_private_key(user.user_id).as_bytes(),
    )?;
    let totp_sealed_secret = match &totp_secret {
        Some(secret) => Some(aead::seal(
            &new.key_encryption_key,
            secret,
            bindings::totp_secret(user.user_id).as_bytes(),
        )?),
        None => None,
    };
    state
        .store
        .update_password(
            user.user_id,
            new_salt.to_vec(),
            password::verifier_hash(&new.verifier).to_vec(),
            sealed_private_key,
            totp_sealed_secret,
        )
        .await?;
    state
        .store
        .audit(audit(
            &user,
            user.organisation_id,
            "user.password_changed",
            user.user_id,
        ))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryCodesRequest {
    password: String,
    totp_code: String,
}

/// Replaces my recovery codes with a new set, shown once: every code of
/// the old set stops working. Needs my password and a current
/// authenticator code.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn replace_recovery_codes(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<RecoveryCodesRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let account = state.store.user(user.user_id).await?;
    let Some(sealed) = account.totp_sealed_secret.clone() else {
        return Err(ApiError::Conflict(
            "this account has no second factor, so it has no recovery codes".to_owned(),
        ));
    };
    let keys = verify_current_password(&state, &account, body.password).await?;
    let secret = zeroize::Zeroizing::new(aead::open(
        &keys.key_encryption_key,
        &sealed,
        bindings::totp_secret(user.user_id).as_bytes(),
    )?);
    let now = Utc::now();
    let passed = match totp::matching_step(&secret, &body.totp_code, now.timestamp().max(0) as u64)
    {
        Some(step) => {
            state
                .store
                .use_totp_step(user.user_id, i64::try_from(step).unwrap_or(i64::MAX))
                .await?
        }
        None => false,
    };
    if !passed {
        // The attempt already counts as a failure (the password check
        // records one first), so a stolen session and password cannot be
        // used to guess codes.
        return Err(ApiError::SecondFactorInvalid);
    }
    state
        .store
        .clear_sign_in_failures(&crate::auth::account_subject(&account.email))
        .await?;
    let codes = totp::new_recovery_codes()?;
    let hashes = codes
        .iter()
        .map(|code| totp::recovery_code_hash(code))
        .collect();
    state
        .store
        .replace_recovery_codes(user.user_id, hashes)
        .await?;
    state
        .store
        .audit(audit(
            &user,
            user.organisation_id,
            "user.recovery_codes_replaced",
            user.user_id,
        ))
        .await?;
    info!("recovery codes replaced");
    Ok(HttpResponse::Ok().json(serde_json::json!({ "recovery_codes": codes })))
}
