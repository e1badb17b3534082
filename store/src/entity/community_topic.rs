//! The `community_topics` table: a topic in a community group.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "community_topics")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub group_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub title: String,
    pub author_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub last_post_at: DateTimeUtc,
    pub reply_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
