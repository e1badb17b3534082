//! Erasure of user records: the mark, and the final step. That step applies
//! [`kinlink_core::user_erasure::DISPOSITIONS`] to the rows that name the
//! user and wipes the `users` row down to a tombstone.

use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::user_erasure::{DISPOSITIONS, Disposition, ERASED_NAME, erased_email};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement, Value,
};

use crate::entity::{file, file_rendition, user};
use crate::{Store, StoreError};

pub use kinlink_core::user_erasure::{INACTIVE, REQUESTED};

impl Store {
    /// Marks a user record for erasure and stops its sign-in. Returns
    /// false, changing nothing, when it is marked already.
    pub async fn mark_user(
        &self,
        id: UserId,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = user::Entity::update_many()
            .col_expr(user::Column::MarkedAt, Expr::value(Some(at)))
            .col_expr(user::Column::MarkReason, Expr::value(Some(reason)))
            .col_expr(
                user::Column::Status,
                Expr::value(crate::users::AccountStatus::Disabled.as_str()),
            )
            .filter(user::Column::Id.eq(id.0))
            .filter(user::Column::MarkedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Marks up to `limit` community-only accounts that have not signed
    /// in since `cutoff` (or were made before it and never have), and stops
    /// their sign-in. A community-only account is a community member with
    /// no role in any organisation. Returns the accounts marked.
    pub async fn mark_inactive_community_users(
        &self,
        cutoff: DateTime<Utc>,
        at: DateTime<Utc>,
        limit: u64,
    ) -> Result<Vec<UserId>, StoreError> {
        let due = self.inactive_community_users(cutoff, Some(limit)).await?;
        let mut marked = Vec::with_capacity(due.len());
        for id in due {
            if self.mark_user(id, INACTIVE, at).await? {
                marked.push(id);
            }
        }
        Ok(marked)
    }

    /// Returns the community-only accounts, not marked, that have not
    /// signed in since `cutoff`; at most `limit` when given, the longest
    /// idle first.
    pub async fn inactive_community_users(
        &self,
        cutoff: DateTime<Utc>,
        limit: Option<u64>,
    ) -> Result<Vec<UserId>, StoreError> {
        let backend = self.db.get_database_backend();
        // A community member's role comes from `community_members`; any
        // role in an organisation is a row of `memberships`.
        let sql = format!(
            "SELECT u.id FROM users u \
             WHERE u.marked_at IS NULL AND u.erased_at IS NULL \
             AND COALESCE(u.last_sign_in_at, u.created_at) <= {first} \
             AND EXISTS (SELECT 1 FROM community_members c WHERE c.user_id = u.id) \
             AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id) \
             ORDER BY COALESCE(u.last_sign_in_at, u.created_at), u.id{limit}",
            first = one(backend),
            limit = limit.map_or(String::new(), |limit| format!(" LIMIT {limit}")),
        );
        let rows = self
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [cutoff.into()],
            ))
            .await?;
        let mut ids = Vec::with_capacity(rows.len());
        for row in rows {
            ids.push(UserId(row.try_get_by_index::<uuid::Uuid>(0)?));
        }
        Ok(ids)
    }

    /// Returns the marked user records not yet erased whose mark is at
    /// `cutoff` or earlier, the oldest first; at most `limit` when given.
    pub async fn users_marked_before(
        &self,
        cutoff: DateTime<Utc>,
        limit: Option<u64>,
    ) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<uuid::Uuid> = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::MarkedAt.lte(cutoff))
            .filter(user::Column::ErasedAt.is_null())
            .order_by_asc(user::Column::MarkedAt)
            .limit(limit)
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// Deletes what names a user and wipes their row down to a tombstone,
    /// in one transaction. Returns the stored blobs of the files deleted,
    /// for the caller to remove once the transaction is committed, or
    /// `None` when the record was erased already.
    pub async fn erase_user(
        &self,
        id: UserId,
        at: DateTime<Utc>,
    ) -> Result<Option<Vec<uuid::Uuid>>, StoreError> {
        let transaction = self.begin_write().await?;
        let account = user::Entity::find_by_id(id.0)
            .one(&*transaction)
            .await?
            .ok_or(StoreError::NotFound { what: "user" })?;
        if account.erased_at.is_some() {
            return Ok(None);
        }
        let backend = transaction.get_database_backend();
        let mut blobs = Vec::new();
        for (table, column, disposition) in DISPOSITIONS {
            let value: Value = if column.contains("email") {
                account.email.clone().into()
            } else {
                id.0.into()
            };
            match disposition {
                Disposition::Delete => {
                    let sql = format!(
                        "DELETE FROM \"{table}\" WHERE \"{column}\" = {}",
                        one(backend)
                    );
                    transaction
                        .execute_raw(Statement::from_sql_and_values(backend, sql, [value]))
                        .await?;
                }
                Disposition::Unlink => {
                    let sql = format!(
                        "UPDATE \"{table}\" SET \"{column}\" = NULL WHERE \"{column}\" = {}",
                        one(backend)
                    );
                    transaction
                        .execute_raw(Statement::from_sql_and_values(backend, sql, [value]))
                        .await?;
                }
                Disposition::DeleteUnshared => {
                    blobs.extend(delete_unshared_files(&*transaction, id).await?);
                }
                Disposition::Keep(_) => {}
                Disposition::Tombstone => tombstone(&*transaction, id, at).await?,
            }
        }
        transaction.commit().await?;
        if backend == DbBackend::Sqlite {
            // The write-ahead log still has the old pages until a
            // checkpoint copies them back and truncates it. A busy
            // checkpoint leaves them for the next one, which SQLite runs
            // on its own.
            self.db
                .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                .await?;
        }
        Ok(Some(blobs))
    }
}

fn one(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    }
}

/// Deletes the user's files that no message or letter shares, with their
/// renditions; returns the blobs to remove.
async fn delete_unshared_files(
    connection: &impl ConnectionTrait,
    id: UserId,
) -> Result<Vec<uuid::Uuid>, StoreError> {
    let files: Vec<uuid::Uuid> = file::Entity::find()
        .select_only()
        .column(file::Column::Id)
        .filter(file::Column::UploaderId.eq(id.0))
        .filter(file::Column::SharedAt.is_null())
        .into_tuple()
        .all(connection)
        .await?;
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let renditions: Vec<uuid::Uuid> = file_rendition::Entity::find()
        .select_only()
        .column(file_rendition::Column::Id)
        .filter(file_rendition::Column::FileId.is_in(files.clone()))
        .into_tuple()
        .all(connection)
        .await?;
    file_rendition::Entity::delete_many()
        .filter(file_rendition::Column::FileId.is_in(files.clone()))
        .exec(connection)
        .await?;
    file::Entity::delete_many()
        .filter(file::Column::Id.is_in(files.clone()))
        .exec(connection)
        .await?;
    Ok(files.into_iter().chain(renditions).collect())
}

/// Wipes a `users` row down to its id and times.
async fn tombstone(
    connection: &impl ConnectionTrait,
    id: UserId,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let defaults = kinlink_core::notices::Preferences::default();
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(erased_email(id.0)))
        .col_expr(user::Column::DisplayName, Expr::value(ERASED_NAME))
        .col_expr(
            user::Column::Status,
            Expr::value(crate::users::AccountStatus::Disabled.as_str()),
        )
        .col_expr(user::Column::PasswordSalt, Expr::value(Vec::<u8>::new()))
        .col_expr(user::Column::AuthHash, Expr::value(Vec::<u8>::new()))
        .col_expr(user::Column::PublicKey, Expr::value(Vec::<u8>::new()))
        .col_expr(
            user::Column::SealedPrivateKey,
            Expr::value(Vec::<u8>::new()),
        )
        .col_expr(
            user::Column::RecoverySealedPrivateKey,
            Expr::value(Vec::<u8>::new()),
        )
        .col_expr(
            user::Column::TotpSealedSecret,
            Expr::value(Option::<Vec<u8>>::None),
        )
        .col_expr(
            user::Column::InvitedBy,
            Expr::value(Option::<uuid::Uuid>::None),
        )
        .col_expr(
            user::Column::LastSignInAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .col_expr(
            user::Column::NotifyBy,
            Expr::value(defaults.delivery.as_str()),
        )
        .col_expr(
            user::Column::DigestHour,
            Expr::value(i32::try_from(defaults.digest_hour).unwrap_or(18)),
        )
        .col_expr(
            user::Column::TimeZone,
            Expr::value(defaults.time_zone.name()),
        )
        .col_expr(user::Column::MarketingOptIn, Expr::value(false))
        .col_expr(
            user::Column::MarketingChangedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(user::Column::ErasedAt, Expr::value(Some(at)))
        .filter(user::Column::Id.eq(id.0))
        .exec(connection)
        .await?;
    Ok(())
}
