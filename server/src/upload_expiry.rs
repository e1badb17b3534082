//! Deletes unfinished uploads whose time ran out, content first and then
//! the row, at start and every hour after.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tracing::{info, warn};

use crate::state::AppState;

const SWEEP_INTERVAL: Duration = Duration::from_secs(3600);

/// Runs the sweep forever on the current runtime.
pub fn start(state: AppState) {
    actix_web::rt::spawn(async move {
        let mut interval = tokio::time::interval(SWEEP_INTERVAL);
        loop {
            interval.tick().await;
            if let Err(error) = sweep(&state).await {
                warn!(error = %kinlink_actors::Causes(error.as_ref()), "deleting expired uploads failed; retrying in an hour");
            }
        }
    });
}

async fn sweep(state: &AppState) -> anyhow::Result<()> {
    let expired = state.store.expired_uploads(Utc::now()).await?;
    for id in &expired {
        let blobs = Arc::clone(&state.blobs);
        let id = *id;
        tokio::task::spawn_blocking(move || blobs.delete(id)).await??;
        state.store.delete_file(id).await?;
    }
    if !expired.is_empty() {
        info!(count = expired.len(), "deleted expired uploads");
    }
    Ok(())
}
