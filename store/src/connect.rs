//! Connecting to the database and running migrations under a lock.
//!
//! SQLite runs in WAL mode with a busy timeout, so concurrent writers wait
//! for each other rather than failing with "database is locked".
//! PostgreSQL migrations take an advisory lock; SQLite migrations take an
//! exclusive lock on a file beside the database.

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kinlink_migrations::{Migrator, MigratorTrait};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::StoreError;

/// How long a SQLite writer waits for another writer before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(30);
/// PostgreSQL advisory lock key for migrations ("kinlink" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6b_696e_6c69_6e6b;

/// The kind of database behind a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One file, one node.
    Sqlite,
    /// Shared by several nodes.
    Postgres,
}

/// A handle to the database, cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    /// The sea-orm connection pool.
    pub db: DatabaseConnection,
    /// The backend behind the pool.
    pub backend: Backend,
    sqlite_path: Option<PathBuf>,
    /// SQLite allows one writer at a time, and writers that find the file
    /// locked sleep in SQLite's busy handler, which wastes most of the time
    /// under contention. Taking turns here (first come, first served) keeps
    /// the file lock free for whoever holds the turn. Unused on PostgreSQL.
    write_turn: Arc<Mutex<()>>,
}

/// A write transaction, holding the SQLite write turn until it ends.
pub struct WriteTransaction {
    transaction: DatabaseTransaction,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl Deref for WriteTransaction {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.transaction
    }
}

impl WriteTransaction {
    /// Commits, then gives up the write turn.
    pub async fn commit(self) -> Result<(), sea_orm::DbErr> {
        self.transaction.commit().await
    }

    /// Rolls back, then gives up the write turn.
    pub async fn rollback(self) -> Result<(), sea_orm::DbErr> {
        self.transaction.rollback().await
    }
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`) with at most
    /// `max_connections` pooled connections.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let mut options = ConnectOptions::new(url.to_owned());
        options
            .max_connections(max_connections)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .sqlx_logging(false);
        if backend == Backend::Sqlite {
            options.map_sqlx_sqlite_opts(|sqlite| {
                sqlite
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .foreign_keys(true)
                    // Deleted rows are overwritten, so an erased person's
                    // details do not linger in free pages of the file.
                    .pragma("secure_delete", "ON")
            });
        }
        let db = connect_with_retry(options).await?;
        let sqlite_path = sqlite_file(url);
        Ok(Self {
            db,
            backend,
            sqlite_path,
            write_turn: Arc::default(),
        })
    }

    /// Applies every pending migration, holding a lock so that nodes
    /// starting together run them once. Under the same lock it then hashes
    /// the audit rows that the audit chain migration numbered but could not
    /// hash (see `audit_chain::hash_unhashed_chains`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Postgres => self.migrate_postgres().await,
            Backend::Sqlite => self.migrate_sqlite().await,
        }
    }

    async fn migrate_postgres(&self) -> Result<(), StoreError> {
        // A transaction-level advisory lock is released by the commit or
        // rollback, so a node that dies mid-migration cannot leave it held.
        let transaction = self.db.begin().await?;
        let lock = format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})");
        transaction.execute_unprepared(&lock).await?;
        Migrator::up(&transaction, None).await?;
        crate::audit_chain::hash_unhashed_chains(&transaction).await?;
        Ok(transaction.commit().await?)
    }

    async fn migrate_sqlite(&self) -> Result<(), StoreError> {
        let lock_file = match &self.sqlite_path {
            Some(path) => {
                let lock_path = path.with_extension("migrate-lock");
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .truncate(false)
                    .write(true)
                    .open(&lock_path)
                    .map_err(|source| StoreError::MigrationLock {
                        path: lock_path.display().to_string(),
                        source,
                    })?;
                let locked = tokio::task::spawn_blocking(move || file.lock().map(|()| file))
                    .await
                    .map_err(|join| StoreError::MigrationLock {
                        path: lock_path.display().to_string(),
                        source: std::io::Error::other(join),
                    })?
                    .map_err(|source| StoreError::MigrationLock {
                        path: lock_path.display().to_string(),
                        source,
                    })?;
                Some(locked)
            }
            None => None,
        };
        let result = self.migrate_sqlite_locked().await;
        drop(lock_file);
        result
    }

    async fn migrate_sqlite_locked(&self) -> Result<(), StoreError> {
        Migrator::up(&self.db, None).await?;
        let transaction = self.begin_write().await?;
        crate::audit_chain::hash_unhashed_chains(&*transaction).await?;
        Ok(transaction.commit().await?)
    }

    /// Counts the migrations this build has that the database has not
    /// applied yet.
    pub async fn pending_migrations(&self) -> Result<usize, StoreError> {
        Ok(Migrator::get_pending_migrations(&self.db).await?.len())
    }

    /// Writes a consistent copy of a SQLite database to `path`, which must
    /// not exist, with `VACUUM INTO`: one read transaction, so writers
    /// carry on meanwhile.
    pub async fn copy_sqlite_into(&self, path: &std::path::Path) -> Result<(), StoreError> {
        let target = path.display().to_string().replace('\'', "''");
        sea_orm::ConnectionTrait::execute_unprepared(&self.db, &format!("VACUUM INTO '{target}'"))
            .await?;
        Ok(())
    }

    /// Returns the SQLite file `url` names, if it names one.
    pub fn sqlite_file_of(url: &str) -> Option<PathBuf> {
        sqlite_file(url)
    }

    /// Returns whether `url` names a SQLite file that does not exist yet,
    /// which connecting would create.
    pub fn sqlite_file_missing(url: &str) -> bool {
        sqlite_file(url).is_some_and(|path| !path.exists())
    }

    /// Reverts every migration. Used by the migration tests.
    pub async fn migrate_down_all(&self) -> Result<(), StoreError> {
        Ok(Migrator::down(&self.db, None).await?)
    }

    /// Reverts the newest `steps` migrations. Used by the migration tests.
    pub async fn migrate_down(&self, steps: u32) -> Result<(), StoreError> {
        Ok(Migrator::down(&self.db, Some(steps)).await?)
    }

    /// Starts a transaction that will write. On SQLite it takes the write
    /// lock at `BEGIN` (`BEGIN IMMEDIATE`), so it waits for other writers
    /// under the busy timeout instead of failing later with a stale read
    /// snapshot when it first writes.
    pub async fn begin_write(&self) -> Result<WriteTransaction, StoreError> {
        let turn = match self.backend {
            Backend::Sqlite => Some(Arc::clone(&self.write_turn).lock_owned().await),
            Backend::Postgres => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        let transaction = self.db.begin_with_options(options).await?;
        Ok(WriteTransaction {
            transaction,
            _turn: turn,
        })
    }

    /// Checks that the database responds.
    pub async fn ping(&self) -> Result<(), StoreError> {
        Ok(self.db.ping().await?)
    }
}

/// Connects, retrying while SQLite reports the file locked: switching a
/// new file to WAL mode fails at once, without the busy timeout, when
/// another process is doing the same.
async fn connect_with_retry(options: ConnectOptions) -> Result<DatabaseConnection, StoreError> {
    let mut attempt = 0;
    loop {
        match Database::connect(options.clone()).await {
            Ok(db) => return Ok(db),
            Err(error) if attempt < 50 && error.to_string().contains("database is locked") => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    if path.is_empty() || path == ":memory:" {
        return None;
    }
    Some(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_path_from_url() {
        assert_eq!(
            sqlite_file("sqlite://data/k.db?mode=rwc"),
            Some(PathBuf::from("data/k.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x"), None);
    }
}
