//! The audit trail: append-only, read by the owning organisation, and
//! chained by hash, one chain per organisation (see
//! [`kinlink_core::audit_chain`]).

use chrono::{DateTime, Utc};
use kinlink_core::audit_chain::{AuditEvent, ChainHash, ChainKey, truncate_to_micros};
use kinlink_core::{AuditEventId, OrganisationId, UserId};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use crate::entity::{audit_chain_head, audit_event};
use crate::{Store, StoreError};

/// One audited event. `detail` must hold no content and no secret.
pub struct AuditRecord {
    pub actor_id: Option<UserId>,
    pub organisation_id: Option<OrganisationId>,
    pub action: &'static str,
    pub subject_kind: &'static str,
    pub subject_id: Option<uuid::Uuid>,
    pub detail: serde_json::Value,
    /// Stored and hashed at microsecond precision.
    pub at: DateTime<Utc>,
}

impl Store {
    /// Appends an event to the end of its organisation's chain, or of the
    /// platform chain when it has no organisation.
    ///
    /// The write transaction keeps the chain's head row locked from reading
    /// it to moving it on, so appends to one chain take turns across nodes and get
    /// consecutive sequence numbers. On PostgreSQL, appends to different
    /// chains do not wait for each other; on SQLite every write takes turns.
    pub async fn audit(&self, record: AuditRecord) -> Result<(), StoreError> {
        let chain = ChainKey::of(record.organisation_id);
        let occurred_at = truncate_to_micros(record.at);
        let transaction = self.begin_write().await?;
        let head = lock_head(&transaction, chain, occurred_at).await?;
        let previous = head_hash(&head)?;

        let event = AuditEvent {
            chain,
            seq: head.last_seq + 1,
            id: AuditEventId::new(),
            occurred_at,
            actor_id: record.actor_id,
            organisation_id: record.organisation_id,
            action: record.action,
            subject_kind: record.subject_kind,
            subject_id: record.subject_id,
            detail: &record.detail,
        };
        let hash = event.hash(&previous).to_hex();
        let row = audit_event::ActiveModel {
            id: Set(event.id.0),
            occurred_at: Set(occurred_at),
            actor_id: Set(record.actor_id.map(|id| id.0)),
            organisation_id: Set(record.organisation_id.map(|id| id.0)),
            action: Set(record.action.to_owned()),
            subject_kind: Set(record.subject_kind.to_owned()),
            subject_id: Set(record.subject_id),
            detail: Set(record.detail.clone()),
            chain_id: Set(Some(chain.0)),
            seq: Set(Some(event.seq)),
            prev_hash: Set(Some(previous.to_hex())),
            hash: Set(Some(hash.clone())),
        };
        audit_event::Entity::insert(row)
            .exec_without_returning(&*transaction)
            .await?;

        let moved = audit_chain_head::ActiveModel {
            chain_id: Set(chain.0),
            last_seq: Set(event.seq),
            last_hash: Set(Some(hash)),
            updated_at: Set(occurred_at),
        };
        audit_chain_head::Entity::update(moved)
            .exec(&*transaction)
            .await?;
        Ok(transaction.commit().await?)
    }

    /// Lists events with a given action, oldest first.
    pub async fn audit_events_with_action(
        &self,
        action: &str,
    ) -> Result<Vec<audit_event::Model>, StoreError> {
        Ok(audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq(action))
            .order_by_asc(audit_event::Column::OccurredAt)
            .all(&self.db)
            .await?)
    }
}

/// Reads a chain's head and locks it until the transaction ends, creating
/// it at seq 0 for the chain's first event.
async fn lock_head(
    transaction: &DatabaseTransaction,
    chain: ChainKey,
    now: DateTime<Utc>,
) -> Result<audit_chain_head::Model, StoreError> {
    if let Some(head) = select_head_for_update(transaction, chain).await? {
        return Ok(head);
    }

    // Another node may create the head at the same moment. Its insert then
    // wins, this one does nothing, and the lock below waits for that
    // node's append to commit.
    let head = audit_chain_head::ActiveModel {
        chain_id: Set(chain.0),
        last_seq: Set(0),
        last_hash: Set(Some(ChainHash::GENESIS.to_hex())),
        updated_at: Set(now),
    };
    audit_chain_head::Entity::insert(head)
        .on_conflict_do_nothing()
        .exec_without_returning(transaction)
        .await?;
    select_head_for_update(transaction, chain)
        .await?
        .ok_or(StoreError::NotFound {
            what: "audit chain head",
        })
}

/// Reads a chain's head, locking the row on PostgreSQL. SQLite has no row
/// locks, but a write transaction there locks the whole database.
async fn select_head_for_update(
    transaction: &DatabaseTransaction,
    chain: ChainKey,
) -> Result<Option<audit_chain_head::Model>, StoreError> {
    let mut query = audit_chain_head::Entity::find_by_id(chain.0);
    if transaction.get_database_backend() == DbBackend::Postgres {
        query = query.lock_exclusive();
    }
    Ok(query.one(transaction).await?)
}

/// Parses the head's hash. A head without one belongs to a chain whose
/// rows from before the chain existed were never hashed, which
/// `Store::migrate` does before the server serves.
fn head_hash(head: &audit_chain_head::Model) -> Result<ChainHash, StoreError> {
    let text = head.last_hash.as_deref().ok_or(StoreError::Corrupt {
        what: "audit chain head hash",
    })?;
    ChainHash::from_hex(text).map_err(|_invalid| StoreError::Corrupt {
        what: "audit chain head hash",
    })
}

impl Store {
    /// Lists an organisation's audit trail, newest first: at most `limit`
    /// rows, before sequence number `before` when given.
    pub async fn organisation_audit(
        &self,
        organisation: OrganisationId,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<audit_event::Model>, StoreError> {
        let mut select =
            audit_event::Entity::find().filter(audit_event::Column::ChainId.eq(organisation.0));
        if let Some(before) = before {
            select = select.filter(audit_event::Column::Seq.lt(before));
        }
        Ok(select
            .order_by_desc(audit_event::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}
