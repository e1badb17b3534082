//! The `key_recoveries` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "key_recoveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The account whose access is restored.
    pub user_id: Uuid,
    /// The account again while the recovery is open, none once it ended:
    /// unique, so one recovery at a time is open per account.
    pub open_user_id: Option<Uuid>,
    /// Why the admin asked, as they wrote it: a ticket number or how the
    /// person's identity was checked. Never content.
    pub reason: String,
    pub requested_by: Uuid,
    pub requested_at: DateTimeUtc,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTimeUtc>,
    /// When the operator's command last sealed a link.
    pub resealed_at: Option<DateTimeUtc>,
    /// SHA-256 of the token in the emailed link.
    pub token_hash: Option<Vec<u8>>,
    /// The user's private key sealed under a key derived from the token.
    pub sealed_private_key: Option<Vec<u8>>,
    /// A new second-factor secret offered through the link, sealed under a
    /// key derived from the token.
    pub enrolment_sealed_secret: Option<Vec<u8>>,
    pub link_expires_at: Option<DateTimeUtc>,
    pub ended_at: Option<DateTimeUtc>,
    /// `completed`, `cancelled` or `expired`.
    pub outcome: Option<String>,
    /// The admin who cancelled, or the user who completed.
    pub ended_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
