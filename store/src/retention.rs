//! The retention sweep's ledger, and the marks and deletions of the
//! retention rules.
//!
//! Each deletion works in batches of a bounded size, and each batch is one
//! statement, so a sweep stopped half way leaves whole rows behind, never
//! part of one, and the next sweep goes on from there.

use chrono::{DateTime, NaiveDate, Utc};
use kinlink_core::UserId;
use sea_orm::sea_query::{Expr, Query, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

use crate::entity::{
    community_member, community_profile, email_outbox, key_recovery, retention_sweep,
    revoked_session, sign_in_failure, unsubscribe_link,
};
use crate::{Store, StoreError};

/// The rows of technical data one batch deleted, per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TechnicalDeleted {
    /// Counts of failed sign-ins per account or address.
    pub sign_in_failures: u64,
    /// Hashes of tokens of sessions ended by disabling an account.
    pub revoked_sessions: u64,
    /// Sent or abandoned notification emails, with their unsubscribe links.
    pub emails: u64,
    /// Ended key recoveries.
    pub key_recoveries: u64,
}

impl TechnicalDeleted {
    /// Returns the rows deleted in all.
    pub fn total(&self) -> u64 {
        self.sign_in_failures + self.revoked_sessions + self.emails + self.key_recoveries
    }

    /// Adds another batch's counts.
    pub fn add(&mut self, other: TechnicalDeleted) {
        self.sign_in_failures += other.sign_in_failures;
        self.revoked_sessions += other.revoked_sessions;
        self.emails += other.emails;
        self.key_recoveries += other.key_recoveries;
    }
}

/// Limits a selection to `limit` rows when there is a limit.
fn limited<E: EntityTrait>(select: Select<E>, limit: Option<u64>) -> Select<E> {
    match limit {
        Some(limit) => select.limit(limit),
        None => select,
    }
}

impl Store {
    /// Counts the rows of each kind of technical data collected before
    /// `cutoff`, without deleting anything.
    pub async fn count_technical(
        &self,
        cutoff: DateTime<Utc>,
    ) -> Result<TechnicalDeleted, StoreError> {
        Ok(TechnicalDeleted {
            sign_in_failures: sign_in_failure::Entity::find()
                .filter(sign_in_failure::Column::WindowStartedAt.lt(cutoff))
                .count(&self.db)
                .await?,
            revoked_sessions: revoked_session::Entity::find()
                .filter(revoked_session::Column::RevokedAt.lt(cutoff))
                .count(&self.db)
                .await?,
            emails: email_outbox::Entity::find()
                .filter(email_outbox::Column::FinishedAt.lt(cutoff))
                .count(&self.db)
                .await?,
            key_recoveries: key_recovery::Entity::find()
                .filter(key_recovery::Column::EndedAt.lt(cutoff))
                .count(&self.db)
                .await?,
        })
    }

    /// Lists up to `limit` members with a profile not marked yet whose
    /// last interaction was at or before `cutoff`, in id order.
    pub async fn idle_profiles(
        &self,
        cutoff: DateTime<Utc>,
        limit: Option<u64>,
    ) -> Result<Vec<UserId>, StoreError> {
        self.profiles_against_cutoff(false, cutoff, limit).await
    }

    /// Lists up to `limit` members with a marked profile who interacted
    /// after `cutoff`, in id order.
    pub async fn active_marked_profiles(
        &self,
        cutoff: DateTime<Utc>,
        limit: Option<u64>,
    ) -> Result<Vec<UserId>, StoreError> {
        self.profiles_against_cutoff(true, cutoff, limit).await
    }

    /// Lists up to `limit` members, in id order, whose profile is marked
    /// and who interacted after `cutoff` (`marked` true), or whose profile
    /// is not marked and who last interacted at or before it (`marked`
    /// false). These are the profiles whose mark the rule changes.
    async fn profiles_against_cutoff(
        &self,
        marked: bool,
        cutoff: DateTime<Utc>,
        limit: Option<u64>,
    ) -> Result<Vec<UserId>, StoreError> {
        let mark = if marked {
            community_profile::Column::MarkedAt.is_not_null()
        } else {
            community_profile::Column::MarkedAt.is_null()
        };
        let select = community_profile::Entity::find()
            .select_only()
            .column(community_profile::Column::UserId)
            .filter(mark)
            .filter(
                community_profile::Column::UserId.in_subquery(members_interacting(cutoff, marked)),
            )
            .order_by_asc(community_profile::Column::UserId);
        let ids: Vec<uuid::Uuid> = limited(select, limit).into_tuple().all(&self.db).await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// Claims the sweep of the local date `day` for `node_id`. Returns false
    /// when a node claimed it before, so each day is swept once.
    pub async fn claim_sweep(
        &self,
        day: NaiveDate,
        due_at: DateTime<Utc>,
        node_id: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let inserted = retention_sweep::Entity::insert(retention_sweep::ActiveModel {
            sweep_day: Set(day.to_string()),
            due_at: Set(due_at),
            node_id: Set(node_id.to_owned()),
            started_at: Set(now),
            finished_at: Set(None),
            report: Set(None),
        })
        .exec_without_returning(&self.db)
        .await;
        match inserted {
            Ok(_) => Ok(true),
            Err(error) if crate::error::is_unique_violation(&error) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Returns the ledger row of the sweep of `day`, if a node claimed it.
    pub async fn sweep_of(
        &self,
        day: NaiveDate,
    ) -> Result<Option<retention_sweep::Model>, StoreError> {
        Ok(retention_sweep::Entity::find_by_id(day.to_string())
            .one(&self.db)
            .await?)
    }

    /// Records that the sweep of `day` finished, with its report.
    pub async fn finish_sweep(
        &self,
        day: NaiveDate,
        report: String,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        retention_sweep::Entity::update_many()
            .col_expr(retention_sweep::Column::FinishedAt, Expr::value(now))
            .col_expr(retention_sweep::Column::Report, Expr::value(report))
            .filter(retention_sweep::Column::SweepDay.eq(day.to_string()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Deletes up to `batch` rows of each kind of technical data collected
    /// before `cutoff`.
    pub async fn delete_technical_batch(
        &self,
        cutoff: DateTime<Utc>,
        batch: u64,
    ) -> Result<TechnicalDeleted, StoreError> {
        let subjects: Vec<String> = sign_in_failure::Entity::find()
            .select_only()
            .column(sign_in_failure::Column::Subject)
            .filter(sign_in_failure::Column::WindowStartedAt.lt(cutoff))
            .limit(batch)
            .into_tuple()
            .all(&self.db)
            .await?;
        let sign_in_failures = sign_in_failure::Entity::delete_many()
            .filter(sign_in_failure::Column::Subject.is_in(subjects))
            .filter(sign_in_failure::Column::WindowStartedAt.lt(cutoff))
            .exec(&self.db)
            .await?
            .rows_affected;

        let hashes: Vec<Vec<u8>> = revoked_session::Entity::find()
            .select_only()
            .column(revoked_session::Column::TokenHash)
            .filter(revoked_session::Column::RevokedAt.lt(cutoff))
            .limit(batch)
            .into_tuple()
            .all(&self.db)
            .await?;
        let revoked_sessions = revoked_session::Entity::delete_many()
            .filter(revoked_session::Column::TokenHash.is_in(hashes))
            .exec(&self.db)
            .await?
            .rows_affected;

        let emails: Vec<uuid::Uuid> = email_outbox::Entity::find()
            .select_only()
            .column(email_outbox::Column::Id)
            .filter(email_outbox::Column::FinishedAt.lt(cutoff))
            .limit(batch)
            .into_tuple()
            .all(&self.db)
            .await?;
        let emails = if emails.is_empty() {
            0
        } else {
            let transaction = self.begin_write().await?;
            unsubscribe_link::Entity::delete_many()
                .filter(unsubscribe_link::Column::EmailId.is_in(emails.clone()))
                .exec(&*transaction)
                .await?;
            let deleted = email_outbox::Entity::delete_many()
                .filter(email_outbox::Column::Id.is_in(emails))
                .exec(&*transaction)
                .await?
                .rows_affected;
            transaction.commit().await?;
            deleted
        };

        let recoveries: Vec<uuid::Uuid> = key_recovery::Entity::find()
            .select_only()
            .column(key_recovery::Column::Id)
            .filter(key_recovery::Column::EndedAt.lt(cutoff))
            .limit(batch)
            .into_tuple()
            .all(&self.db)
            .await?;
        let key_recoveries = key_recovery::Entity::delete_many()
            .filter(key_recovery::Column::Id.is_in(recoveries))
            .exec(&self.db)
            .await?
            .rows_affected;

        Ok(TechnicalDeleted {
            sign_in_failures,
            revoked_sessions,
            emails,
            key_recoveries,
        })
    }

    /// Marks up to `batch` profiles of members whose last interaction was
    /// at or before `cutoff`, hiding them from other members. Returns the
    /// members whose profile it marked.
    pub async fn mark_idle_profiles(
        &self,
        cutoff: DateTime<Utc>,
        now: DateTime<Utc>,
        batch: u64,
    ) -> Result<Vec<UserId>, StoreError> {
        let members = self.idle_profiles(cutoff, Some(batch)).await?;
        community_profile::Entity::update_many()
            .col_expr(community_profile::Column::MarkedAt, Expr::value(now))
            .filter(community_profile::Column::UserId.is_in(members.iter().map(|m| m.0)))
            .filter(community_profile::Column::MarkedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(members)
    }

    /// Lifts the mark of up to `batch` profiles whose member interacted
    /// after `cutoff`. Returns the members whose profile it unmarked.
    pub async fn unmark_active_profiles(
        &self,
        cutoff: DateTime<Utc>,
        batch: u64,
    ) -> Result<Vec<UserId>, StoreError> {
        let members = self.active_marked_profiles(cutoff, Some(batch)).await?;
        community_profile::Entity::update_many()
            .col_expr(
                community_profile::Column::MarkedAt,
                Expr::value(None::<DateTime<Utc>>),
            )
            .filter(community_profile::Column::UserId.is_in(members.iter().map(|m| m.0)))
            .exec(&self.db)
            .await?;
        Ok(members)
    }

    /// Lists up to `limit` members whose profile was marked at or before
    /// `marked_before`, in id order.
    pub async fn profiles_marked_before(
        &self,
        marked_before: DateTime<Utc>,
        limit: Option<u64>,
    ) -> Result<Vec<UserId>, StoreError> {
        let select = community_profile::Entity::find()
            .select_only()
            .column(community_profile::Column::UserId)
            .filter(community_profile::Column::MarkedAt.lte(marked_before))
            .order_by_asc(community_profile::Column::UserId);
        let ids: Vec<uuid::Uuid> = limited(select, limit).into_tuple().all(&self.db).await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// Deletes a member's profile with its picture if it is still marked
    /// at or before `marked_before`. Returns the picture's blobs to delete,
    /// or none when the profile was kept after all. The condition is part
    /// of the deletion itself, so a profile saved (and so unmarked) at the
    /// same moment is never deleted.
    pub async fn delete_marked_profile(
        &self,
        user: UserId,
        marked_before: DateTime<Utc>,
    ) -> Result<Option<Vec<uuid::Uuid>>, StoreError> {
        let transaction = self.begin_write().await?;
        let picture = community_profile::Entity::find_by_id(user.0)
            .one(&*transaction)
            .await?
            .and_then(|profile| profile.picture_id);
        let deleted = community_profile::Entity::delete_many()
            .filter(community_profile::Column::UserId.eq(user.0))
            .filter(community_profile::Column::MarkedAt.lte(marked_before))
            .filter(match picture {
                Some(picture) => community_profile::Column::PictureId.eq(picture),
                None => community_profile::Column::PictureId.is_null(),
            })
            .exec(&*transaction)
            .await?;
        if deleted.rows_affected == 0 {
            transaction.rollback().await?;
            return Ok(None);
        }
        let blobs =
            crate::community::images::delete_images(&*transaction, picture.into_iter().collect())
                .await?;
        transaction.commit().await?;
        Ok(Some(blobs))
    }
}

/// Selects the members whose last interaction was after `cutoff`, or at
/// or before it when `after` is false.
fn members_interacting(cutoff: DateTime<Utc>, after: bool) -> SelectStatement {
    let column = community_member::Column::LastInteractionAt;
    Query::select()
        .column(community_member::Column::UserId)
        .from(community_member::Entity)
        .and_where(if after {
            column.gt(cutoff)
        } else {
            column.lte(cutoff)
        })
        .to_owned()
}
