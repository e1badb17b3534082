//! Retention of family-finding cases: the mark that hides a case that is
//! due to go, the legal hold that keeps one, and the anonymous records a
//! case leaves behind for statistics when its final step runs.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    MarkedAt,
    MarkReason,
    HeldAt,
    HeldBy,
    HoldReason,
}

#[derive(DeriveIden)]
enum AnonymousCases {
    Table,
    Id,
    Kind,
    Outcome,
    Region,
    EndYear,
    AgeBand,
    GroupSize,
}

/// The columns added to `cases`, one statement each, since SQLite alters
/// one column at a time.
fn case_columns() -> Vec<ColumnDef> {
    vec![
        timestamp_with_time_zone_null(Cases::MarkedAt),
        string_len_null(Cases::MarkReason, 24),
        timestamp_with_time_zone_null(Cases::HeldAt),
        uuid_null(Cases::HeldBy),
        string_len_null(Cases::HoldReason, 500),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in case_columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Cases::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_cases_marked_at")
                    .table(Cases::Table)
                    .col(Cases::MarkedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnonymousCases::Table)
                    .col(uuid(AnonymousCases::Id).primary_key())
                    .col(string_len_null(AnonymousCases::Kind, 8))
                    .col(string_len_null(AnonymousCases::Outcome, 16))
                    .col(string_len_null(AnonymousCases::Region, 32))
                    .col(small_integer_null(AnonymousCases::EndYear))
                    .col(string_len_null(AnonymousCases::AgeBand, 8))
                    .col(string_len_null(AnonymousCases::GroupSize, 4))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AnonymousCases::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_cases_marked_at")
                    .table(Cases::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Cases::MarkedAt,
            Cases::MarkReason,
            Cases::HeldAt,
            Cases::HeldBy,
            Cases::HoldReason,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Cases::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
