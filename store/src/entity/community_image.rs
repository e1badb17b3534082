//! The `community_images` table: an image a member uploaded for a post or
//! as their profile picture.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "community_images")]
pub struct Model {
    /// Also the blob id of the upload until processing replaces it.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The member who uploaded it (their account id).
    pub owner_id: Uuid,
    /// The post that shows it, once one does.
    pub post_id: Option<Uuid>,
    /// Its place among the post's images, from 0.
    pub position: Option<i32>,
    /// The text shown in its place to those who cannot see it.
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    /// The kind read from the upload's first bytes, once checked.
    pub kind: Option<String>,
    /// `uploading`, `processing`, `ready` or `failed`.
    pub status: String,
    pub failure: Option<String>,
    pub size: i64,
    /// The image's own key, sealed under the platform data key.
    pub sealed_key: Vec<u8>,
    pub processing_attempts: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
