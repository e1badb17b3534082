//! The `letter_versions` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "letter_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub letter_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub version: i32,
    pub key_epoch: i32,
    /// The text and attached file ids, sealed under the conversation key.
    pub ciphertext: Vec<u8>,
    pub saved_at: DateTimeUtc,
    pub submitted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
