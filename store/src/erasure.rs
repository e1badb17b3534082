//! Deleting whole records with everything stored under them, for the
//! final step of the retention rules.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use crate::StoreError;
use crate::entity::{
    call, call_event, case_note, conversation, conversation_key, conversation_member, file,
    file_rendition, message, read_receipt, reminder, scheduled_call,
};

/// Deletes discussions with their messages, read receipts, members, keys,
/// case notes, calls and call records, and files. Returns the ids of the
/// files' stored blobs (each upload and its renditions), which the caller
/// deletes once the transaction has committed.
pub(crate) async fn delete_discussions(
    db: &impl ConnectionTrait,
    ids: &[uuid::Uuid],
) -> Result<Vec<uuid::Uuid>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids = || ids.iter().copied();
    let files: Vec<uuid::Uuid> = file::Entity::find()
        .select_only()
        .column(file::Column::Id)
        .filter(file::Column::ConversationId.is_in(ids()))
        .into_tuple()
        .all(db)
        .await?;
    let mut blobs: Vec<uuid::Uuid> = file_rendition::Entity::find()
        .select_only()
        .column(file_rendition::Column::Id)
        .filter(file_rendition::Column::FileId.is_in(files.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    file_rendition::Entity::delete_many()
        .filter(file_rendition::Column::FileId.is_in(files.iter().copied()))
        .exec(db)
        .await?;
    file::Entity::delete_many()
        .filter(file::Column::ConversationId.is_in(ids()))
        .exec(db)
        .await?;
    blobs.extend(files);

    let calls: Vec<uuid::Uuid> = call::Entity::find()
        .select_only()
        .column(call::Column::Id)
        .filter(call::Column::ConversationId.is_in(ids()))
        .into_tuple()
        .all(db)
        .await?;
    call_event::Entity::delete_many()
        .filter(call_event::Column::CallId.is_in(calls))
        .exec(db)
        .await?;
    call::Entity::delete_many()
        .filter(call::Column::ConversationId.is_in(ids()))
        .exec(db)
        .await?;
    scheduled_call::Entity::delete_many()
        .filter(scheduled_call::Column::ConversationId.is_in(ids()))
        .exec(db)
        .await?;
    reminder::Entity::delete_many()
        .filter(reminder::Column::ConversationId.is_in(ids()))
        .exec(db)
        .await?;
    case_note::Entity::delete_many()
        .filter(case_note::Column::ConversationId.is_in(ids()))
        .exec(db)
        .await?;
    read_receipt::Entity::delete_many()
        .filter(read_receipt::Column::ConversationId.is_in(ids()))
        .exec(db)
        .await?;
    message::Entity::delete_many()
        .filter(message::Column::ConversationId.is_in(ids()))
        .exec(db)
        .await?;
    conversation_key::Entity::delete_many()
        .filter(conversation_key::Column::ConversationId.is_in(ids()))
        .exec(db)
        .await?;
    conversation_member::Entity::delete_many()
        .filter(conversation_member::Column::ConversationId.is_in(ids()))
        .exec(db)
        .await?;
    conversation::Entity::delete_many()
        .filter(conversation::Column::Id.is_in(ids()))
        .exec(db)
        .await?;
    Ok(blobs)
}
