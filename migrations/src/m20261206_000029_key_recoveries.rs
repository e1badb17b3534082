//! Key recoveries: restoring the access of a user who lost their password
//! without anyone reading what they wrote.
//!
//! A platform admin asks for a recovery and a second one approves it. An
//! operator then runs the recovery command with the recovery private key,
//! which never sits on the server: it opens the user's escrowed private key
//! and seals it again under a key derived from a one-time link token that
//! only the user's email carries. The row keeps the token's hash and that
//! sealed copy until the user chooses a new password.
//!
//! `open_user_id` holds the user's id while the recovery is open and is
//! cleared when it ends, so a unique index allows one open recovery per
//! user on both databases.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum KeyRecoveries {
    Table,
    Id,
    UserId,
    OpenUserId,
    Reason,
    RequestedBy,
    RequestedAt,
    ApprovedBy,
    ApprovedAt,
    ResealedAt,
    TokenHash,
    SealedPrivateKey,
    EnrolmentSealedSecret,
    LinkExpiresAt,
    EndedAt,
    Outcome,
    EndedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(KeyRecoveries::Table)
                    .col(uuid(KeyRecoveries::Id).primary_key())
                    .col(uuid(KeyRecoveries::UserId))
                    .col(uuid_null(KeyRecoveries::OpenUserId))
                    .col(text(KeyRecoveries::Reason))
                    .col(uuid(KeyRecoveries::RequestedBy))
                    .col(timestamp_with_time_zone(KeyRecoveries::RequestedAt))
                    .col(uuid_null(KeyRecoveries::ApprovedBy))
                    .col(timestamp_with_time_zone_null(KeyRecoveries::ApprovedAt))
                    .col(timestamp_with_time_zone_null(KeyRecoveries::ResealedAt))
                    .col(binary_null(KeyRecoveries::TokenHash))
                    .col(binary_null(KeyRecoveries::SealedPrivateKey))
                    .col(binary_null(KeyRecoveries::EnrolmentSealedSecret))
                    .col(timestamp_with_time_zone_null(KeyRecoveries::LinkExpiresAt))
                    .col(timestamp_with_time_zone_null(KeyRecoveries::EndedAt))
                    .col(string_len_null(KeyRecoveries::Outcome, 20))
                    .col(uuid_null(KeyRecoveries::EndedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(KeyRecoveries::Table, KeyRecoveries::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_key_recoveries_open_user")
                    .table(KeyRecoveries::Table)
                    .col(KeyRecoveries::OpenUserId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_key_recoveries_token")
                    .table(KeyRecoveries::Table)
                    .col(KeyRecoveries::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(KeyRecoveries::Table).to_owned())
            .await
    }
}
