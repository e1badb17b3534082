//! The `organisations` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub licence_starts_at: Option<DateTimeUtc>,
    pub licence_expires_at: Option<DateTimeUtc>,
    pub retention_days: i32,
    pub public_key: Vec<u8>,
    pub created_at: DateTimeUtc,
    /// Whether the organisation lets families keep their own profiles.
    pub families_edit_profiles: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
