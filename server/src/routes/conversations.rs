//! Conversations I belong to, their history, and read positions.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_actors::events::Event;
use kinlink_actors::keyring::Keyring;
use kinlink_actors::session::report_rejected_ciphertext;
use kinlink_core::permissions::{self, Action, Relationship};
use kinlink_core::values::InvalidValue;
use kinlink_core::{ConversationId, MessageId, OrganisationId, UserId};
use kinlink_media::kind::Category;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;

/// Most messages one history request returns.
const MAX_PAGE: u64 = 500;

#[derive(Serialize)]
pub struct MemberView {
    user_id: UserId,
    display_name: String,
    role: String,
}

#[derive(Serialize)]
pub struct ConversationView {
    id: ConversationId,
    kind: String,
    organisation_id: OrganisationId,
    members: Vec<MemberView>,
    last_seq: i64,
    read_seq: i64,
    unread: u64,
    /// The file categories members may upload.
    accepted_media: Vec<String>,
}

/// Answers 404 unless the user is a current member allowed `action`.
pub(crate) async fn authorise(
    state: &AppState,
    user: &SignedIn,
    id: ConversationId,
    action: Action,
) -> Result<(), ApiError> {
    let member = state
        .store
        .active_membership(id, user.user_id)
        .await?
        .is_some();
    let relationships: &[Relationship] = if member {
        &[Relationship::ConversationMember]
    } else {
        &[]
    };
    permissions::check(&user.roles, action, relationships).map_err(|_denied| ApiError::NotFound)
}

#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<ConversationView>>, ApiError> {
    let summaries = state.store.conversations_of(user.user_id).await?;
    let mut views = Vec::with_capacity(summaries.len());
    for summary in summaries {
        let id = ConversationId(summary.conversation.id);
        if authorise(&state, &user, id, Action::ListConversation)
            .await
            .is_err()
        {
            continue;
        }
        views.push(ConversationView {
            id,
            kind: summary.conversation.kind,
            organisation_id: OrganisationId(summary.conversation.organisation_id),
            members: summary
                .members
                .into_iter()
                .map(|member| MemberView {
                    user_id: member.user_id,
                    display_name: member.display_name,
                    role: member.role,
                })
                .collect(),
            last_seq: summary.conversation.last_seq,
            read_seq: summary.read_seq,
            unread: summary.unread,
            accepted_media: summary
                .conversation
                .accepted_media
                .split(',')
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
                .collect(),
        });
    }
    Ok(web::Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    #[serde(default)]
    after: i64,
    limit: Option<u64>,
}

#[derive(Serialize)]
pub struct MessageView {
    conversation_id: ConversationId,
    seq: i64,
    message_id: MessageId,
    sender_id: UserId,
    body: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<uuid::Uuid>,
    sent_at: DateTime<Utc>,
    read_by_others: bool,
}

#[derive(Serialize)]
pub struct HistoryView {
    messages: Vec<MessageView>,
    read_seq_by_member: BTreeMap<UserId, i64>,
}

#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn messages(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    query: web::Query<HistoryQuery>,
) -> Result<web::Json<HistoryView>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    authorise(&state, &user, id, Action::ReadConversation).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let rows = state
        .store
        .messages_after(id, query.after.max(0), limit)
        .await?;
    let members = state.store.members(id).await?;
    let read_seq_by_member: BTreeMap<UserId, i64> = members
        .iter()
        .map(|member| (member.user_id, member.read_seq))
        .collect();

    let mut keyring = Keyring::new(user.user_id, user.private_key);
    let mut messages = Vec::with_capacity(rows.len());
    for row in rows {
        let (body, attachments) = match keyring.open_message(&state.store, &row).await {
            Ok(content) => content.into_parts(),
            Err(error) => {
                report_rejected_ciphertext(&state.store, user.user_id, &row, &error).await;
                continue;
            }
        };
        let sender = UserId(row.sender_id);
        let read_by_others = members
            .iter()
            .any(|member| member.user_id != sender && member.read_seq >= row.seq);
        messages.push(MessageView {
            conversation_id: id,
            seq: row.seq,
            message_id: MessageId(row.message_id),
            sender_id: sender,
            body,
            attachments,
            sent_at: row.sent_at,
            read_by_others,
        });
    }
    Ok(web::Json(HistoryView {
        messages,
        read_seq_by_member,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadBody {
    up_to: i64,
}

#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn mark_read(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<ReadBody>,
) -> Result<HttpResponse, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    authorise(&state, &user, id, Action::MarkRead).await?;
    if let Some(up_to) = state
        .store
        .mark_read(id, user.user_id, body.up_to, Utc::now())
        .await?
    {
        let event = Event::Read {
            conversation_id: id,
            user_id: user.user_id,
            up_to,
        };
        state.broker.publish(event).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptedMediaBody {
    accepted_media: Vec<String>,
}

/// Chooses the file categories members may upload; files already stored
/// stay. Only the conversation's supervisor may.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn set_accepted_media(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<AcceptedMediaBody>,
) -> Result<HttpResponse, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let relationships = supervision(&state, &user, id).await?;
    permissions::check(&user.roles, Action::SetAcceptedMedia, &relationships)
        .map_err(|_denied| ApiError::Forbidden)?;
    if !state.store.link_open(id).await? {
        return Err(ApiError::Conflict(
            "the contact link is suspended or ended: its settings cannot change".to_owned(),
        ));
    }
    let mut chosen = Vec::new();
    for name in &body.accepted_media {
        let category = Category::parse(name).ok_or_else(|| {
            ApiError::InvalidField(InvalidValue {
                field: "accepted_media",
                reason: format!(
                    "unknown category {name:?}: expected document, image, audio or video"
                ),
            })
        })?;
        if chosen.contains(&category) {
            return Err(ApiError::InvalidField(InvalidValue {
                field: "accepted_media",
                reason: format!("{name:?} is listed twice"),
            }));
        }
        chosen.push(category);
    }
    // Stored in the API's order, whatever the order sent.
    let stored: Vec<&str> = Category::ALL
        .into_iter()
        .filter(|category| chosen.contains(category))
        .map(Category::as_str)
        .collect();
    let stored = stored.join(",");
    state.store.set_accepted_media(id, &stored).await?;
    let conversation = state.store.conversation(id).await?;
    state
        .store
        .audit(kinlink_store::audit::AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(OrganisationId(conversation.organisation_id)),
            action: "conversation.accepted_media_changed",
            subject_kind: "conversation",
            subject_id: Some(id.0),
            detail: serde_json::json!({ "accepted_media": stored }),
            at: Utc::now(),
        })
        .await?;
    info!(conversation = %id, accepted_media = %stored, "accepted media changed");
    Ok(HttpResponse::NoContent().finish())
}

/// Returns how the user relates to a conversation they are a member of,
/// supervisor included; anyone else gets 404, like a missing conversation.
async fn supervision(
    state: &AppState,
    user: &SignedIn,
    id: ConversationId,
) -> Result<Vec<Relationship>, ApiError> {
    let actor = state.store.active_membership(id, user.user_id).await?;
    let mut relationships = Vec::new();
    if let Some(membership) = &actor {
        relationships.push(Relationship::ConversationMember);
        if membership.role == "supervisor" {
            relationships.push(Relationship::ConversationSupervisor);
        }
    }
    if permissions::check(&user.roles, Action::ReadConversation, &relationships).is_err() {
        return Err(ApiError::NotFound);
    }
    Ok(relationships)
}

/// Removes a member. Only the conversation's supervisor may; the key moves
/// to a new epoch sealed to the remaining members and the organisation, and
/// the removed member's live sockets stop receiving at once.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn remove_member(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation_text, member_text) = path.into_inner();
    let id: ConversationId = super::parse_id(&conversation_text)?;
    let removed: UserId = super::parse_id(&member_text)?;
    let relationships = supervision(&state, &user, id).await?;
    permissions::check(&user.roles, Action::ManageMembers, &relationships)
        .map_err(|_denied| ApiError::Forbidden)?;
    if state.store.active_membership(id, removed).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    if removed == user.user_id {
        // A contact link must keep its supervisor; another practitioner
        // takes over before anyone leaves.
        return Err(ApiError::Forbidden);
    }

    let conversation = state.store.conversation(id).await?;
    let organisation = state
        .store
        .organisation(OrganisationId(conversation.organisation_id))
        .await?;
    let remaining: Vec<UserId> = state
        .store
        .members(id)
        .await?
        .into_iter()
        .map(|member| member.user_id)
        .filter(|member| *member != removed)
        .collect();
    let sealed_keys = crate::accounts::seal_new_epoch(
        &state.store,
        id,
        conversation.key_epoch + 1,
        &organisation,
        &remaining,
    )
    .await?;
    let rotation = kinlink_store::conversations::Rotation {
        conversation_id: id,
        removed,
        from_epoch: conversation.key_epoch,
        sealed_keys,
        at: Utc::now(),
    };
    let epoch = state.store.remove_member_and_rotate(rotation).await?;
    state
        .broker
        .publish(Event::MemberRemoved {
            conversation_id: id,
            user_id: removed,
        })
        .await;
    state.calls.member_removed(id, removed);
    state
        .store
        .audit(kinlink_store::audit::AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(OrganisationId(conversation.organisation_id)),
            action: "conversation.member_removed",
            subject_kind: "conversation",
            subject_id: Some(id.0),
            detail: serde_json::json!({ "removed": removed, "key_epoch": epoch }),
            at: Utc::now(),
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
