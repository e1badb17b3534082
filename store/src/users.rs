//! Accounts, their organisation memberships and one-time recovery codes.

use chrono::{DateTime, Utc};
use kinlink_core::notices::Preferences;
use kinlink_core::permissions::Role;
use kinlink_core::{OrganisationId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use crate::entity::{membership, recovery_code, user};
use crate::error::is_unique_violation;
use crate::{Store, StoreError};

/// The status of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountStatus {
    /// Registered or invited, waiting for the organisation to confirm.
    Pending,
    /// Confirmed; may sign in.
    Active,
    /// Disabled; every session has ended.
    Disabled,
}

impl AccountStatus {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Pending => "pending",
            AccountStatus::Active => "active",
            AccountStatus::Disabled => "disabled",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Result<Self, StoreError> {
        match name {
            "pending" => Ok(AccountStatus::Pending),
            "active" => Ok(AccountStatus::Active),
            "disabled" => Ok(AccountStatus::Disabled),
            _ => Err(StoreError::Corrupt {
                what: "account status",
            }),
        }
    }
}

/// Everything needed to create an account. Key material arrives sealed.
pub struct NewUser {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub status: AccountStatus,
    pub password_salt: Vec<u8>,
    pub auth_hash: Vec<u8>,
    pub public_key: Vec<u8>,
    pub sealed_private_key: Vec<u8>,
    pub recovery_sealed_private_key: Vec<u8>,
    pub totp_sealed_secret: Option<Vec<u8>>,
    pub invited_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    /// Whether they chose marketing email when the account was made.
    pub marketing_opt_in: bool,
}

/// One role a user holds in one organisation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub organisation_id: OrganisationId,
    pub role: Role,
}

/// Inserts a new account on `connection`; a taken email is a conflict.
pub(crate) async fn insert_user<C: ConnectionTrait>(
    connection: &C,
    new: NewUser,
) -> Result<(), StoreError> {
    let confirmed_at = (new.status == AccountStatus::Active).then_some(new.created_at);
    let defaults = Preferences::default();
    let row = user::ActiveModel {
        id: Set(new.id.0),
        email: Set(new.email),
        display_name: Set(new.display_name),
        status: Set(new.status.as_str().to_owned()),
        password_salt: Set(new.password_salt),
        auth_hash: Set(new.auth_hash),
        public_key: Set(new.public_key),
        sealed_private_key: Set(new.sealed_private_key),
        recovery_sealed_private_key: Set(new.recovery_sealed_private_key),
        totp_sealed_secret: Set(new.totp_sealed_secret),
        invited_by: Set(new.invited_by.map(|id| id.0)),
        created_at: Set(new.created_at),
        confirmed_at: Set(confirmed_at),
        last_sign_in_at: Set(None),
        totp_last_step: Set(None),
        notify_by: Set(defaults.delivery.as_str().to_owned()),
        digest_hour: Set(i32::try_from(defaults.digest_hour).unwrap_or(18)),
        time_zone: Set(defaults.time_zone.name().to_owned()),
        marketing_opt_in: Set(new.marketing_opt_in),
        marketing_changed_at: Set(new.marketing_opt_in.then_some(new.created_at)),
        marked_at: Set(None),
        mark_reason: Set(None),
        erased_at: Set(None),
    };
    match user::Entity::insert(row)
        .exec_without_returning(connection)
        .await
    {
        Ok(_) => Ok(()),
        Err(error) if is_unique_violation(&error) => Err(StoreError::Conflict { what: "email" }),
        Err(error) => Err(error.into()),
    }
}

/// Gives a user a role in an organisation, on `connection`.
pub(crate) async fn insert_membership<C: ConnectionTrait>(
    connection: &C,
    user_id: UserId,
    organisation_id: OrganisationId,
    role: Role,
    confirmed_by: Option<UserId>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let row = membership::ActiveModel {
        user_id: Set(user_id.0),
        organisation_id: Set(organisation_id.0),
        role: Set(role.as_str().to_owned()),
        confirmed_by: Set(confirmed_by.map(|id| id.0)),
        created_at: Set(now),
    };
    membership::Entity::insert(row)
        .exec_without_returning(connection)
        .await?;
    Ok(())
}

impl Store {
    /// Inserts a new account; a taken email is a conflict.
    pub async fn create_user(&self, new: NewUser) -> Result<(), StoreError> {
        insert_user(&self.db, new).await
    }

    /// Finds an account by its normalised email.
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<user::Model>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Email.eq(email))
            .one(&self.db)
            .await?)
    }

    /// Loads an account.
    pub async fn user(&self, id: UserId) -> Result<user::Model, StoreError> {
        user::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound { what: "user" })
    }

    /// Lists the roles a user holds, in every organisation.
    pub async fn grants(&self, id: UserId) -> Result<Vec<Grant>, StoreError> {
        let rows = membership::Entity::find()
            .filter(membership::Column::UserId.eq(id.0))
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let role = Role::parse(&row.role).ok_or(StoreError::Corrupt { what: "role" })?;
                Ok(Grant {
                    organisation_id: OrganisationId(row.organisation_id),
                    role,
                })
            })
            .collect()
    }

    /// Gives a user a role in an organisation.
    pub async fn add_membership(
        &self,
        user_id: UserId,
        organisation_id: OrganisationId,
        role: Role,
        confirmed_by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        insert_membership(&self.db, user_id, organisation_id, role, confirmed_by, now).await
    }

    /// Changes an account's status.
    pub async fn set_user_status(
        &self,
        id: UserId,
        status: AccountStatus,
    ) -> Result<(), StoreError> {
        let result = user::Entity::update_many()
            .col_expr(user::Column::Status, Expr::value(status.as_str()))
            .filter(user::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound { what: "user" });
        }
        Ok(())
    }

    /// Records a successful sign-in.
    pub async fn record_sign_in(&self, id: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
        user::Entity::update_many()
            .col_expr(user::Column::LastSignInAt, Expr::value(at))
            .filter(user::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Replaces the password-derived values after a password change; the
    /// private key itself is unchanged, only re-sealed.
    pub async fn update_password(
        &self,
        id: UserId,
        password_salt: Vec<u8>,
        auth_hash: Vec<u8>,
        sealed_private_key: Vec<u8>,
        totp_sealed_secret: Option<Vec<u8>>,
    ) -> Result<(), StoreError> {
        user::Entity::update_many()
            .col_expr(user::Column::PasswordSalt, Expr::value(password_salt))
            .col_expr(user::Column::AuthHash, Expr::value(auth_hash))
            .col_expr(
                user::Column::SealedPrivateKey,
                Expr::value(sealed_private_key),
            )
            .col_expr(
                user::Column::TotpSealedSecret,
                Expr::value(totp_sealed_secret),
            )
            .filter(user::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Stores the hashes of a user's one-time recovery codes.
    pub async fn add_recovery_codes(
        &self,
        id: UserId,
        hashes: Vec<[u8; 32]>,
    ) -> Result<(), StoreError> {
        let rows = hashes.into_iter().map(|hash| recovery_code::ActiveModel {
            user_id: Set(id.0),
            code_hash: Set(hash.to_vec()),
            used_at: Set(None),
        });
        recovery_code::Entity::insert_many(rows)
            .exec_without_returning(&self.db)
            .await?;
        Ok(())
    }

    /// Replaces all of a user's recovery codes, used or not, with new ones,
    /// in one transaction.
    pub async fn replace_recovery_codes(
        &self,
        id: UserId,
        hashes: Vec<[u8; 32]>,
    ) -> Result<(), StoreError> {
        let transaction = self.begin_write().await?;
        recovery_code::Entity::delete_many()
            .filter(recovery_code::Column::UserId.eq(id.0))
            .exec(&*transaction)
            .await?;
        let rows = hashes.into_iter().map(|hash| recovery_code::ActiveModel {
            user_id: Set(id.0),
            code_hash: Set(hash.to_vec()),
            used_at: Set(None),
        });
        recovery_code::Entity::insert_many(rows)
            .exec_without_returning(&*transaction)
            .await?;
        Ok(transaction.commit().await?)
    }

    /// Spends a recovery code; returns false when it is unknown or used.
    pub async fn spend_recovery_code(
        &self,
        id: UserId,
        hash: [u8; 32],
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = recovery_code::Entity::update_many()
            .col_expr(recovery_code::Column::UsedAt, Expr::value(at))
            .filter(recovery_code::Column::UserId.eq(id.0))
            .filter(recovery_code::Column::CodeHash.eq(hash.to_vec()))
            .filter(recovery_code::Column::UsedAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

impl Store {
    /// Records the TOTP time step a sign-in used; returns false when that
    /// step or a later one was used already, which makes the code a replay.
    pub async fn use_totp_step(&self, id: UserId, step: i64) -> Result<bool, StoreError> {
        let result = user::Entity::update_many()
            .col_expr(user::Column::TotpLastStep, Expr::value(step))
            .filter(user::Column::Id.eq(id.0))
            .filter(
                user::Column::TotpLastStep
                    .is_null()
                    .or(user::Column::TotpLastStep.lt(step)),
            )
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Marks a pending account confirmed.
    pub async fn confirm_user(
        &self,
        id: UserId,
        by: UserId,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        user::Entity::update_many()
            .col_expr(
                user::Column::Status,
                Expr::value(AccountStatus::Active.as_str()),
            )
            .col_expr(user::Column::ConfirmedAt, Expr::value(at))
            .filter(user::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        membership::Entity::update_many()
            .col_expr(membership::Column::ConfirmedBy, Expr::value(by.0))
            .filter(membership::Column::UserId.eq(id.0))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}
