//! Letterbox reminders that went out. The unique key on (link, side,
//! exchange day, kind) is taken in the same transaction that queues the
//! reminder's notifications, so each reminder goes out once however many
//! nodes look for it and however often.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Reminders {
    Table,
    Id,
    ConversationId,
    Side,
    DueOn,
    Kind,
    FireAt,
    SentAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Reminders::Table)
                    .col(uuid(Reminders::Id).primary_key())
                    .col(uuid(Reminders::ConversationId))
                    .col(string_len(Reminders::Side, 10))
                    .col(date(Reminders::DueOn))
                    .col(string_len(Reminders::Kind, 10))
                    .col(timestamp_with_time_zone(Reminders::FireAt))
                    .col(timestamp_with_time_zone(Reminders::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Reminders::Table, Reminders::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reminders_once")
                    .table(Reminders::Table)
                    .col(Reminders::ConversationId)
                    .col(Reminders::Side)
                    .col(Reminders::DueOn)
                    .col(Reminders::Kind)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Reminders::Table).to_owned())
            .await
    }
}
