//! The media files that `scripts/make-test-media` makes, in a folder shared
//! by every test process. The folder's name carries a hash of the script,
//! so a changed script makes new files.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Returns the path of a generated test file, making the set first if this
/// process has not yet.
pub fn path(name: &str) -> anyhow::Result<PathBuf> {
    static FOLDER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let folder = FOLDER.get_or_init(|| make().map_err(|error| format!("{error:#}")));
    match folder {
        Ok(folder) => Ok(folder.join(name)),
        Err(error) => anyhow::bail!("making the test media failed: {error}"),
    }
}

fn make() -> anyhow::Result<PathBuf> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/make-test-media");
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&std::fs::read(&script)?, &mut hasher);
    let folder = std::env::temp_dir().join(format!(
        "kinlink-test-media-{:016x}",
        std::hash::Hasher::finish(&hasher)
    ));
    let status = Command::new(&script).arg(&folder).status()?;
    anyhow::ensure!(status.success(), "{} failed", script.display());
    Ok(folder)
}

/// Lists a file's metadata as exiftool reads it, one lowercase line per
/// tag, without the file system's own lines.
pub fn metadata_lines(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    let exif = Command::new("exiftool")
        .args(["-a", "-G1", "-s"])
        .arg(path)
        .output()?;
    anyhow::ensure!(
        exif.status.success(),
        "exiftool failed on {}",
        path.display()
    );
    Ok(String::from_utf8_lossy(&exif.stdout)
        .to_lowercase()
        .lines()
        // The file system's own lines are not the file's metadata.
        .filter(|line| !line.starts_with("[system]"))
        .map(str::to_owned)
        .collect())
}
