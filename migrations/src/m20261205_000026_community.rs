//! The community support network: memberships with the partner's list they
//! are verified against, the social profiles members keep, groups, topics
//! and posts, reports, and the notices moderators' decisions leave.
//!
//! None of these tables refers to a case, a conversation or a placing
//! organisation: the community shares only the sign-in with the rest.

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
enum CommunityMembers {
    Table,
    UserId,
    DisplayName,
    ComparableName,
    State,
    PartnerId,
    MembershipNumber,
    AppliedAt,
    DecidedAt,
    DecidedBy,
    VerifiedHow,
    DecisionReason,
    RulesVersion,
    RulesAcceptedAt,
    SuspendedUntil,
    LastInteractionAt,
}

#[derive(DeriveIden)]
enum CommunityProfiles {
    Table,
    UserId,
    FamilyMakeup,
    FamilyMakeupVisible,
    LegalStatus,
    LegalStatusVisible,
    Interests,
    InterestsVisible,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CommunityLinks {
    Table,
    Id,
    Email,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum CommunityListEntries {
    Table,
    PartnerId,
    MembershipNumber,
    Email,
    ImportedAt,
}

#[derive(DeriveIden)]
enum CommunityGroups {
    Table,
    Id,
    Name,
    ComparableName,
    Description,
    JoinRule,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CommunityGroupMembers {
    Table,
    GroupId,
    UserId,
    State,
    RequestedAt,
    DecidedAt,
    DecidedBy,
}

#[derive(DeriveIden)]
enum CommunityTopics {
    Table,
    Id,
    GroupId,
    Title,
    AuthorId,
    CreatedAt,
    LastPostAt,
    ReplyCount,
}

#[derive(DeriveIden)]
enum CommunityPosts {
    Table,
    Id,
    TopicId,
    AuthorId,
    Body,
    State,
    Reason,
    ModeratedBy,
    ModeratedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CommunityReports {
    Table,
    Id,
    PostId,
    ReporterId,
    Reason,
    CreatedAt,
    ResolvedAt,
    ResolvedBy,
}

#[derive(DeriveIden)]
enum CommunityNotices {
    Table,
    Id,
    UserId,
    Kind,
    Reason,
    PostId,
    TopicId,
    Until,
    ModeratorId,
    CreatedAt,
}

fn to_user<T: IntoIden + 'static>(
    table: T,
    column: T,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(on_delete)
        .to_owned()
}

async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden + 'static,
    columns: &[&'static str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table);
    for column in columns {
        statement.col(Alias::new(*column));
    }
    if unique {
        statement.unique();
    }
    manager.create_index(statement.to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CommunityMembers::Table)
                    .col(uuid(CommunityMembers::UserId).primary_key())
                    .col(string_len(CommunityMembers::DisplayName, 200))
                    .col(string_len(CommunityMembers::ComparableName, 200))
                    .col(string_len(CommunityMembers::State, 12))
                    .col(uuid_null(CommunityMembers::PartnerId))
                    .col(string_len_null(CommunityMembers::MembershipNumber, 160))
                    .col(timestamp_with_time_zone(CommunityMembers::AppliedAt))
                    .col(timestamp_with_time_zone_null(CommunityMembers::DecidedAt))
                    .col(uuid_null(CommunityMembers::DecidedBy))
                    .col(string_len_null(CommunityMembers::VerifiedHow, 8))
                    .col(text_null(CommunityMembers::DecisionReason))
                    .col(integer_null(CommunityMembers::RulesVersion))
                    .col(timestamp_with_time_zone_null(
                        CommunityMembers::RulesAcceptedAt,
                    ))
                    .col(timestamp_with_time_zone_null(
                        CommunityMembers::SuspendedUntil,
                    ))
                    .col(timestamp_with_time_zone(
                        CommunityMembers::LastInteractionAt,
                    ))
                    .foreign_key(&mut to_user(
                        CommunityMembers::Table,
                        CommunityMembers::UserId,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityMembers::Table, CommunityMembers::PartnerId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_community_members_name",
            CommunityMembers::Table,
            &["comparable_name"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_community_members_state",
            CommunityMembers::Table,
            &["state", "applied_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityProfiles::Table)
                    .col(uuid(CommunityProfiles::UserId).primary_key())
                    .col(text(CommunityProfiles::FamilyMakeup))
                    .col(boolean(CommunityProfiles::FamilyMakeupVisible))
                    .col(string_len_null(CommunityProfiles::LegalStatus, 40))
                    .col(boolean(CommunityProfiles::LegalStatusVisible))
                    .col(text(CommunityProfiles::Interests))
                    .col(boolean(CommunityProfiles::InterestsVisible))
                    .col(timestamp_with_time_zone(CommunityProfiles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityProfiles::Table, CommunityProfiles::UserId)
                            .to(CommunityMembers::Table, CommunityMembers::UserId)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityLinks::Table)
                    .col(uuid(CommunityLinks::Id).primary_key())
                    .col(string_len(CommunityLinks::Email, 254))
                    .col(binary(CommunityLinks::TokenHash))
                    .col(timestamp_with_time_zone(CommunityLinks::CreatedAt))
                    .col(timestamp_with_time_zone(CommunityLinks::ExpiresAt))
                    .col(timestamp_with_time_zone_null(CommunityLinks::UsedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_community_links_token",
            CommunityLinks::Table,
            &["token_hash"],
            true,
        )
        .await?;
        index(
            manager,
            "idx_community_links_email",
            CommunityLinks::Table,
            &["email", "created_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityListEntries::Table)
                    .col(uuid(CommunityListEntries::PartnerId))
                    .col(string_len(CommunityListEntries::MembershipNumber, 160))
                    .col(string_len(CommunityListEntries::Email, 254))
                    .col(timestamp_with_time_zone(CommunityListEntries::ImportedAt))
                    .primary_key(
                        Index::create()
                            .col(CommunityListEntries::PartnerId)
                            .col(CommunityListEntries::MembershipNumber),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityListEntries::Table, CommunityListEntries::PartnerId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityGroups::Table)
                    .col(uuid(CommunityGroups::Id).primary_key())
                    .col(string_len(CommunityGroups::Name, 400))
                    .col(string_len(CommunityGroups::ComparableName, 400))
                    .col(text(CommunityGroups::Description))
                    .col(string_len(CommunityGroups::JoinRule, 10))
                    .col(uuid_null(CommunityGroups::CreatedBy))
                    .col(timestamp_with_time_zone(CommunityGroups::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_community_groups_name",
            CommunityGroups::Table,
            &["comparable_name"],
            true,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityGroupMembers::Table)
                    .col(uuid(CommunityGroupMembers::GroupId))
                    .col(uuid(CommunityGroupMembers::UserId))
                    .col(string_len(CommunityGroupMembers::State, 10))
                    .col(timestamp_with_time_zone(CommunityGroupMembers::RequestedAt))
                    .col(timestamp_with_time_zone_null(
                        CommunityGroupMembers::DecidedAt,
                    ))
                    .col(uuid_null(CommunityGroupMembers::DecidedBy))
                    .primary_key(
                        Index::create()
                            .col(CommunityGroupMembers::GroupId)
                            .col(CommunityGroupMembers::UserId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityGroupMembers::Table, CommunityGroupMembers::GroupId)
                            .to(CommunityGroups::Table, CommunityGroups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut to_user(
                        CommunityGroupMembers::Table,
                        CommunityGroupMembers::UserId,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityTopics::Table)
                    .col(uuid(CommunityTopics::Id).primary_key())
                    .col(uuid(CommunityTopics::GroupId))
                    .col(text(CommunityTopics::Title))
                    .col(uuid_null(CommunityTopics::AuthorId))
                    .col(timestamp_with_time_zone(CommunityTopics::CreatedAt))
                    .col(timestamp_with_time_zone(CommunityTopics::LastPostAt))
                    .col(integer(CommunityTopics::ReplyCount).default(0))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityTopics::Table, CommunityTopics::GroupId)
                            .to(CommunityGroups::Table, CommunityGroups::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut to_user(
                        CommunityTopics::Table,
                        CommunityTopics::AuthorId,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_community_topics_group",
            CommunityTopics::Table,
            &["group_id", "last_post_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityPosts::Table)
                    .col(uuid(CommunityPosts::Id).primary_key())
                    .col(uuid(CommunityPosts::TopicId))
                    .col(uuid_null(CommunityPosts::AuthorId))
                    .col(text_null(CommunityPosts::Body))
                    .col(string_len(CommunityPosts::State, 10))
                    .col(text_null(CommunityPosts::Reason))
                    .col(uuid_null(CommunityPosts::ModeratedBy))
                    .col(timestamp_with_time_zone_null(CommunityPosts::ModeratedAt))
                    .col(timestamp_with_time_zone(CommunityPosts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityPosts::Table, CommunityPosts::TopicId)
                            .to(CommunityTopics::Table, CommunityTopics::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut to_user(
                        CommunityPosts::Table,
                        CommunityPosts::AuthorId,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_community_posts_topic",
            CommunityPosts::Table,
            &["topic_id", "created_at"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_community_posts_author",
            CommunityPosts::Table,
            &["author_id", "created_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityReports::Table)
                    .col(uuid(CommunityReports::Id).primary_key())
                    .col(uuid(CommunityReports::PostId))
                    .col(uuid(CommunityReports::ReporterId))
                    .col(text(CommunityReports::Reason))
                    .col(timestamp_with_time_zone(CommunityReports::CreatedAt))
                    .col(timestamp_with_time_zone_null(CommunityReports::ResolvedAt))
                    .col(uuid_null(CommunityReports::ResolvedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(CommunityReports::Table, CommunityReports::PostId)
                            .to(CommunityPosts::Table, CommunityPosts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut to_user(
                        CommunityReports::Table,
                        CommunityReports::ReporterId,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_community_reports_post",
            CommunityReports::Table,
            &["post_id", "resolved_at"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityNotices::Table)
                    .col(uuid(CommunityNotices::Id).primary_key())
                    .col(uuid(CommunityNotices::UserId))
                    .col(string_len(CommunityNotices::Kind, 24))
                    .col(text(CommunityNotices::Reason))
                    .col(uuid_null(CommunityNotices::PostId))
                    .col(uuid_null(CommunityNotices::TopicId))
                    .col(timestamp_with_time_zone_null(CommunityNotices::Until))
                    .col(uuid_null(CommunityNotices::ModeratorId))
                    .col(timestamp_with_time_zone(CommunityNotices::CreatedAt))
                    .foreign_key(&mut to_user(
                        CommunityNotices::Table,
                        CommunityNotices::UserId,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_community_notices_user",
            CommunityNotices::Table,
            &["user_id", "created_at"],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "community_notices",
            "community_reports",
            "community_posts",
            "community_topics",
            "community_group_members",
            "community_groups",
            "community_list_entries",
            "community_links",
            "community_profiles",
            "community_members",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
