//! Changing a contact link's agreement over the API, as its supervisor.

use anyhow::Context;
use serde_json::{Value, json};

use crate::Client;

/// Turns an agreement as `GET` returns it into the body `PUT` takes.
pub fn as_request(mut agreement: Value) -> Value {
    let parties: Vec<Value> = agreement["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| json!({"user_id": p["user_id"], "side": p["side"], "relationship": p["relationship"]}))
        .collect();
    agreement["parties"] = json!(parties);
    if let Some(object) = agreement.as_object_mut() {
        for field in [
            "conversation_id",
            "status",
            "status_reason",
            "call_minutes_max",
            "updated_at",
        ] {
            object.remove(field);
        }
    }
    agreement
}

/// Reads the agreement of `link`, lets `change` edit the request body,
/// stores it and returns the stored agreement.
pub async fn change(
    supervisor: &Client,
    link: &str,
    change: impl FnOnce(&mut Value),
) -> anyhow::Result<Value> {
    let path = format!("/api/v1/conversations/{link}/agreement");
    let mut body = as_request(supervisor.get_json(&path).await?);
    change(&mut body);
    let response = supervisor.put(&path, &body).await?;
    let status = response.status();
    let text = response.text().await?;
    anyhow::ensure!(status == 200, "agreement: {status} {text}");
    serde_json::from_str(&text).context("agreement is not JSON")
}
