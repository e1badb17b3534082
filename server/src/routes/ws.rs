//! The WebSocket endpoint: authenticate by the session cookie and check
//! Origin before the upgrade, then hand the socket to a session actor.

use actix::Actor;
use actix_web::error::PayloadError;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use futures_util::Stream;
use kinlink_actors::keyring::Keyring;
use kinlink_actors::session::{Identity, SessionActor};
use tracing::instrument;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::frame_guard::FrameGuard;
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
    let max_frame = state.config.websocket.max_frame_bytes;
    let guarded = FrameGuard::new(body.into_inner(), max_frame);
    let boxed: std::pin::Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>> =
        Box::pin(guarded);
    let mut payload = actix_web::dev::Payload::Stream { payload: boxed };
    let body = web::Payload::from_request(&request, &mut payload).await?;
    let (response, socket, incoming) = actix_ws::handle(&request, body)?;
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
