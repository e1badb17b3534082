//! Group commit: one task per node stores the messages of every
//! conversation actor in batches, one transaction per batch, so a busy node
//! pays for one commit per batch instead of one per message.
//!
//! A message waits only for the batch being written when it arrives: the
//! task takes everything queued as soon as the store is free, up to
//! `MAX_BATCH`. Nothing is acknowledged or published before its batch is
//! committed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use kinlink_store::Store;
use kinlink_store::conversations::{Appended, NewMessage};
use tokio::sync::{mpsc, oneshot};
use tracing::{Instrument, debug, info_span};

use crate::broker::Broker;
use crate::events::{Event, StoredMessage};
use crate::{ActorError, metrics};

/// The maximum number of messages stored in one transaction.
const MAX_BATCH: usize = 256;

/// How many messages may wait for the writer before appends are rejected
/// as busy.
const QUEUE_CAPACITY: usize = 8192;

struct Pending {
    message: NewMessage,
    reply: oneshot::Sender<Result<Appended, ActorError>>,
}

/// The sending side of the node's writer.
#[derive(Clone)]
pub struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

impl GroupCommit {
    /// Starts the writer task on the current runtime.
    pub fn start(store: Store, broker: Arc<Broker>) -> Self {
        let (queue, receiver) = mpsc::channel(QUEUE_CAPACITY);
        tokio::spawn(write_batches(store, broker, receiver).instrument(info_span!("group_commit")));
        Self { queue }
    }

    /// Queues a message, or returns `Busy` at once when the queue is full.
    /// The returned receiver resolves once the message is stored and
    /// published.
    pub fn enqueue(
        &self,
        message: NewMessage,
    ) -> Result<oneshot::Receiver<Result<Appended, ActorError>>, ActorError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Pending { message, reply })
            .map_err(|_full_or_closed| ActorError::Busy)?;
        metrics::APPEND_QUEUE.fetch_add(1, Ordering::Relaxed);
        Ok(answer)
    }
}

async fn write_batches(store: Store, broker: Arc<Broker>, mut receiver: mpsc::Receiver<Pending>) {
    let mut pending = Vec::with_capacity(MAX_BATCH);
    while receiver.recv_many(&mut pending, MAX_BATCH).await > 0 {
        metrics::APPEND_QUEUE.fetch_sub(pending.len() as i64, Ordering::Relaxed);
        metrics::APPEND_BATCHES.fetch_add(1, Ordering::Relaxed);
        let (messages, replies): (Vec<NewMessage>, Vec<_>) = pending
            .drain(..)
            .map(|item| (item.message, item.reply))
            .unzip();
        debug!(messages = messages.len(), "storing a batch");
        let results = store.append_messages(&messages).await;
        for ((message, result), reply) in messages.into_iter().zip(results).zip(replies) {
            if let Ok(appended) = &result
                && !appended.duplicate
            {
                metrics::MESSAGES_STORED.fetch_add(1, Ordering::Relaxed);
                let stored = StoredMessage {
                    conversation_id: message.conversation_id,
                    seq: appended.seq,
                    message_id: message.message_id,
                    sender_id: message.sender_id,
                    key_epoch: message.key_epoch,
                    ciphertext: message.ciphertext,
                    sent_at: message.sent_at,
                };
                broker.publish(Event::Message(stored)).await;
            }
            // The sender may have disconnected, and the message is stored either way.
            let _ = reply.send(result.map_err(ActorError::from));
        }
    }
    debug!("writer stopped: every sender has gone");
}
