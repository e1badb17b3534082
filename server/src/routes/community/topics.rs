//! Topics and posts: reading a group's topics, opening one, reading and
//! replying, and reporting a post to the moderators.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::community::{
    BODY_MAX_CHARS, PostState, SHORT_TEXT_MAX_CHARS, TITLE_MAX_CHARS, check_line, check_text,
};
use kinlink_core::permissions::Action;
use kinlink_store::community::{NewPost, NewTopic, POSTS_LISTED, Posting};
use kinlink_store::entity::{community_group, community_topic};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::SignedIn;
use crate::community::{
    Author, Authors, PostView, Standing, after_post, post_view, post_views, posting_limit,
    throttled,
};
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::routes::JsonBody;
use crate::state::AppState;

#[derive(Serialize)]
pub struct TopicSummary {
    id: uuid::Uuid,
    group_id: uuid::Uuid,
    title: String,
    author: Author,
    created_at: DateTime<Utc>,
    last_post_at: DateTime<Utc>,
    reply_count: i32,
}

async fn summary(
    state: &AppState,
    authors: &mut Authors,
    topic: community_topic::Model,
) -> Result<TopicSummary, ApiError> {
    Ok(TopicSummary {
        author: authors.get(state, topic.author_id).await?,
        id: topic.id,
        group_id: topic.group_id,
        title: topic.title,
        created_at: topic.created_at,
        last_post_at: topic.last_post_at,
        reply_count: topic.reply_count,
    })
}

/// The start of a listing.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// How many items of the listing to pass over, as written: it is read
    /// after the access check, so a caller who may not read the listing
    /// learns nothing from it.
    #[serde(default)]
    offset: Option<String>,
}

/// The most items a listing may pass over.
const MAX_OFFSET: u64 = 1_000_000;

impl Page {
    fn offset(&self) -> Result<u64, ApiError> {
        let Some(text) = self.offset.as_deref() else {
            return Ok(0);
        };
        text.bytes()
            .all(|byte| byte.is_ascii_digit())
            .then(|| text.parse::<u64>().ok())
            .flatten()
            .filter(|offset| *offset <= MAX_OFFSET)
            .ok_or_else(|| {
                invalid(
                    "offset",
                    format!("must be a whole number from 0 to {MAX_OFFSET}"),
                )
            })
    }
}

/// Lists a group's topics, newest activity first, 200 at a time.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    page: web::Query<Page>,
) -> Result<web::Json<Vec<TopicSummary>>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let group = standing.group(&state, id, Action::ReadCommunity).await?;
    let offset = page.offset()?;
    let mut authors = Authors::default();
    let mut views = Vec::new();
    for topic in state.store.community_topics(group.id, offset).await? {
        views.push(summary(&state, &mut authors, topic).await?);
    }
    Ok(web::Json(views))
}

#[derive(Serialize)]
pub struct TopicView {
    id: uuid::Uuid,
    group_id: uuid::Uuid,
    title: String,
    author: Author,
    created_at: DateTime<Utc>,
    posts: Vec<PostView>,
    /// Whether more posts follow: read them with `offset`.
    more_posts: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicBody {
    title: String,
    body: String,
    #[serde(default)]
    images: Vec<ImageRef>,
}

/// One of my uploaded images, for a post to show.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageRef {
    id: uuid::Uuid,
    /// A description of the image, for those who cannot see it.
    #[serde(default)]
    description: String,
}

/// Most images one post shows.
const IMAGES_PER_POST: usize = 4;

/// Checks the images a post names: at most [`IMAGES_PER_POST`], none
/// twice, each description a line of text.
fn checked_images(images: &[ImageRef]) -> Result<Vec<(uuid::Uuid, Option<String>)>, ApiError> {
    if images.len() > IMAGES_PER_POST {
        return Err(invalid(
            "images",
            format!("a post shows at most {IMAGES_PER_POST} images"),
        ));
    }
    let mut checked: Vec<(uuid::Uuid, Option<String>)> = Vec::with_capacity(images.len());
    for image in images {
        if checked.iter().any(|(id, _)| *id == image.id) {
            return Err(invalid("images", format!("{} is named twice", image.id)));
        }
        let description = if image.description.trim().is_empty() {
            None
        } else {
            Some(check_line(
                "images.description",
                &image.description,
                SHORT_TEXT_MAX_CHARS,
            )?)
        };
        checked.push((image.id, description));
    }
    Ok(checked)
}

fn image_unavailable(id: uuid::Uuid) -> ApiError {
    invalid(
        "images",
        format!(
            "{id} is not one of your images ready to post: wait until it is processed, or send it again"
        ),
    )
}

/// Opens a topic in a group.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn open(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<TopicBody>,
) -> Result<HttpResponse, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let group = standing.group(&state, id, Action::PostInCommunity).await?;
    let now = Utc::now();
    standing.require_may_write(now)?;
    let title = check_line("title", &body.title, TITLE_MAX_CHARS)?;
    let text = check_text("body", &body.body, BODY_MAX_CHARS)?;
    let images = checked_images(&body.images)?;
    let posted = state
        .store
        .open_community_topic(
            NewTopic {
                id: uuid::Uuid::now_v7(),
                group_id: group.id,
                title,
                post: NewPost {
                    id: uuid::Uuid::now_v7(),
                    author: user.user_id,
                    body: text,
                    images,
                    at: now,
                },
            },
            posting_limit(now),
        )
        .await?;
    let (topic, post) = match posted {
        Posting::Stored(stored) => stored,
        Posting::OverLimit(recent) => return Err(throttled(&recent, now)),
        Posting::ImageUnavailable(id) => return Err(image_unavailable(id)),
    };
    after_post(&state, &group, topic.id, user.user_id, &body.body, None).await;
    let mut authors = Authors::default();
    let first = post_view(&state, &mut authors, &standing, post).await?;
    Ok(HttpResponse::Created().json(TopicView {
        id: topic.id,
        group_id: topic.group_id,
        title: topic.title,
        author: first.author.clone(),
        created_at: topic.created_at,
        posts: vec![first],
        more_posts: false,
    }))
}

/// Loads a topic, with its group, whose group the person may take `action`
/// in.
async fn topic_for(
    state: &AppState,
    standing: &Standing,
    id: uuid::Uuid,
    action: Action,
) -> Result<(community_topic::Model, community_group::Model), ApiError> {
    standing.require_inside()?;
    let topic = state.store.community_topic(id).await?;
    let group = standing.group(state, topic.group_id, action).await?;
    Ok((topic, group))
}

/// Reads a topic with its posts, 1,000 at a time.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn get(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    page: web::Query<Page>,
) -> Result<web::Json<TopicView>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let (topic, _) = topic_for(&state, &standing, id, Action::ReadCommunity).await?;
    let offset = page.offset()?;
    let mut rows = state.store.community_posts(topic.id, offset).await?;
    let more_posts = rows.len() as u64 > POSTS_LISTED;
    rows.truncate(usize::try_from(POSTS_LISTED).unwrap_or(usize::MAX));
    let mut authors = Authors::default();
    let posts = post_views(&state, &mut authors, &standing, rows).await?;
    Ok(web::Json(TopicView {
        author: authors.get(&state, topic.author_id).await?,
        id: topic.id,
        group_id: topic.group_id,
        title: topic.title,
        created_at: topic.created_at,
        more_posts,
        posts,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    body: String,
    #[serde(default)]
    images: Vec<ImageRef>,
}

/// Replies in a topic.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn reply(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<ReplyBody>,
) -> Result<HttpResponse, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let (topic, group) = topic_for(&state, &standing, id, Action::PostInCommunity).await?;
    let now = Utc::now();
    standing.require_may_write(now)?;
    let text = check_text("body", &body.body, BODY_MAX_CHARS)?;
    let images = checked_images(&body.images)?;
    let posted = state
        .store
        .add_community_post(
            topic.id,
            NewPost {
                id: uuid::Uuid::now_v7(),
                author: user.user_id,
                body: text,
                images,
                at: now,
            },
            posting_limit(now),
        )
        .await?;
    let post = match posted {
        Posting::Stored(post) => post,
        Posting::OverLimit(recent) => return Err(throttled(&recent, now)),
        Posting::ImageUnavailable(id) => return Err(image_unavailable(id)),
    };
    after_post(
        &state,
        &group,
        topic.id,
        user.user_id,
        &body.body,
        topic.author_id.map(UserId),
    )
    .await;
    let mut authors = Authors::default();
    let view = post_view(&state, &mut authors, &standing, post).await?;
    Ok(HttpResponse::Created().json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    reason: String,
}

/// Reports a post to the moderators.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn report(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<ReportBody>,
) -> Result<HttpResponse, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let post = state.store.community_post(id).await?;
    let (topic, _) = topic_for(&state, &standing, post.topic_id, Action::ReportPost).await?;
    // A post hidden from the reporter is not theirs to see, let alone report.
    if post.state != PostState::Visible.as_str() && post.author_id != Some(user.user_id.0) {
        return Err(ApiError::NotFound);
    }
    let now = Utc::now();
    standing.require_may_write(now)?;
    if post.author_id == Some(user.user_id.0) {
        return Err(invalid("post", "you cannot report your own post"));
    }
    let reason = check_text("reason", &body.reason, SHORT_TEXT_MAX_CHARS)?;
    // Reports share the posting limit's rate, so a flood of them cannot
    // bury the real ones in the moderators' queue.
    let recent = state
        .store
        .community_report_times_since(user.user_id, posting_limit(now).since)
        .await?;
    if recent.len() >= posting_limit(now).max {
        return Err(throttled(&recent, now));
    }
    let row = state
        .store
        .report_community_post(post.id, user.user_id, reason, now)
        .await
        .map_err(|error| match error {
            kinlink_store::StoreError::Conflict { .. } => ApiError::Conflict(
                "you have reported this post already; a moderator will look at it".to_owned(),
            ),
            other => other.into(),
        })?;
    state
        .store
        .touch_community_member(user.user_id, now)
        .await?;
    tracing::info!(topic = %topic.id, "post reported");
    Ok(HttpResponse::Created().json(serde_json::json!({
        "id": row.id,
        "post_id": row.post_id,
        "created_at": row.created_at,
    })))
}
