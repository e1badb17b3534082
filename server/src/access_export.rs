//! The access export: everything KinLink keeps about the signed-in person,
//! as the `export.json` of a ZIP archive, with the files they can read.
//!
//! Its `records` are driven by the data inventory: every table with
//! subject columns gives the rows that name the person, each column copied,
//! opened or withheld as [`kinlink_core::access_export::treatment`] returns.
//! Its `conversations` hold what the person can read in the application:
//! every message of the conversations they belong to, sent or received,
//! and the letters of their contact links. Its `files` list the files of
//! those conversations that they can open, which the archive carries under
//! `files/`. The format is described in `docs/protocol.md`.
//!
//! Everything is opened in the person's own session, with the keys that
//! only their session holds, and the platform data key for profiles and
//! rights requests.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kinlink_actors::keyring::Keyring;
use kinlink_core::access_export::{self, Treatment, subject_tables, treatment};
use kinlink_core::content::MessageContent;
use kinlink_core::crypto::keys::open_sealed;
use kinlink_core::crypto::{SecretKey, aead, bindings};
use kinlink_core::permissions::Action;
use kinlink_core::{ConversationId, MessageId, OrganisationId, UserId};
use kinlink_store::access_export::Person;
use kinlink_store::entity::file;
use serde::Serialize;
use serde_json::{Map, Value as Json};
use tracing::warn;

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::routes::conversations::authorise;
use crate::state::AppState;

/// The maximum number of messages read from the store at a time.
const PAGE: u64 = 500;
/// The maximum length of a file name's stem in an archive path, in
/// characters.
const MAX_NAME: usize = 100;

/// A file to carry in the archive: where, and how to read it.
pub struct ExportFile {
    pub path: String,
    pub key: SecretKey,
    /// The stored blob: the main rendition, or the original where there is
    /// none.
    pub blob: uuid::Uuid,
    pub len: u64,
}

/// A built export: its `export.json` and the files to add after it.
pub struct Export {
    pub json: Vec<u8>,
    pub files: Vec<ExportFile>,
}

#[derive(Serialize)]
struct Document {
    format: &'static str,
    version: u32,
    generated_at: DateTime<Utc>,
    user_id: UserId,
    records: BTreeMap<&'static str, Vec<Map<String, Json>>>,
    withheld: Vec<WithheldColumn>,
    unopened: Vec<Unopened>,
    conversations: Vec<ConversationRecord>,
    files: Vec<FileRecord>,
}

#[derive(Serialize)]
struct WithheldColumn {
    table: &'static str,
    column: &'static str,
    reason: &'static str,
}

/// A sealed value that did not open, so its place has `null`.
#[derive(Serialize)]
struct Unopened {
    table: &'static str,
    column: &'static str,
    row: Json,
}

#[derive(Serialize)]
struct ConversationRecord {
    id: ConversationId,
    kind: String,
    organisation_id: OrganisationId,
    messages: Vec<MessageRecord>,
    /// A contact link's letters; a discussion has none.
    #[serde(skip_serializing_if = "Option::is_none")]
    letters: Option<Vec<Json>>,
}

#[derive(Serialize)]
struct MessageRecord {
    seq: i64,
    message_id: MessageId,
    sender_id: UserId,
    sent_at: DateTime<Utc>,
    body: String,
    attachments: Vec<uuid::Uuid>,
}

#[derive(Serialize)]
struct FileRecord {
    id: uuid::Uuid,
    conversation_id: ConversationId,
    uploader_id: UserId,
    name: String,
    kind: Option<String>,
    created_at: DateTime<Utc>,
    /// The entry of the archive holding the file.
    path: String,
}

/// Builds the export of the signed-in user at `now`.
pub async fn build(
    state: &AppState,
    user: &SignedIn,
    now: DateTime<Utc>,
) -> Result<Export, ApiError> {
    let mut opener = Opener::new(state, user);
    let person = person(state, user).await?;
    let mut records = BTreeMap::new();
    let mut withheld = Vec::new();
    let mut unopened = Vec::new();
    for table in subject_tables() {
        let rows = state.store.rows_about(table, &person).await?;
        if rows.is_empty() {
            continue;
        }
        let mut shown = Vec::with_capacity(rows.len());
        for row in rows {
            shown.push(opener.treat(table.name, row, &mut unopened).await);
        }
        records.insert(table.name, shown);
        for (column, _) in table.columns {
            if let Treatment::Withheld(reason) = treatment(table.name, column) {
                withheld.push(WithheldColumn {
                    table: table.name,
                    column,
                    reason: reason.as_str(),
                });
            }
        }
    }

    let mut conversations = Vec::new();
    let mut file_records = Vec::new();
    let mut files = Vec::new();
    for summary in state.store.conversations_of(user.user_id).await? {
        let id = ConversationId(summary.conversation.id);
        if authorise(state, user, id, Action::ReadConversation)
            .await
            .is_err()
        {
            continue;
        }
        let messages = opener.messages(id).await?;
        let letters = if summary.conversation.kind == "contact_link" {
            Some(letters(state, user, id).await?)
        } else {
            None
        };
        for row in state.store.ready_files_in(id).await? {
            if let Some((record, file)) = opener.file(&row).await? {
                file_records.push(record);
                files.push(file);
            }
        }
        conversations.push(ConversationRecord {
            id,
            kind: summary.conversation.kind,
            organisation_id: OrganisationId(summary.conversation.organisation_id),
            messages,
            letters,
        });
    }

    let document = Document {
        format: access_export::FORMAT,
        version: access_export::FORMAT_VERSION,
        generated_at: now,
        user_id: user.user_id,
        records,
        withheld,
        unopened,
        conversations,
        files: file_records,
    };
    let json =
        serde_json::to_vec_pretty(&document).map_err(|error| ApiError::Internal(error.into()))?;
    Ok(Export { json, files })
}

/// Returns the values that name the user in each kind of subject column.
async fn person(state: &AppState, user: &SignedIn) -> Result<Person, ApiError> {
    let account = state.store.user(user.user_id).await?;
    let mut person = Person {
        user_id: Some(user.user_id.0),
        account_key: Some(crate::auth::account_subject(&account.email)),
        email: Some(account.email),
        ..Person::default()
    };
    let family_cases = kinlink_core::inventory::table("cases")
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the inventory has no cases table")))?;
    person.cases = state
        .store
        .rows_about(family_cases, &person)
        .await?
        .iter()
        .filter_map(|row| uuid_at(row, "id"))
        .collect();
    let members = kinlink_core::inventory::table("community_members").ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "the inventory has no community_members table"
        ))
    })?;
    person.membership_number = state
        .store
        .rows_about(members, &person)
        .await?
        .iter()
        .find_map(|row| row.get("membership_number")?.as_str().map(str::to_owned));
    Ok(person)
}

/// Returns the letters of a contact link the user can see, without the
/// writers' names, which are the writers' own data.
async fn letters(
    state: &AppState,
    user: &SignedIn,
    id: ConversationId,
) -> Result<Vec<Json>, ApiError> {
    let views = crate::routes::letters::readable_letters(state, user, id).await?;
    let mut letters = Vec::with_capacity(views.len());
    for view in views {
        let mut value =
            serde_json::to_value(view).map_err(|error| ApiError::Internal(error.into()))?;
        if let Some(object) = value.as_object_mut() {
            object.remove("writer_name");
        }
        letters.push(value);
    }
    Ok(letters)
}

/// Opens sealed values with the keys of the user's session.
struct Opener<'a> {
    state: &'a AppState,
    user: &'a SignedIn,
    keyring: Keyring,
    organisation_keys: BTreeMap<uuid::Uuid, Option<SecretKey>>,
}

impl<'a> Opener<'a> {
    fn new(state: &'a AppState, user: &'a SignedIn) -> Self {
        Self {
            state,
            user,
            keyring: Keyring::new(user.user_id, user.private_key.clone()),
            organisation_keys: BTreeMap::new(),
        }
    }

    /// Applies each column's treatment to one row.
    async fn treat(
        &mut self,
        table: &'static str,
        mut row: Map<String, Json>,
        unopened: &mut Vec<Unopened>,
    ) -> Map<String, Json> {
        let sealed = row.clone();
        let columns = kinlink_core::inventory::table(table)
            .map(|table| table.columns)
            .unwrap_or_default();
        for (column, _) in columns {
            match treatment(table, column) {
                Treatment::Copied => {}
                Treatment::Withheld(_) => {
                    row.remove(*column);
                }
                Treatment::Opened(name) => {
                    row.remove(*column);
                    let value = match sealed.get(*column) {
                        None | Some(Json::Null) => Json::Null,
                        Some(_) => match self.open(table, column, &sealed).await {
                            Some(value) => value,
                            None => {
                                unopened.push(Unopened {
                                    table,
                                    column,
                                    row: sealed.get("id").cloned().unwrap_or(Json::Null),
                                });
                                Json::Null
                            }
                        },
                    };
                    row.insert(name.to_owned(), value);
                }
            }
        }
        row
    }

    /// Opens one sealed column of a row; `None` when it does not open.
    async fn open(&mut self, table: &str, column: &str, row: &Map<String, Json>) -> Option<Json> {
        let opened = match (table, column) {
            ("messages", "ciphertext") => self.open_message(row).await,
            ("files", "sealed_name") => self.open_file_name(row).await,
            ("letter_events", "reason_ciphertext") => self.open_letter_reason(row).await,
            ("cases", "sealed_profile") => self.open_profile(row),
            ("case_notes", "ciphertext") => self.open_case_note(row).await,
            ("rights_requests", "sealed_details") => self.open_rights(row, "details", false),
            ("rights_requests", "sealed_subject") => self.open_rights(row, "subject", true),
            _ => None,
        };
        if opened.is_none() {
            warn!(
                table,
                column, "a sealed value of the access export did not open"
            );
        }
        opened
    }

    async fn open_bound(
        &mut self,
        conversation: ConversationId,
        epoch: i32,
        aad: &aead::AssociatedData,
        ciphertext: &[u8],
    ) -> Option<Vec<u8>> {
        self.keyring
            .open_bound(&self.state.store, conversation, epoch, aad, ciphertext)
            .await
            .ok()
    }

    async fn open_message(&mut self, row: &Map<String, Json>) -> Option<Json> {
        let conversation = ConversationId(uuid_at(row, "conversation_id")?);
        let epoch = int_at(row, "key_epoch")?;
        let aad = bindings::message(
            conversation,
            MessageId(uuid_at(row, "message_id")?),
            UserId(uuid_at(row, "sender_id")?),
            epoch,
        );
        let plaintext = self
            .open_bound(conversation, epoch, &aad, &bytes_at(row, "ciphertext")?)
            .await?;
        let (body, attachments) = MessageContent::from_plaintext(plaintext).ok()?.into_parts();
        Some(serde_json::json!({ "text": body, "attachments": attachments }))
    }

    async fn file_key(
        &mut self,
        id: uuid::Uuid,
        conversation: ConversationId,
        epoch: i32,
        sealed_key: &[u8],
    ) -> Option<SecretKey> {
        let aad = bindings::file_key(id, conversation, epoch);
        let bytes = self
            .open_bound(conversation, epoch, &aad, sealed_key)
            .await?;
        SecretKey::from_slice(&bytes, "file key").ok()
    }

    async fn open_file_name(&mut self, row: &Map<String, Json>) -> Option<Json> {
        let id = uuid_at(row, "id")?;
        let conversation = ConversationId(uuid_at(row, "conversation_id")?);
        let epoch = int_at(row, "key_epoch")?;
        let key = self
            .file_key(id, conversation, epoch, &bytes_at(row, "sealed_key")?)
            .await?;
        let aad = bindings::file_name(id);
        let name = aead::open(&key, &bytes_at(row, "sealed_name")?, aad.as_bytes()).ok()?;
        String::from_utf8(name).ok().map(Json::String)
    }

    async fn open_letter_reason(&mut self, row: &Map<String, Json>) -> Option<Json> {
        let conversation = ConversationId(uuid_at(row, "conversation_id")?);
        let epoch = int_at(row, "key_epoch")?;
        let aad = bindings::letter_reason(
            conversation,
            uuid_at(row, "letter_id")?,
            uuid_at(row, "id")?,
            epoch,
        );
        let plaintext = self
            .open_bound(
                conversation,
                epoch,
                &aad,
                &bytes_at(row, "reason_ciphertext")?,
            )
            .await?;
        String::from_utf8(plaintext).ok().map(Json::String)
    }

    fn open_profile(&self, row: &Map<String, Json>) -> Option<Json> {
        let aad = bindings::case_profile(uuid_at(row, "id")?, row.get("kind")?.as_str()?);
        let plaintext = aead::open(
            &self.state.profile_key,
            &bytes_at(row, "sealed_profile")?,
            aad.as_bytes(),
        )
        .ok()?;
        // The profile is stored with its kind, which the row's `kind`
        // column repeats.
        let mut stored: Json = serde_json::from_slice(&plaintext).ok()?;
        stored.get_mut("profile").map(Json::take)
    }

    fn open_rights(&self, row: &Map<String, Json>, part: &str, json: bool) -> Option<Json> {
        let column = format!("sealed_{part}");
        let aad = bindings::rights_request(uuid_at(row, "id")?, part);
        let plaintext = aead::open(
            &self.state.profile_key,
            &bytes_at(row, &column)?,
            aad.as_bytes(),
        )
        .ok()?;
        if json {
            serde_json::from_slice(&plaintext).ok()
        } else {
            String::from_utf8(plaintext).ok().map(Json::String)
        }
    }

    async fn open_case_note(&mut self, row: &Map<String, Json>) -> Option<Json> {
        let organisation = OrganisationId(uuid_at(row, "organisation_id")?);
        let conversation = ConversationId(uuid_at(row, "conversation_id")?);
        let id = uuid_at(row, "id")?;
        if !self.organisation_keys.contains_key(&organisation.0) {
            let key =
                crate::routes::case_notes::organisation_key(self.state, self.user, organisation)
                    .await
                    .ok();
            self.organisation_keys.insert(organisation.0, key);
        }
        let organisation_key = self.organisation_keys.get(&organisation.0)?.as_ref()?;
        let info = bindings::case_note_key_info(organisation, conversation, id);
        let key = open_sealed(organisation_key, &bytes_at(row, "sealed_key")?, &info).ok()?;
        let aad = bindings::case_note(conversation, id, UserId(uuid_at(row, "author_id")?));
        let plaintext = aead::open(&key, &bytes_at(row, "ciphertext")?, aad.as_bytes()).ok()?;
        String::from_utf8(plaintext).ok().map(Json::String)
    }

    /// Returns every message of a conversation that opens, sent or
    /// received.
    async fn messages(&mut self, id: ConversationId) -> Result<Vec<MessageRecord>, ApiError> {
        let mut records = Vec::new();
        let mut after = 0;
        loop {
            let rows = self.state.store.messages_after(id, after, PAGE).await?;
            let Some(last) = rows.last() else {
                break;
            };
            after = last.seq;
            for row in rows {
                let Ok(content) = self.keyring.open_message(&self.state.store, &row).await else {
                    warn!(conversation = %id, seq = row.seq, "a message of the access export did not open");
                    continue;
                };
                let (body, attachments) = content.into_parts();
                records.push(MessageRecord {
                    seq: row.seq,
                    message_id: MessageId(row.message_id),
                    sender_id: UserId(row.sender_id),
                    sent_at: row.sent_at,
                    body,
                    attachments,
                });
            }
        }
        Ok(records)
    }

    /// Returns a ready file the user can open, with its place in the
    /// archive. Only their own uploads and files shared with the
    /// conversation are theirs: a worker may read a family's unsent upload
    /// while supervising, but it is not the worker's data. A file whose key
    /// does not open gives `None`.
    async fn file(
        &mut self,
        row: &file::Model,
    ) -> Result<Option<(FileRecord, ExportFile)>, ApiError> {
        if row.uploader_id != self.user.user_id.0 && row.shared_at.is_none() {
            return Ok(None);
        }
        let conversation = ConversationId(row.conversation_id);
        let Some(key) = self
            .file_key(row.id, conversation, row.key_epoch, &row.sealed_key)
            .await
        else {
            warn!(file = %row.id, "a file of the access export did not open");
            return Ok(None);
        };
        let renditions = self.state.store.renditions(row.id).await?;
        let (blob, len, extension) = match renditions.iter().find(|r| r.role == "main") {
            Some(main) => (
                main.id,
                u64::try_from(main.size).unwrap_or(0),
                crate::routes::files::extension_of(&main.mime),
            ),
            None => (
                row.id,
                u64::try_from(row.declared_size).unwrap_or(0),
                original_extension(row.kind.as_deref()),
            ),
        };
        let name = crate::routes::files::file_name(row, &key);
        let path = format!("files/{}/{}", row.id, archive_name(&name, extension));
        let record = FileRecord {
            id: row.id,
            conversation_id: conversation,
            uploader_id: UserId(row.uploader_id),
            name,
            kind: row.kind.clone(),
            created_at: row.created_at,
            path: path.clone(),
        };
        Ok(Some((
            record,
            ExportFile {
                path,
                key,
                blob,
                len,
            },
        )))
    }
}

/// Returns the extension of a file kept as it was uploaded, from the kind
/// its content was checked to be.
fn original_extension(kind: Option<&str>) -> &'static str {
    match kind {
        Some("pdf") => "pdf",
        Some("jpeg") => "jpg",
        Some("png") => "png",
        Some("heic") => "heic",
        _ => "bin",
    }
}

/// Returns a file's name as an archive entry: no folders, no leading
/// dots, no control characters, and a stem of at most [`MAX_NAME`]
/// characters. The extension of what the archive carries replaces the
/// name's own, so a PDF named `letter.hta` is saved as `letter.pdf`.
fn archive_name(name: &str, extension: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    // Only a short run of letters and digits after the last dot counts as
    // an extension.
    let stem = match cleaned.rsplit_once('.') {
        Some((stem, extension))
            if (1..=8).contains(&extension.len())
                && extension.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => cleaned,
    }
    .trim();
    let stem: String = if stem.is_empty() {
        "file".to_owned()
    } else {
        stem.chars().take(MAX_NAME).collect()
    };
    format!("{stem}.{extension}")
}

fn uuid_at(row: &Map<String, Json>, column: &str) -> Option<uuid::Uuid> {
    row.get(column)?.as_str()?.parse().ok()
}

fn int_at(row: &Map<String, Json>, column: &str) -> Option<i32> {
    i32::try_from(row.get(column)?.as_i64()?).ok()
}

/// Reads a binary column, which the store gives as an array of bytes.
fn bytes_at(row: &Map<String, Json>, column: &str) -> Option<Vec<u8>> {
    row.get(column)?
        .as_array()?
        .iter()
        .map(|byte| byte.as_u64().and_then(|byte| u8::try_from(byte).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::archive_name;

    #[test]
    fn archive_names_stay_in_their_folder() {
        assert_eq!(
            archive_name("../../etc/passwd", "pdf"),
            "_.._etc_passwd.pdf"
        );
        assert_eq!(archive_name("..\\x", "bin"), "_x.bin");
        assert_eq!(archive_name("clip.mov", "mp4"), "clip.mp4");
        assert_eq!(archive_name("letter.hta", "pdf"), "letter.pdf");
        assert_eq!(archive_name("", "pdf"), "file.pdf");
        assert_eq!(archive_name(".hidden", "jpg"), "hidden.jpg");
        assert_eq!(archive_name("...", "jpg"), "file.jpg");
        let long = archive_name(&format!("{}.pdf", "a".repeat(300)), "pdf");
        assert_eq!(long, format!("{}.pdf", "a".repeat(100)));
    }
}
