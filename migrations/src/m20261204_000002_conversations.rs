//! Conversations (contact links and discussions), their members, sealed
//! conversation keys per epoch, messages and first-read receipts.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
    Kind,
    OrganisationId,
    KeyEpoch,
    LastSeq,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConversationMembers {
    Table,
    ConversationId,
    UserId,
    Role,
    JoinedAt,
    RemovedAt,
    ReadSeq,
}

#[derive(DeriveIden)]
enum ConversationKeys {
    Table,
    ConversationId,
    Epoch,
    RecipientKind,
    RecipientId,
    SealedKey,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    ConversationId,
    Seq,
    MessageId,
    SenderId,
    KeyEpoch,
    Ciphertext,
    SentAt,
}

#[derive(DeriveIden)]
enum ReadReceipts {
    Table,
    ConversationId,
    Seq,
    UserId,
    ReadAt,
}

fn cascade_to_conversation(from: (impl IntoIden, impl IntoIden)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(Conversations::Table, Conversations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Conversations::Table)
                    .col(uuid(Conversations::Id).primary_key())
                    .col(string_len(Conversations::Kind, 20))
                    .col(uuid(Conversations::OrganisationId))
                    .col(integer(Conversations::KeyEpoch))
                    .col(big_integer(Conversations::LastSeq))
                    .col(uuid(Conversations::CreatedBy))
                    .col(timestamp_with_time_zone(Conversations::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Conversations::Table, Conversations::OrganisationId)
                            .to(Organisations::Table, Organisations::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ConversationMembers::Table)
                    .col(uuid(ConversationMembers::ConversationId))
                    .col(uuid(ConversationMembers::UserId))
                    .col(string_len(ConversationMembers::Role, 20))
                    .col(timestamp_with_time_zone(ConversationMembers::JoinedAt))
                    .col(timestamp_with_time_zone_null(
                        ConversationMembers::RemovedAt,
                    ))
                    .col(big_integer(ConversationMembers::ReadSeq))
                    .primary_key(
                        Index::create()
                            .col(ConversationMembers::ConversationId)
                            .col(ConversationMembers::UserId),
                    )
                    .foreign_key(&mut cascade_to_conversation((
                        ConversationMembers::Table,
                        ConversationMembers::ConversationId,
                    )))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConversationMembers::Table, ConversationMembers::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_conversation_members_user")
                    .table(ConversationMembers::Table)
                    .col(ConversationMembers::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ConversationKeys::Table)
                    .col(uuid(ConversationKeys::ConversationId))
                    .col(integer(ConversationKeys::Epoch))
                    .col(string_len(ConversationKeys::RecipientKind, 20))
                    .col(uuid(ConversationKeys::RecipientId))
                    .col(binary(ConversationKeys::SealedKey))
                    .primary_key(
                        Index::create()
                            .col(ConversationKeys::ConversationId)
                            .col(ConversationKeys::Epoch)
                            .col(ConversationKeys::RecipientKind)
                            .col(ConversationKeys::RecipientId),
                    )
                    .foreign_key(&mut cascade_to_conversation((
                        ConversationKeys::Table,
                        ConversationKeys::ConversationId,
                    )))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Messages::Table)
                    .col(uuid(Messages::ConversationId))
                    .col(big_integer(Messages::Seq))
                    .col(uuid(Messages::MessageId))
                    .col(uuid(Messages::SenderId))
                    .col(integer(Messages::KeyEpoch))
                    .col(binary(Messages::Ciphertext))
                    .col(timestamp_with_time_zone(Messages::SentAt))
                    .primary_key(
                        Index::create()
                            .col(Messages::ConversationId)
                            .col(Messages::Seq),
                    )
                    .foreign_key(&mut cascade_to_conversation((
                        Messages::Table,
                        Messages::ConversationId,
                    )))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_messages_message_id")
                    .table(Messages::Table)
                    .col(Messages::ConversationId)
                    .col(Messages::MessageId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ReadReceipts::Table)
                    .col(uuid(ReadReceipts::ConversationId))
                    .col(big_integer(ReadReceipts::Seq))
                    .col(uuid(ReadReceipts::UserId))
                    .col(timestamp_with_time_zone(ReadReceipts::ReadAt))
                    .primary_key(
                        Index::create()
                            .col(ReadReceipts::ConversationId)
                            .col(ReadReceipts::Seq)
                            .col(ReadReceipts::UserId),
                    )
                    .foreign_key(&mut cascade_to_conversation((
                        ReadReceipts::Table,
                        ReadReceipts::ConversationId,
                    )))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ReadReceipts::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Messages::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ConversationKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ConversationMembers::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Conversations::Table).to_owned())
            .await
    }
}
