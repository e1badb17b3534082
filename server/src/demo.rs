//! Demo data for a first run: two organisations, their practitioners and
//! managers, an adoptive parent and a birth parent in a supervised contact
//! link with its agreement, a discussion between the organisations,
//! family-finding cases, two platform operators, and a community partner with
//! its moderator, two groups and a verified member. Passwords are generated
//! and written to an owner-only file, never to a log.

use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kinlink_core::community::{GroupJoin, LegalStatus, RULES_VERSION, comparable_display_name};
use kinlink_core::crypto::keys::PublicKey;
use kinlink_core::crypto::{SecretKey, aead, bindings, random_bytes, totp};
use kinlink_core::identifying::{ProtectedTerm, TermKind};
use kinlink_core::letterbox::{Exchange, PartyRelationship, ReadReceipts, ReviewLevel, Side};
use kinlink_core::organisations::{OPERATOR_KIND, OrganisationKind};
use kinlink_core::permissions::Role;
use kinlink_core::{ConversationId, UserId};
use kinlink_store::Store;
use kinlink_store::community::NewCommunityMember;
use kinlink_store::conversations::ConversationKind;
use kinlink_store::entity::{community_group, community_profile};
use kinlink_store::letterbox::AgreementRecord;
use kinlink_store::organisations::{DEFAULT_RETENTION_DAYS, OrganisationTerms};
use kinlink_store::users::AccountStatus;
use serde::Serialize;

use crate::accounts::{
    AccountRequest, NewAccountSecrets, NewMember, create_account, create_conversation,
    create_conversation_with_key, create_organisation, create_organisation_with,
    grant_organisation_key,
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
    profile_key: &SecretKey,
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
    let (operator, operator_keys) = create_organisation_with(
        store,
        OPERATOR_KIND,
        OrganisationTerms {
            name: "KinLink operations".to_owned(),
            licence_starts_at: None,
            licence_expires_at: None,
            retention_days: DEFAULT_RETENTION_DAYS,
            families_edit_profiles: false,
        },
    )
    .await?;

    let (partner, partner_keys) = create_organisation(
        store,
        "Adoption Support Network",
        OrganisationKind::CommunityPartner.as_str(),
    )
    .await?;

    // Each person's employer: 0 the council, 1 the agency, 2 the operator,
    // 3 the community partner.
    let people: [(&str, &str, &str, Role, usize); 11] = [
        (
            "la_manager",
            "manager@northshire.example",
            "Morgan Reid",
            Role::Manager,
            0,
        ),
        (
            "la_practitioner",
            "practitioner@northshire.example",
            "Priya Shah",
            Role::Practitioner,
            0,
        ),
        (
            "va_practitioner",
            "practitioner@harbour.example",
            "Owen Hughes",
            Role::Practitioner,
            1,
        ),
        (
            "adoptive_parent",
            "adoptive.parent@family.example",
            "Alex",
            Role::AdoptiveFamilyMember,
            0,
        ),
        (
            "birth_parent",
            "birth.parent@family.example",
            "Jordan Blake",
            Role::BirthFamilyMember,
            0,
        ),
        (
            "second_adoptive_parent",
            "second.adoptive@family.example",
            "Sam",
            Role::AdoptiveFamilyMember,
            1,
        ),
        (
            "second_birth_relative",
            "second.birth@family.example",
            "Robin Hale",
            Role::BirthFamilyMember,
            1,
        ),
        (
            "va_manager",
            "manager@harbour.example",
            "Nia Evans",
            Role::Manager,
            1,
        ),
        (
            "platform_admin",
            "operator@kinlink.example",
            "Kai Morgan",
            Role::PlatformAdmin,
            2,
        ),
        (
            "second_platform_admin",
            "second.operator@kinlink.example",
            "Ari Walsh",
            Role::PlatformAdmin,
            2,
        ),
        (
            "community_moderator",
            "moderator@support.example",
            "Lee Carter",
            Role::Moderator,
            3,
        ),
    ];
    let mut created: Vec<(DemoUser, NewAccountSecrets)> = Vec::new();
    let employers = [
        (authority, &authority_keys),
        (agency, &agency_keys),
        (operator, &operator_keys),
        (partner, &partner_keys),
    ];
    for (key, email, display_name, role, employer) in people {
        let password = generated_password()?;
        let (organisation, org_keys) = employers[employer];
        let secrets = create_account(
            store,
            recovery_key,
            AccountRequest {
                email,
                display_name,
                password: &password,
                status: AccountStatus::Active,
                organisation: Some(organisation),
                role,
                invited_by: None,
                marketing_opt_in: false,
                totp_secret: None,
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
            grant_organisation_key(
                store,
                organisation,
                &org_keys.private,
                secrets.user_id,
                &secrets.public_key,
            )
            .await?;
        }
        // A moderator's community name is theirs from the start, as it is
        // for one whose account a colleague confirms.
        if role == Role::Moderator {
            store
                .ensure_moderator_member(
                    secrets.user_id,
                    display_name,
                    organisation.0,
                    chrono::Utc::now(),
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
    let (contact_link, link_key) = create_conversation_with_key(
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
    set_demo_agreement(
        store,
        contact_link,
        &link_key,
        created[1].1.user_id,
        DemoReview {
            level: ReviewLevel::EveryItem,
            live_messages: true,
            media: "document,image,audio,video",
        },
        [
            (created[3].1.user_id, PartyRelationship::AdoptiveParent),
            (created[4].1.user_id, PartyRelationship::Parent),
        ],
        [
            (TermKind::Surname, "Carter"),
            (TermKind::FirstName, "Mia"),
            (TermKind::School, "Oakfield Primary School"),
            (TermKind::Town, "Ashby"),
        ],
    )
    .await?;
    let (second_link, second_key) = create_conversation_with_key(
        store,
        ConversationKind::ContactLink,
        agency,
        &agency_keys.public,
        created[2].1.user_id,
        vec![
            member(2, "supervisor"),
            member(5, "participant"),
            member(6, "participant"),
        ],
    )
    .await?;
    set_demo_agreement(
        store,
        second_link,
        &second_key,
        created[2].1.user_id,
        DemoReview {
            level: ReviewLevel::FirstExchange,
            live_messages: false,
            media: "document,image",
        },
        [
            (created[5].1.user_id, PartyRelationship::AdoptiveParent),
            (created[6].1.user_id, PartyRelationship::Grandparent),
        ],
        [
            (TermKind::Surname, "Whitlock"),
            (TermKind::FirstName, "Leo"),
            (TermKind::School, "Ysgol Glan Morfa"),
            (TermKind::Town, "Porthcawl"),
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

    crate::demo_cases::seed(
        store,
        profile_key,
        [authority, agency],
        [created[1].1.user_id, created[2].1.user_id],
    )
    .await?;

    let moderator = created[9].1.user_id;
    let mut users: Vec<DemoUser> = created.into_iter().map(|(user, _)| user).collect();
    users.push(seed_community(store, recovery_key, moderator).await?);
    let credentials = DemoCredentials { users };
    write_owner_only(&path, &serde_json::to_vec_pretty(&credentials)?)?;
    Ok(path)
}

/// Seeds the community: two groups, one open and one that needs a
/// moderator's approval, and a verified member with a profile who has
/// accepted the rules. Returns the member's credentials.
async fn seed_community(
    store: &Store,
    recovery_key: &PublicKey,
    moderator: UserId,
) -> anyhow::Result<DemoUser> {
    let now = chrono::Utc::now();
    for (name, description, join) in [
        (
            "New adopters",
            "The first months and years with your children: questions, worries and good days.",
            GroupJoin::Open,
        ),
        (
            "Foster carers' circle",
            "A closed group for foster carers; a moderator lets members in.",
            GroupJoin::Approval,
        ),
    ] {
        store
            .create_community_group(community_group::Model {
                id: uuid::Uuid::now_v7(),
                name: name.to_owned(),
                comparable_name: comparable_display_name(name),
                description: description.to_owned(),
                join_rule: join.as_str().to_owned(),
                created_by: Some(moderator.0),
                created_at: now,
            })
            .await?;
    }
    let email = "member@community.example";
    let display_name = "Calm Harbour";
    let password = generated_password()?;
    let secrets = create_account(
        store,
        recovery_key,
        AccountRequest {
            email,
            display_name,
            password: &password,
            status: AccountStatus::Active,
            organisation: None,
            role: Role::CommunityMember,
            invited_by: None,
            marketing_opt_in: false,
            totp_secret: None,
        },
    )
    .await
    .context("creating the demo community member")?;
    let user = secrets.user_id;
    store
        .apply_to_community(NewCommunityMember {
            user_id: user,
            display_name: display_name.to_owned(),
            comparable_name: comparable_display_name(display_name),
            partner_id: None,
            membership_number: None,
            at: now,
        })
        .await?;
    store
        .decide_community_application(user, true, None, moderator, now)
        .await?;
    store
        .accept_community_rules(user, RULES_VERSION, now)
        .await?;
    store
        .put_community_profile(
            (
                display_name.to_owned(),
                comparable_display_name(display_name),
            ),
            community_profile::Model {
                user_id: user.0,
                family_makeup: "Two mums and a daughter aged five".to_owned(),
                family_makeup_visible: true,
                legal_status: Some(LegalStatus::AdoptionOrder.as_str().to_owned()),
                legal_status_visible: false,
                interests: "Life story work, walking".to_owned(),
                interests_visible: true,
                picture_id: None,
                picture_visible: false,
                updated_at: now,
                marked_at: None,
            },
        )
        .await?;
    Ok(DemoUser {
        key: "community_member",
        email,
        password,
        display_name,
        totp_secret: None,
        recovery_codes: Vec::new(),
    })
}

/// The review settings of a demo link. The first link's families may also
/// message each other live and send any kind of file. The second's
/// exchange letters with documents and pictures only.
struct DemoReview {
    level: ReviewLevel,
    live_messages: bool,
    /// The file categories each side may send, as stored.
    media: &'static str,
}

/// Gives a demo contact link its agreement: a letter each way a year, and
/// the adoptive family's surname, the child's new first name, school and
/// town protected.
async fn set_demo_agreement(
    store: &Store,
    link: ConversationId,
    key: &SecretKey,
    practitioner: UserId,
    review: DemoReview,
    [adoptive, birth]: [(UserId, PartyRelationship); 2],
    terms: [(TermKind, &str); 4],
) -> anyhow::Result<()> {
    let terms = terms.map(|(kind, text)| ProtectedTerm {
        kind,
        text: text.to_owned(),
    });
    let aad = bindings::agreement_terms(link, 0);
    let terms_ciphertext = aead::seal(key, &serde_json::to_vec(&terms)?, aad.as_bytes())?;
    let exchanges = [
        Exchange {
            month: 3,
            day: 1,
            from: Side::Adoptive,
        },
        Exchange {
            month: 9,
            day: 1,
            from: Side::Birth,
        },
    ];
    store
        .put_agreement(AgreementRecord {
            conversation_id: link,
            review_level: review.level.as_str(),
            read_receipts: ReadReceipts::Everyone.as_str(),
            on_request: false,
            live_messages: review.live_messages,
            call_minutes: None,
            exchanges: serde_json::to_string(&exchanges)?,
            adoptive_media: review.media.to_owned(),
            birth_media: review.media.to_owned(),
            terms_epoch: 0,
            terms_ciphertext,
            parties: vec![
                (adoptive.0, Side::Adoptive, adoptive.1),
                (birth.0, Side::Birth, birth.1),
            ],
            updated_by: practitioner,
            updated_at: chrono::Utc::now(),
        })
        .await?;
    Ok(())
}
