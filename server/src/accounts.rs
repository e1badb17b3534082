//! Creating accounts, organisations and conversations with their keys.
//! Used by the demo seed and by the tests' fixtures.

use chrono::Utc;
use kinlink_core::crypto::keys::{KeyPair, PublicKey, seal_to};
use kinlink_core::crypto::{SecretKey, aead, bindings, password, totp};
use kinlink_core::permissions::Role;
use kinlink_core::values::{DisplayName, EmailAddress, check_new_password};
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_store::Store;
use kinlink_store::conversations::{ConversationKind, KeyRecipient, NewConversation};
use kinlink_store::organisations::{DEFAULT_RETENTION_DAYS, NewOrganisation, OrganisationTerms};
use kinlink_store::users::{AccountStatus, NewUser};

use crate::error::ApiError;

/// The secrets a new account's owner receives once and never again.
pub struct NewAccountSecrets {
    pub user_id: UserId,
    pub public_key: PublicKey,
    /// The account's private key, for a session started with the account.
    pub private_key: SecretKey,
    pub totp_secret: Option<[u8; totp::SECRET_LEN]>,
    pub recovery_codes: Vec<String>,
}

/// A new account's details.
pub struct AccountRequest<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub status: AccountStatus,
    /// The organisation the role is held in; none for a community-only
    /// account, whose membership of the community is kept apart.
    pub organisation: Option<OrganisationId>,
    pub role: Role,
    pub invited_by: Option<UserId>,
    /// Whether the person chose marketing email; never on by default.
    pub marketing_opt_in: bool,
    /// A second-factor secret the person has set up already; a worker
    /// without one gets a fresh secret.
    pub totp_secret: Option<[u8; totp::SECRET_LEN]>,
}

/// Creates an account with its key pair, sealed under the password and
/// escrowed to the recovery key. Staff roles get a second factor.
pub async fn create_account(
    store: &Store,
    recovery_key: &PublicKey,
    request: AccountRequest<'_>,
) -> Result<NewAccountSecrets, ApiError> {
    let organisation = request.organisation;
    let role = request.role;
    let invited_by = request.invited_by;
    let (user, secrets) = prepare_account(recovery_key, request).await?;
    let now = user.created_at;
    store.create_user(user).await?;
    if let Some(organisation) = organisation {
        store
            .add_membership(secrets.user_id, organisation, role, invited_by, now)
            .await?;
    }
    if !secrets.recovery_codes.is_empty() {
        let hashes = secrets
            .recovery_codes
            .iter()
            .map(|code| totp::recovery_code_hash(code))
            .collect();
        store.add_recovery_codes(secrets.user_id, hashes).await?;
    }
    Ok(secrets)
}

/// Derives an account's keys and returns the row to store, without storing
/// it, so a caller can store it inside its own transaction. Staff roles get
/// a second factor and recovery codes.
pub async fn prepare_account(
    recovery_key: &PublicKey,
    request: AccountRequest<'_>,
) -> Result<(NewUser, NewAccountSecrets), ApiError> {
    let email = EmailAddress::parse(request.email)?;
    let display_name = DisplayName::parse(request.display_name)?;
    check_new_password(request.password, "password")?;

    let user_id = UserId::new();
    let salt = password::new_salt()?;
    let password = request.password.to_owned();
    let derived = actix_web::web::block(move || password::derive(&password, &salt))
        .await
        .map_err(|blocking| ApiError::Internal(blocking.into()))??;
    let pair = KeyPair::generate()?;
    let sealed_private_key = aead::seal(
        &derived.key_encryption_key,
        pair.private.expose(),
        bindings::user_private_key(user_id).as_bytes(),
    )?;
    let escrow = seal_to(
        recovery_key,
        &pair.private,
        &bindings::recovery_escrow_info(user_id),
    )?;

    let totp_secret = match (request.role.is_worker(), request.totp_secret) {
        (true, Some(secret)) => Some(secret),
        (true, None) => Some(totp::new_secret()?),
        (false, _) => None,
    };
    let totp_sealed_secret = match &totp_secret {
        Some(secret) => Some(aead::seal(
            &derived.key_encryption_key,
            secret,
            bindings::totp_secret(user_id).as_bytes(),
        )?),
        None => None,
    };

    let now = Utc::now();
    let user = NewUser {
        id: user_id,
        email: email.as_str().to_owned(),
        display_name: display_name.as_str().to_owned(),
        status: request.status,
        password_salt: salt.to_vec(),
        auth_hash: password::verifier_hash(&derived.verifier).to_vec(),
        public_key: pair.public.0.to_vec(),
        sealed_private_key,
        recovery_sealed_private_key: escrow,
        totp_sealed_secret,
        invited_by: request.invited_by,
        created_at: now,
        marketing_opt_in: request.marketing_opt_in,
    };
    let recovery_codes = if totp_secret.is_some() {
        totp::new_recovery_codes()?
    } else {
        Vec::new()
    };
    Ok((
        user,
        NewAccountSecrets {
            user_id,
            public_key: pair.public,
            private_key: pair.private,
            totp_secret,
            recovery_codes,
        },
    ))
}

/// Creates an organisation with a licence for a year from now and the
/// default retention period, and returns its key pair, so the caller can
/// seal the private key to the first workers.
pub async fn create_organisation(
    store: &Store,
    name: &str,
    kind: &str,
) -> Result<(OrganisationId, KeyPair), ApiError> {
    let terms = OrganisationTerms {
        name: name.to_owned(),
        licence_starts_at: None,
        licence_expires_at: Some(Utc::now() + chrono::Duration::days(365)),
        retention_days: DEFAULT_RETENTION_DAYS,
        families_edit_profiles: false,
    };
    create_organisation_with(store, kind, terms).await
}

/// Creates an organisation on the given terms and returns its key pair.
pub async fn create_organisation_with(
    store: &Store,
    kind: &str,
    terms: OrganisationTerms,
) -> Result<(OrganisationId, KeyPair), ApiError> {
    let id = OrganisationId::new();
    let pair = KeyPair::generate()?;
    store
        .create_organisation(NewOrganisation {
            id,
            name: terms.name,
            kind: kind.to_owned(),
            licence_starts_at: terms.licence_starts_at,
            licence_expires_at: terms.licence_expires_at,
            retention_days: terms.retention_days,
            families_edit_profiles: terms.families_edit_profiles,
            public_key: pair.public.0.to_vec(),
            created_at: Utc::now(),
        })
        .await?;
    Ok((id, pair))
}

/// Seals the organisation's private key to an active worker.
pub async fn grant_organisation_key(
    store: &Store,
    organisation: OrganisationId,
    organisation_private: &SecretKey,
    worker: UserId,
    worker_public: &PublicKey,
) -> Result<(), ApiError> {
    let sealed = seal_to(
        worker_public,
        organisation_private,
        &bindings::organisation_key_info(organisation),
    )?;
    store
        .add_organisation_key(organisation, worker, sealed, Utc::now())
        .await?;
    Ok(())
}

/// A member of a new conversation.
pub struct NewMember {
    pub user_id: UserId,
    pub public_key: PublicKey,
    pub role: &'static str,
}

/// Creates a conversation whose fresh key is sealed to each member and to
/// the owning organisation.
pub async fn create_conversation(
    store: &Store,
    kind: ConversationKind,
    organisation: OrganisationId,
    organisation_public: &PublicKey,
    created_by: UserId,
    members: Vec<NewMember>,
) -> Result<ConversationId, ApiError> {
    let (id, _key) = create_conversation_with_key(
        store,
        kind,
        organisation,
        organisation_public,
        created_by,
        members,
    )
    .await?;
    Ok(id)
}

/// Creates a conversation as [`create_conversation`] does, and returns its
/// key of epoch 0 too, for a caller that seals the first values in it.
pub async fn create_conversation_with_key(
    store: &Store,
    kind: ConversationKind,
    organisation: OrganisationId,
    organisation_public: &PublicKey,
    created_by: UserId,
    members: Vec<NewMember>,
) -> Result<(ConversationId, SecretKey), ApiError> {
    let id = ConversationId::new();
    let key = SecretKey::generate()?;
    let info = bindings::conversation_key_info(id, 0);
    let mut sealed_keys = vec![(
        KeyRecipient::Organisation(organisation),
        seal_to(organisation_public, &key, &info)?,
    )];
    for member in &members {
        sealed_keys.push((
            KeyRecipient::User(member.user_id),
            seal_to(&member.public_key, &key, &info)?,
        ));
    }
    store
        .create_conversation(NewConversation {
            id,
            kind,
            organisation_id: organisation,
            created_by,
            members: members
                .iter()
                .map(|member| (member.user_id, member.role))
                .collect(),
            sealed_keys,
            created_at: Utc::now(),
        })
        .await?;
    Ok((id, key))
}

/// Creates a fresh conversation key for `epoch`, sealed to each listed
/// member and to the owning organisation.
pub async fn seal_new_epoch(
    store: &Store,
    conversation: ConversationId,
    epoch: i32,
    organisation: &kinlink_store::entity::organisation::Model,
    members: &[UserId],
) -> Result<Vec<(KeyRecipient, Vec<u8>)>, ApiError> {
    let key = SecretKey::generate()?;
    let info = bindings::conversation_key_info(conversation, epoch);
    let organisation_public = PublicKey::from_slice(&organisation.public_key)?;
    let mut sealed = vec![(
        KeyRecipient::Organisation(OrganisationId(organisation.id)),
        seal_to(&organisation_public, &key, &info)?,
    )];
    for member in members {
        let public = PublicKey::from_slice(&store.user(*member).await?.public_key)?;
        sealed.push((KeyRecipient::User(*member), seal_to(&public, &key, &info)?));
    }
    Ok(sealed)
}
