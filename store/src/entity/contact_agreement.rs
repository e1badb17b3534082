//! The `contact_agreements` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "contact_agreements")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub conversation_id: Uuid,
    pub status: String,
    pub review_level: String,
    pub read_receipts: String,
    pub on_request: bool,
    /// Whether the families may send live messages, which no one reviews.
    pub live_messages: bool,
    /// The yearly exchanges as JSON: `[{"month":3,"from":"adoptive"}]`.
    pub exchanges: String,
    /// Comma-separated file categories each side may attach.
    pub adoptive_media: String,
    pub birth_media: String,
    /// The length of the link's video calls in minutes; null means the
    /// longest the server's configuration allows.
    pub call_minutes: Option<i32>,
    pub terms_epoch: i32,
    /// The protected terms, sealed under the conversation key.
    pub terms_ciphertext: Vec<u8>,
    pub status_epoch: Option<i32>,
    /// Why the link was suspended or ended, sealed like the terms.
    pub status_reason_ciphertext: Option<Vec<u8>>,
    pub updated_by: Uuid,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
