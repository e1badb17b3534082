//! The data inventory in `kinlink_core::inventory` lists exactly the
//! columns of the migrated schema on the database under test.

use std::collections::BTreeSet;

use kinlink_core::inventory;
use kinlink_store::{Backend, Store};
use kinlink_tests::database_under_test;
use sea_orm::{ConnectionTrait, Statement};

/// Every table and column of the migrated schema on PostgreSQL.
const POSTGRES_COLUMNS: &str = "SELECT table_name::text, column_name::text \
     FROM information_schema.columns \
     WHERE table_schema = 'public' AND table_name <> 'seaql_migrations'";

/// Every table and column of the migrated schema on SQLite, SQLite's own
/// tables left out.
const SQLITE_COLUMNS: &str = "SELECT m.name, c.name \
     FROM sqlite_master AS m JOIN pragma_table_info(m.name) AS c \
     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
     AND m.name <> 'seaql_migrations'";

/// Returns each (table, column) pair of the live schema. On SQLite it
/// leaves out the full-text index of community posts, which the registry
/// leaves out too.
async fn live_columns(store: &Store) -> anyhow::Result<BTreeSet<(String, String)>> {
    let sql = match store.backend {
        Backend::Postgres => POSTGRES_COLUMNS,
        Backend::Sqlite => SQLITE_COLUMNS,
    };
    let backend = store.db.get_database_backend();
    let rows = store
        .db
        .query_all_raw(Statement::from_string(backend, sql))
        .await?;
    let mut columns = BTreeSet::new();
    for row in rows {
        let table: String = row.try_get_by_index(0)?;
        let column: String = row.try_get_by_index(1)?;
        if store.backend == Backend::Sqlite && inventory::is_sqlite_search_index(&table) {
            continue;
        }
        columns.insert((table, column));
    }
    Ok(columns)
}

/// Returns each (table, column) pair the registry expects on `backend`.
fn registry_columns(backend: Backend) -> BTreeSet<(String, String)> {
    let mut columns = BTreeSet::new();
    for table in inventory::INVENTORY {
        for (column, _) in table.columns {
            let postgres_only = inventory::POSTGRES_ONLY.contains(&(table.name, *column));
            if postgres_only && backend == Backend::Sqlite {
                continue;
            }
            columns.insert((table.name.to_owned(), (*column).to_owned()));
        }
    }
    columns
}

/// Formats each pair as `table.column`, one to a line.
fn list(pairs: &[&(String, String)]) -> String {
    pairs
        .iter()
        .map(|(table, column)| format!("  {table}.{column}\n"))
        .collect()
}

#[tokio::test]
async fn registry_matches_schema() -> anyhow::Result<()> {
    let database = database_under_test().await?;
    let dir = tempfile::tempdir()?;
    let store = Store::connect(&database.url(dir.path()), 2).await?;
    store.migrate().await?;

    let live = live_columns(&store).await?;
    assert!(!live.is_empty(), "the schema query found no columns");
    let registry = registry_columns(store.backend);

    let unclassified: Vec<_> = live.difference(&registry).collect();
    let stale: Vec<_> = registry.difference(&live).collect();
    assert!(
        unclassified.is_empty() && stale.is_empty(),
        "the inventory in core/src/inventory.rs does not match the {:?} schema: \
         classify each column that the database has and the inventory lacks, and \
         remove each entry that the database lacks.\n\
         Columns in the database but not in the inventory ({}):\n{}\
         Columns in the inventory but not in the database ({}):\n{}",
        store.backend,
        unclassified.len(),
        list(&unclassified),
        stale.len(),
        list(&stale),
    );
    Ok(())
}
