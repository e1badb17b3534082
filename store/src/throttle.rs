//! Counting failed sign-ins per account and per address, in the store so
//! that every node sees the same counts.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use crate::entity::sign_in_failure;
use crate::{Store, StoreError};

impl Store {
    /// Returns the failures for `subject` within the window that ends now.
    pub async fn sign_in_failures(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<u32, StoreError> {
        Ok(self
            .sign_in_failure_window(subject, now, window)
            .await?
            .map_or(0, |(failures, _ends_at)| failures))
    }

    /// Returns the failures for `subject` in its current window and when
    /// that window ends, or `None` when no window is open.
    pub async fn sign_in_failure_window(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<Option<(u32, DateTime<Utc>)>, StoreError> {
        let row = sign_in_failure::Entity::find_by_id(subject.to_owned())
            .one(&self.db)
            .await?;
        Ok(match row {
            Some(row) if row.window_started_at > now - window => Some((
                u32::try_from(row.failures).unwrap_or(0),
                row.window_started_at + window,
            )),
            _ => None,
        })
    }

    /// Adds one failure for `subject`, starting a new window when the last
    /// one has passed.
    pub async fn record_sign_in_failure(
        &self,
        subject: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<(), StoreError> {
        let expired = sign_in_failure::Entity::delete_many()
            .filter(sign_in_failure::Column::Subject.eq(subject))
            .filter(sign_in_failure::Column::WindowStartedAt.lte(now - window));
        expired.exec(&self.db).await?;

        let row = sign_in_failure::ActiveModel {
            subject: Set(subject.to_owned()),
            window_started_at: Set(now),
            failures: Set(1),
        };
        let on_conflict = OnConflict::column(sign_in_failure::Column::Subject)
            .value(
                sign_in_failure::Column::Failures,
                Expr::col((sign_in_failure::Entity, sign_in_failure::Column::Failures)).add(1),
            )
            .to_owned();
        sign_in_failure::Entity::insert(row)
            .on_conflict(on_conflict)
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Takes back one counted attempt, for an attempt that turned out not
    /// to be a failure.
    pub async fn forgive_sign_in_failure(&self, subject: &str) -> Result<(), StoreError> {
        sign_in_failure::Entity::update_many()
            .col_expr(
                sign_in_failure::Column::Failures,
                Expr::col(sign_in_failure::Column::Failures).sub(1),
            )
            .filter(sign_in_failure::Column::Subject.eq(subject))
            .filter(sign_in_failure::Column::Failures.gt(0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Forgets the failures for `subject` after a successful sign-in.
    pub async fn clear_sign_in_failures(&self, subject: &str) -> Result<(), StoreError> {
        sign_in_failure::Entity::delete_by_id(subject.to_owned())
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
