//! Requests from the people in the data about their rights: who asked,
//! about whom, which right, when it is due, and how it ended.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RightsRequests {
    Table,
    Id,
    OrganisationId,
    SubjectUserId,
    SealedSubject,
    Kind,
    State,
    SealedDetails,
    RecordedBy,
    ReceivedAt,
    DueOn,
    ClosedAt,
    ClosedBy,
    Reason,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RightsRequests::Table)
                    .col(uuid(RightsRequests::Id).primary_key())
                    .col(uuid_null(RightsRequests::OrganisationId))
                    .col(uuid_null(RightsRequests::SubjectUserId))
                    .col(blob_null(RightsRequests::SealedSubject))
                    .col(string_len(RightsRequests::Kind, 16))
                    .col(string_len(RightsRequests::State, 16))
                    .col(blob_null(RightsRequests::SealedDetails))
                    .col(uuid(RightsRequests::RecordedBy))
                    .col(timestamp_with_time_zone(RightsRequests::ReceivedAt))
                    .col(date(RightsRequests::DueOn))
                    .col(timestamp_with_time_zone_null(RightsRequests::ClosedAt))
                    .col(uuid_null(RightsRequests::ClosedBy))
                    .col(string_len_null(RightsRequests::Reason, 500))
                    .col(timestamp_with_time_zone(RightsRequests::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            (
                "idx_rights_requests_organisation",
                RightsRequests::OrganisationId,
            ),
            ("idx_rights_requests_subject", RightsRequests::SubjectUserId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(RightsRequests::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RightsRequests::Table).to_owned())
            .await
    }
}
