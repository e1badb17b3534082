//! What keeps a contact link's exchanges under review: whether the
//! families may send live messages to each other, and when a file became
//! visible to the other members of its conversation. A file attached to a
//! letter stays with its writer and the practitioners until the letter is
//! released.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ContactAgreements {
    Table,
    LiveMessages,
}

#[derive(DeriveIden)]
enum Files {
    Table,
    SharedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ContactAgreements::Table)
                    .add_column(boolean(ContactAgreements::LiveMessages).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Files::Table)
                    .add_column(timestamp_with_time_zone_null(Files::SharedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Files::Table)
                    .drop_column(Files::SharedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ContactAgreements::Table)
                    .drop_column(ContactAgreements::LiveMessages)
                    .to_owned(),
            )
            .await
    }
}
