//! Case transfer: a manager hands a child or family case, with its
//! discussions, to another organisation after recording the approval, and
//! both organisations see the transfer in their audit trails.

use std::collections::BTreeSet;

use actix_web::web;
use chrono::{DateTime, NaiveDate, Utc};
use kinlink_actors::events::Event;
use kinlink_core::crypto::keys::{PublicKey, open_sealed, seal_to};
use kinlink_core::crypto::{SecretKey, bindings};
use kinlink_core::organisations::places_children;
use kinlink_core::permissions::{Action, Role};
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_store::StoreError;
use kinlink_store::audit::AuditRecord;
use kinlink_store::conversations::KeyRecipient;
use kinlink_store::entity::{case, case_transfer, interest};
use kinlink_store::transfers::{Handover, NewTransfer};
use serde::{Deserialize, Serialize};
use tracing::{info, instrument, warn};

use super::JsonBody;
use super::cases::OrganisationRef;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::{case_access, licence_now, staff_workplace};
use crate::letterbox::invalid;
use crate::state::AppState;

/// Most characters of an approval reference.
const REFERENCE_MAX_CHARS: usize = 100;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferBody {
    organisation_id: String,
    approval_reference: String,
    approved_on: NaiveDate,
}

/// A transfer, as returned to either organisation.
#[derive(Serialize)]
pub struct TransferView {
    id: uuid::Uuid,
    case_id: uuid::Uuid,
    from_organisation: OrganisationRef,
    to_organisation: OrganisationRef,
    transferred_by: UserId,
    approval_reference: String,
    approved_on: NaiveDate,
    transferred_at: DateTime<Utc>,
}

async fn view(state: &AppState, row: case_transfer::Model) -> Result<TransferView, ApiError> {
    let from = state
        .store
        .organisation(OrganisationId(row.from_organisation_id))
        .await?;
    let to = state
        .store
        .organisation(OrganisationId(row.to_organisation_id))
        .await?;
    Ok(TransferView {
        id: row.id,
        case_id: row.case_id,
        from_organisation: OrganisationRef::new(OrganisationId(from.id), from.name),
        to_organisation: OrganisationRef::new(OrganisationId(to.id), to.name),
        transferred_by: UserId(row.transferred_by),
        approval_reference: row.approval_reference,
        approved_on: row.approved_on,
        transferred_at: row.transferred_at,
    })
}

/// Checks the receiving organisation: another placing organisation whose
/// licence is active.
async fn receiving_organisation(
    state: &AppState,
    text: &str,
    from: OrganisationId,
) -> Result<kinlink_store::entity::organisation::Model, ApiError> {
    let id: OrganisationId = text
        .parse()
        .map_err(|_not_an_id| invalid("organisation_id", "is not an organisation id"))?;
    if id == from {
        return Err(invalid(
            "organisation_id",
            "is the organisation that holds the case",
        ));
    }
    let organisation = match state.store.organisation(id).await {
        Ok(organisation) if places_children(&organisation.kind) => organisation,
        Ok(_) | Err(StoreError::NotFound { .. }) => {
            return Err(invalid("organisation_id", "no organisation has this id"));
        }
        Err(other) => return Err(other.into()),
    };
    if !licence_now(&organisation, Utc::now()).allows_changes() {
        return Err(invalid(
            "organisation_id",
            "the organisation's licence is not active",
        ));
    }
    Ok(organisation)
}

/// The people and keys a transfer works with.
struct Parties {
    from: OrganisationId,
    from_private: SecretKey,
    to: OrganisationId,
    to_public: PublicKey,
    /// The receiving organisation's active managers, with their keys.
    managers: Vec<(UserId, PublicKey)>,
}

/// Returns the organisation of a member of a discussion, from their first
/// grant.
async fn organisation_of(
    state: &AppState,
    user: UserId,
) -> Result<Option<OrganisationId>, ApiError> {
    Ok(state
        .store
        .grants(user)
        .await?
        .first()
        .map(|grant| grant.organisation_id))
}

/// Works out what the transfer changes in one discussion, re-sealing the
/// key of every epoch so far for the new readers and sealing a fresh key
/// for the next epoch. Returns it with the organisation that has the
/// discussion's other case.
async fn handover(
    state: &AppState,
    parties: &Parties,
    moving: &case::Model,
    discussion: &interest::Model,
) -> Result<(Handover, OrganisationId), ApiError> {
    let id = ConversationId(discussion.conversation_id);
    let conversation = state.store.conversation(id).await?;
    let other_case = if discussion.child_case_id == moving.id {
        discussion.family_case_id
    } else {
        discussion.child_case_id
    };
    let other = state
        .store
        .case(other_case)
        .await?
        .ok_or(ApiError::NotFound)?;
    let other_organisation = OrganisationId(other.organisation_id);
    // When both cases belonged to the sending organisation, its workers
    // keep the discussion for the case that stays.
    let sending_leaves = other_organisation != parties.from;

    let mut removed = Vec::new();
    let mut remaining = Vec::new();
    for member in state.store.members(id).await? {
        let organisation = organisation_of(state, member.user_id).await?;
        if sending_leaves && organisation == Some(parties.from) {
            removed.push(member.user_id);
        } else {
            remaining.push(member.user_id);
        }
    }
    let added: Vec<(UserId, PublicKey)> = parties
        .managers
        .iter()
        .filter(|(user, _)| !remaining.contains(user))
        .cloned()
        .collect();

    let mut history_keys = Vec::new();
    for epoch in 0..=conversation.key_epoch {
        let info = bindings::conversation_key_info(id, epoch);
        let sealed = state
            .store
            .sealed_conversation_key(id, epoch, KeyRecipient::Organisation(parties.from))
            .await?;
        let Some(sealed) = sealed else {
            // NOTE: a member removal in a discussion seals the next key to
            // the owning organisation only, so the other side's
            // organisation lacks that epoch and its history cannot be
            // handed on from here.
            warn!(conversation = %id, epoch, "the sending organisation has no key for this epoch, so its history is not handed on");
            continue;
        };
        let key = open_sealed(&parties.from_private, &sealed, &info)?;
        let mut readers = vec![(KeyRecipient::Organisation(parties.to), parties.to_public)];
        readers.extend(
            added
                .iter()
                .map(|(manager, public)| (KeyRecipient::User(*manager), *public)),
        );
        for (reader, public) in readers {
            // The receiving organisation already has the keys of a
            // discussion it took part in, and a returning worker may too.
            let held = state
                .store
                .sealed_conversation_key(id, epoch, reader)
                .await?;
            if held.is_none() {
                history_keys.push((epoch, reader, seal_to(&public, &key, &info)?));
            }
        }
    }

    let next_epoch = conversation.key_epoch + 1;
    let info = bindings::conversation_key_info(id, next_epoch);
    let next = SecretKey::generate()?;
    let mut next_keys = Vec::new();
    let organisations: BTreeSet<OrganisationId> = if sending_leaves {
        [other_organisation, parties.to].into()
    } else {
        [parties.from, parties.to].into()
    };
    for organisation in organisations {
        let row = state.store.organisation(organisation).await?;
        let public = PublicKey::from_slice(&row.public_key)?;
        next_keys.push((
            KeyRecipient::Organisation(organisation),
            seal_to(&public, &next, &info)?,
        ));
    }
    for member in &remaining {
        let public = PublicKey::from_slice(&state.store.user(*member).await?.public_key)?;
        next_keys.push((KeyRecipient::User(*member), seal_to(&public, &next, &info)?));
    }
    for (manager, public) in &added {
        next_keys.push((KeyRecipient::User(*manager), seal_to(public, &next, &info)?));
    }
    let handover = Handover {
        conversation_id: id,
        from_epoch: conversation.key_epoch,
        history_keys,
        next_keys,
        removed_members: removed,
        added_members: added.into_iter().map(|(user, _)| user).collect(),
        removed_organisation: sending_leaves.then_some(parties.from),
        new_owner: (conversation.organisation_id == parties.from.0).then_some(parties.to),
    };
    Ok((handover, other_organisation))
}

/// Transfers a case, with all its discussions, to another organisation.
/// The receiving organisation's managers join the discussions and can read
/// their whole history; the sending organisation loses access at once.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn transfer(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<TransferBody>,
) -> Result<web::Json<TransferView>, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let access = case_access(&state, &user, id).await?;
    access.require(&user, Action::TransferCase)?;
    let from = OrganisationId(access.case.organisation_id);
    let body = body.into_inner();
    let target = receiving_organisation(&state, &body.organisation_id, from).await?;
    let reference = body.approval_reference.trim().to_owned();
    if reference.is_empty() {
        return Err(invalid("approval_reference", "must not be empty"));
    }
    kinlink_core::letterbox::free_text("approval_reference", &reference, REFERENCE_MAX_CHARS)?;
    if reference.contains(['\n', '\r', '\t']) {
        return Err(invalid("approval_reference", "must be one line"));
    }
    let now = Utc::now();
    if body.approved_on > now.date_naive() {
        return Err(invalid("approved_on", "must not be in the future"));
    }
    if body.approved_on < kinlink_core::profiles::earliest_date() {
        return Err(invalid("approved_on", "must be in 1900 or later"));
    }

    let to = OrganisationId(target.id);
    let mut managers = Vec::new();
    for worker in state.store.workers_of(to).await? {
        if worker.role == Role::Manager && worker.status == "active" {
            let public =
                PublicKey::from_slice(&state.store.user(worker.user_id).await?.public_key)?;
            managers.push((worker.user_id, public));
        }
    }
    if managers.is_empty() {
        return Err(ApiError::Conflict(
            "the receiving organisation has no active manager to receive the case".to_owned(),
        ));
    }
    let sealed = state
        .store
        .organisation_key_for(from, user.user_id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    let parties = Parties {
        from,
        from_private: open_sealed(
            &user.private_key,
            &sealed,
            &bindings::organisation_key_info(from),
        )?,
        to,
        to_public: PublicKey::from_slice(&target.public_key)?,
        managers,
    };

    let mut handovers = Vec::new();
    let mut other_sides = std::collections::BTreeSet::new();
    for conversation in state.store.case_discussions(id).await? {
        let discussion = state
            .store
            .interest_of_conversation(conversation)
            .await?
            .ok_or(ApiError::NotFound)?;
        let (handover, other_side) = handover(&state, &parties, &access.case, &discussion).await?;
        other_sides.insert(other_side);
        handovers.push(handover);
    }
    let removed: Vec<(ConversationId, Vec<UserId>)> = handovers
        .iter()
        .map(|handover| (handover.conversation_id, handover.removed_members.clone()))
        .collect();

    let row = state
        .store
        .transfer_case(NewTransfer {
            id: uuid::Uuid::now_v7(),
            case_id: id,
            from,
            to,
            transferred_by: user.user_id,
            approval_reference: reference,
            approved_on: body.approved_on,
            at: now,
            handovers,
        })
        .await
        .map_err(|error| match error {
            StoreError::Conflict { .. } => ApiError::Conflict(
                "the case or one of its discussions changed meanwhile; try again".to_owned(),
            ),
            other => other.into(),
        })?;

    for (conversation_id, members) in removed {
        for user_id in members {
            state
                .broker
                .publish(Event::MemberRemoved {
                    conversation_id,
                    user_id,
                })
                .await;
            state.calls.member_removed(conversation_id, user_id);
        }
    }
    let mut trails = vec![(from, "case.transferred_out"), (to, "case.transferred_in")];
    // An organisation on the other side of a discussion that moved learns
    // from its own trail who has the discussion now.
    for organisation in other_sides {
        if organisation != from && organisation != to {
            trails.push((organisation, "case.discussion_transferred"));
        }
    }
    for (organisation, action) in trails {
        state
            .store
            .audit(AuditRecord {
                actor_id: Some(user.user_id),
                organisation_id: Some(organisation),
                action,
                subject_kind: "case",
                subject_id: Some(id),
                detail: serde_json::json!({
                    "transfer": row.id,
                    "from_organisation": from,
                    "to_organisation": to,
                    "approved_on": row.approved_on,
                }),
                at: now,
            })
            .await?;
    }
    // The transfer unlinked the family that kept the profile, so it leaves
    // the case's discussions too.
    if let Some(family) = access.case.family_user_id.map(UserId) {
        super::family_accounts::leave_discussions(&state, id, family, user.user_id).await?;
    }
    info!(case = %id, transfer = %row.id, to = %to, "case transferred");
    Ok(web::Json(view(&state, row).await?))
}

/// Lists the transfers into and out of the caller's organisation.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<TransferView>>, ApiError> {
    let workplace = staff_workplace(&state, &user, Action::ReadAuditTrail).await?;
    let mut views = Vec::new();
    for row in state.store.organisation_transfers(workplace.id()).await? {
        views.push(view(&state, row).await?);
    }
    Ok(web::Json(views))
}
