//! The path a single-request upload takes before media processing, shared
//! by profile photos and videos and by community images: the body sealed
//! as it arrives, the checks every upload gets, the job queued, and an
//! upload cut off by a stopped server settled later.

use std::sync::Arc;

use actix_web::web;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use kinlink_core::crypto::SecretKey;
use kinlink_core::crypto::segments::{Layout, SegmentWriter};
use kinlink_media::MediaError;
use kinlink_media::kind::Kind;
use kinlink_store::case_media::{PROCESSING, UPLOADING};
use tracing::warn;

use super::files::{check, kind_name};
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::processing::{self, Owner};
use crate::state::AppState;

/// Sealed segments written together: 1 MiB of content.
const SEGMENTS_PER_WRITE: usize = 16;

/// An upload still `uploading` this long after its last change lost its
/// request (the server stopped during it), and fails. A request that is
/// still sending refreshes its row every [`TOUCH_EVERY`].
const UPLOAD_ABANDONED_AFTER: chrono::Duration = chrono::Duration::minutes(5);

/// How often an upload in progress refreshes its row.
const TOUCH_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// An upload, named by the row that records it.
#[derive(Clone, Copy)]
pub(crate) enum Upload {
    /// A photo or video of a family-finding profile.
    CaseMedia { id: uuid::Uuid, case_id: uuid::Uuid },
    /// An image for a community post or profile.
    CommunityImage(uuid::Uuid),
}

impl Upload {
    fn id(self) -> uuid::Uuid {
        match self {
            Upload::CaseMedia { id, .. } | Upload::CommunityImage(id) => id,
        }
    }

    /// Refreshes the row; false once it is no longer uploading.
    async fn touch(self, state: &AppState) -> Result<bool, ApiError> {
        let now = Utc::now();
        Ok(match self {
            Upload::CaseMedia { id, .. } => state.store.touch_uploading_media(id, now).await?,
            Upload::CommunityImage(id) => {
                state.store.touch_uploading_community_image(id, now).await?
            }
        })
    }

    /// Moves the row to `processing` and counts the attempt; `None` when it
    /// is neither uploading nor processing.
    async fn start_processing(
        self,
        state: &AppState,
        kind: Kind,
        size: i64,
    ) -> Result<Option<i32>, ApiError> {
        let now = Utc::now();
        Ok(match self {
            Upload::CaseMedia { id, .. } => {
                state
                    .store
                    .start_case_media_processing(id, kind_name(kind), size, now)
                    .await?
            }
            Upload::CommunityImage(id) => {
                state
                    .store
                    .start_community_image_processing(id, kind_name(kind), size, now)
                    .await?
            }
        })
    }

    /// Marks the row failed with `code` and deletes its upload.
    async fn fail(self, state: &AppState, code: &'static str) -> anyhow::Result<()> {
        match self {
            Upload::CaseMedia { id, .. } => processing::fail_case_media(state, id, code).await,
            Upload::CommunityImage(id) => processing::fail_community_image(state, id, code).await,
        }
    }

    fn owner(self) -> Owner {
        match self {
            Upload::CaseMedia { case_id, .. } => Owner::Case(case_id),
            Upload::CommunityImage(_) => Owner::CommunityImage,
        }
    }
}

/// Seals a request body into the upload's blob as it arrives; returns the
/// number of bytes stored. More than `max_bytes` is refused with
/// `too_large`.
pub(crate) async fn receive(
    state: &AppState,
    upload: Upload,
    key: &SecretKey,
    mut payload: web::Payload,
    max_bytes: u64,
    too_large: &dyn Fn() -> ApiError,
) -> Result<u64, ApiError> {
    let id = upload.id();
    let mut writer = SegmentWriter::new(key.clone(), id, 0);
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut written: u64 = 0;
    let mut received: u64 = 0;
    let mut last_touch = std::time::Instant::now();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            warn!(upload = %id, error = %error, "upload interrupted");
            invalid("body", "it was cut short; send the file again")
        })?;
        received += chunk.len() as u64;
        if received > max_bytes {
            return Err(too_large());
        }
        pending.extend(writer.push(&chunk)?);
        if pending.len() >= SEGMENTS_PER_WRITE {
            written = write(state, id, written, std::mem::take(&mut pending)).await?;
            if last_touch.elapsed() >= TOUCH_EVERY {
                last_touch = std::time::Instant::now();
                if !upload.touch(state).await? {
                    // Removed while its bytes were arriving.
                    return Err(ApiError::Conflict(
                        "the item was removed while it was being sent".to_owned(),
                    ));
                }
            }
        }
    }
    if received == 0 {
        return Err(invalid("body", "the file is empty"));
    }
    pending.push(writer.finish()?);
    write(state, id, written, pending).await?;
    Ok(received)
}

/// Writes sealed segments from index `from` on a blocking thread; returns
/// the index after them.
async fn write(
    state: &AppState,
    id: uuid::Uuid,
    from: u64,
    segments: Vec<Vec<u8>>,
) -> Result<u64, ApiError> {
    let next = from + segments.len() as u64;
    let blobs = Arc::clone(&state.blobs);
    web::block(move || blobs.write_segments(id, from, &segments))
        .await
        .map_err(|error| ApiError::Internal(error.into()))?
        .map_err(|error| ApiError::Internal(error.into()))?;
    Ok(next)
}

/// Runs the checks every upload gets on a stored upload: its kind from its
/// bytes, which must be of an `accepted` category, and the pixel limit
/// from its header.
pub(crate) async fn checked_kind(
    state: &AppState,
    id: uuid::Uuid,
    key: &SecretKey,
    layout: Layout,
    accepted: &'static str,
) -> Result<Kind, MediaError> {
    let blobs = Arc::clone(&state.blobs);
    let limits = state.config.media.clone();
    let key = key.clone();
    web::block(move || check(blobs.as_ref(), &key, id, layout, &limits, accepted))
        .await
        .unwrap_or_else(|blocking| Err(MediaError::Io(std::io::Error::other(blocking.to_string()))))
}

/// Returns the error for an upload that failed its checks: the fault,
/// named, unless the check itself broke.
pub(crate) fn rejected(error: MediaError) -> ApiError {
    match error {
        MediaError::Io(_) | MediaError::Crypto(_) => ApiError::Internal(anyhow::Error::new(error)),
        error => invalid("body", error.to_string()),
    }
}

/// Fails an upload whose request or checks went wrong, and deletes its
/// bytes, also when its row was removed meanwhile.
pub(crate) async fn discard(state: &AppState, upload: Upload, code: &'static str) {
    let id = upload.id();
    let outcome = match upload.fail(state, code).await {
        Ok(()) => processing::delete_blobs(state, vec![id]).await,
        Err(error) => Err(error),
    };
    if let Err(error) = outcome {
        warn!(upload = %id, error = %kinlink_actors::Causes(error.as_ref()), "discarding a rejected upload failed");
    }
}

/// Moves a checked upload to `processing` and queues its job; one whose
/// processing keeps being cut off fails instead. A full queue is `503`.
pub(crate) async fn queue(
    state: &AppState,
    upload: Upload,
    kind: Kind,
    size: i64,
    key: SecretKey,
    layout: Layout,
) -> Result<(), ApiError> {
    let id = upload.id();
    let Some(attempts) = upload.start_processing(state, kind, size).await? else {
        return Ok(());
    };
    if attempts > processing::MAX_ATTEMPTS {
        warn!(upload = %id, attempts, "processing was cut off too often; the upload fails");
        return upload
            .fail(state, "media.failed")
            .await
            .map_err(ApiError::Internal);
    }
    let job = processing::Job {
        file_id: id,
        owner: upload.owner(),
        kind,
        layout,
        key,
    };
    if state
        .processing
        .submit(job, Arc::clone(&state.blobs))
        .is_err()
    {
        warn!(upload = %id, "processing queue full; the upload is not kept and its sender is asked to try again");
        return Err(ApiError::Busy {
            retry_after_seconds: 30,
        });
    }
    Ok(())
}

/// The facts of an upload's row that [`settle`] reads.
pub(crate) struct Progress<'a> {
    pub(crate) status: &'a str,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) size: i64,
}

/// Fails an upload abandoned by its request, and resumes processing that
/// no node has in hand, for a limited number of attempts. The caller reads
/// the row again afterwards.
pub(crate) async fn settle(
    state: &AppState,
    upload: Upload,
    progress: Progress<'_>,
    key: impl FnOnce() -> Result<SecretKey, ApiError>,
    accepted: &'static str,
) -> Result<(), ApiError> {
    let id = upload.id();
    let idle = Utc::now() - progress.updated_at;
    let stalled = match progress.status {
        UPLOADING => idle > UPLOAD_ABANDONED_AFTER,
        PROCESSING => {
            idle > chrono::Duration::from_std(processing::STALLED_AFTER)
                .unwrap_or(chrono::Duration::MAX)
        }
        _ => false,
    };
    if !stalled {
        return Ok(());
    }
    if progress.status == UPLOADING {
        return upload
            .fail(state, "upload.interrupted")
            .await
            .map_err(ApiError::Internal);
    }
    if state.processing.is_active(id) {
        return Ok(());
    }
    let key = key()?;
    let layout = Layout {
        plaintext_len: u64::try_from(progress.size).unwrap_or(0),
    };
    match checked_kind(state, id, &key, layout, accepted).await {
        Ok(kind) => {
            if let Err(error) = queue(state, upload, kind, progress.size, key, layout).await {
                warn!(upload = %id, error = %error, "resuming an upload's processing failed");
            }
        }
        Err(error) => {
            warn!(upload = %id, error = %kinlink_actors::Causes(&error), "a stalled upload no longer passes its checks");
            upload
                .fail(state, error.code())
                .await
                .map_err(ApiError::Internal)?;
        }
    }
    Ok(())
}
