//! One actor per signed-in WebSocket connection.
//!
//! It holds the user's keys for the life of the socket (wiped when it
//! stops), decrypts stored messages for its user and seals what its user
//! sends. Outgoing frames pass through a bounded queue drained by a writer
//! task; a client that stops reading fills the queue and is disconnected,
//! so its backlog never grows past the bound.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use actix::prelude::*;
use actix_ws::{AggregatedMessage, CloseCode, CloseReason, ProtocolError};
use chrono::Utc;
use kinlink_core::content::MessageContent;
use kinlink_core::letterbox::{self, LiveRejection};
use kinlink_core::permissions::{self, Action, Relationship, Role};
use kinlink_core::{ConversationId, MessageId, SessionId, UserId};
use kinlink_store::Store;
use kinlink_store::conversations::{ConversationKind, NewMessage};
use tokio::sync::{Mutex, mpsc, oneshot};
use tracing::{debug, info, warn};

use crate::broker::Broker;
use crate::conversation::ConversationRegistry;
use crate::events::{Event, StoredMessage};
use crate::frames::{ClientFrame, ServerFrame, parse_client_frame};
use crate::hub::{ConnectionId, Delivery};
use crate::keyring::{Keyring, SharedKeyring};
use crate::{ActorError, metrics};

#[path = "session_calls.rs"]
mod calls;

/// How often the server pings the client.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(10);
/// How long a client may stay silent before it is dropped.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the session row is touched and checked while the socket lives.
const SESSION_CHECK_INTERVAL: Duration = Duration::from_secs(60);
/// How long a closing connection keeps reading (and discarding) what the
/// client still sends, so the close frame is not lost to a TCP reset.
const CLOSE_LINGER: Duration = Duration::from_millis(500);
/// Sends one connection may have waiting to be stored; past this a send is
/// answered `server.busy` at once, so an overloaded node pushes back on its
/// clients instead of queueing without bound.
pub const MAX_SENDS_IN_FLIGHT: usize = 64;
/// Most messages fetched from the store per page while catching up.
const CATCH_UP_PAGE: u64 = 32;
/// How long catching up waits for the send queue to drain before the next
/// page.
const CATCH_UP_RETRY: Duration = Duration::from_millis(20);

/// Limits of one connection's send queue.
#[derive(Clone, Copy, Debug)]
pub struct QueueLimits {
    /// Maximum frames waiting to be written.
    pub frames: usize,
    /// Maximum bytes waiting to be written.
    pub bytes: usize,
}

/// Everything a session actor shares with the rest of the node.
#[derive(Clone)]
pub struct SessionContext {
    pub store: Store,
    pub broker: Arc<Broker>,
    pub conversations: Arc<ConversationRegistry>,
    pub calls: Arc<crate::calls::CallRegistry>,
    pub queue: QueueLimits,
    pub max_message_bytes: usize,
}

/// The identity of the connected user.
pub struct Identity {
    pub session_id: SessionId,
    pub user_id: UserId,
    pub roles: Vec<Role>,
}

enum Outgoing {
    Text(String),
    Ping,
    Pong(actix_web::web::Bytes),
    Close(CloseReason),
}

/// The sending half of the bounded queue.
struct SendQueue {
    sender: mpsc::Sender<Outgoing>,
    /// Bytes queued and not yet written; shared with the writer task.
    queued_bytes: Arc<AtomicI64>,
    max_bytes: i64,
    /// Fires to make the writer drop the connection without flushing.
    abort: Option<oneshot::Sender<()>>,
}

/// The reason a frame could not be queued.
enum QueueError {
    /// The queue is full: the client is not reading.
    Full,
    /// The writer has ended: the connection is gone.
    Closed,
}

impl SendQueue {
    fn push(&self, frame: Outgoing) -> Result<(), QueueError> {
        let size = match &frame {
            Outgoing::Text(text) => text.len() as i64,
            Outgoing::Pong(bytes) => bytes.len() as i64,
            Outgoing::Ping | Outgoing::Close(_) => 0,
        };
        if self.queued_bytes.load(Ordering::Relaxed) + size > self.max_bytes {
            return Err(QueueError::Full);
        }
        self.sender.try_send(frame).map_err(|error| match error {
            mpsc::error::TrySendError::Full(_) => QueueError::Full,
            mpsc::error::TrySendError::Closed(_) => QueueError::Closed,
        })?;
        self.queued_bytes.fetch_add(size, Ordering::Relaxed);
        metrics::WS_SEND_QUEUE_BYTES.fetch_add(size, Ordering::Relaxed);
        metrics::WS_SEND_QUEUE_FRAMES.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The actor behind one WebSocket.
pub struct SessionActor {
    identity: Identity,
    shared: SessionContext,
    /// The user's keys; behind a lock so store-bound futures can use them.
    keyring: SharedKeyring,
    /// Last sequence number delivered, per followed conversation.
    delivered: HashMap<ConversationId, i64>,
    queue: SendQueue,
    connection_id: Option<ConnectionId>,
    last_heard: Instant,
    incoming: Option<actix_ws::AggregatedMessageStream>,
    /// Set once a close frame is queued; input is then ignored.
    closing: bool,
    /// Sends handed to the conversation actor and not yet answered.
    sends_in_flight: usize,
    /// Conversations this user was found to be a member of, with the key
    /// epoch then current, so each send does not ask the store again.
    /// Cleared for a conversation when any of its members is removed, which
    /// also moves its key epoch.
    send_rights: Arc<std::sync::Mutex<SendRights>>,
    /// Taken by each send for its whole life; tokio's mutex queues waiters
    /// first come, first served, which keeps this connection's sends in
    /// order.
    send_order: Arc<Mutex<()>>,
    /// Conversations being caught up from the store, each with the highest
    /// sequence number that live events announced meanwhile.
    catching_up: HashMap<ConversationId, i64>,
    /// Live calls this connection joined, to tell when it closes.
    joined_calls: HashSet<uuid::Uuid>,
    call_budget: calls::CallBudget,
}

impl SessionActor {
    /// Creates the actor and starts the writer task that owns the socket.
    pub fn new(
        identity: Identity,
        keyring: Keyring,
        shared: SessionContext,
        socket: actix_ws::Session,
        incoming: actix_ws::AggregatedMessageStream,
    ) -> Self {
        let (sender, receiver) = mpsc::channel(shared.queue.frames);
        let (abort, aborted) = oneshot::channel();
        let queued_bytes = Arc::new(AtomicI64::new(0));
        actix_web::rt::spawn(write_frames(
            socket,
            receiver,
            Arc::clone(&queued_bytes),
            aborted,
        ));
        let queue = SendQueue {
            sender,
            queued_bytes,
            max_bytes: shared.queue.bytes as i64,
            abort: Some(abort),
        };
        Self {
            identity,
            shared,
            keyring: SharedKeyring::new(keyring),
            delivered: HashMap::new(),
            queue,
            connection_id: None,
            last_heard: Instant::now(),
            incoming: Some(incoming),
            closing: false,
            sends_in_flight: 0,
            send_order: Arc::default(),
            send_rights: Arc::default(),
            catching_up: HashMap::new(),
            joined_calls: HashSet::new(),
            call_budget: calls::CallBudget::default(),
        }
    }

    fn send_frame(&mut self, frame: &ServerFrame, ctx: &mut Context<Self>) {
        match serde_json::to_string(frame) {
            Ok(text) => self.push(Outgoing::Text(text), ctx),
            Err(error) => warn!(error = %crate::Causes(&error), "encoding a frame failed"),
        }
    }

    fn push(&mut self, frame: Outgoing, ctx: &mut Context<Self>) {
        match self.queue.push(frame) {
            Ok(()) => {}
            Err(QueueError::Closed) => ctx.stop(),
            Err(QueueError::Full) => {
                // Only the first overflow counts: frames pushed while the
                // actor stops must not inflate the metric.
                if let Some(abort) = self.queue.abort.take() {
                    metrics::WS_SLOW_CONSUMER_DISCONNECTS.fetch_add(1, Ordering::Relaxed);
                    warn!(session = %self.identity.session_id, "send queue full; disconnecting the client");
                    let _ = abort.send(());
                }
                ctx.stop();
            }
        }
    }

    fn close(&mut self, code: CloseCode, reason: &str, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        self.closing = true;
        let reason = CloseReason {
            code,
            description: Some(reason.to_owned()),
        };
        self.push(Outgoing::Close(reason), ctx);
        ctx.run_later(CLOSE_LINGER, |_actor, ctx| ctx.stop());
    }

    fn relationships(&self, is_member: bool) -> Vec<Relationship> {
        if is_member {
            vec![Relationship::ConversationMember]
        } else {
            Vec::new()
        }
    }

    fn handle_frame(&mut self, text: &str, ctx: &mut Context<Self>) {
        let frame = match parse_client_frame(text) {
            Ok(frame) => frame,
            Err(message) => {
                self.send_frame(&ServerFrame::error("frame.invalid", message, None), ctx);
                return;
            }
        };
        debug!(session = %self.identity.session_id, "frame received");
        match frame {
            ClientFrame::Subscribe {
                conversation_id,
                after,
            } => self.subscribe(conversation_id, after, ctx),
            ClientFrame::Send {
                conversation_id,
                message_id,
                body,
                attachments,
            } => {
                metrics::SEND_FRAMES_RECEIVED.fetch_add(1, Ordering::Relaxed);
                self.send_message(conversation_id, message_id, body, attachments, ctx)
            }
            ClientFrame::Read {
                conversation_id,
                up_to,
            } => self.mark_read(conversation_id, up_to, ctx),
            ClientFrame::CommunityFollow { group_id } => self.follow_group(group_id, ctx),
            ClientFrame::CommunityUnfollow { group_id } => {
                if let Some(id) = self.connection_id {
                    self.shared.broker.hub().unfollow_group(id, group_id);
                }
            }
            call => self.handle_call_frame(call, ctx),
        }
    }

    /// Checks membership and the permission table for one action.
    fn authorise(
        &self,
        conversation: ConversationId,
        action: Action,
    ) -> impl Future<Output = Result<bool, ActorError>> + 'static {
        let store = self.shared.store.clone();
        let user = self.identity.user_id;
        let roles = self.identity.roles.clone();
        let relationships = self.relationships(true);
        async move { authorised(&store, user, &roles, &relationships, conversation, action).await }
    }

    /// Keeps a community group's open page live, for a reader the
    /// permission table lets read it.
    fn follow_group(&mut self, group: uuid::Uuid, ctx: &mut Context<Self>) {
        let store = self.shared.store.clone();
        let user = self.identity.user_id;
        let roles = self.identity.roles.clone();
        let check = async move {
            let mut relationships = Vec::new();
            if roles.contains(&Role::Moderator) {
                relationships.push(Relationship::CommunityModerator);
            }
            if store.community_group_readable_by(group, user).await? {
                relationships.push(Relationship::GroupReader);
            }
            Ok::<bool, ActorError>(
                permissions::check(&roles, Action::ReadCommunity, &relationships).is_ok(),
            )
        };
        ctx.wait(
            detached(check)
                .into_actor(self)
                .map(move |result, actor, ctx| match result {
                    Ok(true) => {
                        if let Some(id) = actor.connection_id {
                            actor.shared.broker.hub().follow_group(id, group);
                        }
                    }
                    Ok(false) => actor.send_frame(&not_found(None), ctx),
                    Err(error) => {
                        warn!(error = %crate::Causes(&error), "following a group failed");
                        actor.send_frame(
                            &ServerFrame::error("server.busy", "follow failed; try again", None),
                            ctx,
                        );
                    }
                }),
        );
    }

    /// Passes on a change in a followed community group, checking first
    /// that the reader may still read it: someone who left an approval
    /// group stops hearing of it.
    fn on_community_change(
        &mut self,
        group: uuid::Uuid,
        topic: uuid::Uuid,
        ctx: &mut Context<Self>,
    ) {
        let store = self.shared.store.clone();
        let user = self.identity.user_id;
        let moderator = self.identity.roles.contains(&Role::Moderator);
        let check = async move {
            Ok::<bool, ActorError>(
                moderator || store.community_group_readable_by(group, user).await?,
            )
        };
        ctx.spawn(
            detached(check)
                .into_actor(self)
                .map(move |result, actor, ctx| match result {
                    Ok(true) => {
                        let frame = ServerFrame::Community {
                            group_id: group,
                            topic_id: topic,
                        };
                        actor.send_frame(&frame, ctx);
                    }
                    Ok(false) => {
                        if let Some(id) = actor.connection_id {
                            actor.shared.broker.hub().unfollow_group(id, group);
                        }
                    }
                    Err(error) => {
                        warn!(error = %crate::Causes(&error), "checking a group change failed");
                    }
                }),
        );
    }

    fn subscribe(&mut self, conversation: ConversationId, after: i64, ctx: &mut Context<Self>) {
        let check = self.authorise(conversation, Action::ReadConversation);
        ctx.wait(
            check
                .into_actor(self)
                .map(move |result, actor, ctx| match result {
                    Ok(true) => {
                        if let Some(id) = actor.connection_id {
                            actor.shared.broker.hub().follow(id, conversation);
                        }
                        actor.delivered.insert(conversation, after.max(0));
                        actor.catch_up(conversation, ctx);
                        actor.show_live_call(conversation, ctx);
                    }
                    Ok(false) => actor.send_frame(&not_found(None), ctx),
                    Err(error) => {
                        warn!(error = %crate::Causes(&error), "subscribe failed");
                        actor.send_frame(
                            &ServerFrame::error("server.busy", "subscribe failed; try again", None),
                            ctx,
                        );
                    }
                }),
        );
    }

    /// Sends every stored message after the last one delivered, in order,
    /// a page at a time. A page is fetched only when the send queue has
    /// room for it, so a long history never overflows the queue. Live
    /// events for the conversation meanwhile only raise the target.
    fn catch_up(&mut self, conversation: ConversationId, ctx: &mut Context<Self>) {
        if self.catching_up.contains_key(&conversation) {
            return;
        }
        self.catching_up.insert(conversation, 0);
        self.catch_up_page(conversation, ctx);
    }

    /// Returns how many messages fit in the send queue as one page.
    fn page_size(&self) -> u64 {
        let per_message = self.shared.max_message_bytes as i64 + 512;
        let fits = (self.queue.max_bytes / per_message).max(1) as u64;
        fits.min(CATCH_UP_PAGE)
    }

    fn queue_has_room(&self, page: u64) -> bool {
        let queued = self.queue.queued_bytes.load(Ordering::Relaxed);
        let page_bytes = page as i64 * (self.shared.max_message_bytes as i64 + 512);
        let bytes_ok = queued == 0 || queued + page_bytes <= self.queue.max_bytes;
        bytes_ok && self.queue.sender.capacity() >= page as usize
    }

    fn catch_up_page(&mut self, conversation: ConversationId, ctx: &mut Context<Self>) {
        let page = self.page_size();
        if !self.queue_has_room(page) {
            ctx.run_later(CATCH_UP_RETRY, move |actor, ctx| {
                actor.catch_up_page(conversation, ctx)
            });
            return;
        }
        let Some(&after) = self.delivered.get(&conversation) else {
            self.catching_up.remove(&conversation);
            return;
        };
        let store = self.shared.store.clone();
        let keyring = self.keyring.clone();
        let fetch = async move {
            let rows = store.messages_after(conversation, after, page).await?;
            let full = rows.len() as u64 == page;
            let mut frames = Vec::with_capacity(rows.len());
            for row in &rows {
                frames.push((row.seq, open_row(&keyring, &store, row).await));
            }
            Ok::<_, ActorError>((frames, full))
        };
        ctx.wait(fetch.into_actor(self).map(move |result, actor, ctx| match result {
            Ok((frames, full)) => {
                actor.deliver_in_order(conversation, frames, ctx);
                let announced = actor.catching_up.get(&conversation).copied().unwrap_or(0);
                let last = actor.delivered.get(&conversation).copied().unwrap_or(0);
                if full || announced > last {
                    actor.catch_up_page(conversation, ctx);
                } else {
                    actor.catching_up.remove(&conversation);
                }
            }
            Err(error) => {
                actor.catching_up.remove(&conversation);
                warn!(error = %crate::Causes(&error), conversation = %conversation, "catching up failed");
            }
        }));
    }

    fn deliver_in_order(
        &mut self,
        conversation: ConversationId,
        frames: Vec<(i64, Option<ServerFrame>)>,
        ctx: &mut Context<Self>,
    ) {
        for (seq, frame) in frames {
            let Some(last) = self.delivered.get_mut(&conversation) else {
                return;
            };
            if seq <= *last {
                continue;
            }
            *last = seq;
            if let Some(frame) = frame {
                self.send_frame(&frame, ctx);
            }
        }
    }

    fn on_stored_message(&mut self, message: StoredMessage, ctx: &mut Context<Self>) {
        let Some(&last) = self.delivered.get(&message.conversation_id) else {
            return;
        };
        if message.seq <= last {
            return;
        }
        if let Some(announced) = self.catching_up.get_mut(&message.conversation_id) {
            *announced = (*announced).max(message.seq);
            return;
        }
        if message.seq > last + 1 {
            // Something was missed (another node's event lost with Redis,
            // say): the store has it.
            self.catch_up(message.conversation_id, ctx);
            return;
        }
        // The common case: the key is in memory and nothing else holds the
        // keyring, so the message opens here without a future.
        let opened = self.keyring.open_with_cached_key(&message);
        if let Some(Ok(content)) = opened {
            let (body, attachments) = content.into_parts();
            let frame = ServerFrame::Message {
                conversation_id: message.conversation_id,
                seq: message.seq,
                message_id: message.message_id,
                sender_id: message.sender_id,
                body,
                attachments,
                sent_at: message.sent_at,
            };
            self.deliver_in_order(
                message.conversation_id,
                vec![(message.seq, Some(frame))],
                ctx,
            );
            return;
        }
        // Otherwise open the key from the store first; a ciphertext that
        // fails to open is reported on that path.
        let store = self.shared.store.clone();
        let keyring = self.keyring.clone();
        let conversation = message.conversation_id;
        let open = async move {
            let row = kinlink_store::entity::message::Model {
                conversation_id: message.conversation_id.0,
                seq: message.seq,
                message_id: message.message_id.0,
                sender_id: message.sender_id.0,
                key_epoch: message.key_epoch,
                ciphertext: message.ciphertext,
                sent_at: message.sent_at,
            };
            vec![(row.seq, open_row(&keyring, &store, &row).await)]
        };
        ctx.wait(
            open.into_actor(self)
                .map(move |frames, actor, ctx| actor.deliver_in_order(conversation, frames, ctx)),
        );
    }

    fn send_message(
        &mut self,
        conversation: ConversationId,
        message_id: MessageId,
        body: String,
        attachments: Vec<uuid::Uuid>,
        ctx: &mut Context<Self>,
    ) {
        let content = match MessageContent::parse(body, attachments, self.shared.max_message_bytes)
        {
            Ok(content) => content,
            Err(invalid) => {
                let frame = ServerFrame::error(
                    "request.invalid_field",
                    invalid.to_string(),
                    Some(message_id),
                );
                self.send_frame(&frame, ctx);
                return;
            }
        };
        if self.sends_in_flight >= MAX_SENDS_IN_FLIGHT {
            let frame = ServerFrame::error(
                "server.busy",
                "too many messages waiting to be stored; send it again shortly",
                Some(message_id),
            );
            self.send_frame(&frame, ctx);
            return;
        }
        self.sends_in_flight += 1;
        // The rights to send are cached, so this connection must hear every
        // change that ends them (a removal, a new agreement, a suspension),
        // subscribed or not. It follows the conversation before the check,
        // so no such event can fall between the check and the cache.
        if let Some(id) = self.connection_id {
            self.shared.broker.hub().follow(id, conversation);
        }
        let check = self.authorise(conversation, Action::SendMessage);
        let store = self.shared.store.clone();
        let keyring = self.keyring.clone();
        let conversations = Arc::clone(&self.shared.conversations);
        let sender = self.identity.user_id;
        let order = Arc::clone(&self.send_order);
        let rights = Arc::clone(&self.send_rights);
        let roles = self.identity.roles.clone();
        let work = async move {
            // One send at a time per connection, in the order received, so
            // the store keeps this client's messages in its order.
            let _turn = order.lock().await;
            let (known, generation) = {
                let rights = lock_rights(&rights);
                (rights.epochs.get(&conversation).copied(), rights.generation)
            };
            let epoch = match known {
                Some(epoch) => {
                    let member = [Relationship::ConversationMember];
                    if permissions::check(&roles, Action::SendMessage, &member).is_err() {
                        return Ok(Sent::NotFound);
                    }
                    epoch
                }
                None => {
                    if !check.await? {
                        return Ok(Sent::NotFound);
                    }
                    // A suspended or ended contact link takes nothing new,
                    // and families write letters unless the agreement lets
                    // them message live. The right to send is cached until
                    // the link's agreement or status changes, which every
                    // session hears.
                    let row = store.conversation(conversation).await?;
                    let contact_link = row.kind == ConversationKind::ContactLink.as_str();
                    let terms = if contact_link {
                        store.live_terms(conversation).await?
                    } else {
                        None
                    };
                    let family = !permissions::is_staff(&roles);
                    match letterbox::live_message_gate(contact_link, terms, family) {
                        Ok(()) => {}
                        Err(LiveRejection::Closed) => return Ok(Sent::LinkClosed),
                        Err(LiveRejection::LettersOnly) => return Ok(Sent::LettersOnly),
                    }
                    // A change heard while the checks ran leaves nothing
                    // cached, so the next send checks again.
                    let mut rights = lock_rights(&rights);
                    if rights.generation == generation {
                        rights.epochs.insert(conversation, row.key_epoch);
                    }
                    row.key_epoch
                }
            };
            if !content.attachments().is_empty()
                && !store
                    .attachable(conversation, sender, content.attachments())
                    .await?
            {
                return Ok(Sent::InvalidAttachments);
            }
            let ciphertext = keyring
                .seal_message(
                    &store,
                    conversation,
                    epoch,
                    message_id,
                    &content.to_plaintext(),
                )
                .await?;
            let message = NewMessage {
                conversation_id: conversation,
                message_id,
                sender_id: sender,
                key_epoch: epoch,
                ciphertext,
                sent_at: Utc::now(),
                attachments: content.attachments().to_vec(),
            };
            Ok::<_, ActorError>(Sent::Stored(conversations.append(message).await?))
        };
        ctx.spawn(
            detached(work)
                .into_actor(self)
                .map(move |result, actor, ctx| {
                    actor.sends_in_flight -= 1;
                    metrics::SEND_FRAMES_ANSWERED.fetch_add(1, Ordering::Relaxed);
                    // A stranger's sends to made-up ids leave nothing
                    // followed; a member with cached rights stays followed.
                    if let Some(id) = actor.connection_id {
                        let hub = actor.shared.broker.hub();
                        if lock_rights(&actor.send_rights).epochs.contains_key(&conversation) {
                            hub.follow(id, conversation);
                        } else if matches!(result, Ok(Sent::NotFound))
                            && !actor.delivered.contains_key(&conversation)
                        {
                            hub.unfollow(id, conversation);
                        }
                    }
                    match result {
                    Ok(Sent::Stored(appended)) => {
                        let ack = ServerFrame::Ack {
                            conversation_id: conversation,
                            message_id,
                            seq: appended.seq,
                            sent_at: appended.sent_at,
                        };
                        actor.send_frame(&ack, ctx);
                    }
                    Ok(Sent::NotFound) => actor.send_frame(&not_found(Some(message_id)), ctx),
                    Ok(Sent::LinkClosed) => {
                        let frame = ServerFrame::error(
                            "resource.conflict",
                            "the contact link is suspended or ended: nothing new can be sent",
                            Some(message_id),
                        );
                        actor.send_frame(&frame, ctx);
                    }
                    Ok(Sent::LettersOnly) => {
                        let frame = ServerFrame::error(
                            "link.letters_only",
                            "live messages are off in this contact link: write a letter, which a practitioner reads first",
                            Some(message_id),
                        );
                        actor.send_frame(&frame, ctx);
                    }
                    Ok(Sent::InvalidAttachments) => {
                        let frame = ServerFrame::error(
                            "request.invalid_field",
                            "invalid attachments: each must be a file I uploaded to this conversation, with every byte sent and not failed",
                            Some(message_id),
                        );
                        actor.send_frame(&frame, ctx);
                    }
                    Err(ActorError::Store(kinlink_store::StoreError::Conflict { .. })) => {
                        let frame = ServerFrame::error(
                            "request.invalid_field",
                            "invalid message_id: another message uses it; choose a new one",
                            Some(message_id),
                        );
                        actor.send_frame(&frame, ctx);
                    }
                    Err(error) => {
                        warn!(error = %crate::Causes(&error), conversation = %conversation, "storing a message failed");
                        let frame = ServerFrame::error(
                            "server.busy",
                            "the message was not stored; send it again",
                            Some(message_id),
                        );
                        actor.send_frame(&frame, ctx);
                    }
                    }
                }),
        );
    }

    fn mark_read(&mut self, conversation: ConversationId, up_to: i64, ctx: &mut Context<Self>) {
        let check = self.authorise(conversation, Action::MarkRead);
        let store = self.shared.store.clone();
        let broker = Arc::clone(&self.shared.broker);
        let user_id = self.identity.user_id;
        let work = async move {
            if !check.await? {
                return Ok(false);
            }
            if let Some(up_to) = store
                .mark_read(conversation, user_id, up_to, Utc::now())
                .await?
            {
                broker
                    .publish(Event::Read {
                        conversation_id: conversation,
                        user_id,
                        up_to,
                    })
                    .await;
            }
            Ok::<_, ActorError>(true)
        };
        ctx.spawn(
            detached(work)
                .into_actor(self)
                .map(|result, actor, ctx| match result {
                    Ok(true) => {}
                    Ok(false) => actor.send_frame(&not_found(None), ctx),
                    Err(error) => warn!(error = %crate::Causes(&error), "recording a read failed"),
                }),
        );
    }

    fn check_session(&mut self, ctx: &mut Context<Self>) {
        let store = self.shared.store.clone();
        let session_id = self.identity.session_id;
        let user_id = self.identity.user_id;
        let check = async move {
            let alive = store
                .sessions_of(user_id)
                .await?
                .into_iter()
                .any(|row| row.id == session_id.0 && row.absolute_expires_at > Utc::now());
            if alive {
                store.touch_session(session_id, Utc::now()).await?;
            }
            Ok::<_, ActorError>(alive)
        };
        ctx.spawn(detached(check).into_actor(self).map(|result, actor, ctx| {
            if let Ok(false) = result {
                actor.close(CloseCode::Policy, "session ended", ctx);
            }
        }));
    }
}

/// Checks that `user` is an active member of `conversation` and that the
/// permission table grants them `action` there.
async fn authorised(
    store: &Store,
    user: UserId,
    roles: &[Role],
    relationships: &[Relationship],
    conversation: ConversationId,
    action: Action,
) -> Result<bool, ActorError> {
    let member = store.active_membership(conversation, user).await?.is_some();
    Ok(member && permissions::check(roles, action, relationships).is_ok())
}

/// Runs a session's store work as its own task on this thread.
///
/// A future that only the actor polls stops while the actor waits on
/// another (`ctx.wait`), and it may be holding a database connection at
/// that moment. When the waited-on future needs a connection too, enough
/// such sessions exhaust the pool and stall each other. A task of its own
/// keeps going and gives its connection back whatever the actor is doing.
fn detached<T: 'static>(
    work: impl Future<Output = Result<T, ActorError>> + 'static,
) -> impl Future<Output = Result<T, ActorError>> {
    let task = actix::spawn(work);
    async move { task.await.unwrap_or(Err(ActorError::TaskFailed)) }
}

/// The conversations this connection may send to without asking the store
/// again, with their key epochs.
#[derive(Default)]
struct SendRights {
    epochs: HashMap<ConversationId, i32>,
    /// Counts the changes heard, so a check that ran while one arrived
    /// does not cache its outcome.
    generation: u64,
}

impl SendRights {
    /// Drops the cached right to send to a conversation whose members,
    /// agreement or status changed.
    fn forget(&mut self, conversation: ConversationId) {
        self.epochs.remove(&conversation);
        self.generation += 1;
    }
}

fn lock_rights(rights: &std::sync::Mutex<SendRights>) -> std::sync::MutexGuard<'_, SendRights> {
    // The map holds plain values, so a panic elsewhere cannot leave it
    // inconsistent.
    rights
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The outcome of a `send` frame.
enum Sent {
    Stored(kinlink_store::conversations::Appended),
    NotFound,
    InvalidAttachments,
    LinkClosed,
    /// The families of this contact link exchange letters only.
    LettersOnly,
}

/// Opens one stored row for the user; a row that fails to open is reported
/// as a security event and shown to nobody.
async fn open_row(
    keyring: &SharedKeyring,
    store: &Store,
    row: &kinlink_store::entity::message::Model,
) -> Option<ServerFrame> {
    match keyring.open_message(store, row).await {
        Ok(content) => {
            let (body, attachments) = content.into_parts();
            Some(ServerFrame::Message {
                conversation_id: ConversationId(row.conversation_id),
                seq: row.seq,
                message_id: MessageId(row.message_id),
                sender_id: UserId(row.sender_id),
                body,
                attachments,
                sent_at: row.sent_at,
            })
        }
        Err(error) => {
            report_rejected_ciphertext(store, keyring.user_id(), row, &error).await;
            None
        }
    }
}

/// Logs and audits a ciphertext that failed to open where it was found.
pub async fn report_rejected_ciphertext(
    store: &Store,
    reader: UserId,
    row: &kinlink_store::entity::message::Model,
    error: &ActorError,
) {
    metrics::CIPHERTEXT_REJECTED.fetch_add(1, Ordering::Relaxed);
    warn!(
        security_event = "ciphertext_rejected",
        conversation = %row.conversation_id,
        seq = row.seq,
        %error,
        "a stored message failed to open; it is not shown"
    );
    let record = kinlink_store::audit::AuditRecord {
        actor_id: Some(reader),
        organisation_id: None,
        action: "security.ciphertext_rejected",
        subject_kind: "message",
        subject_id: Some(row.message_id),
        detail: serde_json::json!({ "conversation_id": row.conversation_id, "seq": row.seq }),
        at: Utc::now(),
    };
    if let Err(error) = store.audit(record).await {
        warn!(error = %crate::Causes(&error), "recording a security event failed");
    }
}

fn not_found(reference: Option<MessageId>) -> ServerFrame {
    ServerFrame::error("resource.not_found", "no such conversation", reference)
}

impl Actor for SessionActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        metrics::WS_CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        let recipient = ctx.address().recipient();
        let id = self
            .shared
            .broker
            .hub()
            .register(self.identity.session_id, recipient);
        self.connection_id = Some(id);
        if let Some(incoming) = self.incoming.take() {
            ctx.add_stream(incoming);
        }
        info!(session = %self.identity.session_id, connection = id, "websocket connected");

        ctx.run_interval(HEARTBEAT_INTERVAL, |actor, ctx| {
            if actor.last_heard.elapsed() > CLIENT_TIMEOUT {
                metrics::WS_HEARTBEAT_TIMEOUTS.fetch_add(1, Ordering::Relaxed);
                info!(session = %actor.identity.session_id, "client silent too long; dropping");
                if let Some(abort) = actor.queue.abort.take() {
                    let _ = abort.send(());
                }
                ctx.stop();
                return;
            }
            actor.push(Outgoing::Ping, ctx);
        });
        ctx.run_interval(SESSION_CHECK_INTERVAL, |actor, ctx| {
            actor.check_session(ctx)
        });
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        metrics::WS_CONNECTIONS.fetch_sub(1, Ordering::Relaxed);
        if let Some(id) = self.connection_id.take() {
            self.shared.broker.hub().unregister(id);
            self.shared
                .calls
                .socket_closed(&self.joined_calls, self.identity.user_id, id);
        }
        info!(session = %self.identity.session_id, "websocket closed");
    }
}

impl Handler<Delivery> for SessionActor {
    type Result = ();

    fn handle(&mut self, delivery: Delivery, ctx: &mut Self::Context) {
        match delivery {
            Delivery::Resync => {
                let followed: Vec<ConversationId> = self.delivered.keys().copied().collect();
                for conversation in followed {
                    self.catch_up(conversation, ctx);
                }
            }
            Delivery::Shutdown => self.close(CloseCode::Restart, "server restarting", ctx),
            Delivery::Event(event) => match &*event {
                Event::Message(message) => self.on_stored_message(message.clone(), ctx),
                Event::Read {
                    conversation_id,
                    user_id,
                    up_to,
                } => {
                    if self.delivered.contains_key(conversation_id) {
                        let frame = ServerFrame::Read {
                            conversation_id: *conversation_id,
                            user_id: *user_id,
                            up_to: *up_to,
                        };
                        self.send_frame(&frame, ctx);
                    }
                }
                Event::MemberRemoved {
                    conversation_id,
                    user_id,
                } => {
                    lock_rights(&self.send_rights).forget(*conversation_id);
                    if *user_id == self.identity.user_id {
                        self.delivered.remove(conversation_id);
                        if let Some(id) = self.connection_id {
                            self.shared.broker.hub().unfollow(id, *conversation_id);
                        }
                        let frame = ServerFrame::Removed {
                            conversation_id: *conversation_id,
                        };
                        self.send_frame(&frame, ctx);
                    }
                }
                Event::File {
                    conversation_id,
                    file_id,
                    uploader_id,
                    shared,
                    status,
                    progress,
                    failure,
                } => {
                    // A file no message or released letter has carried yet
                    // is its uploader's and the staff's to follow.
                    let visible = *shared
                        || *uploader_id == self.identity.user_id
                        || permissions::is_staff(&self.identity.roles);
                    if visible && self.delivered.contains_key(conversation_id) {
                        let frame = ServerFrame::File {
                            conversation_id: *conversation_id,
                            file_id: *file_id,
                            status: status.clone(),
                            progress: *progress,
                            failure: failure.clone(),
                        };
                        self.send_frame(&frame, ctx);
                    }
                }
                Event::Letters {
                    conversation_id,
                    only,
                } => {
                    // The link's status may have changed: check it again at
                    // the next send.
                    lock_rights(&self.send_rights).forget(*conversation_id);
                    // A letter in review is its writer's and the staff's
                    // business: the other family does not hear of it.
                    let concerned = only.as_ref().is_none_or(|users| {
                        users.contains(&self.identity.user_id)
                            || permissions::is_staff(&self.identity.roles)
                    });
                    if concerned && self.delivered.contains_key(conversation_id) {
                        let frame = ServerFrame::Letters {
                            conversation_id: *conversation_id,
                        };
                        self.send_frame(&frame, ctx);
                    }
                }
                Event::Call { call, .. } => {
                    let call = self
                        .shared
                        .calls
                        .for_recipient(call.clone(), self.identity.user_id);
                    let frame = ServerFrame::Call { call };
                    self.send_frame(&frame, ctx);
                }
                Event::Community { group_id, topic_id } => {
                    self.on_community_change(*group_id, *topic_id, ctx);
                }
                Event::SessionsEnded { session_ids } => {
                    if session_ids.contains(&self.identity.session_id) {
                        self.close(CloseCode::Policy, "session ended", ctx);
                    }
                }
            },
        }
    }
}

impl StreamHandler<Result<AggregatedMessage, ProtocolError>> for SessionActor {
    fn handle(&mut self, item: Result<AggregatedMessage, ProtocolError>, ctx: &mut Self::Context) {
        if self.closing {
            return;
        }
        self.last_heard = Instant::now();
        match item {
            Ok(AggregatedMessage::Text(text)) => self.handle_frame(&text, ctx),
            Ok(AggregatedMessage::Binary(_)) => {
                let frame =
                    ServerFrame::error("frame.invalid", "binary frames are not accepted", None);
                self.send_frame(&frame, ctx);
            }
            Ok(AggregatedMessage::Ping(bytes)) => self.push(Outgoing::Pong(bytes), ctx),
            Ok(AggregatedMessage::Pong(_)) => {}
            Ok(AggregatedMessage::Close(_)) => {
                self.close(CloseCode::Normal, "closed by the client", ctx);
            }
            Err(error) => {
                let (code, reason) = close_for(&error);
                debug!(%error, "websocket protocol error");
                self.close(code, reason, ctx);
            }
        }
    }

    fn finished(&mut self, ctx: &mut Self::Context) {
        if !self.closing {
            ctx.stop();
        }
    }
}

/// Chooses the close code for a protocol error: 1009 for anything too big,
/// 1002 for a broken frame sequence.
fn close_for(error: &ProtocolError) -> (CloseCode, &'static str) {
    match error {
        ProtocolError::Overflow => (CloseCode::Size, "frame too large"),
        ProtocolError::Io(io) if is_payload_overflow(io) => (CloseCode::Size, "frame too large"),
        ProtocolError::Io(io) if io.to_string().contains("continuation size") => {
            (CloseCode::Size, "message too large")
        }
        _ => (CloseCode::Protocol, "protocol error"),
    }
}

/// Returns whether the payload guard refused a frame header as too large.
fn is_payload_overflow(error: &std::io::Error) -> bool {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<actix_web::error::PayloadError>())
        .is_some_and(|payload| matches!(payload, actix_web::error::PayloadError::Overflow))
}

/// Drains the queue into the socket until the queue closes or the actor
/// aborts the connection.
async fn write_frames(
    mut socket: actix_ws::Session,
    mut frames: mpsc::Receiver<Outgoing>,
    queued_bytes: Arc<AtomicI64>,
    mut aborted: oneshot::Receiver<()>,
) {
    loop {
        let frame = tokio::select! {
            _ = &mut aborted => break,
            frame = frames.recv() => frame,
        };
        let Some(frame) = frame else { break };
        let size = match &frame {
            Outgoing::Text(text) => text.len() as i64,
            Outgoing::Pong(bytes) => bytes.len() as i64,
            Outgoing::Ping | Outgoing::Close(_) => 0,
        };
        queued_bytes.fetch_sub(size, Ordering::Relaxed);
        metrics::WS_SEND_QUEUE_BYTES.fetch_sub(size, Ordering::Relaxed);
        metrics::WS_SEND_QUEUE_FRAMES.fetch_sub(1, Ordering::Relaxed);
        let written = tokio::select! {
            _ = &mut aborted => break,
            written = write_one(&mut socket, frame) => written,
        };
        match written {
            Ok(true) => {}
            Ok(false) | Err(_) => break,
        }
    }
    release_queue(&mut frames, &queued_bytes);
}

/// Writes one frame; returns false once the socket is closed by us.
async fn write_one(
    socket: &mut actix_ws::Session,
    frame: Outgoing,
) -> Result<bool, actix_ws::Closed> {
    match frame {
        Outgoing::Text(text) => socket.text(text).await.map(|()| true),
        Outgoing::Ping => socket.ping(b"").await.map(|()| true),
        Outgoing::Pong(bytes) => socket.pong(&bytes).await.map(|()| true),
        Outgoing::Close(reason) => socket.clone().close(Some(reason)).await.map(|()| false),
    }
}

/// Takes what is left in an abandoned queue off the gauges.
fn release_queue(frames: &mut mpsc::Receiver<Outgoing>, queued_bytes: &AtomicI64) {
    frames.close();
    while let Ok(frame) = frames.try_recv() {
        if let Outgoing::Text(text) = frame {
            metrics::WS_SEND_QUEUE_BYTES.fetch_sub(text.len() as i64, Ordering::Relaxed);
        }
        metrics::WS_SEND_QUEUE_FRAMES.fetch_sub(1, Ordering::Relaxed);
    }
    let left = queued_bytes.swap(0, Ordering::Relaxed);
    let _ = left;
}
