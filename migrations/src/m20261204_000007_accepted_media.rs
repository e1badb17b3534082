//! The kinds of file each conversation accepts, as a comma-separated list
//! of categories (`document`, `image`, `audio`, `video`). Every existing
//! conversation accepts all four.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    AcceptedMedia,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .add_column(
                        string_len(Conversations::AcceptedMedia, 60)
                            .default("document,image,audio,video"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Conversations::Table)
                    .drop_column(Conversations::AcceptedMedia)
                    .to_owned(),
            )
            .await
    }
}
