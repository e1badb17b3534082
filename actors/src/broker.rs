//! Carries events to every node: in process for a single node, or over
//! Redis pub/sub for several.
//!
//! The store is the truth and Redis a hint. Each node hands its own events
//! to its own sessions directly, so a node keeps serving its clients while
//! Redis is away. When the subscription comes back, every local session
//! catches up from the store by sequence number.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tracing::{info, warn};
use uuid::Uuid;

use crate::events::Event;
use crate::hub::Hub;
use crate::{ActorError, metrics};

/// Prefix of every channel this product publishes on.
const CHANNEL_PREFIX: &str = "kinlink:";
/// Delay before retrying a lost Redis subscription; doubles up to the max.
const RESUBSCRIBE_MIN_DELAY: Duration = Duration::from_millis(200);
const RESUBSCRIBE_MAX_DELAY: Duration = Duration::from_secs(2);

/// One event as published on Redis, with the node that stored it.
#[derive(Serialize, Deserialize)]
struct Envelope {
    node: Uuid,
    #[serde(flatten)]
    event: Event,
}

/// The broker of one node.
pub struct Broker {
    hub: Arc<Hub>,
    node_id: Uuid,
    redis: Option<RedisLink>,
}

struct RedisLink {
    client: redis::Client,
    publisher: ConnectionManager,
    /// Encoded events waiting for the publisher task, in order. Bounded so
    /// an unreachable Redis cannot grow memory; see [`PUBLISH_QUEUE`].
    outbox: mpsc::Sender<(String, String)>,
}

/// Events that may wait for Redis. Past this, events are dropped: the
/// store has them, and other nodes fetch them when they next resync.
const PUBLISH_QUEUE: usize = 65_536;

impl Broker {
    /// Creates a broker that delivers on this node only.
    pub fn in_process(hub: Arc<Hub>) -> Self {
        Self {
            hub,
            node_id: Uuid::new_v4(),
            redis: None,
        }
    }

    /// Creates a broker that also publishes to, and listens on, Redis.
    pub async fn with_redis(hub: Arc<Hub>, url: &str) -> Result<Self, ActorError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(1)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let publisher = ConnectionManager::new_with_config(client.clone(), config).await?;
        let (outbox, pending) = mpsc::channel(PUBLISH_QUEUE);
        actix_web::rt::spawn(publish_in_order(publisher.clone(), pending));
        Ok(Self {
            hub,
            node_id: Uuid::new_v4(),
            redis: Some(RedisLink {
                client,
                publisher,
                outbox,
            }),
        })
    }

    /// Returns the node-local hub.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Delivers an event to this node's sessions and queues it for the
    /// other nodes. Publishing never delays the caller: a Redis failure is
    /// logged by the publisher task, and other nodes catch up from the
    /// store when their subscription returns.
    pub async fn publish(&self, event: Event) {
        if let Some(redis) = &self.redis {
            let channel = channel_for(&event);
            let envelope = Envelope {
                node: self.node_id,
                event: event.clone(),
            };
            match serde_json::to_string(&envelope) {
                Ok(payload) => {
                    if redis.outbox.try_send((channel, payload)).is_err() {
                        metrics::BROKER_EVENTS_DROPPED.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(error) => {
                    warn!(error = %crate::Causes(&error), "encoding a broker event failed")
                }
            }
        }
        self.hub.dispatch(event);
    }

    /// Checks that Redis responds, when configured.
    pub async fn ping(&self) -> Result<(), ActorError> {
        if let Some(redis) = &self.redis {
            let mut connection = redis.publisher.clone();
            let _: String = redis::cmd("PING").query_async(&mut connection).await?;
        }
        Ok(())
    }

    /// Starts the subscriber task when Redis is configured. It runs until
    /// the process ends, re-subscribing with backoff after any loss.
    pub fn start_subscriber(self: &Arc<Self>) {
        if self.redis.is_none() {
            return;
        }
        let broker = Arc::clone(self);
        actix_web::rt::spawn(async move { broker.subscribe_forever().await });
    }

    async fn subscribe_forever(self: Arc<Self>) {
        let Some(redis) = &self.redis else { return };
        let mut delay = RESUBSCRIBE_MIN_DELAY;
        let mut connected_before = false;
        loop {
            match self.listen_once(&redis.client, connected_before).await {
                Ok(()) => {
                    warn!("redis subscription ended; resubscribing");
                    connected_before = true;
                    delay = RESUBSCRIBE_MIN_DELAY;
                }
                Err(error) => {
                    warn!(error = %crate::Causes(&error), retry_in_ms = delay.as_millis() as u64, "redis subscription failed");
                    delay = (delay * 2).min(RESUBSCRIBE_MAX_DELAY);
                }
            }
            tokio::time::sleep(delay).await;
        }
    }

    async fn listen_once(&self, client: &redis::Client, resync: bool) -> Result<(), ActorError> {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.psubscribe(format!("{CHANNEL_PREFIX}*")).await?;
        if resync {
            metrics::BROKER_RECONNECTS.fetch_add(1, Ordering::Relaxed);
            info!("redis subscription restored; sessions catch up from the store");
        } else {
            info!("redis subscription started");
        }
        // Anything published while the subscription was down is in the
        // store; every session fetches what it missed.
        self.hub.resync_all();

        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let payload: Vec<u8> = message.get_payload_bytes().to_vec();
            match serde_json::from_slice::<Envelope>(&payload) {
                Ok(envelope) if envelope.node == self.node_id => {}
                Ok(envelope) => {
                    metrics::BROKER_EVENTS_RECEIVED.fetch_add(1, Ordering::Relaxed);
                    self.hub.dispatch(envelope.event);
                }
                Err(error) => {
                    warn!(error = %crate::Causes(&error), "ignored a malformed broker event")
                }
            }
        }
        Ok(())
    }
}

/// Publishes queued events one after another. An event that fails is
/// dropped rather than retried: every node's subscription breaks with the
/// same outage, and each resyncs from the store when it comes back.
async fn publish_in_order(
    mut publisher: ConnectionManager,
    mut pending: mpsc::Receiver<(String, String)>,
) {
    let mut failures: u64 = 0;
    while let Some((channel, payload)) = pending.recv().await {
        let sent: Result<(), redis::RedisError> = publisher.publish(&channel, payload).await;
        match sent {
            Ok(()) if failures > 0 => {
                info!(dropped = failures, "publishing to redis works again");
                failures = 0;
            }
            Ok(()) => {}
            Err(error) => {
                failures += 1;
                metrics::BROKER_EVENTS_DROPPED.fetch_add(1, Ordering::Relaxed);
                if failures == 1 || failures.is_power_of_two() {
                    warn!(error = %crate::Causes(&error), failures, "publishing to redis failed; other nodes will catch up from the store");
                }
            }
        }
    }
}

fn channel_for(event: &Event) -> String {
    match event.conversation_id() {
        Some(conversation) => format!("{CHANNEL_PREFIX}conversation:{conversation}"),
        None => format!("{CHANNEL_PREFIX}sessions"),
    }
}
