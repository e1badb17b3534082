//! The `case_notes` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub author_id: Uuid,
    pub organisation_id: Uuid,
    /// The note's own key, sealed to the organisation's public key.
    pub sealed_key: Vec<u8>,
    /// The note's text, sealed under its own key.
    pub ciphertext: Vec<u8>,
    pub written_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
