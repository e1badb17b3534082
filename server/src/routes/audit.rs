//! The organisation's audit trail, for its managers. Rows name people by
//! their user id only.

use actix_web::web;
use chrono::{DateTime, Utc};
use kinlink_core::permissions::Action;
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::staff_workplace;
use crate::letterbox::invalid;
use crate::state::AppState;

/// Most rows one request returns.
const MAX_LIMIT: u64 = 200;
/// Rows returned when the request names no limit.
const DEFAULT_LIMIT: u64 = 50;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    before: Option<i64>,
    limit: Option<u64>,
}

/// One row of the trail.
#[derive(Serialize)]
pub struct AuditRow {
    seq: Option<i64>,
    occurred_at: DateTime<Utc>,
    actor_id: Option<uuid::Uuid>,
    action: String,
    subject_kind: String,
    subject_id: Option<uuid::Uuid>,
    detail: serde_json::Value,
}

/// Lists the caller's organisation's audit trail, newest first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<Vec<AuditRow>>, ApiError> {
    let workplace = staff_workplace(&state, &user, Action::ReadAuditTrail).await?;
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(invalid("limit", format!("must be from 1 to {MAX_LIMIT}")));
    }
    if query.before.is_some_and(|before| before < 1) {
        return Err(invalid("before", "must be 1 or more"));
    }
    let rows = state
        .store
        .organisation_audit(workplace.id(), query.before, limit)
        .await?;
    Ok(web::Json(
        rows.into_iter()
            .map(|row| AuditRow {
                seq: row.seq,
                occurred_at: row.occurred_at,
                actor_id: row.actor_id,
                action: row.action,
                subject_kind: row.subject_kind,
                subject_id: row.subject_id,
                detail: row.detail,
            })
            .collect(),
    ))
}
