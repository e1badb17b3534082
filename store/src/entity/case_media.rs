//! The `case_media` table: photos and videos in family-finding profiles.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "case_media")]
pub struct Model {
    /// Also the blob id of the upload until processing replaces it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub case_id: Uuid,
    /// `photo` or `video`.
    pub slot: String,
    /// The kind read from the upload's first bytes, once checked.
    pub kind: Option<String>,
    /// `uploading`, `processing`, `ready` or `failed`.
    pub status: String,
    /// The error code of a failed item.
    pub failure: Option<String>,
    /// Bytes received.
    pub size: i64,
    /// The item's own key, sealed under the platform data key.
    pub sealed_key: Vec<u8>,
    pub uploaded_by: Uuid,
    pub processing_attempts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
