//! Sessions ended because their account was disabled. Each keeps its token
//! hash until the session would have expired, so a later request with the
//! old cookie is recognised and audited before it is refused.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RevokedSessions {
    Table,
    TokenHash,
    UserId,
    RevokedAt,
    ExpiresAt,
    LastAttemptAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RevokedSessions::Table)
                    .col(blob(RevokedSessions::TokenHash).primary_key())
                    .col(uuid(RevokedSessions::UserId))
                    .col(timestamp_with_time_zone(RevokedSessions::RevokedAt))
                    .col(timestamp_with_time_zone(RevokedSessions::ExpiresAt))
                    .col(timestamp_with_time_zone_null(
                        RevokedSessions::LastAttemptAt,
                    ))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RevokedSessions::Table).to_owned())
            .await
    }
}
