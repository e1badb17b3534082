//! The `anonymous_cases` table: what a family-finding case leaves for
//! statistics once anonymised. No column points to a person, and every
//! combination that keeps a column is shared by at least five rows.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "anonymous_cases")]
pub struct Model {
    /// A new random id, unrelated to the case's.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `child` or `family`.
    pub kind: Option<String>,
    /// `placed` or `closed`.
    pub outcome: Option<String>,
    pub region: Option<String>,
    /// The year of the case's last activity.
    pub end_year: Option<i16>,
    /// The youngest child's age band (child cases).
    pub age_band: Option<String>,
    /// `1`, `2` or `3+` children.
    pub group_size: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
