//! The live-call frames of a session: each is checked against the
//! permission table and handed to the call's actor, and its answer goes
//! back to this socket alone. Call frames are throttled per connection,
//! so a client flooding signalling slows only itself.

use std::time::Instant;

use actix::prelude::*;
use kinlink_core::letterbox::LinkStatus;
use kinlink_core::permissions::{Action, Relationship};
use kinlink_core::{ConversationId, UserId};
use kinlink_media::sfu::MediaKind;
use tracing::warn;

use super::SessionActor;
use crate::calls::{self, CallError, CallView, Supervision};
use crate::frames::{CallMediaKind, ClientFrame, ServerFrame};

/// Call frames a connection may send in a burst.
const BURST: f64 = 40.0;
/// Call frames a connection may send per second, after the burst.
const PER_SECOND: f64 = 20.0;

/// A token bucket for one connection's call frames.
// NOTE: the budget is per connection, so a user with many sockets open
// gets as many budgets; nothing yet caps a user's sockets.
pub(super) struct CallBudget {
    tokens: f64,
    refilled: Instant,
}

impl Default for CallBudget {
    fn default() -> Self {
        Self {
            tokens: BURST,
            refilled: Instant::now(),
        }
    }
}

impl CallBudget {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f64() * PER_SECOND;
        self.tokens = (self.tokens + earned).min(BURST);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The reply to a call frame.
enum Reply {
    Call(CallView),
    /// A call that has ended, for a member who requested to join it.
    Ended(CallView),
    Answer {
        call_id: uuid::Uuid,
        publisher_id: UserId,
        sdp: String,
    },
    Done,
}

impl SessionActor {
    pub(super) fn handle_call_frame(&mut self, frame: ClientFrame, ctx: &mut Context<Self>) {
        if !self.call_budget.take() {
            let frame = ServerFrame::error(
                "call.throttled",
                "too many call frames; this one was dropped",
                None,
            );
            self.send_frame(&frame, ctx);
            return;
        }
        let registry = self.shared.calls.clone();
        let user = self.identity.user_id;
        let socket = self.connection_id.unwrap_or_default();
        let roles = self.identity.roles.clone();

        // Starting names a conversation; every other frame names a call,
        // whose conversation the member must still belong to.
        if let ClientFrame::CallStart { conversation_id } = frame {
            let check = self.authorise(conversation_id, Action::StartCall);
            let store = self.shared.store.clone();
            let work = async move {
                if !check.await.map_err(|_store| CallError::Unavailable)? {
                    return Err(CallError::Unknown);
                }
                let agreed_minutes = require_open_link(&store, conversation_id).await?;
                let view = registry
                    .start_call(conversation_id, user, socket, roles, agreed_minutes)
                    .await?;
                Ok(Reply::Call(view))
            };
            self.finish_call_frame(work, ctx);
            return;
        }
        let Some(call_id) = call_of(&frame) else {
            return;
        };
        let Some((actor, conversation)) = registry.find(call_id) else {
            if matches!(frame, ClientFrame::CallJoin { .. }) {
                let store = self.shared.store.clone();
                self.finish_call_frame(past_call(store, user, roles, call_id), ctx);
            } else {
                self.send_frame(&error_frame(&CallError::Unknown), ctx);
            }
            return;
        };
        let check = self.authorise(conversation, Action::JoinCall);
        let store = self.shared.store.clone();
        let joining = matches!(frame, ClientFrame::CallJoin { .. });
        let work = async move {
            if !check.await.map_err(|_store| CallError::Unavailable)? {
                return Err(CallError::Unknown);
            }
            if joining {
                require_open_link(&store, conversation).await?;
            }
            let stopped = |_mailbox| CallError::Unknown;
            match frame {
                ClientFrame::CallJoin { .. } => {
                    let view = actor
                        .send(calls::Join {
                            user,
                            socket,
                            roles,
                        })
                        .await
                        .map_err(stopped)??;
                    Ok(Reply::Call(view))
                }
                ClientFrame::CallLeave { .. } | ClientFrame::CallEnd { .. } => {
                    let end = matches!(frame, ClientFrame::CallEnd { .. });
                    actor
                        .send(calls::Leave { user, roles, end })
                        .await
                        .map_err(stopped)??;
                    Ok(Reply::Done)
                }
                ClientFrame::CallPublish { sdp, .. } => {
                    let sdp = actor
                        .send(calls::Publish { user, sdp })
                        .await
                        .map_err(stopped)??;
                    Ok(Reply::Answer {
                        call_id,
                        publisher_id: user,
                        sdp,
                    })
                }
                ClientFrame::CallView {
                    publisher_id, sdp, ..
                } => {
                    let sdp = actor
                        .send(calls::View {
                            user,
                            publisher: publisher_id,
                            sdp,
                        })
                        .await
                        .map_err(stopped)??;
                    Ok(Reply::Answer {
                        call_id,
                        publisher_id,
                        sdp,
                    })
                }
                other => {
                    let Some((target, act)) = supervision(&other) else {
                        return Err(CallError::Unknown);
                    };
                    let view = actor
                        .send(calls::Supervise {
                            actor: user,
                            roles,
                            target,
                            act,
                        })
                        .await
                        .map_err(stopped)??;
                    Ok(Reply::Call(view))
                }
            }
        };
        self.finish_call_frame(work, ctx);
    }

    fn finish_call_frame(
        &mut self,
        work: impl Future<Output = Result<Reply, CallError>> + 'static,
        ctx: &mut Context<Self>,
    ) {
        ctx.spawn(work.into_actor(self).map(|result, actor, ctx| {
            let frame = match result {
                Ok(Reply::Call(view)) => {
                    // Joining follows the conversation, so every later
                    // change of the call reaches this socket.
                    actor.joined_calls.insert(view.call_id);
                    actor.follow(view.conversation_id);
                    let user = actor.identity.user_id;
                    ServerFrame::Call {
                        call: actor.shared.calls.for_recipient(view, user),
                    }
                }
                Ok(Reply::Ended(view)) => ServerFrame::Call { call: view },
                Ok(Reply::Answer {
                    call_id,
                    publisher_id,
                    sdp,
                }) => ServerFrame::CallAnswer {
                    call_id,
                    publisher_id,
                    sdp,
                },
                Ok(Reply::Done) => return,
                Err(error) => {
                    if let CallError::Store(cause) = &error {
                        warn!(error = %crate::Causes(cause), "a call frame failed");
                    }
                    error_frame(&error)
                }
            };
            actor.send_frame(&frame, ctx);
        }));
    }

    /// Sends the conversation's live call, if it has one, to a socket
    /// that just subscribed to it.
    pub(super) fn show_live_call(&mut self, conversation: ConversationId, ctx: &mut Context<Self>) {
        let Some((call, _id)) = self.shared.calls.live_call(conversation) else {
            return;
        };
        ctx.spawn(
            call.send(calls::Snapshot)
                .into_actor(self)
                .map(|view, actor, ctx| {
                    if let Ok(view) = view {
                        let user = actor.identity.user_id;
                        let call = actor.shared.calls.for_recipient(view, user);
                        actor.send_frame(&ServerFrame::Call { call }, ctx);
                    }
                }),
        );
    }

    fn follow(&self, conversation: ConversationId) {
        if let Some(id) = self.connection_id {
            self.shared.broker.hub().follow(id, conversation);
        }
    }
}

/// Refuses a call in a contact link that is suspended or ended, and
/// returns the call length in minutes that the link's agreement sets, if
/// any. A discussion has no agreement, and a link without one yet is open.
async fn require_open_link(
    store: &kinlink_store::Store,
    conversation: ConversationId,
) -> Result<Option<u32>, CallError> {
    let agreement = store
        .agreement(conversation)
        .await
        .map_err(|_store| CallError::Unavailable)?;
    match agreement {
        Some(agreement) if agreement.row.status != LinkStatus::Active.as_str() => {
            Err(CallError::LinkClosed)
        }
        Some(agreement) => Ok(agreement
            .row
            .call_minutes
            .and_then(|minutes| u32::try_from(minutes).ok())),
        None => Ok(None),
    }
}

/// Replies to a `call_join` for a call that is not live on this node: a
/// member of its conversation gets the ended call with its end reason,
/// such as a restart of the node that ran it. A call still open in the store runs
/// on another node, or on one that has not started again yet, and is
/// unknown here.
async fn past_call(
    store: kinlink_store::Store,
    user: UserId,
    roles: Vec<kinlink_core::permissions::Role>,
    call_id: uuid::Uuid,
) -> Result<Reply, CallError> {
    let unavailable = |_store| CallError::Unavailable;
    let row = store.call(call_id).await.map_err(unavailable)?;
    let Some(row) = row.filter(|row| row.ended_at.is_some()) else {
        return Err(CallError::Unknown);
    };
    let conversation = ConversationId(row.conversation_id);
    let member = [Relationship::ConversationMember];
    let allowed = super::authorised(
        &store,
        user,
        &roles,
        &member,
        conversation,
        Action::JoinCall,
    )
    .await
    .map_err(|_store| CallError::Unavailable)?;
    if !allowed {
        return Err(CallError::Unknown);
    }
    Ok(Reply::Ended(CallView::ended(&row)))
}

fn error_frame(error: &CallError) -> ServerFrame {
    ServerFrame::error(error.code(), error.to_string(), None)
}

fn call_of(frame: &ClientFrame) -> Option<uuid::Uuid> {
    match frame {
        ClientFrame::CallJoin { call_id }
        | ClientFrame::CallLeave { call_id }
        | ClientFrame::CallEnd { call_id }
        | ClientFrame::CallPublish { call_id, .. }
        | ClientFrame::CallView { call_id, .. }
        | ClientFrame::CallAdmit { call_id, .. }
        | ClientFrame::CallPause { call_id, .. }
        | ClientFrame::CallMute { call_id, .. }
        | ClientFrame::CallRemove { call_id, .. } => Some(*call_id),
        _ => None,
    }
}

fn supervision(frame: &ClientFrame) -> Option<(UserId, Supervision)> {
    match frame {
        ClientFrame::CallAdmit { user_id, .. } => Some((*user_id, Supervision::Admit)),
        ClientFrame::CallPause { user_id, .. } => Some((*user_id, Supervision::Pause)),
        ClientFrame::CallRemove { user_id, .. } => Some((*user_id, Supervision::Remove)),
        ClientFrame::CallMute {
            user_id,
            kind,
            muted,
            ..
        } => {
            let kind = match kind {
                CallMediaKind::Audio => MediaKind::Audio,
                CallMediaKind::Video => MediaKind::Video,
            };
            Some((
                *user_id,
                Supervision::Mute {
                    kind,
                    muted: *muted,
                },
            ))
        }
        _ => None,
    }
}
