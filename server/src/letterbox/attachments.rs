//! The identifying-details check of a letter's attached files.
//!
//! The check reads text, so a photo, a recording or a video is never
//! passed: each gets a `needs_person_to_look` finding, because a logo, a
//! street sign or a uniform can show where a child lives. A PDF is checked
//! through the text its media job read (see `kinlink_media::text`), with
//! the same rules and protected terms as the letter's body. A PDF without
//! that text (a scanned page, a damaged file, one still processing) needs
//! a person to look too. So does a PDF whose text was read only in part or
//! has more findings than are listed, besides the findings that are. The
//! media job also counts a PDF's text as read in part when the PDF has a
//! picture, an annotation, a form field or an attached file, which the
//! check cannot read.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::web;
use kinlink_actors::ActorError;
use kinlink_actors::keyring::Keyring;
use kinlink_core::ConversationId;
use kinlink_core::crypto::segments::Layout;
use kinlink_core::crypto::{SecretKey, aead, bindings};
use kinlink_core::identifying::{Detector, ProtectedTerm};
use kinlink_media::MediaError;
use kinlink_media::blob::{self, BlobStore};
use kinlink_media::text::{PAGE_BREAK, page_at};
use kinlink_media::transcode::Role;
use kinlink_store::entity::{file, file_rendition};
use kinlink_store::files::FileStatus;
use serde::Serialize;
use tracing::warn;

use super::check_cache::Checked;
use crate::error::ApiError;
use crate::state::AppState;

/// The rule of a file that a person has to look at.
pub const NEEDS_PERSON_TO_LOOK: &str = "needs_person_to_look";

/// Maximum findings listed for one file. A file with more also gets a
/// `needs_person_to_look` finding.
const MAX_FINDINGS_PER_FILE: usize = 100;

/// Characters of context on each side of a finding in its excerpt.
const EXCERPT_CONTEXT_CHARS: usize = 40;

/// A finding in an attached file. A `needs_person_to_look` finding has
/// only `file_id` and `rule`.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct AttachmentFinding {
    pub file_id: uuid::Uuid,
    pub rule: &'static str,
    /// The page the flagged text is on, from 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<usize>,
    /// Offset of the flagged text in the file's extracted text, in UTF-16
    /// code units like the offsets of the body's findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<usize>,
    /// Offset just past the flagged text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<Excerpt>,
    /// The protected term that matched, for practitioners only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<String>,
}

impl AttachmentFinding {
    fn needs_person_to_look(file_id: uuid::Uuid) -> AttachmentFinding {
        AttachmentFinding {
            file_id,
            rule: NEEDS_PERSON_TO_LOOK,
            page: None,
            start: None,
            end: None,
            excerpt: None,
            term: None,
        }
    }
}

/// The flagged text and the text around it on the same page, with each
/// run of white space made one space.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Excerpt {
    pub before: String,
    pub text: String,
    pub after: String,
}

/// Checks each attached file of a letter in `conversation`. `show_terms`
/// adds the matched protected term to each finding, for practitioners.
pub async fn check_attachments(
    state: &AppState,
    keyring: &mut Keyring,
    conversation: ConversationId,
    terms: &[ProtectedTerm],
    attachments: &[uuid::Uuid],
    show_terms: bool,
) -> Result<Vec<AttachmentFinding>, ApiError> {
    let mut findings = Vec::new();
    let terms_key = state.check_cache.terms_key(terms);
    for &file_id in attachments {
        let Some((key, text)) = text_of(state, keyring, conversation, file_id).await? else {
            findings.push(AttachmentFinding::needs_person_to_look(file_id));
            continue;
        };
        let blobs = Arc::clone(&state.blobs);
        let cache = Arc::clone(&state.check_cache);
        let terms = terms.to_vec();
        let checked = web::block(move || {
            let plaintext = read_whole(blobs.as_ref(), &key, &text)?;
            let complete = text.role == Role::Text.as_str();
            let found = match cache.get(file_id, terms_key) {
                Some(found) => found,
                None => {
                    let found = Arc::new(detect(&plaintext, &terms));
                    cache.insert(file_id, terms_key, Arc::clone(&found));
                    found
                }
            };
            Ok::<_, MediaError>(present(
                file_id, &plaintext, complete, &found, &terms, show_terms,
            ))
        })
        .await
        .map_err(|error| ApiError::Internal(error.into()))?;
        match checked {
            Ok(found) => findings.extend(found),
            Err(error) => {
                warn!(file = %file_id, error = %kinlink_actors::Causes(&error), "a PDF's text failed to open; a person has to look at it");
                findings.push(AttachmentFinding::needs_person_to_look(file_id));
            }
        }
    }
    Ok(findings)
}

/// Finds the text rendition of a ready PDF in `conversation` and opens the
/// file key for it. Returns `None` for any other file, a PDF without text,
/// and a file whose key the caller cannot open.
async fn text_of(
    state: &AppState,
    keyring: &mut Keyring,
    conversation: ConversationId,
    file_id: uuid::Uuid,
) -> Result<Option<(SecretKey, file_rendition::Model)>, ApiError> {
    let Some(row) = state.store.file(file_id).await? else {
        return Ok(None);
    };
    if row.conversation_id != conversation.0
        || row.kind.as_deref() != Some("pdf")
        || row.status != FileStatus::Ready.as_str()
    {
        return Ok(None);
    }
    let text = state
        .store
        .renditions(file_id)
        .await?
        .into_iter()
        .find(|r| r.role == Role::Text.as_str() || r.role == Role::PartialText.as_str());
    let Some(text) = text else {
        return Ok(None);
    };
    match file_key(state, keyring, &row).await {
        Ok(key) => Ok(Some((key, text))),
        Err(ActorError::Store(error)) => Err(error.into()),
        Err(error) => {
            warn!(file = %file_id, error = %kinlink_actors::Causes(&error), "a PDF's key failed to open; a person has to look at it");
            Ok(None)
        }
    }
}

async fn file_key(
    state: &AppState,
    keyring: &mut Keyring,
    row: &file::Model,
) -> Result<SecretKey, ActorError> {
    let conversation = ConversationId(row.conversation_id);
    let conversation_key = keyring
        .conversation_key(&state.store, conversation, row.key_epoch)
        .await?;
    let aad = bindings::file_key(row.id, conversation, row.key_epoch);
    let bytes = aead::open(conversation_key, &row.sealed_key, aad.as_bytes())?;
    Ok(SecretKey::from_slice(&bytes, "file key")?)
}

/// Decrypts a text rendition whole. Invalid UTF-8, which the media job
/// never writes, is replaced rather than rejected.
fn read_whole(
    blobs: &dyn BlobStore,
    key: &SecretKey,
    text: &file_rendition::Model,
) -> Result<String, MediaError> {
    let len = u64::try_from(text.size).unwrap_or(0);
    if len == 0 {
        return Ok(String::new());
    }
    let layout = Layout { plaintext_len: len };
    let bytes = blob::read_range(blobs, key, text.id, layout, 0, len - 1)?;
    Ok(String::from_utf8(bytes)
        .unwrap_or_else(|invalid| String::from_utf8_lossy(invalid.as_bytes()).into_owned()))
}

/// Checks a file's extracted text. `complete` is false when the text is not
/// all the file shows (see `kinlink_media::text::Extracted::complete`),
/// which adds a `needs_person_to_look` finding.
#[cfg(test)]
fn findings_in_text(
    file_id: uuid::Uuid,
    text: &str,
    complete: bool,
    terms: &[ProtectedTerm],
    show_terms: bool,
) -> Vec<AttachmentFinding> {
    let found = detect(text, terms);
    present(file_id, text, complete, &found, terms, show_terms)
}

/// Runs the check on a file's text, keeping the findings that are listed.
fn detect(text: &str, terms: &[ProtectedTerm]) -> Checked {
    Checked::new(Detector::new(terms).check(text), MAX_FINDINGS_PER_FILE)
}

/// Turns the check's findings in a file's text into what the API shows,
/// with pages, UTF-16 offsets and excerpts cut from the text. `complete`
/// false, or more findings than are listed, adds a `needs_person_to_look`
/// finding.
fn present(
    file_id: uuid::Uuid,
    text: &str,
    complete: bool,
    found: &Checked,
    terms: &[ProtectedTerm],
    show_terms: bool,
) -> Vec<AttachmentFinding> {
    let listed = &found.listed;
    let utf16 = utf16_offsets(text, listed.iter().flat_map(|f| [f.start, f.end]));
    let mut findings: Vec<AttachmentFinding> = listed
        .iter()
        .map(|finding| AttachmentFinding {
            file_id,
            rule: finding.rule.code(),
            page: Some(page_at(text, finding.start)),
            start: utf16.get(&finding.start).copied(),
            end: utf16.get(&finding.end).copied(),
            excerpt: Some(excerpt(text, finding.start, finding.end)),
            term: finding
                .term
                .filter(|_| show_terms)
                .and_then(|index| terms.get(index))
                .map(|term| term.text.clone()),
        })
        .collect();
    if !complete || found.total > listed.len() {
        findings.push(AttachmentFinding::needs_person_to_look(file_id));
    }
    findings
}

/// Maps each of `offsets`, byte offsets at character boundaries of `text`,
/// to UTF-16 code units, in one pass over the text.
fn utf16_offsets(text: &str, offsets: impl Iterator<Item = usize>) -> BTreeMap<usize, usize> {
    let mut wanted: Vec<usize> = offsets.collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut mapped = BTreeMap::new();
    let mut wanted = wanted.into_iter().peekable();
    let mut units = 0;
    for (at, c) in text.char_indices().chain([(text.len(), ' ')]) {
        while let Some(&next) = wanted.peek() {
            if next > at {
                break;
            }
            if next == at {
                mapped.insert(at, units);
            }
            wanted.next();
        }
        units += c.len_utf16();
    }
    mapped
}

/// Cuts the excerpt of the stretch `start..end` (byte offsets) of `text`.
fn excerpt(text: &str, start: usize, end: usize) -> Excerpt {
    let page_start = text[..start].rfind(PAGE_BREAK).map_or(0, |at| at + 1);
    let page_end = text[end..]
        .find(PAGE_BREAK)
        .map_or(text.len(), |at| end + at);
    let before_start = text[page_start..start]
        .char_indices()
        .rev()
        .nth(EXCERPT_CONTEXT_CHARS - 1)
        .map_or(page_start, |(at, _)| page_start + at);
    let after_end = text[end..page_end]
        .char_indices()
        .nth(EXCERPT_CONTEXT_CHARS)
        .map_or(page_end, |(at, _)| end + at);
    Excerpt {
        before: squeeze(&text[before_start..start]).trim_start().to_owned(),
        text: squeeze(&text[start..end]),
        after: squeeze(&text[end..after_end]).trim_end().to_owned(),
    }
}

/// Replaces each run of white space with one space.
fn squeeze(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinlink_core::identifying::TermKind;

    fn carter() -> Vec<ProtectedTerm> {
        vec![ProtectedTerm {
            kind: TermKind::Surname,
            text: "Carter".to_owned(),
        }]
    }

    fn only(findings: &[AttachmentFinding], rule: &str) -> AttachmentFinding {
        let matching: Vec<&AttachmentFinding> =
            findings.iter().filter(|f| f.rule == rule).collect();
        assert_eq!(matching.len(), 1, "{rule} in {findings:?}");
        matching[0].clone()
    }

    #[test]
    fn findings_give_page_and_excerpt() {
        let id = uuid::Uuid::now_v7();
        let text = "Dear Jordan,\n\nWe moved.\u{c}Our new home is at LS6 2AB,\n near the park.";
        let findings = findings_in_text(id, text, true, &carter(), false);
        let postcode = only(&findings, "postcode");
        assert_eq!(postcode.page, Some(2));
        let excerpt = postcode.excerpt.unwrap();
        assert_eq!(excerpt.text, "LS6 2AB");
        assert_eq!(excerpt.before, "Our new home is at ");
        assert_eq!(excerpt.after, ", near the park.");
        let units: Vec<u16> = text.encode_utf16().collect();
        let (start, end) = (postcode.start.unwrap(), postcode.end.unwrap());
        assert_eq!(String::from_utf16_lossy(&units[start..end]), "LS6 2AB");
        assert!(findings.iter().all(|f| f.rule != NEEDS_PERSON_TO_LOOK));
    }

    #[test]
    fn term_shown_to_practitioners_only() {
        let id = uuid::Uuid::now_v7();
        let text = "Love from the Cartor family";
        let writer = findings_in_text(id, text, true, &carter(), false);
        let near = only(&writer, "near_protected_term");
        assert_eq!(near.term, None);
        assert_eq!(near.excerpt.unwrap().text, "Cartor");
        let practitioner = findings_in_text(id, text, true, &carter(), true);
        let near = only(&practitioner, "near_protected_term");
        assert_eq!(near.term.as_deref(), Some("Carter"));
    }

    #[test]
    fn offsets_count_utf16_units() {
        let id = uuid::Uuid::now_v7();
        let text = "😀 Café 😀 at LS6 2AB";
        let postcode = only(&findings_in_text(id, text, true, &[], false), "postcode");
        let units: Vec<u16> = text.encode_utf16().collect();
        let (start, end) = (postcode.start.unwrap(), postcode.end.unwrap());
        assert_eq!(String::from_utf16_lossy(&units[start..end]), "LS6 2AB");
    }

    #[test]
    fn partial_text_needs_a_person() {
        let id = uuid::Uuid::now_v7();
        let findings = findings_in_text(id, "We had a quiet week.", false, &carter(), false);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0], AttachmentFinding::needs_person_to_look(id));
        let clean = findings_in_text(id, "We had a quiet week.", true, &carter(), false);
        assert!(clean.is_empty(), "{clean:?}");
    }

    #[test]
    fn findings_past_the_cap_need_a_person() {
        let id = uuid::Uuid::now_v7();
        let text = "Write to LS6 2AB please. ".repeat(MAX_FINDINGS_PER_FILE + 5);
        let findings = findings_in_text(id, &text, true, &[], false);
        assert_eq!(findings.len(), MAX_FINDINGS_PER_FILE + 1);
        assert_eq!(findings.last().map(|f| f.rule), Some(NEEDS_PERSON_TO_LOOK));
    }

    #[test]
    fn excerpt_is_cut_to_the_context() {
        let text = format!("{}LS6 2AB{}", "a ".repeat(50), " b".repeat(50));
        let start = 100;
        let cut = excerpt(&text, start, start + 7);
        assert_eq!(cut.before.chars().count(), EXCERPT_CONTEXT_CHARS);
        assert_eq!(cut.after.chars().count(), EXCERPT_CONTEXT_CHARS);
        assert_eq!(cut.text, "LS6 2AB");
    }
}
