//! The `community_profiles` table: the social profile a community member keeps.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "community_profiles")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    #[sea_orm(column_type = "Text")]
    pub family_makeup: String,
    pub family_makeup_visible: bool,
    pub legal_status: Option<String>,
    pub legal_status_visible: bool,
    #[sea_orm(column_type = "Text")]
    pub interests: String,
    pub interests_visible: bool,
    /// The image shown as the member's picture.
    pub picture_id: Option<Uuid>,
    pub picture_visible: bool,
    pub updated_at: DateTimeUtc,
    /// When the retention sweep marked the profile for deletion, which
    /// hides it from other members; none while it is kept.
    pub marked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
