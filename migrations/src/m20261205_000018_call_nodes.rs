//! The node that runs each live call. A call's media passes through one
//! node, so when that node stops without ending its calls, it closes them
//! at its next start, and only them: several nodes may share the database.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Calls {
    Table,
    NodeId,
    EndedAt,
}

const INDEX: &str = "idx_calls_node_open";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Calls::Table)
                    .add_column(string_len_null(Calls::NodeId, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Calls::Table)
                    .col(Calls::NodeId)
                    .col(Calls::EndedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite cannot drop a column that an index still uses.
        manager
            .drop_index(Index::drop().name(INDEX).table(Calls::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Calls::Table)
                    .drop_column(Calls::NodeId)
                    .to_owned(),
            )
            .await
    }
}
