//! The `users` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub display_name: String,
    pub status: String,
    pub password_salt: Vec<u8>,
    pub auth_hash: Vec<u8>,
    pub public_key: Vec<u8>,
    pub sealed_private_key: Vec<u8>,
    pub recovery_sealed_private_key: Vec<u8>,
    pub totp_sealed_secret: Option<Vec<u8>>,
    pub invited_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub confirmed_at: Option<DateTimeUtc>,
    pub last_sign_in_at: Option<DateTimeUtc>,
    pub totp_last_step: Option<i64>,
    /// `immediate` or `digest`.
    pub notify_by: String,
    /// The local hour of the daily digest.
    pub digest_hour: i32,
    /// The IANA zone the digest hour is in.
    pub time_zone: String,
    /// Whether the user chose to receive marketing email.
    pub marketing_opt_in: bool,
    pub marketing_changed_at: Option<DateTimeUtc>,
    /// When an erasure of the account was agreed.
    pub marked_at: Option<DateTimeUtc>,
    /// Why: `requested` for an agreed erasure request.
    pub mark_reason: Option<String>,
    /// When the record was wiped down to a tombstone.
    pub erased_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
