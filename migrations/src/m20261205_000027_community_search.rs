//! Searching the community, appeals against moderators' decisions, and
//! each member's community id.
//!
//! Community answers name a member by an id of the community's own, never
//! by their account's id, which case data also carries: knowing a person
//! from a contact link must not reveal their display name here.
//!
//! Posts are not communication data, so members can search them. On SQLite
//! an FTS5 table holds every visible post with its topic's title, kept up
//! to date by triggers. On PostgreSQL a generated `tsvector` column with a
//! GIN index does the same for post text, and titles are matched with the
//! same configuration. A member may appeal a notice once; the appeal and
//! the moderator's answer are kept on the notice.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: [&str; 5] = [
    "CREATE VIRTUAL TABLE community_search USING fts5(
        post_id UNINDEXED, topic_id UNINDEXED, group_id UNINDEXED, title, body,
        tokenize = 'porter unicode61 remove_diacritics 2')",
    // A new visible post is indexed with its topic's title.
    "CREATE TRIGGER community_search_insert AFTER INSERT ON community_posts
     WHEN NEW.state = 'visible' AND NEW.body IS NOT NULL
     BEGIN
        INSERT INTO community_search (post_id, topic_id, group_id, title, body)
        SELECT NEW.id, NEW.topic_id, t.group_id, t.title, NEW.body
        FROM community_topics t WHERE t.id = NEW.topic_id;
     END",
    // A hidden or removed post leaves the index; a restored one returns.
    "CREATE TRIGGER community_search_update AFTER UPDATE OF state, body ON community_posts
     BEGIN
        DELETE FROM community_search WHERE post_id = OLD.id;
        INSERT INTO community_search (post_id, topic_id, group_id, title, body)
        SELECT NEW.id, NEW.topic_id, t.group_id, t.title, NEW.body
        FROM community_topics t
        WHERE t.id = NEW.topic_id AND NEW.state = 'visible' AND NEW.body IS NOT NULL;
     END",
    "CREATE TRIGGER community_search_delete AFTER DELETE ON community_posts
     BEGIN
        DELETE FROM community_search WHERE post_id = OLD.id;
     END",
    // Posts written before this migration.
    "INSERT INTO community_search (post_id, topic_id, group_id, title, body)
     SELECT p.id, p.topic_id, t.group_id, t.title, p.body
     FROM community_posts p JOIN community_topics t ON t.id = p.topic_id
     WHERE p.state = 'visible' AND p.body IS NOT NULL",
];

const SQLITE_DOWN: [&str; 4] = [
    "DROP TRIGGER IF EXISTS community_search_delete",
    "DROP TRIGGER IF EXISTS community_search_update",
    "DROP TRIGGER IF EXISTS community_search_insert",
    "DROP TABLE IF EXISTS community_search",
];

const POSTGRES_UP: [&str; 3] = [
    "ALTER TABLE community_posts ADD COLUMN search tsvector
     GENERATED ALWAYS AS (to_tsvector('english', coalesce(body, ''))) STORED",
    "CREATE INDEX idx_community_posts_search ON community_posts USING GIN (search)",
    "CREATE INDEX idx_community_topics_search ON community_topics
     USING GIN (to_tsvector('english', title))",
];

const POSTGRES_DOWN: [&str; 3] = [
    "DROP INDEX IF EXISTS idx_community_topics_search",
    "DROP INDEX IF EXISTS idx_community_posts_search",
    "ALTER TABLE community_posts DROP COLUMN IF EXISTS search",
];

#[derive(DeriveIden)]
enum CommunityMembers {
    Table,
    MemberId,
}

#[derive(DeriveIden)]
enum CommunityNotices {
    Table,
    AppealText,
    AppealedAt,
    AppealDecidedAt,
    AppealDecidedBy,
    AppealOutcome,
    AppealReason,
}

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let backend = manager.get_database_backend();
    let db = manager.get_connection();
    for sql in statements {
        db.execute_raw(Statement::from_string(backend, (*sql).to_owned()))
            .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Sqlite => run(manager, &SQLITE_UP).await?,
            _ => run(manager, &POSTGRES_UP).await?,
        }
        manager
            .alter_table(
                Table::alter()
                    .table(CommunityMembers::Table)
                    .add_column(ColumnDef::new(CommunityMembers::MemberId).uuid().null())
                    .to_owned(),
            )
            .await?;
        let backfill = match manager.get_database_backend() {
            DbBackend::Sqlite => "UPDATE community_members SET member_id = randomblob(16)",
            _ => "UPDATE community_members SET member_id = gen_random_uuid()",
        };
        run(manager, &[backfill]).await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_community_members_member_id")
                    .table(CommunityMembers::Table)
                    .col(CommunityMembers::MemberId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // SQLite takes one change per ALTER TABLE.
        let columns = [
            ColumnDef::new(CommunityNotices::AppealText)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(CommunityNotices::AppealedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(CommunityNotices::AppealDecidedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(CommunityNotices::AppealDecidedBy)
                .uuid()
                .null()
                .to_owned(),
            ColumnDef::new(CommunityNotices::AppealOutcome)
                .string_len(12)
                .null()
                .to_owned(),
            ColumnDef::new(CommunityNotices::AppealReason)
                .text()
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(CommunityNotices::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            CommunityNotices::AppealReason,
            CommunityNotices::AppealOutcome,
            CommunityNotices::AppealDecidedBy,
            CommunityNotices::AppealDecidedAt,
            CommunityNotices::AppealedAt,
            CommunityNotices::AppealText,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(CommunityNotices::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_community_members_member_id")
                    .table(CommunityMembers::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CommunityMembers::Table)
                    .drop_column(CommunityMembers::MemberId)
                    .to_owned(),
            )
            .await?;
        match manager.get_database_backend() {
            DbBackend::Sqlite => run(manager, &SQLITE_DOWN).await,
            _ => run(manager, &POSTGRES_DOWN).await,
        }
    }
}
