//! The audit trail. Rows name people by their user id only; names live in
//! the users table, so erasing a person's identity leaves the trail whole.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum AuditEvents {
    Table,
    Id,
    OccurredAt,
    ActorId,
    OrganisationId,
    Action,
    SubjectKind,
    SubjectId,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(uuid(AuditEvents::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditEvents::OccurredAt))
                    .col(uuid_null(AuditEvents::ActorId))
                    .col(uuid_null(AuditEvents::OrganisationId))
                    .col(string_len(AuditEvents::Action, 80))
                    .col(string_len(AuditEvents::SubjectKind, 40))
                    .col(uuid_null(AuditEvents::SubjectId))
                    .col(json(AuditEvents::Detail))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_events_organisation")
                    .table(AuditEvents::Table)
                    .col(AuditEvents::OrganisationId)
                    .col(AuditEvents::OccurredAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}
