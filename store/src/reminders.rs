//! Letterbox reminders: the agreements whose exchanges are scheduled, and
//! sending each reminder once.

use chrono::{DateTime, NaiveDate, Utc};
use kinlink_core::letterbox::{LetterStatus, LinkStatus, Side};
use kinlink_core::notices::Template;
use kinlink_core::reminders::ReminderKind;
use kinlink_core::{ConversationId, UserId};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use crate::entity::{agreement_party, contact_agreement, letter, reminder};
use crate::error::is_unique_violation;
use crate::letterbox::Agreement;
use crate::notifications::notify_on;
use crate::{Store, StoreError};

/// A reminder whose time has come, with the people it goes to.
#[derive(Debug, Clone)]
pub struct DueReminder {
    pub conversation_id: ConversationId,
    pub side: Side,
    pub due_on: NaiveDate,
    pub kind: ReminderKind,
    pub fire_at: DateTime<Utc>,
    pub recipients: Vec<UserId>,
    pub template: Template,
}

impl Store {
    /// Lists the active agreements whose exchanges fall on dates.
    pub async fn scheduled_agreements(&self) -> Result<Vec<Agreement>, StoreError> {
        let rows = contact_agreement::Entity::find()
            .filter(contact_agreement::Column::Status.eq(LinkStatus::Active.as_str()))
            .filter(contact_agreement::Column::OnRequest.eq(false))
            .all(&self.db)
            .await?;
        let ids: Vec<uuid::Uuid> = rows.iter().map(|row| row.conversation_id).collect();
        let parties = agreement_party::Entity::find()
            .filter(agreement_party::Column::ConversationId.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| Agreement {
                parties: parties
                    .iter()
                    .filter(|party| party.conversation_id == row.conversation_id)
                    .cloned()
                    .collect(),
                row,
            })
            .collect())
    }

    /// Returns whether one of `writers` submitted a letter in the link at
    /// or after `since`.
    pub async fn wrote_since(
        &self,
        conversation_id: ConversationId,
        writers: &[uuid::Uuid],
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        if writers.is_empty() {
            return Ok(false);
        }
        let count = letter::Entity::find()
            .filter(letter::Column::ConversationId.eq(conversation_id.0))
            .filter(letter::Column::WriterId.is_in(writers.iter().copied()))
            .filter(letter::Column::Status.ne(LetterStatus::Draft.as_str()))
            .filter(letter::Column::SubmittedAt.gte(since))
            .count(&self.db)
            .await?;
        Ok(count > 0)
    }

    /// Returns whether a reminder went out already.
    pub async fn reminder_sent(&self, due: &DueReminder) -> Result<bool, StoreError> {
        let count = reminder::Entity::find()
            .filter(reminder::Column::ConversationId.eq(due.conversation_id.0))
            .filter(reminder::Column::Side.eq(due.side.as_str()))
            .filter(reminder::Column::DueOn.eq(due.due_on))
            .filter(reminder::Column::Kind.eq(due.kind.as_str()))
            .count(&self.db)
            .await?;
        Ok(count > 0)
    }

    /// Records a reminder and queues its notifications in one transaction.
    /// Returns `false`, writing nothing, when it went out already.
    pub async fn send_reminder(
        &self,
        due: DueReminder,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        let inserted = reminder::Entity::insert(reminder::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            conversation_id: Set(due.conversation_id.0),
            side: Set(due.side.as_str().to_owned()),
            due_on: Set(due.due_on),
            kind: Set(due.kind.as_str().to_owned()),
            fire_at: Set(due.fire_at),
            sent_at: Set(now),
        })
        .exec_without_returning(&*transaction)
        .await;
        match inserted {
            Ok(_) => {}
            Err(error) if is_unique_violation(&error) => {
                transaction.rollback().await?;
                return Ok(false);
            }
            Err(error) => return Err(error.into()),
        }
        for recipient in due.recipients {
            notify_on(&*transaction, recipient, due.template, "/", now).await?;
        }
        transaction.commit().await?;
        Ok(true)
    }
}
