//! The node's registry of live calls: it starts them, finds them for the
//! sessions, passes the SFU's events on, and ends them all when the node
//! stops. A node that stopped without ending its calls ends them at its
//! next start with [`end_abandoned_calls`].

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix::prelude::*;
use chrono::Utc;
use kinlink_core::permissions::Role;
use kinlink_core::{ConversationId, UserId};
use kinlink_media::sfu::{Sfu, SfuEvent};
use kinlink_store::entity::call;
use kinlink_store::{Store, StoreError};
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::{
    CallActor, CallError, CallSettings, CallView, Expel, Gone, Join, LinkClosed, MediaFailed,
    Presence, SERVER_RESTART, SocketId, Stop, ice_servers_of, write_steps,
};
use crate::broker::Broker;
use crate::events::Event;

/// The node's live calls.
pub struct CallRegistry {
    sfu: Sfu,
    store: Store,
    broker: Arc<Broker>,
    settings: CallSettings,
    calls: Mutex<HashMap<uuid::Uuid, (Addr<CallActor>, ConversationId)>>,
    live: Mutex<HashMap<ConversationId, uuid::Uuid>>,
    /// Held while a call starts, so two starts in one conversation make
    /// one call.
    starting: tokio::sync::Mutex<()>,
    /// Set, under `starting`, once the node is stopping: no call starts
    /// after it.
    stopping: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl CallRegistry {
    /// Creates the registry and starts passing the SFU's events on to the
    /// calls. Must run inside the actix system.
    pub fn start(
        sfu: Sfu,
        mut sfu_events: mpsc::UnboundedReceiver<SfuEvent>,
        store: Store,
        broker: Arc<Broker>,
        settings: CallSettings,
    ) -> Arc<Self> {
        let registry = Arc::new(Self {
            sfu,
            store,
            broker,
            settings,
            calls: Mutex::new(HashMap::new()),
            live: Mutex::new(HashMap::new()),
            starting: tokio::sync::Mutex::new(()),
            stopping: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&registry);
        actix::spawn(async move {
            while let Some(event) = sfu_events.recv().await {
                let Some(registry) = weak.upgrade() else {
                    break;
                };
                let (call, participant, publisher, handshake) = match event {
                    SfuEvent::ConnectionFailed {
                        call,
                        participant,
                        publisher,
                    } => (call, participant, publisher, false),
                    SfuEvent::HandshakeFailed {
                        call,
                        participant,
                        publisher,
                    } => (call, participant, publisher, true),
                };
                if let Some((actor, _)) = lock(&registry.calls).get(&call) {
                    actor.do_send(MediaFailed {
                        participant,
                        publisher,
                        handshake,
                    });
                }
            }
        });
        registry
    }

    /// Starts a call in a conversation, with `host` in it, or returns the
    /// call already live there. `agreed_minutes` is the call length the
    /// contact link's agreement sets, if any.
    pub async fn start_call(
        self: &Arc<Self>,
        conversation: ConversationId,
        host: UserId,
        socket: SocketId,
        roles: Vec<Role>,
        agreed_minutes: Option<u32>,
    ) -> Result<CallView, CallError> {
        let _starting = self.starting.lock().await;
        if self.stopping.load(Ordering::Relaxed) {
            return Err(CallError::Stopping);
        }

        if let Some((actor, _)) = self.live_call(conversation) {
            return actor
                .send(Join {
                    user: host,
                    socket,
                    roles,
                })
                .await
                .map_err(|_stopped| CallError::Unknown)?;
        }
        let now = Utc::now();
        let row = call::Model {
            id: uuid::Uuid::now_v7(),
            conversation_id: conversation.0,
            host_id: host.0,
            started_at: now,
            ends_at: now + call_length(self.settings.max_duration, agreed_minutes),
            ended_at: None,
            end_reason: None,
            node_id: Some(self.settings.node_id.clone()),
        };
        self.store.start_call(row.clone()).await?;
        self.store
            .record_call_event(row.id, now, Some(host), None, "started")
            .await?;
        let (steps, queued) = mpsc::unbounded_channel();
        actix::spawn(write_steps(
            row.id,
            conversation,
            self.store.clone(),
            self.broker.clone(),
            self.sfu.clone(),
            queued,
        ));
        let actor = CallActor {
            row: row.clone(),
            settings: self.settings.clone(),
            members: HashMap::new(),
            warned: false,
            ended: None,
            sfu: self.sfu.clone(),
            steps,
            registry: Arc::downgrade(self),
        }
        .start();
        lock(&self.calls).insert(row.id, (actor.clone(), conversation));
        lock(&self.live).insert(conversation, row.id);
        info!(call = %row.id, %conversation, "call started");
        actor
            .send(Join {
                user: host,
                socket,
                roles,
            })
            .await
            .map_err(|_stopped| CallError::Unknown)?
    }

    /// Returns `view` as `user` receives it: with the STUN and TURN
    /// servers, and TURN credentials, while the call is live and they are
    /// in it (admitted or paused), and with none otherwise.
    pub fn for_recipient(&self, mut view: CallView, user: UserId) -> CallView {
        let taking_part = view.participants.iter().any(|participant| {
            participant.user_id == user
                && matches!(participant.state, Presence::InCall | Presence::Paused)
        });
        view.ice_servers = if view.status == "live" && taking_part {
            ice_servers_of(
                &self.settings.ice_servers,
                self.settings.turn_secret.as_ref(),
                view.call_id,
                view.ends_at,
            )
        } else {
            Vec::new()
        };
        view
    }

    /// Returns the live call of a conversation on this node.
    pub fn live_call(&self, conversation: ConversationId) -> Option<(Addr<CallActor>, uuid::Uuid)> {
        let id = *lock(&self.live).get(&conversation)?;
        lock(&self.calls)
            .get(&id)
            .map(|(actor, _)| (actor.clone(), id))
    }

    /// Returns a live call on this node, with its conversation.
    pub fn find(&self, call: uuid::Uuid) -> Option<(Addr<CallActor>, ConversationId)> {
        lock(&self.calls).get(&call).cloned()
    }

    /// Tells the calls a socket joined that it closed.
    pub fn socket_closed(&self, calls: &HashSet<uuid::Uuid>, user: UserId, socket: SocketId) {
        for call in calls {
            if let Some((actor, _)) = self.find(*call) {
                actor.do_send(Gone { user, socket });
            }
        }
    }

    /// Ends a contact link's live call when the link is suspended or
    /// ended.
    pub fn link_closed(&self, conversation: ConversationId, ended: bool) {
        if let Some((actor, _)) = self.live_call(conversation) {
            actor.do_send(LinkClosed { ended });
        }
    }

    /// Takes a disabled account out of every live call on this node.
    pub fn account_disabled(&self, user: UserId) {
        for (actor, _) in lock(&self.calls).values() {
            actor.do_send(Expel { user });
        }
    }

    /// Takes someone removed from a conversation out of its live call.
    pub fn member_removed(&self, conversation: ConversationId, user: UserId) {
        if let Some((actor, _)) = self.live_call(conversation) {
            actor.do_send(Expel { user });
        }
    }

    /// Ends every live call on this node with `server_restart`, because
    /// the node is stopping, and waits until each end is stored and
    /// announced, or until `within` has passed. No call starts afterwards.
    /// Returns how many calls it ended.
    pub async fn stop_all(&self, within: Duration) -> usize {
        let deadline = tokio::time::Instant::now() + within;
        {
            // A start under way finishes first, so its call is ended too.
            let _starting = self.starting.lock().await;
            self.stopping.store(true, Ordering::Relaxed);
        }
        let actors: Vec<Addr<CallActor>> = lock(&self.calls)
            .values()
            .map(|(actor, _)| actor.clone())
            .collect();
        let mut ending = Vec::with_capacity(actors.len());
        for actor in actors {
            // A call that ended meanwhile has stopped, so sending to it fails.
            if let Ok(Ok(done)) = tokio::time::timeout_at(deadline, actor.send(Stop)).await {
                ending.push(done);
            }
        }
        let ended = ending.len();
        let mut unfinished = 0;
        for done in ending {
            if !matches!(tokio::time::timeout_at(deadline, done).await, Ok(Ok(()))) {
                unfinished += 1;
            }
        }
        if unfinished > 0 {
            warn!(
                calls = unfinished,
                "some ended calls were not stored and announced in time; the next start closes them"
            );
        }
        ended
    }

    pub(super) fn forget(&self, call: uuid::Uuid, conversation: ConversationId) {
        lock(&self.calls).remove(&call);
        let mut live = lock(&self.live);
        if live.get(&conversation) == Some(&call) {
            live.remove(&conversation);
        }
    }
}

/// Returns how long a call lasts: the length the contact link's agreement
/// sets, capped at the configured maximum, or that maximum.
fn call_length(max: chrono::Duration, agreed_minutes: Option<u32>) -> chrono::Duration {
    agreed_minutes.map_or(max, |minutes| {
        chrono::Duration::minutes(i64::from(minutes)).min(max)
    })
}

/// Ends the calls that this node left open when it last stopped without
/// ending them, such as after a crash, with `server_restart`. The ended
/// `call` frames go to the members who follow those conversations on
/// other nodes. Calls of
/// other nodes are left alone, because those nodes may still run them.
/// Returns how many calls it ended.
pub async fn end_abandoned_calls(
    store: &Store,
    broker: &Broker,
    node_id: &str,
) -> Result<usize, StoreError> {
    let ended = store
        .end_open_calls_of_node(node_id, Utc::now(), SERVER_RESTART)
        .await?;
    for row in &ended {
        info!(call = %row.id, node = node_id, "call left open by an earlier run ended");
        broker
            .publish(Event::Call {
                conversation_id: ConversationId(row.conversation_id),
                call: CallView::ended(row),
            })
            .await;
    }
    Ok(ended.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_length_is_capped_by_config() {
        let max = chrono::Duration::minutes(90);
        assert_eq!(call_length(max, None), max);
        assert_eq!(call_length(max, Some(30)), chrono::Duration::minutes(30));
        assert_eq!(call_length(max, Some(120)), max);
    }
}
