//! Organisations and their key pairs, sealed to each active worker.

use chrono::{DateTime, Utc};
use kinlink_core::{OrganisationId, UserId};
use sea_orm::{
    ActiveValue::{Set, Unchanged},
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::entity::{case_note, conversation_key, organisation, organisation_key};
use crate::{Store, StoreError};

/// Default retention period: three years of inactivity.
pub const DEFAULT_RETENTION_DAYS: i32 = 3 * 365;

/// An organisation to insert.
pub struct NewOrganisation {
    pub id: OrganisationId,
    pub name: String,
    pub kind: String,
    pub licence_starts_at: Option<DateTime<Utc>>,
    pub licence_expires_at: Option<DateTime<Utc>>,
    pub retention_days: i32,
    pub families_edit_profiles: bool,
    pub public_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// New licence and retention terms of an organisation.
pub struct OrganisationTerms {
    pub name: String,
    pub licence_starts_at: Option<DateTime<Utc>>,
    pub licence_expires_at: Option<DateTime<Utc>>,
    pub retention_days: i32,
    pub families_edit_profiles: bool,
}

impl Store {
    /// Inserts an organisation.
    pub async fn create_organisation(&self, new: NewOrganisation) -> Result<(), StoreError> {
        let row = organisation::ActiveModel {
            id: Set(new.id.0),
            name: Set(new.name),
            kind: Set(new.kind),
            licence_starts_at: Set(new.licence_starts_at),
            licence_expires_at: Set(new.licence_expires_at),
            retention_days: Set(new.retention_days),
            families_edit_profiles: Set(new.families_edit_profiles),
            public_key: Set(new.public_key),
            created_at: Set(new.created_at),
        };
        organisation::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Lists every organisation's id and name.
    pub async fn organisation_names(&self) -> Result<Vec<(OrganisationId, String)>, StoreError> {
        Ok(organisation::Entity::find()
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| (OrganisationId(row.id), row.name))
            .collect())
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

    /// Lists every organisation, by name.
    pub async fn organisations(&self) -> Result<Vec<organisation::Model>, StoreError> {
        Ok(organisation::Entity::find()
            .order_by_asc(organisation::Column::Name)
            .order_by_asc(organisation::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Replaces an organisation's name, licence dates, retention period and
    /// profile setting.
    pub async fn set_organisation_terms(
        &self,
        id: OrganisationId,
        terms: OrganisationTerms,
    ) -> Result<organisation::Model, StoreError> {
        let row = organisation::ActiveModel {
            id: Unchanged(id.0),
            name: Set(terms.name),
            licence_starts_at: Set(terms.licence_starts_at),
            licence_expires_at: Set(terms.licence_expires_at),
            retention_days: Set(terms.retention_days),
            families_edit_profiles: Set(terms.families_edit_profiles),
            ..Default::default()
        };
        match organisation::Entity::update(row).exec(&self.db).await {
            Ok(model) => Ok(model),
            Err(sea_orm::DbErr::RecordNotUpdated) => Err(StoreError::NotFound {
                what: "organisation",
            }),
            Err(other) => Err(other.into()),
        }
    }

    /// Counts the workers who hold a copy of the organisation's key.
    pub async fn organisation_key_holders(
        &self,
        organisation: OrganisationId,
    ) -> Result<u64, StoreError> {
        Ok(organisation_key::Entity::find()
            .filter(organisation_key::Column::OrganisationId.eq(organisation.0))
            .count(&self.db)
            .await?)
    }

    /// Returns whether anything was ever sealed to the organisation's public
    /// key: a conversation key or a case note.
    pub async fn organisation_key_in_use(
        &self,
        organisation: OrganisationId,
    ) -> Result<bool, StoreError> {
        let conversation_keys = conversation_key::Entity::find()
            .filter(conversation_key::Column::RecipientKind.eq("organisation"))
            .filter(conversation_key::Column::RecipientId.eq(organisation.0))
            .count(&self.db)
            .await?;
        let notes = case_note::Entity::find()
            .filter(case_note::Column::OrganisationId.eq(organisation.0))
            .count(&self.db)
            .await?;
        Ok(conversation_keys + notes > 0)
    }

    /// Gives an organisation that no worker has a key for a new key pair:
    /// stores its public half and its private half sealed to the first
    /// manager, in one transaction. Fails with a conflict, writing nothing,
    /// when a worker has a key already.
    pub async fn found_organisation_key(
        &self,
        organisation: OrganisationId,
        public_key: Vec<u8>,
        manager: UserId,
        sealed_private_key: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let transaction = self.begin_write().await?;
        let holders = organisation_key::Entity::find()
            .filter(organisation_key::Column::OrganisationId.eq(organisation.0))
            .count(&*transaction)
            .await?;
        if holders > 0 {
            transaction.rollback().await?;
            return Err(StoreError::Conflict {
                what: "organisation key",
            });
        }
        organisation::Entity::update(organisation::ActiveModel {
            id: Unchanged(organisation.0),
            public_key: Set(public_key),
            ..Default::default()
        })
        .exec(&*transaction)
        .await?;
        organisation_key::Entity::insert(organisation_key::ActiveModel {
            organisation_id: Set(organisation.0),
            user_id: Set(manager.0),
            sealed_private_key: Set(sealed_private_key),
            created_at: Set(now),
        })
        .exec_without_returning(&*transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
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
