//! The `conversations` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conversations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub kind: String,
    pub organisation_id: Uuid,
    pub key_epoch: i32,
    pub last_seq: i64,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    /// Accepted file categories, comma-separated.
    pub accepted_media: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
