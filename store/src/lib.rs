//! Storage for KinLink: sea-orm entities and the queries the rest of the
//! product needs, on SQLite or PostgreSQL with the same migrations.
//!
//! The store is the truth. Message sequence numbers are allocated here, in
//! the same transaction that writes the message, so two nodes never collide.

pub mod access_export;
pub mod audit;
pub mod audit_chain;
pub mod call_schedule;
pub mod calls;
pub mod case_media;
pub mod case_retention;
pub mod cases;
pub mod community;
pub mod connect;
pub mod conversations;
pub mod deletion_log;
pub mod entity;
mod erasure;
pub mod error;
pub mod files;
pub mod interests;
pub mod invitations;
pub mod key_recoveries;
pub mod letterbox;
pub mod marketing;
pub mod notifications;
pub mod organisations;
pub mod outbox;
pub mod reminders;
pub mod retention;
pub mod rights;
pub mod sessions;
pub mod settings;
pub mod throttle;
pub mod transfers;
pub mod user_erasure;
pub mod users;
pub mod worker_invitations;

pub use connect::{Backend, Store};
pub use error::StoreError;
