//! Community groups: listing them, making them, joining and leaving, and
//! moderators deciding requests to join an approval group.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::community::{
    GROUP_NAME_MAX_CHARS, GroupJoin, GroupMembership, check_line, check_profile_text,
    comparable_display_name,
};
use kinlink_core::permissions::Action;
use kinlink_store::entity::community_group;
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::SignedIn;
use crate::community::{Authors, Standing, audit, member_by_id};
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::routes::JsonBody;
use crate::state::AppState;

#[derive(Serialize)]
pub struct GroupView {
    id: uuid::Uuid,
    name: String,
    description: String,
    join: String,
    membership: &'static str,
    topic_count: i64,
}

fn group_view(
    group: community_group::Model,
    membership: &'static str,
    topic_count: i64,
) -> GroupView {
    GroupView {
        id: group.id,
        name: group.name,
        description: group.description,
        join: group.join_rule,
        membership,
        topic_count,
    }
}

fn membership_code(state: &str) -> &'static str {
    match GroupMembership::parse(state) {
        Some(GroupMembership::Member) => "member",
        Some(GroupMembership::Requested) => "requested",
        None => "none",
    }
}

/// Lists every group with my place in it.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<GroupView>>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let places: HashMap<uuid::Uuid, String> = state
        .store
        .community_group_places(user.user_id)
        .await?
        .into_iter()
        .map(|place| (place.group_id, place.state))
        .collect();
    let counts = state.store.community_topic_counts().await?;
    Ok(web::Json(
        state
            .store
            .community_groups()
            .await?
            .into_iter()
            .map(|group| {
                let membership = places.get(&group.id).map_or("none", |s| membership_code(s));
                let count = counts.get(&group.id).copied().unwrap_or(0);
                group_view(group, membership, count)
            })
            .collect(),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupBody {
    name: String,
    description: String,
    join: String,
}

/// Makes a group (moderators).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn create(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<GroupBody>,
) -> Result<HttpResponse, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::ManageGroups)?;
    let name = check_line("name", &body.name, GROUP_NAME_MAX_CHARS)?;
    let description = check_profile_text("description", &body.description)?;
    let join = GroupJoin::parse(&body.join)
        .ok_or_else(|| invalid("join", format!("{:?} is not open or approval", body.join)))?;
    let row = community_group::Model {
        id: uuid::Uuid::now_v7(),
        comparable_name: comparable_display_name(&name),
        name,
        description,
        join_rule: join.as_str().to_owned(),
        created_by: Some(user.user_id.0),
        created_at: Utc::now(),
    };
    state
        .store
        .create_community_group(row.clone())
        .await
        .map_err(|error| match error {
            kinlink_store::StoreError::Conflict { .. } => invalid(
                "name",
                "another group has this name, or one that reads the same",
            ),
            other => other.into(),
        })?;
    audit(
        &state,
        user.user_id,
        "community.group_created",
        "community_group",
        row.id,
        serde_json::json!({ "join": join.as_str() }),
    )
    .await?;
    Ok(HttpResponse::Created().json(group_view(row, "none", 0)))
}

/// Joins a group, or requests to join an approval group.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn join(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<serde_json::Value>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let group = state.store.community_group(id).await?;
    let membership = if group.join_rule == GroupJoin::Open.as_str() || standing.is_moderator() {
        GroupMembership::Member
    } else {
        GroupMembership::Requested
    };
    let place = state
        .store
        .join_community_group(group.id, user.user_id, membership, Utc::now())
        .await?;
    Ok(web::Json(
        serde_json::json!({ "membership": membership_code(&place.state) }),
    ))
}

/// Leaves a group, or withdraws a request to join.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn leave(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    state.store.community_group(id).await?;
    state.store.leave_community_group(id, user.user_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
pub struct RequestView {
    /// The member's community id.
    user_id: Option<uuid::Uuid>,
    display_name: String,
    requested_at: DateTime<Utc>,
}

/// Lists the requests waiting to join a group (moderators).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn requests(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<RequestView>>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::ModerateCommunity)?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    state.store.community_group(id).await?;
    let mut authors = Authors::default();
    let mut views = Vec::new();
    for request in state.store.community_group_requests(id).await? {
        let author = authors.get(&state, Some(request.user_id)).await?;
        views.push(RequestView {
            user_id: author.user_id,
            display_name: author.display_name,
            requested_at: request.requested_at,
        });
    }
    Ok(web::Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestDecisionBody {
    decision: String,
}

/// Lets a member into an approval group, or declines them (moderators).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn decide_request(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
    body: JsonBody<RequestDecisionBody>,
) -> Result<HttpResponse, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::ModerateCommunity)?;
    let (group, member) = path.into_inner();
    let group: uuid::Uuid = crate::routes::parse_id(&group)?;
    let member = UserId(member_by_id(&state, &member).await?.user_id);
    let approve = match body.decision.as_str() {
        "approve" => true,
        "decline" => false,
        other => {
            return Err(invalid(
                "decision",
                format!("{other:?} is not approve or decline"),
            ));
        }
    };
    state
        .store
        .decide_community_group_request(group, member, approve, user.user_id, Utc::now())
        .await?;
    audit(
        &state,
        user.user_id,
        if approve {
            "community.group_request_approved"
        } else {
            "community.group_request_declined"
        },
        "community_group",
        group,
        serde_json::json!({ "member": member }),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
