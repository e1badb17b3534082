//! Live calls: a call actor per call, owned by its conversation, and the
//! node's registry of them.
//!
//! The actor tracks who waits in the lobby, who is in the call, who is
//! paused or muted, and it tells the SFU, which enforces each decision on
//! the media itself. Only the practitioner who started the call (its host)
//! admits, pauses, mutes, removes and ends. Every change goes to the
//! conversation's members as a `call` frame, through the broker, with ids
//! and states only. Each step goes into the call's record.
//!
//! A call lives on the node that started it, because its media runs
//! through that node's SFU. A stopping node ends its calls with
//! `server_restart` first. A node that stopped without doing so ends them
//! at its next start, with [`end_abandoned_calls`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use chrono::{DateTime, Utc};
use kinlink_core::crypto::turn::TurnSecret;
use kinlink_core::permissions::{self, Action, Relationship, Role};
use kinlink_core::{ConversationId, UserId};
use kinlink_media::sfu::{MediaKind, Sfu, SfuError};
use kinlink_store::Store;
use kinlink_store::entity::call;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use crate::broker::Broker;
use crate::events::Event;

#[path = "call_registry.rs"]
mod registry;
pub use registry::{CallRegistry, end_abandoned_calls};

/// One WebSocket connection on this node.
pub type SocketId = u64;

/// How often a call checks its time limit and its absent participants.
const TICK: Duration = Duration::from_secs(1);

/// The end reason of the calls a stopping node ends, and of those that a
/// node closes at start because it stopped without ending them.
pub const SERVER_RESTART: &str = "server_restart";

/// Limits of calls, from configuration.
#[derive(Clone, Debug)]
pub struct CallSettings {
    /// How long a call may run before it ends by itself, unless the
    /// contact link's agreement sets a shorter length.
    pub max_duration: chrono::Duration,
    /// How long before the end everyone is warned. In a call shorter than
    /// twice this, the warning comes halfway through instead.
    pub warning: chrono::Duration,
    /// How long a participant whose connection dropped stays in the call.
    pub rejoin_grace: Duration,
    /// TURN and STUN URLs the browsers use.
    pub ice_servers: Vec<String>,
    /// The secret shared with the TURN server, from which each call's
    /// TURN credentials are made.
    pub turn_secret: Option<TurnSecret>,
    /// This node's stable identity, stored with each call it runs.
    pub node_id: String,
}

/// A participant's state in a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// Waiting for the host to admit them.
    Lobby,
    /// In the call, sending and receiving.
    InCall,
    /// Sent back by the host: neither sending nor receiving.
    Paused,
    /// Left, or away longer than the grace period.
    Left,
    /// Removed by the host; cannot come back into this call.
    Removed,
}

/// One participant, as everyone in the conversation sees them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantView {
    pub user_id: UserId,
    pub state: Presence,
    pub audio_muted: bool,
    pub video_muted: bool,
    /// Whether a connection of theirs is open now.
    pub connected: bool,
    /// How many times they have published; when it changes, viewers
    /// view them again, since their earlier media connection is gone.
    pub publications: u32,
}

/// A call as its conversation's members see it. Ids and states only, so
/// it may cross nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallView {
    pub call_id: uuid::Uuid,
    pub conversation_id: ConversationId,
    pub host_id: UserId,
    /// `live` or `ended`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// Set within the warning time before `ends_at`.
    pub ending_soon: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<String>,
    pub participants: Vec<ParticipantView>,
    /// The STUN and TURN servers, for a recipient in the call only.
    pub ice_servers: Vec<IceServer>,
}

/// A STUN or TURN server as a browser's `RTCPeerConnection` takes it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

impl std::fmt::Debug for IceServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field("credential", &self.credential.as_ref().map(|_| "***"))
            .finish()
    }
}

/// Returns whether `url` names a TURN server; schemes ignore case.
pub fn is_turn_url(url: &str) -> bool {
    let scheme = url.split(':').next().unwrap_or_default();
    scheme.eq_ignore_ascii_case("turn") || scheme.eq_ignore_ascii_case("turns")
}

/// How long after a call's end its TURN credentials keep working, so a
/// participant reconnecting near the end is not cut off.
const TURN_CREDENTIAL_MARGIN: chrono::Duration = chrono::Duration::minutes(10);

/// Returns the ICE servers of a call that ends at `ends_at`: the STUN URLs
/// as they are, and the TURN URLs with credentials made from `secret`,
/// labelled with the call, that stop working a little after its end.
pub fn ice_servers_of(
    urls: &[String],
    secret: Option<&TurnSecret>,
    call: uuid::Uuid,
    ends_at: DateTime<Utc>,
) -> Vec<IceServer> {
    let is_turn = |url: &&String| is_turn_url(url);
    let (turn, stun): (Vec<&String>, Vec<&String>) = urls.iter().partition(is_turn);
    let mut servers = Vec::new();
    if !stun.is_empty() {
        servers.push(IceServer {
            urls: stun.into_iter().cloned().collect(),
            username: None,
            credential: None,
        });
    }
    if !turn.is_empty() {
        let expires = (ends_at + TURN_CREDENTIAL_MARGIN).timestamp();
        let credential = secret.and_then(|secret| {
            secret
                .credential(expires, &call.to_string())
                .inspect_err(|error| warn!(%call, %error, "making TURN credentials failed"))
                .ok()
        });
        servers.push(IceServer {
            urls: turn.into_iter().cloned().collect(),
            username: credential.as_ref().map(|c| c.username.clone()),
            credential: credential.map(|c| c.password),
        });
    }
    servers
}

impl CallView {
    /// Returns the view of a call that has ended, from its stored row,
    /// which keeps no participants.
    pub fn ended(row: &call::Model) -> Self {
        CallView {
            call_id: row.id,
            conversation_id: ConversationId(row.conversation_id),
            host_id: UserId(row.host_id),
            status: "ended".to_owned(),
            started_at: row.started_at,
            ends_at: row.ends_at,
            ending_soon: false,
            end_reason: row.end_reason.clone(),
            participants: Vec::new(),
            ice_servers: Vec::new(),
        }
    }
}

/// The reasons a call request fails, each with the stable code of its error
/// frame.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("no live call with this id here")]
    Unknown,
    #[error("wait in the lobby until the host admits you")]
    NotAdmitted,
    #[error("the host removed you from this call")]
    Removed,
    #[error("only the call's host may do this")]
    Forbidden,
    #[error("{0}")]
    Media(#[from] SfuError),
    #[error("storage failed")]
    Store(#[from] kinlink_store::StoreError),
    #[error("the server could not check this request; send it again")]
    Unavailable,
    #[error("the contact link is suspended or ended, so it has no calls")]
    LinkClosed,
    #[error("the server is restarting; start the call again once it is back")]
    Stopping,
}

impl CallError {
    /// Returns the stable code of the error frame.
    pub fn code(&self) -> &'static str {
        match self {
            CallError::Unknown => "call.unknown",
            CallError::NotAdmitted => "call.not_admitted",
            CallError::Removed => "call.removed",
            CallError::Forbidden => "request.forbidden",
            CallError::Media(SfuError::InvalidSdp(_)) => "call.invalid_sdp",
            CallError::Media(SfuError::UnknownParticipant) => "call.unknown",
            CallError::Media(_) => "call.media_failed",
            CallError::Store(_) | CallError::Unavailable | CallError::Stopping => "server.busy",
            CallError::LinkClosed => "call.link_closed",
        }
    }
}

/// The host's decisions about a participant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Supervision {
    Admit,
    Pause,
    Mute { kind: MediaKind, muted: bool },
    Remove,
}

/// A step the call's writer carries out, in order, even after the actor
/// has stopped.
enum Step {
    Record {
        kind: &'static str,
        actor: Option<UserId>,
        subject: Option<UserId>,
    },
    Announce(CallView),
    Finish {
        reason: &'static str,
    },
    /// Fires once every step queued before it is done.
    Flushed(oneshot::Sender<()>),
}

/// Carries out a call's steps in order: its record, its announcements
/// and, at the end, closing its media and storing the end.
async fn write_steps(
    call: uuid::Uuid,
    conversation: ConversationId,
    store: Store,
    broker: Arc<Broker>,
    sfu: Sfu,
    mut steps: mpsc::UnboundedReceiver<Step>,
) {
    while let Some(step) = steps.recv().await {
        match step {
            Step::Record {
                kind,
                actor,
                subject,
            } => {
                if let Err(error) = store
                    .record_call_event(call, Utc::now(), actor, subject, kind)
                    .await
                {
                    warn!(%call, kind, error = %crate::Causes(&error), "recording a call step failed");
                }
            }
            Step::Announce(view) => {
                broker
                    .publish(Event::Call {
                        conversation_id: conversation,
                        call: view,
                    })
                    .await;
            }
            Step::Finish { reason } => {
                sfu.end(call).await;
                if let Err(error) = store.end_call(call, Utc::now(), reason).await {
                    warn!(%call, error = %crate::Causes(&error), "storing a call's end failed");
                }
            }
            Step::Flushed(done) => {
                let _ = done.send(());
            }
        }
    }
}

struct Member {
    publications: u32,
    state: Presence,
    audio_muted: bool,
    video_muted: bool,
    /// The sockets they joined from that are open now.
    sockets: HashSet<SocketId>,
    gone_since: Option<Instant>,
}

/// The actor of one live call.
pub struct CallActor {
    row: call::Model,
    settings: CallSettings,
    members: HashMap<UserId, Member>,
    warned: bool,
    ended: Option<String>,
    sfu: Sfu,
    steps: mpsc::UnboundedSender<Step>,
    registry: std::sync::Weak<CallRegistry>,
}

impl CallActor {
    fn id(&self) -> uuid::Uuid {
        self.row.id
    }

    fn conversation(&self) -> ConversationId {
        ConversationId(self.row.conversation_id)
    }

    fn host(&self) -> UserId {
        UserId(self.row.host_id)
    }

    fn view(&self) -> CallView {
        let mut participants: Vec<ParticipantView> = self
            .members
            .iter()
            .map(|(user_id, member)| ParticipantView {
                user_id: *user_id,
                state: member.state,
                audio_muted: member.audio_muted,
                video_muted: member.video_muted,
                connected: !member.sockets.is_empty(),
                publications: member.publications,
            })
            .collect();
        participants.sort_by_key(|p| p.user_id.0);
        CallView {
            call_id: self.id(),
            conversation_id: self.conversation(),
            host_id: self.host(),
            status: if self.ended.is_some() {
                "ended"
            } else {
                "live"
            }
            .to_owned(),
            started_at: self.row.started_at,
            ends_at: self.row.ends_at,
            ending_soon: self.warned,
            end_reason: self.ended.clone(),
            participants,
            // Added per recipient by `CallRegistry::for_recipient`, so
            // credentials never travel between nodes.
            ice_servers: Vec::new(),
        }
    }

    /// Tells every member of the conversation, on every node.
    fn announce(&self) {
        let _ = self.steps.send(Step::Announce(self.view()));
    }

    /// Adds a step to the call's record, in order.
    fn record(&self, kind: &'static str, actor: Option<UserId>, subject: Option<UserId>) {
        let _ = self.steps.send(Step::Record {
            kind,
            actor,
            subject,
        });
    }

    /// Checks that a participant may send and receive media now.
    fn admitted(&self, user: UserId) -> Result<(), CallError> {
        match self.member(user)?.state {
            Presence::InCall | Presence::Paused => Ok(()),
            Presence::Removed => Err(CallError::Removed),
            Presence::Lobby | Presence::Left => Err(CallError::NotAdmitted),
        }
    }

    /// Applies a participant's current pause and mute state to the SFU,
    /// after a media connection of theirs was made. One who is no longer
    /// admitted loses the connection at once.
    fn enforce(&self, user: UserId) -> Result<(), CallError> {
        let (sfu, call) = (&self.sfu, self.id());
        if let Err(error) = self.admitted(user) {
            let sfu = sfu.clone();
            actix::spawn(async move { sfu.remove(call, user.0).await });
            return Err(error);
        }
        if let Some(member) = self.members.get(&user) {
            sfu.set_paused(call, user.0, member.state == Presence::Paused);
            sfu.set_muted(call, user.0, MediaKind::Audio, member.audio_muted);
            sfu.set_muted(call, user.0, MediaKind::Video, member.video_muted);
        }
        Ok(())
    }

    fn member(&self, user: UserId) -> Result<&Member, CallError> {
        self.members.get(&user).ok_or(CallError::Unknown)
    }

    /// Ends the call for everyone.
    fn end(&mut self, reason: &'static str, actor: Option<UserId>, ctx: &mut Context<Self>) {
        if self.ended.is_some() {
            return;
        }
        self.ended = Some(reason.to_owned());
        info!(call = %self.id(), reason, "call ended");
        self.record("ended", actor, None);
        let _ = self.steps.send(Step::Finish { reason });
        self.announce();
        let call = self.id();
        if let Some(registry) = self.registry.upgrade() {
            registry.forget(call, self.conversation());
        }
        ctx.stop();
    }

    fn set_state(&mut self, user: UserId, state: Presence) {
        if let Some(member) = self.members.get_mut(&user) {
            member.state = state;
        }
    }

    fn tick(&mut self, ctx: &mut Context<Self>) {
        let now = Utc::now();
        if now >= self.row.ends_at {
            self.end("time_limit", None, ctx);
            return;
        }
        let length = self.row.ends_at - self.row.started_at;
        let warning = self.settings.warning.min(length / 2);
        if !self.warned && now >= self.row.ends_at - warning {
            self.warned = true;
            self.record("ending_soon", None, None);
            self.announce();
        }
        let grace = self.settings.rejoin_grace;
        let gone: Vec<UserId> = self
            .members
            .iter()
            .filter(|(_, member)| {
                matches!(
                    member.state,
                    Presence::Lobby | Presence::InCall | Presence::Paused
                ) && member
                    .gone_since
                    .is_some_and(|since| since.elapsed() >= grace)
            })
            .map(|(user, _)| *user)
            .collect();
        for user in gone {
            self.leave(user, None, ctx);
            if self.ended.is_some() {
                return;
            }
        }
    }

    fn leave(&mut self, user: UserId, actor: Option<UserId>, ctx: &mut Context<Self>) {
        self.set_state(user, Presence::Left);
        self.record("left", actor, Some(user));
        let (sfu, call) = (self.sfu.clone(), self.id());
        ctx.spawn(async move { sfu.remove(call, user.0).await }.into_actor(self));
        if user == self.host() {
            // A supervised call does not go on without its supervisor.
            self.end("host_left", actor, ctx);
            return;
        }
        self.announce();
    }
}

impl Actor for CallActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(TICK, |actor, ctx| actor.tick(ctx));
    }
}

/// A request from a member of the conversation to join (or rejoin) the call.
#[derive(Message)]
#[rtype(result = "Result<CallView, CallError>")]
pub struct Join {
    pub user: UserId,
    pub socket: SocketId,
    pub roles: Vec<Role>,
}

impl Handler<Join> for CallActor {
    type Result = Result<CallView, CallError>;

    fn handle(&mut self, join: Join, _ctx: &mut Self::Context) -> Self::Result {
        // The same socket joining again changes nothing, so it is neither
        // recorded nor announced.
        let already = self.members.get(&join.user).is_some_and(|member| {
            member.sockets.contains(&join.socket)
                && matches!(
                    member.state,
                    Presence::InCall | Presence::Paused | Presence::Lobby
                )
        });
        if already {
            return Ok(self.view());
        }
        let staff = permissions::is_staff(&join.roles);
        let (state, kind) = match self.members.get(&join.user).map(|m| m.state) {
            Some(Presence::Removed) => return Err(CallError::Removed),
            Some(state @ (Presence::InCall | Presence::Paused | Presence::Lobby)) => {
                (state, "rejoined")
            }
            Some(Presence::Left) | None if staff => (Presence::InCall, "joined"),
            Some(Presence::Left) | None => (Presence::Lobby, "joined_lobby"),
        };
        let member = self.members.entry(join.user).or_insert(Member {
            publications: 0,
            state,
            audio_muted: false,
            video_muted: false,
            sockets: HashSet::new(),
            gone_since: None,
        });
        member.state = state;
        member.sockets.insert(join.socket);
        member.gone_since = None;
        self.record(kind, Some(join.user), Some(join.user));
        self.announce();
        Ok(self.view())
    }
}

/// A request for the call's current state, for a member who opens the
/// conversation while it is live.
#[derive(Message)]
#[rtype(result = "CallView")]
pub struct Snapshot;

impl Handler<Snapshot> for CallActor {
    type Result = MessageResult<Snapshot>;

    fn handle(&mut self, _request: Snapshot, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(self.view())
    }
}

/// A request to publish a participant's camera and microphone to the SFU.
#[derive(Message)]
#[rtype(result = "Result<String, CallError>")]
pub struct Publish {
    pub user: UserId,
    pub sdp: String,
}

impl Handler<Publish> for CallActor {
    type Result = ResponseActFuture<Self, Result<String, CallError>>;

    fn handle(&mut self, publish: Publish, _ctx: &mut Self::Context) -> Self::Result {
        let allowed = self.admitted(publish.user);
        let (sfu, call, user) = (self.sfu.clone(), self.id(), publish.user);
        let work = async move {
            allowed?;
            Ok::<_, CallError>(sfu.publish(call, user.0, publish.sdp).await?)
        };
        Box::pin(work.into_actor(self).map(move |result, actor, _ctx| {
            let answer = result?;
            // The host may have paused or muted them, or removed them,
            // while the connection was being made: the decisions as they
            // stand now are the ones that hold.
            actor.enforce(user)?;
            if let Some(member) = actor.members.get_mut(&user) {
                member.publications += 1;
            }
            actor.announce();
            Ok(answer)
        }))
    }
}

/// A request to receive another participant's media.
#[derive(Message)]
#[rtype(result = "Result<String, CallError>")]
pub struct View {
    pub user: UserId,
    pub publisher: UserId,
    pub sdp: String,
}

impl Handler<View> for CallActor {
    type Result = ResponseActFuture<Self, Result<String, CallError>>;

    fn handle(&mut self, view: View, _ctx: &mut Self::Context) -> Self::Result {
        let allowed = self.admitted(view.user);
        let publisher_in = self
            .members
            .get(&view.publisher)
            .is_some_and(|m| matches!(m.state, Presence::InCall | Presence::Paused));
        let (sfu, call, user) = (self.sfu.clone(), self.id(), view.user);
        let work = async move {
            allowed?;
            if !publisher_in {
                return Err(CallError::Unknown);
            }
            Ok::<_, CallError>(sfu.view(call, user.0, view.publisher.0, view.sdp).await?)
        };
        Box::pin(work.into_actor(self).map(move |result, actor, _ctx| {
            let answer = result?;
            actor.enforce(user)?;
            Ok(answer)
        }))
    }
}

/// The host acts on a participant.
#[derive(Message)]
#[rtype(result = "Result<CallView, CallError>")]
pub struct Supervise {
    pub actor: UserId,
    pub roles: Vec<Role>,
    pub target: UserId,
    pub act: Supervision,
}

impl Handler<Supervise> for CallActor {
    type Result = Result<CallView, CallError>;

    fn handle(&mut self, request: Supervise, ctx: &mut Self::Context) -> Self::Result {
        let relationships = if request.actor == self.host() {
            vec![Relationship::CallHost]
        } else {
            Vec::new()
        };
        if permissions::check(&request.roles, Action::SuperviseCall, &relationships).is_err() {
            warn!(call = %self.id(), actor = %request.actor, "a participant who is not the host tried to supervise the call");
            return Err(CallError::Forbidden);
        }
        let target = request.target;
        let current = self.member(target)?.state;
        if current == Presence::Removed || target == self.host() {
            return Err(CallError::Unknown);
        }
        let (sfu, call) = (self.sfu.clone(), self.id());
        let kind = match request.act {
            Supervision::Admit => {
                self.set_state(target, Presence::InCall);
                sfu.set_paused(call, target.0, false);
                "admitted"
            }
            Supervision::Pause => {
                self.set_state(target, Presence::Paused);
                sfu.set_paused(call, target.0, true);
                "paused"
            }
            Supervision::Mute { kind, muted } => {
                if let Some(member) = self.members.get_mut(&target) {
                    match kind {
                        MediaKind::Audio => member.audio_muted = muted,
                        MediaKind::Video => member.video_muted = muted,
                    }
                }
                sfu.set_muted(call, target.0, kind, muted);
                match (kind, muted) {
                    (MediaKind::Audio, true) => "muted",
                    (MediaKind::Audio, false) => "unmuted",
                    (MediaKind::Video, true) => "camera_off",
                    (MediaKind::Video, false) => "camera_on",
                }
            }
            Supervision::Remove => {
                self.set_state(target, Presence::Removed);
                ctx.spawn(async move { sfu.remove(call, target.0).await }.into_actor(self));
                "removed"
            }
        };
        self.record(kind, Some(request.actor), Some(target));
        self.announce();
        Ok(self.view())
    }
}

/// A participant leaves, or the host ends the call for everyone.
#[derive(Message)]
#[rtype(result = "Result<(), CallError>")]
pub struct Leave {
    pub user: UserId,
    pub roles: Vec<Role>,
    /// Ends the call for everyone; the host's to ask.
    pub end: bool,
}

impl Handler<Leave> for CallActor {
    type Result = Result<(), CallError>;

    fn handle(&mut self, request: Leave, ctx: &mut Self::Context) -> Self::Result {
        if self.member(request.user)?.state == Presence::Removed {
            return Err(CallError::Removed);
        }
        if request.end {
            let relationships = if request.user == self.host() {
                vec![Relationship::CallHost]
            } else {
                Vec::new()
            };
            if permissions::check(&request.roles, Action::SuperviseCall, &relationships).is_err() {
                warn!(call = %self.id(), actor = %request.user, "a participant who is not the host tried to end the call");
                return Err(CallError::Forbidden);
            }
            self.end("ended_by_host", Some(request.user), ctx);
        } else {
            self.leave(request.user, Some(request.user), ctx);
        }
        Ok(())
    }
}

/// The call's contact link was suspended or ended.
#[derive(Message)]
#[rtype(result = "()")]
struct LinkClosed {
    ended: bool,
}

impl Handler<LinkClosed> for CallActor {
    type Result = ();

    fn handle(&mut self, closed: LinkClosed, ctx: &mut Self::Context) {
        let reason = if closed.ended {
            "link_ended"
        } else {
            "link_suspended"
        };
        self.end(reason, None, ctx);
    }
}

/// Someone was removed from the call's conversation.
#[derive(Message)]
#[rtype(result = "()")]
struct Expel {
    user: UserId,
}

impl Handler<Expel> for CallActor {
    type Result = ();

    fn handle(&mut self, expel: Expel, ctx: &mut Self::Context) {
        let user = expel.user;
        let Some(member) = self.members.get(&user) else {
            return;
        };
        if matches!(member.state, Presence::Removed | Presence::Left) {
            return;
        }
        if user == self.host() {
            self.end("host_left", None, ctx);
            return;
        }
        self.set_state(user, Presence::Removed);
        self.record("removed_from_conversation", None, Some(user));
        self.announce();
        let (sfu, call) = (self.sfu.clone(), self.id());
        ctx.spawn(async move { sfu.remove(call, user.0).await }.into_actor(self));
    }
}

/// The node is stopping: the call ends for everyone with
/// [`SERVER_RESTART`]. The reply fires once the end is stored and
/// announced.
#[derive(Message)]
#[rtype(result = "oneshot::Receiver<()>")]
struct Stop;

impl Handler<Stop> for CallActor {
    type Result = MessageResult<Stop>;

    fn handle(&mut self, _stop: Stop, ctx: &mut Self::Context) -> Self::Result {
        self.end(SERVER_RESTART, None, ctx);
        let (done, finished) = oneshot::channel();
        let _ = self.steps.send(Step::Flushed(done));
        MessageResult(finished)
    }
}

/// A socket of a participant closed.
#[derive(Message)]
#[rtype(result = "()")]
struct Gone {
    user: UserId,
    socket: SocketId,
}

impl Handler<Gone> for CallActor {
    type Result = ();

    fn handle(&mut self, gone: Gone, _ctx: &mut Self::Context) {
        let Some(member) = self.members.get_mut(&gone.user) else {
            return;
        };
        member.sockets.remove(&gone.socket);
        if member.sockets.is_empty() && member.gone_since.is_none() {
            member.gone_since = Some(Instant::now());
            self.announce();
        }
    }
}

/// A media connection of the call failed.
#[derive(Message)]
#[rtype(result = "()")]
struct MediaFailed {
    participant: uuid::Uuid,
    publisher: Option<uuid::Uuid>,
    /// The DTLS handshake failed, not the network path.
    handshake: bool,
}

impl Handler<MediaFailed> for CallActor {
    type Result = ();

    fn handle(&mut self, failed: MediaFailed, ctx: &mut Self::Context) {
        let (sfu, call) = (self.sfu.clone(), self.id());
        let user = UserId(failed.participant);
        let removable = self
            .members
            .get(&user)
            .is_some_and(|member| member.state != Presence::Removed);
        if failed.handshake && removable && user != self.host() {
            // Someone presented a certificate other than the one their
            // offer named: they leave the call at once.
            warn!(%call, participant = %user, security = true, "participant removed after a failed DTLS handshake");
            self.set_state(user, Presence::Removed);
            self.record("removed_handshake_failed", None, Some(user));
            self.announce();
            ctx.spawn(async move { sfu.remove(call, user.0).await }.into_actor(self));
            return;
        }
        ctx.spawn(
            async move {
                sfu.close_failed(call, failed.participant, failed.publisher)
                    .await
            }
            .into_actor(self),
        );
    }
}
