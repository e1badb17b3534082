//! Case notes on a contact link: the supervising practitioner's record,
//! which the families never see. Each note has a key of its own, sealed
//! to the organisation's public key, so only the organisation's workers
//! can open it, even though the families hold the link's key.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::crypto::keys::{PublicKey, open_sealed, seal_to};
use kinlink_core::crypto::{SecretKey, aead, bindings};
use kinlink_core::permissions::Action;
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::entity::case_note;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox::{self, invalid};
use crate::state::AppState;

/// Most characters a case note may hold.
const NOTE_MAX_CHARS: usize = 10_000;

#[derive(Serialize)]
pub struct NoteView {
    id: uuid::Uuid,
    author_id: UserId,
    author_name: String,
    body: String,
    written_at: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    body: String,
}

/// Opens the organisation's private key with the worker's own copy.
pub(crate) async fn organisation_key(
    state: &AppState,
    user: &SignedIn,
    organisation: OrganisationId,
) -> Result<SecretKey, ApiError> {
    let sealed = state
        .store
        .organisation_key_for(organisation, user.user_id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    let info = bindings::organisation_key_info(organisation);
    Ok(open_sealed(&user.private_key, &sealed, &info)?)
}

async fn open_note(
    state: &AppState,
    organisation_private: &SecretKey,
    note: &case_note::Model,
) -> Result<NoteView, ApiError> {
    let conversation = ConversationId(note.conversation_id);
    let organisation = OrganisationId(note.organisation_id);
    let info = bindings::case_note_key_info(organisation, conversation, note.id);
    let key = open_sealed(organisation_private, &note.sealed_key, &info)?;
    let aad = bindings::case_note(conversation, note.id, UserId(note.author_id));
    let plaintext = aead::open(&key, &note.ciphertext, aad.as_bytes())?;
    let author = state.store.user(UserId(note.author_id)).await?;
    Ok(NoteView {
        id: note.id,
        author_id: UserId(note.author_id),
        author_name: author.display_name,
        body: String::from_utf8(plaintext).map_err(|error| ApiError::Internal(error.into()))?,
        written_at: note.written_at,
    })
}

/// Lists a link's case notes, oldest first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<NoteView>>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let link = letterbox::link(&state, &user, id).await?;
    link.require(&user, Action::KeepCaseNotes)?;
    let organisation = OrganisationId(link.conversation.organisation_id);
    let organisation_private = organisation_key(&state, &user, organisation).await?;
    let mut notes = Vec::new();
    for note in state.store.case_notes(id).await? {
        notes.push(open_note(&state, &organisation_private, &note).await?);
    }
    Ok(web::Json(notes))
}

/// Adds a case note.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn add(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<NoteBody>,
) -> Result<HttpResponse, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let link = letterbox::link(&state, &user, id).await?;
    link.require(&user, Action::KeepCaseNotes)?;
    let text = body.body.trim();
    if text.is_empty() {
        return Err(invalid("body", "must not be empty"));
    }
    kinlink_core::letterbox::free_text("body", text, NOTE_MAX_CHARS)?;
    let organisation = OrganisationId(link.conversation.organisation_id);
    let organisation_row = state.store.organisation(organisation).await?;
    let organisation_public = PublicKey::from_slice(&organisation_row.public_key)?;
    let note_id = uuid::Uuid::now_v7();
    let key = SecretKey::generate()?;
    let info = bindings::case_note_key_info(organisation, id, note_id);
    let sealed_key = seal_to(&organisation_public, &key, &info)?;
    let aad = bindings::case_note(id, note_id, user.user_id);
    let ciphertext = aead::seal(&key, text.as_bytes(), aad.as_bytes())?;
    let now = Utc::now();
    let note = case_note::Model {
        id: note_id,
        conversation_id: id.0,
        author_id: user.user_id.0,
        organisation_id: organisation.0,
        sealed_key,
        ciphertext,
        written_at: now,
    };
    state.store.add_case_note(note.clone()).await?;
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(organisation),
            action: "case_note.added",
            subject_kind: "conversation",
            subject_id: Some(id.0),
            detail: serde_json::json!({ "note": note_id }),
            at: now,
        })
        .await?;
    info!(conversation = %id, note = %note_id, "case note added");
    let organisation_private = organisation_key(&state, &user, organisation).await?;
    let view = open_note(&state, &organisation_private, &note).await?;
    Ok(HttpResponse::Created().json(view))
}
