//! The `audit_events` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// Stored at microsecond precision, as it is hashed.
    pub occurred_at: DateTimeUtc,
    pub actor_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub action: String,
    pub subject_kind: String,
    pub subject_id: Option<Uuid>,
    pub detail: Json,
    /// The organisation's id, or the nil UUID for the platform chain. The
    /// chain columns are nullable only because SQLite adds a NOT NULL
    /// column only with a default. Every append sets them.
    pub chain_id: Option<Uuid>,
    /// The row's place in its chain, from 1.
    pub seq: Option<i64>,
    /// The hash of the row before it in the chain, 64 hex digits.
    pub prev_hash: Option<String>,
    /// The row's own hash, 64 hex digits.
    pub hash: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
