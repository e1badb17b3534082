//! Live calls and their record. The record is activity data: who joined,
//! was admitted, paused, muted or removed, left, and when.

use chrono::{DateTime, Utc};
use kinlink_core::{ConversationId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entity::{call, call_event};
use crate::{Store, StoreError};

impl Store {
    /// Stores a call that starts now.
    pub async fn start_call(&self, row: call::Model) -> Result<(), StoreError> {
        call::Entity::insert(call::ActiveModel {
            id: Set(row.id),
            conversation_id: Set(row.conversation_id),
            host_id: Set(row.host_id),
            started_at: Set(row.started_at),
            ends_at: Set(row.ends_at),
            ended_at: Set(None),
            end_reason: Set(None),
            node_id: Set(row.node_id),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Records that a call ended, once.
    pub async fn end_call(
        &self,
        id: uuid::Uuid,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        mark_ended(&self.db, id, at, reason).await
    }

    /// Ends every call that `node` left open, as a node that stopped
    /// without ending its calls does, with an `ended` step in each call's
    /// record. Returns the calls it ended, as they are now stored. Calls of
    /// other nodes stay as they are, since those nodes may still run them.
    pub async fn end_open_calls_of_node(
        &self,
        node: &str,
        at: DateTime<Utc>,
        reason: &str,
    ) -> Result<Vec<call::Model>, StoreError> {
        let transaction = self.begin_write().await?;
        let open = call::Entity::find()
            .filter(call::Column::NodeId.eq(node))
            .filter(call::Column::EndedAt.is_null())
            .all(&*transaction)
            .await?;
        let mut ended = Vec::with_capacity(open.len());
        for mut row in open {
            call_event::Entity::insert(event_row(row.id, at, None, None, "ended"))
                .exec_without_returning(&*transaction)
                .await?;
            mark_ended(&*transaction, row.id, at, reason).await?;
            row.ended_at = Some(at);
            row.end_reason = Some(reason.to_owned());
            ended.push(row);
        }
        transaction.commit().await?;
        Ok(ended)
    }

    /// Returns a call, live or ended.
    pub async fn call(&self, id: uuid::Uuid) -> Result<Option<call::Model>, StoreError> {
        Ok(call::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Adds one step to a call's record.
    pub async fn record_call_event(
        &self,
        call_id: uuid::Uuid,
        at: DateTime<Utc>,
        actor: Option<UserId>,
        subject: Option<UserId>,
        kind: &str,
    ) -> Result<(), StoreError> {
        call_event::Entity::insert(event_row(call_id, at, actor, subject, kind))
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Lists a conversation's `limit` most recent calls, newest first.
    pub async fn calls_of(
        &self,
        conversation: ConversationId,
        limit: u64,
    ) -> Result<Vec<call::Model>, StoreError> {
        Ok(call::Entity::find()
            .filter(call::Column::ConversationId.eq(conversation.0))
            .order_by_desc(call::Column::StartedAt)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Lists a call's record, oldest first, at most `limit` steps.
    pub async fn call_events(
        &self,
        call_id: uuid::Uuid,
        limit: u64,
    ) -> Result<Vec<call_event::Model>, StoreError> {
        Ok(call_event::Entity::find()
            .filter(call_event::Column::CallId.eq(call_id))
            .order_by_asc(call_event::Column::At)
            .order_by_asc(call_event::Column::Id)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}

/// Sets a call's end, unless it has one already.
async fn mark_ended(
    db: &impl ConnectionTrait,
    id: uuid::Uuid,
    at: DateTime<Utc>,
    reason: &str,
) -> Result<(), StoreError> {
    call::Entity::update_many()
        .col_expr(call::Column::EndedAt, Expr::value(at))
        .col_expr(call::Column::EndReason, Expr::value(reason))
        .filter(call::Column::Id.eq(id))
        .filter(call::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

fn event_row(
    call_id: uuid::Uuid,
    at: DateTime<Utc>,
    actor: Option<UserId>,
    subject: Option<UserId>,
    kind: &str,
) -> call_event::ActiveModel {
    call_event::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        call_id: Set(call_id),
        at: Set(at),
        actor_id: Set(actor.map(|id| id.0)),
        subject_id: Set(subject.map(|id| id.0)),
        kind: Set(kind.to_owned()),
    }
}
