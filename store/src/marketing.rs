//! Marketing email: who opted in, queueing news for them, and the
//! one-time unsubscribe links the emails carry.

use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::notices::Template;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::{email_outbox, unsubscribe_link, user};
use crate::outbox::{NewEmail, outbox_row};
use crate::users::AccountStatus;
use crate::{Store, StoreError};

/// The outcome of using an unsubscribe link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsubscribed {
    /// The user no longer receives marketing email.
    Now,
    /// The link was used before; nothing changed.
    Already,
    /// The link is too old to use.
    Expired,
    /// No link has this token.
    Unknown,
}

impl Store {
    /// Returns whether a user chose marketing email.
    pub async fn marketing_opt_in(&self, user_id: UserId) -> Result<bool, StoreError> {
        Ok(self.user(user_id).await?.marketing_opt_in)
    }

    /// Records a user's choice of marketing email.
    pub async fn set_marketing_opt_in(
        &self,
        user_id: UserId,
        opt_in: bool,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        user::Entity::update_many()
            .col_expr(user::Column::MarketingOptIn, Expr::value(opt_in))
            .col_expr(user::Column::MarketingChangedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user_id.0))
            .filter(user::Column::MarketingOptIn.ne(opt_in))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Queues the news email for every active user who opted in; returns
    /// how many were queued.
    pub async fn queue_news(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let recipients = user::Entity::find()
            .filter(user::Column::MarketingOptIn.eq(true))
            .filter(user::Column::Status.eq(AccountStatus::Active.as_str()))
            .all(&self.db)
            .await?;
        let count = recipients.len();
        for recipient in recipients {
            email_outbox::Entity::insert(outbox_row(NewEmail {
                id: uuid::Uuid::now_v7(),
                user_id: UserId(recipient.id),
                template: Template::News,
                link_path: String::new(),
                send_after: now,
                created_at: now,
            }))
            .exec_without_returning(&self.db)
            .await?;
        }
        Ok(count)
    }

    /// Stores the hash of an unsubscribe token made for one email.
    pub async fn add_unsubscribe_link(
        &self,
        row: unsubscribe_link::Model,
    ) -> Result<(), StoreError> {
        unsubscribe_link::Entity::insert(unsubscribe_link::ActiveModel {
            token_hash: Set(row.token_hash),
            user_id: Set(row.user_id),
            email_id: Set(row.email_id),
            created_at: Set(row.created_at),
            expires_at: Set(row.expires_at),
            used_at: Set(None),
        })
        .exec_without_returning(&self.db)
        .await?;
        Ok(())
    }

    /// Uses an unsubscribe link: turns marketing email off for its user,
    /// once.
    pub async fn unsubscribe(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Unsubscribed, StoreError> {
        let Some(link) = unsubscribe_link::Entity::find_by_id(hash.to_vec())
            .one(&self.db)
            .await?
        else {
            return Ok(Unsubscribed::Unknown);
        };
        if link.used_at.is_some() {
            return Ok(Unsubscribed::Already);
        }
        if link.expires_at <= now {
            return Ok(Unsubscribed::Expired);
        }
        let transaction = self.begin_write().await?;
        let taken = unsubscribe_link::Entity::update_many()
            .col_expr(unsubscribe_link::Column::UsedAt, Expr::value(now))
            .filter(unsubscribe_link::Column::TokenHash.eq(hash.to_vec()))
            .filter(unsubscribe_link::Column::UsedAt.is_null())
            .exec(&*transaction)
            .await?;
        if taken.rows_affected != 1 {
            transaction.rollback().await?;
            return Ok(Unsubscribed::Already);
        }
        user::Entity::update_many()
            .col_expr(user::Column::MarketingOptIn, Expr::value(false))
            .col_expr(user::Column::MarketingChangedAt, Expr::value(now))
            .filter(user::Column::Id.eq(link.user_id))
            .exec(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(Unsubscribed::Now)
    }
}
