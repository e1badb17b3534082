//! The `retention_sweeps` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_sweeps")]
pub struct Model {
    /// The local date in Europe/London the sweep belongs to, `YYYY-MM-DD`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub sweep_day: String,
    /// The instant the sweep was due.
    pub due_at: DateTimeUtc,
    /// The node that ran it.
    pub node_id: String,
    pub started_at: DateTimeUtc,
    /// When it finished; none while it runs, or if its node stopped first.
    pub finished_at: Option<DateTimeUtc>,
    /// The counts of each rule's actions, as JSON.
    pub report: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
