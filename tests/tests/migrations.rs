//! Every migration applies and reverts cleanly on the database under test,
//! and two nodes migrating at once do not race.

use kinlink_tests::database::fresh_postgres;
use kinlink_tests::{Database, database_under_test};
use sea_orm::ConnectionTrait;

/// The tables the migrations create, besides their own bookkeeping table.
const TABLES: i64 = 57;

async fn table_count(store: &kinlink_store::Store) -> anyhow::Result<i64> {
    let sql = match store.backend {
        kinlink_store::Backend::Postgres => {
            "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'seaql_migrations'"
        }
        kinlink_store::Backend::Sqlite => {
            // The community's FTS5 index is one virtual table with shadow
            // tables of its own; PostgreSQL indexes a column instead.
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'seaql_migrations' AND name NOT LIKE 'community_search%'"
        }
    };
    let backend = store.db.get_database_backend();
    let row = store
        .db
        .query_one_raw(sea_orm::Statement::from_string(backend, sql))
        .await?;
    Ok(row
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0))
}

fn url_for(database: &Database, dir: &tempfile::TempDir) -> String {
    database.url(dir.path())
}

#[tokio::test]
async fn migrations_apply_and_revert() -> anyhow::Result<()> {
    let database = database_under_test().await?;
    let dir = tempfile::tempdir()?;
    let store = kinlink_store::Store::connect(&url_for(&database, &dir), 2).await?;

    store.migrate().await?;
    assert_eq!(table_count(&store).await?, TABLES);
    store.migrate().await?;
    assert_eq!(
        table_count(&store).await?,
        TABLES,
        "a second run changes nothing"
    );

    store.migrate_down_all().await?;
    assert_eq!(table_count(&store).await?, 0);
    store.migrate().await?;
    assert_eq!(table_count(&store).await?, TABLES, "up again after down");
    Ok(())
}

/// Returns whether a query of `column` in `table` succeeds.
async fn has_column(store: &kinlink_store::Store, table: &str, column: &str) -> bool {
    let sql = format!("SELECT {column} FROM {table} LIMIT 1");
    store.db.execute_unprepared(&sql).await.is_ok()
}

#[tokio::test]
async fn call_columns_apply_and_revert() -> anyhow::Result<()> {
    let database = database_under_test().await?;
    let dir = tempfile::tempdir()?;
    let store = kinlink_store::Store::connect(&url_for(&database, &dir), 2).await?;
    let added = [("calls", "node_id"), ("contact_agreements", "call_minutes")];

    store.migrate().await?;
    for (table, column) in added {
        assert!(
            has_column(&store, table, column).await,
            "{table}.{column} missing"
        );
    }

    // Step down from the newest migration until both columns are gone:
    // each goes with its own migration, and their tables stay.
    let mut steps = 0;
    while has_column(&store, "calls", "node_id").await
        || has_column(&store, "contact_agreements", "call_minutes").await
    {
        store.migrate_down(1).await?;
        steps += 1;
        assert!(
            steps <= 20,
            "the columns are still there after {steps} steps down"
        );
    }
    assert!(
        has_column(&store, "calls", "end_reason").await,
        "calls dropped"
    );
    assert!(
        has_column(&store, "contact_agreements", "live_messages").await,
        "contact_agreements dropped"
    );

    store.migrate().await?;
    for (table, column) in added {
        assert!(
            has_column(&store, table, column).await,
            "{table}.{column} not back"
        );
    }
    assert_eq!(table_count(&store).await?, TABLES, "up again after down");
    Ok(())
}

#[tokio::test]
async fn concurrent_migrations_do_not_race() -> anyhow::Result<()> {
    let database = match database_under_test().await? {
        Database::Postgres(_) => Database::Postgres(fresh_postgres().await?),
        Database::Sqlite => Database::Sqlite,
    };
    let dir = tempfile::tempdir()?;
    let url = url_for(&database, &dir);
    let mut nodes = Vec::new();
    for _ in 0..4 {
        let url = url.clone();
        nodes.push(tokio::spawn(async move {
            let store = kinlink_store::Store::connect(&url, 2)
                .await
                .map_err(|error| anyhow::anyhow!("connecting: {error:?}"))?;
            store
                .migrate()
                .await
                .map_err(|error| anyhow::anyhow!("migrating: {error:?}"))?;
            Ok::<_, anyhow::Error>(store)
        }));
    }
    let mut stores = Vec::new();
    for node in nodes {
        stores.push(node.await??);
    }
    assert_eq!(table_count(&stores[0]).await?, TABLES);
    Ok(())
}
