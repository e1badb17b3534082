//! Files uploaded into conversations. The content lives in the blob store
//! as sealed segments under the row's id; the row holds the file key,
//! sealed with the conversation key of `key_epoch`, and the upload's
//! progress. The original name is display metadata only, already cleaned.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    ConversationId,
    UploaderId,
    Name,
    DeclaredSize,
    ReceivedBytes,
    Kind,
    Status,
    Failure,
    KeyEpoch,
    SealedKey,
    CreatedAt,
    UpdatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Files::Table)
                    .col(uuid(Files::Id).primary_key())
                    .col(uuid(Files::ConversationId))
                    .col(uuid(Files::UploaderId))
                    .col(string_len(Files::Name, 255))
                    .col(big_integer(Files::DeclaredSize))
                    .col(big_integer(Files::ReceivedBytes))
                    .col(string_len_null(Files::Kind, 20))
                    .col(string_len(Files::Status, 20))
                    .col(string_len_null(Files::Failure, 60))
                    .col(integer(Files::KeyEpoch))
                    .col(binary(Files::SealedKey))
                    .col(timestamp_with_time_zone(Files::CreatedAt))
                    .col(timestamp_with_time_zone(Files::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Files::ExpiresAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_files_uploader_status")
                    .table(Files::Table)
                    .col(Files::UploaderId)
                    .col(Files::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_files_conversation")
                    .table(Files::Table)
                    .col(Files::ConversationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Files::Table).to_owned())
            .await
    }
}
