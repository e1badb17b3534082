//! The `community_concerns` table: a safeguarding concern about a post that
//! a moderator passed to an organisation, with the copy it acts on.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "community_concerns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub post_id: Uuid,
    pub organisation_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub reason: String,
    pub member_told: bool,
    /// Why the member was not told, when they were not.
    #[sea_orm(column_type = "Text", nullable)]
    pub not_told_because: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub topic_title: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub post_body: Option<String>,
    pub post_created_at: DateTimeUtc,
    /// The post's author's account; absent for a former member.
    pub member_user_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub member_display_name: String,
    pub raised_by: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
