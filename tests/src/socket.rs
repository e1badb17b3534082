//! A WebSocket client for the tests, with JSON helpers and timeouts.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use anyhow::Context;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for an expected frame.
pub const FRAME_TIMEOUT: Duration = Duration::from_secs(10);

/// An open WebSocket. Frames that a wait skips are kept, in order, for
/// later waits, so no frame is lost between two `expect` calls.
pub struct Socket {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pending: VecDeque<Value>,
}

/// What the server did instead of sending a JSON frame.
#[derive(Debug)]
pub enum Ended {
    /// A close frame with this code.
    Closed(Option<u16>),
    /// The connection dropped without a close frame.
    Dropped,
}

impl Socket {
    /// Connects to `/api/v1/ws`.
    pub async fn connect(
        address: &str,
        token: Option<&str>,
        origin: Option<&str>,
    ) -> anyhow::Result<Self> {
        let url = format!("{}/api/v1/ws", address.replacen("http", "ws", 1));
        let mut request = url.into_client_request()?;
        if let Some(token) = token {
            request
                .headers_mut()
                .insert("Cookie", format!("kinlink_session={token}").parse()?);
        }
        if let Some(origin) = origin {
            request.headers_mut().insert("Origin", origin.parse()?);
        }
        let (stream, _response) = tokio_tungstenite::connect_async(request).await?;
        Ok(Self {
            stream,
            pending: VecDeque::new(),
        })
    }

    /// Sends a JSON frame.
    pub async fn send(&mut self, frame: Value) -> anyhow::Result<()> {
        self.stream.send(Message::text(frame.to_string())).await?;
        Ok(())
    }

    /// Sends a raw text frame.
    pub async fn send_text(&mut self, text: &str) -> anyhow::Result<()> {
        self.stream.send(Message::text(text.to_owned())).await?;
        Ok(())
    }

    /// Reads the next JSON frame from the wire, skipping control frames,
    /// until `deadline`.
    async fn read(&mut self, deadline: Instant) -> anyhow::Result<Result<Value, Ended>> {
        loop {
            let item = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .context("timed out waiting for a frame")?;
            match item {
                Some(Ok(Message::Text(text))) => return Ok(Ok(serde_json::from_str(&text)?)),
                Some(Ok(Message::Close(frame))) => {
                    return Ok(Err(Ended::Closed(
                        frame.map(|f: CloseFrame| u16::from(f.code)),
                    )));
                }
                Some(Ok(_control)) => continue,
                Some(Err(_)) | None => return Ok(Err(Ended::Dropped)),
            }
        }
    }

    /// Returns the next frame (kept or new), or how the connection ended.
    pub async fn next(&mut self) -> anyhow::Result<Result<Value, Ended>> {
        if let Some(frame) = self.pending.pop_front() {
            return Ok(Ok(frame));
        }
        self.read(Instant::now() + FRAME_TIMEOUT).await
    }

    /// Waits for the next frame of a type; frames of other types are kept.
    pub async fn expect(&mut self, kind: &str) -> anyhow::Result<Value> {
        self.expect_where(|frame| frame["type"] == kind, kind).await
    }

    /// Waits for the next frame whose type is one of `kinds`.
    pub async fn expect_any_of(&mut self, kinds: &[&str]) -> anyhow::Result<Value> {
        let wanted = format!("{kinds:?}");
        self.expect_where(
            |frame| kinds.iter().any(|kind| frame["type"] == *kind),
            &wanted,
        )
        .await
    }

    /// Waits for the first frame that matches, keeping the others.
    pub async fn expect_where(
        &mut self,
        matches: impl Fn(&Value) -> bool,
        wanted: &str,
    ) -> anyhow::Result<Value> {
        self.expect_where_within(matches, wanted, FRAME_TIMEOUT)
            .await
    }

    /// Waits up to `within` for the first frame that matches, keeping the
    /// others. Work such as transcoding may take longer than a frame
    /// usually does.
    pub async fn expect_where_within(
        &mut self,
        matches: impl Fn(&Value) -> bool,
        wanted: &str,
        within: Duration,
    ) -> anyhow::Result<Value> {
        if let Some(index) = self.pending.iter().position(&matches) {
            return Ok(self.pending.remove(index).unwrap_or_default());
        }
        let deadline = Instant::now() + within;
        loop {
            match self
                .read(deadline)
                .await
                .with_context(|| format!("waiting for {wanted}"))?
            {
                Ok(frame) if matches(&frame) => return Ok(frame),
                Ok(other) => self.pending.push_back(other),
                Err(ended) => {
                    anyhow::bail!("connection ended ({ended:?}) while waiting for {wanted}")
                }
            }
        }
    }

    /// Waits for the connection to end, discarding frames.
    pub async fn ended(&mut self) -> anyhow::Result<Ended> {
        let deadline = Instant::now() + FRAME_TIMEOUT;
        loop {
            if let Err(ended) = self.read(deadline).await? {
                return Ok(ended);
            }
        }
    }

    /// Subscribes to a conversation after a sequence number.
    pub async fn subscribe(&mut self, conversation: &str, after: i64) -> anyhow::Result<()> {
        self.send(serde_json::json!({ "type": "subscribe", "conversation_id": conversation, "after": after }))
            .await
    }

    /// Waits until the server has handled every frame sent before, such as
    /// a subscription, which takes effect only once the membership check
    /// is done. The session handles frames in order, so the error answering
    /// a read receipt for a conversation that does not exist comes after them.
    pub async fn sync(&mut self) -> anyhow::Result<()> {
        let nowhere = uuid::Uuid::nil();
        self.send(serde_json::json!({ "type": "read", "conversation_id": nowhere, "up_to": 1 }))
            .await?;
        self.expect_where(
            |frame| frame["type"] == "error" && frame["code"] == "resource.not_found",
            "the answer to a read receipt for no conversation",
        )
        .await?;
        Ok(())
    }

    /// Sends a message and waits for its acknowledgement; returns its seq.
    pub async fn say(&mut self, conversation: &str, body: &str) -> anyhow::Result<i64> {
        let id = uuid::Uuid::now_v7().to_string();
        self.send_with_id(conversation, &id, body).await
    }

    /// Sends a message with a chosen id and waits for its ack.
    pub async fn send_with_id(
        &mut self,
        conversation: &str,
        id: &str,
        body: &str,
    ) -> anyhow::Result<i64> {
        self.send(serde_json::json!({
            "type": "send", "conversation_id": conversation, "message_id": id, "body": body
        }))
        .await?;
        let frame = self
            .expect_where(
                |frame| {
                    (frame["type"] == "ack" && frame["message_id"] == id)
                        || (frame["type"] == "error" && frame["ref"] == id)
                },
                "ack",
            )
            .await?;
        if frame["type"] != "ack" {
            anyhow::bail!("send failed: {frame}");
        }
        frame["seq"].as_i64().context("ack without seq")
    }

    /// Collects `count` message frames for a conversation, in arrival order.
    pub async fn messages(
        &mut self,
        conversation: &str,
        count: usize,
    ) -> anyhow::Result<Vec<Value>> {
        let mut frames = Vec::with_capacity(count);
        while frames.len() < count {
            let frame = self
                .expect_where(
                    |frame| frame["type"] == "message" && frame["conversation_id"] == conversation,
                    "message",
                )
                .await?;
            frames.push(frame);
        }
        Ok(frames)
    }
}
