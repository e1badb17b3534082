//! What media processing makes of a file: the renditions served in place of
//! the upload (the playable video, the re-encoded photo, a poster or a
//! thumbnail), each a sealed blob of its own under the file's key. A file
//! also counts how many times its processing started, so a file that
//! keeps crashing the server is failed rather than retried at every start.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Files {
    Table,
    Id,
    ProcessingAttempts,
}

#[derive(DeriveIden)]
enum FileRenditions {
    Table,
    Id,
    FileId,
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
            .alter_table(
                Table::alter()
                    .table(Files::Table)
                    .add_column(integer(Files::ProcessingAttempts).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FileRenditions::Table)
                    .col(uuid(FileRenditions::Id).primary_key())
                    .col(uuid(FileRenditions::FileId))
                    .col(string_len(FileRenditions::Role, 20))
                    .col(string_len(FileRenditions::Mime, 40))
                    .col(big_integer(FileRenditions::Size))
                    .col(integer_null(FileRenditions::Width))
                    .col(integer_null(FileRenditions::Height))
                    .col(big_integer_null(FileRenditions::DurationMs))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FileRenditions::Table, FileRenditions::FileId)
                            .to(Files::Table, Files::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_file_renditions_file_role")
                    .table(FileRenditions::Table)
                    .col(FileRenditions::FileId)
                    .col(FileRenditions::Role)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FileRenditions::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Files::Table)
                    .drop_column(Files::ProcessingAttempts)
                    .to_owned(),
            )
            .await
    }
}
