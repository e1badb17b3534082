//! My notification preferences: email at once or a daily digest, and the
//! digest's local hour and time zone.

use actix_web::{HttpResponse, web};
use kinlink_core::notices::Preferences;
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::state::AppState;

/// Preferences as the API spells them. `marketing` may be left out of a
/// change, which keeps it as it is.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    delivery: String,
    digest_hour: i64,
    time_zone: String,
    marketing: Option<bool>,
}

impl PreferencesBody {
    fn new(preferences: Preferences, marketing: bool) -> Self {
        PreferencesBody {
            delivery: preferences.delivery.as_str().to_owned(),
            digest_hour: i64::from(preferences.digest_hour),
            time_zone: preferences.time_zone.name().to_owned(),
            marketing: Some(marketing),
        }
    }
}

/// Returns my notification preferences.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn get(state: web::Data<AppState>, user: SignedIn) -> Result<HttpResponse, ApiError> {
    let preferences = state.store.preferences(user.user_id).await?;
    let marketing = state.store.marketing_opt_in(user.user_id).await?;
    Ok(HttpResponse::Ok().json(PreferencesBody::new(preferences, marketing)))
}

/// Replaces my notification preferences after checking every field.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn put(
    state: web::Data<AppState>,
    user: SignedIn,
    body: JsonBody<PreferencesBody>,
) -> Result<HttpResponse, ApiError> {
    let preferences = Preferences::parse(&body.delivery, body.digest_hour, &body.time_zone)?;
    state
        .store
        .set_preferences(user.user_id, preferences)
        .await?;
    if let Some(marketing) = body.marketing {
        state
            .store
            .set_marketing_opt_in(user.user_id, marketing, chrono::Utc::now())
            .await?;
    }
    info!(
        delivery = preferences.delivery.as_str(),
        "notification preferences changed"
    );
    let marketing = state.store.marketing_opt_in(user.user_id).await?;
    Ok(HttpResponse::Ok().json(PreferencesBody::new(preferences, marketing)))
}
