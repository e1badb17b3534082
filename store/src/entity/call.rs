//! The `calls` table.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "calls")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub conversation_id: Uuid,
    /// The practitioner who started the call and supervises it.
    pub host_id: Uuid,
    pub started_at: DateTimeUtc,
    /// When the call ends by itself.
    pub ends_at: DateTimeUtc,
    pub ended_at: Option<DateTimeUtc>,
    /// The end reason, such as `ended_by_host`, `time_limit` or
    /// `server_restart`.
    pub end_reason: Option<String>,
    /// The node whose SFU carries the call's media. Null for calls stored
    /// before nodes were recorded.
    pub node_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
