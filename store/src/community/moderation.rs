//! Reports of posts, moderators' decisions on posts and members, and the
//! notices that tell members of those decisions.

use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::community::{NoticeKind, PostState};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::entity::{community_image, community_notice, community_post, community_report};
use crate::{Store, StoreError};

/// The `what` of the `Conflict` [`Store::appeal_community_notice`] returns
/// when the appealed decision is no longer in force.
pub const DECISION_GONE: &str = "decision no longer in force";

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

pub(crate) fn notice_row(notice: NewNotice) -> community_notice::Model {
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
        appeal_text: None,
        appealed_at: None,
        appeal_decided_at: None,
        appeal_decided_by: None,
        appeal_outcome: None,
        appeal_reason: None,
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
    /// Applies the decision only while the post's last moderation is the
    /// one made at this time: an appeal overturns its own decision, never
    /// one made since.
    pub only_after: Option<DateTime<Utc>>,
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

    /// Returns when a person made each report since a time, oldest first.
    pub async fn community_report_times_since(
        &self,
        reporter: UserId,
        since: DateTime<Utc>,
    ) -> Result<Vec<DateTime<Utc>>, StoreError> {
        Ok(community_report::Entity::find()
            .select_only()
            .column(community_report::Column::CreatedAt)
            .filter(community_report::Column::ReporterId.eq(reporter.0))
            .filter(community_report::Column::CreatedAt.gt(since))
            .order_by_asc(community_report::Column::CreatedAt)
            .into_tuple()
            .all(&self.db)
            .await?)
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
    /// state and reason, its open reports closed, and the author's notice.
    /// A removed post loses its text and its images; returns the images'
    /// blobs with the post, to delete. A post shown again answers the
    /// appeals still waiting against hiding it, as overturned.
    pub async fn moderate_community_post(
        &self,
        decision: PostModeration,
    ) -> Result<(community_post::Model, Vec<uuid::Uuid>), StoreError> {
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
        }
        // A removed post's text is gone: it cannot come back, nor be
        // removed again.
        update = update.filter(community_post::Column::State.ne(PostState::Removed.as_str()));
        if let Some(last) = decision.only_after {
            update = update.filter(community_post::Column::ModeratedAt.eq(last));
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
        let mut blobs = Vec::new();
        if decision.state == PostState::Removed {
            let images: Vec<uuid::Uuid> = community_image::Entity::find()
                .filter(community_image::Column::PostId.eq(decision.post))
                .all(&*transaction)
                .await?
                .into_iter()
                .map(|image| image.id)
                .collect();
            blobs = super::images::delete_images(&*transaction, images).await?;
        }
        if decision.state == PostState::Visible {
            community_notice::Entity::update_many()
                .col_expr(
                    community_notice::Column::AppealDecidedAt,
                    Expr::value(Some(decision.at)),
                )
                .col_expr(
                    community_notice::Column::AppealDecidedBy,
                    Expr::value(Some(decision.moderator.0)),
                )
                .col_expr(
                    community_notice::Column::AppealOutcome,
                    Expr::value(Some("overturned")),
                )
                .col_expr(
                    community_notice::Column::AppealReason,
                    Expr::value(Some(decision.reason.clone())),
                )
                .filter(community_notice::Column::PostId.eq(decision.post))
                .filter(community_notice::Column::Kind.eq(NoticeKind::PostHidden.as_str()))
                .filter(community_notice::Column::AppealedAt.is_not_null())
                .filter(community_notice::Column::AppealDecidedAt.is_null())
                .exec(&*transaction)
                .await?;
        }
        let row = community_post::Entity::find_by_id(decision.post)
            .one(&*transaction)
            .await?
            .ok_or(StoreError::NotFound { what: "post" })?;
        transaction.commit().await?;
        Ok((row, blobs))
    }

    /// Stores a notice to a member.
    pub async fn add_community_notice(
        &self,
        notice: NewNotice,
    ) -> Result<community_notice::Model, StoreError> {
        let row = notice_row(notice);
        community_notice::Entity::insert(community_notice::ActiveModel::from(row.clone()))
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

    /// Loads a notice.
    pub async fn community_notice(
        &self,
        id: uuid::Uuid,
    ) -> Result<community_notice::Model, StoreError> {
        community_notice::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound { what: "notice" })
    }

    /// Records a member's appeal of a notice. `Conflict` when they have
    /// appealed it already: a notice is appealed once.
    pub async fn appeal_community_notice(
        &self,
        id: uuid::Uuid,
        user: UserId,
        text: String,
        at: DateTime<Utc>,
    ) -> Result<community_notice::Model, StoreError> {
        let transaction = self.begin_write().await?;
        let notice = community_notice::Entity::find_by_id(id)
            .one(&*transaction)
            .await?
            .ok_or(StoreError::NotFound { what: "notice" })?;
        // A decision about a post is in force only while the post is as it
        // left it. The post's row is read under lock, so a restore running
        // at the same time either commits first and is seen, or waits.
        let expected = match NoticeKind::parse(&notice.kind) {
            Some(NoticeKind::PostHidden) => Some(PostState::Hidden),
            Some(NoticeKind::PostRemoved) => Some(PostState::Removed),
            _ => None,
        };
        if let (Some(expected), Some(post)) = (expected, notice.post_id) {
            let mut find = community_post::Entity::find_by_id(post);
            if transaction.get_database_backend() == sea_orm::DbBackend::Postgres {
                find = find.lock_exclusive();
            }
            let in_force = find.one(&*transaction).await?.is_some_and(|post| {
                post.state == expected.as_str() && post.moderated_at == Some(notice.created_at)
            });
            if !in_force {
                transaction.rollback().await?;
                return Err(StoreError::Conflict {
                    what: DECISION_GONE,
                });
            }
        }
        let changed = community_notice::Entity::update_many()
            .col_expr(
                community_notice::Column::AppealText,
                Expr::value(Some(text)),
            )
            .col_expr(community_notice::Column::AppealedAt, Expr::value(Some(at)))
            .filter(community_notice::Column::Id.eq(id))
            .filter(community_notice::Column::UserId.eq(user.0))
            .filter(community_notice::Column::AppealedAt.is_null())
            .exec(&*transaction)
            .await?;
        if changed.rows_affected != 1 {
            transaction.rollback().await?;
            return Err(StoreError::Conflict {
                what: "appeal of this notice",
            });
        }
        transaction.commit().await?;
        self.community_notice(id).await
    }

    /// Lists the appeals no moderator has decided, oldest first.
    pub async fn open_community_appeals(&self) -> Result<Vec<community_notice::Model>, StoreError> {
        Ok(community_notice::Entity::find()
            .filter(community_notice::Column::AppealedAt.is_not_null())
            .filter(community_notice::Column::AppealDecidedAt.is_null())
            .order_by_asc(community_notice::Column::AppealedAt)
            .limit(REPORTS_LISTED)
            .all(&self.db)
            .await?)
    }

    /// Records a moderator's answer to an appeal. `Conflict` when it was
    /// answered already.
    pub async fn decide_community_appeal(
        &self,
        id: uuid::Uuid,
        moderator: UserId,
        outcome: &str,
        reason: String,
        at: DateTime<Utc>,
    ) -> Result<community_notice::Model, StoreError> {
        let changed = community_notice::Entity::update_many()
            .col_expr(
                community_notice::Column::AppealDecidedAt,
                Expr::value(Some(at)),
            )
            .col_expr(
                community_notice::Column::AppealDecidedBy,
                Expr::value(Some(moderator.0)),
            )
            .col_expr(
                community_notice::Column::AppealOutcome,
                Expr::value(Some(outcome)),
            )
            .col_expr(
                community_notice::Column::AppealReason,
                Expr::value(Some(reason)),
            )
            .filter(community_notice::Column::Id.eq(id))
            .filter(community_notice::Column::AppealedAt.is_not_null())
            .filter(community_notice::Column::AppealDecidedAt.is_null())
            .exec(&self.db)
            .await?;
        if changed.rows_affected != 1 {
            return Err(StoreError::Conflict {
                what: "answer to this appeal",
            });
        }
        self.community_notice(id).await
    }
}
