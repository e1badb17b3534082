//! The `community_notices` table: a moderation decision as its subject is told of it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "community_notices")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub kind: String,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub post_id: Option<Uuid>,
    pub topic_id: Option<Uuid>,
    pub until: Option<DateTimeUtc>,
    pub moderator_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// The member's one appeal, and when they made it.
    #[sea_orm(column_type = "Text", nullable)]
    pub appeal_text: Option<String>,
    pub appealed_at: Option<DateTimeUtc>,
    pub appeal_decided_at: Option<DateTimeUtc>,
    pub appeal_decided_by: Option<Uuid>,
    /// `upheld` or `overturned`.
    pub appeal_outcome: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub appeal_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
