//! The `interests` table: expressions of interest and their discussions.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "interests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub child_case_id: Uuid,
    pub family_case_id: Uuid,
    /// The discussion between the organisations.
    pub conversation_id: Uuid,
    pub state: String,
    /// The reason it ended, or null until it ends.
    pub reason: Option<String>,
    pub opened_by: Uuid,
    pub opened_at: DateTimeUtc,
    pub updated_by: Uuid,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
