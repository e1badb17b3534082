//! Letterbox contact: the agreement of each contact link and its parties,
//! letters with their versions, the steps of each letter's review, and the
//! practitioners' case notes.
//!
//! Protected terms, every letter version, the reasons of decisions and the
//! reason a link was suspended or ended are sealed under the conversation
//! key of the epoch stored beside them. Case notes are sealed under a key
//! of their own, sealed in turn to the organisation's public key, because
//! the families hold the conversation key and must never read them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Conversations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ContactAgreements {
    Table,
    ConversationId,
    Status,
    ReviewLevel,
    ReadReceipts,
    OnRequest,
    Exchanges,
    AdoptiveMedia,
    BirthMedia,
    TermsEpoch,
    TermsCiphertext,
    StatusEpoch,
    StatusReasonCiphertext,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AgreementParties {
    Table,
    ConversationId,
    UserId,
    Side,
    Relationship,
}

#[derive(DeriveIden)]
enum Letters {
    Table,
    Id,
    ConversationId,
    WriterId,
    Status,
    Version,
    CreatedAt,
    UpdatedAt,
    SubmittedAt,
    ReleasedAt,
}

#[derive(DeriveIden)]
enum LetterVersions {
    Table,
    LetterId,
    Version,
    KeyEpoch,
    Ciphertext,
    SavedAt,
    SubmittedAt,
}

#[derive(DeriveIden)]
enum LetterEvents {
    Table,
    Id,
    LetterId,
    ConversationId,
    Kind,
    ActorId,
    Version,
    KeyEpoch,
    ReasonCiphertext,
    At,
}

#[derive(DeriveIden)]
enum CaseNotes {
    Table,
    Id,
    ConversationId,
    AuthorId,
    OrganisationId,
    SealedKey,
    Ciphertext,
    WrittenAt,
}

fn to_conversation(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Conversations::Table, Conversations::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn to_user(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn to_letter(table: impl IntoIden, column: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Letters::Table, Letters::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ContactAgreements::Table)
                    .col(uuid(ContactAgreements::ConversationId).primary_key())
                    .col(string_len(ContactAgreements::Status, 12))
                    .col(string_len(ContactAgreements::ReviewLevel, 20))
                    .col(string_len(ContactAgreements::ReadReceipts, 20))
                    .col(boolean(ContactAgreements::OnRequest))
                    .col(string_len(ContactAgreements::Exchanges, 1000))
                    .col(string_len(ContactAgreements::AdoptiveMedia, 64))
                    .col(string_len(ContactAgreements::BirthMedia, 64))
                    .col(integer(ContactAgreements::TermsEpoch))
                    .col(binary(ContactAgreements::TermsCiphertext))
                    .col(integer_null(ContactAgreements::StatusEpoch))
                    .col(binary_null(ContactAgreements::StatusReasonCiphertext))
                    .col(uuid(ContactAgreements::UpdatedBy))
                    .col(timestamp_with_time_zone(ContactAgreements::UpdatedAt))
                    .foreign_key(&mut to_conversation(
                        ContactAgreements::Table,
                        ContactAgreements::ConversationId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgreementParties::Table)
                    .col(uuid(AgreementParties::ConversationId))
                    .col(uuid(AgreementParties::UserId))
                    .col(string_len(AgreementParties::Side, 10))
                    .col(string_len(AgreementParties::Relationship, 30))
                    .primary_key(
                        Index::create()
                            .col(AgreementParties::ConversationId)
                            .col(AgreementParties::UserId),
                    )
                    .foreign_key(&mut to_conversation(
                        AgreementParties::Table,
                        AgreementParties::ConversationId,
                    ))
                    .foreign_key(&mut to_user(
                        AgreementParties::Table,
                        AgreementParties::UserId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Letters::Table)
                    .col(uuid(Letters::Id).primary_key())
                    .col(uuid(Letters::ConversationId))
                    .col(uuid(Letters::WriterId))
                    .col(string_len(Letters::Status, 12))
                    .col(integer(Letters::Version))
                    .col(timestamp_with_time_zone(Letters::CreatedAt))
                    .col(timestamp_with_time_zone(Letters::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Letters::SubmittedAt))
                    .col(timestamp_with_time_zone_null(Letters::ReleasedAt))
                    .foreign_key(&mut to_conversation(
                        Letters::Table,
                        Letters::ConversationId,
                    ))
                    .foreign_key(&mut to_user(Letters::Table, Letters::WriterId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_letters_conversation_status")
                    .table(Letters::Table)
                    .col(Letters::ConversationId)
                    .col(Letters::Status)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LetterVersions::Table)
                    .col(uuid(LetterVersions::LetterId))
                    .col(integer(LetterVersions::Version))
                    .col(integer(LetterVersions::KeyEpoch))
                    .col(binary(LetterVersions::Ciphertext))
                    .col(timestamp_with_time_zone(LetterVersions::SavedAt))
                    .col(timestamp_with_time_zone_null(LetterVersions::SubmittedAt))
                    .primary_key(
                        Index::create()
                            .col(LetterVersions::LetterId)
                            .col(LetterVersions::Version),
                    )
                    .foreign_key(&mut to_letter(
                        LetterVersions::Table,
                        LetterVersions::LetterId,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(LetterEvents::Table)
                    .col(uuid(LetterEvents::Id).primary_key())
                    .col(uuid(LetterEvents::LetterId))
                    .col(uuid(LetterEvents::ConversationId))
                    .col(string_len(LetterEvents::Kind, 12))
                    .col(uuid(LetterEvents::ActorId))
                    .col(integer(LetterEvents::Version))
                    .col(integer_null(LetterEvents::KeyEpoch))
                    .col(binary_null(LetterEvents::ReasonCiphertext))
                    .col(timestamp_with_time_zone(LetterEvents::At))
                    .foreign_key(&mut to_letter(LetterEvents::Table, LetterEvents::LetterId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_letter_events_conversation")
                    .table(LetterEvents::Table)
                    .col(LetterEvents::ConversationId)
                    .col(LetterEvents::At)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CaseNotes::Table)
                    .col(uuid(CaseNotes::Id).primary_key())
                    .col(uuid(CaseNotes::ConversationId))
                    .col(uuid(CaseNotes::AuthorId))
                    .col(uuid(CaseNotes::OrganisationId))
                    .col(binary(CaseNotes::SealedKey))
                    .col(binary(CaseNotes::Ciphertext))
                    .col(timestamp_with_time_zone(CaseNotes::WrittenAt))
                    .foreign_key(&mut to_conversation(
                        CaseNotes::Table,
                        CaseNotes::ConversationId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_case_notes_conversation")
                    .table(CaseNotes::Table)
                    .col(CaseNotes::ConversationId)
                    .col(CaseNotes::WrittenAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CaseNotes::Table.into_iden(),
            LetterEvents::Table.into_iden(),
            LetterVersions::Table.into_iden(),
            Letters::Table.into_iden(),
            AgreementParties::Table.into_iden(),
            ContactAgreements::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
