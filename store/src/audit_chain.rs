//! The audit chains as a whole: hashing the rows that were in the trail
//! before the chains existed, and verifying chains link by link.
//!
//! Both walk a chain in sequence order a batch at a time, so memory stays
//! bounded whatever the trail's length.

use std::collections::BTreeSet;

use kinlink_core::AuditEventId;
use kinlink_core::audit_chain::verify::{
    ChainBreak, ChainSummary, ChainVerifier, StoredEvent, StoredHead,
};
use kinlink_core::audit_chain::{AuditEvent, ChainHash, ChainKey};
use kinlink_core::{OrganisationId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    AccessMode, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait,
    IsolationLevel, QueryFilter, QueryOrder, QuerySelect, TransactionOptions, TransactionTrait,
};
use uuid::Uuid;

use crate::entity::{audit_chain_head, audit_event};
use crate::{Backend, Store, StoreError};

/// Rows read per query while walking a chain.
const BATCH_ROWS: u64 = 500;

/// The outcome of verifying one chain: a summary of the intact chain, or
/// its first broken link.
pub type ChainVerdict = Result<ChainSummary, ChainBreak>;

impl Store {
    /// Lists every chain that has a head or rows, in key order, so the
    /// platform chain (the nil UUID) comes first.
    pub async fn audit_chains(&self) -> Result<Vec<ChainKey>, StoreError> {
        let heads: Vec<Uuid> = audit_chain_head::Entity::find()
            .select_only()
            .column(audit_chain_head::Column::ChainId)
            .into_tuple()
            .all(&self.db)
            .await?;
        let with_rows: Vec<Option<Uuid>> = audit_event::Entity::find()
            .select_only()
            .column(audit_event::Column::ChainId)
            .distinct()
            .filter(audit_event::Column::ChainId.is_not_null())
            .into_tuple()
            .all(&self.db)
            .await?;
        let keys: BTreeSet<Uuid> = heads
            .into_iter()
            .chain(with_rows.into_iter().flatten())
            .collect();
        Ok(keys.into_iter().map(ChainKey).collect())
    }

    /// Verifies one chain from its first row to its head: every row's
    /// sequence number, previous hash and hash, and then the head.
    ///
    /// The head and the rows are read in one snapshot (a read-only
    /// repeatable-read transaction on PostgreSQL, a read transaction on
    /// SQLite in WAL mode), so events appended meanwhile do not count as a
    /// break. Rows that lack a sequence number are not part of the walk;
    /// [`Store::unchained_audit_events`] finds them.
    pub async fn verify_audit_chain(&self, chain: ChainKey) -> Result<ChainVerdict, StoreError> {
        let transaction = self.begin_snapshot().await?;
        let head = audit_chain_head::Entity::find_by_id(chain.0)
            .one(&transaction)
            .await?
            .map(|head| StoredHead {
                last_seq: head.last_seq,
                last_hash: head.last_hash,
            });
        let mut verifier = ChainVerifier::new(chain, head);
        loop {
            let rows = rows_after(&transaction, chain, verifier.last_seq()).await?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                // `rows_after` selects rows with a seq only.
                let seq = row.seq.unwrap_or_default();
                let stored = StoredEvent {
                    event: event_of(row, chain, seq),
                    prev_hash: row.prev_hash.as_deref().unwrap_or_default(),
                    hash: row.hash.as_deref().unwrap_or_default(),
                };
                if let Err(broken) = verifier.check(&stored) {
                    transaction.rollback().await?;
                    return Ok(Err(broken));
                }
            }
        }
        transaction.rollback().await?;
        Ok(verifier.finish())
    }

    /// Lists up to `limit` rows written outside every chain (without a
    /// chain, a sequence number or hashes), oldest first, with the chain
    /// their organisation puts them in. `chain` limits the search to one
    /// chain's organisation.
    pub async fn unchained_audit_events(
        &self,
        chain: Option<ChainKey>,
        limit: u64,
    ) -> Result<Vec<(ChainKey, AuditEventId)>, StoreError> {
        let outside = Condition::any()
            .add(audit_event::Column::ChainId.is_null())
            .add(audit_event::Column::Seq.is_null())
            .add(audit_event::Column::PrevHash.is_null())
            .add(audit_event::Column::Hash.is_null());
        let mut query = audit_event::Entity::find().filter(outside);
        if let Some(chain) = chain {
            query = query.filter(match chain.organisation() {
                Some(organisation) => audit_event::Column::OrganisationId.eq(organisation.0),
                None => audit_event::Column::OrganisationId.is_null(),
            });
        }
        let rows: Vec<(Uuid, Option<Uuid>)> = query
            .select_only()
            .column(audit_event::Column::Id)
            .column(audit_event::Column::OrganisationId)
            .order_by_asc(audit_event::Column::OccurredAt)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, organisation)| {
                let chain = ChainKey::of(organisation.map(OrganisationId));
                (chain, AuditEventId(id))
            })
            .collect())
    }

    /// Starts a read-only transaction that reads one snapshot throughout.
    async fn begin_snapshot(&self) -> Result<DatabaseTransaction, StoreError> {
        let options = match self.backend {
            Backend::Postgres => TransactionOptions {
                isolation_level: Some(IsolationLevel::RepeatableRead),
                access_mode: Some(AccessMode::ReadOnly),
                sqlite_transaction_mode: None,
            },
            // SQLite has no isolation levels to set. A deferred transaction
            // in WAL mode reads one snapshot from its first read on.
            Backend::Sqlite => TransactionOptions::default(),
        };
        Ok(self.db.begin_with_options(options).await?)
    }
}

/// Hashes the rows of every chain whose head has no hash yet: the rows
/// that were in the trail when the chain migration ran, which it numbered
/// but could not hash. Returns how many rows it hashed.
///
/// The caller runs it in a write transaction after the migrations, under
/// the migration lock, so no append can reach such a chain first.
pub(crate) async fn hash_unhashed_chains<C: ConnectionTrait>(db: &C) -> Result<u64, StoreError> {
    let chains: Vec<Uuid> = audit_chain_head::Entity::find()
        .select_only()
        .column(audit_chain_head::Column::ChainId)
        .filter(audit_chain_head::Column::LastHash.is_null())
        .into_tuple()
        .all(db)
        .await?;
    let mut hashed = 0;
    for chain in chains.into_iter().map(ChainKey) {
        hashed += hash_chain(db, chain).await?;
    }
    Ok(hashed)
}

/// Hashes one chain's rows from its first, and points its head at the
/// last of them.
async fn hash_chain<C: ConnectionTrait>(db: &C, chain: ChainKey) -> Result<u64, StoreError> {
    let mut previous = ChainHash::GENESIS;
    let mut last_seq = 0;
    let mut hashed = 0;
    loop {
        let rows = rows_after(db, chain, last_seq).await?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let seq = row.seq.ok_or(StoreError::Corrupt {
                what: "audit event seq",
            })?;
            let hash = event_of(row, chain, seq).hash(&previous);
            audit_event::Entity::update_many()
                .col_expr(
                    audit_event::Column::PrevHash,
                    Expr::value(previous.to_hex()),
                )
                .col_expr(audit_event::Column::Hash, Expr::value(hash.to_hex()))
                .filter(audit_event::Column::Id.eq(row.id))
                .exec(db)
                .await?;
            previous = hash;
            last_seq = seq;
            hashed += 1;
        }
    }
    audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::LastSeq, Expr::value(last_seq))
        .col_expr(
            audit_chain_head::Column::LastHash,
            Expr::value(previous.to_hex()),
        )
        .col_expr(
            audit_chain_head::Column::UpdatedAt,
            Expr::value(chrono::Utc::now()),
        )
        .filter(audit_chain_head::Column::ChainId.eq(chain.0))
        .exec(db)
        .await?;
    Ok(hashed)
}

/// Reads the next batch of a chain's rows after `seq`, in sequence order.
async fn rows_after<C: ConnectionTrait>(
    db: &C,
    chain: ChainKey,
    seq: i64,
) -> Result<Vec<audit_event::Model>, StoreError> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::ChainId.eq(chain.0))
        .filter(audit_event::Column::Seq.gt(seq))
        .order_by_asc(audit_event::Column::Seq)
        .limit(BATCH_ROWS)
        .all(db)
        .await?)
}

/// Returns the hashed fields of a stored row of `chain` at `seq`.
fn event_of(row: &audit_event::Model, chain: ChainKey, seq: i64) -> AuditEvent<'_> {
    AuditEvent {
        chain: row.chain_id.map_or(chain, ChainKey),
        seq,
        id: AuditEventId(row.id),
        occurred_at: row.occurred_at,
        actor_id: row.actor_id.map(UserId),
        organisation_id: row.organisation_id.map(OrganisationId),
        action: &row.action,
        subject_kind: &row.subject_kind,
        subject_id: row.subject_id,
        detail: &row.detail,
    }
}
