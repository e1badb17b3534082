//! Photos and videos in family-finding profiles.
//!
//! An item moves from `uploading` to `processing` once its bytes are
//! stored and checked, then to `ready` with its renditions, or to `failed`
//! with a reason. A case holds a limited number of items per slot, counted
//! under the case's row lock so two uploads at once cannot pass the limit.

use chrono::{DateTime, Utc};
use kinlink_core::{OrganisationId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::cases::require_owner;
use crate::entity::{case_media, case_media_rendition};
use crate::{Store, StoreError};

/// Stored statuses of a profile item.
pub const UPLOADING: &str = "uploading";
pub const PROCESSING: &str = "processing";
pub const READY: &str = "ready";
pub const FAILED: &str = "failed";

/// Failed items a case keeps, newest first; older ones go when an item is
/// added.
pub const KEPT_FAILURES: usize = 5;

/// A profile item to record before its bytes arrive.
pub struct NewCaseMedia {
    pub id: uuid::Uuid,
    pub case_id: uuid::Uuid,
    /// The organisation the caller found owning the case.
    pub owner: OrganisationId,
    pub slot: &'static str,
    /// Items the slot may hold, failed ones not counted.
    pub limit: u64,
    pub sealed_key: Vec<u8>,
    pub uploaded_by: UserId,
    pub at: DateTime<Utc>,
}

/// A profile item with its renditions.
pub type CaseMediaItem = (case_media::Model, Vec<case_media_rendition::Model>);

impl Store {
    /// Records a new item as `uploading`, unless the slot is full; returns
    /// whether it was recorded. A case that moved to another organisation
    /// meanwhile is a conflict.
    pub async fn add_case_media(&self, new: NewCaseMedia) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        require_owner(&*transaction, new.case_id, new.owner, None).await?;

        let in_use = case_media::Entity::find()
            .filter(case_media::Column::CaseId.eq(new.case_id))
            .filter(case_media::Column::Slot.eq(new.slot))
            .filter(case_media::Column::Status.ne(FAILED))
            .count(&*transaction)
            .await?;
        if in_use >= new.limit {
            transaction.rollback().await?;
            return Ok(false);
        }

        // Failed items stay for the editors to see why, but only the
        // newest few: their content is gone already.
        let failed: Vec<uuid::Uuid> = case_media::Entity::find()
            .filter(case_media::Column::CaseId.eq(new.case_id))
            .filter(case_media::Column::Status.eq(FAILED))
            .order_by_desc(case_media::Column::CreatedAt)
            .order_by_desc(case_media::Column::Id)
            .all(&*transaction)
            .await?
            .into_iter()
            .skip(KEPT_FAILURES)
            .map(|item| item.id)
            .collect();
        if !failed.is_empty() {
            case_media_rendition::Entity::delete_many()
                .filter(case_media_rendition::Column::MediaId.is_in(failed.iter().copied()))
                .exec(&*transaction)
                .await?;
            case_media::Entity::delete_many()
                .filter(case_media::Column::Id.is_in(failed))
                .exec(&*transaction)
                .await?;
        }

        case_media::Entity::insert(case_media::ActiveModel {
            id: Set(new.id),
            case_id: Set(new.case_id),
            slot: Set(new.slot.to_owned()),
            kind: Set(None),
            status: Set(UPLOADING.to_owned()),
            failure: Set(None),
            size: Set(0),
            sealed_key: Set(new.sealed_key),
            uploaded_by: Set(new.uploaded_by.0),
            processing_attempts: Set(0),
            created_at: Set(new.at),
            updated_at: Set(new.at),
        })
        .exec_without_returning(&*transaction)
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Reads one item.
    pub async fn case_media_item(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<case_media::Model>, StoreError> {
        Ok(case_media::Entity::find_by_id(id).one(&self.db).await?)
    }

    /// Lists a case's items, oldest first, each with its renditions.
    pub async fn case_media_of(
        &self,
        case_id: uuid::Uuid,
    ) -> Result<Vec<CaseMediaItem>, StoreError> {
        let items = case_media::Entity::find()
            .filter(case_media::Column::CaseId.eq(case_id))
            .order_by_asc(case_media::Column::CreatedAt)
            .order_by_asc(case_media::Column::Id)
            .all(&self.db)
            .await?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut renditions = case_media_rendition::Entity::find()
            .filter(case_media_rendition::Column::MediaId.is_in(items.iter().map(|item| item.id)))
            .all(&self.db)
            .await?;
        Ok(items
            .into_iter()
            .map(|item| {
                let (own, rest): (Vec<_>, Vec<_>) = renditions
                    .drain(..)
                    .partition(|rendition| rendition.media_id == item.id);
                renditions = rest;
                (item, own)
            })
            .collect())
    }

    /// Moves an uploaded, checked item to `processing` with its kind and
    /// size, and counts the attempt. Returns the attempts so far, or `None`
    /// when the item is neither uploading nor processing.
    pub async fn start_case_media_processing(
        &self,
        id: uuid::Uuid,
        kind: &str,
        size: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<i32>, StoreError> {
        let result = case_media::Entity::update_many()
            .col_expr(case_media::Column::Status, Expr::value(PROCESSING))
            .col_expr(case_media::Column::Kind, Expr::value(kind))
            .col_expr(case_media::Column::Size, Expr::value(size))
            .col_expr(
                case_media::Column::ProcessingAttempts,
                Expr::col(case_media::Column::ProcessingAttempts).add(1),
            )
            .col_expr(case_media::Column::UpdatedAt, Expr::value(at))
            .filter(case_media::Column::Id.eq(id))
            .filter(case_media::Column::Status.is_in([UPLOADING, PROCESSING]))
            .exec(&self.db)
            .await?;
        if result.rows_affected != 1 {
            return Ok(None);
        }
        Ok(self
            .case_media_item(id)
            .await?
            .map(|item| item.processing_attempts))
    }

    /// Marks a processing item ready with its renditions; returns whether
    /// it was still processing.
    pub async fn finish_case_media(
        &self,
        id: uuid::Uuid,
        renditions: Vec<case_media_rendition::Model>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        let result = case_media::Entity::update_many()
            .col_expr(case_media::Column::Status, Expr::value(READY))
            .col_expr(case_media::Column::UpdatedAt, Expr::value(at))
            .filter(case_media::Column::Id.eq(id))
            .filter(case_media::Column::Status.eq(PROCESSING))
            .exec(&*transaction)
            .await?;
        if result.rows_affected != 1 {
            transaction.rollback().await?;
            return Ok(false);
        }
        if !renditions.is_empty() {
            case_media_rendition::Entity::insert_many(
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

    /// Marks an item failed with `failure` if it is still uploading or
    /// processing; returns whether it was.
    pub async fn fail_case_media(
        &self,
        id: uuid::Uuid,
        failure: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = case_media::Entity::update_many()
            .col_expr(case_media::Column::Status, Expr::value(FAILED))
            .col_expr(case_media::Column::Failure, Expr::value(failure))
            .col_expr(case_media::Column::UpdatedAt, Expr::value(at))
            .filter(case_media::Column::Id.eq(id))
            .filter(case_media::Column::Status.is_in([UPLOADING, PROCESSING]))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records that an item's upload is still arriving; returns whether the
    /// item is still uploading, which it is not once removed.
    pub async fn touch_uploading_media(
        &self,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = case_media::Entity::update_many()
            .col_expr(case_media::Column::UpdatedAt, Expr::value(at))
            .filter(case_media::Column::Id.eq(id))
            .filter(case_media::Column::Status.eq(UPLOADING))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records that the processing of `ids` is alive.
    pub async fn touch_case_media(
        &self,
        ids: &[uuid::Uuid],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        case_media::Entity::update_many()
            .col_expr(case_media::Column::UpdatedAt, Expr::value(at))
            .filter(case_media::Column::Id.is_in(ids.iter().copied()))
            .filter(case_media::Column::Status.eq(PROCESSING))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Deletes an item of a case owned by `owner`, and returns the blob ids
    /// to delete: the upload's and its renditions'. `None` when the item
    /// is not the case's.
    pub async fn remove_case_media(
        &self,
        case_id: uuid::Uuid,
        owner: OrganisationId,
        id: uuid::Uuid,
    ) -> Result<Option<Vec<uuid::Uuid>>, StoreError> {
        let transaction = self.begin_write().await?;
        require_owner(&*transaction, case_id, owner, None).await?;
        let Some(item) = case_media::Entity::find_by_id(id)
            .filter(case_media::Column::CaseId.eq(case_id))
            .one(&*transaction)
            .await?
        else {
            transaction.rollback().await?;
            return Ok(None);
        };
        let mut blobs: Vec<uuid::Uuid> = case_media_rendition::Entity::find()
            .filter(case_media_rendition::Column::MediaId.eq(item.id))
            .all(&*transaction)
            .await?
            .into_iter()
            .map(|rendition| rendition.id)
            .collect();
        blobs.push(item.id);
        case_media_rendition::Entity::delete_many()
            .filter(case_media_rendition::Column::MediaId.eq(item.id))
            .exec(&*transaction)
            .await?;
        case_media::Entity::delete_by_id(item.id)
            .exec(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(Some(blobs))
    }
}
