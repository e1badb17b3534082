//! Backups. `kinlink backup create` writes one encrypted file with a
//! consistent copy of the database and every stored file, and removes the
//! backups older than `backup.keep_days`. `kinlink backup restore FILE`
//! puts a backup back and then replays the deletion log, so that nothing
//! erased since the backup was taken comes back.
//!
//! The database copy is taken in one snapshot: SQLite's `VACUUM INTO`, or
//! `pg_dump`, which reads in one transaction. The stored files are copied
//! after it, as they are on disk, sealed already under their own keys.
//! A file added after the snapshot is copied too and belongs to no row of
//! the copy. A file deleted after the snapshot is missing from the backup,
//! and its row goes when the restore replays the deletion log.

mod archive;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use kinlink_core::UserId;
use kinlink_core::crypto::SecretKey;
use kinlink_media::blob::{BlobStore, LocalDisk};
use kinlink_store::deletion_log::DeletedKind;
use kinlink_store::{Backend, Store, StoreError};
use serde::{Deserialize, Serialize};
use tracing::info;

use crate::config::Config;
use archive::{ArchiveReader, ArchiveWriter, Tag};

/// The name of every backup file: the time it was taken, then
/// [`EXTENSION`].
const PREFIX: &str = "kinlink-backup-";
const EXTENSION: &str = ".kbk";
const NAME_TIME: &str = "%Y%m%dT%H%M%SZ";

/// The manifest of a backup, written as its first record.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: u32,
    taken_at: DateTime<Utc>,
    /// `sqlite` or `postgres`.
    backend: String,
    /// The number of stored files.
    media_files: usize,
}

/// The file in the data folder that every running server holds a shared
/// lock on, and a restore an exclusive one.
const SERVING_LOCK: &str = "serving.lock";

fn open_serving_lock(data_dir: &Path) -> anyhow::Result<std::fs::File> {
    let path = data_dir.join(SERVING_LOCK);
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode_private()
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))
}

/// Takes the shared lock a server holds on its data folder for as long as
/// it runs; fails while a restore holds it. Servers of one folder share it.
pub fn serving_lock(data_dir: &Path) -> anyhow::Result<std::fs::File> {
    let file = open_serving_lock(data_dir)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "a backup is being restored into {}: start the server when it has finished",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(error)) => Err(error.into()),
    }
}

/// Takes the exclusive lock a restore holds; fails while a server runs on
/// the data folder.
fn restoring_lock(data_dir: &Path) -> anyhow::Result<std::fs::File> {
    let file = open_serving_lock(data_dir)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "a server is running on {}: stop every node before restoring",
            data_dir.display()
        ),
        Err(std::fs::TryLockError::Error(error)) => Err(error.into()),
    }
}

/// Returns the backup key from `backup.key`.
fn key(config: &Config) -> anyhow::Result<SecretKey> {
    let text = config.backup.key.trim();
    anyhow::ensure!(
        !text.is_empty(),
        "backup.key is empty: set KINLINK__BACKUP__KEY to 32 random bytes in base64, which `kinlink backup key` prints"
    );
    let bytes = STANDARD.decode(text).context("backup.key is not base64")?;
    Ok(SecretKey::from_slice(&bytes, "backup.key")?)
}

/// Returns a new random backup key in base64.
pub fn new_key() -> anyhow::Result<String> {
    let key = SecretKey::generate()?;
    Ok(STANDARD.encode(key.expose()))
}

fn backend_name(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

/// A file in the private working folder, removed when dropped.
struct WorkFile(PathBuf);

impl Drop for WorkFile {
    fn drop(&mut self) {
        if self.0.exists()
            && let Err(error) = std::fs::remove_file(&self.0)
        {
            tracing::warn!(path = %self.0.display(), %error, "removing a backup working file failed");
        }
    }
}

fn work_file(config: &Config, name: &str) -> anyhow::Result<WorkFile> {
    let folder = config.data_dir.join("work");
    crate::create_private_dir(&folder)?;
    Ok(WorkFile(folder.join(name)))
}

/// Returns the environment `pg_dump` and `pg_restore` connect with, so
/// that the password never appears on a command line.
fn postgres_env(url: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
    let parsed = url::Url::parse(url).context("database.url is not a URL")?;
    let mut env = vec![
        (
            "PGHOST",
            parsed.host_str().unwrap_or("localhost").to_owned(),
        ),
        ("PGPORT", parsed.port().unwrap_or(5432).to_string()),
        (
            "PGDATABASE",
            parsed.path().trim_start_matches('/').to_owned(),
        ),
    ];
    if !parsed.username().is_empty() {
        let user = percent_decode(parsed.username());
        env.push(("PGUSER", user));
    }
    if let Some(password) = parsed.password() {
        env.push(("PGPASSWORD", percent_decode(password)));
    }
    Ok(env)
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Runs a PostgreSQL tool on the database of `url`, failing with its own
/// message.
async fn run_postgres_tool(program: &str, args: &[&str], url: &str) -> anyhow::Result<()> {
    let env = postgres_env(url)?;
    let database = env
        .iter()
        .find(|(name, _)| *name == "PGDATABASE")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    let output = tokio::process::Command::new(program)
        .args(args)
        .arg("--dbname")
        .arg(&database)
        .envs(env)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("starting {program}: is the PostgreSQL client installed?"))?;
    anyhow::ensure!(
        output.status.success(),
        "{program} failed: {}",
        String::from_utf8_lossy(&output.stderr).trim()
    );
    Ok(())
}

/// Copies the database, in one snapshot, to `path`.
async fn dump_database(store: &Store, config: &Config, path: &Path) -> anyhow::Result<()> {
    match store.backend {
        Backend::Sqlite => {
            store
                .copy_sqlite_into(path)
                .await
                .context("copying the SQLite database")?;
        }
        Backend::Postgres => {
            let file = path.display().to_string();
            run_postgres_tool(
                "pg_dump",
                &[
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    "--file",
                    &file,
                ],
                &config.database_url(),
            )
            .await?;
        }
    }
    Ok(())
}

/// Lists the stored files under the media folder, by their path in it.
fn media_files(root: &Path) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    if !root.exists() {
        return Ok(names);
    }
    for shard in std::fs::read_dir(root)? {
        let shard = shard?;
        if !shard.file_type()?.is_dir() {
            continue;
        }
        for file in std::fs::read_dir(shard.path())? {
            let file = file?;
            if file.file_type()?.is_file() {
                let name = format!(
                    "{}/{}",
                    shard.file_name().to_string_lossy(),
                    file.file_name().to_string_lossy()
                );
                if is_media_name(&name) {
                    names.push(name);
                }
            }
        }
    }
    names.sort();
    Ok(names)
}

/// Returns whether `name` is a stored file's path in the media folder: two
/// hexadecimal digits, a slash, and 32 hexadecimal digits that start with
/// the same two. Nothing else is written from a backup.
fn is_media_name(name: &str) -> bool {
    let Some((shard, file)) = name.split_once('/') else {
        return false;
    };
    let hex = |text: &str| {
        text.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    shard.len() == 2 && file.len() == 32 && hex(shard) && hex(file) && file.starts_with(shard)
}

/// Makes a backup in `backup.dir` and removes those older than
/// `backup.keep_days`. Returns the new file and the removed ones.
pub async fn create(
    store: &Store,
    config: &Config,
    now: DateTime<Utc>,
) -> anyhow::Result<(PathBuf, Vec<PathBuf>)> {
    let key = key(config)?;
    let folder = config.backup.folder(&config.data_dir);
    crate::create_private_dir(&folder)?;
    let id = uuid::Uuid::now_v7();
    let database = work_file(config, &format!("backup-{id}.db"))?;
    dump_database(store, config, &database.0).await?;
    let media_root = config.data_dir.join("media");
    let media = media_files(&media_root)?;

    let name = format!("{PREFIX}{}{EXTENSION}", now.format(NAME_TIME));
    let path = folder.join(&name);
    let partial = folder.join(format!("{name}.partial"));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode_private()
        .open(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let manifest = Manifest {
        format: 1,
        taken_at: now,
        backend: backend_name(store.backend).to_owned(),
        media_files: media.len(),
    };
    let written = (|| -> anyhow::Result<()> {
        let mut writer = ArchiveWriter::new(file, key, id)?;
        writer.add(
            Tag::Manifest,
            "manifest.json",
            &serde_json::to_vec(&manifest)?,
        )?;
        writer.add_file(Tag::Database, "database", &database.0)?;
        for name in &media {
            writer.add_file(Tag::Media, name, &media_root.join(name))?;
        }
        writer.finish()
    })();
    if let Err(error) = written {
        // The write error is the one to report; a partial file left
        // behind has the `.partial` name, which pruning never reads.
        let _removal = std::fs::remove_file(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, &path)?;
    let removed = prune(&folder, config.backup.keep_days, now)?;
    info!(backup = %path.display(), media_files = media.len(), removed = removed.len(), "backup made");
    Ok((path, removed))
}

/// Sets owner-only permissions on files this module creates.
trait PrivateMode {
    fn mode_private(&mut self) -> &mut Self;
}

impl PrivateMode for std::fs::OpenOptions {
    fn mode_private(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(self, 0o600)
    }
}

/// Returns when a backup file was taken, from its name.
fn taken_at(name: &str) -> Option<DateTime<Utc>> {
    let time = name.strip_prefix(PREFIX)?.strip_suffix(EXTENSION)?;
    chrono::NaiveDateTime::parse_from_str(time, NAME_TIME)
        .ok()
        .map(|time| time.and_utc())
}

/// Removes the backups in `folder` taken more than `keep_days` days before
/// `now`. Other files are left alone.
pub fn prune(folder: &Path, keep_days: u32, now: DateTime<Utc>) -> anyhow::Result<Vec<PathBuf>> {
    let cutoff = now - chrono::Duration::days(i64::from(keep_days));
    let mut removed = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Only files: a folder that happens to have a backup's name is
        // not one.
        if entry.file_type()?.is_dir() {
            continue;
        }
        if taken_at(&name).is_some_and(|at| at < cutoff) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("removing {}", entry.path().display()))?;
            removed.push(entry.path());
        }
    }
    removed.sort();
    Ok(removed)
}

/// The counts of a restore: what it put back and replayed.
pub struct Restored {
    pub taken_at: DateTime<Utc>,
    pub media_files: usize,
    pub users_erased: usize,
    pub users_marked: usize,
    pub cases_anonymised: usize,
    /// The deletion log, when it did not exist: nothing was replayed.
    pub missing_log: Option<PathBuf>,
}

/// Puts the backup at `path` back: the database, then the stored files,
/// removing those the backup does not have. Every node must be stopped.
/// Then it applies the migrations of this build and replays the deletion
/// log from the backup's time, before any server serves the data again.
pub async fn restore(config: &Config, path: &Path) -> anyhow::Result<Restored> {
    let key = key(config)?;
    let _restoring = restoring_lock(&config.data_dir)?;
    // A first pass opens every segment, so that a wrong key or a changed or
    // cut file fails before anything is replaced. The deletion log is read
    // first too.
    verify(path, key.clone()).with_context(|| format!("checking {}", path.display()))?;
    let log = config.retention.deletion_log(&config.data_dir);
    let missing_log = (!log.path().exists()).then(|| log.path().to_owned());
    let deletions = log
        .all()
        .with_context(|| format!("reading the deletion log {}", log.path().display()))?;
    let (mut reader, id) = ArchiveReader::open(path, key)?;
    let first = reader.next_record()?;
    anyhow::ensure!(
        first.tag == Tag::Manifest,
        "the backup starts without its manifest"
    );
    let manifest: Manifest = serde_json::from_slice(&reader.read_data(&first)?)?;
    let url = config.database_url();
    let backend = if url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    anyhow::ensure!(
        manifest.backend == backend,
        "the backup is of a {} database, and this configuration uses {backend}",
        manifest.backend
    );

    let database = work_file(config, &format!("restore-{id}.db"))?;
    let record = reader.next_record()?;
    anyhow::ensure!(record.tag == Tag::Database, "the backup has no database");
    {
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode_private()
            .open(&database.0)?;
        reader.copy_data(&record, &mut out)?;
        out.sync_all()?;
    }

    let media_root = config.data_dir.join("media");
    crate::create_private_dir(&media_root)?;
    let mut restored = BTreeSet::new();
    loop {
        let record = reader.next_record()?;
        match record.tag {
            Tag::End => break,
            Tag::Media => {
                anyhow::ensure!(
                    is_media_name(&record.name),
                    "the backup names a stored file {:?} outside the media folder",
                    record.name
                );
                let target = media_root.join(&record.name);
                if let Some(shard) = target.parent() {
                    crate::create_private_dir(shard)?;
                }
                let partial = target.with_extension("restoring");
                let mut out = std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode_private()
                    .open(&partial)?;
                reader.copy_data(&record, &mut out)?;
                out.sync_all()?;
                std::fs::rename(&partial, &target)?;
                restored.insert(record.name);
            }
            Tag::Manifest | Tag::Database => {
                anyhow::bail!("the backup has a second {:?} record", record.tag)
            }
        }
    }
    reader.finish()?;
    for name in media_files(&media_root)? {
        if !restored.contains(&name) {
            std::fs::remove_file(media_root.join(&name))?;
        }
    }

    match backend {
        "postgres" => {
            let file = database.0.display().to_string();
            run_postgres_tool(
                "pg_restore",
                &[
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    &file,
                ],
                &url,
            )
            .await?;
        }
        _ => {
            let target = Store::sqlite_file_of(&url)
                .ok_or_else(|| anyhow::anyhow!("database.url names no SQLite file"))?;
            // The copy goes in beside the database and replaces it in one
            // rename, after the old write-ahead log, which belongs to the
            // old file, is gone.
            let incoming = PathBuf::from(format!("{}.restoring", target.display()));
            std::fs::copy(&database.0, &incoming)?;
            std::fs::File::open(&incoming)?.sync_all()?;
            for suffix in ["-wal", "-shm"] {
                let side = PathBuf::from(format!("{}{suffix}", target.display()));
                if side.exists() {
                    std::fs::remove_file(&side)?;
                }
            }
            std::fs::rename(&incoming, &target)?;
        }
    }

    let store = Store::connect(&url, config.database.max_connections).await?;
    store.migrate().await?;
    let blobs = LocalDisk::open(&media_root)?;
    let replayed = replay(&store, &blobs, deletions).await?;
    store
        .audit(kinlink_store::audit::AuditRecord {
            actor_id: None,
            organisation_id: None,
            action: "backup.restored",
            subject_kind: "backup",
            subject_id: Some(id),
            detail: serde_json::json!({
                "taken_at": manifest.taken_at,
                "users_erased": replayed.users_erased,
                "users_marked": replayed.users_marked,
                "cases_anonymised": replayed.cases_anonymised,
            }),
            at: Utc::now(),
        })
        .await?;
    Ok(Restored {
        taken_at: manifest.taken_at,
        media_files: restored.len(),
        missing_log,
        ..replayed
    })
}

/// Reads a whole backup, opening every segment and record, and keeps
/// nothing.
fn verify(path: &Path, key: SecretKey) -> anyhow::Result<()> {
    let (mut reader, _) = ArchiveReader::open(path, key)?;
    loop {
        let record = reader.next_record()?;
        if record.tag == Tag::End {
            break;
        }
        reader.copy_data(&record, &mut std::io::sink())?;
    }
    reader.finish()
}

/// Applies again every line of the deletion log, oldest first. Replaying
/// a line the backup already reflects changes nothing, so the whole log is
/// replayed. The backup's time does not tell which erasures it missed,
/// because an erasure logged just before the copy may commit after it.
async fn replay(
    store: &Store,
    blobs: &LocalDisk,
    deletions: Vec<kinlink_store::deletion_log::Deletion>,
) -> anyhow::Result<Restored> {
    let now = Utc::now();
    let mut replayed = Restored {
        taken_at: now,
        media_files: 0,
        users_erased: 0,
        users_marked: 0,
        cases_anonymised: 0,
        missing_log: None,
    };
    // Marked by the replay and not erased by a later line of it.
    let mut marked = BTreeSet::new();
    for deletion in deletions {
        let files = match deletion.kind {
            DeletedKind::UserMarked => {
                let id = UserId(deletion.id);
                if store
                    .mark_user(id, kinlink_core::user_erasure::REQUESTED, deletion.at)
                    .await?
                {
                    store.revoke_sessions_of(id, now).await?;
                    marked.insert(id.0);
                }
                continue;
            }
            DeletedKind::User => {
                let id = UserId(deletion.id);
                store
                    .mark_user(id, kinlink_core::user_erasure::REQUESTED, deletion.at)
                    .await?;
                // An account made after the backup is not in it.
                let erased = match store.erase_user(id, now).await {
                    Err(StoreError::NotFound { .. }) => None,
                    other => other?,
                };
                replayed.users_erased += usize::from(erased.is_some());
                marked.remove(&id.0);
                erased.unwrap_or_default()
            }
            DeletedKind::Case => {
                let Some(removed) = store
                    .replay_case_anonymisation(deletion.id, deletion.at)
                    .await?
                else {
                    continue;
                };
                replayed.cases_anonymised += 1;
                removed.blobs
            }
        };
        for file in files {
            blobs.delete(file)?;
        }
    }
    replayed.users_marked = marked.len();
    Ok(replayed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("a valid instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn old_backups_are_pruned_and_other_files_kept() -> anyhow::Result<()> {
        let folder = std::env::temp_dir().join(format!("kinlink-prune-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&folder)?;
        let names = [
            "kinlink-backup-20270101T013000Z.kbk",
            "kinlink-backup-20270205T013000Z.kbk",
            "kinlink-backup-20270206T013000Z.kbk",
            "kinlink-backup-20270101T013000Z.kbk.partial",
            "notes.txt",
        ];
        for name in names {
            std::fs::write(folder.join(name), b"x")?;
        }
        // 35 days before 12 March 01:30 is 5 February 01:30.
        let removed = prune(&folder, 35, at("2027-03-12T01:30:00Z"))?;
        let removed: Vec<String> = removed
            .iter()
            .filter_map(|path| path.file_name()?.to_str().map(str::to_owned))
            .collect();
        assert_eq!(removed, vec!["kinlink-backup-20270101T013000Z.kbk"]);
        for kept in &names[1..] {
            assert!(folder.join(kept).exists(), "{kept}");
        }
        std::fs::remove_dir_all(&folder)?;
        Ok(())
    }

    #[test]
    fn only_stored_file_paths_are_media_names() {
        let id = "ab0123456789abcdef0123456789abcd";
        assert!(is_media_name(&format!("ab/{id}")));
        for bad in [
            format!("cd/{id}"),
            format!("../{id}"),
            format!("ab/{id}/x"),
            "ab/../../etc/passwd".to_owned(),
            format!("AB/{}", id.to_uppercase()),
            String::new(),
        ] {
            assert!(!is_media_name(&bad), "{bad}");
        }
    }

    #[test]
    fn postgres_tools_get_the_password_by_environment() -> anyhow::Result<()> {
        let env =
            postgres_env("postgres://kin%40link:p%2Fss+w@127.0.0.1:5433/kinlink?sslmode=disable")?;
        let get = |name: &str| {
            env.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(get("PGHOST"), Some("127.0.0.1"));
        assert_eq!(get("PGPORT"), Some("5433"));
        assert_eq!(get("PGDATABASE"), Some("kinlink"));
        assert_eq!(get("PGUSER"), Some("kin@link"));
        assert_eq!(get("PGPASSWORD"), Some("p/ss+w"));
        Ok(())
    }
}
