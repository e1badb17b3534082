//! Sign in, sign out, and who I am.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use super::JsonBody;
use crate::auth::{self, Credentials, SignedIn, session_cookie};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignInBody {
    email: String,
    password: String,
    totp_code: Option<String>,
    recovery_code: Option<String>,
}

#[derive(Serialize)]
pub struct UserView {
    id: kinlink_core::UserId,
    display_name: String,
    roles: Vec<kinlink_core::permissions::Role>,
    organisation_id: Option<kinlink_core::OrganisationId>,
}

#[derive(Serialize)]
pub struct UserEnvelope {
    user: UserView,
}

#[instrument(skip_all)]
pub async fn sign_in(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: JsonBody<SignInBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let credentials = Credentials {
        email: body.email,
        password: body.password,
        totp_code: body.totp_code,
        recovery_code: body.recovery_code,
    };
    let signed_in = auth::sign_in(&state, &request, credentials).await?;
    let user_id = kinlink_core::UserId(signed_in.user.id);
    let (roles, organisation_id) = auth::roles_of(&state, user_id).await?;
    let view = UserView {
        id: user_id,
        display_name: signed_in.user.display_name.clone(),
        roles,
        organisation_id,
    };
    let cookie = session_cookie(&state, signed_in.token.to_text().to_string());
    Ok(HttpResponse::Ok()
        .cookie(cookie)
        .json(UserEnvelope { user: view }))
}

#[instrument(skip_all)]
pub async fn sign_out(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<HttpResponse, ApiError> {
    super::sessions::end_sessions(&state, user.user_id, vec![user.session_id]).await?;
    Ok(HttpResponse::NoContent()
        .cookie(session_cookie(&state, String::new()))
        .finish())
}

#[instrument(skip_all)]
pub async fn me(user: SignedIn) -> web::Json<UserEnvelope> {
    web::Json(UserEnvelope {
        user: UserView {
            id: user.user_id,
            display_name: user.display_name,
            roles: user.roles,
            organisation_id: user.organisation_id,
        },
    })
}
