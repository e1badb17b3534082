//! My sessions, and ending them.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_actors::events::Event;
use kinlink_core::permissions::{self, Action, Relationship};
use kinlink_core::{SessionId, UserId};
use serde::Serialize;
use tracing::instrument;

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Serialize)]
pub struct SessionView {
    id: SessionId,
    created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    user_agent: String,
    current: bool,
}

#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<SessionView>>, ApiError> {
    permissions::check(
        &user.roles,
        Action::ManageOwnSessions,
        &[Relationship::Themselves],
    )
    .map_err(|_denied| ApiError::NotFound)?;
    let rows = state.store.sessions_of(user.user_id).await?;
    let views = rows
        .into_iter()
        .map(|row| SessionView {
            id: SessionId(row.id),
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            user_agent: row.user_agent,
            current: row.id == user.session_id.0,
        })
        .collect();
    Ok(web::Json(views))
}

#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn revoke(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    permissions::check(
        &user.roles,
        Action::ManageOwnSessions,
        &[Relationship::Themselves],
    )
    .map_err(|_denied| ApiError::NotFound)?;
    let id: SessionId = super::parse_id(&path)?;
    if !state.store.delete_session(user.user_id, id).await? {
        return Err(ApiError::NotFound);
    }
    state
        .broker
        .publish(Event::SessionsEnded {
            session_ids: vec![id],
        })
        .await;
    Ok(HttpResponse::NoContent().finish())
}

/// Deletes sessions and closes their live sockets on every node.
pub async fn end_sessions(
    state: &AppState,
    user: UserId,
    ids: Vec<SessionId>,
) -> Result<(), ApiError> {
    for id in &ids {
        state.store.delete_session(user, *id).await?;
    }
    state
        .broker
        .publish(Event::SessionsEnded { session_ids: ids })
        .await;
    Ok(())
}
