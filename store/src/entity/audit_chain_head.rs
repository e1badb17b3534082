//! The `audit_chain_heads` table: where each audit chain ends.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_chain_heads")]
pub struct Model {
    /// The organisation's id, or the nil UUID for the platform chain.
    #[sea_orm(primary_key, auto_increment = false)]
    pub chain_id: Uuid,
    /// The seq of the chain's last row, or 0 before its first.
    pub last_seq: i64,
    /// The hash of the chain's last row, 64 hex digits. `None` only while
    /// rows from before the chain existed wait to be hashed.
    pub last_hash: Option<String>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
