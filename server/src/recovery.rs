//! The platform recovery public key, pinned in configuration and in the
//! database. Its private half never sits on the web server: an operator
//! keeps it offline for restoring a user's access after a lost password.

use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kinlink_core::crypto::keys::{KeyPair, PublicKey};
use kinlink_store::Store;
use tracing::warn;

/// The platform setting that pins the recovery public key.
pub const SETTING: &str = "recovery_public_key";
const DEVELOPMENT_KEY_FILE: &str = "recovery-private-key.development";

/// Returns the recovery public key, refusing a database whose pinned key
/// differs from the configured one.
pub async fn load(store: &Store, configured: &str, data_dir: &Path) -> anyhow::Result<PublicKey> {
    let pinned = store.setting(SETTING).await?;
    if !configured.is_empty() {
        let bytes = STANDARD
            .decode(configured.trim())
            .context("invalid keys.recovery_public_key: not base64")?;
        let key = PublicKey::from_slice(&bytes).context("invalid keys.recovery_public_key")?;
        match pinned {
            Some(stored) if stored != key.0 => {
                bail!(
                    "the database's recovery public key differs from keys.recovery_public_key; refusing to start"
                )
            }
            Some(_) => {}
            None => store.insert_setting(SETTING, key.0.to_vec()).await?,
        }
        return Ok(key);
    }
    if let Some(stored) = pinned {
        return Ok(PublicKey::from_slice(&stored)?);
    }

    // No key configured and none pinned: a development set-up. Generate a
    // pair and leave the private half in the data folder, owner-only.
    let pair = KeyPair::generate()?;
    let path = data_dir.join(DEVELOPMENT_KEY_FILE);
    write_owner_only(&path, STANDARD.encode(pair.private.expose()).as_bytes())?;
    warn!(
        path = %path.display(),
        "generated a development recovery key; in production set keys.recovery_public_key and keep the private key offline"
    );
    store
        .insert_setting(SETTING, pair.public.0.to_vec())
        .await?;
    Ok(pair.public)
}

/// Writes a file that only its owner can read.
pub fn write_owner_only(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
