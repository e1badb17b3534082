//! Invitations for workers: created by a manager of the organisation,
//! accepted once through the link token after the invited person has set
//! up their second factor, and approved by a manager.

use chrono::{DateTime, Utc};
use kinlink_core::notices::Template;
use kinlink_core::permissions::Role;
use kinlink_core::{OrganisationId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{case, email_outbox, membership, recovery_code, user, worker_invitation};
use crate::invitations::InvitationProblem;
use crate::outbox::{NewEmail, outbox_row};
use crate::users::NewUser;
use crate::{Store, StoreError};

/// An account that an accepted worker invitation creates.
pub struct AcceptedWorker {
    pub user: NewUser,
    pub role: Role,
    /// Hashes of the one-time recovery codes handed out with the account.
    pub recovery_code_hashes: Vec<[u8; 32]>,
    /// The second-factor time step the enrolment code used, so that code
    /// cannot also sign in.
    pub totp_step: i64,
}

/// A worker of an organisation, for its managers' list.
#[derive(Debug, Clone)]
pub struct Worker {
    pub user_id: UserId,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Stores a worker invitation and queues its email, in one transaction.
    pub async fn create_worker_invitation(
        &self,
        row: worker_invitation::Model,
    ) -> Result<(), StoreError> {
        let transaction = self.begin_write().await?;
        let mut email = outbox_row(NewEmail {
            id: uuid::Uuid::now_v7(),
            user_id: UserId(row.invited_by),
            template: if row.role == Role::Adopter.as_str() {
                Template::FamilyInvitation
            } else {
                Template::WorkerInvitation
            },
            link_path: String::new(),
            send_after: row.created_at,
            created_at: row.created_at,
        });
        email.invitation_id = Set(Some(row.id));
        worker_invitation::Entity::insert(worker_invitation::ActiveModel {
            id: Set(row.id),
            organisation_id: Set(row.organisation_id),
            invited_by: Set(row.invited_by),
            email: Set(row.email),
            display_name: Set(row.display_name),
            role: Set(row.role),
            token_hash: Set(None),
            enrolment_sealed_secret: Set(None),
            created_at: Set(row.created_at),
            expires_at: Set(row.expires_at),
            accepted_at: Set(None),
            user_id: Set(None),
            case_id: Set(row.case_id),
        })
        .exec_without_returning(&*transaction)
        .await?;
        email_outbox::Entity::insert(email)
            .exec_without_returning(&*transaction)
            .await?;
        Ok(transaction.commit().await?)
    }

    /// Lists an organisation's worker invitations, newest first.
    pub async fn worker_invitations_of(
        &self,
        organisation: OrganisationId,
    ) -> Result<Vec<worker_invitation::Model>, StoreError> {
        Ok(worker_invitation::Entity::find()
            .filter(worker_invitation::Column::OrganisationId.eq(organisation.0))
            .filter(worker_invitation::Column::Role.ne(Role::Adopter.as_str()))
            .order_by_desc(worker_invitation::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// Ends every waiting invitation of a family to keep the profile of
    /// `case_id`, so its link no longer works; returns whether one waited.
    pub async fn withdraw_family_invitations(
        &self,
        case_id: uuid::Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = worker_invitation::Entity::update_many()
            .col_expr(worker_invitation::Column::ExpiresAt, Expr::value(now))
            .filter(worker_invitation::Column::CaseId.eq(case_id))
            .filter(worker_invitation::Column::AcceptedAt.is_null())
            .filter(worker_invitation::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected > 0)
    }

    /// Returns the newest invitation of a family to keep the profile of
    /// `case_id`.
    pub async fn family_invitation_of_case(
        &self,
        case_id: uuid::Uuid,
    ) -> Result<Option<worker_invitation::Model>, StoreError> {
        Ok(worker_invitation::Entity::find()
            .filter(worker_invitation::Column::CaseId.eq(case_id))
            .order_by_desc(worker_invitation::Column::CreatedAt)
            .one(&self.db)
            .await?)
    }

    /// Returns whether a worker invitation to `email` is still open.
    pub async fn open_worker_invitation_for(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found = worker_invitation::Entity::find()
            .filter(worker_invitation::Column::Email.eq(email))
            .filter(worker_invitation::Column::AcceptedAt.is_null())
            .filter(worker_invitation::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?;
        Ok(found.is_some())
    }

    /// Finds the worker invitation whose latest link token hashes to
    /// `hash`: `None` when no worker invitation has it, else the invitation
    /// or why it cannot be used.
    pub async fn worker_invitation_by_token(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<Result<worker_invitation::Model, InvitationProblem>>, StoreError> {
        let found = worker_invitation::Entity::find()
            .filter(worker_invitation::Column::TokenHash.eq(hash.to_vec()))
            .one(&self.db)
            .await?;
        Ok(found.map(|row| {
            if row.accepted_at.is_some() {
                Err(InvitationProblem::Used)
            } else if row.expires_at <= now {
                Err(InvitationProblem::Expired)
            } else {
                Ok(row)
            }
        }))
    }

    /// Keeps the second-factor secret offered for an open invitation,
    /// sealed; a later offer replaces it. Returns `false` when the
    /// invitation was used, has expired or has a newer link meanwhile.
    pub async fn offer_enrolment(
        &self,
        id: uuid::Uuid,
        hash: &[u8],
        sealed_secret: Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = worker_invitation::Entity::update_many()
            .col_expr(
                worker_invitation::Column::EnrolmentSealedSecret,
                Expr::value(sealed_secret),
            )
            .filter(worker_invitation::Column::Id.eq(id))
            .filter(worker_invitation::Column::TokenHash.eq(hash.to_vec()))
            .filter(worker_invitation::Column::AcceptedAt.is_null())
            .filter(worker_invitation::Column::ExpiresAt.gt(now))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Accepts a worker invitation: marks it used and creates the pending
    /// account, its membership and its recovery codes, in one transaction.
    /// The conditional update lets one request win; returns `false`,
    /// writing nothing, for the others.
    pub async fn accept_worker_invitation(
        &self,
        invitation: &worker_invitation::Model,
        hash: &[u8],
        accepted: AcceptedWorker,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        let user_id = accepted.user.id;
        let taken = worker_invitation::Entity::update_many()
            .col_expr(worker_invitation::Column::AcceptedAt, Expr::value(now))
            .col_expr(worker_invitation::Column::UserId, Expr::value(user_id.0))
            .col_expr(
                worker_invitation::Column::EnrolmentSealedSecret,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .filter(worker_invitation::Column::Id.eq(invitation.id))
            .filter(worker_invitation::Column::TokenHash.eq(hash.to_vec()))
            .filter(worker_invitation::Column::AcceptedAt.is_null())
            .filter(worker_invitation::Column::ExpiresAt.gt(now))
            .exec(&*transaction)
            .await?;
        if taken.rows_affected != 1 {
            transaction.rollback().await?;
            return Ok(false);
        }
        crate::users::insert_user(&*transaction, accepted.user).await?;
        user::Entity::update_many()
            .col_expr(user::Column::TotpLastStep, Expr::value(accepted.totp_step))
            .filter(user::Column::Id.eq(user_id.0))
            .exec(&*transaction)
            .await?;
        crate::users::insert_membership(
            &*transaction,
            user_id,
            OrganisationId(invitation.organisation_id),
            accepted.role,
            None,
            now,
        )
        .await?;
        if let Some(case_id) = invitation.case_id {
            // The case must still be a family case of the organisation
            // with no account linked.
            let linked = case::Entity::update_many()
                .col_expr(case::Column::FamilyUserId, Expr::value(user_id.0))
                .filter(case::Column::Id.eq(case_id))
                .filter(case::Column::OrganisationId.eq(invitation.organisation_id))
                .filter(case::Column::Kind.eq("family"))
                .filter(case::Column::FamilyUserId.is_null())
                .exec(&*transaction)
                .await?;
            if linked.rows_affected != 1 {
                transaction.rollback().await?;
                return Err(StoreError::Conflict {
                    what: "family account of the case",
                });
            }
        }
        if accepted.recovery_code_hashes.is_empty() {
            transaction.commit().await?;
            return Ok(true);
        }
        let codes =
            accepted
                .recovery_code_hashes
                .into_iter()
                .map(|hash| recovery_code::ActiveModel {
                    user_id: Set(user_id.0),
                    code_hash: Set(hash.to_vec()),
                    used_at: Set(None),
                });
        recovery_code::Entity::insert_many(codes)
            .exec_without_returning(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Lists the workers of an organisation (its managers and
    /// practitioners), whatever their status, by name.
    pub async fn workers_of(
        &self,
        organisation: OrganisationId,
    ) -> Result<Vec<Worker>, StoreError> {
        let memberships = membership::Entity::find()
            .filter(membership::Column::OrganisationId.eq(organisation.0))
            .filter(membership::Column::Role.is_in([
                Role::Manager.as_str(),
                Role::Practitioner.as_str(),
                Role::Moderator.as_str(),
            ]))
            .all(&self.db)
            .await?;
        let accounts = user::Entity::find()
            .filter(user::Column::Id.is_in(memberships.iter().map(|row| row.user_id)))
            .all(&self.db)
            .await?;
        let mut workers: Vec<Worker> = memberships
            .into_iter()
            .filter_map(|membership| {
                let role = Role::parse(&membership.role)?;
                let account = accounts.iter().find(|a| a.id == membership.user_id)?;
                Some(Worker {
                    user_id: UserId(account.id),
                    display_name: account.display_name.clone(),
                    email: account.email.clone(),
                    role,
                    status: account.status.clone(),
                    created_at: account.created_at,
                })
            })
            .collect();
        workers.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        Ok(workers)
    }
}
