//! Fixtures for load tests: many conversations that share a few members,
//! so a load generator can open many sockets with few sign-ins.

use std::path::Path;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kinlink_core::crypto::keys::PublicKey;
use kinlink_core::crypto::random_bytes;
use kinlink_core::permissions::Role;
use kinlink_store::Store;
use kinlink_store::conversations::ConversationKind;
use kinlink_store::users::AccountStatus;
use serde::Serialize;

use crate::accounts::{
    AccountRequest, NewMember, create_account, create_conversation, create_organisation,
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
                organisation,
                role: Role::AdoptiveFamilyMember,
                invited_by: None,
                marketing_opt_in: false,
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
        let id = create_conversation(
            store,
            ConversationKind::ContactLink,
            organisation,
            &keys.public,
            creator,
            member_list,
        )
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
