//! A contact link's agreement: its parties, schedule, media, review level,
//! read receipts and protected terms; and suspending or ending the link.

use std::collections::HashSet;

use actix_web::web;
use chrono::{DateTime, Utc};
use kinlink_actors::keyring::Keyring;
use kinlink_core::crypto::bindings;
use kinlink_core::identifying::{ProtectedTerm, TermKind};
use kinlink_core::letterbox::{
    self as terms, Exchange, LAST_EXCHANGE_DAY, LinkStatus, PartyRelationship, ReadReceipts,
    ReviewLevel, Schedule, Side, StatusChangeError, validate_terms,
};
use kinlink_core::permissions::Action;
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_media::kind::Category;
use kinlink_store::audit::AuditRecord;
use kinlink_store::letterbox::{Agreement, AgreementRecord, StatusChange};
use serde::{Deserialize, Serialize};
use tracing::{info, instrument};

use super::JsonBody;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox::{self, Link, invalid, media_of};
use crate::state::AppState;

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MediaBody {
    adoptive: Vec<String>,
    birth: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExchangeBody {
    month: i64,
    #[serde(default = "first_day")]
    day: i64,
    from: String,
}

fn first_day() -> i64 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    on_request: bool,
    exchanges: Vec<ExchangeBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyBody {
    user_id: String,
    side: String,
    relationship: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermBody {
    kind: String,
    text: String,
}

/// The agreement as the supervisor sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgreementBody {
    review_level: String,
    read_receipts: String,
    /// Whether the families may message each other live, unreviewed.
    #[serde(default)]
    live_messages: bool,
    /// The length of the link's video calls in minutes; absent or null
    /// means the longest the server allows.
    #[serde(default)]
    call_minutes: Option<i64>,
    schedule: ScheduleBody,
    media: MediaBody,
    parties: Vec<PartyBody>,
    protected_terms: Vec<TermBody>,
}

#[derive(Serialize)]
pub struct PartyView {
    user_id: UserId,
    display_name: String,
    side: String,
    relationship: String,
}

#[derive(Serialize)]
pub struct AgreementView {
    conversation_id: ConversationId,
    status: String,
    status_reason: Option<String>,
    review_level: String,
    read_receipts: String,
    live_messages: bool,
    call_minutes: Option<i32>,
    /// The maximum call length the server allows, in minutes, which
    /// `call_minutes` may not exceed.
    call_minutes_max: u32,
    schedule: Schedule,
    media: MediaBody,
    parties: Vec<PartyView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    protected_terms: Option<Vec<ProtectedTerm>>,
    updated_at: DateTime<Utc>,
}

/// An agreement checked whole, ready to store.
struct CheckedAgreement {
    review_level: ReviewLevel,
    read_receipts: ReadReceipts,
    live_messages: bool,
    call_minutes: Option<i32>,
    schedule: Schedule,
    adoptive_media: Vec<Category>,
    birth_media: Vec<Category>,
    parties: Vec<(UserId, Side, PartyRelationship)>,
    terms: Vec<ProtectedTerm>,
}

fn media_list(names: &[String]) -> Result<Vec<Category>, ApiError> {
    let mut chosen = Vec::new();
    for name in names {
        let category = Category::parse(name).ok_or_else(|| {
            invalid(
                "media",
                format!("unknown category {name:?}: expected document, image, audio or video"),
            )
        })?;
        if chosen.contains(&category) {
            return Err(invalid("media", format!("{name:?} is listed twice")));
        }
        chosen.push(category);
    }
    Ok(Category::ALL
        .into_iter()
        .filter(|category| chosen.contains(category))
        .collect())
}

fn stored_media(categories: &[Category]) -> String {
    categories
        .iter()
        .map(|category| category.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn term_kind(name: &str) -> Result<TermKind, ApiError> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).map_err(|_unknown| {
        invalid(
            "protected_terms",
            format!(
                "unknown kind {name:?}: expected surname, first_name, school, town, club or other"
            ),
        )
    })
}

/// Checks every field of the body against the link's current participants
/// and `max_call_minutes`, the longest call the server allows.
fn check_body(
    body: AgreementBody,
    participants: &[UserId],
    max_call_minutes: u32,
) -> Result<CheckedAgreement, ApiError> {
    let review_level = ReviewLevel::parse(&body.review_level).ok_or_else(|| {
        invalid(
            "review_level",
            format!(
                "unknown level {:?}: expected every_item, first_exchange or none",
                body.review_level
            ),
        )
    })?;
    let read_receipts = ReadReceipts::parse(&body.read_receipts).ok_or_else(|| {
        invalid(
            "read_receipts",
            format!(
                "unknown choice {:?}: expected everyone or practitioners",
                body.read_receipts
            ),
        )
    })?;
    let call_minutes = body
        .call_minutes
        .map(|minutes| terms::call_minutes(minutes, max_call_minutes))
        .transpose()?;
    let mut exchanges = Vec::with_capacity(body.schedule.exchanges.len());
    for exchange in &body.schedule.exchanges {
        let from = Side::parse(&exchange.from).ok_or_else(|| {
            invalid(
                "schedule",
                format!(
                    "unknown side {:?}: expected adoptive or birth",
                    exchange.from
                ),
            )
        })?;
        let month = u32::try_from(exchange.month)
            .ok()
            .filter(|month| (1..=12).contains(month))
            .ok_or_else(|| {
                invalid(
                    "schedule",
                    format!("month {} is not between 1 and 12", exchange.month),
                )
            })?;
        let day = u32::try_from(exchange.day)
            .ok()
            .filter(|day| (1..=LAST_EXCHANGE_DAY).contains(day))
            .ok_or_else(|| {
                invalid(
                    "schedule",
                    format!(
                        "day {} is not between 1 and {LAST_EXCHANGE_DAY}",
                        exchange.day
                    ),
                )
            })?;
        exchanges.push(Exchange { month, day, from });
    }
    let schedule = Schedule {
        on_request: body.schedule.on_request,
        exchanges,
    }
    .validated()?;
    let adoptive_media = media_list(&body.media.adoptive)?;
    let birth_media = media_list(&body.media.birth)?;

    let mut parties = Vec::with_capacity(body.parties.len());
    let mut seen = HashSet::new();
    for party in &body.parties {
        let user: UserId = party.user_id.parse().map_err(|_not_an_id| {
            invalid("parties", format!("{:?} is not a user id", party.user_id))
        })?;
        if !participants.contains(&user) {
            return Err(invalid(
                "parties",
                format!("{user} is not a participant of this contact link"),
            ));
        }
        if !seen.insert(user) {
            return Err(invalid("parties", format!("{user} is listed twice")));
        }
        let side = Side::parse(&party.side).ok_or_else(|| {
            invalid(
                "parties",
                format!("unknown side {:?}: expected adoptive or birth", party.side),
            )
        })?;
        let relationship = PartyRelationship::parse(&party.relationship).ok_or_else(|| {
            let names: Vec<&str> = PartyRelationship::ALL.iter().map(|r| r.as_str()).collect();
            invalid(
                "parties",
                format!(
                    "unknown relationship {:?}: expected one of {}",
                    party.relationship,
                    names.join(", ")
                ),
            )
        })?;
        if relationship.side() != side {
            return Err(invalid(
                "parties",
                format!(
                    "relationship {} belongs to the {} side, not the {} side",
                    relationship.as_str(),
                    relationship.side().as_str(),
                    side.as_str()
                ),
            ));
        }
        parties.push((user, side, relationship));
    }
    if let Some(missing) = participants.iter().find(|user| !seen.contains(*user)) {
        return Err(invalid(
            "parties",
            format!("participant {missing} of this contact link is not listed"),
        ));
    }

    let mut terms = Vec::with_capacity(body.protected_terms.len());
    for term in body.protected_terms {
        terms.push(ProtectedTerm {
            kind: term_kind(&term.kind)?,
            text: term.text,
        });
    }
    let terms = validate_terms(terms)?;
    Ok(CheckedAgreement {
        review_level,
        read_receipts,
        live_messages: body.live_messages,
        call_minutes,
        schedule,
        adoptive_media,
        birth_media,
        parties,
        terms,
    })
}

/// Builds the view of an agreement for the caller: the protected terms
/// and nothing else are for the supervisor only.
async fn view(
    state: &AppState,
    user: &SignedIn,
    link: &Link,
    agreement: &Agreement,
) -> Result<AgreementView, ApiError> {
    let id = link.id();
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let status_reason = match (
        agreement.row.status_epoch,
        &agreement.row.status_reason_ciphertext,
    ) {
        (Some(epoch), Some(ciphertext)) => {
            let aad = bindings::link_status_reason(id, epoch);
            let plaintext = keyring
                .open_bound(&state.store, id, epoch, &aad, ciphertext)
                .await?;
            Some(String::from_utf8(plaintext).map_err(|error| ApiError::Internal(error.into()))?)
        }
        _ => None,
    };
    let protected_terms = if link.supervises() {
        Some(letterbox::open_terms(&mut keyring, &state.store, agreement).await?)
    } else {
        None
    };
    let schedule = Schedule {
        on_request: agreement.row.on_request,
        exchanges: serde_json::from_str(&agreement.row.exchanges)
            .map_err(|error| ApiError::Internal(error.into()))?,
    };
    let members = state.store.members(id).await?;
    let parties = agreement
        .parties
        .iter()
        .map(|party| PartyView {
            user_id: UserId(party.user_id),
            display_name: members
                .iter()
                .find(|member| member.user_id.0 == party.user_id)
                .map(|member| member.display_name.clone())
                .unwrap_or_default(),
            side: party.side.clone(),
            relationship: party.relationship.clone(),
        })
        .collect();
    let names = |categories: Vec<Category>| {
        categories
            .into_iter()
            .map(|category| category.as_str().to_owned())
            .collect()
    };
    Ok(AgreementView {
        conversation_id: id,
        status: agreement.row.status.clone(),
        status_reason,
        review_level: agreement.row.review_level.clone(),
        read_receipts: agreement.row.read_receipts.clone(),
        live_messages: agreement.row.live_messages,
        call_minutes: agreement.row.call_minutes,
        call_minutes_max: state.config.calls.max_minutes,
        schedule,
        media: MediaBody {
            adoptive: names(media_of(agreement, Side::Adoptive)),
            birth: names(media_of(agreement, Side::Birth)),
        },
        parties,
        protected_terms,
        updated_at: agreement.row.updated_at,
    })
}

/// Returns a link's agreement.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn get(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<AgreementView>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let link = letterbox::link(&state, &user, id).await?;
    let agreement = link.agreement()?;
    Ok(web::Json(view(&state, &user, &link, agreement).await?))
}

/// Sets a link's agreement, whole. Only its supervisor may.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn put(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<AgreementBody>,
) -> Result<web::Json<AgreementView>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let link = letterbox::link(&state, &user, id).await?;
    link.require(&user, Action::SetAgreement)?;
    if let Some(agreement) = &link.agreement
        && agreement.row.status == LinkStatus::Ended.as_str()
    {
        return Err(ApiError::Conflict(
            "the contact link has ended; its agreement cannot change".to_owned(),
        ));
    }
    let participants: Vec<UserId> = state
        .store
        .members(id)
        .await?
        .into_iter()
        .filter(|member| member.role != "supervisor")
        .map(|member| member.user_id)
        .collect();
    let checked = check_body(
        body.into_inner(),
        &participants,
        state.config.calls.max_minutes,
    )?;

    let epoch = link.conversation.key_epoch;
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let terms_ciphertext =
        letterbox::seal_terms(&mut keyring, &state.store, id, epoch, &checked.terms).await?;
    let now = Utc::now();
    state
        .store
        .put_agreement(AgreementRecord {
            conversation_id: id,
            review_level: checked.review_level.as_str(),
            read_receipts: checked.read_receipts.as_str(),
            on_request: checked.schedule.on_request,
            live_messages: checked.live_messages,
            call_minutes: checked.call_minutes,
            exchanges: serde_json::to_string(&checked.schedule.exchanges)
                .map_err(|error| ApiError::Internal(error.into()))?,
            adoptive_media: stored_media(&checked.adoptive_media),
            birth_media: stored_media(&checked.birth_media),
            terms_epoch: epoch,
            terms_ciphertext,
            parties: checked.parties,
            updated_by: user.user_id,
            updated_at: now,
        })
        .await?;
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(OrganisationId(link.conversation.organisation_id)),
            action: "agreement.set",
            subject_kind: "conversation",
            subject_id: Some(id.0),
            detail: serde_json::json!({
                "review_level": checked.review_level.as_str(),
                "live_messages": checked.live_messages,
                "call_minutes": checked.call_minutes,
                "protected_terms": checked.terms.len(),
            }),
            at: now,
        })
        .await?;
    info!(conversation = %id, "contact agreement set");
    // Sessions forget what they knew about sending here, and open pages
    // fetch the agreement again.
    state
        .broker
        .publish(kinlink_actors::events::Event::Letters {
            conversation_id: id,
            only: None,
        })
        .await;
    let link = letterbox::link(&state, &user, id).await?;
    let agreement = link.agreement()?;
    Ok(web::Json(view(&state, &user, &link, agreement).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBody {
    status: String,
    reason: Option<String>,
}

/// Suspends, resumes or ends a contact link, with the reason the parties
/// see.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn set_status(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<StatusBody>,
) -> Result<web::Json<AgreementView>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let link = letterbox::link(&state, &user, id).await?;
    link.require(&user, Action::SetAgreement)?;
    let agreement = link.agreement()?;
    let to = LinkStatus::parse(&body.status).ok_or_else(|| {
        invalid(
            "status",
            format!(
                "unknown status {:?}: expected active, suspended or ended",
                body.status
            ),
        )
    })?;
    let from = LinkStatus::parse(&agreement.row.status).ok_or(ApiError::Internal(
        anyhow::anyhow!("stored link status is invalid"),
    ))?;
    let reason = match from.change(to, body.reason.as_deref()) {
        Ok(reason) => reason,
        Err(StatusChangeError::Ended) => {
            return Err(ApiError::Conflict(
                "the contact link has ended and cannot change".to_owned(),
            ));
        }
        Err(StatusChangeError::Invalid(value)) => return Err(ApiError::InvalidField(value)),
    };
    let epoch = link.conversation.key_epoch;
    let reason_ciphertext = match &reason {
        Some(reason) => {
            let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
            let aad = bindings::link_status_reason(id, epoch);
            Some(
                keyring
                    .seal_bound(&state.store, id, epoch, &aad, reason.as_bytes())
                    .await?,
            )
        }
        None => None,
    };
    let now = Utc::now();
    let changed = state
        .store
        .set_link_status(StatusChange {
            conversation_id: id,
            from,
            to,
            epoch: reason_ciphertext.as_ref().map(|_| epoch),
            reason_ciphertext,
            by: user.user_id,
            at: now,
        })
        .await?;
    if !changed {
        return Err(ApiError::Conflict(
            "the contact link's status changed meanwhile; reload and try again".to_owned(),
        ));
    }
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(OrganisationId(link.conversation.organisation_id)),
            action: "agreement.status_changed",
            subject_kind: "conversation",
            subject_id: Some(id.0),
            detail: serde_json::json!({ "from": from.as_str(), "to": to.as_str() }),
            at: now,
        })
        .await?;
    info!(conversation = %id, from = from.as_str(), to = to.as_str(), "contact link status changed");
    if to != LinkStatus::Active {
        state.calls.link_closed(id, to == LinkStatus::Ended);
    }
    state
        .broker
        .publish(kinlink_actors::events::Event::Letters {
            conversation_id: id,
            only: None,
        })
        .await;
    let link = letterbox::link(&state, &user, id).await?;
    let agreement = link.agreement()?;
    Ok(web::Json(view(&state, &user, &link, agreement).await?))
}
