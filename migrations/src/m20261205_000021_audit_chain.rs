//! The audit trail as a hash chain per organisation.
//!
//! Each row gets its chain, its sequence number in that chain (from 1), the
//! previous row's hash and its own hash, both SHA-256 as 64 hex digits. A
//! chain is one organisation's rows, and its key is the organisation's id.
//! Rows with no organisation form the platform chain, whose key is the nil
//! UUID. `audit_chain_heads` contains one row per chain with its last
//! sequence number and hash. Appends lock that row, so two nodes take turns.
//!
//! Rows from before this migration join their chains here, numbered in the
//! order they happened (`occurred_at`, then `id`), and each chain that has
//! them gets a head without a hash. This crate cannot compute their hashes,
//! because the hash belongs to the core crate, which migrations may not
//! use. The store hashes them right after the migrations run, under the
//! same lock, and then fills in each head's hash (`Store::migrate`). So the
//! verifier covers the whole trail, although it can vouch for the old rows
//! only from the time they were hashed on.
//!
//! The new columns are nullable because SQLite adds a NOT NULL column only
//! with a default. The store always sets them, and the verifier reports a
//! row that lacks them.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    OrganisationId,
    ChainId,
    Seq,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChainHeads {
    Table,
    ChainId,
    LastSeq,
    LastHash,
    UpdatedAt,
}

const CHAIN_SEQ_INDEX: &str = "idx_audit_events_chain_seq";

/// Numbers each row within its chain in the order the rows happened. Both
/// PostgreSQL and SQLite (3.33 and later) accept `UPDATE … FROM`.
const NUMBER_EXISTING_ROWS: &str = "UPDATE audit_events SET seq = numbered.seq \
     FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY chain_id ORDER BY occurred_at, id) AS seq \
           FROM audit_events) AS numbered \
     WHERE audit_events.id = numbered.id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        for column in [
            uuid_null(AuditEvents::ChainId),
            big_integer_null(AuditEvents::Seq),
            string_len_null(AuditEvents::PrevHash, 64),
            string_len_null(AuditEvents::Hash, 64),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(AuditChainHeads::Table)
                    .col(uuid(AuditChainHeads::ChainId).primary_key())
                    .col(big_integer(AuditChainHeads::LastSeq))
                    .col(string_len_null(AuditChainHeads::LastHash, 64))
                    .col(timestamp_with_time_zone(AuditChainHeads::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        chain_existing_rows(manager).await?;

        manager
            .create_index(
                Index::create()
                    .name(CHAIN_SEQ_INDEX)
                    .table(AuditEvents::Table)
                    .col(AuditEvents::ChainId)
                    .col(AuditEvents::Seq)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditChainHeads::Table).to_owned())
            .await?;
        // SQLite cannot drop a column that an index still uses.
        manager
            .drop_index(
                Index::drop()
                    .name(CHAIN_SEQ_INDEX)
                    .table(AuditEvents::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            AuditEvents::Hash,
            AuditEvents::PrevHash,
            AuditEvents::Seq,
            AuditEvents::ChainId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AuditEvents::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    /// Runs in a transaction on SQLite too, so that no row is left with a
    /// chain but no sequence number.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// Puts the rows already there into their chains and gives each chain a
/// head at its last row, with no hash yet.
async fn chain_existing_rows(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let platform = uuid::Uuid::nil();
    let set_chain = Query::update()
        .table(AuditEvents::Table)
        .value(
            AuditEvents::ChainId,
            Func::coalesce([Expr::col(AuditEvents::OrganisationId), Expr::val(platform)]),
        )
        .to_owned();
    db.execute(&set_chain).await?;

    let backend: DbBackend = manager.get_database_backend();
    db.execute_raw(Statement::from_string(backend, NUMBER_EXISTING_ROWS))
        .await?;

    let last_rows = Query::select()
        .column(AuditEvents::ChainId)
        .expr(Expr::col(AuditEvents::Seq).max())
        .expr(Expr::val(chrono::Utc::now()))
        .from(AuditEvents::Table)
        .group_by_col(AuditEvents::ChainId)
        .to_owned();
    let heads = Query::insert()
        .into_table(AuditChainHeads::Table)
        .columns([
            AuditChainHeads::ChainId,
            AuditChainHeads::LastSeq,
            AuditChainHeads::UpdatedAt,
        ])
        .select_from(last_rows)
        .map_err(|error| DbErr::Migration(format!("building the audit chain heads: {error}")))?
        .to_owned();
    db.execute(&heads).await?;
    Ok(())
}
