//! sea-orm entities, one module per table.

pub mod agreement_party;
pub mod audit_event;
pub mod case_note;
pub mod contact_agreement;
pub mod conversation;
pub mod conversation_key;
pub mod conversation_member;
pub mod digest;
pub mod email_outbox;
pub mod file;
pub mod file_rendition;
pub mod letter;
pub mod letter_event;
pub mod letter_version;
pub mod membership;
pub mod message;
pub mod notification;
pub mod organisation;
pub mod organisation_key;
pub mod platform_setting;
pub mod read_receipt;
pub mod recovery_code;
pub mod reminder;
pub mod session;
pub mod sign_in_failure;
pub mod user;
