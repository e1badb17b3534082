//! The actors behind real-time conversations.
//!
//! - [`session::SessionActor`]: one per signed-in WebSocket; holds the
//!   user's private key for the life of the socket, decrypts for its user
//!   and encrypts what its user sends.
//! - [`conversation::ConversationActor`]: one per active conversation on a
//!   node; hands each message to [`group_commit::GroupCommit`]. The writer
//!   stores it in a batch with the node's other messages (the store
//!   allocates its sequence number). Only then are the ciphertext published
//!   and the sender acknowledged.
//! - [`broker::Broker`]: carries stored events to every node, in process or
//!   over Redis pub/sub; [`hub::Hub`] hands them to this node's sessions.

pub mod broker;
pub mod calls;
pub mod conversation;
pub mod events;
pub mod frames;
pub mod group_commit;
pub mod hub;
pub mod keyring;
pub mod mailer;
pub mod metrics;
pub mod notifier;
pub mod reminders;
pub mod retention;
pub mod session;

/// Failures inside the actors, as facts of the domain.
#[derive(Debug, thiserror::Error)]
pub enum ActorError {
    /// The store failed.
    #[error("storage failed")]
    Store(#[from] kinlink_store::StoreError),
    /// A key or ciphertext failed to open.
    #[error("cryptographic operation failed")]
    Crypto(#[from] kinlink_core::crypto::CryptoError),
    /// The caller has no key for this conversation.
    #[error("no conversation key for this member")]
    NoKey,
    /// An actor's mailbox is closed.
    #[error("actor is not running")]
    Mailbox(#[from] actix::MailboxError),
    /// Too many messages are waiting to be stored; try again later.
    #[error("too many messages waiting to be stored")]
    Busy,
    /// A background task panicked or was cancelled.
    #[error("a background task failed")]
    TaskFailed,
    /// Redis failed.
    #[error("redis failed")]
    Redis(#[from] redis::RedisError),
}

/// Displays an error followed by each of its causes, for log lines.
pub struct Causes<'a>(pub &'a dyn std::error::Error);

impl std::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            write!(f, ": {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}
