//! Notification email waiting to be sent. A row names the recipient by
//! user id, so the address is read at sending time and a deleted user's
//! email goes with them; it holds the template and a link path, never a
//! name or any content. The row's id makes the email's Message-ID, which
//! stays the same across retries.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Id,
    UserId,
    Template,
    LinkPath,
    State,
    Attempts,
    UnknownOutcomes,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailOutbox::Table)
                    .col(uuid(EmailOutbox::Id).primary_key())
                    .col(uuid(EmailOutbox::UserId))
                    .col(string_len(EmailOutbox::Template, 40))
                    .col(string_len(EmailOutbox::LinkPath, 2048))
                    .col(string_len(EmailOutbox::State, 20))
                    .col(integer(EmailOutbox::Attempts))
                    .col(integer(EmailOutbox::UnknownOutcomes))
                    .col(timestamp_with_time_zone(EmailOutbox::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(EmailOutbox::LeaseUntil))
                    .col(string_len_null(EmailOutbox::LastError, 60))
                    .col(timestamp_with_time_zone(EmailOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(EmailOutbox::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_outbox_due")
                    .table(EmailOutbox::Table)
                    .col(EmailOutbox::State)
                    .col(EmailOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_email_outbox_user")
                    .table(EmailOutbox::Table)
                    .col(EmailOutbox::UserId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(EmailOutbox::Table).to_owned())
            .await
    }
}
