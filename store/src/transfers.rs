//! Case transfer: a case, with its discussions, moves from one organisation
//! to another in one transaction.

use chrono::{DateTime, NaiveDate, Utc};
use kinlink_core::{ConversationId, OrganisationId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};

use crate::conversations::KeyRecipient;
use crate::entity::{
    case, case_share, case_transfer, conversation, conversation_key, conversation_member, interest,
    worker_invitation,
};
use crate::{Store, StoreError};

/// The changes a transfer makes to one discussion about the case.
pub struct Handover {
    pub conversation_id: ConversationId,
    /// The epoch the conversation is at now; the transfer fails if the key
    /// moved on meanwhile.
    pub from_epoch: i32,
    /// The keys of every epoch so far, sealed to the new readers, so they
    /// can read the whole history.
    pub history_keys: Vec<(i32, KeyRecipient, Vec<u8>)>,
    /// A fresh key for the next epoch, sealed to everyone who keeps or gains
    /// access, so the sending organisation cannot read what follows.
    pub next_keys: Vec<(KeyRecipient, Vec<u8>)>,
    pub removed_members: Vec<UserId>,
    pub added_members: Vec<UserId>,
    /// The organisation whose copies of the key are deleted, when it has no
    /// other case in the discussion.
    pub removed_organisation: Option<OrganisationId>,
    /// The conversation's new owning organisation, when the sending one
    /// owned it.
    pub new_owner: Option<OrganisationId>,
}

/// A transfer to store.
pub struct NewTransfer {
    pub id: uuid::Uuid,
    pub case_id: uuid::Uuid,
    pub from: OrganisationId,
    pub to: OrganisationId,
    pub transferred_by: UserId,
    pub approval_reference: String,
    pub approved_on: NaiveDate,
    pub at: DateTime<Utc>,
    pub handovers: Vec<Handover>,
}

impl Store {
    /// Moves a case and its discussions to another organisation, or fails
    /// with a conflict, having changed nothing, when the case or a
    /// discussion's key changed meanwhile.
    pub async fn transfer_case(
        &self,
        transfer: NewTransfer,
    ) -> Result<case_transfer::Model, StoreError> {
        let transaction = self.begin_write().await?;
        let moved = case::Entity::update_many()
            .col_expr(case::Column::OrganisationId, Expr::value(transfer.to.0))
            .col_expr(case::Column::Visibility, Expr::value("draft"))
            // A family that kept its own profile did so with the sending
            // organisation; the receiving one invites it again if it wants.
            .col_expr(
                case::Column::FamilyUserId,
                Expr::value(Option::<uuid::Uuid>::None),
            )
            .col_expr(case::Column::UpdatedAt, Expr::value(transfer.at))
            .col_expr(case::Column::LastActivityAt, Expr::value(transfer.at))
            .filter(case::Column::Id.eq(transfer.case_id))
            .filter(case::Column::OrganisationId.eq(transfer.from.0))
            // A case marked to go meanwhile is not found, like everywhere.
            .filter(case::Column::MarkedAt.is_null())
            .exec(&*transaction)
            .await?;
        if moved.rows_affected == 0 {
            transaction.rollback().await?;
            return Err(StoreError::Conflict { what: "case owner" });
        }
        worker_invitation::Entity::update_many()
            .col_expr(
                worker_invitation::Column::ExpiresAt,
                Expr::value(transfer.at),
            )
            .filter(worker_invitation::Column::CaseId.eq(transfer.case_id))
            .filter(worker_invitation::Column::AcceptedAt.is_null())
            .filter(worker_invitation::Column::ExpiresAt.gt(transfer.at))
            .exec(&*transaction)
            .await?;
        case_share::Entity::delete_many()
            .filter(case_share::Column::CaseId.eq(transfer.case_id))
            .exec(&*transaction)
            .await?;
        // A discussion opened since the caller listed them would stay with
        // the sending organisation.
        let discussions = interest::Entity::find()
            .filter(
                Condition::any()
                    .add(interest::Column::ChildCaseId.eq(transfer.case_id))
                    .add(interest::Column::FamilyCaseId.eq(transfer.case_id)),
            )
            .count(&*transaction)
            .await?;
        if discussions != transfer.handovers.len() as u64 {
            transaction.rollback().await?;
            return Err(StoreError::Conflict {
                what: "discussions",
            });
        }

        for handover in transfer.handovers {
            let id = handover.conversation_id.0;
            let next_epoch = handover.from_epoch + 1;
            let mut bump = conversation::Entity::update_many()
                .col_expr(conversation::Column::KeyEpoch, Expr::value(next_epoch))
                .filter(conversation::Column::Id.eq(id))
                .filter(conversation::Column::KeyEpoch.eq(handover.from_epoch));
            if let Some(owner) = handover.new_owner {
                bump = bump.col_expr(conversation::Column::OrganisationId, Expr::value(owner.0));
            }
            if bump.exec(&*transaction).await?.rows_affected == 0 {
                transaction.rollback().await?;
                return Err(StoreError::Conflict { what: "key epoch" });
            }
            if let Some(organisation) = handover.removed_organisation {
                conversation_key::Entity::delete_many()
                    .filter(conversation_key::Column::ConversationId.eq(id))
                    .filter(conversation_key::Column::RecipientKind.eq("organisation"))
                    .filter(conversation_key::Column::RecipientId.eq(organisation.0))
                    .exec(&*transaction)
                    .await?;
            }
            let next = handover
                .next_keys
                .into_iter()
                .map(|(recipient, sealed)| (next_epoch, recipient, sealed));
            let keys =
                handover
                    .history_keys
                    .into_iter()
                    .chain(next)
                    .map(|(epoch, recipient, sealed)| {
                        let (kind, recipient_id) = recipient.parts();
                        conversation_key::ActiveModel {
                            conversation_id: Set(id),
                            epoch: Set(epoch),
                            recipient_kind: Set(kind.to_owned()),
                            recipient_id: Set(recipient_id),
                            sealed_key: Set(sealed),
                        }
                    });
            conversation_key::Entity::insert_many(keys)
                .exec_without_returning(&*transaction)
                .await?;
            if !handover.removed_members.is_empty() {
                conversation_member::Entity::update_many()
                    .col_expr(
                        conversation_member::Column::RemovedAt,
                        Expr::value(transfer.at),
                    )
                    .filter(conversation_member::Column::ConversationId.eq(id))
                    .filter(
                        conversation_member::Column::UserId
                            .is_in(handover.removed_members.iter().map(|user| user.0)),
                    )
                    .filter(conversation_member::Column::RemovedAt.is_null())
                    .exec(&*transaction)
                    .await?;
            }
            for member in handover.added_members {
                // A worker who was a member before comes back in the same row.
                conversation_member::Entity::delete_many()
                    .filter(conversation_member::Column::ConversationId.eq(id))
                    .filter(conversation_member::Column::UserId.eq(member.0))
                    .exec(&*transaction)
                    .await?;
                conversation_member::Entity::insert(conversation_member::ActiveModel {
                    conversation_id: Set(id),
                    user_id: Set(member.0),
                    role: Set("participant".to_owned()),
                    joined_at: Set(transfer.at),
                    removed_at: Set(None),
                    read_seq: Set(0),
                })
                .exec_without_returning(&*transaction)
                .await?;
            }
        }

        let row = case_transfer::Model {
            id: transfer.id,
            case_id: transfer.case_id,
            from_organisation_id: transfer.from.0,
            to_organisation_id: transfer.to.0,
            transferred_by: transfer.transferred_by.0,
            approval_reference: transfer.approval_reference,
            approved_on: transfer.approved_on,
            transferred_at: transfer.at,
        };
        case_transfer::Entity::insert(case_transfer::ActiveModel {
            id: Set(row.id),
            case_id: Set(row.case_id),
            from_organisation_id: Set(row.from_organisation_id),
            to_organisation_id: Set(row.to_organisation_id),
            transferred_by: Set(row.transferred_by),
            approval_reference: Set(row.approval_reference.clone()),
            approved_on: Set(row.approved_on),
            transferred_at: Set(row.transferred_at),
        })
        .exec_without_returning(&*transaction)
        .await?;
        transaction.commit().await?;
        Ok(row)
    }

    /// Lists the transfers into and out of an organisation, newest first,
    /// leaving out those of a case marked to go.
    pub async fn organisation_transfers(
        &self,
        organisation: OrganisationId,
    ) -> Result<Vec<case_transfer::Model>, StoreError> {
        Ok(case_transfer::Entity::find()
            .filter(
                Condition::any()
                    .add(case_transfer::Column::FromOrganisationId.eq(organisation.0))
                    .add(case_transfer::Column::ToOrganisationId.eq(organisation.0)),
            )
            .filter(case_transfer::Column::CaseId.not_in_subquery(crate::interests::marked_cases()))
            .order_by_desc(case_transfer::Column::TransferredAt)
            .order_by_desc(case_transfer::Column::Id)
            .all(&self.db)
            .await?)
    }

    /// Returns whether a case was ever transferred away from an
    /// organisation.
    pub async fn transferred_away_from(
        &self,
        case_id: uuid::Uuid,
        organisation: OrganisationId,
    ) -> Result<bool, StoreError> {
        Ok(case_transfer::Entity::find()
            .filter(case_transfer::Column::CaseId.eq(case_id))
            .filter(case_transfer::Column::FromOrganisationId.eq(organisation.0))
            .one(&self.db)
            .await?
            .is_some())
    }
}
