//! The social profile a member keeps: a display name and three fields,
//! each shown to other members or hidden. A hidden field never leaves the
//! server for anyone but its owner.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::community::{
    LegalStatus, MembershipState, check_display_name, check_profile_text, comparable_display_name,
};
use kinlink_core::permissions::{Action, Relationship, Role};
use kinlink_store::StoreError;
use kinlink_store::entity::{community_member, community_profile};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::SignedIn;
use crate::community::{Standing, member_by_id};
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::processing;
use crate::routes::JsonBody;
use crate::state::AppState;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field<T> {
    value: T,
    visible: bool,
}

/// My profile, whole.
#[derive(Serialize)]
pub struct OwnProfile {
    display_name: String,
    family_makeup: Field<String>,
    legal_status: Field<Option<String>>,
    interests: Field<String>,
    /// The id of my picture, an image of mine.
    picture: Field<Option<uuid::Uuid>>,
    updated_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileBody {
    display_name: String,
    family_makeup: Field<String>,
    legal_status: Field<Option<String>>,
    interests: Field<String>,
    /// One of my ready images that no post shows; absent for no picture.
    #[serde(default)]
    picture: Option<Field<Option<uuid::Uuid>>>,
}

async fn own_member(
    state: &AppState,
    user: &SignedIn,
) -> Result<community_member::Model, ApiError> {
    let standing = Standing::of(state, user).await?;
    standing.require_inside()?;
    standing.member.ok_or(ApiError::CommunityNotMember)
}

fn own_view(
    member: community_member::Model,
    profile: Option<community_profile::Model>,
) -> OwnProfile {
    let profile = profile.unwrap_or(community_profile::Model {
        user_id: member.user_id,
        family_makeup: String::new(),
        family_makeup_visible: false,
        legal_status: None,
        legal_status_visible: false,
        interests: String::new(),
        interests_visible: false,
        picture_id: None,
        picture_visible: false,
        updated_at: member.applied_at,
        marked_at: None,
    });
    let stored = profile.updated_at != member.applied_at;
    OwnProfile {
        display_name: member.display_name,
        family_makeup: Field {
            value: profile.family_makeup,
            visible: profile.family_makeup_visible,
        },
        legal_status: Field {
            value: profile.legal_status,
            visible: profile.legal_status_visible,
        },
        interests: Field {
            value: profile.interests,
            visible: profile.interests_visible,
        },
        picture: Field {
            value: profile.picture_id,
            visible: profile.picture_visible,
        },
        updated_at: stored.then_some(profile.updated_at),
    }
}

/// Shows my profile.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn get(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<OwnProfile>, ApiError> {
    let member = own_member(&state, &user).await?;
    let profile = state.store.community_profile(user.user_id).await?;
    Ok(web::Json(own_view(member, profile)))
}

/// Replaces my profile.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn put(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<ProfileBody>,
) -> Result<web::Json<OwnProfile>, ApiError> {
    let member = own_member(&state, &user).await?;
    // A suspended member keeps reading, and may delete their profile, but
    // changes nothing others see until the suspension ends.
    if let Some(until) = member.suspended_until
        && until > Utc::now()
    {
        return Err(ApiError::Suspended(until));
    }
    let body = body.into_inner();
    let display_name = check_display_name(&body.display_name)?;
    let legal_status = match body.legal_status.value.as_deref() {
        None | Some("") => None,
        Some(code) => Some(
            LegalStatus::parse(code)
                .ok_or_else(|| {
                    invalid(
                        "legal_status",
                        format!("{code:?} is not one of the legal statuses"),
                    )
                })?
                .as_str()
                .to_owned(),
        ),
    };
    let profile = community_profile::Model {
        user_id: member.user_id,
        family_makeup: check_profile_text("family_makeup", &body.family_makeup.value)?,
        family_makeup_visible: body.family_makeup.visible,
        legal_status,
        legal_status_visible: body.legal_status.visible,
        interests: check_profile_text("interests", &body.interests.value)?,
        interests_visible: body.interests.visible,
        picture_id: body.picture.as_ref().and_then(|picture| picture.value),
        picture_visible: body.picture.as_ref().is_some_and(|picture| picture.visible),
        updated_at: Utc::now(),
        marked_at: None,
    };
    let picture = profile.picture_id;
    let comparable = comparable_display_name(&display_name);
    let replaced = state
        .store
        .put_community_profile((display_name, comparable), profile)
        .await
        .map_err(|error| match error {
            StoreError::Conflict { .. } => invalid(
                "display_name",
                "another member has this name, or one that reads the same; choose another",
            ),
            StoreError::NotFound { .. } => invalid(
                "picture",
                format!(
                    "{} is not one of your images ready to use: wait until it is processed, or send it again",
                    picture.unwrap_or_default()
                ),
            ),
            other => other.into(),
        })?;
    processing::delete_blobs(&state, replaced)
        .await
        .map_err(ApiError::Internal)?;
    let member = own_member(&state, &user).await?;
    let profile = state.store.community_profile(user.user_id).await?;
    Ok(web::Json(own_view(member, profile)))
}

/// Deletes my profile, every field at once.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn delete(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, ApiError> {
    own_member(&state, &user).await?;
    let picture = state.store.delete_community_profile(user.user_id).await?;
    processing::delete_blobs(&state, picture)
        .await
        .map_err(ApiError::Internal)?;
    Ok(HttpResponse::NoContent().finish())
}

/// Another member's profile, with only the fields they show.
#[derive(Serialize)]
pub struct PublicProfile {
    /// The member's community id.
    user_id: uuid::Uuid,
    display_name: String,
    moderator: bool,
    fields: serde_json::Map<String, serde_json::Value>,
}

/// Shows a member's profile as members see it.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn member(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<PublicProfile>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let member = member_by_id(&state, &path).await?;
    let subject = UserId(member.user_id);
    let moderator = state
        .store
        .grants(subject)
        .await?
        .iter()
        .any(|grant| grant.role == Role::Moderator);
    let active = member.state == MembershipState::Active.as_str();
    if !active && !moderator {
        // Someone outside the community has no profile here, for anyone.
        return Err(ApiError::NotFound);
    }
    standing.require(Action::ReadCommunity, &[Relationship::FellowMember])?;
    let mut fields = serde_json::Map::new();
    let display_name = member.display_name.clone();
    // A profile marked for deletion is hidden from everyone but its owner.
    let profile = state.store.community_profile(subject).await?;
    if let Some(profile) = profile.filter(|profile| profile.marked_at.is_none()) {
        if profile.family_makeup_visible && !profile.family_makeup.is_empty() {
            fields.insert("family_makeup".into(), profile.family_makeup.into());
        }
        if profile.legal_status_visible
            && let Some(status) = profile.legal_status
        {
            fields.insert("legal_status".into(), status.into());
        }
        if profile.interests_visible && !profile.interests.is_empty() {
            fields.insert("interests".into(), profile.interests.into());
        }
        if profile.picture_visible
            && let Some(picture) = profile.picture_id
        {
            fields.insert("picture".into(), picture.to_string().into());
        }
    }
    Ok(web::Json(PublicProfile {
        user_id: member.member_id,
        display_name,
        moderator,
        fields,
    }))
}
