//! Platform-wide settings that must agree across nodes, such as the pinned
//! recovery public key.

use sea_orm::{ActiveValue::Set, EntityTrait};

use crate::entity::platform_setting;
use crate::{Store, StoreError};

impl Store {
    /// Reads a setting.
    pub async fn setting(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row = platform_setting::Entity::find_by_id(name.to_owned())
            .one(&self.db)
            .await?;
        Ok(row.map(|row| row.value))
    }

    /// Writes a setting once; a second writer gets a conflict.
    pub async fn insert_setting(&self, name: &str, value: Vec<u8>) -> Result<(), StoreError> {
        let row = platform_setting::ActiveModel {
            name: Set(name.to_owned()),
            value: Set(value),
        };
        match platform_setting::Entity::insert(row)
            .exec_without_returning(&self.db)
            .await
        {
            Ok(_) => Ok(()),
            Err(error) if crate::error::is_unique_violation(&error) => {
                Err(StoreError::Conflict { what: "setting" })
            }
            Err(error) => Err(error.into()),
        }
    }
}
