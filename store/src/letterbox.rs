//! Contact agreements, letters, their versions and the steps of review.
//!
//! Each change of a letter's status is a conditional update on the status
//! and version the caller read, so two practitioners deciding at once, or
//! a writer saving while a practitioner decides, cannot both win: the
//! second gets `false` and nothing of theirs is written.

use chrono::{DateTime, Utc};
use kinlink_core::letterbox::{LetterStatus, LinkStatus, LiveTerms, PartyRelationship, Side};
use kinlink_core::{ConversationId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{
    agreement_party, case_note, contact_agreement, conversation_member, letter, letter_event,
    letter_version,
};
use crate::{Store, StoreError};

/// An agreement as the supervising practitioner sets it. The link's
/// status is kept as it was.
#[derive(Debug, Clone)]
pub struct AgreementRecord {
    pub conversation_id: ConversationId,
    pub review_level: &'static str,
    pub read_receipts: &'static str,
    pub on_request: bool,
    pub live_messages: bool,
    /// The yearly exchanges as JSON.
    pub exchanges: String,
    pub adoptive_media: String,
    pub birth_media: String,
    /// The length of the link's video calls in minutes, when the agreement
    /// sets one.
    pub call_minutes: Option<i32>,
    pub terms_epoch: i32,
    pub terms_ciphertext: Vec<u8>,
    pub parties: Vec<(UserId, Side, PartyRelationship)>,
    pub updated_by: UserId,
    pub updated_at: DateTime<Utc>,
}

/// A stored agreement with its parties.
#[derive(Debug, Clone)]
pub struct Agreement {
    pub row: contact_agreement::Model,
    pub parties: Vec<agreement_party::Model>,
}

impl Agreement {
    /// Returns the parties of one side.
    pub fn parties_of(&self, side: Side) -> Vec<UserId> {
        self.parties
            .iter()
            .filter(|party| Side::parse(&party.side) == Some(side))
            .map(|party| UserId(party.user_id))
            .collect()
    }

    /// Returns the side of a party, or `None` for anyone else.
    pub fn side_of(&self, user: UserId) -> Option<Side> {
        self.parties
            .iter()
            .find(|party| party.user_id == user.0)
            .and_then(|party| Side::parse(&party.side))
    }
}

/// A change of a contact link's status.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub conversation_id: ConversationId,
    pub from: LinkStatus,
    pub to: LinkStatus,
    pub epoch: Option<i32>,
    pub reason_ciphertext: Option<Vec<u8>>,
    pub by: UserId,
    pub at: DateTime<Utc>,
}

/// A step in a letter's life, for its timeline.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: uuid::Uuid,
    pub kind: &'static str,
    pub actor: UserId,
    pub version: i32,
    /// The epoch and ciphertext of a decision's reason.
    pub reason: Option<(i32, Vec<u8>)>,
    pub at: DateTime<Utc>,
}

/// A sealed version of a letter's content.
#[derive(Debug, Clone)]
pub struct SealedVersion {
    pub epoch: i32,
    pub ciphertext: Vec<u8>,
}

fn event_row(
    letter_id: uuid::Uuid,
    conversation_id: uuid::Uuid,
    event: NewEvent,
) -> letter_event::ActiveModel {
    let (key_epoch, reason_ciphertext) = match event.reason {
        Some((epoch, ciphertext)) => (Some(epoch), Some(ciphertext)),
        None => (None, None),
    };
    letter_event::ActiveModel {
        id: Set(event.id),
        letter_id: Set(letter_id),
        conversation_id: Set(conversation_id),
        kind: Set(event.kind.to_owned()),
        actor_id: Set(event.actor.0),
        version: Set(event.version),
        key_epoch: Set(key_epoch),
        reason_ciphertext: Set(reason_ciphertext),
        at: Set(event.at),
    }
}

impl Store {
    /// Stores a link's agreement and its parties, replacing what was there.
    pub async fn put_agreement(&self, record: AgreementRecord) -> Result<(), StoreError> {
        let conversation_id = record.conversation_id.0;
        let transaction = self.begin_write().await?;
        let existing = contact_agreement::Entity::find_by_id(conversation_id)
            .one(&*transaction)
            .await?;
        let mut row = contact_agreement::ActiveModel {
            conversation_id: Set(conversation_id),
            review_level: Set(record.review_level.to_owned()),
            read_receipts: Set(record.read_receipts.to_owned()),
            on_request: Set(record.on_request),
            live_messages: Set(record.live_messages),
            exchanges: Set(record.exchanges),
            adoptive_media: Set(record.adoptive_media),
            birth_media: Set(record.birth_media),
            call_minutes: Set(record.call_minutes),
            terms_epoch: Set(record.terms_epoch),
            terms_ciphertext: Set(record.terms_ciphertext),
            updated_by: Set(record.updated_by.0),
            updated_at: Set(record.updated_at),
            ..Default::default()
        };
        if existing.is_some() {
            contact_agreement::Entity::update(row)
                .exec(&*transaction)
                .await?;
        } else {
            row.status = Set(LinkStatus::Active.as_str().to_owned());
            row.status_epoch = Set(None);
            row.status_reason_ciphertext = Set(None);
            contact_agreement::Entity::insert(row)
                .exec_without_returning(&*transaction)
                .await?;
        }
        agreement_party::Entity::delete_many()
            .filter(agreement_party::Column::ConversationId.eq(conversation_id))
            .exec(&*transaction)
            .await?;
        if !record.parties.is_empty() {
            let parties = record
                .parties
                .into_iter()
                .map(|(user, side, relationship)| agreement_party::ActiveModel {
                    conversation_id: Set(conversation_id),
                    user_id: Set(user.0),
                    side: Set(side.as_str().to_owned()),
                    relationship: Set(relationship.as_str().to_owned()),
                });
            agreement_party::Entity::insert_many(parties)
                .exec_without_returning(&*transaction)
                .await?;
        }
        Ok(transaction.commit().await?)
    }

    /// Loads a link's agreement and parties, if it has one.
    pub async fn agreement(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Option<Agreement>, StoreError> {
        let Some(row) = contact_agreement::Entity::find_by_id(conversation_id.0)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let parties = agreement_party::Entity::find()
            .filter(agreement_party::Column::ConversationId.eq(conversation_id.0))
            .order_by_asc(agreement_party::Column::UserId)
            .all(&self.db)
            .await?;
        Ok(Some(Agreement { row, parties }))
    }

    /// Returns whether a conversation takes new messages and files: true
    /// unless it is a contact link whose agreement is suspended or ended.
    pub async fn link_open(&self, conversation_id: ConversationId) -> Result<bool, StoreError> {
        let row = contact_agreement::Entity::find_by_id(conversation_id.0)
            .one(&self.db)
            .await?;
        Ok(row.is_none_or(|row| row.status == LinkStatus::Active.as_str()))
    }

    /// Returns the status and live-message setting of a link's agreement,
    /// or `None` when it has no agreement.
    pub async fn live_terms(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Option<LiveTerms>, StoreError> {
        let row = contact_agreement::Entity::find_by_id(conversation_id.0)
            .one(&self.db)
            .await?;
        row.map(|row| {
            let status = LinkStatus::parse(&row.status).ok_or_else(|| StoreError::Corrupt {
                what: "contact_agreements.status",
            })?;
            Ok(LiveTerms {
                status,
                live_messages: row.live_messages,
            })
        })
        .transpose()
    }

    /// Changes a link's status if it is still `change.from`; returns
    /// whether it changed.
    pub async fn set_link_status(&self, change: StatusChange) -> Result<bool, StoreError> {
        let result = contact_agreement::Entity::update_many()
            .col_expr(
                contact_agreement::Column::Status,
                Expr::value(change.to.as_str()),
            )
            .col_expr(
                contact_agreement::Column::StatusEpoch,
                Expr::value(change.epoch),
            )
            .col_expr(
                contact_agreement::Column::StatusReasonCiphertext,
                Expr::value(change.reason_ciphertext),
            )
            .col_expr(
                contact_agreement::Column::UpdatedBy,
                Expr::value(change.by.0),
            )
            .col_expr(contact_agreement::Column::UpdatedAt, Expr::value(change.at))
            .filter(contact_agreement::Column::ConversationId.eq(change.conversation_id.0))
            .filter(contact_agreement::Column::Status.eq(change.from.as_str()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Starts a letter as a draft with its first version.
    pub async fn create_letter(
        &self,
        id: uuid::Uuid,
        conversation_id: ConversationId,
        content: SealedVersion,
        event: NewEvent,
    ) -> Result<(), StoreError> {
        let at = event.at;
        let writer = event.actor;
        let transaction = self.begin_write().await?;
        letter::Entity::insert(letter::ActiveModel {
            id: Set(id),
            conversation_id: Set(conversation_id.0),
            writer_id: Set(writer.0),
            status: Set(LetterStatus::Draft.as_str().to_owned()),
            version: Set(1),
            created_at: Set(at),
            updated_at: Set(at),
            submitted_at: Set(None),
            released_at: Set(None),
        })
        .exec_without_returning(&*transaction)
        .await?;
        letter_version::Entity::insert(letter_version::ActiveModel {
            letter_id: Set(id),
            version: Set(1),
            key_epoch: Set(content.epoch),
            ciphertext: Set(content.ciphertext),
            saved_at: Set(at),
            submitted_at: Set(None),
        })
        .exec_without_returning(&*transaction)
        .await?;
        letter_event::Entity::insert(event_row(id, conversation_id.0, event))
            .exec_without_returning(&*transaction)
            .await?;
        Ok(transaction.commit().await?)
    }

    /// Loads a letter.
    pub async fn letter(&self, id: uuid::Uuid) -> Result<letter::Model, StoreError> {
        letter::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound { what: "letter" })
    }

    /// Lists a letter's versions, oldest first.
    pub async fn letter_versions(
        &self,
        id: uuid::Uuid,
    ) -> Result<Vec<letter_version::Model>, StoreError> {
        Ok(letter_version::Entity::find()
            .filter(letter_version::Column::LetterId.eq(id))
            .order_by_asc(letter_version::Column::Version)
            .all(&self.db)
            .await?)
    }

    /// Saves the writer's edit of a letter still in `status` at `version`.
    /// A version that was submitted stays as it was: the edit starts the
    /// next version. Returns the version written, or `None` when the
    /// letter has moved on.
    pub async fn save_letter(
        &self,
        current: &letter::Model,
        content: SealedVersion,
        at: DateTime<Utc>,
    ) -> Result<Option<i32>, StoreError> {
        let transaction = self.begin_write().await?;
        let latest = letter_version::Entity::find_by_id((current.id, current.version))
            .one(&*transaction)
            .await?
            .ok_or(StoreError::NotFound {
                what: "letter version",
            })?;
        let version = if latest.submitted_at.is_some() {
            current.version + 1
        } else {
            current.version
        };
        let moved = letter::Entity::update_many()
            .col_expr(letter::Column::Version, Expr::value(version))
            .col_expr(letter::Column::UpdatedAt, Expr::value(at))
            .filter(letter::Column::Id.eq(current.id))
            .filter(letter::Column::Status.eq(current.status.as_str()))
            .filter(letter::Column::Version.eq(current.version))
            .exec(&*transaction)
            .await?;
        if moved.rows_affected != 1 {
            transaction.rollback().await?;
            return Ok(None);
        }
        let row = letter_version::ActiveModel {
            letter_id: Set(current.id),
            version: Set(version),
            key_epoch: Set(content.epoch),
            ciphertext: Set(content.ciphertext),
            saved_at: Set(at),
            submitted_at: Set(None),
        };
        if version == current.version {
            letter_version::Entity::update(row)
                .exec(&*transaction)
                .await?;
        } else {
            letter_version::Entity::insert(row)
                .exec_without_returning(&*transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(Some(version))
    }

    /// Moves a letter from the status and version the caller read to
    /// `to`, stamping the submission or release and adding the steps to
    /// its timeline. Returns whether it moved.
    pub async fn move_letter(
        &self,
        current: &letter::Model,
        to: LetterStatus,
        events: Vec<NewEvent>,
        released_files: &[uuid::Uuid],
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let submitting = events.iter().any(|event| event.kind == "submitted");
        let transaction = self.begin_write().await?;
        let mut update = letter::Entity::update_many()
            .col_expr(letter::Column::Status, Expr::value(to.as_str()))
            .col_expr(letter::Column::UpdatedAt, Expr::value(at));
        if submitting {
            update = update.col_expr(letter::Column::SubmittedAt, Expr::value(at));
        }
        if to == LetterStatus::Released {
            update = update.col_expr(letter::Column::ReleasedAt, Expr::value(at));
        }
        let moved = update
            .filter(letter::Column::Id.eq(current.id))
            .filter(letter::Column::Status.eq(current.status.as_str()))
            .filter(letter::Column::Version.eq(current.version))
            .exec(&*transaction)
            .await?;
        if moved.rows_affected != 1 {
            transaction.rollback().await?;
            return Ok(false);
        }
        if submitting {
            letter_version::Entity::update_many()
                .col_expr(letter_version::Column::SubmittedAt, Expr::value(at))
                .filter(letter_version::Column::LetterId.eq(current.id))
                .filter(letter_version::Column::Version.eq(current.version))
                .exec(&*transaction)
                .await?;
        }
        if to == LetterStatus::Released {
            crate::files::share(
                &*transaction,
                ConversationId(current.conversation_id),
                released_files,
                at,
            )
            .await?;
        }
        if !events.is_empty() {
            let rows = events
                .into_iter()
                .map(|event| event_row(current.id, current.conversation_id, event));
            letter_event::Entity::insert_many(rows)
                .exec_without_returning(&*transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(true)
    }

    /// Records a step whose id the caller derives from what it records
    /// (a reader's first read, a protected term flagged), so recording it
    /// again writes nothing. Returns whether this was the first.
    pub async fn record_letter_step_once(
        &self,
        current: &letter::Model,
        event: NewEvent,
    ) -> Result<bool, StoreError> {
        let row = event_row(current.id, current.conversation_id, event);
        match letter_event::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if crate::error::is_unique_violation(&error) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Lists a link's letters, newest first.
    pub async fn letters_in(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Vec<letter::Model>, StoreError> {
        Ok(letter::Entity::find()
            .filter(letter::Column::ConversationId.eq(conversation_id.0))
            .order_by_desc(letter::Column::CreatedAt)
            .order_by_desc(letter::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Lists the steps of one letter, or of every letter of a link, in the
    /// order they were stored.
    pub async fn letter_events(
        &self,
        conversation_id: ConversationId,
        letter_id: Option<uuid::Uuid>,
    ) -> Result<Vec<letter_event::Model>, StoreError> {
        let mut query = letter_event::Entity::find()
            .filter(letter_event::Column::ConversationId.eq(conversation_id.0));
        if let Some(letter_id) = letter_id {
            query = query.filter(letter_event::Column::LetterId.eq(letter_id));
        }
        Ok(query
            .order_by_asc(letter_event::Column::At)
            .all(&self.db)
            .await?)
    }

    /// Returns whether a letter by one of `writers` has been released in
    /// the link.
    pub async fn released_from_any(
        &self,
        conversation_id: ConversationId,
        writers: &[uuid::Uuid],
    ) -> Result<bool, StoreError> {
        if writers.is_empty() {
            return Ok(false);
        }
        let found = letter::Entity::find()
            .filter(letter::Column::ConversationId.eq(conversation_id.0))
            .filter(letter::Column::Status.eq(LetterStatus::Released.as_str()))
            .filter(letter::Column::WriterId.is_in(writers.iter().copied()))
            .one(&self.db)
            .await?;
        Ok(found.is_some())
    }

    /// Lists the submitted letters in the links a user supervises, oldest
    /// submission first.
    pub async fn review_queue(&self, user: UserId) -> Result<Vec<letter::Model>, StoreError> {
        let supervised: Vec<uuid::Uuid> = conversation_member::Entity::find()
            .filter(conversation_member::Column::UserId.eq(user.0))
            .filter(conversation_member::Column::Role.eq("supervisor"))
            .filter(conversation_member::Column::RemovedAt.is_null())
            .all(&self.db)
            .await?
            .into_iter()
            .map(|member| member.conversation_id)
            .collect();
        if supervised.is_empty() {
            return Ok(Vec::new());
        }
        Ok(letter::Entity::find()
            .filter(letter::Column::ConversationId.is_in(supervised))
            .filter(letter::Column::Status.eq(LetterStatus::Submitted.as_str()))
            .order_by_asc(letter::Column::SubmittedAt)
            .all(&self.db)
            .await?)
    }
}

impl Store {
    /// Stores a practitioner's case note.
    pub async fn add_case_note(&self, note: case_note::Model) -> Result<(), StoreError> {
        case_note::Entity::insert(case_note::ActiveModel {
            id: Set(note.id),
            conversation_id: Set(note.conversation_id),
            author_id: Set(note.author_id),
            organisation_id: Set(note.organisation_id),
            sealed_key: Set(note.sealed_key),
            ciphertext: Set(note.ciphertext),
            written_at: Set(note.written_at),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Lists a link's case notes, oldest first.
    pub async fn case_notes(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Vec<case_note::Model>, StoreError> {
        Ok(case_note::Entity::find()
            .filter(case_note::Column::ConversationId.eq(conversation_id.0))
            .order_by_asc(case_note::Column::WrittenAt)
            .order_by_asc(case_note::Column::Id)
            .all(&self.db)
            .await?)
    }
}
