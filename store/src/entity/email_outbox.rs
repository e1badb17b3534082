//! The `email_outbox` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "email_outbox")]
pub struct Model {
    /// Also the local part of the email's Message-ID.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub template: String,
    pub link_path: String,
    pub state: String,
    pub attempts: i32,
    /// Sends that ended without knowing whether the server took the email.
    pub unknown_outcomes: i32,
    pub next_attempt_at: DateTimeUtc,
    /// While a node is sending, the time after which another may take over.
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
    /// For an invitation, the invitation it carries; the email goes to
    /// the invitation's address, and `user_id` is the inviter.
    pub invitation_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
