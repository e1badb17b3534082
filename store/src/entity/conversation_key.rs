//! The `conversation_keys` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "conversation_keys")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub epoch: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub recipient_kind: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub recipient_id: Uuid,
    pub sealed_key: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
