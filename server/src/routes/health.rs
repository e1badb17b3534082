//! Liveness, readiness, metrics and the OpenAPI document.

use actix_web::{HttpResponse, web};

use crate::state::AppState;

/// The OpenAPI document, kept beside the protocol description.
const OPENAPI: &str = include_str!("../../../docs/openapi.json");

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if let Err(error) = state.store.ping().await {
        tracing::warn!(%error, "database is not responding");
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable\n");
    }
    if let Err(error) = state.broker.ping().await {
        tracing::warn!(%error, "redis is not responding");
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("redis unavailable\n");
    }
    HttpResponse::Ok()
        .content_type("text/plain")
        .body("ready\n")
}

pub async fn metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(kinlink_actors::metrics::render())
}

pub async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(OPENAPI)
}
