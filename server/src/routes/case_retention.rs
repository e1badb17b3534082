//! The retention of an organisation's own cases: asking for a case to be
//! erased, the list of cases marked to go, keeping one, and legal holds.
//!
//! A marked case is hidden everywhere, from its own organisation's lists
//! too. Its managers find it only here, until the sweep anonymises it 14
//! days after the marking.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_core::case_retention::MarkReason;
use kinlink_core::permissions::Action;
use kinlink_core::retention::FINAL_STEP_AFTER;
use kinlink_store::case_retention::ErasureOutcome;
use kinlink_store::entity::case;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use super::cases::{CaseSummary, summary};
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::family_finding::{audit_case, staff_workplace};
use crate::letterbox::invalid;
use crate::state::AppState;

/// The maximum length of a legal hold's reason, in characters.
const MAX_HOLD_REASON: usize = 500;

/// A legal hold, as shown to the case's organisation.
#[derive(Serialize)]
pub struct LegalHold {
    since: DateTime<Utc>,
    by: Option<uuid::Uuid>,
    reason: String,
}

impl LegalHold {
    /// Returns a case's hold, if it has one.
    pub fn of(row: &case::Model) -> Option<LegalHold> {
        Some(LegalHold {
            since: row.held_at?,
            by: row.held_by,
            reason: row.hold_reason.clone()?,
        })
    }
}

/// A case marked to go, as its organisation's managers see it.
#[derive(Serialize)]
pub struct MarkedCase {
    #[serde(flatten)]
    case: CaseSummary,
    marked_at: DateTime<Utc>,
    /// `inactive`, `licence_ended` or `organisation_request`.
    reason: String,
    /// When the daily sweep anonymises it, unless a manager keeps it.
    final_step_at: DateTime<Utc>,
}

async fn marked_view(state: &AppState, row: &case::Model) -> Result<MarkedCase, ApiError> {
    let Some(marked_at) = row.marked_at else {
        return Err(ApiError::NotFound);
    };
    let organisation = kinlink_core::OrganisationId(row.organisation_id);
    Ok(MarkedCase {
        case: summary(state, row, organisation).await?,
        marked_at,
        reason: row.mark_reason.clone().unwrap_or_default(),
        final_step_at: marked_at + FINAL_STEP_AFTER,
    })
}

/// Lists the caller's organisation's cases marked to go, the earliest
/// marked first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn marked(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<MarkedCase>>, ApiError> {
    let workplace = staff_workplace(&state, &user, Action::EraseCase).await?;
    let mut cases = Vec::new();
    for row in state.store.marked_cases(workplace.id()).await? {
        cases.push(marked_view(&state, &row).await?);
    }
    Ok(web::Json(cases))
}

/// Loads a case of the caller's organisation, marked or not, after
/// checking the caller may take `action` on its cases.
async fn own_case(
    state: &AppState,
    user: &SignedIn,
    path: &str,
    action: Action,
) -> Result<(kinlink_core::OrganisationId, case::Model), ApiError> {
    let id: uuid::Uuid = super::parse_id(path)?;
    let workplace = staff_workplace(state, user, action).await?;
    match state.store.case(id).await? {
        Some(row) if row.organisation_id == workplace.id().0 => Ok((workplace.id(), row)),
        _ => Err(ApiError::NotFound),
    }
}

/// Asks for a case to be erased: it is marked at once, hidden everywhere
/// with its discussions, and anonymised 14 days later. A case on legal
/// hold is refused with the hold's reason.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn erase(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (owner, row) = own_case(&state, &user, &path, Action::EraseCase).await?;
    let now = Utc::now();
    match state.store.request_case_erasure(row.id, owner, now).await? {
        ErasureOutcome::Held { reason, since } => {
            info!(case = %row.id, "erasure rejected: the case is on legal hold");
            audit_case(
                &state,
                user.user_id,
                &row,
                "case.erasure_refused",
                serde_json::json!({ "held_since": since }),
            )
            .await?;
            Err(ApiError::LegalHold { reason, since })
        }
        ErasureOutcome::Marked(marked) => {
            audit_case(
                &state,
                user.user_id,
                &row,
                "retention.marked",
                serde_json::json!({
                    "rule": "family_finding_case",
                    "reason": MarkReason::OrganisationRequest.as_str(),
                    "final_step_after": now + FINAL_STEP_AFTER,
                }),
            )
            .await?;
            let left = kinlink_actors::retention::hide_discussions(
                &state.store,
                Some(&state.broker),
                &[row.id],
            )
            .await;
            for (conversation, member) in left {
                state.calls.member_removed(conversation, member);
            }
            info!(case = %row.id, "case marked for erasure");
            Ok(HttpResponse::Ok().json(marked_view(&state, &marked).await?))
        }
        ErasureOutcome::MarkedBefore(marked) => {
            Ok(HttpResponse::Ok().json(marked_view(&state, &marked).await?))
        }
    }
}

/// Keeps a case marked to go: the mark is lifted and the case counts as
/// active now.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn keep(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (owner, row) = own_case(&state, &user, &path, Action::EraseCase).await?;
    let Some(reason) = state.store.keep_case(row.id, owner, Utc::now()).await? else {
        return Err(ApiError::Conflict(
            "this case is not marked to go, so there is nothing to keep".to_owned(),
        ));
    };
    audit_case(
        &state,
        user.user_id,
        &row,
        "retention.kept",
        serde_json::json!({ "reason": reason }),
    )
    .await?;
    info!(case = %row.id, "marked case kept");
    Ok(HttpResponse::NoContent().finish())
}

/// The body of a legal hold.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldBody {
    reason: String,
}

/// Puts a case on legal hold with a reason. A held case is kept whole: no
/// retention rule marks it and no erasure goes ahead until the hold is
/// lifted. A mark it had is lifted.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn hold(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<HoldBody>,
) -> Result<HttpResponse, ApiError> {
    let (owner, row) = own_case(&state, &user, &path, Action::HoldCase).await?;
    let reason = body.reason.trim();
    if reason.is_empty() {
        return Err(invalid(
            "reason",
            "is required: say why the case must be kept",
        ));
    }
    kinlink_core::letterbox::free_text("reason", reason, MAX_HOLD_REASON)?;
    let now = Utc::now();
    let Some(mark_lifted) = state
        .store
        .hold_case(row.id, owner, user.user_id, reason, now)
        .await?
    else {
        return Err(ApiError::Conflict(
            "this case is on legal hold already; lift that hold to give another reason".to_owned(),
        ));
    };
    audit_case(
        &state,
        user.user_id,
        &row,
        "case.held",
        serde_json::json!({ "mark_lifted": mark_lifted }),
    )
    .await?;
    info!(case = %row.id, "case put on legal hold");
    let row = state.store.case(row.id).await?.ok_or(ApiError::NotFound)?;
    Ok(HttpResponse::Ok().json(LegalHold::of(&row)))
}

/// Lifts a case's legal hold; the retention rules count from now.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn release(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (owner, row) = own_case(&state, &user, &path, Action::HoldCase).await?;
    if !state
        .store
        .release_case_hold(row.id, owner, Utc::now())
        .await?
    {
        return Err(ApiError::Conflict(
            "this case is not on legal hold".to_owned(),
        ));
    }
    audit_case(
        &state,
        user.user_id,
        &row,
        "case.hold_lifted",
        serde_json::json!({}),
    )
    .await?;
    info!(case = %row.id, "legal hold lifted");
    Ok(HttpResponse::NoContent().finish())
}
