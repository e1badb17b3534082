//! The audit trail's hash chains through the real product. The server and
//! the store audit events, and the real `kinlink audit-verify` binary checks
//! them before and after plain SQL edits the database. Two stores append to
//! one chain at once, and rows from before the chain migration join it.

use std::path::Path;

use anyhow::Context;
use chrono::{TimeZone, Utc};
use kinlink_core::audit_chain::ChainKey;
use kinlink_core::{OrganisationId, UserId};
use kinlink_store::Store;
use kinlink_store::audit::AuditRecord;
use kinlink_store::entity::audit_event;
use kinlink_tests::{Database, TestApp, database_under_test};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
};
use serde_json::json;
use uuid::Uuid;

/// The exit code of `kinlink audit-verify` for a broken chain.
const BROKEN: i32 = 2;

/// What a run of `kinlink audit-verify` returned.
struct Verified {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Verified {
    /// Returns the lines that report a broken chain.
    fn broken_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|line| line.contains("BROKEN"))
            .collect()
    }
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {:?}\nstandard output:\n{}\nstandard error:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `kinlink audit-verify` with `args` against a data folder and
/// database, as an operator would.
async fn audit_verify(
    database: &Database,
    data_dir: &Path,
    args: &[&str],
) -> anyhow::Result<Verified> {
    let output = tokio::process::Command::new(kinlink_tests::app::binary())
        .arg("audit-verify")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("KINLINK__DATA_DIR", data_dir)
        .env("KINLINK__DATABASE__URL", database.url(data_dir))
        .kill_on_drop(true)
        .output()
        .await
        .context("running kinlink audit-verify")?;
    Ok(Verified {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Loads a chain's rows in sequence order.
async fn chain_rows(store: &Store, chain: ChainKey) -> anyhow::Result<Vec<audit_event::Model>> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::ChainId.eq(chain.0))
        .order_by_asc(audit_event::Column::Seq)
        .all(&store.db)
        .await?)
}

/// Runs a plain SQL statement, as someone with write access to the
/// database might, and returns how many rows it changed. The statement uses
/// PostgreSQL's placeholders `$1`, `$2`, … in that order, which become `?`
/// on SQLite.
async fn execute_sql(store: &Store, sql: &str, values: Vec<sea_orm::Value>) -> anyhow::Result<u64> {
    let backend = store.db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => sql.to_owned(),
        // From the highest number down, so `$1` does not match in `$10`.
        _ => (1..=values.len())
            .rev()
            .fold(sql.to_owned(), |sql, n| sql.replace(&format!("${n}"), "?")),
    };
    let result = store
        .db
        .execute_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    Ok(result.rows_affected())
}

/// Runs a plain SQL statement on one row, whose id is the last
/// placeholder, and checks that it changed that row alone.
async fn tamper(
    store: &Store,
    sql: &str,
    mut values: Vec<sea_orm::Value>,
    id: Uuid,
) -> anyhow::Result<()> {
    values.push(id.into());
    let changed = execute_sql(store, sql, values).await?;
    anyhow::ensure!(changed == 1, "the statement changed {changed} rows");
    Ok(())
}

/// Audits an event through the store, as the routes do.
async fn audit(
    store: &Store,
    organisation: Option<OrganisationId>,
    action: &'static str,
    detail: serde_json::Value,
) -> anyhow::Result<()> {
    store
        .audit(AuditRecord {
            actor_id: Some(UserId::new()),
            organisation_id: organisation,
            action,
            subject_kind: "user",
            subject_id: Some(Uuid::now_v7()),
            detail,
            at: Utc::now(),
        })
        .await?;
    Ok(())
}

/// Starts a demo server, adds three case notes through the API (each
/// audited in the council's chain) and two platform events through the
/// store, and returns the app with the council's chain key.
async fn app_with_trail() -> anyhow::Result<(TestApp, ChainKey)> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let path = format!("/api/v1/conversations/{link}/notes");
    for n in 1..=3 {
        let response = practitioner
            .post(
                &path,
                &json!({ "body": format!("Visit number {n} went well.") }),
            )
            .await?;
        anyhow::ensure!(
            response.status() == 201,
            "case note: {}",
            response.text().await?
        );
    }

    let store = app.store().await?;
    for n in 0..2 {
        audit(
            &store,
            None,
            "platform.check",
            json!({ "n": n, "ratio": 0.1 * f64::from(n) }),
        )
        .await?;
    }
    let notes = store.audit_events_with_action("case_note.added").await?;
    let organisation = notes
        .first()
        .and_then(|row| row.organisation_id)
        .context("no audited case note")?;
    Ok((app, ChainKey(organisation)))
}

#[tokio::test]
async fn audit_verify_accepts_untouched_trail() -> anyhow::Result<()> {
    let (app, council) = app_with_trail().await?;
    let verified = audit_verify(&app.database, app.data_dir.path(), &[]).await?;

    assert_eq!(verified.code, Some(0), "{verified}");
    assert!(verified.broken_lines().is_empty(), "{verified}");
    let council_line = verified
        .stdout
        .lines()
        .find(|line| line.contains(&council.to_string()))
        .context("no line for the council's chain")?;
    assert!(
        council_line.contains("intact, 3 rows, head seq 3"),
        "{council_line}"
    );
    let platform_line = verified
        .stdout
        .lines()
        .find(|line| line.contains("(platform)"))
        .context("no line for the platform chain")?;
    assert!(
        platform_line.contains("intact, 2 rows, head seq 2"),
        "{platform_line}"
    );
    Ok(())
}

#[tokio::test]
async fn audit_verify_names_edited_rows() -> anyhow::Result<()> {
    let (app, council) = app_with_trail().await?;
    let store = app.store().await?;
    let council_rows = chain_rows(&store, council).await?;
    let platform_rows = chain_rows(&store, ChainKey::PLATFORM).await?;
    let edited_detail = council_rows[1].id;
    let edited_action = platform_rows[0].id;

    tamper(
        &store,
        "UPDATE audit_events SET detail = $1 WHERE id = $2",
        vec![json!({ "note": Uuid::nil() }).into()],
        edited_detail,
    )
    .await?;
    tamper(
        &store,
        "UPDATE audit_events SET action = $1 WHERE id = $2",
        vec!["platform.other".into()],
        edited_action,
    )
    .await?;
    let verified = audit_verify(&app.database, app.data_dir.path(), &[]).await?;

    assert_eq!(verified.code, Some(BROKEN), "{verified}");
    let broken = verified.broken_lines();
    assert_eq!(broken.len(), 2, "{verified}");
    let council_line = broken
        .iter()
        .find(|line| line.contains(&council.to_string()))
        .context("no break reported in the council's chain")?;
    assert!(
        council_line.contains(&format!(
            "row {edited_detail} (seq 2) does not match its stored hash"
        )),
        "{council_line}"
    );
    let platform_line = broken
        .iter()
        .find(|line| line.contains("(platform)"))
        .context("no break reported in the platform chain")?;
    assert!(
        platform_line.contains(&format!(
            "row {edited_action} (seq 1) does not match its stored hash"
        )),
        "{platform_line}"
    );
    for other in council_rows.iter().chain(&platform_rows) {
        if other.id != edited_detail && other.id != edited_action {
            assert!(
                !verified.stdout.contains(&other.id.to_string()),
                "{verified}"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn audit_verify_reports_cut_tail() -> anyhow::Result<()> {
    let (app, council) = app_with_trail().await?;
    let store = app.store().await?;
    let rows = chain_rows(&store, council).await?;
    tamper(
        &store,
        "DELETE FROM audit_events WHERE id = $1",
        Vec::new(),
        rows[2].id,
    )
    .await?;

    let verified = audit_verify(&app.database, app.data_dir.path(), &[]).await?;
    assert_eq!(verified.code, Some(BROKEN), "{verified}");
    let broken = verified.broken_lines();
    assert_eq!(broken.len(), 1, "{verified}");
    assert!(broken[0].contains(&council.to_string()), "{verified}");
    assert!(
        broken[0].contains(&format!(
            "the rows end at row {} (seq 2): the head is at seq 3, so the tail was cut off",
            rows[1].id
        )),
        "{verified}"
    );

    // The platform chain alone is still intact.
    let platform = ChainKey::PLATFORM.to_string();
    let verified = audit_verify(
        &app.database,
        app.data_dir.path(),
        &["--organisation", &platform],
    )
    .await?;
    assert_eq!(verified.code, Some(0), "{verified}");
    assert!(
        verified.stdout.contains("(platform): intact, 2 rows"),
        "{verified}"
    );
    assert!(
        !verified.stdout.contains(&council.to_string()),
        "{verified}"
    );
    Ok(())
}

#[tokio::test]
async fn audit_verify_reports_gap() -> anyhow::Result<()> {
    let (app, council) = app_with_trail().await?;
    let store = app.store().await?;
    let rows = chain_rows(&store, council).await?;
    tamper(
        &store,
        "DELETE FROM audit_events WHERE id = $1",
        Vec::new(),
        rows[1].id,
    )
    .await?;

    let only_council = council.to_string();
    let verified = audit_verify(
        &app.database,
        app.data_dir.path(),
        &["--organisation", &only_council],
    )
    .await?;
    assert_eq!(verified.code, Some(BROKEN), "{verified}");
    let broken = verified.broken_lines();
    assert_eq!(broken.len(), 1, "{verified}");
    assert!(
        broken[0].contains(&format!(
            "row {} has seq 3 where seq 2 was expected: rows are missing before it",
            rows[2].id
        )),
        "{verified}"
    );
    assert!(!verified.stdout.contains("(platform)"), "{verified}");
    Ok(())
}

#[tokio::test]
async fn audit_verify_reports_row_outside_chain() -> anyhow::Result<()> {
    let (app, council) = app_with_trail().await?;
    let store = app.store().await?;
    let rows = chain_rows(&store, council).await?;
    tamper(
        &store,
        "UPDATE audit_events SET seq = NULL, prev_hash = NULL, hash = NULL WHERE id = $1",
        Vec::new(),
        rows[2].id,
    )
    .await?;

    let verified = audit_verify(&app.database, app.data_dir.path(), &[]).await?;
    assert_eq!(verified.code, Some(BROKEN), "{verified}");
    let broken = verified.broken_lines();
    assert_eq!(broken.len(), 2, "{verified}");
    assert!(
        broken
            .iter()
            .any(|line| line.contains("the head is at seq 3, so the tail was cut off")),
        "{verified}"
    );
    assert!(
        broken.iter().any(|line| line.contains(&format!(
            "row {} has no sequence number or hash: it was written outside the chain",
            rows[2].id
        ))),
        "{verified}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_audit_appends_stay_chained() -> anyhow::Result<()> {
    const PER_NODE: usize = 25;
    let database = database_under_test().await?;
    let data_dir = tempfile::tempdir()?;
    let url = database.url(data_dir.path());
    let first = Store::connect(&url, 4).await?;
    first.migrate().await?;
    let second = Store::connect(&url, 4).await?;
    second.migrate().await?;
    let organisation = OrganisationId::new();

    let append = |store: Store, node: &'static str| async move {
        for n in 0..PER_NODE {
            audit(
                &store,
                Some(organisation),
                "node.append",
                json!({ "node": node, "n": n }),
            )
            .await?;
        }
        Ok::<_, anyhow::Error>(())
    };
    let (a, b) = tokio::join!(
        tokio::spawn(append(first.clone(), "first")),
        tokio::spawn(append(second.clone(), "second"))
    );
    a??;
    b??;

    let chain = ChainKey::of(Some(organisation));
    let rows = chain_rows(&first, chain).await?;
    let seqs: Vec<Option<i64>> = rows.iter().map(|row| row.seq).collect();
    let expected: Vec<Option<i64>> = (1..=(2 * PER_NODE) as i64).map(Some).collect();
    assert_eq!(seqs, expected);
    for node in ["first", "second"] {
        let from_node = rows.iter().filter(|row| row.detail["node"] == node).count();
        assert_eq!(from_node, PER_NODE, "appends from the {node} store");
    }
    let summary = second
        .verify_audit_chain(chain)
        .await?
        .map_err(|broken| anyhow::anyhow!("chain broken: {broken}"))?;
    assert_eq!(summary.events, (2 * PER_NODE) as u64);
    assert_eq!(summary.last_seq, (2 * PER_NODE) as i64);

    let verified = audit_verify(&database, data_dir.path(), &[]).await?;
    assert_eq!(verified.code, Some(0), "{verified}");
    assert!(
        verified
            .stdout
            .contains(&format!("intact, {} rows", 2 * PER_NODE)),
        "{verified}"
    );
    Ok(())
}

/// Returns whether `audit_events` has a `seq` column.
async fn has_chain_columns(store: &Store) -> bool {
    store
        .db
        .execute_unprepared("SELECT seq FROM audit_events LIMIT 1")
        .await
        .is_ok()
}

/// Inserts an audit row as the trail stored it before the chains existed.
async fn insert_unchained(
    store: &Store,
    id: Uuid,
    organisation: Option<Uuid>,
    at: chrono::DateTime<Utc>,
) -> anyhow::Result<()> {
    let sql = "INSERT INTO audit_events \
               (id, occurred_at, actor_id, organisation_id, action, subject_kind, subject_id, detail) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    let actor: Option<Uuid> = Some(Uuid::now_v7());
    let subject: Option<Uuid> = None;
    // A float that PostgreSQL hands back as an integer.
    let detail = json!({ "z": 1, "a": [1.5, "text"], "big": 1e19 });
    let values = vec![
        id.into(),
        at.into(),
        actor.into(),
        organisation.into(),
        "legacy.event".into(),
        "user".into(),
        subject.into(),
        detail.into(),
    ];
    let inserted = execute_sql(store, sql, values).await?;
    anyhow::ensure!(inserted == 1, "inserted {inserted} rows");
    Ok(())
}

#[tokio::test]
async fn audit_chain_migration_chains_existing_rows() -> anyhow::Result<()> {
    let database = database_under_test().await?;
    let data_dir = tempfile::tempdir()?;
    let store = Store::connect(&database.url(data_dir.path()), 2).await?;
    store.migrate().await?;

    // Step down from the newest migration until the chain columns are gone.
    let mut steps = 0;
    while has_chain_columns(&store).await {
        store.migrate_down(1).await?;
        steps += 1;
        // A bound that stops a loop that would never end; it grows as
        // migrations after the audit chain's are added.
        anyhow::ensure!(
            steps <= 40,
            "the chain columns remain after {steps} steps down"
        );
    }
    let organisation = Uuid::now_v7();
    let base = Utc
        .with_ymd_and_hms(2026, 11, 1, 9, 0, 0)
        .single()
        .context("base time")?;
    // Inserted out of time order, and with nanoseconds that PostgreSQL drops.
    let legacy = [
        (
            Uuid::now_v7(),
            Some(organisation),
            base + chrono::Duration::nanoseconds(3_000_000_789),
        ),
        (
            Uuid::now_v7(),
            Some(organisation),
            base + chrono::Duration::nanoseconds(1_000_000_123),
        ),
        (Uuid::now_v7(), None, base + chrono::Duration::seconds(5)),
        (
            Uuid::now_v7(),
            Some(organisation),
            base + chrono::Duration::nanoseconds(2_000_000_456),
        ),
    ];
    for (id, organisation, at) in legacy {
        insert_unchained(&store, id, organisation, at).await?;
    }

    store.migrate().await?;
    let chain = ChainKey(organisation);
    let rows = chain_rows(&store, chain).await?;
    let order: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
    assert_eq!(
        order,
        vec![legacy[1].0, legacy[3].0, legacy[0].0],
        "numbered by time"
    );
    let seqs: Vec<Option<i64>> = rows.iter().map(|row| row.seq).collect();
    assert_eq!(seqs, vec![Some(1), Some(2), Some(3)]);
    for key in [chain, ChainKey::PLATFORM] {
        let verdict = store.verify_audit_chain(key).await?;
        assert!(verdict.is_ok(), "chain {key}: {verdict:?}");
    }

    // New events continue the chain after the old ones.
    audit(
        &store,
        Some(OrganisationId(organisation)),
        "after.migration",
        json!({}),
    )
    .await?;
    let summary = store
        .verify_audit_chain(chain)
        .await?
        .map_err(|broken| anyhow::anyhow!("chain broken: {broken}"))?;
    assert_eq!(summary.last_seq, 4);
    let verified = audit_verify(&database, data_dir.path(), &[]).await?;
    assert_eq!(verified.code, Some(0), "{verified}");

    // Down and up again with rows present chains them afresh.
    store.migrate_down(steps).await?;
    assert!(
        !has_chain_columns(&store).await,
        "chain columns not dropped"
    );
    store.migrate().await?;
    assert!(store.verify_audit_chain(chain).await?.is_ok());
    assert!(store.unchained_audit_events(None, 10).await?.is_empty());
    Ok(())
}
