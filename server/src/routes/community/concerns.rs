//! Safeguarding concerns: the one way community data reaches an
//! organisation. A moderator passes a post to an organisation that places
//! children, with a reason; the organisation's managers are notified and
//! read the concern, with the post's text, its topic and the account that
//! wrote it. The member is told, unless the moderator records why telling
//! them would put a child at risk. Each step is audited.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::community::{NoticeKind, SHORT_TEXT_MAX_CHARS, check_text};
use kinlink_core::notices::Template;
use kinlink_core::organisations::places_children;
use kinlink_core::permissions::{self, Action, Relationship, Role};
use kinlink_core::{OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::community::NewNotice;
use kinlink_store::entity::community_concern;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use crate::auth::SignedIn;
use crate::community::{Authors, Standing, audit, notify};
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::routes::JsonBody;
use crate::state::AppState;

/// An organisation a concern may go to.
#[derive(Serialize)]
pub struct ConcernOrganisation {
    id: uuid::Uuid,
    name: String,
    kind: String,
}

/// Lists the organisations that place children, for a moderator choosing
/// where a concern goes.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn organisations(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<ConcernOrganisation>>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::RaiseSafeguardingConcern)?;
    let mut listed: Vec<ConcernOrganisation> = state
        .store
        .organisations()
        .await?
        .into_iter()
        .filter(|row| places_children(&row.kind))
        .map(|row| ConcernOrganisation {
            id: row.id,
            name: row.name,
            kind: row.kind,
        })
        .collect();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(web::Json(listed))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConcernBody {
    organisation_id: uuid::Uuid,
    reason: String,
    /// Whether the member who wrote the post is told.
    tell_member: bool,
    /// Why telling them would put a child at risk; required when they are
    /// not told.
    #[serde(default)]
    not_told_because: Option<String>,
}

/// A concern as the moderator who raised it, or the organisation, sees it.
#[derive(Serialize)]
pub struct ConcernView {
    id: uuid::Uuid,
    post_id: uuid::Uuid,
    organisation_id: uuid::Uuid,
    reason: String,
    member_told: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_told_because: Option<String>,
    topic_title: String,
    post_body: Option<String>,
    post_created_at: DateTime<Utc>,
    /// The community display name of the post's author.
    member_display_name: String,
    /// The account that wrote the post, for the organisation to act on;
    /// absent once that account is gone.
    #[serde(skip_serializing_if = "Option::is_none")]
    account: Option<AccountView>,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct AccountView {
    name: String,
    email: String,
}

/// Checks why the member is not told: required when they are not, and
/// refused when they are.
fn not_told_because(tell_member: bool, text: Option<&str>) -> Result<Option<String>, ApiError> {
    match (tell_member, text) {
        (true, None | Some("")) => Ok(None),
        (true, Some(_)) => Err(invalid(
            "not_told_because",
            "give it only when the member is not told",
        )),
        (false, None | Some("")) => Err(invalid(
            "not_told_because",
            "say why telling the member would put a child at risk",
        )),
        (false, Some(text)) => Ok(Some(check_text(
            "not_told_because",
            text,
            SHORT_TEXT_MAX_CHARS,
        )?)),
    }
}

/// Emails the organisation's active managers that a concern waits.
async fn notify_managers(state: &AppState, organisation: OrganisationId) -> Result<(), ApiError> {
    let managers: Vec<UserId> = state
        .store
        .workers_of(organisation)
        .await?
        .into_iter()
        .filter(|worker| worker.role == Role::Manager && worker.status == "active")
        .map(|worker| worker.user_id)
        .collect();
    notify(state, &managers, Template::SafeguardingConcern).await;
    Ok(())
}

fn already_raised() -> ApiError {
    ApiError::Conflict("this post has been passed to this organisation already".to_owned())
}

/// Passes a post to an organisation as a safeguarding concern
/// (moderators).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn raise(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<ConcernBody>,
) -> Result<HttpResponse, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    standing.require_moderation(Action::RaiseSafeguardingConcern)?;
    let post_id: uuid::Uuid = crate::routes::parse_id(&path)?;
    let body = body.into_inner();
    let reason = check_text("reason", &body.reason, SHORT_TEXT_MAX_CHARS)?;
    let not_told_because = not_told_because(body.tell_member, body.not_told_because.as_deref())?;
    let organisation = state
        .store
        .organisation(OrganisationId(body.organisation_id))
        .await
        .map_err(|error| match error {
            kinlink_store::StoreError::NotFound { .. } => invalid(
                "organisation_id",
                format!("{} is not an organisation", body.organisation_id),
            ),
            other => other.into(),
        })?;
    if !places_children(&organisation.kind) {
        return Err(invalid(
            "organisation_id",
            format!(
                "{} does not place children, so it takes no safeguarding concern",
                body.organisation_id
            ),
        ));
    }
    let post = state.store.community_post(post_id).await?;
    let topic = state.store.community_topic(post.topic_id).await?;
    if state
        .store
        .community_concern_exists(post.id, OrganisationId(organisation.id))
        .await?
    {
        return Err(already_raised());
    }
    let mut authors = Authors::default();
    let author = authors.get(&state, post.author_id).await?;
    let now = Utc::now();
    let concern = community_concern::Model {
        id: uuid::Uuid::now_v7(),
        post_id: post.id,
        organisation_id: organisation.id,
        reason: reason.clone(),
        member_told: body.tell_member,
        not_told_because,
        topic_title: topic.title.clone(),
        post_body: post.body.clone(),
        post_created_at: post.created_at,
        member_user_id: post.author_id,
        member_display_name: author.display_name,
        raised_by: user.user_id.0,
        created_at: now,
    };
    let told = post
        .author_id
        .filter(|_| body.tell_member)
        .map(UserId)
        .filter(|author| *author != user.user_id);
    let notice = told.map(|member| NewNotice {
        user: member,
        kind: NoticeKind::ConcernRaised,
        reason: format!(
            "A moderator passed this post to {} as a safeguarding concern: {reason}",
            organisation.name
        ),
        post_id: Some(post.id),
        topic_id: Some(topic.id),
        until: None,
        moderator: user.user_id,
        at: now,
    });
    state
        .store
        .raise_community_concern(concern.clone(), notice)
        .await
        .map_err(|error| match error {
            kinlink_store::StoreError::Conflict { .. } => already_raised(),
            other => other.into(),
        })?;
    let detail = serde_json::json!({
        "post": post.id,
        "organisation": organisation.id,
        "member_told": body.tell_member,
    });
    audit(
        &state,
        user.user_id,
        "community.concern_raised",
        "community_concern",
        concern.id,
        detail.clone(),
    )
    .await?;
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(OrganisationId(organisation.id)),
            action: "community.concern_received",
            subject_kind: "community_concern",
            subject_id: Some(concern.id),
            detail,
            at: now,
        })
        .await?;
    notify_managers(&state, OrganisationId(organisation.id)).await?;
    if let Some(member) = told {
        notify(&state, &[member], Template::CommunityDecision).await;
    }
    info!(concern = %concern.id, organisation = %organisation.id, "safeguarding concern raised");
    Ok(HttpResponse::Created().json(view(&state, concern).await?))
}

async fn view(
    state: &AppState,
    concern: community_concern::Model,
) -> Result<ConcernView, ApiError> {
    let account = match concern.member_user_id {
        Some(id) => match state.store.user(UserId(id)).await {
            Ok(row) => Some(AccountView {
                name: row.display_name,
                email: row.email,
            }),
            Err(kinlink_store::StoreError::NotFound { .. }) => None,
            Err(other) => return Err(other.into()),
        },
        None => None,
    };
    Ok(ConcernView {
        id: concern.id,
        post_id: concern.post_id,
        organisation_id: concern.organisation_id,
        reason: concern.reason,
        member_told: concern.member_told,
        not_told_because: concern.not_told_because,
        topic_title: concern.topic_title,
        post_body: concern.post_body,
        post_created_at: concern.post_created_at,
        member_display_name: concern.member_display_name,
        account,
        created_at: concern.created_at,
    })
}

/// Lists the concerns passed to an organisation, newest first (its
/// managers).
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<ConcernView>>, ApiError> {
    let organisation: OrganisationId = crate::routes::parse_id(&path)?;
    let roles: Vec<Role> = state
        .store
        .grants(user.user_id)
        .await?
        .into_iter()
        .filter(|grant| grant.organisation_id == organisation)
        .map(|grant| grant.role)
        .collect();
    // Only the organisation's workers learn that the list exists.
    if !roles.iter().any(|role| role.is_worker()) {
        return Err(ApiError::NotFound);
    }
    permissions::check(
        &roles,
        Action::ReadSafeguardingConcerns,
        &[Relationship::OwningOrganisationStaff],
    )
    .map_err(|_denied| ApiError::Forbidden)?;
    let mut views = Vec::new();
    for concern in state.store.community_concerns_of(organisation).await? {
        views.push(view(&state, concern).await?);
    }
    Ok(web::Json(views))
}
