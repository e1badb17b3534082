//! The WebSocket endpoint: authenticate by the session cookie and check
//! Origin before the upgrade, then hand the socket to a session actor.

use actix::Actor;
use actix_web::{HttpRequest, HttpResponse, web};
use kinlink_actors::keyring::Keyring;
use kinlink_actors::session::{Identity, SessionActor};
use tracing::instrument;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::http::origin_allowed;
use crate::state::AppState;

#[instrument(skip_all)]
pub async fn connect(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, actix_web::Error> {
    let user = authenticate(&state, &request).await?;
    if !origin_allowed(&request) {
        return Err(ApiError::OriginRejected.into());
    }
    let (response, socket, incoming) = actix_ws::handle(&request, body)?;
    let max_frame = state.config.websocket.max_frame_bytes;
    let incoming = incoming
        .max_frame_size(max_frame)
        .aggregate_continuations()
        .max_continuation_size(max_frame);

    let identity = Identity {
        session_id: user.session_id,
        user_id: user.user_id,
        roles: user.roles,
    };
    let keyring = Keyring::new(user.user_id, user.private_key);
    SessionActor::new(identity, keyring, state.session_context(), socket, incoming).start();
    Ok(response)
}
