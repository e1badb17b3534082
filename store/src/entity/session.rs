//! The `sessions` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    #[sea_orm(unique)]
    pub token_hash: Vec<u8>,
    pub sealed_private_key: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub absolute_expires_at: DateTimeUtc,
    pub user_agent: String,
    pub client_address: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
