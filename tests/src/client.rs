//! An HTTP client that keeps the session cookie and sends the server's
//! Origin on state-changing requests, as a browser would.

use std::sync::Arc;

use anyhow::Context;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::Value;

use crate::socket::Socket;

/// One signed-in (or not yet signed-in) browser.
#[derive(Clone)]
pub struct Client {
    pub address: String,
    pub http: reqwest::Client,
    jar: Arc<Jar>,
    /// The session cookie's value, once signed in.
    pub session_token: Option<String>,
}

impl Client {
    /// Creates a client with an empty cookie jar.
    pub fn new(address: &str) -> anyhow::Result<Self> {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(Arc::clone(&jar))
            .no_proxy()
            .build()?;
        Ok(Self {
            address: address.to_owned(),
            http,
            jar,
            session_token: None,
        })
    }

    /// Copies the session cookie out of the jar.
    pub fn with_session_from_jar(mut self) -> Self {
        let url = self.address.parse().ok();
        let header = url.and_then(|url| self.jar.cookies(&url));
        self.session_token = header.and_then(|value| {
            value.to_str().ok().and_then(|text| {
                text.split(';')
                    .map(str::trim)
                    .find_map(|pair| pair.strip_prefix("kinlink_session=").map(str::to_owned))
            })
        });
        self
    }

    /// Sends a GET.
    pub async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .get(format!("{}{path}", self.address))
            .send()
            .await?)
    }

    /// Sends a JSON POST with the server's Origin.
    pub async fn post(&self, path: &str, body: &Value) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .post(format!("{}{path}", self.address))
            .header("Origin", &self.address)
            .json(body)
            .send()
            .await?)
    }

    /// Sends a JSON PUT with the server's Origin.
    pub async fn put(&self, path: &str, body: &Value) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .put(format!("{}{path}", self.address))
            .header("Origin", &self.address)
            .json(body)
            .send()
            .await?)
    }

    /// Sends a DELETE with the server's Origin.
    pub async fn delete(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .delete(format!("{}{path}", self.address))
            .header("Origin", &self.address)
            .send()
            .await?)
    }

    /// Sends a GET and parses JSON, failing on a non-2xx status.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let response = self.get(path).await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "GET {path}: {status} {text}");
        serde_json::from_str(&text).with_context(|| format!("GET {path}: not JSON"))
    }

    /// Returns the id of the first conversation of a kind.
    pub async fn conversation_id(&self, kind: &str) -> anyhow::Result<String> {
        let list = self.get_json("/api/v1/conversations").await?;
        list.as_array()
            .and_then(|items| items.iter().find(|item| item["kind"] == kind))
            .and_then(|item| item["id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no {kind} conversation in {list}"))
    }

    /// Returns the id of one of the caller's cases of `kind` by its title.
    pub async fn own_case(&self, kind: &str, title: &str) -> anyhow::Result<String> {
        let list = self.get_json(&format!("/api/v1/cases?kind={kind}")).await?;
        list.as_array()
            .and_then(|cases| cases.iter().find(|case| case["title"] == title))
            .and_then(|case| case["id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no {kind} case titled {title:?} in {list}"))
    }

    /// Sends raw bytes in a POST with the server's Origin, as a file's body.
    pub async fn post_bytes(
        &self,
        path: &str,
        bytes: Vec<u8>,
    ) -> anyhow::Result<reqwest::Response> {
        Ok(self
            .http
            .post(format!("{}{path}", self.address))
            .header("Origin", &self.address)
            .header("Content-Type", "application/octet-stream")
            .body(bytes)
            .send()
            .await?)
    }

    /// Opens the WebSocket with the session cookie and the server's Origin.
    pub async fn socket(&self) -> anyhow::Result<Socket> {
        let token = self.session_token.as_deref().context("not signed in")?;
        Socket::connect(&self.address, Some(token), Some(&self.address)).await
    }
}

/// Returns a response's status and its body as JSON, or `null` when the
/// body is not JSON.
pub async fn status_and_json(response: reqwest::Response) -> anyhow::Result<(u16, Value)> {
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}
