//! Reports of posts, moderators' decisions on posts and members, and the
//! notices that tell members of those decisions.

use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::community::{NoticeKind, PostState};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::{community_notice, community_post, community_report};
use crate::{Store, StoreError};

/// Most notices one listing returns.
const NOTICES_LISTED: u64 = 200;
/// Most open reports one listing returns.
const REPORTS_LISTED: u64 = 500;

/// A notice to a member of a moderator's decision.
pub struct NewNotice {
    pub user: UserId,
    pub kind: NoticeKind,
    pub reason: String,
    pub post_id: Option<uuid::Uuid>,
    pub topic_id: Option<uuid::Uuid>,
    pub until: Option<DateTime<Utc>>,
    pub moderator: UserId,
    pub at: DateTime<Utc>,
}

fn notice_row(notice: NewNotice) -> community_notice::Model {
    community_notice::Model {
        id: uuid::Uuid::now_v7(),
        user_id: notice.user.0,
        kind: notice.kind.as_str().to_owned(),
        reason: notice.reason,
        post_id: notice.post_id,
        topic_id: notice.topic_id,
        until: notice.until,
        moderator_id: Some(notice.moderator.0),
        created_at: notice.at,
    }
}

/// A moderator's decision on a post.
pub struct PostModeration {
    pub post: uuid::Uuid,
    pub state: PostState,
    pub reason: String,
    pub moderator: UserId,
    pub at: DateTime<Utc>,
    /// The notice to its author, when it has one.
    pub notice: Option<NewNotice>,
}

impl Store {
    /// Stores a report. `Conflict` when the reporter's earlier report of
    /// the post is still open.
    pub async fn report_community_post(
        &self,
        post: uuid::Uuid,
        reporter: UserId,
        reason: String,
        at: DateTime<Utc>,
    ) -> Result<community_report::Model, StoreError> {
        let transaction = self.begin_write().await?;
        let open = community_report::Entity::find()
            .filter(community_report::Column::PostId.eq(post))
            .filter(community_report::Column::ReporterId.eq(reporter.0))
            .filter(community_report::Column::ResolvedAt.is_null())
            .one(&*transaction)
            .await?;
        if open.is_some() {
            transaction.rollback().await?;
            return Err(StoreError::Conflict {
                what: "open report of this post",
            });
        }
        let row = community_report::Model {
            id: uuid::Uuid::now_v7(),
            post_id: post,
            reporter_id: reporter.0,
            reason,
            created_at: at,
            resolved_at: None,
            resolved_by: None,
        };
        community_report::Entity::insert(community_report::ActiveModel::from(row.clone()))
            .exec_without_returning(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(row)
    }

    /// Lists the open reports, oldest first.
    pub async fn open_community_reports(&self) -> Result<Vec<community_report::Model>, StoreError> {
        Ok(community_report::Entity::find()
            .filter(community_report::Column::ResolvedAt.is_null())
            .order_by_asc(community_report::Column::CreatedAt)
            .limit(REPORTS_LISTED)
            .all(&self.db)
            .await?)
    }

    /// Applies a moderator's decision to a post in one transaction: its
    /// state and reason (a removed post loses its text), its open reports
    /// closed, and the author's notice.
    pub async fn moderate_community_post(
        &self,
        decision: PostModeration,
    ) -> Result<community_post::Model, StoreError> {
        let transaction = self.begin_write().await?;
        let mut update = community_post::Entity::update_many()
            .col_expr(
                community_post::Column::State,
                Expr::value(decision.state.as_str()),
            )
            .col_expr(
                community_post::Column::Reason,
                Expr::value(Some(decision.reason.clone())),
            )
            .col_expr(
                community_post::Column::ModeratedBy,
                Expr::value(Some(decision.moderator.0)),
            )
            .col_expr(
                community_post::Column::ModeratedAt,
                Expr::value(Some(decision.at)),
            )
            .filter(community_post::Column::Id.eq(decision.post));
        if decision.state == PostState::Removed {
            update = update.col_expr(community_post::Column::Body, Expr::value(None::<String>));
        } else {
            // A removed post's text is gone: it cannot come back.
            update = update.filter(community_post::Column::State.ne(PostState::Removed.as_str()));
        }
        let changed = update.exec(&*transaction).await?;
        if changed.rows_affected != 1 {
            transaction.rollback().await?;
            return Err(StoreError::Conflict {
                what: "decision on a removed post",
            });
        }
        community_report::Entity::update_many()
            .col_expr(
                community_report::Column::ResolvedAt,
                Expr::value(Some(decision.at)),
            )
            .col_expr(
                community_report::Column::ResolvedBy,
                Expr::value(Some(decision.moderator.0)),
            )
            .filter(community_report::Column::PostId.eq(decision.post))
            .filter(community_report::Column::ResolvedAt.is_null())
            .exec(&*transaction)
            .await?;
        if let Some(notice) = decision.notice {
            community_notice::Entity::insert(community_notice::ActiveModel::from(notice_row(
                notice,
            )))
            .exec_without_returning(&*transaction)
            .await?;
        }
        let row = community_post::Entity::find_by_id(decision.post)
            .one(&*transaction)
            .await?
            .ok_or(StoreError::NotFound { what: "post" })?;
        transaction.commit().await?;
        Ok(row)
    }

    /// Stores a notice to a member.
    pub async fn add_community_notice(
        &self,
        notice: NewNotice,
    ) -> Result<community_notice::Model, StoreError> {
        let row = notice_row(notice);
        community_notice::Entity::insert(community_notice::ActiveModel {
            id: Set(row.id),
            user_id: Set(row.user_id),
            kind: Set(row.kind.clone()),
            reason: Set(row.reason.clone()),
            post_id: Set(row.post_id),
            topic_id: Set(row.topic_id),
            until: Set(row.until),
            moderator_id: Set(row.moderator_id),
            created_at: Set(row.created_at),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(row)
    }

    /// Lists a member's notices, newest first.
    pub async fn community_notices(
        &self,
        user: UserId,
    ) -> Result<Vec<community_notice::Model>, StoreError> {
        Ok(community_notice::Entity::find()
            .filter(community_notice::Column::UserId.eq(user.0))
            .order_by_desc(community_notice::Column::CreatedAt)
            .limit(NOTICES_LISTED)
            .all(&self.db)
            .await?)
    }
}
