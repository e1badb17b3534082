//! Invitations for workers: a manager invites a practitioner or another
//! manager into their organisation by email. The invited person sets up
//! their second factor before the account exists, so the secret waits on
//! the invitation, sealed under a key derived from the link token, which
//! only the invited person's browser holds. The invitation email reuses
//! the outbox's `invitation_id`, which names a row of either table.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum WorkerInvitations {
    Table,
    Id,
    OrganisationId,
    InvitedBy,
    Email,
    DisplayName,
    Role,
    TokenHash,
    EnrolmentSealedSecret,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    UserId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WorkerInvitations::Table)
                    .col(uuid(WorkerInvitations::Id).primary_key())
                    .col(uuid(WorkerInvitations::OrganisationId))
                    .col(uuid(WorkerInvitations::InvitedBy))
                    .col(string_len(WorkerInvitations::Email, 254))
                    .col(string_len(WorkerInvitations::DisplayName, 100))
                    .col(string_len(WorkerInvitations::Role, 30))
                    .col(binary_null(WorkerInvitations::TokenHash))
                    .col(binary_null(WorkerInvitations::EnrolmentSealedSecret))
                    .col(timestamp_with_time_zone(WorkerInvitations::CreatedAt))
                    .col(timestamp_with_time_zone(WorkerInvitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(WorkerInvitations::AcceptedAt))
                    .col(uuid_null(WorkerInvitations::UserId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorkerInvitations::Table, WorkerInvitations::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_worker_invitations_token_hash")
                    .table(WorkerInvitations::Table)
                    .col(WorkerInvitations::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_worker_invitations_organisation")
                    .table(WorkerInvitations::Table)
                    .col(WorkerInvitations::OrganisationId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WorkerInvitations::Table).to_owned())
            .await
    }
}
