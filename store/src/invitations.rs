//! Invitations into a contact link: created by the supervising
//! practitioner with their email, accepted once through the link token,
//! confirmed by the practitioner who invited.

use chrono::{DateTime, Utc};
use kinlink_core::notices::Template;
use kinlink_core::{ConversationId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entity::{email_outbox, invitation};
use crate::outbox::{NewEmail, outbox_row};
use crate::users::NewUser;
use crate::{Store, StoreError};

/// The reason an invitation's link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationProblem {
    /// No invitation has this token: a mistyped link, or one that a newer
    /// invitation email replaced.
    Unknown,
    /// The link was used already.
    Used,
    /// The seven days are over.
    Expired,
}

impl Store {
    /// Stores an invitation and queues its email, in one transaction.
    pub async fn create_invitation(&self, row: invitation::Model) -> Result<(), StoreError> {
        let transaction = self.begin_write().await?;
        let email_id = uuid::Uuid::now_v7();
        let mut email = outbox_row(NewEmail {
            id: email_id,
            user_id: UserId(row.invited_by),
            template: Template::Invitation,
            link_path: String::new(),
            send_after: row.created_at,
            created_at: row.created_at,
        });
        email.invitation_id = Set(Some(row.id));
        invitation::Entity::insert(invitation::ActiveModel {
            id: Set(row.id),
            conversation_id: Set(row.conversation_id),
            invited_by: Set(row.invited_by),
            email: Set(row.email),
            display_name: Set(row.display_name),
            side: Set(row.side),
            relationship: Set(row.relationship),
            token_hash: Set(None),
            created_at: Set(row.created_at),
            expires_at: Set(row.expires_at),
            accepted_at: Set(None),
            user_id: Set(None),
            confirmed_at: Set(None),
        })
        .exec_without_returning(&*transaction)
        .await?;
        email_outbox::Entity::insert(email)
            .exec_without_returning(&*transaction)
            .await?;
        Ok(transaction.commit().await?)
    }

    /// Lists a link's invitations, newest first.
    pub async fn invitations_of(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Vec<invitation::Model>, StoreError> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::ConversationId.eq(conversation_id.0))
            .order_by_desc(invitation::Column::CreatedAt)
            .all(&self.db)
            .await?)
    }

    /// Returns whether an invitation to `email` is still open anywhere.
    pub async fn open_invitation_for(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let found = invitation::Entity::find()
            .filter(invitation::Column::Email.eq(email))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .one(&self.db)
            .await?;
        Ok(found.is_some())
    }

    /// Finds the invitation whose latest link token hashes to `hash`, if
    /// it can still be accepted.
    pub async fn invitation_by_token(
        &self,
        hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Result<invitation::Model, InvitationProblem>, StoreError> {
        let found = invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(hash.to_vec()))
            .one(&self.db)
            .await?;
        Ok(match found {
            None => Err(InvitationProblem::Unknown),
            Some(row) if row.accepted_at.is_some() => Err(InvitationProblem::Used),
            Some(row) if row.expires_at <= now => Err(InvitationProblem::Expired),
            Some(row) => Ok(row),
        })
    }

    /// Accepts an invitation: creates the pending account and marks the
    /// invitation used, in one transaction. The token's hash stays, so a
    /// second use of the link is told that it was used. The conditional update on the
    /// token, the accepted time and the expiry lets one request win;
    /// returns `false`, writing nothing, for the others.
    pub async fn accept_invitation(
        &self,
        invitation: &invitation::Model,
        hash: &[u8],
        user: NewUser,
        membership: (
            kinlink_core::OrganisationId,
            kinlink_core::permissions::Role,
        ),
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let transaction = self.begin_write().await?;
        let user_id = user.id;
        let taken = invitation::Entity::update_many()
            .col_expr(invitation::Column::AcceptedAt, Expr::value(now))
            .col_expr(invitation::Column::UserId, Expr::value(user_id.0))
            .filter(invitation::Column::Id.eq(invitation.id))
            .filter(invitation::Column::TokenHash.eq(hash.to_vec()))
            .filter(invitation::Column::AcceptedAt.is_null())
            .filter(invitation::Column::ExpiresAt.gt(now))
            .exec(&*transaction)
            .await?;
        if taken.rows_affected != 1 {
            transaction.rollback().await?;
            return Ok(false);
        }
        crate::users::insert_user(&*transaction, user).await?;
        crate::users::insert_membership(
            &*transaction,
            user_id,
            membership.0,
            membership.1,
            Some(UserId(invitation.invited_by)),
            now,
        )
        .await?;
        transaction.commit().await?;
        Ok(true)
    }

    /// Finds the accepted invitation that created an account.
    pub async fn invitation_of_user(
        &self,
        user_id: UserId,
    ) -> Result<Option<invitation::Model>, StoreError> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::UserId.eq(user_id.0))
            .one(&self.db)
            .await?)
    }
}

/// The rows that confirming an invited person adds to their contact link.
#[derive(Debug, Clone)]
pub struct Joining {
    pub invitation_id: uuid::Uuid,
    pub conversation_id: ConversationId,
    pub user_id: UserId,
    /// The link's key of each epoch, sealed to the new member.
    pub sealed_keys: Vec<(i32, Vec<u8>)>,
    /// Their side and relationship, for the agreement's parties.
    pub party: (String, String),
}

impl Store {
    /// Adds a confirmed invitee to their contact link, with the link's keys
    /// and their place among the agreement's parties, in one transaction.
    pub async fn join_link(&self, joining: Joining, now: DateTime<Utc>) -> Result<(), StoreError> {
        use crate::conversations::KeyRecipient;
        use crate::entity::{
            agreement_party, contact_agreement, conversation_key, conversation_member,
        };
        let conversation = joining.conversation_id.0;
        let transaction = self.begin_write().await?;
        conversation_member::Entity::insert(conversation_member::ActiveModel {
            conversation_id: Set(conversation),
            user_id: Set(joining.user_id.0),
            role: Set("participant".to_owned()),
            joined_at: Set(now),
            removed_at: Set(None),
            read_seq: Set(0),
        })
        .exec_without_returning(&*transaction)
        .await?;

        let (kind, id) = KeyRecipient::User(joining.user_id).parts();
        for (epoch, sealed) in joining.sealed_keys {
            conversation_key::Entity::insert(conversation_key::ActiveModel {
                conversation_id: Set(conversation),
                epoch: Set(epoch),
                recipient_kind: Set(kind.to_owned()),
                recipient_id: Set(id),
                sealed_key: Set(sealed),
            })
            .exec_without_returning(&*transaction)
            .await?;
        }

        let has_agreement = contact_agreement::Entity::find_by_id(conversation)
            .one(&*transaction)
            .await?
            .is_some();
        if has_agreement {
            agreement_party::Entity::insert(agreement_party::ActiveModel {
                conversation_id: Set(conversation),
                user_id: Set(joining.user_id.0),
                side: Set(joining.party.0),
                relationship: Set(joining.party.1),
            })
            .exec_without_returning(&*transaction)
            .await?;
        }
        invitation::Entity::update_many()
            .col_expr(invitation::Column::ConfirmedAt, Expr::value(now))
            .filter(invitation::Column::Id.eq(joining.invitation_id))
            .exec(&*transaction)
            .await?;
        Ok(transaction.commit().await?)
    }
}
