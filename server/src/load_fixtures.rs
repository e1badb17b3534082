//! Fixtures for load tests: many conversations that share a few members,
//! so a load generator can open many sockets with few sign-ins.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kinlink_core::crypto::keys::PublicKey;
use kinlink_core::crypto::{aead, bindings, random_bytes};
use kinlink_core::letterbox::{PartyRelationship, ReadReceipts, ReviewLevel, Side};
use kinlink_core::permissions::Role;
use kinlink_store::Store;
use kinlink_store::conversations::ConversationKind;
use kinlink_store::letterbox::AgreementRecord;
use kinlink_store::users::AccountStatus;
use serde::Serialize;

use crate::accounts::{
    AccountRequest, NewMember, create_account, create_conversation_with_key, create_organisation,
};
use crate::recovery::write_owner_only;

#[derive(Serialize)]
struct LoadUser {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct LoadFixtures {
    users: Vec<LoadUser>,
    conversations: Vec<kinlink_core::ConversationId>,
}

/// Creates the fixtures and writes their credentials to `out`.
pub async fn seed(
    store: &Store,
    recovery_key: &PublicKey,
    users: usize,
    conversations: usize,
    out: &Path,
) -> anyhow::Result<()> {
    let (organisation, keys) =
        create_organisation(store, "Load Test Agency", "voluntary_adoption_agency").await?;
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut members = Vec::with_capacity(users);
    let mut credentials = Vec::with_capacity(users);
    for index in 0..users {
        let email = format!("load{index}.{}@load.example", &run[..8]);
        let password = URL_SAFE_NO_PAD.encode(random_bytes::<18>()?);
        let secrets = create_account(
            store,
            recovery_key,
            AccountRequest {
                email: &email,
                display_name: &format!("Load user {index}"),
                password: &password,
                status: AccountStatus::Active,
                organisation: Some(organisation),
                role: Role::AdoptiveFamilyMember,
                invited_by: None,
                marketing_opt_in: false,
                totp_secret: None,
            },
        )
        .await
        .with_context(|| format!("creating load user {index}"))?;
        members.push((secrets.user_id, secrets.public_key));
        credentials.push(LoadUser { email, password });
    }

    let creator = members
        .first()
        .map(|(id, _)| *id)
        .context("at least one user is needed")?;
    let mut ids = Vec::with_capacity(conversations);
    for _ in 0..conversations {
        let member_list = members
            .iter()
            .map(|(user_id, public_key)| NewMember {
                user_id: *user_id,
                public_key: *public_key,
                role: "participant",
            })
            .collect();
        let (id, key) = create_conversation_with_key(
            store,
            ConversationKind::ContactLink,
            organisation,
            &keys.public,
            creator,
            member_list,
        )
        .await?;
        // The load is live messages, which a link's agreement must allow.
        let aad = bindings::agreement_terms(id, 0);
        store
            .put_agreement(AgreementRecord {
                conversation_id: id,
                review_level: ReviewLevel::None.as_str(),
                read_receipts: ReadReceipts::Everyone.as_str(),
                on_request: true,
                live_messages: true,
                call_minutes: None,
                exchanges: "[]".to_owned(),
                adoptive_media: String::new(),
                birth_media: String::new(),
                terms_epoch: 0,
                terms_ciphertext: aead::seal(&key, b"[]", aad.as_bytes())?,
                parties: members
                    .iter()
                    .map(|(user, _)| (*user, Side::Adoptive, PartyRelationship::AdoptiveParent))
                    .collect(),
                updated_by: creator,
                updated_at: chrono::Utc::now(),
            })
            .await?;
        ids.push(id);
    }
    let fixtures = LoadFixtures {
        users: credentials,
        conversations: ids,
    };
    write_owner_only(out, &serde_json::to_vec_pretty(&fixtures)?)?;
    Ok(())
}
