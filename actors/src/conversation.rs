//! One actor per active conversation on a node. It hands each message to
//! the node's group-commit writer in the order it received them. The
//! writer stores the message (the store allocates the sequence number) and
//! publishes the ciphertext, and only then is the sender acknowledged.
//!
//! On one node the writer orders a conversation's appends; across nodes
//! the store's row lock on the conversation's counter orders them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::prelude::*;
use kinlink_core::ConversationId;
use kinlink_store::conversations::{Appended, NewMessage};
use tracing::debug;

use crate::ActorError;
use crate::group_commit::GroupCommit;

/// How long a conversation actor lives without traffic.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

/// Store a sealed message, then acknowledge and publish it.
#[derive(Message)]
#[rtype(result = "Result<Appended, ActorError>")]
pub struct Append(pub NewMessage);

/// The actor for one conversation.
pub struct ConversationActor {
    id: ConversationId,
    writer: GroupCommit,
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
    type Result = ResponseFuture<Result<Appended, ActorError>>;

    fn handle(&mut self, Append(message): Append, _ctx: &mut Self::Context) -> Self::Result {
        self.last_active = Instant::now();
        // Queued here, synchronously, so the writer receives this actor's
        // messages in the order they arrived.
        let queued = self.writer.enqueue(message);
        Box::pin(async move {
            match queued?.await {
                Ok(result) => result,
                Err(_writer_gone) => Err(ActorError::Busy),
            }
        })
    }
}

/// Finds or starts the actor for a conversation on this node.
pub struct ConversationRegistry {
    writer: GroupCommit,
    actors: Mutex<HashMap<ConversationId, Addr<ConversationActor>>>,
}

impl ConversationRegistry {
    /// Creates an empty registry whose actors store through `writer`.
    pub fn new(writer: GroupCommit) -> Arc<Self> {
        Arc::new(Self {
            writer,
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
            writer: self.writer.clone(),
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
