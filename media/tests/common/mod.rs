//! Helpers shared by the media tests. They stop the test with a reason when
//! a tool is missing or a file is unreadable.

use std::path::{Path, PathBuf};
use std::process::Command;

use kinlink_media::kind::{Kind, detect};

/// Makes `name` in `dir` with the `ffmpeg` tool and returns its path.
pub fn ffmpeg_make(dir: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y"])
        .args(args)
        .arg(&out)
        .status()
        .expect("the ffmpeg tool runs");
    assert!(status.success(), "ffmpeg failed to make {name}");
    out
}

/// Returns the kind of a file from its first bytes.
pub fn kind_of(path: &Path) -> Kind {
    let bytes = std::fs::read(path).expect("the test file reads");
    detect(&bytes[..bytes.len().min(4096)]).expect("the test file has a known kind")
}
