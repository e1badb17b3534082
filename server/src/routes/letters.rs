//! Letters in a contact link: drafts saved as one writes, submission,
//! the supervisor's decisions, first reads, the link's timeline and the
//! supervisor's review queue.

use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap};

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kinlink_actors::keyring::Keyring;
use kinlink_core::crypto::bindings;
use kinlink_core::identifying::ProtectedTerm;
use kinlink_core::letterbox::{
    LetterStatus, LetterStep, LinkStatus, ReadReceipts, ReviewLevel, Side, decision_reason,
    letter_body,
};
use kinlink_core::notices::Template;
use kinlink_core::permissions::Action;
use kinlink_core::{ConversationId, OrganisationId, UserId};
use kinlink_store::audit::AuditRecord;
use kinlink_store::entity::{letter, letter_event, letter_version};
use kinlink_store::letterbox::{NewEvent, SealedVersion};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tracing::{error, info, instrument};

use super::JsonBody;
use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::letterbox::attachments::{AttachmentFinding, check_attachments};
use crate::letterbox::{
    self, FindingView, LetterContent, Link, VersionPlace, category_of_kind, invalid, media_of,
};
use crate::state::AppState;

/// The caller's relation to one letter.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Viewer {
    /// Wrote it, and gets their unsubmitted edits.
    Writer,
    /// Supervises the link, and gets every submitted version and the findings.
    Supervisor,
    /// Another party, who gets it once it is released.
    Reader,
}

#[derive(Serialize)]
pub struct ReadView {
    user_id: UserId,
    read_at: DateTime<Utc>,
}

#[derive(Serialize)]
pub struct VersionView {
    version: i32,
    body: String,
    attachments: Vec<uuid::Uuid>,
    submitted_at: Option<DateTime<Utc>>,
    findings: Vec<FindingView>,
}

#[derive(Serialize)]
pub struct LetterView {
    id: uuid::Uuid,
    conversation_id: ConversationId,
    writer_id: UserId,
    writer_name: String,
    writer_side: Option<String>,
    status: String,
    version: i32,
    body: String,
    attachments: Vec<uuid::Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    findings: Option<Vec<FindingView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attachment_findings: Option<Vec<AttachmentFinding>>,
    reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    submitted_at: Option<DateTime<Utc>>,
    released_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_by: Option<Vec<ReadView>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    versions: Option<Vec<VersionView>>,
    /// The protected terms the writer's text or files matched, which the
    /// writer's findings leave out; kept for the practitioner.
    #[serde(skip)]
    flagged_terms: BTreeSet<String>,
}

fn status_of(row: &letter::Model) -> Result<LetterStatus, ApiError> {
    LetterStatus::parse(&row.status).ok_or(ApiError::Internal(anyhow::anyhow!(
        "stored letter status is invalid"
    )))
}

/// Decides how the caller relates to a letter, or `None` when they may not
/// see it at all.
fn viewer_of(
    user: &SignedIn,
    link: &Link,
    row: &letter::Model,
    status: LetterStatus,
) -> Option<Viewer> {
    if row.writer_id == user.user_id.0 {
        return Some(Viewer::Writer);
    }
    if link.supervises() && link.require(user, Action::ReviewLetter).is_ok() {
        return status.seen_by_practitioners().then_some(Viewer::Supervisor);
    }
    let party = link
        .agreement
        .as_ref()
        .and_then(|agreement| agreement.side_of(user.user_id));
    (status == LetterStatus::Released && party.is_some()).then_some(Viewer::Reader)
}

/// Loads a letter with the caller's link and standing; `404` for anyone
/// who may not see it.
async fn load(
    state: &AppState,
    user: &SignedIn,
    id: uuid::Uuid,
) -> Result<(Link, letter::Model, LetterStatus, Viewer), ApiError> {
    let row = state.store.letter(id).await?;
    let link = letterbox::link(state, user, ConversationId(row.conversation_id)).await?;
    let status = status_of(&row)?;
    let viewer = viewer_of(user, &link, &row, status).ok_or(ApiError::NotFound)?;
    Ok((link, row, status, viewer))
}

async fn open_version(
    keyring: &mut Keyring,
    state: &AppState,
    row: &letter::Model,
    version: &letter_version::Model,
) -> Result<LetterContent, ApiError> {
    let place = VersionPlace {
        conversation: ConversationId(row.conversation_id),
        letter: row.id,
        version: version.version,
        writer: UserId(row.writer_id),
        epoch: version.key_epoch,
    };
    letterbox::open_letter(keyring, &state.store, place, &version.ciphertext).await
}

async fn open_reason(
    keyring: &mut Keyring,
    state: &AppState,
    event: &letter_event::Model,
) -> Result<Option<String>, ApiError> {
    let (Some(epoch), Some(ciphertext)) = (event.key_epoch, &event.reason_ciphertext) else {
        return Ok(None);
    };
    let conversation = ConversationId(event.conversation_id);
    let aad = bindings::letter_reason(conversation, event.letter_id, event.id, epoch);
    let plaintext = keyring
        .open_bound(&state.store, conversation, epoch, &aad, ciphertext)
        .await?;
    Ok(Some(
        String::from_utf8(plaintext).map_err(|error| ApiError::Internal(error.into()))?,
    ))
}

/// The parts a view of a letter includes besides the letter itself.
#[derive(Clone, Copy)]
struct Detail {
    findings: bool,
    versions: bool,
}

async fn view(
    state: &AppState,
    keyring: &mut Keyring,
    terms: &mut Option<Vec<ProtectedTerm>>,
    link: &Link,
    row: &letter::Model,
    viewer: Viewer,
    detail: Detail,
) -> Result<LetterView, ApiError> {
    let versions = state.store.letter_versions(row.id).await?;
    let shown = match viewer {
        Viewer::Writer => versions.iter().rfind(|v| v.version == row.version),
        Viewer::Supervisor | Viewer::Reader => versions.iter().rfind(|v| v.submitted_at.is_some()),
    }
    .ok_or(ApiError::NotFound)?;
    let content = open_version(keyring, state, row, shown).await?;
    let checks = detail.findings && viewer != Viewer::Reader;
    if checks
        && terms.is_none()
        && let Some(agreement) = &link.agreement
    {
        *terms = Some(letterbox::open_terms(keyring, &state.store, agreement).await?);
    }
    let supervisor = viewer == Viewer::Supervisor;
    let protected: &[ProtectedTerm] = terms.as_deref().unwrap_or(&[]);
    // The check names the matched term, which only the practitioner is shown.
    let mut findings = if checks {
        Some(letterbox::check_text_off_thread(protected, &content.body, true).await?)
    } else {
        None
    };
    let mut attachment_findings = if checks {
        let conversation = ConversationId(row.conversation_id);
        let attachments = &content.attachments;
        Some(check_attachments(state, keyring, conversation, protected, attachments, true).await?)
    } else {
        None
    };
    let mut flagged_terms = BTreeSet::new();
    if !supervisor {
        let body_terms = findings.iter_mut().flatten().map(|f| f.term.take());
        let file_terms = attachment_findings
            .iter_mut()
            .flatten()
            .map(|f| f.term.take());
        flagged_terms.extend(body_terms.chain(file_terms).flatten());
    }

    let events = state
        .store
        .letter_events(ConversationId(row.conversation_id), Some(row.id))
        .await?;
    // A term already on the timeline is not sealed and stored again on
    // every save.
    flagged_terms.retain(|term| {
        let id = flag_event_id(row.id, term);
        !events.iter().any(|event| event.id == id)
    });
    let reason = match (
        viewer,
        events
            .iter()
            .rfind(|e| e.kind == "returned" || e.kind == "held"),
    ) {
        (Viewer::Writer | Viewer::Supervisor, Some(event)) => {
            open_reason(keyring, state, event).await?
        }
        _ => None,
    };
    let receipts_to_writer = link.agreement.as_ref().is_some_and(|agreement| {
        ReadReceipts::parse(&agreement.row.read_receipts) == Some(ReadReceipts::Everyone)
    });
    let read_by = (supervisor || (viewer == Viewer::Writer && receipts_to_writer)).then(|| {
        events
            .iter()
            .filter(|event| event.kind == "read")
            .map(|event| ReadView {
                user_id: UserId(event.actor_id),
                read_at: event.at,
            })
            .collect()
    });
    let earlier = if detail.versions && supervisor {
        let mut earlier = Vec::new();
        for version in versions
            .iter()
            .filter(|v| v.submitted_at.is_some() && v.version != shown.version)
        {
            let content = open_version(keyring, state, row, version).await?;
            earlier.push(VersionView {
                version: version.version,
                findings: letterbox::check_text_off_thread(protected, &content.body, true).await?,
                body: content.body,
                attachments: content.attachments,
                submitted_at: version.submitted_at,
            });
        }
        Some(earlier)
    } else {
        None
    };
    let writer = state.store.user(UserId(row.writer_id)).await?;
    let writer_side = link
        .agreement
        .as_ref()
        .and_then(|agreement| agreement.side_of(UserId(row.writer_id)))
        .map(|side| side.as_str().to_owned());
    Ok(LetterView {
        id: row.id,
        conversation_id: ConversationId(row.conversation_id),
        writer_id: UserId(row.writer_id),
        writer_name: writer.display_name,
        writer_side,
        status: row.status.clone(),
        version: shown.version,
        body: content.body,
        attachments: content.attachments,
        findings,
        attachment_findings,
        reason,
        created_at: row.created_at,
        updated_at: row.updated_at,
        submitted_at: row.submitted_at,
        released_at: row.released_at,
        read_by,
        versions: earlier,
        flagged_terms,
    })
}

async fn full_view(
    state: &AppState,
    user: &SignedIn,
    link: &Link,
    row: &letter::Model,
    viewer: Viewer,
) -> Result<LetterView, ApiError> {
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let detail = Detail {
        findings: true,
        versions: true,
    };
    view(state, &mut keyring, &mut None, link, row, viewer, detail).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LetterBody {
    body: String,
    #[serde(default)]
    attachments: Vec<uuid::Uuid>,
}

/// Checks a draft's text and attachments: the files must be the writer's
/// own uploads into this link, of a category their side may send.
async fn checked_content(
    state: &AppState,
    user: &SignedIn,
    link: &Link,
    side: Side,
    body: LetterBody,
) -> Result<LetterContent, ApiError> {
    letter_body(&body.body)?;
    let max = kinlink_core::content::MAX_ATTACHMENTS;
    if body.attachments.len() > max {
        return Err(invalid(
            "attachments",
            format!(
                "{} files is over the limit of {max}",
                body.attachments.len()
            ),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    if let Some(repeated) = body.attachments.iter().find(|id| !seen.insert(**id)) {
        return Err(invalid(
            "attachments",
            format!("{repeated} is listed twice"),
        ));
    }
    if !body.attachments.is_empty() {
        if !state
            .store
            .attachable(link.id(), user.user_id, &body.attachments)
            .await?
        {
            return Err(invalid(
                "attachments",
                "each must be a file I uploaded to this contact link, with every byte sent and not failed",
            ));
        }
        let allowed = media_of(link.agreement()?, side);
        for id in &body.attachments {
            let file = state.store.file(*id).await?.ok_or(ApiError::NotFound)?;
            let category = file.kind.as_deref().and_then(category_of_kind);
            if !category.is_some_and(|category| allowed.contains(&category)) {
                return Err(invalid(
                    "attachments",
                    format!(
                        "{id} is of a kind the agreement does not let the {} side send",
                        side.as_str()
                    ),
                ));
            }
        }
    }
    Ok(LetterContent {
        body: body.body,
        attachments: body.attachments,
    })
}

/// Returns `409` unless the link is active, quoting its status.
fn require_active(link: &Link) -> Result<(), ApiError> {
    let agreement = link
        .agreement()
        .map_err(|_none| ApiError::Conflict("the contact link has no agreement yet".to_owned()))?;
    if agreement.row.status != LinkStatus::Active.as_str() {
        return Err(ApiError::Conflict(format!(
            "the contact link is {}: nothing new can be written or submitted",
            agreement.row.status
        )));
    }
    Ok(())
}

/// Returns the caller's side, or `403` when they are not a party.
fn side_of(user: &SignedIn, link: &Link) -> Result<Side, ApiError> {
    link.require(user, Action::WriteLetter)?;
    link.agreement()?
        .side_of(user.user_id)
        .ok_or(ApiError::Forbidden)
}

async fn audit(
    state: &AppState,
    user: &SignedIn,
    link: &Link,
    action: &'static str,
    letter: uuid::Uuid,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    state
        .store
        .audit(AuditRecord {
            actor_id: Some(user.user_id),
            organisation_id: Some(OrganisationId(link.conversation.organisation_id)),
            action,
            subject_kind: "letter",
            subject_id: Some(letter),
            detail,
            at: Utc::now(),
        })
        .await?;
    Ok(())
}

/// Queues a notification for each user. The letter is stored already, so a
/// failure here is logged rather than answered: the writer must not send
/// again what is stored.
async fn notify(state: &AppState, users: &[UserId], template: Template) {
    for user in users {
        if let Err(failure) = state.store.notify(*user, template, "/", Utc::now()).await {
            error!(user = %user, error = %kinlink_actors::Causes(&failure), "queueing a notification failed");
        }
    }
}

/// Tells the link's open pages that its letters changed, naming none:
/// every member's when `only` is `None`, else those users' and the
/// staff's.
async fn announce(state: &AppState, conversation_id: ConversationId, only: Option<Vec<UserId>>) {
    state
        .broker
        .publish(kinlink_actors::events::Event::Letters {
            conversation_id,
            only,
        })
        .await;
}

fn supervisors(members: &[kinlink_store::conversations::MemberView]) -> Vec<UserId> {
    members
        .iter()
        .filter(|member| member.role == "supervisor")
        .map(|member| member.user_id)
        .collect()
}

/// Returns the parties of one side of the link's agreement; none when it
/// has no agreement.
fn parties_of_side(link: &Link, side: Side) -> Vec<UserId> {
    link.agreement
        .as_ref()
        .map(|agreement| agreement.parties_of(side))
        .unwrap_or_default()
}

/// Lists the letters of a link that I may see, newest first.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn list(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<LetterView>>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    Ok(web::Json(readable_letters(&state, &user, id).await?))
}

/// Returns the letters of a link that the user may see, newest first.
pub(crate) async fn readable_letters(
    state: &AppState,
    user: &SignedIn,
    id: ConversationId,
) -> Result<Vec<LetterView>, ApiError> {
    let link = letterbox::link(state, user, id).await?;
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let mut terms = None;
    let detail = Detail {
        findings: false,
        versions: false,
    };
    let mut views = Vec::new();
    for row in state.store.letters_in(id).await? {
        let status = status_of(&row)?;
        let Some(viewer) = viewer_of(user, &link, &row, status) else {
            continue;
        };
        views.push(view(state, &mut keyring, &mut terms, &link, &row, viewer, detail).await?);
    }
    Ok(views)
}

/// Starts a letter as a draft.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn create(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<LetterBody>,
) -> Result<HttpResponse, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let link = letterbox::link(&state, &user, id).await?;
    let side = side_of(&user, &link)?;
    require_active(&link)?;
    let content = checked_content(&state, &user, &link, side, body.into_inner()).await?;

    let letter_id = uuid::Uuid::now_v7();
    let epoch = link.conversation.key_epoch;
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let place = VersionPlace {
        conversation: id,
        letter: letter_id,
        version: 1,
        writer: user.user_id,
        epoch,
    };
    let ciphertext = letterbox::seal_letter(&mut keyring, &state.store, place, &content).await?;
    let now = Utc::now();
    state
        .store
        .create_letter(
            letter_id,
            id,
            SealedVersion { epoch, ciphertext },
            NewEvent {
                id: uuid::Uuid::now_v7(),
                kind: "written",
                actor: user.user_id,
                version: 1,
                reason: None,
                at: now,
            },
        )
        .await?;
    audit(
        &state,
        &user,
        &link,
        "letter.started",
        letter_id,
        serde_json::json!({}),
    )
    .await?;
    info!(conversation = %id, letter = %letter_id, "letter started");
    let row = state.store.letter(letter_id).await?;
    let view = full_view(&state, &user, &link, &row, Viewer::Writer).await?;
    record_flagged_terms(&state, &user, &link, &row, &view.flagged_terms).await?;
    Ok(HttpResponse::Created().json(view))
}

/// Returns one letter.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn get(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<LetterView>, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let (link, row, _status, viewer) = load(&state, &user, id).await?;
    let view = full_view(&state, &user, &link, &row, viewer).await?;
    // An attached PDF's text is checked once its processing has ended,
    // which may be after the last save.
    record_flagged_terms(&state, &user, &link, &row, &view.flagged_terms).await?;
    Ok(web::Json(view))
}

/// Saves the writer's edit of a draft or a returned letter.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn save(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<LetterBody>,
) -> Result<web::Json<LetterView>, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let (link, row, status, viewer) = load(&state, &user, id).await?;
    if viewer != Viewer::Writer {
        return Err(ApiError::Forbidden);
    }
    if status.next(LetterStep::Edit).is_none() {
        return Err(ApiError::Conflict(format!(
            "the letter is {}: it can no longer be edited",
            status.as_str()
        )));
    }
    require_active(&link)?;
    let side = side_of(&user, &link)?;
    let content = checked_content(&state, &user, &link, side, body.into_inner()).await?;
    let versions = state.store.letter_versions(id).await?;
    let latest_submitted = versions
        .iter()
        .any(|v| v.version == row.version && v.submitted_at.is_some());
    let version = if latest_submitted {
        row.version + 1
    } else {
        row.version
    };
    let epoch = link.conversation.key_epoch;
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let place = VersionPlace {
        conversation: link.id(),
        letter: id,
        version,
        writer: user.user_id,
        epoch,
    };
    let ciphertext = letterbox::seal_letter(&mut keyring, &state.store, place, &content).await?;
    let saved = state
        .store
        .save_letter(&row, SealedVersion { epoch, ciphertext }, Utc::now())
        .await?;
    if saved != Some(version) {
        return Err(ApiError::Conflict(
            "the letter changed meanwhile; reload it and save again".to_owned(),
        ));
    }
    let row = state.store.letter(id).await?;
    let view = full_view(&state, &user, &link, &row, Viewer::Writer).await?;
    record_flagged_terms(&state, &user, &link, &row, &view.flagged_terms).await?;
    Ok(web::Json(view))
}

/// Opens the letter's current version with the caller's keys.
async fn current_version(
    state: &AppState,
    user: &SignedIn,
    row: &letter::Model,
) -> Result<(letter_version::Model, LetterContent), ApiError> {
    let versions = state.store.letter_versions(row.id).await?;
    let latest = versions
        .into_iter()
        .rfind(|v| v.version == row.version)
        .ok_or(ApiError::NotFound)?;
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let content = open_version(&mut keyring, state, row, &latest).await?;
    Ok((latest, content))
}

/// Records, for the practitioner's timeline, each protected term a
/// writer's saved text or files matched: once per term and letter, drafts
/// never submitted included. The writer is shown that a detail is flagged,
/// so a writer could type guesses to learn a protected term. The timeline
/// then lists every term that was tried, with its time.
async fn record_flagged_terms(
    state: &AppState,
    user: &SignedIn,
    link: &Link,
    row: &letter::Model,
    terms: &BTreeSet<String>,
) -> Result<(), ApiError> {
    if terms.is_empty() {
        return Ok(());
    }
    let epoch = link.conversation.key_epoch;
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let now = Utc::now();
    for term in terms {
        let event_id = flag_event_id(row.id, term);
        let aad = bindings::letter_reason(link.id(), row.id, event_id, epoch);
        let sealed = keyring
            .seal_bound(&state.store, link.id(), epoch, &aad, term.as_bytes())
            .await?;
        let event = NewEvent {
            id: event_id,
            kind: "term_flagged",
            actor: user.user_id,
            version: row.version,
            reason: Some((epoch, sealed)),
            at: now,
        };
        if state.store.record_letter_step_once(row, event).await? {
            info!(letter = %row.id, "a protected term was flagged in a letter");
        }
    }
    Ok(())
}

/// Submits a letter; it waits for review or, with none due, is released.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn submit(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<LetterView>, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let (link, row, status, viewer) = load(&state, &user, id).await?;
    if viewer != Viewer::Writer {
        return Err(ApiError::Forbidden);
    }
    if status.next(LetterStep::Submit).is_none() {
        return Err(ApiError::Conflict(format!(
            "the letter is {}: only a draft or a returned letter can be submitted",
            status.as_str()
        )));
    }
    require_active(&link)?;
    let side = side_of(&user, &link)?;
    let (latest, content) = current_version(&state, &user, &row).await?;
    if content.body.trim().is_empty() && content.attachments.is_empty() {
        return Err(invalid(
            "body",
            "a letter needs some text or an attachment before it is submitted",
        ));
    }
    if status == LetterStatus::Returned && latest.submitted_at.is_some() {
        return Err(ApiError::Conflict(
            "the letter has not been changed since it was returned".to_owned(),
        ));
    }
    let agreement = link.agreement()?;
    let level = ReviewLevel::parse(&agreement.row.review_level).ok_or(ApiError::Internal(
        anyhow::anyhow!("stored review level is invalid"),
    ))?;
    let same_side: Vec<uuid::Uuid> = parties_of_side(&link, side)
        .into_iter()
        .map(|user| user.0)
        .collect();
    let side_has_released = state.store.released_from_any(link.id(), &same_side).await?;
    let review = level.needs_review(side_has_released);
    let now = Utc::now();
    let mut events = vec![NewEvent {
        id: uuid::Uuid::now_v7(),
        kind: "submitted",
        actor: user.user_id,
        version: row.version,
        reason: None,
        at: now,
    }];
    let to = if review {
        LetterStatus::Submitted
    } else {
        events.push(NewEvent {
            id: uuid::Uuid::now_v7(),
            kind: "released",
            actor: user.user_id,
            version: row.version,
            reason: None,
            at: now,
        });
        LetterStatus::Released
    };
    let released_files: &[uuid::Uuid] = if review { &[] } else { &content.attachments };
    if !state
        .store
        .move_letter(&row, to, events, released_files, now)
        .await?
    {
        return Err(ApiError::Conflict(
            "the letter changed meanwhile; reload it".to_owned(),
        ));
    }
    audit(
        &state,
        &user,
        &link,
        "letter.submitted",
        id,
        serde_json::json!({ "version": row.version, "status": to.as_str() }),
    )
    .await?;
    info!(letter = %id, status = to.as_str(), "letter submitted");
    // A letter waiting for review is the writer's and the staff's to hear of.
    announce(&state, link.id(), review.then(|| vec![user.user_id])).await;
    if review {
        let members = state.store.members(link.id()).await?;
        notify(&state, &supervisors(&members), Template::LetterToReview).await;
    } else {
        notify(
            &state,
            &parties_of_side(&link, side.other()),
            Template::NewMessage,
        )
        .await;
    }
    let row = state.store.letter(id).await?;
    let view = full_view(&state, &user, &link, &row, Viewer::Writer).await?;
    record_flagged_terms(&state, &user, &link, &row, &view.flagged_terms).await?;
    Ok(web::Json(view))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    decision: String,
    reason: Option<String>,
}

/// The supervisor releases, returns or holds a submitted letter.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn decide(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
    body: JsonBody<DecisionBody>,
) -> Result<web::Json<LetterView>, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let (link, row, status, viewer) = load(&state, &user, id).await?;
    if viewer != Viewer::Supervisor {
        return Err(ApiError::Forbidden);
    }
    link.require(&user, Action::ReviewLetter)?;
    let (step, kind) = match body.decision.as_str() {
        "release" => (LetterStep::Release, "released"),
        "return" => (LetterStep::Return, "returned"),
        "hold" => (LetterStep::Hold, "held"),
        other => {
            return Err(invalid(
                "decision",
                format!("unknown decision {other:?}: expected release, return or hold"),
            ));
        }
    };
    let reason = match step {
        LetterStep::Release => {
            if body.reason.as_deref().is_some_and(|r| !r.trim().is_empty()) {
                return Err(invalid(
                    "reason",
                    "a release takes no reason; write to the family in the link instead",
                ));
            }
            None
        }
        _ => Some(decision_reason(body.reason.as_deref())?),
    };
    let Some(to) = status.next(step) else {
        return Err(ApiError::Conflict(format!(
            "the letter is {}: only a submitted letter can be decided",
            status.as_str()
        )));
    };
    let event_id = uuid::Uuid::now_v7();
    let epoch = link.conversation.key_epoch;
    let sealed_reason = match &reason {
        Some(reason) => {
            let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
            let aad = bindings::letter_reason(link.id(), id, event_id, epoch);
            Some((
                epoch,
                keyring
                    .seal_bound(&state.store, link.id(), epoch, &aad, reason.as_bytes())
                    .await?,
            ))
        }
        None => None,
    };
    let now = Utc::now();
    let event = NewEvent {
        id: event_id,
        kind,
        actor: user.user_id,
        version: row.version,
        reason: sealed_reason,
        at: now,
    };
    // A released letter's files become visible to the other family with it.
    let released_files = if to == LetterStatus::Released {
        current_version(&state, &user, &row).await?.1.attachments
    } else {
        Vec::new()
    };
    if !state
        .store
        .move_letter(&row, to, vec![event], &released_files, now)
        .await?
    {
        return Err(ApiError::Conflict(
            "the letter changed meanwhile; reload it".to_owned(),
        ));
    }
    audit(
        &state,
        &user,
        &link,
        "letter.decided",
        id,
        serde_json::json!({ "version": row.version, "decision": kind }),
    )
    .await?;
    info!(letter = %id, decision = kind, "letter decided");
    // Only a release reaches the other family; a return or a hold stays
    // between the writer and the staff.
    let only = (to != LetterStatus::Released).then(|| vec![UserId(row.writer_id)]);
    announce(&state, link.id(), only).await;
    notify(&state, &[UserId(row.writer_id)], Template::LetterDecided).await;
    if to == LetterStatus::Released
        && let Some(side) = link
            .agreement
            .as_ref()
            .and_then(|agreement| agreement.side_of(UserId(row.writer_id)))
    {
        notify(
            &state,
            &parties_of_side(&link, side.other()),
            Template::NewMessage,
        )
        .await;
    }
    let row = state.store.letter(id).await?;
    Ok(web::Json(
        full_view(&state, &user, &link, &row, Viewer::Supervisor).await?,
    ))
}

/// Derives the id of a reader's first-read step from the letter and the
/// reader, so a second read by the same reader stores nothing.
fn read_event_id(letter: uuid::Uuid, reader: UserId) -> uuid::Uuid {
    derived_event_id(b"kinlink letter read v1", letter, reader.0.as_bytes())
}

/// Derives the id of the step recording that a letter matched a protected
/// term, so each term is recorded once per letter however often it is
/// saved. Terms match in any case, so the id does too.
fn flag_event_id(letter: uuid::Uuid, term: &str) -> uuid::Uuid {
    let folded = term.to_lowercase();
    derived_event_id(b"kinlink letter term flagged v1", letter, folded.as_bytes())
}

fn derived_event_id(label: &[u8], letter: uuid::Uuid, part: &[u8]) -> uuid::Uuid {
    let digest = Sha256::new()
        .chain_update(label)
        .chain_update(letter.as_bytes())
        .chain_update(part)
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// Records that a party opened a released letter.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn read(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id: uuid::Uuid = super::parse_id(&path)?;
    let (link, row, _status, viewer) = load(&state, &user, id).await?;
    if viewer != Viewer::Reader {
        return Err(ApiError::Forbidden);
    }
    let first = state
        .store
        .record_letter_step_once(
            &row,
            NewEvent {
                id: read_event_id(id, user.user_id),
                kind: "read",
                actor: user.user_id,
                version: row.version,
                reason: None,
                at: Utc::now(),
            },
        )
        .await?;
    if first {
        info!(letter = %id, "letter read");
        // The writer hears of the read only when the agreement shows them
        // read receipts.
        let receipts_to_writer = link.agreement.as_ref().is_some_and(|agreement| {
            ReadReceipts::parse(&agreement.row.read_receipts) == Some(ReadReceipts::Everyone)
        });
        let mut only = vec![user.user_id];
        if receipts_to_writer {
            only.push(UserId(row.writer_id));
        }
        announce(&state, ConversationId(row.conversation_id), Some(only)).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
pub struct TimelineEntry {
    at: DateTime<Utc>,
    letter_id: uuid::Uuid,
    kind: String,
    actor_id: UserId,
    actor_name: String,
    version: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// Orders steps stored in the same instant: a letter is submitted before
/// it is released.
fn step_rank(kind: &str) -> u8 {
    match kind {
        "written" => 0,
        "submitted" => 1,
        "term_flagged" => 2,
        "returned" | "held" | "released" => 3,
        _ => 4,
    }
}

/// Lists every step of every letter of a link, for its supervisor.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn timeline(
    state: web::Data<AppState>,
    user: SignedIn,
    path: web::Path<String>,
) -> Result<web::Json<Vec<TimelineEntry>>, ApiError> {
    let id: ConversationId = super::parse_id(&path)?;
    let link = letterbox::link(&state, &user, id).await?;
    link.require(&user, Action::ReviewLetter)?;
    // A draft never submitted is the writer's alone, its start included.
    let submitted: std::collections::HashSet<uuid::Uuid> = state
        .store
        .letters_in(id)
        .await?
        .into_iter()
        .filter(|letter| letter.submitted_at.is_some())
        .map(|letter| letter.id)
        .collect();
    let mut events = state.store.letter_events(id, None).await?;
    // A protected term typed into a draft is the practitioner's concern
    // even if the draft is never submitted.
    events.retain(|event| submitted.contains(&event.letter_id) || event.kind == "term_flagged");
    events.sort_by_key(|event| (event.at, step_rank(&event.kind)));
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let mut names: HashMap<uuid::Uuid, String> = HashMap::new();
    let mut entries = Vec::with_capacity(events.len());
    for event in &events {
        if let Entry::Vacant(entry) = names.entry(event.actor_id) {
            entry.insert(state.store.user(UserId(event.actor_id)).await?.display_name);
        }
        entries.push(TimelineEntry {
            at: event.at,
            letter_id: event.letter_id,
            kind: event.kind.clone(),
            actor_id: UserId(event.actor_id),
            actor_name: names.get(&event.actor_id).cloned().unwrap_or_default(),
            version: event.version,
            reason: open_reason(&mut keyring, &state, event).await?,
        });
    }
    Ok(web::Json(entries))
}

#[derive(Serialize)]
pub struct QueueEntry {
    letter_id: uuid::Uuid,
    conversation_id: ConversationId,
    writer_name: String,
    writer_side: Option<String>,
    version: i32,
    submitted_at: Option<DateTime<Utc>>,
    findings: usize,
}

/// Lists the submitted letters waiting in the links I supervise.
#[instrument(skip_all, fields(user = %user.user_id))]
pub async fn review_queue(
    state: web::Data<AppState>,
    user: SignedIn,
) -> Result<web::Json<Vec<QueueEntry>>, ApiError> {
    let rows = state.store.review_queue(user.user_id).await?;
    let mut keyring = Keyring::new(user.user_id, user.private_key.clone());
    let mut links: HashMap<uuid::Uuid, (Link, Option<Vec<ProtectedTerm>>)> = HashMap::new();
    let detail = Detail {
        findings: true,
        versions: false,
    };
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        if let Entry::Vacant(entry) = links.entry(row.conversation_id) {
            let link = letterbox::link(&state, &user, ConversationId(row.conversation_id)).await?;
            entry.insert((link, None));
        }
        let Some((link, terms)) = links.get_mut(&row.conversation_id) else {
            continue;
        };
        if link.require(&user, Action::ReviewLetter).is_err() {
            continue;
        }
        let letter = view(
            &state,
            &mut keyring,
            terms,
            link,
            &row,
            Viewer::Supervisor,
            detail,
        )
        .await?;
        let findings = letter.findings.as_ref().map_or(0, Vec::len)
            + letter.attachment_findings.as_ref().map_or(0, Vec::len);
        entries.push(QueueEntry {
            letter_id: letter.id,
            conversation_id: letter.conversation_id,
            writer_name: letter.writer_name,
            writer_side: letter.writer_side,
            version: letter.version,
            submitted_at: letter.submitted_at,
            findings,
        });
    }
    Ok(web::Json(entries))
}
