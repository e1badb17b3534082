//! This node's stable identity. Several nodes may share one database, and
//! a live call runs on one of them. A node finds the open calls it left
//! behind, when it stopped without ending them, by the id stored with
//! each call.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;

/// The file in the data folder that keeps the node's id when the
/// configuration sets none.
const ID_FILE: &str = "node-id";
/// Maximum length of a node id, as the `calls.node_id` column allows.
const MAX_ID_LEN: usize = 64;

/// Checks a node id: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
pub fn check_id(id: &str) -> anyhow::Result<()> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.chars().all(allowed) {
        anyhow::bail!(
            "{id:?} is not a node id: expected 1 to {MAX_ID_LEN} ASCII letters, \
             digits, '-', '_' or '.'"
        );
    }
    Ok(())
}

/// Returns the node's id: `configured` when set, otherwise the id kept in
/// the data folder, which the first start creates at random. Nodes that
/// share a data folder must each configure their own.
pub fn load(configured: &str, data_dir: &Path) -> anyhow::Result<String> {
    if !configured.is_empty() {
        return Ok(configured.to_owned());
    }
    let path = data_dir.join(ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path, &text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => create(&path),
        Err(error) => Err(error).with_context(|| format!("reading {}", path.display())),
    }
}

/// Returns the id in the text of the file at `path`.
fn parse(path: &Path, text: &str) -> anyhow::Result<String> {
    let id = text.trim().to_owned();
    check_id(&id).with_context(|| format!("reading {}", path.display()))?;
    Ok(id)
}

/// Writes a new random id to `path`, unless another process wrote one
/// first, and returns the id the file then holds.
fn create(path: &Path) -> anyhow::Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(format!("{id}\n").as_bytes()));
    match written {
        Ok(()) => Ok(id),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            // Read once more, without creating: a second process wrote it
            // first, or the name is a link to nowhere, which is an error.
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            parse(path, &text)
        }
        Err(error) => Err(error).with_context(|| format!("writing {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_is_kept_in_the_data_folder() {
        let dir = std::env::temp_dir().join(format!("kinlink-node-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let first = load("", &dir).unwrap();
        assert_eq!(
            load("", &dir).unwrap(),
            first,
            "a second start reads the same id"
        );
        assert_eq!(
            load("node-a", &dir).unwrap(),
            "node-a",
            "configuration wins"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn dangling_link_is_an_error() {
        let dir = std::env::temp_dir().join(format!("kinlink-node-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::os::unix::fs::symlink(dir.join("missing/target"), dir.join(ID_FILE)).unwrap();
        let error = load("", &dir).unwrap_err();
        assert!(format!("{error:#}").contains(ID_FILE), "{error:#}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn invalid_ids_are_rejected() {
        for bad in ["", "has space", "ünïcode", &"x".repeat(65)] {
            assert!(check_id(bad).is_err(), "{bad:?}");
        }
        assert!(check_id("eu-west.node_2").is_ok());
    }
}
