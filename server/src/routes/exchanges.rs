//! The exchanges that need attention in the links I supervise: due soon,
//! due or overdue, and not yet answered by a letter. With the review
//! queue, this is the practitioner's to-do list.

use actix_web::web;
use chrono::{NaiveDate, NaiveTime, Utc};
use kinlink_core::ConversationId;
use kinlink_core::letterbox::Exchange;
use kinlink_core::local_time::{SCHEDULE_ZONE, on_day};
use kinlink_core::permissions::Action;
use kinlink_core::reminders::{EARLY_DAYS, open_exchanges};
use serde::Serialize;
use tracing::instrument;

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox;
use crate::state::AppState;

#[derive(Serialize)]
pub struct ExchangeView {
    conversation_id: ConversationId,
    side: &'static str,
    due_on: NaiveDate,
    state: &'static str,
}

/// Lists the open exchanges of the links I supervise, soonest first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<ExchangeView>>, ApiError> {
    let today = Utc::now().with_timezone(&SCHEDULE_ZONE).date_naive();
    let mut open = Vec::new();
    for summary in state.store.conversations_of(user.user_id).await? {
        let id = ConversationId(summary.conversation.id);
        let Ok(link) = letterbox::link(&state, &user, id).await else {
            continue;
        };
        if !link.supervises() || link.require(&user, Action::ReviewLetter).is_err() {
            continue;
        }
        let Some(agreement) = &link.agreement else {
            continue;
        };
        if agreement.row.status != "active" || agreement.row.on_request {
            continue;
        }
        let exchanges: Vec<Exchange> = serde_json::from_str(&agreement.row.exchanges)
            .map_err(|error| ApiError::Internal(error.into()))?;
        for exchange in open_exchanges(&exchanges, today) {
            let writers: Vec<uuid::Uuid> = agreement
                .parties_of(exchange.side)
                .into_iter()
                .map(|user| user.0)
                .collect();
            let since = on_day(
                SCHEDULE_ZONE,
                exchange.due_on - chrono::Duration::days(EARLY_DAYS),
                NaiveTime::MIN,
            );
            if state.store.wrote_since(id, &writers, since).await? {
                continue;
            }
            open.push(ExchangeView {
                conversation_id: id,
                side: exchange.side.as_str(),
                due_on: exchange.due_on,
                state: exchange.kind.as_str(),
            });
        }
    }
    open.sort_by_key(|view| (view.due_on, view.side));
    Ok(web::Json(open))
}
