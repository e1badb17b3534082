//! What the letterbox routes share: who the caller is to a contact link,
//! and the sealing of protected terms and letter content under the link's
//! conversation key.

pub mod attachments;
pub mod check_cache;

use kinlink_actors::keyring::Keyring;
use kinlink_core::crypto::bindings;
use kinlink_core::identifying::{Detector, Finding, ProtectedTerm};
use kinlink_core::letterbox::{Side, Utf16Offsets};
use kinlink_core::permissions::{self, Action, Relationship};
use kinlink_core::values::InvalidValue;
use kinlink_core::{ConversationId, UserId};
use kinlink_media::kind::Category;
use kinlink_store::Store;
use kinlink_store::conversations::ConversationKind;
use kinlink_store::entity::conversation;
use kinlink_store::letterbox::Agreement;
use serde::{Deserialize, Serialize};

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;

/// Returns an invalid-field error.
pub fn invalid(field: &'static str, reason: impl Into<String>) -> ApiError {
    ApiError::InvalidField(InvalidValue {
        field,
        reason: reason.into(),
    })
}

/// The caller's standing in one contact link.
pub struct Link {
    pub conversation: conversation::Model,
    pub relationships: Vec<Relationship>,
    pub agreement: Option<Agreement>,
}

impl Link {
    /// Returns the conversation's id.
    pub fn id(&self) -> ConversationId {
        ConversationId(self.conversation.id)
    }

    /// Returns whether the caller supervises the link.
    pub fn supervises(&self) -> bool {
        self.relationships
            .contains(&Relationship::ConversationSupervisor)
    }

    /// Returns `403` unless the caller may take `action` here.
    pub fn require(&self, user: &SignedIn, action: Action) -> Result<(), ApiError> {
        permissions::check(&user.roles, action, &self.relationships)
            .map_err(|_denied| ApiError::Forbidden)
    }

    /// Returns the agreement, or `404` when the link has none yet.
    pub fn agreement(&self) -> Result<&Agreement, ApiError> {
        self.agreement.as_ref().ok_or(ApiError::NotFound)
    }
}

/// Loads a contact link the caller is a current member of and may read;
/// anything else answers `404`, exactly like a link that does not exist.
pub async fn link(state: &AppState, user: &SignedIn, id: ConversationId) -> Result<Link, ApiError> {
    let membership = state.store.active_membership(id, user.user_id).await?;
    let Some(membership) = membership else {
        return Err(ApiError::NotFound);
    };
    let conversation = state.store.conversation(id).await?;
    if conversation.kind != ConversationKind::ContactLink.as_str() {
        return Err(ApiError::NotFound);
    }
    let mut relationships = vec![Relationship::ConversationMember];
    if membership.role == "supervisor" {
        relationships.push(Relationship::ConversationSupervisor);
    }
    permissions::check(&user.roles, Action::ReadAgreement, &relationships)
        .map_err(|_denied| ApiError::NotFound)?;
    let agreement = state.store.agreement(id).await?;
    Ok(Link {
        conversation,
        relationships,
        agreement,
    })
}

/// Seals the protected terms of a link under its key of `epoch`.
pub async fn seal_terms(
    keyring: &mut Keyring,
    store: &Store,
    conversation: ConversationId,
    epoch: i32,
    terms: &[ProtectedTerm],
) -> Result<Vec<u8>, ApiError> {
    let plaintext = serde_json::to_vec(terms).map_err(|error| ApiError::Internal(error.into()))?;
    let aad = bindings::agreement_terms(conversation, epoch);
    Ok(keyring
        .seal_bound(store, conversation, epoch, &aad, &plaintext)
        .await?)
}

/// Opens the protected terms of an agreement.
pub async fn open_terms(
    keyring: &mut Keyring,
    store: &Store,
    agreement: &Agreement,
) -> Result<Vec<ProtectedTerm>, ApiError> {
    let conversation = ConversationId(agreement.row.conversation_id);
    let epoch = agreement.row.terms_epoch;
    let aad = bindings::agreement_terms(conversation, epoch);
    let plaintext = keyring
        .open_bound(
            store,
            conversation,
            epoch,
            &aad,
            &agreement.row.terms_ciphertext,
        )
        .await?;
    serde_json::from_slice(&plaintext).map_err(|error| ApiError::Internal(error.into()))
}

/// A letter's text and attached files, as sealed in each version.
#[derive(Serialize, Deserialize, Clone, Default)]
pub struct LetterContent {
    pub body: String,
    pub attachments: Vec<uuid::Uuid>,
}

/// Where one version of a letter belongs: its sealed content is bound to
/// all of it.
#[derive(Clone, Copy)]
pub struct VersionPlace {
    pub conversation: ConversationId,
    pub letter: uuid::Uuid,
    pub version: i32,
    pub writer: UserId,
    pub epoch: i32,
}

impl VersionPlace {
    fn aad(self) -> kinlink_core::crypto::aead::AssociatedData {
        bindings::letter_version(
            self.conversation,
            self.letter,
            self.version,
            self.writer,
            self.epoch,
        )
    }
}

/// Seals one version of a letter.
pub async fn seal_letter(
    keyring: &mut Keyring,
    store: &Store,
    place: VersionPlace,
    content: &LetterContent,
) -> Result<Vec<u8>, ApiError> {
    let plaintext =
        serde_json::to_vec(content).map_err(|error| ApiError::Internal(error.into()))?;
    Ok(keyring
        .seal_bound(
            store,
            place.conversation,
            place.epoch,
            &place.aad(),
            &plaintext,
        )
        .await?)
}

/// Opens one version of a letter.
pub async fn open_letter(
    keyring: &mut Keyring,
    store: &Store,
    place: VersionPlace,
    ciphertext: &[u8],
) -> Result<LetterContent, ApiError> {
    let plaintext = keyring
        .open_bound(
            store,
            place.conversation,
            place.epoch,
            &place.aad(),
            ciphertext,
        )
        .await?;
    serde_json::from_slice(&plaintext).map_err(|error| ApiError::Internal(error.into()))
}

/// A finding as the API gives it: offsets in UTF-16 code units, and the
/// matched term for practitioners only.
#[derive(Serialize, Clone)]
pub struct FindingView {
    pub start: usize,
    pub end: usize,
    pub rule: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
}

/// Checks a letter's text against the link's protected terms and the
/// general rules. `show_terms` adds the matched term to each finding.
pub fn check_text(terms: &[ProtectedTerm], body: &str, show_terms: bool) -> Vec<FindingView> {
    let offsets = Utf16Offsets::new(body);
    Detector::new(terms)
        .check(body)
        .into_iter()
        .map(|finding: Finding| FindingView {
            start: offsets.of(finding.start),
            end: offsets.of(finding.end),
            rule: finding.rule.code(),
            term: finding
                .term
                .filter(|_| show_terms)
                .and_then(|index| terms.get(index))
                .map(|term| term.text.clone()),
        })
        .collect()
}

/// Runs [`check_text`] on the blocking pool, so a long letter does not
/// hold up the other requests of its worker thread.
pub async fn check_text_off_thread(
    terms: &[ProtectedTerm],
    body: &str,
    show_terms: bool,
) -> Result<Vec<FindingView>, ApiError> {
    let terms = terms.to_vec();
    let body = body.to_owned();
    actix_web::web::block(move || check_text(&terms, &body, show_terms))
        .await
        .map_err(|blocking| ApiError::Internal(blocking.into()))
}

/// Returns the file categories a side may attach under an agreement.
pub fn media_of(agreement: &Agreement, side: Side) -> Vec<Category> {
    let stored = match side {
        Side::Adoptive => &agreement.row.adoptive_media,
        Side::Birth => &agreement.row.birth_media,
    };
    stored.split(',').filter_map(Category::parse).collect()
}

/// Returns the category of a stored file kind.
pub fn category_of_kind(kind: &str) -> Option<Category> {
    match kind {
        "pdf" => Some(Category::Document),
        "jpeg" | "png" | "heic" => Some(Category::Image),
        "audio" => Some(Category::Audio),
        "video" => Some(Category::Video),
        _ => None,
    }
}
