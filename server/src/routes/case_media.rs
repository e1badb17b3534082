//! Photos and videos in family-finding profiles.
//!
//! A worker of the case's organisation, or the family where its
//! organisation lets families edit their profile, sends a photo or a video
//! as the body of one request. Its bytes are sealed as they arrive under a
//! key of its own, which is sealed under the platform data key like the
//! profile, so every organisation the profile is published to can be shown
//! it. Once stored, the item gets the checks every upload gets (kind from
//! its bytes, pixel limit from its header) and goes to media processing,
//! which re-encodes it without its metadata, GPS included, and makes a
//! thumbnail or a poster. Only the renditions are kept and served.
//!
//! An anonymous profile hides its photos and video with its names until a
//! discussion about it involves the reader.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::OrganisationId;
use kinlink_core::crypto::segments::Layout;
use kinlink_core::crypto::{SecretKey, aead, bindings};
use kinlink_core::permissions::Action;
use kinlink_core::profiles::CaseKind;
use kinlink_media::disposition::Disposition;
use kinlink_media::kind::Category;
use kinlink_store::case_media::{NewCaseMedia, READY};
use kinlink_store::entity::{case_media, case_media_rendition};
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::cases::{names_hidden, require_family_may_edit};
use super::files::{Stored, serve, served};
use super::sealed_upload::{
    self, Progress, Upload, checked_kind, discard, queue, receive, rejected,
};
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::{CaseAccess, audit_case, case_access};
use crate::letterbox::invalid;
use crate::processing;
use crate::state::AppState;

/// The place an item takes in a profile: a photo or the video.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Photo,
    Video,
}

impl Slot {
    fn parse(name: &str) -> Option<Slot> {
        match name {
            "photo" => Some(Slot::Photo),
            "video" => Some(Slot::Video),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Slot::Photo => "photo",
            Slot::Video => "video",
        }
    }

    fn category(self) -> Category {
        match self {
            Slot::Photo => Category::Image,
            Slot::Video => Category::Video,
        }
    }

    /// Items of this slot a profile of `kind` holds: a child's profile
    /// has photos and a video, a family's photos only.
    fn limit(self, kind: CaseKind) -> u64 {
        match (kind, self) {
            (CaseKind::Child, Slot::Photo) => 6,
            (CaseKind::Child, Slot::Video) => 1,
            (CaseKind::Family, Slot::Photo) => 3,
            (CaseKind::Family, Slot::Video) => 0,
        }
    }

    fn max_bytes(self, state: &AppState) -> u64 {
        let config = &state.config.family_finding;
        match self {
            Slot::Photo => config.max_photo_bytes,
            Slot::Video => config.max_video_bytes,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    slot: String,
}

/// A photo or video as a profile's reader sees it.
#[derive(Serialize)]
pub struct MediaView {
    id: uuid::Uuid,
    slot: String,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    renditions: Vec<RenditionView>,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct RenditionView {
    role: String,
    mime: String,
    size: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    width: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    height: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<i64>,
}

fn media_view(item: case_media::Model, renditions: Vec<case_media_rendition::Model>) -> MediaView {
    MediaView {
        id: item.id,
        slot: item.slot,
        status: item.status,
        failure: item.failure,
        renditions: renditions
            .into_iter()
            .filter(|rendition| served(&rendition.role))
            .map(|rendition| RenditionView {
                role: rendition.role,
                mime: rendition.mime,
                size: rendition.size,
                width: rendition.width,
                height: rendition.height,
                duration_ms: rendition.duration_ms,
            })
            .collect(),
        created_at: item.created_at,
    }
}

/// Returns whether the caller sees a profile's items in progress and
/// failed ones: the case's organisation and family do.
pub fn sees_progress(access: &CaseAccess) -> bool {
    access.owns()
        || access
            .relationships
            .contains(&kinlink_core::permissions::Relationship::CaseFamily)
}

/// Lists a case's photos and video, as the case's `media` shows them,
/// without recording a profile view, so the case page can follow items in
/// progress.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<MediaView>>, ApiError> {
    let case_id: uuid::Uuid = super::parse_id(&path)?;
    let access = case_access(&state, &user, case_id).await?;
    access.require(&user, Action::ReadCase)?;
    if names_hidden(&state, &access).await? {
        return Ok(web::Json(Vec::new()));
    }
    Ok(web::Json(
        views(&state, case_id, sees_progress(&access)).await?,
    ))
}

/// Lists a case's photos and video for a reader. Those who edit the
/// profile (`editor`) see items in progress and failed ones too; others
/// see ready items only. An item whose upload or processing was cut off
/// by a stopped server is settled here: its processing resumes, or it
/// fails.
pub async fn views(
    state: &AppState,
    case_id: uuid::Uuid,
    editor: bool,
) -> Result<Vec<MediaView>, ApiError> {
    let mut views = Vec::new();
    for (item, renditions) in state.store.case_media_of(case_id).await? {
        let item = settle(state, item).await?;
        if editor || item.status == READY {
            views.push(media_view(item, renditions));
        }
    }
    Ok(views)
}

/// Fails an upload abandoned by its request, and resumes processing that
/// no node has in hand, for a limited number of attempts.
async fn settle(state: &AppState, item: case_media::Model) -> Result<case_media::Model, ApiError> {
    let slot = Slot::parse(&item.slot).unwrap_or(Slot::Photo);
    sealed_upload::settle(
        state,
        upload_of(&item),
        Progress {
            status: &item.status,
            updated_at: item.updated_at,
            size: item.size,
        },
        || open_key(state, &item),
        slot.category().as_str(),
    )
    .await?;
    Ok(state.store.case_media_item(item.id).await?.unwrap_or(item))
}

fn upload_of(item: &case_media::Model) -> Upload {
    Upload::CaseMedia {
        id: item.id,
        case_id: item.case_id,
    }
}

fn seal_key(
    state: &AppState,
    case_id: uuid::Uuid,
    id: uuid::Uuid,
    key: &SecretKey,
) -> Result<Vec<u8>, ApiError> {
    let aad = bindings::case_media_key(case_id, id);
    Ok(aead::seal(
        &state.profile_key,
        key.expose(),
        aad.as_bytes(),
    )?)
}

fn open_key(state: &AppState, item: &case_media::Model) -> Result<SecretKey, ApiError> {
    let aad = bindings::case_media_key(item.case_id, item.id);
    let bytes = aead::open(&state.profile_key, &item.sealed_key, aad.as_bytes())?;
    Ok(SecretKey::from_slice(&bytes, "case media key")?)
}

/// Loads the case for a change to its photos and video, and returns the
/// case's kind.
async fn editable_case(
    state: &AppState,
    user: &SignedIn,
    id: uuid::Uuid,
) -> Result<(CaseAccess, CaseKind), ApiError> {
    let access = case_access(state, user, id).await?;
    access.require(user, Action::EditCase)?;
    require_family_may_edit(state, &access).await?;
    let kind = CaseKind::parse(&access.case.kind)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored case kind is invalid")))?;
    Ok((access, kind))
}

/// Adds a photo or video to a case's profile. The body is the file itself.
#[instrument(skip_all, fields(user = %user.user_id, case = %path))]
pub async fn upload(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    query: web::Query<UploadQuery>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let case_id: uuid::Uuid = super::parse_id(&path)?;
    let (access, kind) = editable_case(&state, &user, case_id).await?;
    let slot = Slot::parse(&query.slot).ok_or_else(|| invalid("slot", "must be photo or video"))?;
    let limit = slot.limit(kind);
    if limit == 0 {
        return Err(invalid(
            "slot",
            format!("a {} profile takes no {}", kind.as_str(), slot.as_str()),
        ));
    }
    let max_bytes = slot.max_bytes(&state);
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(too_large(slot, max_bytes));
    }

    let id = uuid::Uuid::now_v7();
    let key = SecretKey::generate()?;
    let added = state
        .store
        .add_case_media(NewCaseMedia {
            id,
            case_id,
            owner: OrganisationId(access.case.organisation_id),
            slot: slot.as_str(),
            limit,
            sealed_key: seal_key(&state, case_id, id, &key)?,
            uploaded_by: user.user_id,
            at: Utc::now(),
        })
        .await?;
    if !added {
        return Err(ApiError::Conflict(format!(
            "the profile has its {limit} {} items already: remove one first",
            slot.as_str()
        )));
    }
    let received = match receive(
        &state,
        Upload::CaseMedia { id, case_id },
        &key,
        payload,
        max_bytes,
        &|| too_large(slot, max_bytes),
    )
    .await
    {
        Ok(received) => received,
        Err(error) => {
            discard(&state, Upload::CaseMedia { id, case_id }, "upload.rejected").await;
            return Err(error);
        }
    };
    let layout = Layout {
        plaintext_len: received,
    };
    // Access may have ended while the bytes arrived (the family's access
    // removed, families no longer allowed to edit, the case transferred).
    if let Err(error) = editable_case(&state, &user, case_id).await {
        discard(&state, Upload::CaseMedia { id, case_id }, "upload.rejected").await;
        return Err(error);
    }
    let checked = checked_kind(&state, id, &key, layout, slot.category().as_str()).await;
    let media_kind = match checked {
        Ok(media_kind) => media_kind,
        Err(error) => {
            discard(&state, Upload::CaseMedia { id, case_id }, error.code()).await;
            return Err(rejected(error));
        }
    };
    let Some(item) = state.store.case_media_item(id).await? else {
        discard(&state, Upload::CaseMedia { id, case_id }, "upload.rejected").await;
        return Err(ApiError::Conflict(
            "the item was removed while it was being sent".to_owned(),
        ));
    };
    let item = case_media::Model {
        size: i64::try_from(received).unwrap_or(i64::MAX),
        ..item
    };
    if let Err(error) = queue(&state, upload_of(&item), media_kind, item.size, key, layout).await {
        // Nothing is kept of an item that could not be queued, so it does
        // not take a place in the profile.
        if let Some(blobs) = state
            .store
            .remove_case_media(case_id, OrganisationId(access.case.organisation_id), id)
            .await?
        {
            processing::delete_blobs(&state, blobs)
                .await
                .map_err(ApiError::Internal)?;
        }
        return Err(error);
    }
    audit_case(
        &state,
        user.user_id,
        &access.case,
        "case.media_added",
        serde_json::json!({ "media": id, "slot": slot.as_str() }),
    )
    .await?;
    info!(media = %id, slot = slot.as_str(), bytes = received, "profile item received");
    let (item, renditions) = state
        .store
        .case_media_of(case_id)
        .await?
        .into_iter()
        .find(|(item, _)| item.id == id)
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Accepted().json(media_view(item, renditions)))
}

fn too_large(slot: Slot, max_bytes: u64) -> ApiError {
    invalid(
        "body",
        format!(
            "a profile {} may be at most {max_bytes} bytes",
            slot.as_str()
        ),
    )
}

/// Removes a photo or video from a case's profile, with its renditions.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn remove(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (case_id, media_id) = path.into_inner();
    let case_id: uuid::Uuid = super::parse_id(&case_id)?;
    let media_id: uuid::Uuid = super::parse_id(&media_id)?;
    let (access, _kind) = editable_case(&state, &user, case_id).await?;
    let blobs = state
        .store
        .remove_case_media(
            case_id,
            OrganisationId(access.case.organisation_id),
            media_id,
        )
        .await?
        .ok_or(ApiError::NotFound)?;
    processing::delete_blobs(&state, blobs)
        .await
        .map_err(ApiError::Internal)?;
    audit_case(
        &state,
        user.user_id,
        &access.case,
        "case.media_removed",
        serde_json::json!({ "media": media_id }),
    )
    .await?;
    info!(case = %case_id, media = %media_id, "profile item removed");
    Ok(HttpResponse::NoContent().finish())
}

/// Serves a rendition of a ready photo or video, with HTTP Range.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn content(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String, String)>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (case_id, media_id, role) = path.into_inner();
    let case_id: uuid::Uuid = super::parse_id(&case_id)?;
    let media_id: uuid::Uuid = super::parse_id(&media_id)?;
    let access = case_access(&state, &user, case_id).await?;
    access.require(&user, Action::ReadCase)?;
    if names_hidden(&state, &access).await? {
        return Err(ApiError::NotFound);
    }
    let (item, renditions) = state
        .store
        .case_media_of(case_id)
        .await?
        .into_iter()
        .find(|(item, _)| item.id == media_id && item.status == READY)
        .ok_or(ApiError::NotFound)?;
    let chosen = renditions
        .iter()
        .find(|rendition| rendition.role == role && served(&rendition.role))
        .ok_or(ApiError::NotFound)?;
    let key = open_key(&state, &item)?;
    let name = format!("{}-{}.{}", item.slot, chosen.role, extension(&chosen.mime));
    let stored = Stored {
        id: chosen.id,
        len: u64::try_from(chosen.size).unwrap_or(0),
        mime: &chosen.mime,
    };
    serve(&state, key, stored, &name, Disposition::Inline, &request)
}

pub(crate) fn extension(mime: &str) -> &'static str {
    match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        _ => "bin",
    }
}
