//! Organisations, users, memberships, sessions, sealed keys and sign-in
//! throttling.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    Name,
    Kind,
    LicenceExpiresAt,
    RetentionDays,
    PublicKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    Status,
    PasswordSalt,
    AuthHash,
    PublicKey,
    SealedPrivateKey,
    RecoverySealedPrivateKey,
    TotpSealedSecret,
    InvitedBy,
    CreatedAt,
    ConfirmedAt,
    LastSignInAt,
}

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    UserId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    UserId,
    OrganisationId,
    Role,
    ConfirmedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum OrganisationKeys {
    Table,
    OrganisationId,
    UserId,
    SealedPrivateKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    TokenHash,
    SealedPrivateKey,
    CreatedAt,
    LastSeenAt,
    AbsoluteExpiresAt,
    UserAgent,
    ClientAddress,
}

#[derive(DeriveIden)]
enum SignInFailures {
    Table,
    Subject,
    WindowStartedAt,
    Failures,
}

#[derive(DeriveIden)]
enum PlatformSettings {
    Table,
    Name,
    Value,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organisations::Table)
                    .col(uuid(Organisations::Id).primary_key())
                    .col(string_len(Organisations::Name, 200))
                    .col(string_len(Organisations::Kind, 40))
                    .col(timestamp_with_time_zone_null(
                        Organisations::LicenceExpiresAt,
                    ))
                    .col(integer(Organisations::RetentionDays))
                    .col(binary(Organisations::PublicKey))
                    .col(timestamp_with_time_zone(Organisations::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(uuid(Users::Id).primary_key())
                    .col(string_len_uniq(Users::Email, 254))
                    .col(string_len(Users::DisplayName, 80))
                    .col(string_len(Users::Status, 20))
                    .col(binary(Users::PasswordSalt))
                    .col(binary(Users::AuthHash))
                    .col(binary(Users::PublicKey))
                    .col(binary(Users::SealedPrivateKey))
                    .col(binary(Users::RecoverySealedPrivateKey))
                    .col(binary_null(Users::TotpSealedSecret))
                    .col(uuid_null(Users::InvitedBy))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone_null(Users::ConfirmedAt))
                    .col(timestamp_with_time_zone_null(Users::LastSignInAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(uuid(RecoveryCodes::UserId))
                    .col(binary(RecoveryCodes::CodeHash))
                    .col(timestamp_with_time_zone_null(RecoveryCodes::UsedAt))
                    .primary_key(
                        Index::create()
                            .col(RecoveryCodes::UserId)
                            .col(RecoveryCodes::CodeHash),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RecoveryCodes::Table, RecoveryCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(uuid(Memberships::UserId))
                    .col(uuid(Memberships::OrganisationId))
                    .col(string_len(Memberships::Role, 40))
                    .col(uuid_null(Memberships::ConfirmedBy))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Memberships::UserId)
                            .col(Memberships::OrganisationId)
                            .col(Memberships::Role),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Memberships::Table, Memberships::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrganisationKeys::Table)
                    .col(uuid(OrganisationKeys::OrganisationId))
                    .col(uuid(OrganisationKeys::UserId))
                    .col(binary(OrganisationKeys::SealedPrivateKey))
                    .col(timestamp_with_time_zone(OrganisationKeys::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(OrganisationKeys::OrganisationId)
                            .col(OrganisationKeys::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrganisationKeys::Table, OrganisationKeys::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrganisationKeys::Table, OrganisationKeys::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(uuid(Sessions::Id).primary_key())
                    .col(uuid(Sessions::UserId))
                    .col(binary_uniq(Sessions::TokenHash))
                    .col(binary(Sessions::SealedPrivateKey))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone(Sessions::AbsoluteExpiresAt))
                    .col(string_len(Sessions::UserAgent, 300))
                    .col(string_len(Sessions::ClientAddress, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sessions_user")
                    .table(Sessions::Table)
                    .col(Sessions::UserId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SignInFailures::Table)
                    .col(string_len(SignInFailures::Subject, 128).primary_key())
                    .col(timestamp_with_time_zone(SignInFailures::WindowStartedAt))
                    .col(integer(SignInFailures::Failures))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(PlatformSettings::Table)
                    .col(string_len(PlatformSettings::Name, 100).primary_key())
                    .col(binary(PlatformSettings::Value))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PlatformSettings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SignInFailures::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OrganisationKeys::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Memberships::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RecoveryCodes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Organisations::Table).to_owned())
            .await
    }
}
