//! Moderators' work: the queue of reported posts, hiding, removing and
//! restoring posts, warning and suspending members; and each member's
//! notices of the decisions about them.

use actix_web::web;
use chrono::{DateTime, Duration, Utc};
use kinlink_core::UserId;
use kinlink_core::community::PostState;
use kinlink_core::community::{
    MemberAction, MembershipState, NoticeKind, PostAction, SHORT_TEXT_MAX_CHARS,
    check_suspension_days, check_text,
};
use kinlink_core::notices::Template;
use kinlink_core::permissions::Action;
use kinlink_store::community::moderation::DECISION_GONE;
use kinlink_store::community::{NewNotice, PostModeration};
use kinlink_store::entity::community_notice;
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::SignedIn;
use crate::community::{
    Author, Authors, PostView, Standing, announce, audit, member_by_id, notify, post_view,
};
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::processing;
use crate::routes::JsonBody;
use crate::state::AppState;

#[derive(Serialize)]
pub struct ReportView {
    id: uuid::Uuid,
    post: PostView,
    topic_id: uuid::Uuid,
    topic_title: String,
    reason: String,
    reporter: Author,
    created_at: DateTime<Utc>,
}

/// Lists the open reports, oldest first (moderators).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn reports(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<ReportView>>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::ModerateCommunity)?;
    let mut authors = Authors::default();
    let mut views = Vec::new();
    for report in state.store.open_community_reports().await? {
        let post = state.store.community_post(report.post_id).await?;
        let topic = state.store.community_topic(post.topic_id).await?;
        views.push(ReportView {
            id: report.id,
            post: post_view(&state, &mut authors, &standing, post).await?,
            topic_id: topic.id,
            topic_title: topic.title,
            reason: report.reason,
            reporter: authors.get(&state, Some(report.reporter_id)).await?,
            created_at: report.created_at,
        });
    }
    Ok(web::Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostActionBody {
    action: String,
    reason: String,
}

/// Hides, removes or restores a post (moderators).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn moderate_post(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<PostActionBody>,
) -> Result<web::Json<PostView>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::ModerateCommunity)?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let action = PostAction::parse(&body.action).ok_or_else(|| {
        invalid(
            "action",
            format!("{:?} is not hide, remove or restore", body.action),
        )
    })?;
    let reason = check_text("reason", &body.reason, SHORT_TEXT_MAX_CHARS)?;
    let post = state.store.community_post(id).await?;
    let topic = state.store.community_topic(post.topic_id).await?;
    let (post_state, notice_kind) = action.outcome();
    let now = Utc::now();
    let told = post
        .author_id
        .filter(|author| *author != user.user_id.0)
        .map(UserId);
    let notice = told.map(|author| NewNotice {
        user: author,
        kind: notice_kind,
        reason: reason.clone(),
        post_id: Some(post.id),
        topic_id: Some(topic.id),
        until: None,
        moderator: user.user_id,
        at: now,
    });
    let (moderated, removed_images) = state
        .store
        .moderate_community_post(PostModeration {
            post: post.id,
            state: post_state,
            reason,
            moderator: user.user_id,
            at: now,
            notice,
            only_after: None,
        })
        .await
        .map_err(|error| match error {
            kinlink_store::StoreError::Conflict { .. } => ApiError::Conflict(
                "the post was removed: its text is gone, so nothing more can change".to_owned(),
            ),
            other => other.into(),
        })?;
    processing::delete_blobs(&state, removed_images)
        .await
        .map_err(ApiError::Internal)?;
    audit(
        &state,
        user.user_id,
        match action {
            PostAction::Hide => "community.post_hidden",
            PostAction::Remove => "community.post_removed",
            PostAction::Restore => "community.post_restored",
        },
        "community_post",
        post.id,
        serde_json::json!({ "topic": topic.id, "author": post.author_id }),
    )
    .await?;
    announce(&state, topic.group_id, topic.id).await;
    if let Some(author) = told {
        notify(&state, &[author], Template::CommunityDecision).await;
    }
    let mut authors = Authors::default();
    Ok(web::Json(
        post_view(&state, &mut authors, &standing, moderated).await?,
    ))
}

#[derive(Serialize)]
pub struct NoticeView {
    id: uuid::Uuid,
    kind: String,
    reason: String,
    post_id: Option<uuid::Uuid>,
    topic_id: Option<uuid::Uuid>,
    until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    /// Whether the member may still appeal it.
    appealable: bool,
    appeal: Option<AppealView>,
}

/// A member's appeal of a notice and the moderator's answer.
#[derive(Serialize)]
pub struct AppealView {
    text: String,
    appealed_at: DateTime<Utc>,
    /// `upheld` or `overturned` once answered.
    outcome: Option<String>,
    reason: Option<String>,
    decided_at: Option<DateTime<Utc>>,
}

/// Returns whether a notice records a decision against the member, which
/// they may appeal.
fn is_appealable(kind: &str) -> bool {
    matches!(
        NoticeKind::parse(kind),
        Some(
            NoticeKind::Warning
                | NoticeKind::Suspension
                | NoticeKind::PostHidden
                | NoticeKind::PostRemoved
        )
    )
}

/// Returns whether the decision a notice records about a post is still in
/// force: it is the post's last moderation, and the post is still in the
/// state it left it in. Notices of other kinds are always in force.
async fn in_force(state: &AppState, row: &community_notice::Model) -> Result<bool, ApiError> {
    let expected = match NoticeKind::parse(&row.kind) {
        Some(NoticeKind::PostHidden) => PostState::Hidden,
        Some(NoticeKind::PostRemoved) => PostState::Removed,
        _ => return Ok(true),
    };
    let Some(post) = row.post_id else {
        return Ok(true);
    };
    match state.store.community_post(post).await {
        Ok(post) => {
            Ok(post.state == expected.as_str() && post.moderated_at == Some(row.created_at))
        }
        Err(kinlink_store::StoreError::NotFound { .. }) => Ok(false),
        Err(other) => Err(other.into()),
    }
}

const NO_LONGER_STANDS: &str =
    "the decision is no longer in force: the post was shown again or moderated since";

fn notice_view(row: community_notice::Model, in_force: bool) -> NoticeView {
    let appeal = match (row.appeal_text, row.appealed_at) {
        (Some(text), Some(appealed_at)) => Some(AppealView {
            text,
            appealed_at,
            outcome: row.appeal_outcome,
            reason: row.appeal_reason,
            decided_at: row.appeal_decided_at,
        }),
        _ => None,
    };
    NoticeView {
        appealable: appeal.is_none() && in_force && is_appealable(&row.kind),
        id: row.id,
        kind: row.kind,
        reason: row.reason,
        post_id: row.post_id,
        topic_id: row.topic_id,
        until: row.until,
        created_at: row.created_at,
        appeal,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberActionBody {
    action: String,
    reason: String,
    days: Option<i64>,
}

/// Warns or suspends a member, or lifts a suspension (moderators).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn moderate_member(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<MemberActionBody>,
) -> Result<web::Json<NoticeView>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::ModerateCommunity)?;
    let member = member_by_id(&state, &path).await?;
    if member.state != MembershipState::Active.as_str() {
        return Err(ApiError::NotFound);
    }
    let subject = UserId(member.user_id);
    let action = MemberAction::parse(&body.action).ok_or_else(|| {
        invalid(
            "action",
            format!("{:?} is not warn, suspend or lift", body.action),
        )
    })?;
    let reason = check_text("reason", &body.reason, SHORT_TEXT_MAX_CHARS)?;
    if body.days.is_some() && action != MemberAction::Suspend {
        return Err(invalid("days", "is only for suspend"));
    }
    let now = Utc::now();
    let (kind, until) = match action {
        MemberAction::Warn => (NoticeKind::Warning, None),
        MemberAction::Suspend => {
            let days = check_suspension_days(body.days)?;
            let until = now + Duration::days(days);
            state
                .store
                .set_community_suspension(subject, Some(until))
                .await?;
            (NoticeKind::Suspension, Some(until))
        }
        MemberAction::Lift => {
            if member.suspended_until.is_none_or(|until| until <= now) {
                return Err(ApiError::Conflict("the member is not suspended".to_owned()));
            }
            state.store.set_community_suspension(subject, None).await?;
            (NoticeKind::SuspensionLifted, None)
        }
    };
    let notice = state
        .store
        .add_community_notice(NewNotice {
            user: subject,
            kind,
            reason,
            post_id: None,
            topic_id: None,
            until,
            moderator: user.user_id,
            at: now,
        })
        .await?;
    audit(
        &state,
        user.user_id,
        match action {
            MemberAction::Warn => "community.member_warned",
            MemberAction::Suspend => "community.member_suspended",
            MemberAction::Lift => "community.suspension_lifted",
        },
        "user",
        subject.0,
        serde_json::json!({ "until": until }),
    )
    .await?;
    notify(&state, &[subject], Template::CommunityDecision).await;
    Ok(web::Json(notice_view(notice, true)))
}

/// Lists my notices, newest first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn notices(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<NoticeView>>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let mut views = Vec::new();
    for notice in state.store.community_notices(user.user_id).await? {
        let in_force = in_force(&state, &notice).await?;
        views.push(notice_view(notice, in_force));
    }
    Ok(web::Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    text: String,
}

/// Appeals a notice, once.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn appeal(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<AppealBody>,
) -> Result<web::Json<NoticeView>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_inside()?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let notice = state.store.community_notice(id).await?;
    if notice.user_id != user.user_id.0 {
        return Err(ApiError::NotFound);
    }
    if !is_appealable(&notice.kind) {
        return Err(ApiError::Conflict(format!(
            "a notice of kind {} is not a decision against you, so it has no appeal",
            notice.kind
        )));
    }
    let text = check_text("text", &body.text, SHORT_TEXT_MAX_CHARS)?;
    let appealed = state
        .store
        .appeal_community_notice(id, user.user_id, text, Utc::now())
        .await
        .map_err(|error| match error {
            kinlink_store::StoreError::Conflict { what } if what == DECISION_GONE => {
                ApiError::Conflict(NO_LONGER_STANDS.to_owned())
            }
            kinlink_store::StoreError::Conflict { .. } => {
                ApiError::Conflict("you have appealed this decision already".to_owned())
            }
            other => other.into(),
        })?;
    audit(
        &state,
        user.user_id,
        "community.appealed",
        "community_notice",
        id,
        serde_json::json!({ "kind": appealed.kind }),
    )
    .await?;
    Ok(web::Json(notice_view(appealed, true)))
}

/// An appeal waiting for a moderator.
#[derive(Serialize)]
pub struct OpenAppealView {
    member: Author,
    notice: NoticeView,
}

/// Lists the appeals no moderator has answered, oldest first (moderators).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn appeals(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<OpenAppealView>>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::ModerateCommunity)?;
    let mut authors = Authors::default();
    let mut views = Vec::new();
    for notice in state.store.open_community_appeals().await? {
        // An appeal against a decision no longer in force has nothing left
        // to decide.
        if !in_force(&state, &notice).await? {
            continue;
        }
        views.push(OpenAppealView {
            member: authors.get(&state, Some(notice.user_id)).await?,
            notice: notice_view(notice, true),
        });
    }
    Ok(web::Json(views))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionBody {
    decision: String,
    reason: String,
}

/// Answers an appeal (moderators). Overturning a hidden post shows it
/// again, and overturning a running suspension lifts it. A removed post's
/// text is gone, so overturning its removal only records the answer.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn decide_appeal(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<AppealDecisionBody>,
) -> Result<web::Json<NoticeView>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::ModerateCommunity)?;
    let id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let overturn = match body.decision.as_str() {
        "uphold" => false,
        "overturn" => true,
        other => {
            return Err(invalid(
                "decision",
                format!("{other:?} is not uphold or overturn"),
            ));
        }
    };
    let reason = check_text("reason", &body.reason, SHORT_TEXT_MAX_CHARS)?;
    let notice = state.store.community_notice(id).await?;
    if notice.appealed_at.is_none() {
        return Err(ApiError::NotFound);
    }
    if !in_force(&state, &notice).await? {
        return Err(ApiError::Conflict(NO_LONGER_STANDS.to_owned()));
    }
    let now = Utc::now();
    let decided = state
        .store
        .decide_community_appeal(
            id,
            user.user_id,
            if overturn { "overturned" } else { "upheld" },
            reason.clone(),
            now,
        )
        .await
        .map_err(|error| match error {
            kinlink_store::StoreError::Conflict { .. } => {
                ApiError::Conflict("the appeal was answered already".to_owned())
            }
            other => other.into(),
        })?;
    let member = UserId(notice.user_id);
    if overturn {
        match NoticeKind::parse(&notice.kind) {
            Some(NoticeKind::PostHidden) => {
                if let Some(post) = notice.post_id {
                    let restored = state
                        .store
                        .moderate_community_post(PostModeration {
                            post,
                            state: PostState::Visible,
                            reason: reason.clone(),
                            moderator: user.user_id,
                            at: now,
                            notice: None,
                            only_after: Some(notice.created_at),
                        })
                        .await;
                    match restored {
                        Ok((row, _)) => {
                            let topic = state.store.community_topic(row.topic_id).await?;
                            announce(&state, topic.group_id, topic.id).await;
                        }
                        // Removed or moderated again since, so the later
                        // decision is kept, with its own notice to appeal.
                        Err(kinlink_store::StoreError::Conflict { .. }) => {}
                        Err(other) => return Err(other.into()),
                    }
                }
            }
            Some(NoticeKind::Suspension) => {
                let running = state
                    .store
                    .community_member(member)
                    .await?
                    .and_then(|row| row.suspended_until)
                    .is_some_and(|until| until > now);
                if running {
                    state.store.set_community_suspension(member, None).await?;
                }
            }
            _ => {}
        }
    }
    audit(
        &state,
        user.user_id,
        if overturn {
            "community.appeal_overturned"
        } else {
            "community.appeal_upheld"
        },
        "community_notice",
        id,
        serde_json::json!({ "member": member }),
    )
    .await?;
    notify(&state, &[member], Template::CommunityDecision).await;
    Ok(web::Json(notice_view(decided, true)))
}
