//! The `letter_events` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "letter_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub letter_id: Uuid,
    pub conversation_id: Uuid,
    pub kind: String,
    pub actor_id: Uuid,
    pub version: i32,
    pub key_epoch: Option<i32>,
    /// The practitioner's reason for a return or hold, sealed under the
    /// conversation key.
    pub reason_ciphertext: Option<Vec<u8>>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
