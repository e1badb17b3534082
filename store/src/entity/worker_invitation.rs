//! The `worker_invitations` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "worker_invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub invited_by: Uuid,
    pub email: String,
    pub display_name: String,
    /// `practitioner` or `manager`, or `adopter` for a family invited to
    /// keep its own profile.
    pub role: String,
    /// SHA-256 of the token in the latest invitation email.
    pub token_hash: Option<Vec<u8>>,
    /// The second-factor secret offered to the invited person, sealed
    /// under a key derived from the link token.
    pub enrolment_sealed_secret: Option<Vec<u8>>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    pub accepted_at: Option<DateTimeUtc>,
    /// The account the invitation created.
    pub user_id: Option<Uuid>,
    /// The family case an `adopter` invitation links the account to.
    pub case_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
