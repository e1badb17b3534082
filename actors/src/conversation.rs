//! One actor per active conversation on a node. It stores each message
//! (the store allocates the sequence number), and only then acknowledges
//! the sender and publishes the ciphertext.
//!
//! The actor handles one append at a time, so on one node the writes to a
//! conversation never contend with each other; across nodes the store's
//! row lock orders them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use kinlink_core::ConversationId;
use kinlink_store::Store;
use kinlink_store::conversations::{Appended, NewMessage};
use tracing::{Instrument, debug, info_span};

use crate::broker::Broker;
use crate::events::{Event, StoredMessage};
use crate::{ActorError, metrics};

/// How long a conversation actor lives without traffic.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Store a sealed message, then acknowledge and publish it.
#[derive(Message)]
#[rtype(result = "Result<Appended, ActorError>")]
pub struct Append(pub NewMessage);

/// The actor for one conversation.
pub struct ConversationActor {
    id: ConversationId,
    store: Store,
    broker: Arc<Broker>,
    registry: Arc<ConversationRegistry>,
    /// Time of the last append; the actor stops after `IDLE_TIMEOUT`.
    last_active: Instant,
}

impl Actor for ConversationActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        debug!(conversation = %self.id, "conversation actor started");
        ctx.run_interval(IDLE_TIMEOUT / 4, |actor, ctx| {
            if actor.last_active.elapsed() > IDLE_TIMEOUT {
                ctx.stop();
            }
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        self.registry.forget(self.id);
        debug!(conversation = %self.id, "conversation actor stopped");
    }
}

impl Handler<Append> for ConversationActor {
    type Result = AtomicResponse<Self, Result<Appended, ActorError>>;

    fn handle(&mut self, Append(message): Append, _ctx: &mut Self::Context) -> Self::Result {
        self.last_active = Instant::now();
        let store = self.store.clone();
        let broker = Arc::clone(&self.broker);
        let span = info_span!("conversation", conversation = %self.id);
        AtomicResponse::new(Box::pin(
            async move {
                let event = StoredMessage {
                    conversation_id: message.conversation_id,
                    seq: 0,
                    message_id: message.message_id,
                    sender_id: message.sender_id,
                    key_epoch: message.key_epoch,
                    ciphertext: message.ciphertext.clone(),
                    sent_at: message.sent_at,
                };
                let appended = store.append_message(message).await?;
                if !appended.duplicate {
                    metrics::MESSAGES_STORED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let stored = StoredMessage {
                        seq: appended.seq,
                        ..event
                    };
                    broker.publish(Event::Message(stored)).await;
                }
                Ok(appended)
            }
            .instrument(span)
            .into_actor(self),
        ))
    }
}

/// Finds or starts the actor for a conversation on this node.
pub struct ConversationRegistry {
    store: Store,
    broker: Arc<Broker>,
    actors: Mutex<HashMap<ConversationId, Addr<ConversationActor>>>,
}

impl ConversationRegistry {
    /// Creates an empty registry.
    pub fn new(store: Store, broker: Arc<Broker>) -> Arc<Self> {
        Arc::new(Self {
            store,
            broker,
            actors: Mutex::new(HashMap::new()),
        })
    }

    /// Returns the running actor for `id`, starting one if needed.
    pub fn get(self: &Arc<Self>, id: ConversationId) -> Addr<ConversationActor> {
        let mut actors = self
            .actors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(addr) = actors.get(&id).filter(|addr| addr.connected()) {
            return addr.clone();
        }
        let actor = ConversationActor {
            id,
            store: self.store.clone(),
            broker: Arc::clone(&self.broker),
            registry: Arc::clone(self),
            last_active: Instant::now(),
        };
        let addr = actor.start();
        actors.insert(id, addr.clone());
        addr
    }

    /// Appends through the conversation's actor.
    pub async fn append(self: &Arc<Self>, message: NewMessage) -> Result<Appended, ActorError> {
        let id = message.conversation_id;
        self.get(id).send(Append(message)).await?
    }

    fn forget(&self, id: ConversationId) {
        let mut actors = self
            .actors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if actors.get(&id).is_some_and(|addr| !addr.connected()) {
            actors.remove(&id);
        }
    }
}
