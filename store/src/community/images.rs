//! Images members upload for their posts and as their profile picture.
//!
//! An image moves from `uploading` to `processing` once its bytes are
//! stored and checked, then to `ready` with its renditions, or to `failed`
//! with a reason. A ready image that no post shows and no profile uses is
//! the member's to attach; one left unused for a day goes when the member
//! uploads the next.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use crate::entity::{
    community_image, community_image_rendition, community_member, community_profile,
};
use crate::{Store, StoreError};

/// Stored statuses of an image: those of a profile's photos and videos.
pub use crate::case_media::{FAILED, PROCESSING, READY, UPLOADING};

/// Images a member may hold that no post shows, in progress or ready.
pub const MAX_UNUSED: u64 = 20;

/// How long an image no post shows and no profile uses is kept.
pub const UNUSED_KEPT_FOR: chrono::Duration = chrono::Duration::days(1);

/// An image with its renditions.
pub type CommunityImage = (
    community_image::Model,
    Vec<community_image_rendition::Model>,
);

/// An image to record before its bytes arrive.
pub struct NewImage {
    pub id: uuid::Uuid,
    pub owner: UserId,
    pub sealed_key: Vec<u8>,
    pub at: DateTime<Utc>,
}

/// The outcome of recording a new image.
pub struct AddedImage {
    /// False when the member has [`MAX_UNUSED`] unused images already.
    pub added: bool,
    /// Blobs of stale unused images removed meanwhile, to delete.
    pub removed_blobs: Vec<uuid::Uuid>,
}

/// Returns the id of the member's picture, as their profile names it.
async fn picture_of<C: ConnectionTrait>(
    connection: &C,
    owner: UserId,
) -> Result<Option<uuid::Uuid>, StoreError> {
    Ok(community_profile::Entity::find_by_id(owner.0)
        .one(connection)
        .await?
        .and_then(|profile| profile.picture_id))
}

/// Deletes images and their renditions; returns every blob id they held.
pub(crate) async fn delete_images<C: ConnectionTrait>(
    connection: &C,
    ids: Vec<uuid::Uuid>,
) -> Result<Vec<uuid::Uuid>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut blobs: Vec<uuid::Uuid> = community_image_rendition::Entity::find()
        .filter(community_image_rendition::Column::ImageId.is_in(ids.iter().copied()))
        .all(connection)
        .await?
        .into_iter()
        .map(|rendition| rendition.id)
        .collect();
    community_image_rendition::Entity::delete_many()
        .filter(community_image_rendition::Column::ImageId.is_in(ids.iter().copied()))
        .exec(connection)
        .await?;
    community_image::Entity::delete_many()
        .filter(community_image::Column::Id.is_in(ids.iter().copied()))
        .exec(connection)
        .await?;
    blobs.extend(ids);
    Ok(blobs)
}

/// Gives a post the member's ready, unused images, with their
/// descriptions. Returns the first image that is not one, if any; the
/// caller then rolls back.
pub(crate) async fn attach<C: ConnectionTrait>(
    connection: &C,
    post: uuid::Uuid,
    owner: UserId,
    images: &[(uuid::Uuid, Option<String>)],
) -> Result<Option<uuid::Uuid>, StoreError> {
    if images.is_empty() {
        return Ok(None);
    }
    let picture = picture_of(connection, owner).await?;
    for (position, (id, description)) in (0_i32..).zip(images) {
        if picture == Some(*id) {
            return Ok(Some(*id));
        }
        let changed = community_image::Entity::update_many()
            .col_expr(community_image::Column::PostId, Expr::value(post))
            .col_expr(community_image::Column::Position, Expr::value(position))
            .col_expr(
                community_image::Column::Description,
                Expr::value(description.clone()),
            )
            .filter(community_image::Column::Id.eq(*id))
            .filter(community_image::Column::OwnerId.eq(owner.0))
            .filter(community_image::Column::PostId.is_null())
            .filter(community_image::Column::Status.eq(READY))
            .exec(connection)
            .await?;
        if changed.rows_affected != 1 {
            return Ok(Some(*id));
        }
    }
    Ok(None)
}

/// Checks that an image may become the member's picture: theirs, ready,
/// and shown by no post.
pub(crate) async fn usable_as_picture<C: ConnectionTrait>(
    connection: &C,
    owner: UserId,
    id: uuid::Uuid,
) -> Result<bool, StoreError> {
    Ok(community_image::Entity::find_by_id(id)
        .filter(community_image::Column::OwnerId.eq(owner.0))
        .filter(community_image::Column::PostId.is_null())
        .filter(community_image::Column::Status.eq(READY))
        .one(connection)
        .await?
        .is_some())
}

impl Store {
    /// Records a new image as `uploading`, unless the member has too many
    /// unused ones. Unused images older than [`UNUSED_KEPT_FOR`] and the
    /// member's failed ones go first.
    pub async fn add_community_image(&self, new: NewImage) -> Result<AddedImage, StoreError> {
        let transaction = self.begin_write().await?;
        // On PostgreSQL the member's row lock makes a second upload by the
        // same member wait here, so parallel uploads cannot pass the limit
        // together; SQLite runs one write transaction at a time anyway.
        if transaction.get_database_backend() == sea_orm::DbBackend::Postgres {
            community_member::Entity::find_by_id(new.owner.0)
                .lock_exclusive()
                .one(&*transaction)
                .await?;
        }
        let picture = picture_of(&*transaction, new.owner).await?;
        let stale: Vec<uuid::Uuid> = community_image::Entity::find()
            .filter(community_image::Column::OwnerId.eq(new.owner.0))
            .filter(community_image::Column::PostId.is_null())
            .all(&*transaction)
            .await?
            .into_iter()
            .filter(|image| {
                Some(image.id) != picture
                    && (image.status == FAILED || new.at - image.created_at > UNUSED_KEPT_FOR)
            })
            .map(|image| image.id)
            .collect();
        let removed_blobs = delete_images(&*transaction, stale).await?;
        let mut unused = community_image::Entity::find()
            .filter(community_image::Column::OwnerId.eq(new.owner.0))
            .filter(community_image::Column::PostId.is_null());
        if let Some(picture) = picture {
            unused = unused.filter(community_image::Column::Id.ne(picture));
        }
        if unused.count(&*transaction).await? >= MAX_UNUSED {
            transaction.commit().await?;
            return Ok(AddedImage {
                added: false,
                removed_blobs,
            });
        }
        community_image::Entity::insert(community_image::ActiveModel {
            id: Set(new.id),
            owner_id: Set(new.owner.0),
            post_id: Set(None),
            position: Set(None),
            description: Set(None),
            kind: Set(None),
            status: Set(UPLOADING.to_owned()),
            failure: Set(None),
            size: Set(0),
            sealed_key: Set(new.sealed_key),
            processing_attempts: Set(0),
            created_at: Set(new.at),
            updated_at: Set(new.at),
        })
        .exec_without_returning(&*transaction)
        .await?;
        transaction.commit().await?;
        Ok(AddedImage {
            added: true,
            removed_blobs,
        })
    }

    /// Reads one image with its renditions.
    pub async fn community_image(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<CommunityImage>, StoreError> {
        let Some(image) = community_image::Entity::find_by_id(id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let renditions = community_image_rendition::Entity::find()
            .filter(community_image_rendition::Column::ImageId.eq(id))
            .order_by_asc(community_image_rendition::Column::Role)
            .all(&self.db)
            .await?;
        Ok(Some((image, renditions)))
    }

    /// Lists the images each of `posts` shows, in the order the post gave,
    /// with their renditions.
    pub async fn community_post_images(
        &self,
        posts: &[uuid::Uuid],
    ) -> Result<HashMap<uuid::Uuid, Vec<CommunityImage>>, StoreError> {
        let mut shown: HashMap<uuid::Uuid, Vec<CommunityImage>> = HashMap::new();
        if posts.is_empty() {
            return Ok(shown);
        }
        let images = community_image::Entity::find()
            .filter(community_image::Column::PostId.is_in(posts.iter().copied()))
            .order_by_asc(community_image::Column::Position)
            .order_by_asc(community_image::Column::Id)
            .all(&self.db)
            .await?;
        if images.is_empty() {
            return Ok(shown);
        }
        let mut renditions: HashMap<uuid::Uuid, Vec<community_image_rendition::Model>> =
            HashMap::new();
        for rendition in community_image_rendition::Entity::find()
            .filter(community_image_rendition::Column::ImageId.is_in(images.iter().map(|i| i.id)))
            .order_by_asc(community_image_rendition::Column::Role)
            .all(&self.db)
            .await?
        {
            renditions
                .entry(rendition.image_id)
                .or_default()
                .push(rendition);
        }
        for image in images {
            let own = renditions.remove(&image.id).unwrap_or_default();
            if let Some(post) = image.post_id {
                shown.entry(post).or_default().push((image, own));
            }
        }
        Ok(shown)
    }

    /// Moves an uploaded, checked image to `processing` with its kind and
    /// size, and counts the attempt. Returns the attempts so far, or `None`
    /// when the image is neither uploading nor processing.
    pub async fn start_community_image_processing(
        &self,
        id: uuid::Uuid,
        kind: &str,
        size: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<i32>, StoreError> {
        let result = community_image::Entity::update_many()
            .col_expr(community_image::Column::Status, Expr::value(PROCESSING))
            .col_expr(community_image::Column::Kind, Expr::value(kind))
            .col_expr(community_image::Column::Size, Expr::value(size))
            .col_expr(
                community_image::Column::ProcessingAttempts,
                Expr::col(community_image::Column::ProcessingAttempts).add(1),
            )
            .col_expr(community_image::Column::UpdatedAt, Expr::value(at))
            .filter(community_image::Column::Id.eq(id))
            .filter(community_image::Column::Status.is_in([UPLOADING, PROCESSING]))
            .exec(&self.db)
            .await?;
        if result.rows_affected != 1 {
            return Ok(None);
        }
        Ok(community_image::Entity::find_by_id(id)
            .one(&self.db)
            .await?
            .map(|image| image.processing_attempts))
    }

    /// Marks a processing image ready with its renditions; returns whether
    /// it was still processing.
    pub async fn finish_community_image(
        &self,
        id: uuid::Uuid,
        renditions: Vec<community_image_rendition::Model>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        let result = community_image::Entity::update_many()
            .col_expr(community_image::Column::Status, Expr::value(READY))
            .col_expr(community_image::Column::UpdatedAt, Expr::value(at))
            .filter(community_image::Column::Id.eq(id))
            .filter(community_image::Column::Status.eq(PROCESSING))
            .exec(&*transaction)
            .await?;
        if result.rows_affected != 1 {
            transaction.rollback().await?;
            return Ok(false);
        }
        if !renditions.is_empty() {
            community_image_rendition::Entity::insert_many(
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

    /// Marks an image failed with `failure` if it is still uploading or
    /// processing; returns whether it was.
    pub async fn fail_community_image(
        &self,
        id: uuid::Uuid,
        failure: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = community_image::Entity::update_many()
            .col_expr(community_image::Column::Status, Expr::value(FAILED))
            .col_expr(community_image::Column::Failure, Expr::value(failure))
            .col_expr(community_image::Column::UpdatedAt, Expr::value(at))
            .filter(community_image::Column::Id.eq(id))
            .filter(community_image::Column::Status.is_in([UPLOADING, PROCESSING]))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records that an image's upload is still arriving; returns whether
    /// the image is still uploading, which it is not once removed.
    pub async fn touch_uploading_community_image(
        &self,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = community_image::Entity::update_many()
            .col_expr(community_image::Column::UpdatedAt, Expr::value(at))
            .filter(community_image::Column::Id.eq(id))
            .filter(community_image::Column::Status.eq(UPLOADING))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records that the processing of `ids` is alive.
    pub async fn touch_community_images(
        &self,
        ids: &[uuid::Uuid],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        community_image::Entity::update_many()
            .col_expr(community_image::Column::UpdatedAt, Expr::value(at))
            .filter(community_image::Column::Id.is_in(ids.iter().copied()))
            .filter(community_image::Column::Status.eq(PROCESSING))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Deletes one of a member's images that no post shows, and clears it
    /// from their profile if it is their picture. Returns the blob ids to
    /// delete, or `None` when the member has no such image.
    pub async fn remove_community_image(
        &self,
        owner: UserId,
        id: uuid::Uuid,
    ) -> Result<Option<Vec<uuid::Uuid>>, StoreError> {
        let transaction = self.begin_write().await?;
        let found = community_image::Entity::find_by_id(id)
            .filter(community_image::Column::OwnerId.eq(owner.0))
            .filter(community_image::Column::PostId.is_null())
            .one(&*transaction)
            .await?;
        if found.is_none() {
            transaction.rollback().await?;
            return Ok(None);
        }
        community_profile::Entity::update_many()
            .col_expr(
                community_profile::Column::PictureId,
                Expr::value(Option::<uuid::Uuid>::None),
            )
            .col_expr(
                community_profile::Column::PictureVisible,
                Expr::value(false),
            )
            .filter(community_profile::Column::UserId.eq(owner.0))
            .filter(community_profile::Column::PictureId.eq(id))
            .exec(&*transaction)
            .await?;
        let blobs = delete_images(&*transaction, vec![id]).await?;
        transaction.commit().await?;
        Ok(Some(blobs))
    }
}
