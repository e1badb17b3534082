//! Demo data for a first run: two organisations, their practitioners, an
//! adoptive parent and a birth parent in a supervised contact link, and a
//! discussion between the organisations. Passwords are generated and
//! written to an owner-only file, never to a log.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kinlink_core::crypto::keys::PublicKey;
use kinlink_core::crypto::{random_bytes, totp};
use kinlink_core::permissions::Role;
use kinlink_store::Store;
use kinlink_store::conversations::ConversationKind;
use kinlink_store::users::AccountStatus;
use serde::Serialize;

use crate::accounts::{
    AccountRequest, NewAccountSecrets, NewMember, create_account, create_conversation,
    create_organisation, grant_organisation_key,
};
use crate::recovery::write_owner_only;

/// Name of the credentials file in the data folder.
pub const CREDENTIALS_FILE: &str = "demo-credentials.json";

#[derive(Serialize)]
struct DemoUser {
    key: &'static str,
    email: &'static str,
    password: String,
    display_name: &'static str,
    totp_secret: Option<String>,
    recovery_codes: Vec<String>,
}

#[derive(Serialize)]
struct DemoCredentials {
    users: Vec<DemoUser>,
}

fn generated_password() -> anyhow::Result<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<18>()?))
}

/// Seeds the demo when the database has no users; returns the credentials
/// file's path either way.
pub async fn seed(
    store: &Store,
    recovery_key: &PublicKey,
    data_dir: &Path,
) -> anyhow::Result<PathBuf> {
    let path = data_dir.join(CREDENTIALS_FILE);
    if store
        .find_user_by_email("manager@northshire.example")
        .await?
        .is_some()
    {
        return Ok(path);
    }

    let (authority, authority_keys) =
        create_organisation(store, "Northshire Council", "local_authority").await?;
    let (agency, agency_keys) = create_organisation(
        store,
        "Harbour Adoption Agency",
        "voluntary_adoption_agency",
    )
    .await?;

    let people: [(&str, &str, &str, Role, bool); 5] = [
        (
            "la_manager",
            "manager@northshire.example",
            "Morgan Reid",
            Role::Manager,
            true,
        ),
        (
            "la_practitioner",
            "practitioner@northshire.example",
            "Priya Shah",
            Role::Practitioner,
            true,
        ),
        (
            "va_practitioner",
            "practitioner@harbour.example",
            "Owen Hughes",
            Role::Practitioner,
            false,
        ),
        (
            "adoptive_parent",
            "adoptive.parent@family.example",
            "Alex Carter",
            Role::AdoptiveFamilyMember,
            true,
        ),
        (
            "birth_parent",
            "birth.parent@family.example",
            "Jordan Blake",
            Role::BirthFamilyMember,
            true,
        ),
    ];
    let mut created: Vec<(DemoUser, NewAccountSecrets)> = Vec::new();
    for (key, email, display_name, role, in_authority) in people {
        let password = generated_password()?;
        let organisation = if in_authority { authority } else { agency };
        let secrets = create_account(
            store,
            recovery_key,
            AccountRequest {
                email,
                display_name,
                password: &password,
                status: AccountStatus::Active,
                organisation,
                role,
                invited_by: None,
            },
        )
        .await
        .with_context(|| format!("creating demo user {key}"))?;
        let user = DemoUser {
            key,
            email,
            password,
            display_name,
            totp_secret: secrets
                .totp_secret
                .map(|secret| totp::secret_base32(&secret)),
            recovery_codes: secrets.recovery_codes.clone(),
        };
        if role.is_worker() {
            let (org_keys, org_id) = if in_authority {
                (&authority_keys, authority)
            } else {
                (&agency_keys, agency)
            };
            grant_organisation_key(
                store,
                org_id,
                &org_keys.private,
                secrets.user_id,
                &secrets.public_key,
            )
            .await?;
        }
        created.push((user, secrets));
    }

    let member = |index: usize, role: &'static str| NewMember {
        user_id: created[index].1.user_id,
        public_key: created[index].1.public_key,
        role,
    };
    create_conversation(
        store,
        ConversationKind::ContactLink,
        authority,
        &authority_keys.public,
        created[1].1.user_id,
        vec![
            member(1, "supervisor"),
            member(3, "participant"),
            member(4, "participant"),
        ],
    )
    .await?;
    create_conversation(
        store,
        ConversationKind::Discussion,
        authority,
        &authority_keys.public,
        created[1].1.user_id,
        vec![member(1, "participant"), member(2, "participant")],
    )
    .await?;

    let credentials = DemoCredentials {
        users: created.into_iter().map(|(user, _)| user).collect(),
    };
    write_owner_only(&path, &serde_json::to_vec_pretty(&credentials)?)?;
    Ok(path)
}
