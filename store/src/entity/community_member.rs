//! The `community_members` table: a person's membership of the community support network.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "community_members")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    /// The id community answers name the member by, never their account's.
    pub member_id: Uuid,
    pub display_name: String,
    pub comparable_name: String,
    pub state: String,
    pub partner_id: Option<Uuid>,
    pub membership_number: Option<String>,
    pub applied_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
    pub decided_by: Option<Uuid>,
    pub verified_how: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub decision_reason: Option<String>,
    pub rules_version: Option<i32>,
    pub rules_accepted_at: Option<DateTimeUtc>,
    pub suspended_until: Option<DateTimeUtc>,
    pub last_interaction_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
