//! The operator's key recovery commands, run where the recovery private
//! key is kept, never on the web server.
//!
//! `recovery keygen` makes the recovery key pair: the private half goes to
//! a file of the operator's choosing and the public half is printed, to pin
//! in configuration. `recovery send-link` finishes a recovery that two
//! platform admins agreed on: it opens the user's escrowed key with the
//! private half, seals it under a key derived from a new one-time link
//! token, ends every session of the account and emails the link to the
//! account's address. The token exists only in that email; the command
//! prints neither it nor anything the user's key protects.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use kinlink_actors::mailer::{Letterhead, Mailer};
use kinlink_core::UserId;
use kinlink_core::crypto::keys::{KeyPair, PublicKey, open_sealed};
use kinlink_core::crypto::token::Token;
use kinlink_core::crypto::{SecretKey, aead, bindings};
use kinlink_core::notices::{SendOutcome, Template};
use kinlink_core::permissions::Role;
use kinlink_core::recovery::{self, Rejection};
use kinlink_store::Store;
use kinlink_store::audit::AuditRecord;
use kinlink_store::entity::key_recovery;
use kinlink_store::users::AccountStatus;
use tracing::{info, warn};
use zeroize::Zeroizing;

use crate::config::Config;
use crate::routes::key_recoveries::state_of;

/// Makes a recovery key pair, writes the private half to `out` (which must
/// not exist yet) readable by its owner only, and prints the public half.
pub fn keygen(out: &Path) -> anyhow::Result<ExitCode> {
    let pair = KeyPair::generate()?;
    let text = Zeroizing::new(STANDARD.encode(pair.private.expose()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .with_context(|| {
            format!(
                "creating {} (the command never overwrites a key file)",
                out.display()
            )
        })?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .with_context(|| format!("writing {}", out.display()))?;
    let public = STANDARD.encode(pair.public.0);
    println!("Wrote the recovery private key to {}.", out.display());
    println!("Keep it offline; the server never needs it.");
    println!("Pin the public key in the server's configuration:");
    println!("KINLINK__KEYS__RECOVERY_PUBLIC_KEY={public}");
    Ok(ExitCode::SUCCESS)
}

/// The largest key file read: a key is 44 characters of base64 and a line
/// break.
const MAX_KEY_FILE_BYTES: u64 = 1024;

/// Reads a recovery private key file written by [`keygen`].
fn read_private_key(path: &Path) -> anyhow::Result<SecretKey> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("reading {}", path.display()))?;
    if !metadata.is_file() || metadata.len() > MAX_KEY_FILE_BYTES {
        bail!(
            "{} is not a key file made by `kinlink recovery keygen` (a regular file of at most {MAX_KEY_FILE_BYTES} bytes)",
            path.display()
        );
    }
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    let bytes = Zeroizing::new(
        STANDARD
            .decode(text.trim())
            .with_context(|| format!("{} does not hold a base64 key", path.display()))?,
    );
    Ok(SecretKey::from_slice(&bytes, "recovery private key")?)
}

/// Checks that `private` belongs to the public key pinned in the database
/// and, when set, in the configuration.
async fn check_pinned(
    store: &Store,
    config: &Config,
    private: &SecretKey,
) -> anyhow::Result<Result<(), &'static str>> {
    let public = KeyPair::from_private(SecretKey::from_bytes(*private.expose()))?.public;
    let pinned = store
        .setting(crate::recovery::SETTING)
        .await?
        .context("the database has no pinned recovery public key; start the server once first")?;
    if pinned != public.0 {
        return Ok(Err(
            "differs from the recovery public key pinned in the database",
        ));
    }
    let configured = config.keys.recovery_public_key.trim();
    if !configured.is_empty() {
        let bytes = STANDARD
            .decode(configured)
            .context("invalid keys.recovery_public_key: not base64")?;
        if PublicKey::from_slice(&bytes)?.0 != public.0 {
            return Ok(Err(
                "differs from keys.recovery_public_key in the configuration",
            ));
        }
    }
    Ok(Ok(()))
}

/// Audits a rejected command and emails the account's owner.
async fn reject(
    store: &Store,
    row: &key_recovery::Model,
    reason_code: &'static str,
) -> anyhow::Result<()> {
    let now = Utc::now();
    warn!(recovery = %row.id, reason_code, "key recovery command rejected");
    store
        .audit(AuditRecord {
            actor_id: None,
            organisation_id: None,
            action: "key_recovery.rejected",
            subject_kind: "user",
            subject_id: Some(row.user_id),
            detail: serde_json::json!({ "recovery": row.id, "reason": reason_code, "by": "command" }),
            at: now,
        })
        .await?;
    let since = now - recovery::REJECTION_EMAIL_INTERVAL;
    store
        .notify_unless_emailed_since(UserId(row.user_id), Template::RecoveryRejected, since, now)
        .await?;
    Ok(())
}

/// Returns whether `user` is an active platform admin.
async fn active_admin(store: &Store, user: uuid::Uuid) -> anyhow::Result<bool> {
    let account = store.user(UserId(user)).await?;
    let admin = store
        .grants(UserId(user))
        .await?
        .iter()
        .any(|grant| grant.role == Role::PlatformAdmin);
    Ok(admin && account.status == AccountStatus::Active.as_str())
}

/// Seals the user's key of an approved recovery for a one-time link and
/// emails the link. Exits with 0 when the email was handed over, 1
/// otherwise, with the reason.
pub async fn send_link(
    store: &Store,
    config: &Config,
    request: uuid::Uuid,
    private_key_file: &Path,
) -> anyhow::Result<ExitCode> {
    let row = match store.key_recovery(request).await {
        Ok(row) => row,
        Err(kinlink_store::StoreError::NotFound { .. }) => {
            bail!("no key recovery has the id {request}")
        }
        Err(error) => return Err(error.into()),
    };
    let private = read_private_key(private_key_file)?;
    let origin = link_origin(config)?;
    if let Err(mismatch) = check_pinned(store, config, &private).await? {
        reject(store, &row, "key_mismatch").await?;
        bail!(
            "rejected: the private key in {} {mismatch}",
            private_key_file.display()
        );
    }
    let now = Utc::now();
    let current = state_of(&row, now);
    let checked = recovery::check_reseal(
        UserId(row.requested_by),
        row.approved_by.map(UserId),
        current,
    );
    if let Err(rejection) = checked {
        if !matches!(rejection, Rejection::WrongState(_)) {
            let code = if rejection == Rejection::SameAdmin {
                "same_admin"
            } else {
                "not_approved"
            };
            reject(store, &row, code).await?;
        }
        bail!("rejected: {}", rejection.message());
    }
    let admins = [Some(row.requested_by), row.approved_by];
    for admin in admins.into_iter().flatten() {
        if !active_admin(store, admin).await? {
            reject(store, &row, "admin_no_longer_active").await?;
            bail!(
                "rejected: the admin {admin} who asked for or approved it is no longer an active platform admin"
            );
        }
    }

    let user = UserId(row.user_id);
    let account = store.user(user).await?;
    if account.status != AccountStatus::Active.as_str() {
        bail!(
            "rejected: the account is {}, not active; only an active account can be recovered",
            account.status
        );
    }
    let key = open_sealed(
        &private,
        &account.recovery_sealed_private_key,
        &bindings::recovery_escrow_info(user),
    )
    .context("opening the account's escrowed key")?;
    let opened = KeyPair::from_private(key)?;
    if opened.public.0.as_slice() != account.public_key.as_slice() {
        bail!("the account's escrowed key is not the key of the account; nothing changed");
    }
    let token = Token::generate()?;
    let sealed = aead::seal(
        &token.recovery_key()?,
        opened.private.expose(),
        bindings::recovered_private_key(row.id, user).as_bytes(),
    )?;
    drop(opened);
    let Some(ended) = store
        .seal_recovery_link(row.id, token.hash(), sealed, now)
        .await?
    else {
        bail!("rejected: the recovery changed while the command ran; list it again");
    };
    store
        .audit(AuditRecord {
            actor_id: None,
            organisation_id: None,
            action: "key_recovery.link_sent",
            subject_kind: "user",
            subject_id: Some(row.user_id),
            detail: serde_json::json!({ "recovery": row.id, "sessions_ended": ended.len() }),
            at: now,
        })
        .await?;
    info!(recovery = %row.id, sessions_ended = ended.len(), "key recovery link sealed");

    let link_path = Zeroizing::new(format!("recover#{}", token.to_text().as_str()));
    let (outcome, error) = email_link(config, &origin, &account.email, &link_path).await?;
    let expires = now + recovery::LINK_LIFE;
    println!(
        "Recovery {}: the account's key is sealed for a one-time link.",
        row.id
    );
    println!(
        "Ended {} session(s) of the account; an open page closes within a minute.",
        ended.len()
    );
    if outcome == SendOutcome::Accepted {
        println!(
            "Emailed the link to the account's address. It works once, until {}.",
            expires.format("%Y-%m-%d %H:%M UTC")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        let code = error.unwrap_or("unknown");
        warn!(recovery = %row.id, error = code, "sending the recovery link failed");
        println!(
            "Sending the email failed ({code}). Run the command again: a new link replaces this one."
        );
        Ok(ExitCode::FAILURE)
    }
}

/// Returns the origin the emailed link starts with: the public origin, or
/// the listening address when that is one a browser can open.
fn link_origin(config: &Config) -> anyhow::Result<String> {
    if !config.server.public_origin.is_empty() {
        return Ok(config.server.public_origin.trim_end_matches('/').to_owned());
    }
    let listen: std::net::SocketAddr = config
        .server
        .listen
        .parse()
        .with_context(|| format!("invalid server.listen {:?}", config.server.listen))?;
    if listen.port() == 0 || listen.ip().is_unspecified() {
        bail!(
            "server.listen {listen} is not an address a browser can open: set server.public_origin \
             (KINLINK__SERVER__PUBLIC_ORIGIN) to the address users open, so the emailed link reaches the server"
        );
    }
    Ok(format!("http://{listen}"))
}

/// Sends the recovery link straight through the configured mail transport,
/// so the token is never written to the outbox table.
async fn email_link(
    config: &Config,
    origin: &str,
    address: &str,
    link_path: &str,
) -> anyhow::Result<(SendOutcome, Option<&'static str>)> {
    let mut mailer = if config.email.smtp_url.is_empty() {
        let folder = config.data_dir.join("outbox");
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        Mailer::folder(&folder)
    } else {
        Mailer::smtp(&config.email.smtp_url, 1).context("setting up email.smtp_url")?
    };
    let letterhead = Letterhead::new(&config.email.from, origin).context("reading email.from")?;
    let message = letterhead.compose(
        uuid::Uuid::now_v7(),
        address,
        Template::RecoveryLink,
        link_path,
        None,
    )?;
    Ok(mailer.send(message).await)
}
