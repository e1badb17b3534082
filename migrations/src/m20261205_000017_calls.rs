//! Live calls and what happened in them. A call's record is activity
//! data: who joined, was admitted, paused, muted or removed, left, and
//! when. No media is stored.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Calls {
    Table,
    Id,
    ConversationId,
    HostId,
    StartedAt,
    EndsAt,
    EndedAt,
    EndReason,
}

#[derive(DeriveIden)]
enum CallEvents {
    Table,
    Id,
    CallId,
    At,
    ActorId,
    SubjectId,
    Kind,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Calls::Table)
                    .col(uuid(Calls::Id).primary_key())
                    .col(uuid(Calls::ConversationId))
                    .col(uuid(Calls::HostId))
                    .col(timestamp_with_time_zone(Calls::StartedAt))
                    .col(timestamp_with_time_zone(Calls::EndsAt))
                    .col(timestamp_with_time_zone_null(Calls::EndedAt))
                    .col(string_len_null(Calls::EndReason, 30))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Calls::Table, Calls::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_calls_conversation")
                    .table(Calls::Table)
                    .col(Calls::ConversationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CallEvents::Table)
                    .col(uuid(CallEvents::Id).primary_key())
                    .col(uuid(CallEvents::CallId))
                    .col(timestamp_with_time_zone(CallEvents::At))
                    .col(uuid_null(CallEvents::ActorId))
                    .col(uuid_null(CallEvents::SubjectId))
                    .col(string_len(CallEvents::Kind, 30))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CallEvents::Table, CallEvents::CallId)
                            .to(Calls::Table, Calls::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_call_events_call")
                    .table(CallEvents::Table)
                    .col(CallEvents::CallId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CallEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Calls::Table).to_owned())
            .await
    }
}
