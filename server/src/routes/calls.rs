//! Live calls over HTTP: sessions arranged ahead of time, and the record
//! of past calls. The calls themselves run over the WebSocket.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Duration, Timelike, Utc};
use kinlink_core::permissions::Action;
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::call_schedule::{ScheduleLimits, Scheduled};
use kinlink_store::conversations::MemberView;
use kinlink_store::entity::scheduled_call;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use super::conversations::authorise;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::state::AppState;

/// The limits on arranging sessions in one conversation: at most 20 not yet
/// due, and at most 40 arranged in a day, since each emails every member.
const LIMITS: ScheduleLimits = ScheduleLimits {
    upcoming: 20,
    per_day: 40,
};
/// How far ahead a session may be arranged.
const MAX_AHEAD_DAYS: i64 = 366;
/// How long after its start a session still shows as arranged, so that
/// someone who is late still finds it.
const SHOWN_AFTER_START: Duration = Duration::hours(2);
/// How many past calls the record lists.
const RECORD_CALLS: u64 = 20;
/// How many steps of each call the record lists.
const RECORD_STEPS: u64 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// When the session starts, as an RFC 3339 time.
    starts_at: String,
}

#[derive(Serialize)]
pub struct ScheduledView {
    id: uuid::Uuid,
    conversation_id: uuid::Uuid,
    starts_at: DateTime<Utc>,
    scheduled_by: uuid::Uuid,
    scheduled_by_name: String,
    created_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct CallRecordView {
    id: uuid::Uuid,
    host_id: uuid::Uuid,
    started_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    end_reason: Option<String>,
    events: Vec<CallEventView>,
}

#[derive(Serialize)]
pub struct CallEventView {
    at: DateTime<Utc>,
    kind: String,
    actor_id: Option<uuid::Uuid>,
    subject_id: Option<uuid::Uuid>,
}

/// Returns the members other than `except`.
fn others(members: &[MemberView], except: UserId) -> Vec<UserId> {
    members
        .iter()
        .map(|member| member.user_id)
        .filter(|member| *member != except)
        .collect()
}

/// Returns `409` when the conversation is a contact link that is
/// suspended or ended.
async fn require_open(state: &AppState, conversation: ConversationId) -> Result<(), ApiError> {
    if state.store.link_open(conversation).await? {
        Ok(())
    } else {
        Err(ApiError::Conflict(
            "the contact link is suspended or ended, so it has no calls".to_owned(),
        ))
    }
}

/// Parses `starts_at`, which must lie ahead of `now` by at most
/// [`MAX_AHEAD_DAYS`].
fn start_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let starts_at = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_invalid| {
            invalid(
                "starts_at",
                "must be a date and time in RFC 3339 form, such as 2027-01-15T14:00:00Z",
            )
        })?
        .with_timezone(&Utc);
    // chrono reads a leap second (`:60`) as a nanosecond count past a
    // billion, which browsers cannot parse back.
    if starts_at.nanosecond() >= 1_000_000_000 {
        return Err(invalid("starts_at", "must not be a leap second"));
    }
    // Whole seconds, so the time in the response is the time every database stores.
    let starts_at = starts_at.with_nanosecond(0).unwrap_or(starts_at);
    if starts_at <= now {
        return Err(invalid("starts_at", "must be in the future"));
    }
    if starts_at > now + Duration::days(MAX_AHEAD_DAYS) {
        return Err(invalid(
            "starts_at",
            format!("must be at most {MAX_AHEAD_DAYS} days ahead"),
        ));
    }
    Ok(starts_at)
}

/// Returns the views of `rows`, with the names of the conversation's
/// `members` who arranged them.
fn view(members: &[MemberView], rows: Vec<scheduled_call::Model>) -> Vec<ScheduledView> {
    rows.into_iter()
        .map(|row| ScheduledView {
            id: row.id,
            conversation_id: row.conversation_id,
            starts_at: row.starts_at,
            scheduled_by: row.scheduled_by,
            scheduled_by_name: members
                .iter()
                .find(|member| member.user_id.0 == row.scheduled_by)
                .map(|member| member.display_name.clone())
                .unwrap_or_default(),
            created_at: row.created_at,
        })
        .collect()
}

/// Arranges a session and emails every other member an invitation.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn schedule(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<ScheduleBody>,
) -> Result<HttpResponse, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    authorise(&state, &user, id, Action::JoinCall).await?;
    authorise(&state, &user, id, Action::ScheduleCall)
        .await
        .map_err(|_denied| ApiError::Forbidden)?;

    let now = Utc::now();
    let starts_at = start_time(&body.starts_at, now)?;
    require_open(&state, id).await?;
    let conversation = state.store.conversation(id).await?;
    let row = scheduled_call::Model {
        id: uuid::Uuid::now_v7(),
        conversation_id: id.0,
        scheduled_by: user.user_id.0,
        starts_at,
        created_at: now,
        cancelled_at: None,
        cancelled_by: None,
    };

    let members = state.store.members(id).await?;
    let invitees = others(&members, user.user_id);
    match state
        .store
        .schedule_call(row.clone(), &invitees, LIMITS)
        .await?
    {
        Scheduled::Stored => {}
        Scheduled::TooManyUpcoming => {
            return Err(ApiError::Conflict(format!(
                "the conversation already has {} sessions arranged; cancel one first",
                LIMITS.upcoming
            )));
        }
        Scheduled::TooManyToday => {
            return Err(ApiError::Conflict(format!(
                "{} sessions were arranged in this conversation in the last 24 hours; \
                 try again tomorrow",
                LIMITS.per_day
            )));
        }
    }
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(OrganisationId(conversation.organisation_id)),
            action: "call.scheduled",
            subject_kind: "conversation",
            subject_id: Some(id.0),
            detail: serde_json::json!({ "scheduled_call": row.id, "starts_at": starts_at }),
            at: now,
        })
        .await?;
    info!(conversation = %id, scheduled_call = %row.id, invited = invitees.len(), "call scheduled");
    let mut views = view(&members, vec![row]);
    Ok(HttpResponse::Created().json(views.pop()))
}

/// Lists the sessions arranged in a conversation, soonest first,
/// including those that started up to two hours ago.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list_scheduled(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<ScheduledView>>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    authorise(&state, &user, id, Action::JoinCall).await?;
    let rows = state
        .store
        .scheduled_calls(id, Utc::now() - SHOWN_AFTER_START)
        .await?;
    let members = state.store.members(id).await?;
    Ok(web::Json(view(&members, rows)))
}

/// Cancels an arranged session that has not started, and emails every
/// other member.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn cancel(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (conversation, scheduled) = path.into_inner();
    let id: ConversationId = super::parse_id(&conversation)?;
    let scheduled: uuid::Uuid = super::parse_id(&scheduled)?;
    authorise(&state, &user, id, Action::JoinCall).await?;
    authorise(&state, &user, id, Action::ScheduleCall)
        .await
        .map_err(|_denied| ApiError::Forbidden)?;

    let now = Utc::now();
    let members = state.store.members(id).await?;
    let notified = others(&members, user.user_id);
    let cancelled = state
        .store
        .cancel_scheduled_call(id, scheduled, user.user_id, now, &notified)
        .await?;
    if !cancelled {
        return Err(ApiError::NotFound);
    }

    let conversation = state.store.conversation(id).await?;
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(OrganisationId(conversation.organisation_id)),
            action: "call.schedule_cancelled",
            subject_kind: "conversation",
            subject_id: Some(id.0),
            detail: serde_json::json!({ "scheduled_call": scheduled }),
            at: now,
        })
        .await?;
    info!(conversation = %id, scheduled_call = %scheduled, "scheduled call cancelled");
    Ok(HttpResponse::NoContent().finish())
}

/// Lists a conversation's most recent calls, newest first, each with its
/// first steps: who joined, was admitted, paused, muted or removed, left,
/// and when.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn record(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<CallRecordView>>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    authorise(&state, &user, id, Action::JoinCall).await?;
    authorise(&state, &user, id, Action::ReadCallRecord)
        .await
        .map_err(|_denied| ApiError::Forbidden)?;
    let mut views = Vec::new();
    for call in state.store.calls_of(id, RECORD_CALLS).await? {
        let events = state
            .store
            .call_events(call.id, RECORD_STEPS)
            .await?
            .into_iter()
            .map(|event| CallEventView {
                at: event.at,
                kind: event.kind,
                actor_id: event.actor_id,
                subject_id: event.subject_id,
            })
            .collect();
        views.push(CallRecordView {
            id: call.id,
            host_id: call.host_id,
            started_at: call.started_at,
            ends_at: call.ends_at,
            ended_at: call.ended_at,
            end_reason: call.end_reason,
            events,
        });
    }
    Ok(web::Json(views))
}
