//! The `community_posts` table: a post in a community topic; the first opens it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "community_posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub topic_id: Uuid,
    pub author_id: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub body: Option<String>,
    pub state: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub reason: Option<String>,
    pub moderated_by: Option<Uuid>,
    pub moderated_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
