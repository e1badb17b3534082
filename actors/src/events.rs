//! Events that cross nodes through the broker. They carry ids and
//! ciphertext only: never plaintext, never keys.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use kinlink_core::{ConversationId, MessageId, SessionId, UserId};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A message that has been stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub conversation_id: ConversationId,
    pub seq: i64,
    pub message_id: MessageId,
    pub sender_id: UserId,
    pub key_epoch: i32,
    #[serde(serialize_with = "to_base64", deserialize_with = "from_base64")]
    pub ciphertext: Vec<u8>,
    pub sent_at: DateTime<Utc>,
}

/// Something every node's sessions may need to hear.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A message was stored.
    Message(StoredMessage),
    /// A member's read position moved forward.
    Read {
        conversation_id: ConversationId,
        user_id: UserId,
        up_to: i64,
    },
    /// A member was removed; their sessions stop receiving at once.
    MemberRemoved {
        conversation_id: ConversationId,
        user_id: UserId,
    },
    /// Sessions were ended (sign-out elsewhere, revocation, disabled
    /// account); their sockets close at once.
    SessionsEnded { session_ids: Vec<SessionId> },
    /// A file's processing moved on: its status, the percentage done while
    /// processing, and the failure code when it failed.
    File {
        conversation_id: ConversationId,
        file_id: uuid::Uuid,
        uploader_id: UserId,
        /// Whether a message or a released letter has carried the file, so
        /// every member may see it.
        shared: bool,
        status: String,
        progress: Option<u8>,
        failure: Option<String>,
    },
    /// The letters or the agreement of a contact link changed: a letter was
    /// submitted, decided or read, or the link's agreement or status
    /// changed. It names no letter, so members learn nothing they may not
    /// see; their pages fetch what they may see again. A change only some
    /// members can see (a letter still in review) names them in `only`,
    /// and staff hear it too.
    Letters {
        conversation_id: ConversationId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        only: Option<Vec<UserId>>,
    },
    /// A live call of the conversation changed: someone joined, was
    /// admitted, paused, muted or removed, left, or the call ended.
    Call {
        conversation_id: ConversationId,
        call: crate::calls::CallView,
    },
    /// Something changed in a community group: a topic was opened, a post
    /// added, or a post hidden, removed or restored. It carries ids only;
    /// the pages following the group fetch what their reader may see.
    Community {
        group_id: uuid::Uuid,
        topic_id: uuid::Uuid,
    },
}

impl Event {
    /// Returns the conversation the event belongs to, if any.
    pub fn conversation_id(&self) -> Option<ConversationId> {
        match self {
            Event::Message(message) => Some(message.conversation_id),
            Event::Read {
                conversation_id, ..
            }
            | Event::MemberRemoved {
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
            } => Some(*conversation_id),
            Event::SessionsEnded { .. } | Event::Community { .. } => None,
        }
    }
}

fn to_base64<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&STANDARD.encode(bytes))
}

fn from_base64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    let text = String::deserialize(deserializer)?;
    STANDARD
        .decode(text.as_bytes())
        .map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_event_round_trips() {
        let event = Event::Message(StoredMessage {
            conversation_id: ConversationId::new(),
            seq: 4,
            message_id: MessageId::new(),
            sender_id: UserId::new(),
            key_epoch: 0,
            ciphertext: vec![1, 2, 3, 250],
            sent_at: Utc::now(),
        });
        let text = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<Event>(&text).unwrap(), event);
    }
}
