//! Safeguarding concerns about posts that moderators pass to organisations.

use kinlink_core::OrganisationId;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::NewNotice;
use super::moderation::notice_row;
use crate::entity::{community_concern, community_notice};
use crate::{Store, StoreError};

/// Most concerns one listing returns, newest first.
const CONCERNS_LISTED: u64 = 500;

impl Store {
    /// Records a concern passed to an organisation and, when the member is
    /// told, their notice, in one transaction.
    pub async fn raise_community_concern(
        &self,
        concern: community_concern::Model,
        notice: Option<NewNotice>,
    ) -> Result<(), StoreError> {
        let transaction = self.begin_write().await?;
        if let Err(error) =
            community_concern::Entity::insert(community_concern::ActiveModel::from(concern))
                .exec_without_returning(&*transaction)
                .await
        {
            transaction.rollback().await?;
            if crate::error::is_unique_violation(&error) {
                return Err(StoreError::Conflict {
                    what: "safeguarding concern",
                });
            }
            return Err(error.into());
        }
        if let Some(notice) = notice {
            community_notice::Entity::insert(community_notice::ActiveModel::from(notice_row(
                notice,
            )))
            .exec_without_returning(&*transaction)
            .await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    /// Lists the concerns passed to an organisation, newest first.
    pub async fn community_concerns_of(
        &self,
        organisation: OrganisationId,
    ) -> Result<Vec<community_concern::Model>, StoreError> {
        Ok(community_concern::Entity::find()
            .filter(community_concern::Column::OrganisationId.eq(organisation.0))
            .order_by_desc(community_concern::Column::CreatedAt)
            .order_by_desc(community_concern::Column::Id)
            .limit(CONCERNS_LISTED)
            .all(&self.db)
            .await?)
    }

    /// Returns whether the post has been passed to the organisation before.
    pub async fn community_concern_exists(
        &self,
        post: uuid::Uuid,
        organisation: OrganisationId,
    ) -> Result<bool, StoreError> {
        Ok(community_concern::Entity::find()
            .filter(community_concern::Column::PostId.eq(post))
            .filter(community_concern::Column::OrganisationId.eq(organisation.0))
            .one(&self.db)
            .await?
            .is_some())
    }
}
