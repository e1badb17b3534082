//! A community partner's membership list: its moderators upload it as CSV,
//! it replaces the list before it whole, and it verifies the waiting
//! applicants it names with the same email.

use actix_web::web;
use chrono::Utc;
use futures_util::StreamExt;
use kinlink_core::OrganisationId;
use kinlink_core::community::{MAX_LIST_BYTES, parse_membership_list};
use kinlink_core::notices::Template;
use kinlink_core::permissions::Action;
use serde::Serialize;
use tracing::{info, instrument};

use crate::auth::SignedIn;
use crate::community::{Standing, audit, notify};
use crate::error::ApiError;
use crate::letterbox::invalid;
use crate::state::AppState;

#[derive(Serialize)]
pub struct ImportView {
    entries: usize,
    verified: usize,
}

/// Reads the body up to the list's limit; a longer body is refused as
/// soon as it passes the limit, without reading the rest.
async fn read_limited(mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| invalid("membership_list", error.to_string()))?;
        if bytes.len() + chunk.len() > MAX_LIST_BYTES {
            return Err(invalid(
                "membership_list",
                format!("the list is over the limit of {MAX_LIST_BYTES} bytes"),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Replaces a partner's membership list.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn replace(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    payload: web::Payload,
) -> Result<web::Json<ImportView>, ApiError> {
    let standing = Standing::of(&state, &user).await?;
    let partner: OrganisationId = crate::routes::parse_id(&path)?;
    if !standing.partners.contains(&partner) {
        // Another partner's list is theirs alone: it is not found here.
        standing.require_inside()?;
        return Err(ApiError::NotFound);
    }
    standing.require(
        Action::VerifyMembers,
        &[kinlink_core::permissions::Relationship::PartnerModerator],
    )?;
    let bytes = read_limited(payload).await?;
    let entries = parse_membership_list(&bytes)?;
    let import = state
        .store
        .replace_membership_list(partner.0, entries, Utc::now())
        .await?;
    info!(
        entries = import.entries,
        verified = import.verified.len(),
        "membership list replaced"
    );
    audit(
        &state,
        user.user_id,
        "community.list_replaced",
        "organisation",
        partner.0,
        serde_json::json!({ "entries": import.entries, "verified": import.verified.len() }),
    )
    .await?;
    for member in &import.verified {
        audit(
            &state,
            user.user_id,
            "community.application_verified",
            "user",
            member.0,
            serde_json::json!({ "by_list": true }),
        )
        .await?;
    }
    notify(&state, &import.verified, Template::CommunityDecision).await;
    Ok(web::Json(ImportView {
        entries: import.entries,
        verified: import.verified.len(),
    }))
}
