//! The associated data and HPKE `info` strings that bind each sealed value
//! to the one place it belongs. Opening a value anywhere else fails.

use super::aead::AssociatedData;
use crate::{ConversationId, MessageId, OrganisationId, SessionId, UserId};

/// Binds a user's private key, sealed under their key-encryption key.
pub fn user_private_key(user: UserId) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink user private key v1");
    data.push(user.as_bytes());
    data
}

/// Binds a user's private key, sealed under one session's key.
pub fn session_private_key(session: SessionId, user: UserId) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink session private key v1");
    data.push(session.as_bytes()).push(user.as_bytes());
    data
}

/// Binds a user's second-factor secret, sealed under their
/// key-encryption key.
pub fn totp_secret(user: UserId) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink totp secret v1");
    data.push(user.as_bytes());
    data
}

/// Binds the second-factor secret offered with a worker invitation,
/// sealed under a key derived from the invitation's link token.
pub fn enrolment_secret(invitation: uuid::Uuid) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink enrolment secret v1");
    data.push(invitation.as_bytes());
    data
}

/// Binds a file's key to the file and to the conversation key (of one
/// epoch) that seals it.
pub fn file_key(file: uuid::Uuid, conversation: ConversationId, epoch: i32) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink file key v1");
    data.push(file.as_bytes())
        .push(conversation.as_bytes())
        .push(&epoch.to_be_bytes());
    data
}

/// Binds a file's sealed name to the file.
pub fn file_name(file: uuid::Uuid) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink file name v1");
    data.push(file.as_bytes());
    data
}

/// Binds a message to its conversation, id, sender and key epoch.
pub fn message(
    conversation: ConversationId,
    message: MessageId,
    sender: UserId,
    epoch: i32,
) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink message v1");
    data.push(conversation.as_bytes())
        .push(message.as_bytes())
        .push(sender.as_bytes())
        .push(&epoch.to_be_bytes());
    data
}

/// Binds one version of a letter to its link, letter, writer and key
/// epoch.
pub fn letter_version(
    conversation: ConversationId,
    letter: uuid::Uuid,
    version: i32,
    writer: UserId,
    epoch: i32,
) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink letter version v1");
    data.push(conversation.as_bytes())
        .push(letter.as_bytes())
        .push(&version.to_be_bytes())
        .push(writer.as_bytes())
        .push(&epoch.to_be_bytes());
    data
}

/// Binds a practitioner's reason for a decision to the step of the
/// letter's timeline that records it.
pub fn letter_reason(
    conversation: ConversationId,
    letter: uuid::Uuid,
    event: uuid::Uuid,
    epoch: i32,
) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink letter reason v1");
    data.push(conversation.as_bytes())
        .push(letter.as_bytes())
        .push(event.as_bytes())
        .push(&epoch.to_be_bytes());
    data
}

/// Binds a contact link's protected terms to the link.
pub fn agreement_terms(conversation: ConversationId, epoch: i32) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink agreement terms v1");
    data.push(conversation.as_bytes())
        .push(&epoch.to_be_bytes());
    data
}

/// Binds the reason a contact link was suspended or ended to the link.
pub fn link_status_reason(conversation: ConversationId, epoch: i32) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink link status reason v1");
    data.push(conversation.as_bytes())
        .push(&epoch.to_be_bytes());
    data
}

/// Binds a family-finding profile's sealed part to its case and kind, so
/// one case's profile cannot be moved onto another.
pub fn case_profile(case: uuid::Uuid, kind: &str) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink case profile v1");
    data.push(case.as_bytes()).push(kind.as_bytes());
    data
}

/// Binds the sealed details of a rights request (the request's text, and
/// the name and contact of someone without an account) to the request and
/// the part, so neither can be moved onto another request or swapped.
pub fn rights_request(request: uuid::Uuid, part: &str) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink rights request v1");
    data.push(request.as_bytes()).push(part.as_bytes());
    data
}

/// Binds the key of a photo or video in a profile to its case and item,
/// so one item's key cannot be moved onto another.
pub fn case_media_key(case: uuid::Uuid, media: uuid::Uuid) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink case media key v1");
    data.push(case.as_bytes()).push(media.as_bytes());
    data
}

/// Binds a community image's key to the image.
pub fn community_image_key(image: uuid::Uuid) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink community image key v1");
    data.push(image.as_bytes());
    data
}

/// Binds a case note's text to its link, id and author.
pub fn case_note(conversation: ConversationId, note: uuid::Uuid, author: UserId) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink case note v1");
    data.push(conversation.as_bytes())
        .push(note.as_bytes())
        .push(author.as_bytes());
    data
}

/// HPKE `info` for a case note's key, sealed to the organisation.
pub fn case_note_key_info(
    organisation: OrganisationId,
    conversation: ConversationId,
    note: uuid::Uuid,
) -> Vec<u8> {
    let mut data = AssociatedData::new("kinlink case note key v1");
    data.push(organisation.as_bytes())
        .push(conversation.as_bytes())
        .push(note.as_bytes());
    data.as_bytes().to_vec()
}

/// HPKE `info` for a conversation key of one epoch.
pub fn conversation_key_info(conversation: ConversationId, epoch: i32) -> Vec<u8> {
    let mut data = AssociatedData::new("kinlink conversation key v1");
    data.push(conversation.as_bytes())
        .push(&epoch.to_be_bytes());
    data.as_bytes().to_vec()
}

/// HPKE `info` for an organisation's private key sealed to a worker.
pub fn organisation_key_info(organisation: OrganisationId) -> Vec<u8> {
    let mut data = AssociatedData::new("kinlink organisation key v1");
    data.push(organisation.as_bytes());
    data.as_bytes().to_vec()
}

/// HPKE `info` for a user's private key escrowed to the recovery key.
pub fn recovery_escrow_info(user: UserId) -> Vec<u8> {
    let mut data = AssociatedData::new("kinlink recovery escrow v1");
    data.push(user.as_bytes());
    data.as_bytes().to_vec()
}

/// Associated data of a user's private key sealed for a key recovery's
/// one-time link.
pub fn recovered_private_key(recovery: uuid::Uuid, user: UserId) -> AssociatedData {
    let mut data = AssociatedData::new("kinlink recovered private key v1");
    data.push(recovery.as_bytes());
    data.push(user.as_bytes());
    data
}
