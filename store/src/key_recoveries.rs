//! Key recoveries: requested by one platform admin, approved by another,
//! sealed for a one-time link by the operator's command, and completed by
//! the user choosing a new password. Every step is one conditional update,
//! so two admins or two browsers acting at once cannot both succeed.

use chrono::{DateTime, Utc};
use kinlink_core::recovery::{LINK_LIFE, Outcome, REQUEST_LIFE};
use kinlink_core::{SessionId, UserId};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, UpdateMany,
};

use crate::entity::{key_recovery, recovery_code, session, user};
use crate::{Store, StoreError};

/// The maximum number of recoveries the admins' list shows.
const LIST_LIMIT: u64 = 200;

/// A new recovery request.
pub struct NewKeyRecovery {
    pub id: uuid::Uuid,
    pub user_id: UserId,
    pub reason: String,
    pub requested_by: UserId,
    pub requested_at: DateTime<Utc>,
}

/// The account values that completing a recovery writes.
pub struct RecoveredAccount {
    pub password_salt: Vec<u8>,
    pub auth_hash: Vec<u8>,
    pub sealed_private_key: Vec<u8>,
    pub recovery_sealed_private_key: Vec<u8>,
    pub totp_sealed_secret: Option<Vec<u8>>,
    /// The time step of the second-factor code given with the new
    /// password, so that code cannot also sign in.
    pub totp_last_step: Option<i64>,
    pub recovery_code_hashes: Vec<[u8; 32]>,
}

/// Condition of a recovery still open at `now`: not ended, and neither
/// its week nor its link has run out.
fn open_at(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(key_recovery::Column::EndedAt.is_null())
        .add(
            Condition::any()
                .add(key_recovery::Column::LinkExpiresAt.gt(now))
                .add(
                    Condition::all()
                        .add(key_recovery::Column::LinkExpiresAt.is_null())
                        .add(key_recovery::Column::RequestedAt.gt(now - REQUEST_LIFE)),
                ),
        )
}

/// Condition of a recovery that lapsed by `now` without anyone ending
/// it: its link ran out, or no link was sent within its week. Written out
/// rather than as the negation of [`open_at`], because a missing link
/// expiry makes that negation unknown in SQL, which matches no row.
fn lapsed_at(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(key_recovery::Column::EndedAt.is_null())
        .add(
            Condition::any()
                .add(key_recovery::Column::LinkExpiresAt.lte(now))
                .add(
                    Condition::all()
                        .add(key_recovery::Column::LinkExpiresAt.is_null())
                        .add(key_recovery::Column::RequestedAt.lte(now - REQUEST_LIFE)),
                ),
        )
}

/// Returns the update that ends recoveries with `outcome` at `now`, by
/// `by` when someone ended them. It frees the account for a new recovery
/// and drops any key sealed for the link. The token's hash stays, so a
/// late use of the link gets the reason it no longer works.
fn ending(
    outcome: Outcome,
    by: Option<UserId>,
    now: DateTime<Utc>,
) -> UpdateMany<key_recovery::Entity> {
    key_recovery::Entity::update_many()
        .col_expr(
            key_recovery::Column::OpenUserId,
            Expr::value(None::<uuid::Uuid>),
        )
        .col_expr(key_recovery::Column::EndedAt, Expr::value(now))
        .col_expr(key_recovery::Column::Outcome, Expr::value(outcome.as_str()))
        .col_expr(key_recovery::Column::EndedBy, Expr::value(by.map(|u| u.0)))
        .col_expr(
            key_recovery::Column::SealedPrivateKey,
            Expr::value(None::<Vec<u8>>),
        )
        .col_expr(
            key_recovery::Column::EnrolmentSealedSecret,
            Expr::value(None::<Vec<u8>>),
        )
}

/// Ends the recoveries that match `condition` as expired at `now`.
/// Returns how many it ended.
async fn expire_where<C: sea_orm::ConnectionTrait>(
    connection: &C,
    condition: Condition,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    Ok(ending(Outcome::Expired, None, now)
        .filter(condition)
        .exec(connection)
        .await?
        .rows_affected)
}

impl Store {
    /// Ends every recovery that lapsed by `now`, so no key sealed for an
    /// expired link stays stored. Returns how many it ended.
    pub async fn expire_lapsed_recoveries(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        expire_where(&self.db, lapsed_at(now), now).await
    }

    /// Ends every open recovery of `user` as cancelled, as when the account
    /// is disabled. Returns how many it ended.
    pub async fn cancel_recoveries_of(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(ending(Outcome::Cancelled, None, now)
            .filter(key_recovery::Column::UserId.eq(user.0))
            .filter(key_recovery::Column::EndedAt.is_null())
            .exec(&self.db)
            .await?
            .rows_affected)
    }

    /// Stores a recovery request. A request of the same account that
    /// lapsed is closed as expired first; one still open makes this fail
    /// with a unique violation.
    pub async fn open_key_recovery(&self, new: NewKeyRecovery) -> Result<(), StoreError> {
        let now = new.requested_at;
        let transaction = self.begin_write().await?;
        let lapsed = lapsed_at(now).add(key_recovery::Column::OpenUserId.eq(new.user_id.0));
        expire_where(&*transaction, lapsed, now).await?;
        key_recovery::Entity::insert(key_recovery::ActiveModel {
            id: Set(new.id),
            user_id: Set(new.user_id.0),
            open_user_id: Set(Some(new.user_id.0)),
            reason: Set(new.reason),
            requested_by: Set(new.requested_by.0),
            requested_at: Set(now),
            approved_by: Set(None),
            approved_at: Set(None),
            resealed_at: Set(None),
            token_hash: Set(None),
            sealed_private_key: Set(None),
            enrolment_sealed_secret: Set(None),
            link_expires_at: Set(None),
            ended_at: Set(None),
            outcome: Set(None),
            ended_by: Set(None),
        })
        .exec_without_returning(&*transaction)
        .await?;
        Ok(transaction.commit().await?)
    }

    /// Returns a recovery.
    pub async fn key_recovery(&self, id: uuid::Uuid) -> Result<key_recovery::Model, StoreError> {
        key_recovery::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound {
                what: "key recovery",
            })
    }

    /// Lists recoveries, newest first.
    pub async fn key_recoveries(&self) -> Result<Vec<key_recovery::Model>, StoreError> {
        Ok(key_recovery::Entity::find()
            .order_by_desc(key_recovery::Column::RequestedAt)
            .limit(LIST_LIMIT)
            .all(&self.db)
            .await?)
    }

    /// Records the second admin's approval of a request still waiting for
    /// one; returns false when it was not waiting.
    pub async fn approve_key_recovery(
        &self,
        id: uuid::Uuid,
        approver: UserId,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = key_recovery::Entity::update_many()
            .col_expr(key_recovery::Column::ApprovedBy, Expr::value(approver.0))
            .col_expr(key_recovery::Column::ApprovedAt, Expr::value(now))
            .filter(key_recovery::Column::Id.eq(id))
            .filter(key_recovery::Column::ApprovedBy.is_null())
            .filter(key_recovery::Column::RequestedBy.ne(approver.0))
            .filter(open_at(now))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Ends an open recovery with `outcome`, dropping the key sealed for its
    /// link. Returns false when it had ended already.
    pub async fn end_key_recovery(
        &self,
        id: uuid::Uuid,
        outcome: Outcome,
        by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = ending(outcome, by, now)
            .filter(key_recovery::Column::Id.eq(id))
            .filter(key_recovery::Column::EndedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Stores the user's key sealed for a new link, replacing any earlier
    /// link, and ends every session of the account, in one transaction.
    /// Returns the ended sessions, or none when the recovery is no longer
    /// approved and open.
    pub async fn seal_recovery_link(
        &self,
        id: uuid::Uuid,
        token_hash: [u8; 32],
        sealed_private_key: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<SessionId>>, StoreError> {
        let transaction = self.begin_write().await?;
        let found = key_recovery::Entity::find_by_id(id)
            .filter(key_recovery::Column::ApprovedBy.is_not_null())
            .filter(open_at(now))
            .one(&*transaction)
            .await?;
        let Some(found) = found else {
            transaction.rollback().await?;
            return Ok(None);
        };
        key_recovery::Entity::update_many()
            .col_expr(key_recovery::Column::ResealedAt, Expr::value(now))
            .col_expr(
                key_recovery::Column::TokenHash,
                Expr::value(token_hash.to_vec()),
            )
            .col_expr(
                key_recovery::Column::SealedPrivateKey,
                Expr::value(sealed_private_key),
            )
            .col_expr(
                key_recovery::Column::EnrolmentSealedSecret,
                Expr::value(None::<Vec<u8>>),
            )
            .col_expr(
                key_recovery::Column::LinkExpiresAt,
                Expr::value(now + LINK_LIFE),
            )
            .filter(key_recovery::Column::Id.eq(id))
            .exec(&*transaction)
            .await?;
        let sessions = end_sessions(&transaction, UserId(found.user_id)).await?;
        transaction.commit().await?;
        Ok(Some(sessions))
    }

    /// Finds the open recovery whose link carries the token with `hash`.
    pub async fn key_recovery_by_token(
        &self,
        hash: &[u8; 32],
    ) -> Result<Option<key_recovery::Model>, StoreError> {
        Ok(key_recovery::Entity::find()
            .filter(key_recovery::Column::TokenHash.eq(hash.to_vec()))
            .one(&self.db)
            .await?)
    }

    /// Keeps the second-factor secret offered through a recovery link,
    /// replacing one offered before; returns false when the link no longer
    /// works.
    pub async fn offer_recovery_enrolment(
        &self,
        id: uuid::Uuid,
        token_hash: &[u8; 32],
        sealed_secret: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = key_recovery::Entity::update_many()
            .col_expr(
                key_recovery::Column::EnrolmentSealedSecret,
                Expr::value(sealed_secret),
            )
            .filter(key_recovery::Column::Id.eq(id))
            .filter(key_recovery::Column::TokenHash.eq(token_hash.to_vec()))
            .filter(key_recovery::Column::EndedAt.is_null())
            .filter(key_recovery::Column::LinkExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Completes a recovery through its link: the account gets its new
    /// password, key seals, second factor and recovery codes, every
    /// session ends, and the link stops working, in one transaction.
    /// Returns the ended sessions, or none when the link was used or ran
    /// out first.
    pub async fn complete_key_recovery(
        &self,
        recovery: &key_recovery::Model,
        token_hash: &[u8; 32],
        account: RecoveredAccount,
        now: DateTime<Utc>,
    ) -> Result<Option<Vec<SessionId>>, StoreError> {
        let user_id = UserId(recovery.user_id);
        let transaction = self.begin_write().await?;
        let ended = ending(Outcome::Completed, Some(user_id), now)
            .filter(key_recovery::Column::Id.eq(recovery.id))
            .filter(key_recovery::Column::TokenHash.eq(token_hash.to_vec()))
            .filter(key_recovery::Column::EndedAt.is_null())
            .filter(key_recovery::Column::LinkExpiresAt.gt(now))
            .exec(&*transaction)
            .await?;
        if ended.rows_affected == 0 {
            transaction.rollback().await?;
            return Ok(None);
        }
        user::Entity::update_many()
            .col_expr(
                user::Column::PasswordSalt,
                Expr::value(account.password_salt),
            )
            .col_expr(user::Column::AuthHash, Expr::value(account.auth_hash))
            .col_expr(
                user::Column::SealedPrivateKey,
                Expr::value(account.sealed_private_key),
            )
            .col_expr(
                user::Column::RecoverySealedPrivateKey,
                Expr::value(account.recovery_sealed_private_key),
            )
            .col_expr(
                user::Column::TotpSealedSecret,
                Expr::value(account.totp_sealed_secret),
            )
            .col_expr(
                user::Column::TotpLastStep,
                Expr::value(account.totp_last_step),
            )
            .filter(user::Column::Id.eq(user_id.0))
            .exec(&*transaction)
            .await?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(user_id.0))
            .exec(&*transaction)
            .await?;
        if !account.recovery_code_hashes.is_empty() {
            let rows =
                account
                    .recovery_code_hashes
                    .into_iter()
                    .map(|hash| recovery_code::ActiveModel {
                        user_id: Set(user_id.0),
                        code_hash: Set(hash.to_vec()),
                        used_at: Set(None),
                    });
            recovery_code::Entity::insert_many(rows)
                .exec_without_returning(&*transaction)
                .await?;
        }
        let sessions = end_sessions(&transaction, user_id).await?;
        transaction.commit().await?;
        Ok(Some(sessions))
    }
}

/// Deletes every session of `user` inside `transaction`, returning their
/// ids.
async fn end_sessions(
    transaction: &crate::connect::WriteTransaction,
    user: UserId,
) -> Result<Vec<SessionId>, StoreError> {
    let ids = session::Entity::find()
        .filter(session::Column::UserId.eq(user.0))
        .all(&**transaction)
        .await?
        .into_iter()
        .map(|row| SessionId(row.id))
        .collect();
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.0))
        .exec(&**transaction)
        .await?;
    Ok(ids)
}
