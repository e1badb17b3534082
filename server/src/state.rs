//! Shared state handed to every route.

use std::sync::Arc;

use kinlink_actors::broker::Broker;
use kinlink_actors::conversation::ConversationRegistry;
use kinlink_actors::session::{QueueLimits, SessionContext};
use kinlink_media::blob::BlobStore;
use kinlink_store::Store;

use crate::config::Config;

/// The state shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub broker: Arc<Broker>,
    pub conversations: Arc<ConversationRegistry>,
    /// The storage for sealed file content.
    pub blobs: Arc<dyn BlobStore>,
    /// The origin browsers use; state-changing requests must carry it.
    pub public_origin: String,
    /// The platform recovery public key that every new account's private
    /// key is escrowed to.
    pub recovery_public_key: kinlink_core::crypto::keys::PublicKey,
    /// The platform data key that seals family-finding profiles.
    pub profile_key: Arc<kinlink_core::crypto::SecretKey>,
    /// Salt for the dummy Argon2id run on unknown emails, so they take as
    /// long as a wrong password.
    pub dummy_salt: [u8; 16],
    /// Permits for concurrent Argon2id runs, one per core.
    pub password_hashing: Arc<tokio::sync::Semaphore>,
    /// The media processing pool and its working folder.
    pub processing: Arc<crate::processing::Processing>,
    /// Uploads receiving bytes on this node right now.
    pub active_uploads: Arc<std::sync::Mutex<std::collections::HashSet<uuid::Uuid>>>,
    /// The cache of identifying-details findings in attached files, so a
    /// letter saved as one types does not check them again.
    pub check_cache: Arc<crate::letterbox::check_cache::CheckCache>,
    /// This node's live calls.
    pub calls: Arc<kinlink_actors::calls::CallRegistry>,
}

impl AppState {
    /// Returns what a new session actor needs.
    pub fn session_context(&self) -> SessionContext {
        SessionContext {
            store: self.store.clone(),
            broker: Arc::clone(&self.broker),
            conversations: Arc::clone(&self.conversations),
            calls: Arc::clone(&self.calls),
            queue: QueueLimits {
                frames: self.config.websocket.send_queue_frames,
                bytes: self.config.websocket.send_queue_bytes,
            },
            max_message_bytes: self.config.conversation.max_message_bytes,
        }
    }
}
