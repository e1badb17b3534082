//! A signed-in user's keys: their private key, opened from the session row
//! with the cookie's token, and the conversation keys opened with it.

use kinlink_core::content::MessageContent;
use std::collections::HashMap;

use kinlink_core::crypto::keys::open_sealed;
use kinlink_core::crypto::{SecretKey, aead, bindings};
use kinlink_core::{ConversationId, MessageId, UserId};
use kinlink_store::Store;
use kinlink_store::conversations::KeyRecipient;

use crate::ActorError;

/// The keys one session holds. Dropping it wipes every key.
#[derive(Debug)]
pub struct Keyring {
    user_id: UserId,
    private_key: SecretKey,
    conversation_keys: HashMap<(ConversationId, i32), SecretKey>,
}

impl Keyring {
    /// Wraps a user's opened private key.
    pub fn new(user_id: UserId, private_key: SecretKey) -> Self {
        Self {
            user_id,
            private_key,
            conversation_keys: HashMap::new(),
        }
    }

    /// Returns whose keys these are.
    pub fn user_id(&self) -> UserId {
        self.user_id
    }

    /// Opens (once, then from memory) the conversation key of one epoch.
    pub async fn conversation_key(
        &mut self,
        store: &Store,
        conversation: ConversationId,
        epoch: i32,
    ) -> Result<&SecretKey, ActorError> {
        if !self.conversation_keys.contains_key(&(conversation, epoch)) {
            let sealed = store
                .sealed_conversation_key(conversation, epoch, KeyRecipient::User(self.user_id))
                .await?
                .ok_or(ActorError::NoKey)?;
            let info = bindings::conversation_key_info(conversation, epoch);
            let key = open_sealed(&self.private_key, &sealed, &info)?;
            self.conversation_keys.insert((conversation, epoch), key);
        }
        self.conversation_keys
            .get(&(conversation, epoch))
            .ok_or(ActorError::NoKey)
    }

    /// Seals a message this user sends.
    pub async fn seal_message(
        &mut self,
        store: &Store,
        conversation: ConversationId,
        epoch: i32,
        message_id: MessageId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ActorError> {
        let sender = self.user_id;
        let key = self.conversation_key(store, conversation, epoch).await?;
        let aad = bindings::message(conversation, message_id, sender, epoch);
        Ok(aead::seal(key, plaintext, aad.as_bytes())?)
    }

    /// Seals a value of a conversation other than a message (a letter, a
    /// reason, the protected terms) under the key of one epoch, bound to
    /// its place by `aad`.
    pub async fn seal_bound(
        &mut self,
        store: &Store,
        conversation: ConversationId,
        epoch: i32,
        aad: &aead::AssociatedData,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ActorError> {
        let key = self.conversation_key(store, conversation, epoch).await?;
        Ok(aead::seal(key, plaintext, aad.as_bytes())?)
    }

    /// Opens a value sealed by [`Keyring::seal_bound`].
    pub async fn open_bound(
        &mut self,
        store: &Store,
        conversation: ConversationId,
        epoch: i32,
        aad: &aead::AssociatedData,
        ciphertext: &[u8],
    ) -> Result<Vec<u8>, ActorError> {
        let key = self.conversation_key(store, conversation, epoch).await?;
        Ok(aead::open(key, ciphertext, aad.as_bytes())?)
    }

    /// Opens a message with a conversation key already in memory, without
    /// touching the store; `None` when the key has not been opened yet.
    pub fn open_with_cached_key(
        &self,
        message: &crate::events::StoredMessage,
    ) -> Option<Result<MessageContent, ActorError>> {
        let key = self
            .conversation_keys
            .get(&(message.conversation_id, message.key_epoch))?;
        let aad = bindings::message(
            message.conversation_id,
            message.message_id,
            message.sender_id,
            message.key_epoch,
        );
        let opened = aead::open(key, &message.ciphertext, aad.as_bytes())
            .map_err(ActorError::from)
            .and_then(content);
        Some(opened)
    }

    /// Opens a stored message. A ciphertext found in a place other than the
    /// one it was sealed for fails here.
    pub async fn open_message(
        &mut self,
        store: &Store,
        message: &kinlink_store::entity::message::Model,
    ) -> Result<MessageContent, ActorError> {
        let conversation = ConversationId(message.conversation_id);
        let key = self
            .conversation_key(store, conversation, message.key_epoch)
            .await?;
        let aad = bindings::message(
            conversation,
            MessageId(message.message_id),
            UserId(message.sender_id),
            message.key_epoch,
        );
        let plaintext = aead::open(key, &message.ciphertext, aad.as_bytes())?;
        content(plaintext)
    }
}

/// One session's keyring, shared by the session actor and its futures.
///
/// The lock is only ever held for synchronous work and never across an
/// `.await`, because a session actor that waits on a future stops polling
/// its other futures: a lock held by one of them across an await would
/// never be released.
#[derive(Clone)]
pub struct SharedKeyring(std::sync::Arc<std::sync::Mutex<Keyring>>);

impl SharedKeyring {
    /// Shares a keyring.
    pub fn new(keyring: Keyring) -> Self {
        Self(std::sync::Arc::new(std::sync::Mutex::new(keyring)))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Keyring> {
        // The keyring holds plain maps, so a panic elsewhere cannot leave
        // it inconsistent.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Returns whose keys these are.
    pub fn user_id(&self) -> UserId {
        self.lock().user_id
    }

    /// Returns the conversation key of one epoch, opening it from the
    /// store the first time.
    async fn key(
        &self,
        store: &Store,
        conversation: ConversationId,
        epoch: i32,
    ) -> Result<SecretKey, ActorError> {
        if let Some(key) = self.lock().conversation_keys.get(&(conversation, epoch)) {
            return Ok(key.clone());
        }
        let user = self.user_id();
        let sealed = store
            .sealed_conversation_key(conversation, epoch, KeyRecipient::User(user))
            .await?
            .ok_or(ActorError::NoKey)?;
        let info = bindings::conversation_key_info(conversation, epoch);
        let mut keyring = self.lock();
        let key = open_sealed(&keyring.private_key, &sealed, &info)?;
        keyring
            .conversation_keys
            .insert((conversation, epoch), key.clone());
        Ok(key)
    }

    /// Seals a message this user sends.
    pub async fn seal_message(
        &self,
        store: &Store,
        conversation: ConversationId,
        epoch: i32,
        message_id: MessageId,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, ActorError> {
        let key = self.key(store, conversation, epoch).await?;
        let aad = bindings::message(conversation, message_id, self.user_id(), epoch);
        Ok(aead::seal(&key, plaintext, aad.as_bytes())?)
    }

    /// Opens a stored message; a ciphertext found in a place other than
    /// the one it was sealed for fails here.
    pub async fn open_message(
        &self,
        store: &Store,
        message: &kinlink_store::entity::message::Model,
    ) -> Result<MessageContent, ActorError> {
        let conversation = ConversationId(message.conversation_id);
        let key = self.key(store, conversation, message.key_epoch).await?;
        let aad = bindings::message(
            conversation,
            MessageId(message.message_id),
            UserId(message.sender_id),
            message.key_epoch,
        );
        let plaintext = aead::open(&key, &message.ciphertext, aad.as_bytes())?;
        content(plaintext)
    }

    /// Opens a message with a key already in memory; `None` when the key
    /// has not been opened yet.
    pub fn open_with_cached_key(
        &self,
        message: &crate::events::StoredMessage,
    ) -> Option<Result<MessageContent, ActorError>> {
        self.lock().open_with_cached_key(message)
    }
}

/// Reads an opened plaintext; one that does not parse counts as a
/// ciphertext that failed to open.
fn content(plaintext: Vec<u8>) -> Result<MessageContent, ActorError> {
    MessageContent::from_plaintext(plaintext)
        .map_err(|_malformed| ActorError::Crypto(kinlink_core::crypto::CryptoError::OpenFailed))
}
