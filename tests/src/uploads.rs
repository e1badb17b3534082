//! Uploads through the HTTP API, as a client sends them.

use serde_json::{Value, json};

use std::time::Duration;

use crate::{Client, Socket};

/// Starts an upload and returns its JSON view.
pub async fn start(
    client: &Client,
    conversation: &str,
    name: &str,
    size: usize,
) -> anyhow::Result<Value> {
    let response = client
        .post(
            &format!("/api/v1/conversations/{conversation}/uploads"),
            &json!({ "name": name, "size": size }),
        )
        .await?;
    anyhow::ensure!(
        response.status() == 201,
        "start failed: {}",
        response.status()
    );
    Ok(response.json().await?)
}

/// Sends bytes from `offset` and returns the response.
pub async fn append(
    client: &Client,
    id: &str,
    offset: usize,
    bytes: &[u8],
) -> anyhow::Result<reqwest::Response> {
    Ok(client
        .http
        .patch(format!("{}/api/v1/uploads/{id}", client.address))
        .header("Origin", &client.address)
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.to_vec())
        .send()
        .await?)
}

/// Uploads a whole file in one request and returns the final view.
pub async fn upload(
    client: &Client,
    conversation: &str,
    name: &str,
    bytes: &[u8],
) -> anyhow::Result<Value> {
    let started = start(client, conversation, name, bytes.len()).await?;
    let id = started["id"].as_str().unwrap_or_default().to_owned();
    let response = append(client, &id, 0, bytes).await?;
    anyhow::ensure!(
        response.status() == 200,
        "append failed: {}",
        response.status()
    );
    Ok(response.json().await?)
}

/// Waits for a file's `file` frames until it is ready or failed; returns
/// the last frame and the progress values seen on the way.
pub async fn follow(socket: &mut Socket, id: &str) -> anyhow::Result<(Value, Vec<u64>)> {
    let mut progress = Vec::new();
    loop {
        let frame = socket
            .expect_where_within(
                |f| f["type"] == "file" && f["file_id"] == id,
                "a file frame",
                Duration::from_secs(120),
            )
            .await?;
        match frame["status"].as_str() {
            Some("processing") => progress.extend(frame["progress"].as_u64()),
            _ => return Ok((frame, progress)),
        }
    }
}

/// Requests a file's status until its processing has ended, and returns
/// the last view: `ready` or `failed`.
pub async fn settled(client: &Client, id: &str) -> anyhow::Result<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let view = client.get_json(&format!("/api/v1/uploads/{id}")).await?;
        if matches!(view["status"].as_str(), Some("ready" | "failed")) {
            return Ok(view);
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "file {id} is still {} after 60 s",
            view["status"]
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Uploads a whole file in one request and waits for its processing to
/// end. Returns the final view.
pub async fn upload_settled(
    client: &Client,
    conversation: &str,
    name: &str,
    bytes: &[u8],
) -> anyhow::Result<Value> {
    let view = upload(client, conversation, name, bytes).await?;
    let id = view["id"].as_str().unwrap_or_default().to_owned();
    settled(client, &id).await
}

/// Sends a message that carries the file, which makes it visible to the
/// conversation's other members, and waits for the message to be stored.
pub async fn share(client: &Client, conversation: &str, file: &str) -> anyhow::Result<()> {
    let mut socket = client.socket().await?;
    let id = uuid::Uuid::now_v7().to_string();
    socket
        .send(json!({
            "type": "send", "conversation_id": conversation, "message_id": id,
            "body": "", "attachments": [file]
        }))
        .await?;
    let answer = socket
        .expect_where(
            |frame| {
                (frame["type"] == "ack" && frame["message_id"] == id)
                    || (frame["type"] == "error" && frame["ref"] == id)
            },
            "the answer to a send",
        )
        .await?;
    anyhow::ensure!(answer["type"] == "ack", "sharing {file} failed: {answer}");
    Ok(())
}

/// Sends one of the test media files as a community image and waits until
/// it is processed; returns its view.
pub async fn community_image(client: &Client, name: &str) -> anyhow::Result<Value> {
    let bytes = std::fs::read(crate::test_media::path(name)?)?;
    let (status, image) =
        crate::client::status_and_json(client.post_bytes("/api/v1/community/images", bytes).await?)
            .await?;
    anyhow::ensure!(status == 202, "image upload answered {status}: {image}");
    let id = image["id"].as_str().unwrap_or_default().to_owned();
    for _ in 0..240 {
        let image = client
            .get_json(&format!("/api/v1/community/images/{id}"))
            .await?;
        match image["status"].as_str() {
            Some("ready") => return Ok(image),
            Some("failed") => anyhow::bail!("image failed: {image}"),
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
    anyhow::bail!("image {id} was not ready within a minute")
}
