//! Backups on the real server and the real `kinlink backup` commands. A
//! backup is taken, a birth parent's account is erased after it, and the
//! backup is restored: the restore replays the deletion log, so the
//! account is still erased, and everything else the backup held is back.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kinlink_actors::retention::sweep;
use kinlink_core::user_erasure::ERASED_NAME;
use kinlink_media::blob::{BlobStore, LocalDisk};
use kinlink_store::deletion_log::DeletionLog;
use kinlink_store::entity::user;
use kinlink_tests::client::Client;
use kinlink_tests::erasure::{agree_erasure, deleted_rows_left, demo_account, startup_sweep_done};
use kinlink_tests::test_media;
use kinlink_tests::uploads::{share, upload_settled};
use kinlink_tests::{AppOptions, TestApp};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

/// Runs `kinlink` with `args` on the app's data folder and database.
async fn kinlink(app: &TestApp, key: &str, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Ok(app
        .command()
        .args(args)
        .env("KINLINK__BACKUP__KEY", key)
        .output()
        .await?)
}

/// Lists the stored files with their sizes.
fn media_listing(app: &TestApp) -> anyhow::Result<Vec<(String, u64)>> {
    let mut files = Vec::new();
    for path in kinlink_tests::data_dir::files_under(&app.data_dir.path().join("media"))? {
        files.push((path.display().to_string(), std::fs::metadata(&path)?.len()));
    }
    files.sort();
    Ok(files)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_keeps_later_erasures() -> anyhow::Result<()> {
    let generated = tokio::process::Command::new(kinlink_tests::app::binary())
        .args(["backup", "key"])
        .output()
        .await?;
    assert!(generated.status.success());
    let key = String::from_utf8(generated.stdout)?.trim().to_owned();
    assert_eq!(key.len(), 44, "32 bytes in base64: {key}");
    let mut app = TestApp::spawn_with(AppOptions {
        env: vec![("KINLINK__BACKUP__KEY".to_owned(), key.clone())],
        ..AppOptions::default()
    })
    .await?;
    let store = app.store().await?;
    startup_sweep_done(&store).await?;
    let jordan = app.sign_in("birth_parent").await?;
    let manager = app.sign_in("la_manager").await?;
    let link = jordan.conversation_id("contact_link").await?;
    let (id, email) = demo_account(&app, &store, "birth_parent").await?;

    // Jordan writes and shares a photo; then the backup is taken.
    let mut socket = jordan.socket().await?;
    let written = "A drawing for the summer box";
    socket.say(&link, written).await?;
    let photo = std::fs::read(test_media::path("photo.jpg")?)?;
    let shared = upload_settled(&jordan, &link, "drawing.jpg", &photo).await?;
    let shared_id = shared["id"].as_str().unwrap_or_default().to_owned();
    share(&jordan, &link, &shared_id).await?;
    let made = kinlink(&app, &key, &["backup", "create"]).await?;
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let stdout = String::from_utf8(made.stdout)?;
    let path = stdout
        .lines()
        .find_map(|line| line.strip_prefix("Backup written to "))
        .context("the backup's path")?
        .to_owned();
    assert!(path.starts_with(&app.data_dir.path().join("backups").display().to_string()));
    let bytes = std::fs::read(&path)?;
    for plain in [
        email.as_bytes(),
        b"SQLite format 3",
        b"PGDMP",
        b"CREATE TABLE",
    ] {
        assert!(
            !bytes.windows(plain.len()).any(|window| window == plain),
            "{} readable in the backup",
            String::from_utf8_lossy(plain)
        );
    }
    let work = app.data_dir.path().join("work");
    let left_over: Vec<_> = std::fs::read_dir(&work)?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().starts_with("backup-"))
        .collect();
    assert!(left_over.is_empty(), "{left_over:?}");

    // After the backup, Jordan's erasure is agreed and carried out.
    let marked = agree_erasure(&store, &jordan, &manager, id).await?;
    let blobs: Arc<dyn BlobStore> = Arc::new(LocalDisk::open(&app.data_dir.path().join("media"))?);
    let log = DeletionLog::new(app.data_dir.path().join("deletion-log.jsonl"));
    let report = sweep(
        &store,
        &blobs,
        None,
        Some(&log),
        10,
        marked + chrono::Duration::days(14),
    )
    .await?;
    assert_eq!(report.users.deleted, 1);
    assert_eq!(deleted_rows_left(&store, id, &email).await?, 0);

    // The practitioner's erasure is agreed too, but its final step is two
    // weeks away.
    let practitioner = app.sign_in("la_practitioner").await?;
    let (practitioner_id, _) = demo_account(&app, &store, "la_practitioner").await?;
    agree_erasure(&store, &practitioner, &manager, practitioner_id).await?;

    // No restore while a server runs on the data folder.
    let running = kinlink(&app, &key, &["backup", "restore", &path]).await?;
    assert!(!running.status.success());
    let stderr = String::from_utf8_lossy(&running.stderr);
    assert!(stderr.contains("a server is running"), "{stderr}");

    // A wrong key is refused before anything changes.
    app.signal("TERM")?;
    app.exited(Duration::from_secs(20)).await?;
    drop(store);
    let wrong = tokio::process::Command::new(kinlink_tests::app::binary())
        .args(["backup", "key"])
        .output()
        .await?;
    let wrong_key = String::from_utf8(wrong.stdout)?.trim().to_owned();
    let refused = kinlink(&app, &wrong_key, &["backup", "restore", &path]).await?;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("does not open"), "{stderr}");
    // So is a backup changed near its end, and the media folder is as it
    // was: nothing is put back from a backup that is not whole.
    let media_before = media_listing(&app)?;
    let mut changed = bytes.clone();
    let near_end = changed.len() - 100;
    changed[near_end] ^= 0x40;
    let changed_path = format!("{path}.changed");
    std::fs::write(&changed_path, &changed)?;
    let refused = kinlink(&app, &key, &["backup", "restore", &changed_path]).await?;
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("does not open"), "{stderr}");
    assert_eq!(media_listing(&app)?, media_before);

    // The restore puts the backup back, then replays the erasure.
    let restored = kinlink(&app, &key, &["backup", "restore", &path]).await?;
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let stdout = String::from_utf8(restored.stdout)?;
    assert!(
        stdout.contains("1 user records erased, 1 marked for erasure, 0 cases anonymised"),
        "{stdout}"
    );
    app.restart().await?;
    let store = app.store().await?;
    let tombstone = user::Entity::find_by_id(id)
        .one(&store.db)
        .await?
        .context("the tombstone")?;
    assert_eq!(tombstone.display_name, ERASED_NAME);
    assert!(tombstone.erased_at.is_some());
    assert_eq!(
        user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .count(&store.db)
            .await?,
        0,
        "the address came back"
    );
    assert_eq!(deleted_rows_left(&store, id, &email).await?, 0);
    let signed_out = Client::new(&app.address)?
        .post(
            "/api/v1/auth/sign-in",
            &json!({ "email": email, "password": app.demo_user("birth_parent")?["password"] }),
        )
        .await?;
    assert_ne!(signed_out.status(), 200, "the erased account signed in");
    let pending = user::Entity::find_by_id(practitioner_id)
        .one(&store.db)
        .await?
        .context("the practitioner")?;
    assert!(
        pending.marked_at.is_some(),
        "the agreed erasure was forgotten"
    );
    assert_eq!(pending.erased_at, None);

    // What the backup held otherwise is back: Alex reads Jordan's message
    // and photo.
    let alex = app.sign_in("adoptive_parent").await?;
    let history = alex
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    assert!(history.to_string().contains(written), "{history}");
    let served = alex.get(&format!("/api/v1/files/{shared_id}")).await?;
    assert_eq!(served.status(), 200);
    assert!(!served.bytes().await?.is_empty());
    Ok(())
}
