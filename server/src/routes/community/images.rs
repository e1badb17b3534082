//! Images in posts and profile pictures.
//!
//! A member sends an image as the body of one request, before the post or
//! profile that shows it. Its bytes are sealed as they arrive under a key
//! of its own, sealed in turn under the platform data key, since every
//! member who may read the post must be able to see it. The image then gets
//! the checks every upload gets (kind from its bytes, pixel limit from its
//! header) and goes to media processing, which re-encodes it without its
//! metadata, GPS included, and makes a thumbnail. Only those renditions are
//! kept and served.
//!
//! Others see an image only through what shows it: a visible post in a
//! group they may read, or a profile whose picture its member shows.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::community::{MembershipState, PostState};
use kinlink_core::crypto::segments::Layout;
use kinlink_core::crypto::{SecretKey, aead, bindings};
use kinlink_core::permissions::{Action, Relationship};
use kinlink_media::disposition::Disposition;
use kinlink_media::kind::Category;
use kinlink_store::community::images::{MAX_UNUSED, READY};
use kinlink_store::community::{CommunityImage, NewImage};
use kinlink_store::entity::community_image;
use serde::Serialize;
use tracing::{info, instrument};

use crate::auth::SignedIn;
use crate::community::Standing;
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::processing;
use crate::routes::case_media::extension;
use crate::routes::files::{Stored, serve, served};
use crate::routes::sealed_upload::{
    self, Progress, Upload, checked_kind, discard, queue, receive, rejected,
};
use crate::state::AppState;

/// An image as its reader sees it.
#[derive(Serialize)]
pub struct ImageView {
    id: uuid::Uuid,
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    failure: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
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
}

/// Shows an image and its served renditions.
pub fn image_view((image, renditions): CommunityImage) -> ImageView {
    ImageView {
        id: image.id,
        status: image.status,
        failure: image.failure,
        description: image.description,
        renditions: renditions
            .into_iter()
            .filter(|rendition| served(&rendition.role))
            .map(|rendition| RenditionView {
                role: rendition.role,
                mime: rendition.mime,
                size: rendition.size,
                width: rendition.width,
                height: rendition.height,
            })
            .collect(),
        created_at: image.created_at,
    }
}

fn seal_key(state: &AppState, id: uuid::Uuid, key: &SecretKey) -> Result<Vec<u8>, ApiError> {
    let aad = bindings::community_image_key(id);
    Ok(aead::seal(
        &state.profile_key,
        key.expose(),
        aad.as_bytes(),
    )?)
}

fn open_key(state: &AppState, image: &community_image::Model) -> Result<SecretKey, ApiError> {
    let aad = bindings::community_image_key(image.id);
    let bytes = aead::open(&state.profile_key, &image.sealed_key, aad.as_bytes())?;
    Ok(SecretKey::from_slice(&bytes, "community image key")?)
}

/// Returns the standing of an active member who may add images now: not
/// suspended. A moderator has a member row of their own.
async fn uploader(state: &AppState, user: &SignedIn) -> Result<Standing, ApiError> {
    let standing = Standing::of(state, user).await?;
    standing.require_inside()?;
    let Some(member) = &standing.member else {
        return Err(ApiError::CommunityNotMember);
    };
    if member.state != MembershipState::Active.as_str() {
        return Err(ApiError::CommunityNotMember);
    }
    if let Some(until) = member.suspended_until
        && until > Utc::now()
    {
        return Err(ApiError::Suspended(until));
    }
    Ok(standing)
}

fn too_large(max_bytes: u64) -> ApiError {
    invalid("body", format!("an image may be at most {max_bytes} bytes"))
}

/// Receives an image for a post or the member's picture. The body is the
/// image itself; the answer comes once it is stored and checked, and the
/// page follows its processing with `GET /community/images/{id}`.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn upload(
    state: web::Data<AppState>,
    user: SignedIn,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    uploader(&state, &user).await?;
    let max_bytes = state.config.community.max_image_bytes;
    let declared = request
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(too_large(max_bytes));
    }
    let id = uuid::Uuid::now_v7();
    let key = SecretKey::generate()?;
    let added = state
        .store
        .add_community_image(NewImage {
            id,
            owner: user.user_id,
            sealed_key: seal_key(&state, id, &key)?,
            at: Utc::now(),
        })
        .await?;
    processing::delete_blobs(&state, added.removed_blobs)
        .await
        .map_err(ApiError::Internal)?;
    if !added.added {
        return Err(ApiError::Conflict(format!(
            "you have {MAX_UNUSED} images that no post shows yet: post or delete some first"
        )));
    }
    let received = match receive(
        &state,
        Upload::CommunityImage(id),
        &key,
        payload,
        max_bytes,
        &|| too_large(max_bytes),
    )
    .await
    {
        Ok(received) => received,
        Err(error) => {
            discard(&state, Upload::CommunityImage(id), "upload.rejected").await;
            return Err(error);
        }
    };
    let layout = Layout {
        plaintext_len: received,
    };
    let kind = match checked_kind(&state, id, &key, layout, Category::Image.as_str()).await {
        Ok(kind) => kind,
        Err(error) => {
            discard(&state, Upload::CommunityImage(id), error.code()).await;
            return Err(rejected(error));
        }
    };
    let size = i64::try_from(received).unwrap_or(i64::MAX);
    if let Err(error) = queue(&state, Upload::CommunityImage(id), kind, size, key, layout).await {
        // An image that could not be queued is not kept.
        if let Some(blobs) = state.store.remove_community_image(user.user_id, id).await? {
            processing::delete_blobs(&state, blobs)
                .await
                .map_err(ApiError::Internal)?;
        }
        return Err(error);
    }
    info!(image = %id, bytes = received, "community image received");
    let image = state
        .store
        .community_image(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Accepted().json(image_view(image)))
}

/// Fails an upload abandoned by its request, and resumes processing that
/// no node has in hand.
async fn settle(state: &AppState, image: CommunityImage) -> Result<CommunityImage, ApiError> {
    let (row, _) = &image;
    sealed_upload::settle(
        state,
        Upload::CommunityImage(row.id),
        Progress {
            status: &row.status,
            updated_at: row.updated_at,
            size: row.size,
        },
        || open_key(state, row),
        Category::Image.as_str(),
    )
    .await?;
    let id = row.id;
    Ok(state.store.community_image(id).await?.unwrap_or(image))
}

/// Loads an image the signed-in person may see. Their own they see in any
/// state. Another's they see once it is ready, through a visible post in a
/// group they may read (any post, for a moderator), or as a picture its
/// member shows. Anything else is `404`.
async fn readable(state: &AppState, user: &SignedIn, id: &str) -> Result<CommunityImage, ApiError> {
    let standing = Standing::of(state, user).await?;
    standing.require_inside()?;
    let id: uuid::Uuid = crate::routes::parse_id(id)?;
    let image = state
        .store
        .community_image(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if image.0.owner_id == user.user_id.0 {
        return Ok(image);
    }
    if image.0.status != READY {
        return Err(ApiError::NotFound);
    }
    if let Some(post_id) = image.0.post_id {
        let post = state.store.community_post(post_id).await?;
        if post.state != PostState::Visible.as_str() && !standing.is_moderator() {
            return Err(ApiError::NotFound);
        }
        let topic = state.store.community_topic(post.topic_id).await?;
        standing
            .group(state, topic.group_id, Action::ReadCommunity)
            .await?;
        return Ok(image);
    }
    let owner = UserId(image.0.owner_id);
    let shown = state
        .store
        .community_profile(owner)
        .await?
        .is_some_and(|profile| {
            profile.picture_visible && profile.picture_id == Some(id) && profile.marked_at.is_none()
        });
    let active = state
        .store
        .community_member(owner)
        .await?
        .is_some_and(|member| member.state == MembershipState::Active.as_str());
    if !(shown && active) {
        return Err(ApiError::NotFound);
    }
    standing.require(Action::ReadCommunity, &[Relationship::FellowMember])?;
    Ok(image)
}

/// Shows an image's state and renditions.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn get(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<ImageView>, ApiError> {
    let image = readable(&state, &user, &path).await?;
    let image = if image.0.owner_id == user.user_id.0 {
        settle(&state, image).await?
    } else {
        image
    };
    Ok(web::Json(image_view(image)))
}

/// Serves a rendition of a ready image: `main` or `thumbnail`.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn content(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (id, role) = path.into_inner();
    let (image, renditions) = readable(&state, &user, &id).await?;
    if image.status != READY {
        return Err(ApiError::NotFound);
    }
    let chosen = renditions
        .iter()
        .find(|rendition| rendition.role == role && served(&rendition.role))
        .ok_or(ApiError::NotFound)?;
    let key = open_key(&state, &image)?;
    let name = format!("image-{}.{}", chosen.role, extension(&chosen.mime));
    let stored = Stored {
        id: chosen.id,
        len: u64::try_from(chosen.size).unwrap_or(0),
        mime: &chosen.mime,
    };
    serve(&state, key, stored, &name, Disposition::Inline, &request)
}

/// Deletes one of my images that no post shows; my picture goes from my
/// profile with it.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn remove(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let blobs = state
        .store
        .remove_community_image(user.user_id, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    processing::delete_blobs(&state, blobs)
        .await
        .map_err(ApiError::Internal)?;
    info!(image = %id, "community image deleted");
    Ok(HttpResponse::NoContent().finish())
}
