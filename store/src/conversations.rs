//! Conversations, members, sealed conversation keys, messages and read
//! receipts.
//!
//! A message's sequence number comes from the conversation row's counter,
//! incremented in the transaction that inserts the message, so numbers are
//! gap-free per conversation and unique across nodes. The message id is
//! unique per conversation, which makes a resend idempotent.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use kinlink_core::{ConversationId, MessageId, OrganisationId, UserId};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};

use crate::entity::{
    conversation, conversation_key, conversation_member, message, read_receipt, user,
};
use crate::{Store, StoreError};

/// The two kinds of conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConversationKind {
    /// A letterbox contact link between an adoptive and a birth family.
    ContactLink,
    /// A discussion thread between organisations.
    Discussion,
}

impl ConversationKind {
    /// Returns the stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::ContactLink => "contact_link",
            ConversationKind::Discussion => "discussion",
        }
    }
}

/// Whose key a conversation key is sealed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRecipient {
    /// A member's own key pair.
    User(UserId),
    /// The owning organisation's key pair.
    Organisation(OrganisationId),
}

impl KeyRecipient {
    pub(crate) fn parts(self) -> (&'static str, uuid::Uuid) {
        match self {
            KeyRecipient::User(id) => ("user", id.0),
            KeyRecipient::Organisation(id) => ("organisation", id.0),
        }
    }
}

/// A conversation to create, with its first members and epoch-0 keys.
pub struct NewConversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub organisation_id: OrganisationId,
    pub created_by: UserId,
    pub members: Vec<(UserId, &'static str)>,
    pub sealed_keys: Vec<(KeyRecipient, Vec<u8>)>,
    pub created_at: DateTime<Utc>,
}

/// A conversation as one member sees it in a list.
#[derive(Clone, Debug)]
pub struct ConversationSummary {
    pub conversation: conversation::Model,
    pub members: Vec<MemberView>,
    pub read_seq: i64,
    pub unread: u64,
}

/// A current member, with the name they are shown by.
#[derive(Clone, Debug)]
pub struct MemberView {
    pub user_id: UserId,
    pub display_name: String,
    pub role: String,
    pub read_seq: i64,
}

/// The result of appending a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub seq: i64,
    pub sent_at: DateTime<Utc>,
    /// True when the message id was stored already and nothing new was
    /// written.
    pub duplicate: bool,
}

/// A message to append. The ciphertext is already sealed by the sender's
/// session.
pub struct NewMessage {
    pub conversation_id: ConversationId,
    pub message_id: MessageId,
    pub sender_id: UserId,
    pub key_epoch: i32,
    pub ciphertext: Vec<u8>,
    pub sent_at: DateTime<Utc>,
    /// The files the message carries. They become visible to the other
    /// members in the transaction that stores the message, and only then.
    pub attachments: Vec<uuid::Uuid>,
}

/// The file categories a new conversation accepts: all of them.
pub const ALL_MEDIA: &str = "document,image,audio,video";

impl Store {
    /// Sets the file categories a conversation accepts.
    pub async fn set_accepted_media(
        &self,
        id: ConversationId,
        accepted: &str,
    ) -> Result<(), StoreError> {
        let result = conversation::Entity::update_many()
            .col_expr(conversation::Column::AcceptedMedia, Expr::value(accepted))
            .filter(conversation::Column::Id.eq(id.0))
            .exec(&self.db)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound {
                what: "conversation",
            });
        }
        Ok(())
    }

    /// Creates a conversation with its members and sealed keys, in one
    /// transaction.
    pub async fn create_conversation(&self, new: NewConversation) -> Result<(), StoreError> {
        let transaction = self.begin_write().await?;
        insert_conversation(&*transaction, new).await?;
        Ok(transaction.commit().await?)
    }

    /// Loads a conversation.
    pub async fn conversation(
        &self,
        id: ConversationId,
    ) -> Result<conversation::Model, StoreError> {
        conversation::Entity::find_by_id(id.0)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound {
                what: "conversation",
            })
    }

    /// Returns the user's current membership, if any. A discussion about
    /// a case marked to go has no members while the mark lasts.
    pub async fn active_membership(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
    ) -> Result<Option<conversation_member::Model>, StoreError> {
        Ok(conversation_member::Entity::find()
            .filter(conversation_member::Column::ConversationId.eq(conversation_id.0))
            .filter(conversation_member::Column::UserId.eq(user_id.0))
            .filter(conversation_member::Column::RemovedAt.is_null())
            .filter(
                conversation_member::Column::ConversationId.not_in_subquery(hidden_discussions()),
            )
            .one(&self.db)
            .await?)
    }

    /// Lists the ids of a conversation's current members.
    pub async fn member_ids(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Vec<UserId>, StoreError> {
        let ids: Vec<uuid::Uuid> = conversation_member::Entity::find()
            .select_only()
            .column(conversation_member::Column::UserId)
            .filter(conversation_member::Column::ConversationId.eq(conversation_id.0))
            .filter(conversation_member::Column::RemovedAt.is_null())
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(ids.into_iter().map(UserId).collect())
    }

    /// Loads the conversation key for one epoch as sealed to a recipient.
    pub async fn sealed_conversation_key(
        &self,
        conversation_id: ConversationId,
        epoch: i32,
        recipient: KeyRecipient,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (kind, id) = recipient.parts();
        let row =
            conversation_key::Entity::find_by_id((conversation_id.0, epoch, kind.to_owned(), id))
                .one(&self.db)
                .await?;
        Ok(row.map(|row| row.sealed_key))
    }

    /// Lists the current members with their display names.
    pub async fn members(
        &self,
        conversation_id: ConversationId,
    ) -> Result<Vec<MemberView>, StoreError> {
        let rows = conversation_member::Entity::find()
            .filter(conversation_member::Column::ConversationId.eq(conversation_id.0))
            .filter(conversation_member::Column::RemovedAt.is_null())
            .all(&self.db)
            .await?;
        let ids: Vec<uuid::Uuid> = rows.iter().map(|member| member.user_id).collect();
        let people = user::Entity::find()
            .filter(user::Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|member| {
                let display_name = people
                    .iter()
                    .find(|person| person.id == member.user_id)
                    .map(|person| person.display_name.clone())
                    .unwrap_or_default();
                MemberView {
                    user_id: UserId(member.user_id),
                    display_name,
                    role: member.role,
                    read_seq: member.read_seq,
                }
            })
            .collect())
    }

    /// Lists the conversations a user is a current member of, with unread
    /// counts, leaving out discussions about a case marked to go.
    pub async fn conversations_of(
        &self,
        user_id: UserId,
    ) -> Result<Vec<ConversationSummary>, StoreError> {
        let memberships = conversation_member::Entity::find()
            .filter(conversation_member::Column::UserId.eq(user_id.0))
            .filter(conversation_member::Column::RemovedAt.is_null())
            .filter(
                conversation_member::Column::ConversationId.not_in_subquery(hidden_discussions()),
            )
            .all(&self.db)
            .await?;

        let mut summaries = Vec::with_capacity(memberships.len());
        for membership in memberships {
            let id = ConversationId(membership.conversation_id);
            let conversation = self.conversation(id).await?;
            let unread = message::Entity::find()
                .filter(message::Column::ConversationId.eq(id.0))
                .filter(message::Column::Seq.gt(membership.read_seq))
                .filter(message::Column::SenderId.ne(user_id.0))
                .count(&self.db)
                .await?;
            summaries.push(ConversationSummary {
                conversation,
                members: self.members(id).await?,
                read_seq: membership.read_seq,
                unread,
            });
        }
        summaries.sort_by_key(|summary| std::cmp::Reverse(summary.conversation.last_seq));
        Ok(summaries)
    }

    /// Stores a message and allocates its sequence number. A message id
    /// the same sender stored already returns its first sequence number
    /// with `duplicate: true` and writes nothing; one another sender used is
    /// a conflict.
    pub async fn append_message(&self, new: &NewMessage) -> Result<Appended, StoreError> {
        // Insert first: a resend is rare, and the unique index on the
        // message id catches it without a lookup on every message.
        match self.insert_message(new).await {
            Ok(seq) => Ok(Appended {
                seq,
                sent_at: new.sent_at,
                duplicate: false,
            }),
            Err(error) if error.is_unique_violation() => {
                let existing = self
                    .message_by_id(new.conversation_id, new.message_id)
                    .await?
                    .ok_or(StoreError::NotFound { what: "message" })?;
                if existing.sender_id != new.sender_id.0 {
                    return Err(StoreError::Conflict { what: "message id" });
                }
                Ok(Appended {
                    seq: existing.seq,
                    sent_at: existing.sent_at,
                    duplicate: true,
                })
            }
            Err(error) => Err(error),
        }
    }

    /// Stores a batch of messages, possibly to many conversations, in one
    /// transaction (group commit), and returns one result per message in
    /// the order given. Within a conversation the batch's messages get
    /// consecutive sequence numbers in batch order.
    ///
    /// When the batch cannot be stored whole (a resent message id, a
    /// conversation that does not exist, a failure) nothing of it is kept,
    /// and each message is stored on its own instead, so it gets its own
    /// result.
    pub async fn append_messages(&self, batch: &[NewMessage]) -> Vec<Result<Appended, StoreError>> {
        if batch.len() > 1 {
            match self.insert_batch(batch).await {
                Ok(Some(seqs)) => {
                    return seqs
                        .into_iter()
                        .zip(batch)
                        .map(|(seq, new)| {
                            Ok(Appended {
                                seq,
                                sent_at: new.sent_at,
                                duplicate: false,
                            })
                        })
                        .collect();
                }
                Ok(None) => {}
                Err(error) if error.is_unique_violation() => {}
                Err(error) => {
                    tracing::debug!(error = ?error, "a batch of messages failed; storing them one by one");
                }
            }
        }
        let mut results = Vec::with_capacity(batch.len());
        for new in batch {
            results.push(self.append_message(new).await);
        }
        results
    }

    /// Inserts the whole batch, or returns `None` (having written nothing)
    /// when one of its conversations does not exist.
    async fn insert_batch(&self, batch: &[NewMessage]) -> Result<Option<Vec<i64>>, StoreError> {
        let mut counts: BTreeMap<uuid::Uuid, i64> = BTreeMap::new();
        for new in batch {
            *counts.entry(new.conversation_id.0).or_default() += 1;
        }
        let ids: Vec<uuid::Uuid> = counts.keys().copied().collect();

        let transaction = self.begin_write().await?;
        if transaction.get_database_backend() == DbBackend::Postgres {
            // Lock the counters in id order, so two nodes writing batches
            // that share conversations wait for each other instead of
            // deadlocking.
            conversation::Entity::find()
                .select_only()
                .column(conversation::Column::Id)
                .filter(conversation::Column::Id.is_in(ids.clone()))
                .order_by_asc(conversation::Column::Id)
                .lock_exclusive()
                .into_tuple::<uuid::Uuid>()
                .all(&*transaction)
                .await?;
        }

        let mut increment = Expr::case(conversation::Column::Id.eq(ids[0]), counts[&ids[0]]);
        for id in &ids[1..] {
            increment = increment.case(conversation::Column::Id.eq(*id), counts[id]);
        }
        let updated = conversation::Entity::update_many()
            .col_expr(
                conversation::Column::LastSeq,
                Expr::col(conversation::Column::LastSeq).add(increment.finally(0)),
            )
            .filter(conversation::Column::Id.is_in(ids))
            .exec_with_returning(&*transaction)
            .await?;
        if updated.len() != counts.len() {
            transaction.rollback().await?;
            return Ok(None);
        }

        // The first sequence number of the batch in each conversation.
        let mut next: BTreeMap<uuid::Uuid, i64> = updated
            .iter()
            .map(|row| (row.id, row.last_seq - counts[&row.id] + 1))
            .collect();
        let mut seqs = Vec::with_capacity(batch.len());
        let mut rows = Vec::with_capacity(batch.len());
        for new in batch {
            let slot = next
                .get_mut(&new.conversation_id.0)
                .ok_or(StoreError::NotFound {
                    what: "conversation",
                })?;
            let seq = *slot;
            *slot += 1;
            seqs.push(seq);
            rows.push(message::ActiveModel {
                conversation_id: Set(new.conversation_id.0),
                seq: Set(seq),
                message_id: Set(new.message_id.0),
                sender_id: Set(new.sender_id.0),
                key_epoch: Set(new.key_epoch),
                ciphertext: Set(new.ciphertext.clone()),
                sent_at: Set(new.sent_at),
            });
        }
        message::Entity::insert_many(rows)
            .exec_without_returning(&*transaction)
            .await?;
        for new in batch {
            crate::files::share(
                &*transaction,
                new.conversation_id,
                &new.attachments,
                new.sent_at,
            )
            .await?;
        }
        transaction.commit().await?;
        Ok(Some(seqs))
    }

    async fn insert_message(&self, new: &NewMessage) -> Result<i64, StoreError> {
        let transaction = self.begin_write().await?;
        let seq = next_seq(&*transaction, new.conversation_id).await?;
        message::Entity::insert(message::ActiveModel {
            conversation_id: Set(new.conversation_id.0),
            seq: Set(seq),
            message_id: Set(new.message_id.0),
            sender_id: Set(new.sender_id.0),
            key_epoch: Set(new.key_epoch),
            ciphertext: Set(new.ciphertext.clone()),
            sent_at: Set(new.sent_at),
        })
        .exec_without_returning(&*transaction)
        .await?;
        crate::files::share(
            &*transaction,
            new.conversation_id,
            &new.attachments,
            new.sent_at,
        )
        .await?;
        transaction.commit().await?;
        Ok(seq)
    }

    /// Finds a message by the id its sender chose.
    pub async fn message_by_id(
        &self,
        conversation_id: ConversationId,
        message_id: MessageId,
    ) -> Result<Option<message::Model>, StoreError> {
        Ok(message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id.0))
            .filter(message::Column::MessageId.eq(message_id.0))
            .one(&self.db)
            .await?)
    }

    /// Lists messages after `after`, oldest first, at most `limit`.
    pub async fn messages_after(
        &self,
        conversation_id: ConversationId,
        after: i64,
        limit: u64,
    ) -> Result<Vec<message::Model>, StoreError> {
        Ok(message::Entity::find()
            .filter(message::Column::ConversationId.eq(conversation_id.0))
            .filter(message::Column::Seq.gt(after))
            .order_by_asc(message::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await?)
    }

    /// Records that a member has read up to `up_to`, with a first-read
    /// receipt for each message of others newly read. Returns the new read
    /// position, or `None` when it did not move forward.
    pub async fn mark_read(
        &self,
        conversation_id: ConversationId,
        user_id: UserId,
        up_to: i64,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, StoreError> {
        let transaction = self.begin_write().await?;
        let last_seq = conversation::Entity::find_by_id(conversation_id.0)
            .one(&*transaction)
            .await?
            .ok_or(StoreError::NotFound {
                what: "conversation",
            })?
            .last_seq;
        let target = Ord::min(up_to, last_seq);
        let moved = conversation_member::Entity::update_many()
            .col_expr(conversation_member::Column::ReadSeq, Expr::value(target))
            .filter(conversation_member::Column::ConversationId.eq(conversation_id.0))
            .filter(conversation_member::Column::UserId.eq(user_id.0))
            .filter(conversation_member::Column::ReadSeq.lt(target))
            .exec(&*transaction)
            .await?;
        if moved.rows_affected == 0 {
            transaction.rollback().await?;
            return Ok(None);
        }

        let newly_read: Vec<i64> = message::Entity::find()
            .select_only()
            .column(message::Column::Seq)
            .filter(message::Column::ConversationId.eq(conversation_id.0))
            .filter(message::Column::Seq.lte(target))
            .filter(message::Column::SenderId.ne(user_id.0))
            .order_by_desc(message::Column::Seq)
            .limit(1000)
            .into_tuple()
            .all(&*transaction)
            .await?;
        let receipts: Vec<read_receipt::ActiveModel> = newly_read
            .into_iter()
            .map(|seq| read_receipt::ActiveModel {
                conversation_id: Set(conversation_id.0),
                seq: Set(seq),
                user_id: Set(user_id.0),
                read_at: Set(at),
            })
            .collect();
        if !receipts.is_empty() {
            let keep_first = OnConflict::columns([
                read_receipt::Column::ConversationId,
                read_receipt::Column::Seq,
                read_receipt::Column::UserId,
            ])
            .do_nothing()
            .to_owned();
            read_receipt::Entity::insert_many(receipts)
                .on_conflict(keep_first)
                .exec_without_returning(&*transaction)
                .await?;
        }
        transaction.commit().await?;
        Ok(Some(target))
    }
}

/// Increments and returns the conversation's counter inside `transaction`.
/// The `UPDATE` takes the row's write lock first, so concurrent appenders to
/// one conversation queue behind each other rather than colliding.
async fn next_seq(
    transaction: &impl ConnectionTrait,
    conversation_id: ConversationId,
) -> Result<i64, StoreError> {
    let backend = transaction.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq"
        }
        _ => "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq",
    };
    let statement = Statement::from_sql_and_values(backend, sql, [conversation_id.0.into()]);
    let row = transaction
        .query_one_raw(statement)
        .await?
        .ok_or(StoreError::NotFound {
            what: "conversation",
        })?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// A key rotation that goes with removing a member.
pub struct Rotation {
    pub conversation_id: ConversationId,
    pub removed: UserId,
    /// The epoch the conversation is at now; the rotation fails if another
    /// rotation got there first.
    pub from_epoch: i32,
    /// The new key, sealed to each remaining member and the organisation.
    pub sealed_keys: Vec<(KeyRecipient, Vec<u8>)>,
    pub at: DateTime<Utc>,
}

impl Store {
    /// Removes a member and starts a new key epoch in one transaction, so
    /// nothing sealed after the removal can be opened by the removed member.
    /// The member also stops being a party to the link's agreement.
    pub async fn remove_member_and_rotate(&self, rotation: Rotation) -> Result<i32, StoreError> {
        let transaction = self.begin_write().await?;
        let removed = conversation_member::Entity::update_many()
            .col_expr(
                conversation_member::Column::RemovedAt,
                Expr::value(rotation.at),
            )
            .filter(conversation_member::Column::ConversationId.eq(rotation.conversation_id.0))
            .filter(conversation_member::Column::UserId.eq(rotation.removed.0))
            .filter(conversation_member::Column::RemovedAt.is_null())
            .exec(&*transaction)
            .await?;
        if removed.rows_affected == 0 {
            transaction.rollback().await?;
            return Err(StoreError::NotFound { what: "member" });
        }
        let new_epoch = rotation.from_epoch + 1;
        let bumped = conversation::Entity::update_many()
            .col_expr(conversation::Column::KeyEpoch, Expr::value(new_epoch))
            .filter(conversation::Column::Id.eq(rotation.conversation_id.0))
            .filter(conversation::Column::KeyEpoch.eq(rotation.from_epoch))
            .exec(&*transaction)
            .await?;
        if bumped.rows_affected == 0 {
            transaction.rollback().await?;
            return Err(StoreError::Conflict { what: "key epoch" });
        }
        let keys = rotation.sealed_keys.into_iter().map(|(recipient, sealed)| {
            let (kind, id) = recipient.parts();
            conversation_key::ActiveModel {
                conversation_id: Set(rotation.conversation_id.0),
                epoch: Set(new_epoch),
                recipient_kind: Set(kind.to_owned()),
                recipient_id: Set(id),
                sealed_key: Set(sealed),
            }
        });
        conversation_key::Entity::insert_many(keys)
            .exec_without_returning(&*transaction)
            .await?;
        // A removed member is no party to the link's agreement any more.
        crate::entity::agreement_party::Entity::delete_many()
            .filter(
                crate::entity::agreement_party::Column::ConversationId
                    .eq(rotation.conversation_id.0),
            )
            .filter(crate::entity::agreement_party::Column::UserId.eq(rotation.removed.0))
            .exec(&*transaction)
            .await?;
        transaction.commit().await?;
        Ok(new_epoch)
    }
}

/// Inserts a conversation with its members and sealed keys on `db`, which
/// is a transaction of the caller's.
pub(crate) async fn insert_conversation(
    db: &impl ConnectionTrait,
    new: NewConversation,
) -> Result<(), StoreError> {
    conversation::Entity::insert(conversation::ActiveModel {
        id: Set(new.id.0),
        kind: Set(new.kind.as_str().to_owned()),
        organisation_id: Set(new.organisation_id.0),
        key_epoch: Set(0),
        last_seq: Set(0),
        created_by: Set(new.created_by.0),
        created_at: Set(new.created_at),
        accepted_media: Set(ALL_MEDIA.to_owned()),
    })
    .exec_without_returning(db)
    .await?;

    let members = new
        .members
        .into_iter()
        .map(|(user_id, role)| conversation_member::ActiveModel {
            conversation_id: Set(new.id.0),
            user_id: Set(user_id.0),
            role: Set(role.to_owned()),
            joined_at: Set(new.created_at),
            removed_at: Set(None),
            read_seq: Set(0),
        });
    conversation_member::Entity::insert_many(members)
        .exec_without_returning(db)
        .await?;

    let keys = new.sealed_keys.into_iter().map(|(recipient, sealed)| {
        let (kind, id) = recipient.parts();
        conversation_key::ActiveModel {
            conversation_id: Set(new.id.0),
            epoch: Set(0),
            recipient_kind: Set(kind.to_owned()),
            recipient_id: Set(id),
            sealed_key: Set(sealed),
        }
    });
    conversation_key::Entity::insert_many(keys)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Selects the discussions about a case marked to go, on either side.
fn hidden_discussions() -> sea_orm::sea_query::SelectStatement {
    use crate::entity::interest;
    use crate::interests::marked_cases;
    sea_orm::sea_query::Query::select()
        .column(interest::Column::ConversationId)
        .from(interest::Entity)
        .cond_where(
            sea_orm::Condition::any()
                .add(interest::Column::ChildCaseId.in_subquery(marked_cases()))
                .add(interest::Column::FamilyCaseId.in_subquery(marked_cases())),
        )
        .to_owned()
}
