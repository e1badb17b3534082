//! Signed-in sessions. The token is stored only as a hash; the user's
//! private key is stored sealed under a key that only the token yields.

use chrono::{DateTime, Utc};
use kinlink_core::{SessionId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::session;
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
        Ok(result.rows_affected)
    }
}
