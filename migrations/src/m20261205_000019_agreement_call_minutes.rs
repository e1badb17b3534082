//! The length of a contact link's video calls, set by its contact
//! agreement. Null means the longest the server's configuration allows.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContactAgreements {
    Table,
    CallMinutes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ContactAgreements::Table)
                    .add_column(integer_null(ContactAgreements::CallMinutes))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ContactAgreements::Table)
                    .drop_column(ContactAgreements::CallMinutes)
                    .to_owned(),
            )
            .await
    }
}
