//! The retention mark of community profiles: set by the daily sweep when a
//! member has not interacted for three years, which hides the profile from
//! other members; the profile is deleted 14 days after it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CommunityProfiles {
    Table,
    MarkedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CommunityProfiles::Table)
                    .add_column(timestamp_with_time_zone_null(CommunityProfiles::MarkedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CommunityProfiles::Table)
                    .drop_column(CommunityProfiles::MarkedAt)
                    .to_owned(),
            )
            .await
    }
}
