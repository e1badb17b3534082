//! Marketing email: each user's opt-in, and the one-time unsubscribe
//! links that marketing emails carry. An unsubscribe token is made when
//! its email is composed; only its SHA-256 hash is stored.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    MarketingOptIn,
    MarketingChangedAt,
}

#[derive(DeriveIden)]
enum UnsubscribeLinks {
    Table,
    TokenHash,
    UserId,
    EmailId,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = vec![
            boolean(Users::MarketingOptIn).default(false).to_owned(),
            timestamp_with_time_zone_null(Users::MarketingChangedAt).to_owned(),
        ];
        for column in &mut columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(UnsubscribeLinks::Table)
                    .col(binary(UnsubscribeLinks::TokenHash).primary_key())
                    .col(uuid(UnsubscribeLinks::UserId))
                    .col(uuid(UnsubscribeLinks::EmailId))
                    .col(timestamp_with_time_zone(UnsubscribeLinks::CreatedAt))
                    .col(timestamp_with_time_zone(UnsubscribeLinks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(UnsubscribeLinks::UsedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UnsubscribeLinks::Table).to_owned())
            .await?;
        for column in [Users::MarketingOptIn, Users::MarketingChangedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
