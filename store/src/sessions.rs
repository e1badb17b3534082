//! Signed-in sessions. The token is stored only as a hash; the user's
//! private key is stored sealed under a key that only the token yields.

use chrono::{DateTime, Utc};
use kinlink_core::{SessionId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{revoked_session, session};
use crate::{Store, StoreError};

/// A session row to insert.
pub struct NewSession {
    pub id: SessionId,
    pub user_id: UserId,
    pub token_hash: [u8; 32],
    pub sealed_private_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub absolute_expires_at: DateTime<Utc>,
    pub user_agent: String,
    pub client_address: String,
}

impl Store {
    /// Inserts a session.
    pub async fn create_session(&self, new: NewSession) -> Result<(), StoreError> {
        let row = session::ActiveModel {
            id: Set(new.id.0),
            user_id: Set(new.user_id.0),
            token_hash: Set(new.token_hash.to_vec()),
            sealed_private_key: Set(new.sealed_private_key),
            created_at: Set(new.created_at),
            last_seen_at: Set(new.created_at),
            absolute_expires_at: Set(new.absolute_expires_at),
            user_agent: Set(new.user_agent),
            client_address: Set(new.client_address),
        };
        session::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Finds the session a token belongs to.
    pub async fn session_by_token_hash(
        &self,
        token_hash: &[u8; 32],
    ) -> Result<Option<session::Model>, StoreError> {
        Ok(session::Entity::find()
            .filter(session::Column::TokenHash.eq(token_hash.to_vec()))
            .one(&self.db)
            .await?)
    }

    /// Records activity on a session, which pushes back its idle expiry.
    pub async fn touch_session(&self, id: SessionId, at: DateTime<Utc>) -> Result<(), StoreError> {
        session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(at))
            .filter(session::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Returns whether a session still exists: one that was signed out,
    /// revoked or ended by disabling its account does not.
    pub async fn session_exists(&self, id: SessionId) -> Result<bool, StoreError> {
        Ok(session::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .is_some())
    }

    /// Lists a user's sessions, newest first.
    pub async fn sessions_of(&self, user_id: UserId) -> Result<Vec<session::Model>, StoreError> {
        Ok(session::Entity::find()
            .filter(session::Column::UserId.eq(user_id.0))
            .order_by_desc(session::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// Deletes one of a user's sessions; returns whether it existed.
    pub async fn delete_session(&self, user_id: UserId, id: SessionId) -> Result<bool, StoreError> {
        let result = session::Entity::delete_many()
            .filter(session::Column::Id.eq(id.0))
            .filter(session::Column::UserId.eq(user_id.0))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Deletes every session of a user, returning their ids.
    pub async fn delete_sessions_of(&self, user_id: UserId) -> Result<Vec<SessionId>, StoreError> {
        let ids: Vec<SessionId> = self
            .sessions_of(user_id)
            .await?
            .into_iter()
            .map(|row| SessionId(row.id))
            .collect();
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id.0))
            .exec(&self.db)
            .await?;
        Ok(ids)
    }

    /// Ends every session of a disabled account, keeping each token's hash
    /// until the session would have expired so a later request with it can
    /// be recognised. Returns the ended sessions' ids.
    pub async fn revoke_sessions_of(
        &self,
        user_id: UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionId>, StoreError> {
        let transaction = self.begin_write().await?;
        let sessions = session::Entity::find()
            .filter(session::Column::UserId.eq(user_id.0))
            .all(&*transaction)
            .await?;
        if !sessions.is_empty() {
            let revoked = sessions.iter().map(|row| revoked_session::ActiveModel {
                token_hash: Set(row.token_hash.clone()),
                user_id: Set(row.user_id),
                revoked_at: Set(now),
                expires_at: Set(row.absolute_expires_at),
                last_attempt_at: Set(None),
            });
            revoked_session::Entity::insert_many(revoked)
                .exec_without_returning(&*transaction)
                .await?;
            session::Entity::delete_many()
                .filter(session::Column::UserId.eq(user_id.0))
                .exec(&*transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(sessions.into_iter().map(|row| SessionId(row.id)).collect())
    }

    /// Looks up a token among the sessions of disabled accounts. Returns
    /// the account and whether this attempt is the first in a minute,
    /// which the caller audits, so repeated requests write one row a
    /// minute at most.
    pub async fn revoked_session_attempt(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(UserId, bool)>, StoreError> {
        let Some(row) = revoked_session::Entity::find_by_id(token_hash.to_vec())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if row.expires_at <= now {
            return Ok(None);
        }
        let quiet_since = now - chrono::Duration::seconds(60);
        let claimed = revoked_session::Entity::update_many()
            .col_expr(revoked_session::Column::LastAttemptAt, now.into())
            .filter(revoked_session::Column::TokenHash.eq(token_hash.to_vec()))
            .filter(
                revoked_session::Column::LastAttemptAt
                    .is_null()
                    .or(revoked_session::Column::LastAttemptAt.lte(quiet_since)),
            )
            .exec(&self.db)
            .await?;
        Ok(Some((UserId(row.user_id), claimed.rows_affected > 0)))
    }

    /// Deletes sessions past their idle or absolute expiry.
    pub async fn delete_expired_sessions(
        &self,
        now: DateTime<Utc>,
        idle_cutoff: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let result = session::Entity::delete_many()
            .filter(
                session::Column::AbsoluteExpiresAt
                    .lte(now)
                    .or(session::Column::LastSeenAt.lte(idle_cutoff)),
            )
            .exec(&self.db)
            .await?;
        revoked_session::Entity::delete_many()
            .filter(revoked_session::Column::ExpiresAt.lte(now))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }
}
