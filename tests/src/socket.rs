//! A WebSocket client for the tests, with JSON helpers and timeouts.

use std::time::Duration;

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

/// An open WebSocket.
pub struct Socket {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
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
        Ok(Self { stream })
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

    /// Waits for the next JSON frame, or for the connection to end.
    pub async fn next(&mut self) -> anyhow::Result<Result<Value, Ended>> {
        loop {
            let item = tokio::time::timeout(FRAME_TIMEOUT, self.stream.next())
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

    /// Waits for the next frame of a type, skipping others.
    pub async fn expect(&mut self, kind: &str) -> anyhow::Result<Value> {
        loop {
            match self.next().await? {
                Ok(frame) if frame["type"] == kind => return Ok(frame),
                Ok(_other) => continue,
                Err(ended) => {
                    anyhow::bail!("connection ended ({ended:?}) while waiting for {kind}")
                }
            }
        }
    }

    /// Subscribes to a conversation after a sequence number.
    pub async fn subscribe(&mut self, conversation: &str, after: i64) -> anyhow::Result<()> {
        self.send(serde_json::json!({ "type": "subscribe", "conversation_id": conversation, "after": after }))
            .await
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
        loop {
            let frame = self.expect_any_of(&["ack", "error"]).await?;
            if frame["type"] == "error" {
                anyhow::bail!("send failed: {frame}");
            }
            if frame["message_id"] == id {
                return frame["seq"].as_i64().context("ack without seq");
            }
        }
    }

    /// Waits for the next frame whose type is one of `kinds`.
    pub async fn expect_any_of(&mut self, kinds: &[&str]) -> anyhow::Result<Value> {
        loop {
            match self.next().await? {
                Ok(frame) if kinds.iter().any(|kind| frame["type"] == *kind) => return Ok(frame),
                Ok(_other) => continue,
                Err(ended) => {
                    anyhow::bail!("connection ended ({ended:?}) while waiting for {kinds:?}")
                }
            }
        }
    }

    /// Collects `count` message frames for a conversation, in arrival order.
    pub async fn messages(
        &mut self,
        conversation: &str,
        count: usize,
    ) -> anyhow::Result<Vec<Value>> {
        let mut frames = Vec::with_capacity(count);
        while frames.len() < count {
            let frame = self.expect("message").await?;
            if frame["conversation_id"] == conversation {
                frames.push(frame);
            }
        }
        Ok(frames)
    }
}
