//! Fresh databases for each test.

use sea_orm::{ConnectionTrait, Database as SeaDatabase};

/// The database a test server uses.
#[derive(Clone, Debug)]
pub enum Database {
    /// A SQLite file in the test's data folder.
    Sqlite,
    /// A PostgreSQL database with this URL.
    Postgres(String),
}

impl Database {
    /// Returns the URL for the server, given its data folder.
    pub fn url(&self, data_dir: &std::path::Path) -> String {
        match self {
            Database::Sqlite => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("kinlink.db").display()
            ),
            Database::Postgres(url) => url.clone(),
        }
    }
}

/// Returns the admin URL of the test PostgreSQL cluster.
pub fn postgres_admin_url() -> anyhow::Result<String> {
    std::env::var("KINLINK_TEST_POSTGRES_URL").map_err(|_unset| {
        anyhow::anyhow!("KINLINK_TEST_POSTGRES_URL is not set; run the tests through scripts/test")
    })
}

/// Creates an empty PostgreSQL database and returns its URL.
pub async fn fresh_postgres() -> anyhow::Result<String> {
    let admin = postgres_admin_url()?;
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let connection = SeaDatabase::connect(&admin).await?;
    connection
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    connection.close().await?;
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    Ok(format!("{base}/{name}"))
}

/// Returns a fresh database of the kind `KINLINK_TEST_DATABASE` names
/// (`sqlite`, the default, or `postgres`).
pub async fn database_under_test() -> anyhow::Result<Database> {
    match std::env::var("KINLINK_TEST_DATABASE").as_deref() {
        Ok("postgres") => Ok(Database::Postgres(fresh_postgres().await?)),
        Ok("sqlite") | Err(_) => Ok(Database::Sqlite),
        Ok(other) => {
            anyhow::bail!("unknown KINLINK_TEST_DATABASE {other:?}: expected sqlite or postgres")
        }
    }
}
