//! WebSocket frames, as documented in `docs/protocol.md`.

use chrono::{DateTime, Utc};
use kinlink_core::{ConversationId, MessageId, UserId};
use serde::{Deserialize, Serialize};

/// A frame from the browser.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Start receiving a conversation after a sequence number.
    Subscribe {
        conversation_id: ConversationId,
        #[serde(default)]
        after: i64,
    },
    /// Send a message; `message_id` makes a resend idempotent.
    Send {
        conversation_id: ConversationId,
        message_id: MessageId,
        body: String,
        /// Files of mine in this conversation to attach.
        #[serde(default)]
        attachments: Vec<uuid::Uuid>,
    },
    /// Record that messages up to `up_to` were read.
    Read {
        conversation_id: ConversationId,
        up_to: i64,
    },
    /// Keep the open page of a community group live.
    CommunityFollow { group_id: uuid::Uuid },
    /// Stop keeping a community group's page live.
    CommunityUnfollow { group_id: uuid::Uuid },
    /// Start a live call in a conversation (staff), or join the one live.
    CallStart { conversation_id: ConversationId },
    /// Join a live call; family members wait in its lobby.
    CallJoin { call_id: uuid::Uuid },
    /// Leave a call.
    CallLeave { call_id: uuid::Uuid },
    /// End a call for everyone (its host).
    CallEnd { call_id: uuid::Uuid },
    /// Offer my camera and microphone to the SFU; `sdp` is a complete
    /// offer, with its candidates.
    CallPublish { call_id: uuid::Uuid, sdp: String },
    /// Offer to receive one participant's media.
    CallView {
        call_id: uuid::Uuid,
        publisher_id: UserId,
        sdp: String,
    },
    /// Admit a participant from the lobby, or resume a paused one (host).
    CallAdmit {
        call_id: uuid::Uuid,
        user_id: UserId,
    },
    /// Send a participant back to the lobby: paused (host).
    CallPause {
        call_id: uuid::Uuid,
        user_id: UserId,
    },
    /// Mute or unmute a participant's microphone or camera (host).
    CallMute {
        call_id: uuid::Uuid,
        user_id: UserId,
        kind: CallMediaKind,
        muted: bool,
    },
    /// Remove a participant from the call (host).
    CallRemove {
        call_id: uuid::Uuid,
        user_id: UserId,
    },
}

/// The media a mute frame names.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CallMediaKind {
    Audio,
    Video,
}

/// The frame types a client may send.
pub const CLIENT_FRAME_TYPES: [&str; 15] = [
    "subscribe",
    "send",
    "read",
    "community_follow",
    "community_unfollow",
    "call_start",
    "call_join",
    "call_leave",
    "call_end",
    "call_publish",
    "call_view",
    "call_admit",
    "call_pause",
    "call_mute",
    "call_remove",
];

/// Parses a text frame, with an error message that names the problem.
pub fn parse_client_frame(text: &str) -> Result<ClientFrame, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|error| format!("frame is not valid JSON: {error}"))?;
    let Some(kind) = value.get("type").and_then(serde_json::Value::as_str) else {
        return Err("frame has no \"type\" field".to_owned());
    };
    let kind = kind.to_owned();
    if !CLIENT_FRAME_TYPES.contains(&kind.as_str()) {
        let shown: String = kind.chars().take(40).collect();
        return Err(format!("unknown frame type {shown:?}"));
    }
    serde_json::from_value(value).map_err(|error| format!("invalid {kind} frame: {error}"))
}

/// A frame to the browser.
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The message was stored with this sequence number.
    Ack {
        conversation_id: ConversationId,
        message_id: MessageId,
        seq: i64,
        sent_at: DateTime<Utc>,
    },
    /// A stored message, decrypted for this user.
    Message {
        conversation_id: ConversationId,
        seq: i64,
        message_id: MessageId,
        sender_id: UserId,
        body: String,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        attachments: Vec<uuid::Uuid>,
        sent_at: DateTime<Utc>,
    },
    /// A member's read position moved.
    Read {
        conversation_id: ConversationId,
        user_id: UserId,
        up_to: i64,
    },
    /// This user was removed from the conversation.
    Removed { conversation_id: ConversationId },
    /// A file in the conversation moved on through processing.
    File {
        conversation_id: ConversationId,
        file_id: uuid::Uuid,
        status: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        progress: Option<u8>,
        #[serde(skip_serializing_if = "Option::is_none")]
        failure: Option<String>,
    },
    /// The letters or the agreement of a contact link changed; fetch them
    /// again.
    Letters { conversation_id: ConversationId },
    /// Something changed in a followed community group; fetch it again.
    Community {
        group_id: uuid::Uuid,
        topic_id: uuid::Uuid,
    },
    /// A live call of a followed conversation, as it stands now.
    Call { call: crate::calls::CallView },
    /// The SFU's answer to a `call_publish` (`publisher_id` is mine) or a
    /// `call_view`.
    CallAnswer {
        call_id: uuid::Uuid,
        publisher_id: UserId,
        sdp: String,
    },
    /// A frame failed; the connection stays open.
    Error {
        code: &'static str,
        message: String,
        #[serde(rename = "ref")]
        reference: Option<MessageId>,
    },
}

impl ServerFrame {
    /// Builds an error frame.
    pub fn error(
        code: &'static str,
        message: impl Into<String>,
        reference: Option<MessageId>,
    ) -> Self {
        ServerFrame::Error {
            code,
            message: message.into(),
            reference,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_subscribe_with_default_after() {
        let frame = parse_client_frame(
            r#"{"type":"subscribe","conversation_id":"0193a1c2-0000-7000-8000-000000000001"}"#,
        )
        .unwrap();
        assert!(matches!(frame, ClientFrame::Subscribe { after: 0, .. }));
    }

    #[test]
    fn names_unknown_type() {
        let error = parse_client_frame(r#"{"type":"shout"}"#).unwrap_err();
        assert_eq!(error, "unknown frame type \"shout\"");
    }

    #[test]
    fn names_bad_json() {
        assert!(
            parse_client_frame("{nope")
                .unwrap_err()
                .starts_with("frame is not valid JSON")
        );
    }

    #[test]
    fn names_missing_field() {
        let error = parse_client_frame(
            r#"{"type":"read","conversation_id":"0193a1c2-0000-7000-8000-000000000001"}"#,
        )
        .unwrap_err();
        assert!(error.contains("up_to"), "{error}");
    }

    #[test]
    fn rejects_unknown_fields() {
        let error = parse_client_frame(r#"{"type":"read","conversation_id":"0193a1c2-0000-7000-8000-000000000001","up_to":1,"x":1}"#)
            .unwrap_err();
        assert!(error.contains("unknown field"), "{error}");
    }
}
