//! Organisations and their key pairs, sealed to each active worker.

use chrono::{DateTime, Utc};
use kinlink_core::{OrganisationId, UserId};
use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::entity::{organisation, organisation_key};
use crate::{Store, StoreError};

/// Default retention period: three years of inactivity.
pub const DEFAULT_RETENTION_DAYS: i32 = 3 * 365;

/// An organisation to insert.
pub struct NewOrganisation {
    pub id: OrganisationId,
    pub name: String,
    pub kind: String,
    pub licence_expires_at: Option<DateTime<Utc>>,
    pub public_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Inserts an organisation.
    pub async fn create_organisation(&self, new: NewOrganisation) -> Result<(), StoreError> {
        let row = organisation::ActiveModel {
            id: Set(new.id.0),
            name: Set(new.name),
            kind: Set(new.kind),
            licence_expires_at: Set(new.licence_expires_at),
            retention_days: Set(DEFAULT_RETENTION_DAYS),
            public_key: Set(new.public_key),
            created_at: Set(new.created_at),
        };
        organisation::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Loads an organisation.
    pub async fn organisation(
        &self,
        id: OrganisationId,
    ) -> Result<organisation::Model, StoreError> {
        organisation::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound {
                what: "organisation",
            })
    }

    /// Stores the organisation's private key sealed to one worker.
    pub async fn add_organisation_key(
        &self,
        organisation_id: OrganisationId,
        user_id: UserId,
        sealed_private_key: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let row = organisation_key::ActiveModel {
            organisation_id: Set(organisation_id.0),
            user_id: Set(user_id.0),
            sealed_private_key: Set(sealed_private_key),
            created_at: Set(now),
        };
        organisation_key::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Loads the organisation's private key as sealed to one worker.
    pub async fn organisation_key_for(
        &self,
        organisation_id: OrganisationId,
        user_id: UserId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let row = organisation_key::Entity::find_by_id((organisation_id.0, user_id.0))
            .one(&self.db)
            .await?;
        Ok(row.map(|row| row.sealed_private_key))
    }
}

impl Store {
    /// Deletes a worker's copy of the organisation key.
    pub async fn remove_organisation_key(
        &self,
        organisation_id: OrganisationId,
        user_id: UserId,
    ) -> Result<(), StoreError> {
        organisation_key::Entity::delete_by_id((organisation_id.0, user_id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
