//! Helpers for the tests of erasure: the retention sweep the server runs
//! as it starts, an erasure request agreed through the API, and counts of
//! the rows that still name a user.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use kinlink_core::user_erasure::{DISPOSITIONS, Disposition};
use kinlink_store::Store;
use kinlink_store::entity::{retention_sweep, user};
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use serde_json::json;

use crate::Client;
use crate::client::status_and_json;

/// Waits for the sweep the server runs as it starts (it sweeps the current
/// day at once when no node has), so it cannot race the test's own.
pub async fn startup_sweep_done(store: &Store) -> anyhow::Result<()> {
    for _ in 0..200 {
        let rows = retention_sweep::Entity::find().all(&store.db).await?;
        if rows.iter().any(|row| row.finished_at.is_some()) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the server did not finish its first sweep")
}

/// Returns the id and email address of the demo user `key`.
pub async fn demo_account(
    app: &crate::TestApp,
    store: &Store,
    key: &str,
) -> anyhow::Result<(uuid::Uuid, String)> {
    let email = app.demo_user(key)?["email"]
        .as_str()
        .context("email")?
        .to_owned();
    let account = store
        .find_user_by_email(&email)
        .await?
        .with_context(|| format!("no account for the demo user {key}"))?;
    Ok((account.id, email))
}

/// Counts the rows of `table` with `value` in `column`.
pub async fn count(
    store: &Store,
    table: &str,
    column: &str,
    value: sea_orm::Value,
) -> anyhow::Result<i64> {
    let backend = store.db.get_database_backend();
    let placeholder = if backend == sea_orm::DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!("SELECT COUNT(*) AS n FROM \"{table}\" WHERE \"{column}\" = {placeholder}");
    let row = store
        .db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [value]))
        .await?
        .context("a count")?;
    Ok(row.try_get::<i64>("", "n")?)
}

/// Returns, for every column the erasure rules dispose of, how many rows
/// name the user by id or address.
pub async fn rows_naming(
    store: &Store,
    id: uuid::Uuid,
    email: &str,
) -> anyhow::Result<Vec<(&'static str, &'static str, Disposition, i64)>> {
    let mut found = Vec::new();
    for (table, column, disposition) in DISPOSITIONS {
        let value: sea_orm::Value = if column.contains("email") {
            email.to_owned().into()
        } else {
            id.into()
        };
        found.push((
            *table,
            *column,
            *disposition,
            count(store, table, column, value).await?,
        ));
    }
    Ok(found)
}

/// Returns how many rows the erasure rules delete or unlink still name the
/// user.
pub async fn deleted_rows_left(store: &Store, id: uuid::Uuid, email: &str) -> anyhow::Result<i64> {
    Ok(rows_naming(store, id, email)
        .await?
        .iter()
        .filter(|(_, _, disposition, _)| {
            matches!(disposition, Disposition::Delete | Disposition::Unlink)
        })
        .map(|(_, _, _, left)| left)
        .sum())
}

/// The person asks for their account to be erased and the manager
/// completes the request. Returns when the account was marked.
pub async fn agree_erasure(
    store: &Store,
    person: &Client,
    manager: &Client,
    id: uuid::Uuid,
) -> anyhow::Result<DateTime<Utc>> {
    let (status, request) = status_and_json(
        person
            .post("/api/v1/me/rights-requests", &json!({ "kind": "erasure" }))
            .await?,
    )
    .await?;
    anyhow::ensure!(status == 201, "asking failed: {request}");
    let path = format!(
        "/api/v1/rights-requests/{}/state",
        request["id"].as_str().unwrap_or_default()
    );
    let (status, decided) = status_and_json(
        manager
            .post(&path, &json!({ "state": "completed" }))
            .await?,
    )
    .await?;
    anyhow::ensure!(status == 200, "completing failed: {decided}");
    user::Entity::find_by_id(id)
        .one(&store.db)
        .await?
        .and_then(|row| row.marked_at)
        .context("the account is not marked")
}
