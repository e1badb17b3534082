//! The `cases` table: child and family cases of family finding.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `child` or `family`.
    pub kind: String,
    pub organisation_id: Uuid,
    pub created_by: Uuid,
    /// `draft`, `all` or `named`.
    pub visibility: String,
    pub anonymous: bool,
    /// `active`, `placed` or `withdrawn`.
    pub status: String,
    pub region: String,
    pub ethnicity: String,
    pub plan: Option<String>,
    pub legal_status: Option<String>,
    pub approved_for: Option<String>,
    pub min_age: i16,
    pub max_age: i16,
    pub group_size: i16,
    pub child_ages: Option<String>,
    pub need_health: i16,
    pub need_development: i16,
    pub need_history: i16,
    pub sealed_profile: Vec<u8>,
    pub family_user_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_activity_at: DateTimeUtc,
    /// When the case was marked to go: hidden everywhere until its final
    /// step, unless its organisation keeps it.
    pub marked_at: Option<DateTimeUtc>,
    /// Why: `inactive`, `licence_ended` or `organisation_request`.
    pub mark_reason: Option<String>,
    /// When a manager put the case on legal hold, which keeps it.
    pub held_at: Option<DateTimeUtc>,
    pub held_by: Option<Uuid>,
    pub hold_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
