//! How each user wants to hear about new things: an email each time, or a
//! daily digest at a local hour in their own time zone. Notifications for
//! a digest wait in `notifications` until the digest that collects them;
//! `digests` has one row per user and digest time, and its unique key is
//! what keeps two nodes from sending the same digest twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    NotifyBy,
    DigestHour,
    TimeZone,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    Template,
    LinkPath,
    CreatedAt,
    DigestId,
}

#[derive(DeriveIden)]
enum Digests {
    Table,
    Id,
    UserId,
    Slot,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns = vec![
            string_len(Users::NotifyBy, 10)
                .default("immediate")
                .to_owned(),
            integer(Users::DigestHour).default(18).to_owned(),
            string_len(Users::TimeZone, 64)
                .default("Europe/London")
                .to_owned(),
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
                    .table(Notifications::Table)
                    .col(uuid(Notifications::Id).primary_key())
                    .col(uuid(Notifications::UserId))
                    .col(string_len(Notifications::Template, 40))
                    .col(string_len(Notifications::LinkPath, 2048))
                    .col(timestamp_with_time_zone(Notifications::CreatedAt))
                    .col(uuid_null(Notifications::DigestId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notifications_waiting")
                    .table(Notifications::Table)
                    .col(Notifications::DigestId)
                    .col(Notifications::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Digests::Table)
                    .col(uuid(Digests::Id).primary_key())
                    .col(uuid(Digests::UserId))
                    .col(timestamp_with_time_zone(Digests::Slot))
                    .col(timestamp_with_time_zone(Digests::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_digests_user_slot")
                    .table(Digests::Table)
                    .col(Digests::UserId)
                    .col(Digests::Slot)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Digests::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Notifications::Table).to_owned())
            .await?;
        for column in [Users::NotifyBy, Users::DigestHour, Users::TimeZone] {
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
