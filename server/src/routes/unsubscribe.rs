//! Unsubscribing from marketing email with the one-time link it carries.
//!
//! A mail program that offers one-click unsubscribe posts
//! `List-Unsubscribe=One-Click` to the address in the `List-Unsubscribe`
//! header (RFC 8058), with the token in the path. It sends no `Origin`, so
//! that route alone is exempt from the Origin check. The access log
//! records the route pattern, never the path. A person who opens the link
//! in the email's body reaches the web page, which posts the token in the
//! body instead.

use actix_web::{HttpResponse, web};
use chrono::Utc;
use kinlink_core::crypto::token::Token;
use kinlink_store::marketing::Unsubscribed;
use serde::Deserialize;
use serde_json::json;
use tracing::{info, instrument};

use super::JsonBody;
use crate::error::ApiError;
use crate::state::AppState;

/// The route that mail programs post to; the Origin check skips it.
pub const ONE_CLICK_ROUTE: &str = "/api/v1/unsubscribe/{token}";

async fn use_link(state: &AppState, text: &str) -> Result<HttpResponse, ApiError> {
    let Some(token) = Token::parse(text) else {
        return Err(ApiError::Unsubscribe(Unsubscribed::Unknown));
    };
    let outcome = state.store.unsubscribe(&token.hash(), Utc::now()).await?;
    match outcome {
        Unsubscribed::Now | Unsubscribed::Already => {
            if outcome == Unsubscribed::Now {
                info!("unsubscribed from marketing email");
            }
            Ok(HttpResponse::Ok().json(json!({ "marketing": false })))
        }
        problem => Err(ApiError::Unsubscribe(problem)),
    }
}

/// One-click unsubscribe from the `List-Unsubscribe` header.
#[instrument(skip_all)]
pub async fn one_click(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    use_link(&state, &path).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    token: String,
}

/// Unsubscribe from the web page, with the token in the body.
#[instrument(skip_all)]
pub async fn from_page(
    state: web::Data<AppState>,
    body: JsonBody<TokenBody>,
) -> Result<HttpResponse, ApiError> {
    use_link(&state, &body.token).await
}
