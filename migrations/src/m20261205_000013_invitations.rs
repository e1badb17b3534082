//! Invitations into a contact link, and the email that carries each one.
//!
//! An invitation's link token is made when its email is composed and only
//! its SHA-256 hash is stored; an outbox row for an invitation names the
//! invitation, whose address it goes to, instead of a user.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    ConversationId,
    InvitedBy,
    Email,
    DisplayName,
    Side,
    Relationship,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
    UserId,
    ConfirmedAt,
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    InvitationId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(uuid(Invitations::Id).primary_key())
                    .col(uuid(Invitations::ConversationId))
                    .col(uuid(Invitations::InvitedBy))
                    .col(string_len(Invitations::Email, 254))
                    .col(string_len(Invitations::DisplayName, 100))
                    .col(string_len(Invitations::Side, 10))
                    .col(string_len(Invitations::Relationship, 30))
                    .col(binary_null(Invitations::TokenHash))
                    .col(timestamp_with_time_zone(Invitations::CreatedAt))
                    .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                    .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                    .col(uuid_null(Invitations::UserId))
                    .col(timestamp_with_time_zone_null(Invitations::ConfirmedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::ConversationId)
                            .to(Conversations::Table, Conversations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_invitations_token_hash")
                    .table(Invitations::Table)
                    .col(Invitations::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .add_column(uuid_null(EmailOutbox::InvitationId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(EmailOutbox::Table)
                    .drop_column(EmailOutbox::InvitationId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Invitations::Table).to_owned())
            .await
    }
}
