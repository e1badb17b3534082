//! The erasure of user records: `marked_at` is set when an erasure of the
//! account is agreed, which ends the account's sessions and stops its
//! sign-in at once, with `mark_reason` saying why. 14 days later the
//! record is deleted down to a tombstone and `erased_at` is set.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    MarkedAt,
    MarkReason,
    ErasedAt,
}

fn columns() -> [ColumnDef; 3] {
    [
        timestamp_with_time_zone_null(Users::MarkedAt),
        string_len_null(Users::MarkReason, 20),
        timestamp_with_time_zone_null(Users::ErasedAt),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for mut column in columns() {
            let statement = Table::alter()
                .table(Users::Table)
                .add_column(&mut column)
                .to_owned();
            manager.alter_table(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Users::ErasedAt, Users::MarkReason, Users::MarkedAt] {
            let statement = Table::alter()
                .table(Users::Table)
                .drop_column(column)
                .to_owned();
            manager.alter_table(statement).await?;
        }
        Ok(())
    }
}
