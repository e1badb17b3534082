//! Files in conversations: resumable uploads and downloads with HTTP Range.
//!
//! An upload starts with its name and size, then its bytes arrive in one
//! or more `PATCH` requests, each starting at the offset the server last
//! stored (`Upload-Offset`). Bytes are sealed into segments as they arrive
//! and made durable in groups, so after a dropped connection the upload
//! resumes from the last durable segment. When the last byte is stored the
//! file is checked (kind from its bytes, the conversation's accepted kinds,
//! the pixel limit from its header) before anything else is done with it.
//! Then it goes to media processing (see `crate::processing`). A picture,
//! sound or video is served as its renditions once they are made. A PDF is
//! served as uploaded, and processing only reads its text for the
//! letterbox's identifying-details check. That text is a rendition too, but
//! it is never listed or served.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Duration, Utc};
use futures_util::StreamExt;
use kinlink_actors::keyring::Keyring;
use kinlink_core::crypto::segments::{Layout, SEGMENT_LEN, SegmentWriter};
use kinlink_core::crypto::{SecretKey, aead, bindings};
use kinlink_core::permissions::{self, Action};
use kinlink_core::{ConversationId, UserId};
use kinlink_media::MediaError;
use kinlink_media::blob::{BlobStore, SealedReader};
use kinlink_media::container::video_dimensions;
use kinlink_media::disposition::{Disposition, content_disposition};
use kinlink_media::filename;
use kinlink_media::header::{HEADER_LEN, image_dimensions};
use kinlink_media::kind::{Category, Kind, detect};
use kinlink_media::transcode::Role;
use kinlink_store::entity::{file, file_rendition};
use kinlink_store::files::{FileStatus, NewUpload};
use serde::{Deserialize, Serialize};
use tracing::{info, instrument, warn};

use super::JsonBody;
use super::conversations::authorise;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox::media_of;
use crate::processing;
use crate::state::AppState;

/// Sealed segments written and made durable together: 1 MiB of content.
const SEGMENTS_PER_WRITE: usize = 16;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartUpload {
    name: String,
    size: u64,
}

/// The view of an upload or a stored file.
#[derive(Serialize)]
pub struct FileView {
    id: uuid::Uuid,
    conversation_id: ConversationId,
    name: String,
    size: i64,
    /// Bytes stored so far; the next `PATCH` starts here.
    offset: i64,
    /// Plaintext bytes per segment: every `PATCH` but the last should send
    /// a multiple of this, because bytes past the last whole segment are
    /// only kept when they end the file.
    segment_size: usize,
    status: String,
    kind: Option<String>,
    failure: Option<String>,
    /// The renditions processing made that clients can fetch, once the
    /// file is ready.
    renditions: Vec<RenditionView>,
}

/// A rendition as clients see it.
#[derive(Serialize)]
pub struct RenditionView {
    role: String,
    mime: String,
    size: i64,
    width: Option<i32>,
    height: Option<i32>,
    duration_ms: Option<i64>,
    url: String,
}

impl FileView {
    fn new(row: file::Model, name: String, renditions: Vec<file_rendition::Model>) -> Self {
        let id = row.id;
        Self {
            id,
            conversation_id: ConversationId(row.conversation_id),
            name,
            size: row.declared_size,
            offset: row.received_bytes,
            segment_size: SEGMENT_LEN,
            status: row.status,
            kind: row.kind,
            failure: row.failure,
            renditions: renditions
                .into_iter()
                .filter(|r| served(&r.role))
                .map(|r| RenditionView {
                    url: format!("/api/v1/files/{id}/renditions/{}", r.role),
                    role: r.role,
                    mime: r.mime,
                    size: r.size,
                    width: r.width,
                    height: r.height,
                    duration_ms: r.duration_ms,
                })
                .collect(),
        }
    }
}

/// Reads a file again and builds its view with its renditions; `key` is
/// the file key, which opens the name.
async fn file_view(
    state: &AppState,
    id: uuid::Uuid,
    key: &SecretKey,
) -> Result<FileView, ApiError> {
    let row = state.store.file(id).await?.ok_or(ApiError::NotFound)?;
    let renditions = if row.status == FileStatus::Ready.as_str() {
        state.store.renditions(id).await?
    } else {
        Vec::new()
    };
    let name = file_name(&row, key);
    Ok(FileView::new(row, name, renditions))
}

/// Returns whether clients may list and fetch a rendition of this role.
/// A document's text exists for the letterbox check alone.
pub(crate) fn served(role: &str) -> bool {
    role != Role::Text.as_str() && role != Role::PartialText.as_str()
}

/// The name shown for a file whose stored name cannot be opened.
const UNNAMED: &str = "file";

/// Opens a file's sealed name. A name stored before names were sealed, or
/// one that fails to open, shows as [`UNNAMED`].
/// Opens a file's name; a name that does not open is shown as unnamed.
pub(crate) fn file_name(row: &file::Model, key: &SecretKey) -> String {
    let Some(sealed) = &row.sealed_name else {
        return UNNAMED.to_owned();
    };
    let aad = bindings::file_name(row.id);
    match aead::open(key, sealed, aad.as_bytes()) {
        Ok(bytes) => String::from_utf8(bytes).unwrap_or_else(|_utf8| UNNAMED.to_owned()),
        Err(error) => {
            warn!(file = %row.id, %error, "a file name failed to open");
            UNNAMED.to_owned()
        }
    }
}

fn invalid(field: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::InvalidField(kinlink_core::values::InvalidValue {
        field,
        reason: message.into(),
    })
}

/// Opens the key of a file for a member of its conversation.
async fn file_key(
    state: &AppState,
    user: SignedIn,
    row: &file::Model,
) -> Result<SecretKey, ApiError> {
    let conversation = ConversationId(row.conversation_id);
    let mut keyring = Keyring::new(user.user_id, user.private_key);
    let conversation_key = keyring
        .conversation_key(&state.store, conversation, row.key_epoch)
        .await
        .map_err(|_no_key| ApiError::NotFound)?;
    let aad = bindings::file_key(row.id, conversation, row.key_epoch);
    let bytes = aead::open(conversation_key, &row.sealed_key, aad.as_bytes())?;
    Ok(SecretKey::from_slice(&bytes, "file key")?)
}

#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn start(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<StartUpload>,
) -> Result<HttpResponse, ApiError> {
    let conversation_id: ConversationId = super::parse_id(&path)?;
    authorise(&state, &user, conversation_id, Action::SendMessage).await?;
    require_open(&state, conversation_id).await?;

    let limits = &state.config.media;
    if body.size == 0 {
        return Err(invalid("size", "the file is empty"));
    }
    if body.size > limits.max_file_bytes {
        return Err(invalid(
            "size",
            format!(
                "{} bytes is more than the limit of {} bytes",
                body.size, limits.max_file_bytes
            ),
        ));
    }

    // The file's own key, sealed with the conversation key of the current
    // epoch.
    let name = filename::clean(&body.name);
    let conversation = state.store.conversation(conversation_id).await?;
    let epoch = conversation.key_epoch;
    let id = uuid::Uuid::now_v7();
    let file_key = SecretKey::generate()?;
    let mut keyring = Keyring::new(user.user_id, user.private_key);
    let conversation_key = keyring
        .conversation_key(&state.store, conversation_id, epoch)
        .await?;
    let aad = bindings::file_key(id, conversation_id, epoch);
    let sealed_key = aead::seal(conversation_key, file_key.expose(), aad.as_bytes())?;
    let sealed_name = aead::seal(
        &file_key,
        name.as_bytes(),
        bindings::file_name(id).as_bytes(),
    )?;

    let now = Utc::now();
    let hours = i64::try_from(limits.upload_expiry_hours).unwrap_or(i64::MAX);
    let started = state
        .store
        .start_upload(
            NewUpload {
                id,
                conversation_id,
                uploader_id: user.user_id,
                sealed_name,
                declared_size: body.size as i64,
                key_epoch: epoch,
                sealed_key,
                created_at: now,
                expires_at: now + Duration::hours(hours.min(24 * 365)),
            },
            i64::try_from(limits.unfinished_quota_bytes).unwrap_or(i64::MAX),
        )
        .await?;
    if !started {
        return Err(invalid(
            "size",
            format!(
                "unfinished uploads may total at most {} bytes; finish the others or let them expire first",
                limits.unfinished_quota_bytes
            ),
        ));
    }
    info!(file = %id, conversation = %conversation_id, size = body.size, "upload started");
    Ok(HttpResponse::Created().json(file_view(&state, id, &file_key).await?))
}

/// Finds a file the user may see in a conversation they may read: their
/// own upload, a file a message or a released letter has carried, or any
/// file for staff, who review letters before release. Anything else is
/// 404, like a missing id, so a family cannot reach a file attached to a
/// letter still in review.
async fn visible_file(
    state: &AppState,
    user: &SignedIn,
    id: uuid::Uuid,
    action: Action,
) -> Result<file::Model, ApiError> {
    let row = state.store.file(id).await?.ok_or(ApiError::NotFound)?;
    authorise(state, user, ConversationId(row.conversation_id), action).await?;
    let staff = permissions::is_staff(&user.roles);
    if row.uploader_id != user.user_id.0 && row.shared_at.is_none() && !staff {
        return Err(ApiError::NotFound);
    }
    Ok(row)
}

#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn status(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<FileView>, ApiError> {
    let row = visible_file(
        &state,
        &user,
        super::parse_id(&path)?,
        Action::ReadConversation,
    )
    .await?;
    if row.status == FileStatus::Uploading.as_str() && row.uploader_id != user.user_id.0 {
        return Err(ApiError::NotFound);
    }
    let key = file_key(&state, user, &row).await?;
    let stalled = Utc::now() - row.updated_at
        > Duration::from_std(processing::STALLED_AFTER).unwrap_or(Duration::MAX);
    // A full queue leaves the file as it is, for a later request.
    if row.status == FileStatus::Processing.as_str() && stalled && state.processing.has_room() {
        // The server that processed it stopped: this member's key lets the
        // work start again.
        let id = row.id;
        let conversation = ConversationId(row.conversation_id);
        let declared = row.declared_size;
        info!(file = %id, "resuming processing that stopped");
        match complete(&state, id, conversation, key.clone(), declared).await {
            Ok(()) | Err(ApiError::Busy { .. }) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(web::Json(file_view(&state, row.id, &key).await?))
}

/// Marks an upload as receiving bytes on this node until dropped, so a
/// second request for the same upload is refused instead of writing the
/// same segments at once.
// NOTE: the mark is per node. Across nodes only the offset check before
// each write guards an upload, which leaves a short window between that
// check and the write.
struct UploadTurn {
    active: Arc<std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>>,
    id: uuid::Uuid,
}

impl UploadTurn {
    fn take(state: &AppState, id: uuid::Uuid) -> Result<Self, ApiError> {
        let mut active = state
            .active_uploads
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !active.insert(id) {
            return Err(ApiError::Conflict(
                "another request is uploading this file; wait for it to end, then resume from its offset"
                    .to_owned(),
            ));
        }
        Ok(Self {
            active: Arc::clone(&state.active_uploads),
            id,
        })
    }
}

impl Drop for UploadTurn {
    fn drop(&mut self) {
        self.active
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.id);
    }
}

/// Refuses to write unless the upload is still in progress at `offset`, so
/// a request that fell behind never overwrites what another stored.
async fn ensure_still_at(state: &AppState, id: uuid::Uuid, offset: i64) -> Result<(), ApiError> {
    let row = state.store.file(id).await?.ok_or(ApiError::NotFound)?;
    if row.status != FileStatus::Uploading.as_str() || row.received_bytes != offset {
        return Err(ApiError::Conflict(format!(
            "the upload moved on to {} bytes ({}); ask for its status",
            row.received_bytes, row.status
        )));
    }
    Ok(())
}

/// Writes whole segments that continue an upload at `from`, which is
/// always a segment boundary, and records the new durable offset; returns
/// that offset.
async fn flush(
    state: &AppState,
    id: uuid::Uuid,
    segments: Vec<Vec<u8>>,
    from: i64,
) -> Result<i64, ApiError> {
    let to = from + (segments.len() * SEGMENT_LEN) as i64;
    store_segments(state, id, segments, from, to).await
}

/// Writes sealed segments on a blocking thread, once the upload is
/// confirmed to be still at `from`, then moves its durable offset to `to`.
async fn store_segments(
    state: &AppState,
    id: uuid::Uuid,
    segments: Vec<Vec<u8>>,
    from: i64,
    to: i64,
) -> Result<i64, ApiError> {
    if segments.is_empty() {
        return Ok(from);
    }
    ensure_still_at(state, id, from).await?;
    let first_index = from as u64 / SEGMENT_LEN as u64;
    let blobs = Arc::clone(&state.blobs);
    web::block(move || blobs.write_segments(id, first_index, &segments))
        .await
        .map_err(|error| ApiError::Internal(error.into()))?
        .map_err(|error| ApiError::Internal(error.into()))?;
    if !state.store.advance_upload(id, from, to, Utc::now()).await? {
        return Err(ApiError::Conflict(
            "another request is uploading this file; ask for its status and resume from its offset"
                .to_owned(),
        ));
    }
    Ok(to)
}

#[instrument(skip_all, fields(user = %user.user_id, file = %path))]
pub async fn append(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    request: HttpRequest,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let row = visible_file(&state, &user, id, Action::SendMessage).await?;
    require_open(&state, ConversationId(row.conversation_id)).await?;
    if row.uploader_id != user.user_id.0 {
        return Err(ApiError::NotFound);
    }
    let _turn = UploadTurn::take(&state, id)?;
    // Read again under the turn: a request that just ended may have moved
    // the offset or finished the upload.
    let row = state.store.file(id).await?.ok_or(ApiError::NotFound)?;
    if row.status != FileStatus::Uploading.as_str() {
        return Err(ApiError::Conflict(format!(
            "the upload is {}, so it takes no more bytes",
            row.status
        )));
    }
    let offset: i64 = request
        .headers()
        .get("Upload-Offset")
        .ok_or_else(|| invalid("Upload-Offset", "the header is missing"))?
        .to_str()
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .ok_or_else(|| invalid("Upload-Offset", "expected a byte count"))?;
    if offset != row.received_bytes {
        return Err(ApiError::Conflict(format!(
            "invalid Upload-Offset {offset}: the server has {} bytes; resume from there",
            row.received_bytes
        )));
    }

    let conversation = ConversationId(row.conversation_id);
    let declared = row.declared_size;
    let key = file_key(&state, user, &row).await?;
    if offset == declared {
        // Every byte is stored but the checks never ended (the server
        // stopped during them): run them again, writing nothing.
        complete(&state, id, conversation, key.clone(), declared).await?;
        return Ok(HttpResponse::Ok().json(file_view(&state, id, &key).await?));
    }
    let first_index = (offset as u64) / SEGMENT_LEN as u64;
    let mut writer = SegmentWriter::new(key.clone(), id, first_index);
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut durable = offset;
    let mut received = offset;
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                // The connection dropped: keep every whole segment so the
                // client can resume after it.
                warn!(file = %id, error = %error, "upload interrupted");
                pending.extend(writer.seal_full_segment()?);
                flush(&state, id, std::mem::take(&mut pending), durable).await?;
                return Err(invalid(
                    "body",
                    "it was cut short; ask for the upload's status and resume from its offset",
                ));
            }
        };
        received += chunk.len() as i64;
        if received > declared {
            flush(&state, id, std::mem::take(&mut pending), durable).await?;
            return Err(invalid(
                "body",
                format!("it runs past the declared size of {declared} bytes"),
            ));
        }
        pending.extend(writer.push(&chunk)?);
        if pending.len() >= SEGMENTS_PER_WRITE {
            durable = flush(&state, id, std::mem::take(&mut pending), durable).await?;
        }
    }
    if received < declared {
        // More bytes are to come, so a held-back full segment is not the
        // last. Whole segments are kept; a partial one is sent again.
        pending.extend(writer.seal_full_segment()?);
        durable = flush(&state, id, pending, durable).await?;
        info!(file = %id, offset = durable, "upload paused");
        return Ok(HttpResponse::Ok().json(file_view(&state, id, &key).await?));
    }
    pending.push(writer.finish()?);
    store_segments(&state, id, pending, durable, declared).await?;
    complete(&state, id, conversation, key.clone(), declared).await?;
    Ok(HttpResponse::Ok().json(file_view(&state, id, &key).await?))
}

/// Checks a fully stored file, without decrypting more than its headers.
/// A file that passes is queued for processing, or put back to be sent
/// again when the queue is full ([`ApiError::Busy`]). A failed file's
/// content is deleted.
async fn complete(
    state: &AppState,
    id: uuid::Uuid,
    conversation: ConversationId,
    key: SecretKey,
    size: i64,
) -> Result<(), ApiError> {
    let blobs = Arc::clone(&state.blobs);
    let limits = state.config.media.clone();
    let layout = Layout {
        plaintext_len: size as u64,
    };
    let accepted = accepted_for_uploader(state, id, conversation).await?;
    let checking_key = key.clone();
    let checked = web::block(move || {
        check(
            blobs.as_ref(),
            &checking_key,
            id,
            layout,
            &limits,
            &accepted,
        )
    })
    .await
    .unwrap_or_else(|blocking| Err(MediaError::Io(std::io::Error::other(blocking.to_string()))));
    let now = Utc::now();
    match checked {
        Ok(kind) => queue(state, id, conversation, kind, key, layout).await?,
        Err(error) => {
            let reason = error.code();
            if matches!(error, MediaError::Io(_) | MediaError::Crypto(_)) {
                warn!(file = %id, error = %kinlink_actors::Causes(&error), "checking an upload failed");
            }
            // A file that another request finished meanwhile keeps its state.
            if !state.store.fail_file(id, reason, now).await? {
                info!(file = %id, reason, "checks failed for a file that is no longer in progress");
                return Ok(());
            }
            let blobs = Arc::clone(&state.blobs);
            web::block(move || blobs.delete(id))
                .await
                .map_err(|error| ApiError::Internal(error.into()))?
                .map_err(|error| ApiError::Internal(error.into()))?;
            info!(file = %id, %conversation, reason, "upload rejected");
        }
    }
    Ok(())
}

/// Returns the file categories an upload may be: those the conversation
/// accepts and, in a contact link, those the agreement lets the
/// uploader's side send, so live messages carry nothing a letter could
/// not.
async fn accepted_for_uploader(
    state: &AppState,
    id: uuid::Uuid,
    conversation: ConversationId,
) -> Result<String, ApiError> {
    let accepted = state.store.conversation(conversation).await?.accepted_media;
    let uploader = state
        .store
        .file(id)
        .await?
        .map(|row| UserId(row.uploader_id));
    let agreement = state.store.agreement(conversation).await?;
    let side = agreement
        .as_ref()
        .zip(uploader)
        .and_then(|(agreement, uploader)| agreement.side_of(uploader));
    let (Some(agreement), Some(side)) = (&agreement, side) else {
        return Ok(accepted);
    };
    let allowed: Vec<&str> = media_of(agreement, side)
        .into_iter()
        .map(Category::as_str)
        .collect();
    Ok(accepted
        .split(',')
        .filter(|name| allowed.contains(name))
        .collect::<Vec<_>>()
        .join(","))
}

/// Moves a checked file to `processing` and queues its job. A file whose
/// processing keeps being cut off fails instead of being tried forever,
/// except a document, which is then ready without its text.
async fn queue(
    state: &AppState,
    id: uuid::Uuid,
    conversation: ConversationId,
    kind: Kind,
    key: SecretKey,
    layout: Layout,
) -> Result<(), ApiError> {
    let now = Utc::now();
    let Some(attempts) = state
        .store
        .start_processing(id, Some(kind_name(kind)), now)
        .await?
    else {
        return Ok(());
    };
    if attempts > processing::MAX_ATTEMPTS {
        if kind.category() == Category::Document {
            warn!(file = %id, attempts, "reading a document's text was cut off too often, so it is ready without text");
            if state.store.finish_processing(id, Vec::new(), now).await? {
                processing::publish(state, conversation, id, FileStatus::Ready, None, None).await;
            }
            return Ok(());
        }
        warn!(file = %id, attempts, "processing was cut off too often; the file fails");
        return processing::fail(state, id, conversation, "media.failed")
            .await
            .map_err(ApiError::Internal);
    }
    let job = processing::Job {
        file_id: id,
        owner: processing::Owner::Conversation(conversation),
        kind,
        layout,
        key,
    };
    if state
        .processing
        .submit(job, Arc::clone(&state.blobs))
        .is_err()
    {
        state.store.return_to_uploading(id, now).await?;
        warn!(file = %id, "processing queue full; the uploader is asked to try again");
        return Err(ApiError::Busy {
            retry_after_seconds: 30,
        });
    }
    info!(file = %id, %conversation, kind = kind_name(kind), attempts, "upload queued for processing");
    processing::publish(
        state,
        conversation,
        id,
        FileStatus::Processing,
        Some(0),
        None,
    )
    .await;
    Ok(())
}

/// Runs the checks made before any decoding: the kind from the first
/// bytes, the conversation's accepted categories (`accepted`, as stored),
/// and the pixel limit from the header.
pub(crate) fn check(
    blobs: &dyn BlobStore,
    key: &SecretKey,
    id: uuid::Uuid,
    layout: Layout,
    limits: &crate::config::MediaConfig,
    accepted: &str,
) -> Result<Kind, MediaError> {
    let mut reader = SealedReader::new(blobs, key, id, layout);
    let head = reader.read_head(HEADER_LEN)?;
    let kind = detect(&head)?;
    if !accepted
        .split(',')
        .any(|name| name == kind.category().as_str())
    {
        return Err(MediaError::NotAllowed { kind: kind.name() });
    }
    match kind.category() {
        Category::Image => {
            if let Some(dimensions) = image_dimensions(kind, &head)? {
                dimensions.check(limits.max_image_pixels)?;
            }
        }
        Category::Video | Category::Audio => {
            if let Some(dimensions) = video_dimensions(kind, &mut reader)? {
                dimensions.check(limits.max_video_pixels)?;
            }
        }
        Category::Document => {}
    }
    Ok(kind)
}

/// Returns `409` when the conversation is a suspended or ended contact
/// link, which takes no new files.
async fn require_open(state: &AppState, conversation: ConversationId) -> Result<(), ApiError> {
    if state.store.link_open(conversation).await? {
        Ok(())
    } else {
        Err(ApiError::Conflict(
            "the contact link is suspended or ended: nothing new can be sent".to_owned(),
        ))
    }
}

pub(crate) fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Pdf => "pdf",
        Kind::Jpeg => "jpeg",
        Kind::Png => "png",
        Kind::Heic => "heic",
        Kind::Audio(_) => "audio",
        Kind::Video(_) => "video",
    }
}

fn content_type(kind: Option<&str>) -> &'static str {
    match kind {
        Some("pdf") => "application/pdf",
        Some("jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("heic") => "image/heic",
        _ => "application/octet-stream",
    }
}

/// Parses a single `bytes=` range against a length; `None` when the header
/// is absent or is not one range (then the whole file is sent).
fn parse_range(value: &str, len: u64) -> Option<Result<(u64, u64), ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    // A position too large for u64 is still a position past the end.
    let position = |digits: &str| -> Option<u64> {
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(digits.parse().unwrap_or(u64::MAX))
    };
    let range = match (first.trim(), last.trim()) {
        ("", suffix) => {
            let suffix = position(suffix)?;
            if suffix == 0 || len == 0 {
                return Some(Err(()));
            }
            (len.saturating_sub(suffix), len - 1)
        }
        (start, "") => (position(start)?, len.saturating_sub(1)),
        (start, end) => {
            let start = position(start)?;
            let end = position(end)?;
            (start, end.min(len.saturating_sub(1)))
        }
    };
    if range.0 > range.1 || range.0 >= len {
        return Some(Err(()));
    }
    Some(Ok(range))
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    /// Ask the browser to save the file rather than show it.
    #[serde(default)]
    download: bool,
}

#[instrument(skip_all, fields(user = %user.user_id, file = %path))]
pub async fn download(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    query: web::Query<DownloadQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (row, renditions) = ready_file(&state, &user, &path).await?;
    let key = file_key(&state, user, &row).await?;
    // A processed file is served as its main rendition: the original, with
    // its metadata, is gone.
    if let Some(main) = renditions.iter().find(|r| r.role == "main") {
        let name = rendition_name(&file_name(&row, &key), main);
        let disposition = if query.download {
            Disposition::Attachment
        } else {
            Disposition::Inline
        };
        return serve(&state, key, main, &name, disposition, &request);
    }
    let disposition = if query.download || row.kind.as_deref() == Some("pdf") {
        Disposition::Attachment
    } else {
        Disposition::Inline
    };
    let original = Stored {
        id: row.id,
        len: row.declared_size as u64,
        mime: content_type(row.kind.as_deref()),
    };
    let name = file_name(&row, &key);
    serve(&state, key, original, &name, disposition, &request)
}

#[instrument(skip_all, fields(user = %user.user_id, file = %path.0, role = %path.1))]
pub async fn rendition(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
    query: web::Query<DownloadQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, role) = path.into_inner();
    let (row, renditions) = ready_file(&state, &user, &id).await?;
    let chosen = renditions
        .iter()
        .find(|r| r.role == role && served(&r.role))
        .ok_or(ApiError::NotFound)?;
    let key = file_key(&state, user, &row).await?;
    let name = rendition_name(&file_name(&row, &key), chosen);
    let disposition = if query.download {
        Disposition::Attachment
    } else {
        Disposition::Inline
    };
    serve(&state, key, chosen, &name, disposition, &request)
}

/// Finds a ready file the user may read, with its renditions.
async fn ready_file(
    state: &AppState,
    user: &SignedIn,
    id: &str,
) -> Result<(file::Model, Vec<file_rendition::Model>), ApiError> {
    let row = visible_file(state, user, super::parse_id(id)?, Action::ReadConversation).await?;
    if row.status != FileStatus::Ready.as_str() {
        return Err(ApiError::NotFound);
    }
    let renditions = state.store.renditions(row.id).await?;
    Ok((row, renditions))
}

/// Returns the name a rendition is saved under: the original's stem with
/// the rendition's extension, and its role for a poster or thumbnail.
fn rendition_name(original: &str, rendition: &file_rendition::Model) -> String {
    let stem = original
        .rsplit_once('.')
        .map_or(original, |(stem, _)| stem)
        .trim();
    let stem = if stem.is_empty() { "file" } else { stem };
    let extension = extension_of(&rendition.mime);
    if rendition.role == "main" {
        format!("{stem}.{extension}")
    } else {
        format!("{stem}-{}.{extension}", rendition.role)
    }
}

/// Returns the file name extension of a rendition's media type.
pub(crate) fn extension_of(mime: &str) -> &'static str {
    match mime {
        "video/mp4" => "mp4",
        "audio/mp4" => "m4a",
        "image/png" => "png",
        _ => "jpg",
    }
}

/// Sealed content to serve: the blob, its plaintext length and media type.
pub(crate) struct Stored<'a> {
    pub(crate) id: uuid::Uuid,
    pub(crate) len: u64,
    pub(crate) mime: &'a str,
}

impl<'a> From<&'a file_rendition::Model> for Stored<'a> {
    fn from(rendition: &'a file_rendition::Model) -> Self {
        Stored {
            id: rendition.id,
            len: u64::try_from(rendition.size).unwrap_or(0),
            mime: &rendition.mime,
        }
    }
}

/// Serves sealed content, whole or the one requested range (206),
/// decrypting only the segments that range needs.
pub(crate) fn serve<'a>(
    state: &AppState,
    key: SecretKey,
    stored: impl Into<Stored<'a>>,
    name: &str,
    disposition: Disposition,
    request: &HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let stored = stored.into();
    let len = stored.len;
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_range(value, len));
    let (start, end, partial) = match range {
        Some(Ok((start, end))) => (start, end, true),
        Some(Err(())) => {
            return Ok(HttpResponse::RangeNotSatisfiable()
                .insert_header((header::CONTENT_RANGE, format!("bytes */{len}")))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish());
        }
        None => (0, len.saturating_sub(1), false),
    };
    let mut response = if partial {
        let mut response = HttpResponse::PartialContent();
        response.insert_header((header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")));
        response
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::CONTENT_TYPE, stored.mime))
        .insert_header((
            header::CONTENT_DISPOSITION,
            content_disposition(disposition, name),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::ACCEPT_RANGES, "bytes"));

    let layout = Layout { plaintext_len: len };
    let body = segment_stream(Arc::clone(&state.blobs), key, stored.id, layout, start, end);
    Ok(response
        .no_chunking(if len == 0 { 0 } else { end - start + 1 })
        .streaming(body))
}

/// Streams the plaintext bytes `start..=end`, decrypting one segment at a
/// time on a blocking thread, so a large range never sits in memory whole.
pub(crate) fn segment_stream(
    blobs: Arc<dyn BlobStore>,
    key: SecretKey,
    id: uuid::Uuid,
    layout: Layout,
    start: u64,
    end: u64,
) -> impl futures_util::Stream<Item = Result<web::Bytes, std::io::Error>> {
    let len = layout.plaintext_len;
    let segment = SEGMENT_LEN as u64;
    futures_util::stream::unfold(start, move |position| {
        let blobs = Arc::clone(&blobs);
        let key = key.clone();
        async move {
            if position > end || len == 0 {
                return None;
            }
            let chunk_end = ((position / segment + 1) * segment - 1).min(end);
            let read = web::block(move || {
                kinlink_media::blob::read_range(
                    blobs.as_ref(),
                    &key,
                    id,
                    layout,
                    position,
                    chunk_end,
                )
            })
            .await;
            let item = match read {
                Ok(Ok(bytes)) => Ok(web::Bytes::from(bytes)),
                Ok(Err(error)) => {
                    warn!(file = %id, error = %kinlink_actors::Causes(&error), "reading a stored file failed");
                    Err(std::io::Error::other("stored file failed to open"))
                }
                Err(error) => Err(std::io::Error::other(error.to_string())),
            };
            let next = if item.is_ok() { chunk_end + 1 } else { end + 1 };
            Some((item, next))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn range_end_past_length_is_clamped() {
        assert_eq!(parse_range("bytes=0-999", 100), Some(Ok((0, 99))));
        assert_eq!(
            parse_range("bytes=0-18446744073709551616", 100),
            Some(Ok((0, 99)))
        );
    }

    #[test]
    fn range_forms_parse() {
        assert_eq!(parse_range("bytes=10-", 100), Some(Ok((10, 99))));
        assert_eq!(parse_range("bytes=-10", 100), Some(Ok((90, 99))));
        assert_eq!(parse_range("bytes=5-1", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=100-", 100), Some(Err(())));
        assert_eq!(parse_range("bytes=0-1,5-6", 100), None);
        assert_eq!(parse_range("bytes=+1-2", 100), None);
    }
}
