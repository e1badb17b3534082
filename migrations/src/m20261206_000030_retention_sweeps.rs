//! The ledger of daily retention sweeps. A node runs the sweep of a local
//! date only after inserting that date's row, so two nodes never sweep the
//! same day, and a restart on the same day does not sweep again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RetentionSweeps {
    Table,
    SweepDay,
    DueAt,
    NodeId,
    StartedAt,
    FinishedAt,
    Report,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RetentionSweeps::Table)
                    .col(string_len(RetentionSweeps::SweepDay, 10).primary_key())
                    .col(timestamp_with_time_zone(RetentionSweeps::DueAt))
                    .col(string_len(RetentionSweeps::NodeId, 64))
                    .col(timestamp_with_time_zone(RetentionSweeps::StartedAt))
                    .col(timestamp_with_time_zone_null(RetentionSweeps::FinishedAt))
                    .col(text_null(RetentionSweeps::Report))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RetentionSweeps::Table).to_owned())
            .await
    }
}
