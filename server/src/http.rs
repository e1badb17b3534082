//! Request-wide behaviour: a request id echoed in `X-Request-Id` and
//! carried by a span, security headers on every response, the Origin check
//! on every state-changing request, and the client address as decided by
//! the trusted proxies.

use std::net::IpAddr;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, ResponseError, web};
use tracing::Instrument;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// The policy for every response: only this origin's scripts, no inline
/// script or style, never framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// Wraps every request: id, span, Origin check, headers.
pub async fn request_layer(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    kinlink_actors::metrics::HTTP_REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let request_id = Uuid::new_v4();
    // The route pattern, not the path: a path may carry a link token.
    let route = request
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let span =
        tracing::info_span!("request", request_id = %request_id, method = %request.method(), route);

    // Mail programs post one-click unsubscribes without an Origin; the
    // token in the path is what authorises that request.
    let one_click = route == crate::routes::unsubscribe::ONE_CLICK_ROUTE;
    let rejected =
        changes_state(request.method()) && !one_click && !origin_allowed(request.request());
    let mut response = if rejected {
        let http_request = request.request().clone();
        let response = ApiError::OriginRejected
            .error_response()
            .map_into_right_body();
        ServiceResponse::new(http_request, response)
    } else {
        next.call(request)
            .instrument(span.clone())
            .await?
            .map_into_left_body()
    };

    span.in_scope(|| {
        tracing::info!(status = response.status().as_u16(), "request served");
    });
    let headers = response.headers_mut();
    let fixed = [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("referrer-policy", "no-referrer"),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("cache-control", "no-store"),
    ];
    for (name, value) in fixed {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Returns whether the request's Origin is the server's public origin.
pub fn origin_allowed(request: &HttpRequest) -> bool {
    let Some(state) = request.app_data::<web::Data<AppState>>() else {
        return false;
    };
    request
        .headers()
        .get("origin")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|origin| origin == state.public_origin)
}

/// Returns the client's address: the peer, or, when the peer is a trusted
/// proxy, the last address in `X-Forwarded-For` that is not one.
pub fn client_address(request: &HttpRequest, trusted: &[IpAddr]) -> String {
    let peer = request.peer_addr().map(|address| address.ip());
    let Some(peer) = peer else {
        return "unknown".to_owned();
    };
    if !trusted.contains(&peer) {
        return peer.to_string();
    }
    let forwarded = request
        .headers()
        .get("x-forwarded-for")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    forwarded
        .split(',')
        .rev()
        .filter_map(|part| part.trim().parse::<IpAddr>().ok())
        .find(|address| !trusted.contains(address))
        .unwrap_or(peer)
        .to_string()
}
