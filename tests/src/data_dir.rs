//! The files a server leaves under its data folder, for tests that search
//! them for anything readable.

use std::path::{Path, PathBuf};

/// Lists every file below `dir`, in all its subfolders.
pub fn files_under(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(files_under(&path)?);
        } else {
            files.push(path);
        }
    }
    Ok(files)
}
