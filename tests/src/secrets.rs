//! Collecting every secret a conversation involves, from the outside, and
//! searching bytes or text for any encoding of them.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use kinlink_core::crypto::keys::open_sealed;
use kinlink_core::crypto::{SecretKey, aead, bindings, password};
use kinlink_core::{ConversationId, UserId};
use kinlink_store::Store;
use kinlink_store::conversations::KeyRecipient;
use sea_orm::ConnectionTrait;

/// One secret, named for the failure message.
pub struct Secret {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Derives a user's key-encryption key and private key from their
/// password, as only someone who knows it can.
pub async fn user_keys(
    store: &Store,
    user: UserId,
    password_text: &str,
) -> anyhow::Result<(SecretKey, SecretKey)> {
    let row = store.user(user).await?;
    let derived = password::derive(password_text, &row.password_salt)?;
    let private = aead::open(
        &derived.key_encryption_key,
        &row.sealed_private_key,
        bindings::user_private_key(user).as_bytes(),
    )?;
    Ok((
        derived.key_encryption_key,
        SecretKey::from_slice(&private, "private key")?,
    ))
}

/// Opens a conversation key with a member's private key.
pub async fn conversation_key(
    store: &Store,
    conversation: ConversationId,
    epoch: i32,
    user: UserId,
    private: &SecretKey,
) -> anyhow::Result<SecretKey> {
    let sealed = store
        .sealed_conversation_key(conversation, epoch, KeyRecipient::User(user))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no sealed key"))?;
    Ok(open_sealed(
        private,
        &sealed,
        &bindings::conversation_key_info(conversation, epoch),
    )?)
}

/// Returns the text encodings of `bytes` that could appear in a file or a
/// log: lower and upper hex, and standard and URL-safe base64 at each of
/// the three alignments inside a longer encoded value.
pub fn encodings(bytes: &[u8]) -> Vec<String> {
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    let mut found = vec![hex.to_uppercase(), hex];
    for engine in [&STANDARD, &URL_SAFE] {
        for offset in 0..3usize {
            let mut padded = vec![0u8; offset];
            padded.extend_from_slice(bytes);
            let encoded = engine.encode(&padded);
            // Keep only characters that depend on the secret's bytes alone.
            let start = (offset * 8).div_ceil(6);
            let end = ((offset + bytes.len()) * 8) / 6;
            found.push(encoded[start..end].to_owned());
        }
    }
    found
}

/// Returns every byte of the app's database: the SQLite files with their
/// write-ahead log, or every row of every PostgreSQL table as JSON.
pub async fn database_bytes(app: &crate::TestApp) -> anyhow::Result<Vec<u8>> {
    match &app.database {
        crate::Database::Sqlite => {
            let mut bytes = Vec::new();
            for suffix in ["", "-wal", "-shm"] {
                let path = app.data_dir.path().join(format!("kinlink.db{suffix}"));
                if let Ok(content) = std::fs::read(&path) {
                    bytes.extend_from_slice(&content);
                }
            }
            anyhow::ensure!(!bytes.is_empty(), "no SQLite file found");
            Ok(bytes)
        }
        crate::Database::Postgres(_) => {
            let store = app.store().await?;
            let tables = store
                .db
                .query_all_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                ))
                .await?;
            let mut text = String::new();
            for row in tables {
                let table: String = row.try_get_by_index(0)?;
                let rows = store
                    .db
                    .query_all_raw(sea_orm::Statement::from_string(
                        sea_orm::DbBackend::Postgres,
                        format!("SELECT row_to_json(t)::text FROM \"{table}\" t"),
                    ))
                    .await?;
                for row in rows {
                    let json: String = row.try_get_by_index(0)?;
                    text.push_str(&json);
                    text.push('\n');
                }
            }
            anyhow::ensure!(
                text.contains("messages") || text.len() > 1000,
                "dump looks empty"
            );
            Ok(text.into_bytes())
        }
    }
}

/// Returns the names of the secrets found in `haystack`, raw or encoded.
pub fn find_in(haystack: &[u8], secrets: &[Secret]) -> Vec<String> {
    let mut hits = Vec::new();
    for secret in secrets {
        if contains(haystack, &secret.bytes) {
            hits.push(format!("{} (raw)", secret.name));
        }
        for encoded in encodings(&secret.bytes) {
            if contains(haystack, encoded.as_bytes()) {
                hits.push(format!("{} as {encoded}", secret.name));
            }
        }
    }
    hits
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_secret_at_every_base64_alignment() {
        let secret = Secret {
            name: "k".into(),
            bytes: (0u8..32).collect(),
        };
        for offset in 0..3 {
            let mut blob = vec![0xaa; offset];
            blob.extend_from_slice(&secret.bytes);
            blob.extend_from_slice(&[0xbb; 5]);
            let text = STANDARD.encode(&blob);
            assert!(
                !find_in(text.as_bytes(), std::slice::from_ref(&secret)).is_empty(),
                "offset {offset}"
            );
        }
    }

    #[test]
    fn finds_hex_inside_text() {
        let secret = Secret {
            name: "k".into(),
            bytes: vec![0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4],
        };
        assert!(!find_in(b"value=\\xdeadbeef01020304;", &[secret]).is_empty());
    }
}
