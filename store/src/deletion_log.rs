//! The deletion log: one JSON line per record erased or anonymised, with
//! its kind, its id and the time, and nothing else about it.
//!
//! It lives outside the database, so that restoring a backup taken before
//! an erasure can replay the erasures made since (`kinlink backup
//! restore`). Each line is written and flushed to disk before the erasure
//! it announces, so no erasure that was made lacks its line. Replaying a
//! line whose erasure did not happen does no harm: only records already
//! marked are logged.

use std::io::{BufRead, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The kind of record a deletion removed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletedKind {
    /// A user record, wiped down to its tombstone.
    User,
    /// A user record marked for erasure; the sweep erases it 14 days
    /// later. A restore marks it again, so that an agreed erasure is not
    /// forgotten.
    UserMarked,
    /// A family-finding case, replaced by an anonymous record.
    Case,
}

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    pub at: DateTime<Utc>,
    pub kind: DeletedKind,
    pub id: uuid::Uuid,
}

/// The log file.
#[derive(Clone, Debug)]
pub struct DeletionLog {
    path: PathBuf,
}

impl DeletionLog {
    /// Uses the log at `path`, made on the first write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Appends one line, as a store error naming the log when it fails.
    pub fn record(&self, deletion: &Deletion) -> Result<(), crate::StoreError> {
        self.append(deletion)
            .map_err(|source| crate::StoreError::DeletionLog {
                path: self.path.display().to_string(),
                source,
            })
    }

    /// Returns where the log is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and flushes it to disk.
    pub fn append(&self, deletion: &Deletion) -> std::io::Result<()> {
        if let Some(folder) = self.path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        let mut line = serde_json::to_vec(deletion).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        file.write_all(&line)?;
        file.sync_all()
    }

    /// Returns every line, oldest first; see [`DeletionLog::since`].
    pub fn all(&self) -> std::io::Result<Vec<Deletion>> {
        self.since(DateTime::<Utc>::MIN_UTC)
    }

    /// Returns the deletions made after `after`, oldest first. A missing
    /// log has none. A line that does not parse is an error naming its
    /// number: skipping it could leave an erased record restored.
    pub fn since(&self, after: DateTime<Utc>) -> std::io::Result<Vec<Deletion>> {
        let file = match std::fs::File::open(&self.path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut deletions = Vec::new();
        for (index, line) in std::io::BufReader::new(file).lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let deletion: Deletion = serde_json::from_str(&line).map_err(|error| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("line {} of the deletion log: {error}", index + 1),
                )
            })?;
            if deletion.at > after {
                deletions.push(deletion);
            }
        }
        deletions.sort_by_key(|deletion| deletion.at);
        Ok(deletions)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_after_an_instant_come_back_in_order() {
        let folder = std::env::temp_dir().join(format!("kinlink-log-{}", uuid::Uuid::now_v7()));
        let log = DeletionLog::new(folder.join("deletions.jsonl"));
        let base = DateTime::parse_from_rfc3339("2027-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let ids: Vec<uuid::Uuid> = (0..3).map(|_| uuid::Uuid::now_v7()).collect();
        assert_eq!(log.since(base).unwrap(), Vec::new());
        for (days, id) in [(3, ids[2]), (1, ids[0]), (2, ids[1])] {
            log.append(&Deletion {
                at: base + chrono::Duration::days(days),
                kind: DeletedKind::User,
                id,
            })
            .unwrap();
        }
        let after = log.since(base + chrono::Duration::hours(30)).unwrap();
        let found: Vec<uuid::Uuid> = after.iter().map(|deletion| deletion.id).collect();
        assert_eq!(found, vec![ids[1], ids[2]]);
        std::fs::write(log.path(), "{not json}\n").unwrap();
        let error = log.since(base).unwrap_err();
        assert!(error.to_string().contains("line 1"), "{error}");
        std::fs::remove_dir_all(folder).unwrap();
    }
}
