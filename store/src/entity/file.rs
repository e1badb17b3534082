//! The `files` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "files")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    pub uploader_id: Uuid,
    pub declared_size: i64,
    pub received_bytes: i64,
    pub kind: Option<String>,
    pub status: String,
    pub failure: Option<String>,
    pub key_epoch: i32,
    pub sealed_key: Vec<u8>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub processing_attempts: i32,
    /// The cleaned original name, sealed with the file key.
    pub sealed_name: Option<Vec<u8>>,
    /// When a sent message or a released letter first carried the file;
    /// until then only its uploader and the conversation's supervisors see it.
    pub shared_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
