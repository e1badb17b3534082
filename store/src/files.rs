//! Uploaded files and their progress.
//!
//! An upload moves from `uploading` to `processing` once every byte is
//! stored and the checks pass, then to `ready` with its renditions, or to
//! `failed` with a reason. A document's only rendition is its text, and a
//! document without text is ready with none. `received_bytes`
//! counts plaintext bytes whose sealed segments are durable in the blob
//! store, so a resumed upload continues from there.

use chrono::{DateTime, Utc};
use kinlink_core::{ConversationId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use crate::entity::{file, file_rendition};
use crate::{Store, StoreError};

/// The states of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileStatus {
    Uploading,
    Processing,
    Ready,
    Failed,
}

impl FileStatus {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Uploading => "uploading",
            FileStatus::Processing => "processing",
            FileStatus::Ready => "ready",
            FileStatus::Failed => "failed",
        }
    }
}

/// An upload to start.
pub struct NewUpload {
    pub id: uuid::Uuid,
    pub conversation_id: ConversationId,
    pub uploader_id: UserId,
    pub sealed_name: Vec<u8>,
    pub declared_size: i64,
    pub key_epoch: i32,
    pub sealed_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Starts an upload unless the uploader's unfinished uploads would then
    /// exceed `quota` bytes; returns whether it was started.
    pub async fn start_upload(&self, new: NewUpload, quota: i64) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        let unfinished: Option<i64> = file::Entity::find()
            .select_only()
            .column_as(file::Column::DeclaredSize.sum(), "total")
            .filter(file::Column::UploaderId.eq(new.uploader_id.0))
            .filter(file::Column::Status.eq(FileStatus::Uploading.as_str()))
            .into_tuple::<Option<i64>>()
            .one(&*transaction)
            .await?
            .flatten();
        if unfinished.unwrap_or(0).saturating_add(new.declared_size) > quota {
            transaction.rollback().await?;
            return Ok(false);
        }
        file::Entity::insert(file::ActiveModel {
            id: Set(new.id),
            conversation_id: Set(new.conversation_id.0),
            uploader_id: Set(new.uploader_id.0),
            sealed_name: Set(Some(new.sealed_name)),
            declared_size: Set(new.declared_size),
            received_bytes: Set(0),
            kind: Set(None),
            status: Set(FileStatus::Uploading.as_str().to_owned()),
            failure: Set(None),
            key_epoch: Set(new.key_epoch),
            sealed_key: Set(new.sealed_key),
            created_at: Set(new.created_at),
            updated_at: Set(new.created_at),
            expires_at: Set(Some(new.expires_at)),
            processing_attempts: Set(0),
            shared_at: Set(None),
        })
        .exec_without_returning(&*transaction)
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Finds a file by id.
    pub async fn file(&self, id: uuid::Uuid) -> Result<Option<file::Model>, StoreError> {
        Ok(file::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Moves an upload's durable position from `from` to `to`. Returns
    /// false, changing nothing, when another request moved it first or the
    /// upload is no longer in progress.
    pub async fn advance_upload(
        &self,
        id: uuid::Uuid,
        from: i64,
        to: i64,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = file::Entity::update_many()
            .col_expr(file::Column::ReceivedBytes, Expr::value(to))
            .col_expr(file::Column::UpdatedAt, Expr::value(at))
            .filter(file::Column::Id.eq(id))
            .filter(file::Column::ReceivedBytes.eq(from))
            .filter(file::Column::Status.eq(FileStatus::Uploading.as_str()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Lists unfinished uploads whose time ran out before `now`.
    pub async fn expired_uploads(&self, now: DateTime<Utc>) -> Result<Vec<uuid::Uuid>, StoreError> {
        Ok(file::Entity::find()
            .select_only()
            .column(file::Column::Id)
            .filter(file::Column::Status.eq(FileStatus::Uploading.as_str()))
            .filter(file::Column::ExpiresAt.lt(now))
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Deletes a file's row and its renditions' rows. The caller deletes
    /// their blobs first.
    pub async fn delete_file(&self, id: uuid::Uuid) -> Result<(), StoreError> {
        let transaction = self.begin_write().await?;
        file_rendition::Entity::delete_many()
            .filter(file_rendition::Column::FileId.eq(id))
            .exec(&*transaction)
            .await?;
        file::Entity::delete_by_id(id).exec(&*transaction).await?;
        transaction.commit().await?;
        Ok(())
    }

    /// Moves a checked upload, or a file whose processing was cut off, to
    /// `processing` and counts the attempt. `kind` is set when given.
    /// Returns the attempts so far, this one included, or `None` when the
    /// file is gone or in neither state.
    pub async fn start_processing(
        &self,
        id: uuid::Uuid,
        kind: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Option<i32>, StoreError> {
        let mut update = file::Entity::update_many()
            .col_expr(
                file::Column::Status,
                Expr::value(FileStatus::Processing.as_str()),
            )
            .col_expr(
                file::Column::ProcessingAttempts,
                Expr::col(file::Column::ProcessingAttempts).add(1),
            )
            .col_expr(file::Column::UpdatedAt, Expr::value(at));
        if let Some(kind) = kind {
            update = update.col_expr(file::Column::Kind, Expr::value(kind));
        }
        let result = update
            .filter(file::Column::Id.eq(id))
            .filter(file::Column::Status.is_in([
                FileStatus::Uploading.as_str(),
                FileStatus::Processing.as_str(),
            ]))
            .exec(&self.db)
            .await?;
        if result.rows_affected != 1 {
            return Ok(None);
        }
        Ok(self.file(id).await?.map(|row| row.processing_attempts))
    }

    /// Records a processed file's renditions and marks it ready, in one
    /// transaction. Returns false, storing nothing, when the file is no
    /// longer processing (it was deleted, or failed meanwhile).
    pub async fn finish_processing(
        &self,
        id: uuid::Uuid,
        renditions: Vec<file_rendition::Model>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        let result = file::Entity::update_many()
            .col_expr(
                file::Column::Status,
                Expr::value(FileStatus::Ready.as_str()),
            )
            .col_expr(file::Column::UpdatedAt, Expr::value(at))
            .col_expr(file::Column::ExpiresAt, Expr::value(None::<DateTime<Utc>>))
            .filter(file::Column::Id.eq(id))
            .filter(file::Column::Status.eq(FileStatus::Processing.as_str()))
            .exec(&*transaction)
            .await?;
        if result.rows_affected != 1 {
            transaction.rollback().await?;
            return Ok(false);
        }
        if !renditions.is_empty() {
            file_rendition::Entity::insert_many(
                renditions
                    .into_iter()
                    .map(sea_orm::IntoActiveModel::into_active_model),
            )
            .exec_without_returning(&*transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(true)
    }

    /// Marks a file failed with `failure` if it is still uploading or
    /// processing; returns whether it was.
    pub async fn fail_file(
        &self,
        id: uuid::Uuid,
        failure: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = file::Entity::update_many()
            .col_expr(
                file::Column::Status,
                Expr::value(FileStatus::Failed.as_str()),
            )
            .col_expr(file::Column::Failure, Expr::value(failure))
            .col_expr(file::Column::UpdatedAt, Expr::value(at))
            .col_expr(file::Column::ExpiresAt, Expr::value(None::<DateTime<Utc>>))
            .filter(file::Column::Id.eq(id))
            .filter(file::Column::Status.is_in([
                FileStatus::Uploading.as_str(),
                FileStatus::Processing.as_str(),
            ]))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records that the processing of `ids` is alive.
    pub async fn touch_files(
        &self,
        ids: &[uuid::Uuid],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        file::Entity::update_many()
            .col_expr(file::Column::UpdatedAt, Expr::value(at))
            .filter(file::Column::Id.is_in(ids.iter().copied()))
            .filter(file::Column::Status.eq(FileStatus::Processing.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Moves a file from `processing` back to `uploading` with every byte
    /// stored, so the uploader's next request runs the checks and queues it
    /// again. Used when the processing queue is full.
    pub async fn return_to_uploading(
        &self,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        file::Entity::update_many()
            .col_expr(
                file::Column::Status,
                Expr::value(FileStatus::Uploading.as_str()),
            )
            .col_expr(
                file::Column::ProcessingAttempts,
                Expr::col(file::Column::ProcessingAttempts).sub(1),
            )
            .col_expr(file::Column::UpdatedAt, Expr::value(at))
            .filter(file::Column::Id.eq(id))
            .filter(file::Column::Status.eq(FileStatus::Processing.as_str()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Returns whether every file of `ids` may be attached to a message
    /// that `sender` sends to `conversation`: uploaded by them to it, with
    /// every byte stored, and not failed.
    pub async fn attachable(
        &self,
        conversation: ConversationId,
        sender: UserId,
        ids: &[uuid::Uuid],
    ) -> Result<bool, StoreError> {
        let found = file::Entity::find()
            .filter(file::Column::Id.is_in(ids.iter().copied()))
            .filter(file::Column::ConversationId.eq(conversation.0))
            .filter(file::Column::UploaderId.eq(sender.0))
            .filter(
                file::Column::Status
                    .is_in([FileStatus::Processing.as_str(), FileStatus::Ready.as_str()]),
            )
            .count(&self.db)
            .await?;
        Ok(found == ids.len() as u64)
    }

    /// Lists a file's renditions.
    pub async fn renditions(
        &self,
        file_id: uuid::Uuid,
    ) -> Result<Vec<file_rendition::Model>, StoreError> {
        Ok(file_rendition::Entity::find()
            .filter(file_rendition::Column::FileId.eq(file_id))
            .all(&self.db)
            .await?)
    }

    /// Lists the ready files of a conversation, oldest first.
    pub async fn ready_files_in(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Vec<file::Model>, StoreError> {
        Ok(file::Entity::find()
            .filter(file::Column::ConversationId.eq(conversation_id.0))
            .filter(file::Column::Status.eq(FileStatus::Ready.as_str()))
            .order_by_asc(file::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// Lists the files left in `processing`, which a server that stopped
    /// part way through leaves behind.
    pub async fn files_processing(&self) -> Result<Vec<file::Model>, StoreError> {
        Ok(file::Entity::find()
            .filter(file::Column::Status.eq(FileStatus::Processing.as_str()))
            .all(&self.db)
            .await?)
    }
}

/// Marks files of `conversation` as shared with its members, within the
/// transaction that stores the message or releases the letter carrying
/// them. A file keeps the time it was first shared.
pub(crate) async fn share<C: sea_orm::ConnectionTrait>(
    connection: &C,
    conversation: ConversationId,
    ids: &[uuid::Uuid],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    file::Entity::update_many()
        .col_expr(file::Column::SharedAt, Expr::value(at))
        .filter(file::Column::Id.is_in(ids.iter().copied()))
        .filter(file::Column::ConversationId.eq(conversation.0))
        .filter(file::Column::SharedAt.is_null())
        .exec(connection)
        .await?;
    Ok(())
}
