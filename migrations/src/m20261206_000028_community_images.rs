//! Images in community posts and profile pictures, and safeguarding
//! concerns a moderator passes to an organisation.
//!
//! An image is uploaded by a member before the post that shows it exists.
//! Its bytes are sealed under a key of its own, sealed in turn under the
//! platform data key, because every member who may read the post must be
//! able to see it. Processing re-encodes it without its metadata and makes
//! a thumbnail; only those renditions are kept. A post takes the image when
//! it is stored, and a profile takes one as its picture.
//!
//! A safeguarding concern is the one thing the community passes to an
//! organisation. It keeps a copy of what the organisation needs to act on
//! (the post's text, its topic's title, the member's name and account),
//! so the concern stays whole when the post is later moderated or erased.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CommunityMembers {
    Table,
    UserId,
}

#[derive(DeriveIden)]
enum CommunityPosts {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CommunityProfiles {
    Table,
    PictureId,
    PictureVisible,
}

#[derive(DeriveIden)]
enum CommunityImages {
    Table,
    Id,
    OwnerId,
    PostId,
    Position,
    Description,
    Kind,
    Status,
    Failure,
    Size,
    SealedKey,
    ProcessingAttempts,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CommunityImageRenditions {
    Table,
    Id,
    ImageId,
    Role,
    Mime,
    Size,
    Width,
    Height,
}

#[derive(DeriveIden)]
enum CommunityConcerns {
    Table,
    Id,
    PostId,
    OrganisationId,
    Reason,
    MemberTold,
    NotToldBecause,
    TopicTitle,
    PostBody,
    PostCreatedAt,
    MemberUserId,
    MemberDisplayName,
    RaisedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CommunityImages::Table)
                    .col(uuid(CommunityImages::Id).primary_key())
                    .col(uuid(CommunityImages::OwnerId))
                    .col(uuid_null(CommunityImages::PostId))
                    .col(integer_null(CommunityImages::Position))
                    .col(text_null(CommunityImages::Description))
                    .col(string_len_null(CommunityImages::Kind, 20))
                    .col(string_len(CommunityImages::Status, 20))
                    .col(string_len_null(CommunityImages::Failure, 60))
                    .col(big_integer(CommunityImages::Size))
                    .col(binary(CommunityImages::SealedKey))
                    .col(integer(CommunityImages::ProcessingAttempts).default(0))
                    .col(timestamp_with_time_zone(CommunityImages::CreatedAt))
                    .col(timestamp_with_time_zone(CommunityImages::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityImages::Table, CommunityImages::OwnerId)
                            .to(CommunityMembers::Table, CommunityMembers::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityImages::Table, CommunityImages::PostId)
                            .to(CommunityPosts::Table, CommunityPosts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_community_images_owner")
                    .table(CommunityImages::Table)
                    .col(CommunityImages::OwnerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_community_images_post")
                    .table(CommunityImages::Table)
                    .col(CommunityImages::PostId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CommunityImageRenditions::Table)
                    .col(uuid(CommunityImageRenditions::Id).primary_key())
                    .col(uuid(CommunityImageRenditions::ImageId))
                    .col(string_len(CommunityImageRenditions::Role, 20))
                    .col(string_len(CommunityImageRenditions::Mime, 40))
                    .col(big_integer(CommunityImageRenditions::Size))
                    .col(integer_null(CommunityImageRenditions::Width))
                    .col(integer_null(CommunityImageRenditions::Height))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                CommunityImageRenditions::Table,
                                CommunityImageRenditions::ImageId,
                            )
                            .to(CommunityImages::Table, CommunityImages::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_community_image_renditions_image_role")
                    .table(CommunityImageRenditions::Table)
                    .col(CommunityImageRenditions::ImageId)
                    .col(CommunityImageRenditions::Role)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // SQLite takes one change per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(CommunityProfiles::Table)
                    .add_column(uuid_null(CommunityProfiles::PictureId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CommunityProfiles::Table)
                    .add_column(boolean(CommunityProfiles::PictureVisible).default(false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CommunityConcerns::Table)
                    .col(uuid(CommunityConcerns::Id).primary_key())
                    .col(uuid(CommunityConcerns::PostId))
                    .col(uuid(CommunityConcerns::OrganisationId))
                    .col(text(CommunityConcerns::Reason))
                    .col(boolean(CommunityConcerns::MemberTold))
                    .col(text_null(CommunityConcerns::NotToldBecause))
                    .col(text(CommunityConcerns::TopicTitle))
                    .col(text_null(CommunityConcerns::PostBody))
                    .col(timestamp_with_time_zone(CommunityConcerns::PostCreatedAt))
                    .col(uuid_null(CommunityConcerns::MemberUserId))
                    .col(text(CommunityConcerns::MemberDisplayName))
                    .col(uuid(CommunityConcerns::RaisedBy))
                    .col(timestamp_with_time_zone(CommunityConcerns::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityConcerns::Table, CommunityConcerns::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_community_concerns_organisation")
                    .table(CommunityConcerns::Table)
                    .col(CommunityConcerns::OrganisationId)
                    .col(CommunityConcerns::CreatedAt)
                    .to_owned(),
            )
            .await?;
        // A post goes to an organisation once, however many moderators
        // raise it at the same moment.
        manager
            .create_index(
                Index::create()
                    .name("idx_community_concerns_post_organisation")
                    .table(CommunityConcerns::Table)
                    .col(CommunityConcerns::PostId)
                    .col(CommunityConcerns::OrganisationId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CommunityConcerns::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CommunityProfiles::Table)
                    .drop_column(CommunityProfiles::PictureVisible)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CommunityProfiles::Table)
                    .drop_column(CommunityProfiles::PictureId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(CommunityImageRenditions::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(CommunityImages::Table).to_owned())
            .await
    }
}
