//! Live calls arranged ahead of time. Each one invites the conversation's
//! members by email when it is made, and tells them again if it is
//! cancelled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ScheduledCalls {
    Table,
    Id,
    ConversationId,
    ScheduledBy,
    StartsAt,
    CreatedAt,
    CancelledAt,
    CancelledBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ScheduledCalls::Table)
                    .col(uuid(ScheduledCalls::Id).primary_key())
                    .col(uuid(ScheduledCalls::ConversationId))
                    .col(uuid(ScheduledCalls::ScheduledBy))
                    .col(timestamp_with_time_zone(ScheduledCalls::StartsAt))
                    .col(timestamp_with_time_zone(ScheduledCalls::CreatedAt))
                    .col(timestamp_with_time_zone_null(ScheduledCalls::CancelledAt))
                    .col(uuid_null(ScheduledCalls::CancelledBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ScheduledCalls::Table, ScheduledCalls::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_scheduled_calls_conversation")
                    .table(ScheduledCalls::Table)
                    .col(ScheduledCalls::ConversationId)
                    .col(ScheduledCalls::StartsAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScheduledCalls::Table).to_owned())
            .await
    }
}
