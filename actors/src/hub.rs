//! This node's registry of live WebSocket sessions: which conversations
//! each one follows, so an event reaches exactly the sessions that need it.
//!
//! Sessions are addressed by `Recipient`, so the hub never names the
//! session actor's type. Deliveries use `do_send`, which never drops a
//! message: the session's own bounded send queue is where a slow client
//! is caught and disconnected.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use actix::{Message, Recipient};
use kinlink_core::{ConversationId, SessionId};

use crate::events::Event;

/// A delivery from the hub to a session.
#[derive(Clone, Debug, Message)]
#[rtype(result = "()")]
pub enum Delivery {
    /// An event for a conversation the session follows, or for the session
    /// itself.
    Event(Arc<Event>),
    /// The broker may have missed events: catch up from the store.
    Resync,
    /// The node is stopping: close the socket with code 1012 (service
    /// restart), after the frames queued before.
    Shutdown,
}

/// Identifies one WebSocket connection on this node.
pub type ConnectionId = u64;

struct Connection {
    session_id: SessionId,
    recipient: Recipient<Delivery>,
    conversations: HashSet<ConversationId>,
    /// Community groups whose open pages this connection keeps live.
    groups: HashSet<uuid::Uuid>,
}

#[derive(Default)]
struct Registry {
    connections: HashMap<ConnectionId, Connection>,
    by_conversation: HashMap<ConversationId, HashSet<ConnectionId>>,
    by_group: HashMap<uuid::Uuid, HashSet<ConnectionId>>,
}

/// The registry, shared by every worker thread of the node.
#[derive(Default)]
pub struct Hub {
    registry: Mutex<Registry>,
    next_id: AtomicU64,
}

impl Hub {
    fn lock(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock leaves plain maps that are still
        // consistent, so a poisoned lock is safe to keep using.
        self.registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Registers a connection and returns its id.
    pub fn register(&self, session_id: SessionId, recipient: Recipient<Delivery>) -> ConnectionId {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Connection {
            session_id,
            recipient,
            conversations: HashSet::new(),
            groups: HashSet::new(),
        };
        self.lock().connections.insert(id, connection);
        id
    }

    /// Forgets a connection and its subscriptions.
    pub fn unregister(&self, id: ConnectionId) {
        let mut registry = self.lock();
        if let Some(connection) = registry.connections.remove(&id) {
            for conversation in connection.conversations {
                remove_follower(&mut registry, conversation, id);
            }
            for group in connection.groups {
                remove_group_follower(&mut registry, group, id);
            }
        }
    }

    /// Makes a connection follow a community group.
    pub fn follow_group(&self, id: ConnectionId, group: uuid::Uuid) {
        let mut registry = self.lock();
        if let Some(connection) = registry.connections.get_mut(&id) {
            connection.groups.insert(group);
            registry.by_group.entry(group).or_default().insert(id);
        }
    }

    /// Stops a connection following a community group.
    pub fn unfollow_group(&self, id: ConnectionId, group: uuid::Uuid) {
        let mut registry = self.lock();
        if let Some(connection) = registry.connections.get_mut(&id) {
            connection.groups.remove(&group);
        }
        remove_group_follower(&mut registry, group, id);
    }

    /// Makes a connection follow a conversation.
    pub fn follow(&self, id: ConnectionId, conversation: ConversationId) {
        let mut registry = self.lock();
        if let Some(connection) = registry.connections.get_mut(&id) {
            connection.conversations.insert(conversation);
            registry
                .by_conversation
                .entry(conversation)
                .or_default()
                .insert(id);
        }
    }

    /// Stops a connection following a conversation.
    pub fn unfollow(&self, id: ConnectionId, conversation: ConversationId) {
        let mut registry = self.lock();
        if let Some(connection) = registry.connections.get_mut(&id) {
            connection.conversations.remove(&conversation);
        }
        remove_follower(&mut registry, conversation, id);
    }

    /// Hands an event to every local connection it concerns.
    pub fn dispatch(&self, event: Event) {
        let event = Arc::new(event);
        let registry = self.lock();
        let targets: Vec<&Connection> = match &*event {
            Event::SessionsEnded { session_ids } => registry
                .connections
                .values()
                .filter(|connection| session_ids.contains(&connection.session_id))
                .collect(),
            // Every follower hears of a removal: the removed member stops,
            // and the others forget the key epoch they cached.
            Event::MemberRemoved {
                conversation_id, ..
            } => followers(&registry, *conversation_id).collect(),
            Event::Message(message) => followers(&registry, message.conversation_id).collect(),
            Event::Read {
                conversation_id, ..
            }
            | Event::File {
                conversation_id, ..
            }
            | Event::Letters {
                conversation_id, ..
            }
            | Event::Call {
                conversation_id, ..
            } => followers(&registry, *conversation_id).collect(),
            Event::Community { group_id, .. } => registry
                .by_group
                .get(group_id)
                .into_iter()
                .flatten()
                .filter_map(|id| registry.connections.get(id))
                .collect(),
        };
        for connection in targets {
            connection.recipient.do_send(Delivery::Event(event.clone()));
        }
    }

    /// Asks every local connection to catch up from the store.
    pub fn resync_all(&self) {
        for connection in self.lock().connections.values() {
            connection.recipient.do_send(Delivery::Resync);
        }
    }

    /// Asks every local connection to close, because the node is stopping.
    pub fn shut_down_all(&self) {
        for connection in self.lock().connections.values() {
            connection.recipient.do_send(Delivery::Shutdown);
        }
    }

    /// Returns the number of live connections on this node.
    pub fn connection_count(&self) -> usize {
        self.lock().connections.len()
    }
}

fn followers(
    registry: &Registry,
    conversation: ConversationId,
) -> impl Iterator<Item = &Connection> {
    registry
        .by_conversation
        .get(&conversation)
        .into_iter()
        .flatten()
        .filter_map(|id| registry.connections.get(id))
}

fn remove_follower(registry: &mut Registry, conversation: ConversationId, id: ConnectionId) {
    if let Some(set) = registry.by_conversation.get_mut(&conversation) {
        set.remove(&id);
        if set.is_empty() {
            registry.by_conversation.remove(&conversation);
        }
    }
}

fn remove_group_follower(registry: &mut Registry, group: uuid::Uuid, id: ConnectionId) {
    if let Some(set) = registry.by_group.get_mut(&group) {
        set.remove(&id);
        if set.is_empty() {
            registry.by_group.remove(&group);
        }
    }
}
