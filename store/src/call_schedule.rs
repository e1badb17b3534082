//! Live calls arranged ahead of time. Arranging one emails every other
//! member of the conversation, and cancelling it emails them again. Each
//! email is queued in the same transaction as its change, so members are
//! emailed about every stored change and about nothing else.

use chrono::{DateTime, Duration, Utc};
use kinlink_core::notices::Template;
use kinlink_core::{ConversationId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{conversation, email_outbox, scheduled_call};
use crate::outbox::{NewEmail, outbox_row};
use crate::{Store, StoreError};

/// The limits on arranging sessions in one conversation.
#[derive(Clone, Copy, Debug)]
pub struct ScheduleLimits {
    /// Sessions arranged and not yet due.
    pub upcoming: u64,
    /// Sessions arranged in the last 24 hours, cancelled ones included,
    /// since each emailed every member.
    pub per_day: u64,
}

/// The outcome of a request to arrange a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheduled {
    Stored,
    /// The conversation has as many sessions not yet due as it may.
    TooManyUpcoming,
    /// The conversation had as many sessions arranged in the last day as
    /// it may.
    TooManyToday,
}

/// Queues one email of `template` to each of `recipients`, sent at once
/// whatever their digest choice, because a session has a time.
async fn queue_to<C: ConnectionTrait>(
    connection: &C,
    recipients: &[UserId],
    template: Template,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for recipient in recipients {
        email_outbox::Entity::insert(outbox_row(NewEmail {
            id: uuid::Uuid::now_v7(),
            user_id: *recipient,
            template,
            link_path: "/".to_owned(),
            send_after: now,
            created_at: now,
        }))
        .exec_without_returning(connection)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Stores a scheduled call and queues an invitation to each of
    /// `invitees`, in one transaction, unless the conversation is at one of
    /// `limits`. The counts are taken under the conversation's lock, so
    /// requests made at the same time cannot pass a limit together.
    pub async fn schedule_call(
        &self,
        row: scheduled_call::Model,
        invitees: &[UserId],
        limits: ScheduleLimits,
    ) -> Result<Scheduled, StoreError> {
        let transaction = self.begin_write().await?;
        if transaction.get_database_backend() == DbBackend::Postgres {
            // SQLite's write transaction is already the only writer.
            conversation::Entity::find_by_id(row.conversation_id)
                .select_only()
                .column(conversation::Column::Id)
                .lock_exclusive()
                .into_tuple::<uuid::Uuid>()
                .one(&*transaction)
                .await?;
        }
        let upcoming = scheduled_call::Entity::find()
            .filter(scheduled_call::Column::ConversationId.eq(row.conversation_id))
            .filter(scheduled_call::Column::CancelledAt.is_null())
            .filter(scheduled_call::Column::StartsAt.gte(row.created_at))
            .count(&*transaction)
            .await?;
        if upcoming >= limits.upcoming {
            return Ok(Scheduled::TooManyUpcoming);
        }

        // Arranged in the last day, cancelled or not: each one emailed
        // every member.
        let arranged_today = scheduled_call::Entity::find()
            .filter(scheduled_call::Column::ConversationId.eq(row.conversation_id))
            .filter(scheduled_call::Column::CreatedAt.gt(row.created_at - Duration::days(1)))
            .count(&*transaction)
            .await?;
        if arranged_today >= limits.per_day {
            return Ok(Scheduled::TooManyToday);
        }

        scheduled_call::Entity::insert(scheduled_call::ActiveModel {
            id: Set(row.id),
            conversation_id: Set(row.conversation_id),
            scheduled_by: Set(row.scheduled_by),
            starts_at: Set(row.starts_at),
            created_at: Set(row.created_at),
            cancelled_at: Set(None),
            cancelled_by: Set(None),
        })
        .exec_without_returning(&*transaction)
        .await?;
        queue_to(
            &*transaction,
            invitees,
            Template::CallScheduled,
            row.created_at,
        )
        .await?;
        transaction.commit().await?;
        Ok(Scheduled::Stored)
    }

    /// Lists a conversation's scheduled calls that are not cancelled and
    /// start at or after `since`, soonest first.
    pub async fn scheduled_calls(
        &self,
        conversation: ConversationId,
        since: DateTime<Utc>,
    ) -> Result<Vec<scheduled_call::Model>, StoreError> {
        Ok(scheduled_call::Entity::find()
            .filter(scheduled_call::Column::ConversationId.eq(conversation.0))
            .filter(scheduled_call::Column::CancelledAt.is_null())
            .filter(scheduled_call::Column::StartsAt.gte(since))
            .order_by_asc(scheduled_call::Column::StartsAt)
            .order_by_asc(scheduled_call::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Cancels one of a conversation's scheduled calls that has not
    /// started by `at`, and queues a notice to each of `notified`, in one
    /// transaction. Returns `false`, and changes nothing, when there is no
    /// such call, it was already cancelled, or it has started.
    pub async fn cancel_scheduled_call(
        &self,
        conversation: ConversationId,
        id: uuid::Uuid,
        by: UserId,
        at: DateTime<Utc>,
        notified: &[UserId],
    ) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        let changed = scheduled_call::Entity::update_many()
            .col_expr(scheduled_call::Column::CancelledAt, Expr::value(at))
            .col_expr(scheduled_call::Column::CancelledBy, Expr::value(by.0))
            .filter(scheduled_call::Column::Id.eq(id))
            .filter(scheduled_call::Column::ConversationId.eq(conversation.0))
            .filter(scheduled_call::Column::CancelledAt.is_null())
            .filter(scheduled_call::Column::StartsAt.gt(at))
            .exec(&*transaction)
            .await?
            .rows_affected;
        if changed == 0 {
            return Ok(false);
        }
        queue_to(&*transaction, notified, Template::CallCancelled, at).await?;
        transaction.commit().await?;
        Ok(true)
    }
}
