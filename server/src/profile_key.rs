//! The platform data key that seals family-finding profiles at rest.
//!
//! Profiles must be readable by every organisation they are published to,
//! so they are not under per-user keys: this one key seals them, and the
//! permission check alone decides who reads them. The database pins a
//! fingerprint of the key, so a node started with a different key refuses
//! to start instead of writing profiles no other node can open.

use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use kinlink_core::crypto::SecretKey;
use kinlink_store::Store;
use sha2::{Digest, Sha256};
use tracing::warn;

use crate::recovery::write_owner_only;

const SETTING: &str = "profile_data_key_fingerprint";
const DEVELOPMENT_KEY_FILE: &str = "profile-data-key.development";

/// Returns the profile data key from `keys.profile_data_key`, or on a
/// development machine from (or newly into) the data folder.
pub async fn load(store: &Store, configured: &str, data_dir: &Path) -> anyhow::Result<SecretKey> {
    let key = if configured.is_empty() {
        development_key(data_dir)?
    } else {
        decode(configured.trim()).context("invalid keys.profile_data_key")?
    };
    let fingerprint = fingerprint(&key);
    match store.setting(SETTING).await? {
        Some(pinned) if pinned != fingerprint => bail!(
            "the database's profiles were sealed under another key than keys.profile_data_key; refusing to start"
        ),
        Some(_) => {}
        None => store.insert_setting(SETTING, fingerprint).await?,
    }
    Ok(key)
}

fn decode(text: &str) -> anyhow::Result<SecretKey> {
    let bytes = STANDARD.decode(text).context("not base64")?;
    Ok(SecretKey::from_slice(&bytes, "keys.profile_data_key")?)
}

fn development_key(data_dir: &Path) -> anyhow::Result<SecretKey> {
    let path = data_dir.join(DEVELOPMENT_KEY_FILE);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return decode(text.trim()).with_context(|| format!("invalid key in {}", path.display()));
    }
    let key = SecretKey::generate()?;
    write_owner_only(&path, STANDARD.encode(key.expose()).as_bytes())?;
    warn!(
        path = %path.display(),
        "generated a development profile data key; in production set keys.profile_data_key on every node"
    );
    Ok(key)
}

/// Returns a fingerprint that identifies the key without revealing it.
fn fingerprint(key: &SecretKey) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"kinlink profile data key fingerprint v1");
    hasher.update(key.expose());
    hasher.finalize().to_vec()
}
