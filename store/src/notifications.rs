//! Notifications and the daily digest.
//!
//! A notification goes out as an email at once, or waits for the user's
//! daily digest, as the user chose. A digest collects what arrived before
//! the user's digest hour, in their own time zone, into one email. The
//! digest row's unique key (user, digest time) is taken in the same
//! transaction that collects the notifications and queues the email, so
//! however many nodes run the digest job, and however often, each digest
//! goes out once.

use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::local_time::latest_daily;
use kinlink_core::notices::{Delivery, Preferences, Template};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
};

use crate::entity::{digest, email_outbox, notification, user};
use crate::error::is_unique_violation;
use crate::outbox::{NewEmail, outbox_row};
use crate::{Store, StoreError};

/// The way a notification was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notified {
    /// Queued as an email now.
    Emailed,
    /// Kept for the user's next digest.
    Kept,
}

fn stored_preferences(row: &user::Model) -> Result<Preferences, StoreError> {
    Preferences::parse(&row.notify_by, i64::from(row.digest_hour), &row.time_zone).map_err(
        |_invalid| StoreError::Corrupt {
            what: "notification preferences",
        },
    )
}

/// Does what [`Store::notify`] does, on `connection`: inside a caller's
/// transaction, the notification is stored with the caller's own rows or
/// not at all.
pub(crate) async fn notify_on<C: ConnectionTrait>(
    connection: &C,
    user_id: UserId,
    template: Template,
    link_path: &str,
    now: DateTime<Utc>,
) -> Result<Notified, StoreError> {
    let row = user::Entity::find_by_id(user_id.0)
        .one(connection)
        .await?
        .ok_or(StoreError::NotFound { what: "user" })?;
    let id = uuid::Uuid::now_v7();
    if template.is_urgent() || stored_preferences(&row)?.delivery == Delivery::Immediate {
        let email = NewEmail {
            id,
            user_id,
            template,
            link_path: link_path.to_owned(),
            send_after: now,
            created_at: now,
        };
        email_outbox::Entity::insert(outbox_row(email))
            .exec_without_returning(connection)
            .await?;
        return Ok(Notified::Emailed);
    }
    notification::Entity::insert(notification::ActiveModel {
        id: Set(id),
        user_id: Set(user_id.0),
        template: Set(template.code().to_owned()),
        link_path: Set(link_path.to_owned()),
        created_at: Set(now),
        digest_id: Set(None),
    })
    .exec_without_returning(connection)
    .await?;
    Ok(Notified::Kept)
}

impl Store {
    /// Returns a user's notification preferences.
    pub async fn preferences(&self, user_id: UserId) -> Result<Preferences, StoreError> {
        let row = user::Entity::find_by_id(user_id.0)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound { what: "user" })?;
        stored_preferences(&row)
    }

    /// Stores a user's notification preferences.
    pub async fn set_preferences(
        &self,
        user_id: UserId,
        preferences: Preferences,
    ) -> Result<(), StoreError> {
        let hour = i32::try_from(preferences.digest_hour).unwrap_or(0);
        user::Entity::update_many()
            .col_expr(
                user::Column::NotifyBy,
                Expr::value(preferences.delivery.as_str()),
            )
            .col_expr(user::Column::DigestHour, Expr::value(hour))
            .col_expr(
                user::Column::TimeZone,
                Expr::value(preferences.time_zone.name()),
            )
            .filter(user::Column::Id.eq(user_id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Tells a user that something is waiting at `link_path`: an email now,
    /// or an entry in their next digest.
    pub async fn notify(
        &self,
        user_id: UserId,
        template: Template,
        link_path: &str,
        now: DateTime<Utc>,
    ) -> Result<Notified, StoreError> {
        notify_on(&self.db, user_id, template, link_path, now).await
    }

    /// Collects waiting notifications into the digests whose time has come
    /// at `now`, for up to `limit` users, and queues one email for each.
    /// Returns the number of digests queued; a digest another node took
    /// first is skipped.
    pub async fn queue_due_digests(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> Result<usize, StoreError> {
        let waiting: Vec<uuid::Uuid> = notification::Entity::find()
            .select_only()
            .column(notification::Column::UserId)
            .distinct()
            .filter(notification::Column::DigestId.is_null())
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut queued = 0;
        for user_id in waiting {
            if self.queue_digest(UserId(user_id), now).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// Queues the digest of one user if one is due and no other node took
    /// it first.
    async fn queue_digest(&self, user_id: UserId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let preferences = self.preferences(user_id).await?;
        let slot = latest_daily(preferences.time_zone, preferences.digest_time(), now);
        let waiting = notification::Column::DigestId.is_null();
        let before_slot = notification::Column::CreatedAt.lt(slot);
        let due = notification::Entity::find()
            .filter(notification::Column::UserId.eq(user_id.0))
            .filter(waiting.clone())
            .filter(before_slot.clone())
            .one(&self.db)
            .await?;
        if due.is_none() {
            return Ok(false);
        }

        let transaction = self.begin_write().await?;
        let id = uuid::Uuid::now_v7();
        let inserted = digest::Entity::insert(digest::ActiveModel {
            id: Set(id),
            user_id: Set(user_id.0),
            slot: Set(slot),
            created_at: Set(now),
        })
        .exec_without_returning(&*transaction)
        .await;
        match inserted {
            Ok(_) => {}
            Err(error) if is_unique_violation(&error) => {
                transaction.rollback().await?;
                return Ok(false);
            }
            Err(error) => return Err(error.into()),
        }
        let collected = notification::Entity::update_many()
            .col_expr(notification::Column::DigestId, Expr::value(id))
            .filter(notification::Column::UserId.eq(user_id.0))
            .filter(waiting)
            .filter(before_slot)
            .exec(&*transaction)
            .await?;
        if collected.rows_affected == 0 {
            transaction.rollback().await?;
            return Ok(false);
        }
        let email = NewEmail {
            id,
            user_id,
            template: Template::Digest,
            link_path: String::new(),
            send_after: now,
            created_at: now,
        };
        email_outbox::Entity::insert(outbox_row(email))
            .exec_without_returning(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(true)
    }
}
