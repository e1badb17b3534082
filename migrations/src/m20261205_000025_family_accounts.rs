//! Families who keep their own profile. A worker of a family case's
//! organisation invites the household by email; the invitation names the
//! case, and accepting it links the new account to that case as the
//! family that the case describes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum WorkerInvitations {
    Table,
    CaseId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkerInvitations::Table)
                    .add_column(uuid_null(WorkerInvitations::CaseId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(WorkerInvitations::Table)
                    .drop_column(WorkerInvitations::CaseId)
                    .to_owned(),
            )
            .await
    }
}
