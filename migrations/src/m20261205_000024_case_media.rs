//! Photos and videos in family-finding profiles. Each item is a sealed
//! upload with its own key, and the key is sealed under the platform data
//! key like the profile itself, because every organisation the profile is
//! published to must be able to show it. Processing turns the upload into
//! renditions (the re-encoded picture and its thumbnail, the playable video
//! and its poster), each a sealed blob under the item's key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CaseMedia {
    Table,
    Id,
    CaseId,
    Slot,
    Kind,
    Status,
    Failure,
    Size,
    SealedKey,
    UploadedBy,
    ProcessingAttempts,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseMediaRenditions {
    Table,
    Id,
    MediaId,
    Role,
    Mime,
    Size,
    Width,
    Height,
    DurationMs,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CaseMedia::Table)
                    .col(uuid(CaseMedia::Id).primary_key())
                    .col(uuid(CaseMedia::CaseId))
                    .col(string_len(CaseMedia::Slot, 8))
                    .col(string_len_null(CaseMedia::Kind, 20))
                    .col(string_len(CaseMedia::Status, 20))
                    .col(string_len_null(CaseMedia::Failure, 60))
                    .col(big_integer(CaseMedia::Size))
                    .col(binary(CaseMedia::SealedKey))
                    .col(uuid(CaseMedia::UploadedBy))
                    .col(integer(CaseMedia::ProcessingAttempts).default(0))
                    .col(timestamp_with_time_zone(CaseMedia::CreatedAt))
                    .col(timestamp_with_time_zone(CaseMedia::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseMedia::Table, CaseMedia::CaseId)
                            .to(Cases::Table, Cases::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_case_media_case")
                    .table(CaseMedia::Table)
                    .col(CaseMedia::CaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseMediaRenditions::Table)
                    .col(uuid(CaseMediaRenditions::Id).primary_key())
                    .col(uuid(CaseMediaRenditions::MediaId))
                    .col(string_len(CaseMediaRenditions::Role, 20))
                    .col(string_len(CaseMediaRenditions::Mime, 40))
                    .col(big_integer(CaseMediaRenditions::Size))
                    .col(integer_null(CaseMediaRenditions::Width))
                    .col(integer_null(CaseMediaRenditions::Height))
                    .col(big_integer_null(CaseMediaRenditions::DurationMs))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseMediaRenditions::Table, CaseMediaRenditions::MediaId)
                            .to(CaseMedia::Table, CaseMedia::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_case_media_renditions_media_role")
                    .table(CaseMediaRenditions::Table)
                    .col(CaseMediaRenditions::MediaId)
                    .col(CaseMediaRenditions::Role)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CaseMediaRenditions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CaseMedia::Table).to_owned())
            .await
    }
}
