//! Family finding: licence start dates, child and family cases, and the
//! organisations a case is shared with by name.
//!
//! A case row holds its coded fields in clear columns, for search, matching
//! and statistics, and everything else in `sealed_profile`, sealed under the
//! platform data key. Child and family cases share one table because they
//! share visibility, transfer and retention; the columns whose meaning
//! differs by kind say so below.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    LicenceStartsAt,
    FamiliesEditProfiles,
}

#[derive(DeriveIden)]
enum Cases {
    Table,
    Id,
    Kind,
    OrganisationId,
    CreatedBy,
    Visibility,
    Anonymous,
    Status,
    Region,
    Ethnicity,
    /// Child: the permanence plan. Family: null.
    Plan,
    /// Child: the legal status. Family: null.
    LegalStatus,
    /// Family: approved plans, comma-separated codes. Child: null.
    ApprovedFor,
    /// Child: youngest child's age. Family: youngest age offered.
    MinAge,
    /// Child: oldest child's age. Family: oldest age offered.
    MaxAge,
    /// Child: children in the group. Family: most children offered.
    GroupSize,
    /// Child: each child's age, comma-separated, for statistics that count
    /// children rather than groups. Family: null.
    ChildAges,
    /// Child: level of need, 0 to 3. Family: most it can meet.
    NeedHealth,
    NeedDevelopment,
    NeedHistory,
    SealedProfile,
    FamilyUserId,
    CreatedAt,
    UpdatedAt,
    LastActivityAt,
}

#[derive(DeriveIden)]
enum CaseShares {
    Table,
    CaseId,
    OrganisationId,
}

#[derive(DeriveIden)]
enum Interests {
    Table,
    Id,
    ChildCaseId,
    FamilyCaseId,
    ConversationId,
    State,
    Reason,
    OpenedBy,
    OpenedAt,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CaseTransfers {
    Table,
    Id,
    CaseId,
    FromOrganisationId,
    ToOrganisationId,
    TransferredBy,
    ApprovalReference,
    ApprovedOn,
    TransferredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table(Organisations::Table)
                    .add_column(timestamp_with_time_zone_null(
                        Organisations::LicenceStartsAt,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organisations::Table)
                    .add_column(boolean(Organisations::FamiliesEditProfiles).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Cases::Table)
                    .col(uuid(Cases::Id).primary_key())
                    .col(string_len(Cases::Kind, 8))
                    .col(uuid(Cases::OrganisationId))
                    .col(uuid(Cases::CreatedBy))
                    .col(string_len(Cases::Visibility, 8))
                    .col(boolean(Cases::Anonymous))
                    .col(string_len(Cases::Status, 16))
                    .col(string_len(Cases::Region, 32))
                    .col(string_len(Cases::Ethnicity, 16))
                    .col(string_len_null(Cases::Plan, 32))
                    .col(string_len_null(Cases::LegalStatus, 32))
                    .col(string_len_null(Cases::ApprovedFor, 100))
                    .col(small_integer(Cases::MinAge))
                    .col(small_integer(Cases::MaxAge))
                    .col(small_integer(Cases::GroupSize))
                    .col(string_len_null(Cases::ChildAges, 40))
                    .col(small_integer(Cases::NeedHealth))
                    .col(small_integer(Cases::NeedDevelopment))
                    .col(small_integer(Cases::NeedHistory))
                    .col(blob(Cases::SealedProfile))
                    .col(uuid_null(Cases::FamilyUserId))
                    .col(timestamp_with_time_zone(Cases::CreatedAt))
                    .col(timestamp_with_time_zone(Cases::UpdatedAt))
                    .col(timestamp_with_time_zone(Cases::LastActivityAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Cases::Table, Cases::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cases_organisation")
                    .table(Cases::Table)
                    .col(Cases::OrganisationId)
                    .col(Cases::Kind)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_cases_search")
                    .table(Cases::Table)
                    .col(Cases::Kind)
                    .col(Cases::Visibility)
                    .col(Cases::Region)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseShares::Table)
                    .col(uuid(CaseShares::CaseId))
                    .col(uuid(CaseShares::OrganisationId))
                    .primary_key(
                        Index::create()
                            .col(CaseShares::CaseId)
                            .col(CaseShares::OrganisationId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseShares::Table, CaseShares::CaseId)
                            .to(Cases::Table, Cases::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseShares::Table, CaseShares::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_case_shares_organisation")
                    .table(CaseShares::Table)
                    .col(CaseShares::OrganisationId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Interests::Table)
                    .col(uuid(Interests::Id).primary_key())
                    .col(uuid(Interests::ChildCaseId))
                    .col(uuid(Interests::FamilyCaseId))
                    .col(uuid(Interests::ConversationId))
                    .col(string_len(Interests::State, 16))
                    .col(string_len_null(Interests::Reason, 32))
                    .col(uuid(Interests::OpenedBy))
                    .col(timestamp_with_time_zone(Interests::OpenedAt))
                    .col(uuid(Interests::UpdatedBy))
                    .col(timestamp_with_time_zone(Interests::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Interests::Table, Interests::ChildCaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Interests::Table, Interests::FamilyCaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseTransfers::Table)
                    .col(uuid(CaseTransfers::Id).primary_key())
                    .col(uuid(CaseTransfers::CaseId))
                    .col(uuid(CaseTransfers::FromOrganisationId))
                    .col(uuid(CaseTransfers::ToOrganisationId))
                    .col(uuid(CaseTransfers::TransferredBy))
                    .col(string_len(CaseTransfers::ApprovalReference, 100))
                    .col(date(CaseTransfers::ApprovedOn))
                    .col(timestamp_with_time_zone(CaseTransfers::TransferredAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CaseTransfers::Table, CaseTransfers::CaseId)
                            .to(Cases::Table, Cases::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("idx_case_transfers_from", CaseTransfers::FromOrganisationId),
            ("idx_case_transfers_to", CaseTransfers::ToOrganisationId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(CaseTransfers::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        for (name, column) in [
            ("idx_interests_child", Interests::ChildCaseId),
            ("idx_interests_family", Interests::FamilyCaseId),
            ("idx_interests_conversation", Interests::ConversationId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Interests::Table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CaseTransfers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Interests::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CaseShares::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Cases::Table).to_owned())
            .await?;
        for column in [
            Organisations::FamiliesEditProfiles,
            Organisations::LicenceStartsAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Organisations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
