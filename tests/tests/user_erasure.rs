//! Erasure of a user record on the real server. A birth parent asks for
//! their account to be erased and the council's manager agrees: the
//! account stops working at once. The sweep 14 days later wipes the
//! record down to a tombstone and deletes every row the erasure rules
//! delete, with the files nobody was sent; what the parent wrote into the
//! contact link stays for the other family to read.

use std::sync::Arc;

use anyhow::Context;
use chrono::Duration;
use kinlink_actors::retention::sweep;
use kinlink_core::user_erasure::{Disposition, ERASED_NAME, erased_email};
use kinlink_media::blob::{BlobStore, LocalDisk};
use kinlink_store::deletion_log::{DeletedKind, DeletionLog};
use kinlink_store::entity::user;
use kinlink_tests::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::erasure::{agree_erasure, count, demo_account, rows_naming, startup_sweep_done};
use kinlink_tests::test_media;
use kinlink_tests::uploads::{share, upload_settled};
use sea_orm::EntityTrait;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agreed_erasure_wipes_the_account() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let store = app.store().await?;
    startup_sweep_done(&store).await?;
    let jordan = app.sign_in("birth_parent").await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let manager = app.sign_in("la_manager").await?;
    let link = jordan.conversation_id("contact_link").await?;
    let (id, email) = demo_account(&app, &store, "birth_parent").await?;
    let password = app.demo_user("birth_parent")?["password"]
        .as_str()
        .context("password")?
        .to_owned();

    // Jordan writes to Alex, shares one photo and leaves another unsent.
    let mut socket = jordan.socket().await?;
    let written = "Happy birthday, from me";
    socket.say(&link, written).await?;
    let photo = std::fs::read(test_media::path("photo.jpg")?)?;
    let shared = upload_settled(&jordan, &link, "shared.jpg", &photo).await?;
    let shared_id = shared["id"].as_str().unwrap_or_default().to_owned();
    share(&jordan, &link, &shared_id).await?;
    let unsent = upload_settled(&jordan, &link, "unsent.jpg", &photo).await?;
    let unsent_id: uuid::Uuid = unsent["id"].as_str().unwrap_or_default().parse()?;
    let media = LocalDisk::open(&app.data_dir.path().join("media"))?;
    // A processed photo is stored as its renditions; the original is gone.
    let unsent_blobs: Vec<uuid::Uuid> = store
        .renditions(unsent_id)
        .await?
        .iter()
        .map(|rendition| rendition.id)
        .collect();
    assert!(!unsent_blobs.is_empty());
    for blob in &unsent_blobs {
        assert!(media.stored_len(*blob)?.is_some());
    }

    // Jordan asks; the manager agrees. The account stops at once.
    let marked = agree_erasure(&store, &jordan, &manager, id).await?;
    assert_eq!(
        jordan.get("/api/v1/conversations").await?.status(),
        401,
        "the session ended"
    );
    let again = Client::new(&app.address)?
        .post(
            "/api/v1/auth/sign-in",
            &json!({ "email": email, "password": password }),
        )
        .await?;
    assert_eq!(
        again.status(),
        403,
        "sign-in refused as for a disabled account"
    );
    // A minute before the final step, the record is whole.
    let blobs: Arc<dyn BlobStore> = Arc::new(LocalDisk::open(&app.data_dir.path().join("media"))?);
    let log = DeletionLog::new(app.data_dir.path().join("deletion-log.jsonl"));
    let final_step = marked + Duration::days(14);
    let early = sweep(
        &store,
        &blobs,
        None,
        Some(&log),
        10,
        final_step - Duration::minutes(1),
    )
    .await?;
    assert_eq!(early.users.deleted, 0);
    let before = rows_naming(&store, id, &email).await?;
    for table in [
        "revoked_sessions",
        "memberships",
        "conversation_members",
        "conversation_keys",
        "users",
    ] {
        assert!(
            before.iter().any(|(t, _, _, n)| *t == table && *n > 0),
            "{table} had no rows about the user before: {before:?}"
        );
    }

    // At the final step: the tombstone, and nothing the rules delete.
    let report = sweep(&store, &blobs, None, Some(&log), 10, final_step).await?;
    assert_eq!(report.users.deleted, 1);
    let tombstone = user::Entity::find_by_id(id)
        .one(&store.db)
        .await?
        .context("the tombstone")?;
    assert_eq!(tombstone.display_name, ERASED_NAME);
    assert_eq!(tombstone.email, erased_email(id));
    assert!(tombstone.auth_hash.is_empty());
    assert!(tombstone.sealed_private_key.is_empty());
    assert_eq!(tombstone.erased_at, Some(final_step));
    for (table, column, disposition, left) in rows_naming(&store, id, &email).await? {
        match disposition {
            Disposition::Delete | Disposition::Unlink => {
                assert_eq!(left, 0, "{table}.{column} still names the user");
            }
            Disposition::DeleteUnshared | Disposition::Keep(_) | Disposition::Tombstone => {}
        }
    }
    assert_eq!(
        count(&store, "users", "email", email.clone().into()).await?,
        0,
        "the address is gone"
    );
    assert!(
        media.stored_len(unsent_id)?.is_none(),
        "the unsent photo's file"
    );
    assert_eq!(
        count(&store, "files", "id", unsent_id.into()).await?,
        0,
        "the unsent photo's row"
    );
    let logged = log.since(final_step - Duration::seconds(1))?;
    assert_eq!(logged.len(), 1);
    assert_eq!((logged[0].kind, logged[0].id), (DeletedKind::User, id));

    // Alex still reads what Jordan wrote and sent.
    let history = alex
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .map(|list| list.iter().filter_map(|m| m["body"].as_str()).collect())
        .unwrap_or_default();
    assert!(bodies.contains(&written), "{history}");
    let photo_back = alex.get(&format!("/api/v1/files/{shared_id}")).await?;
    assert_eq!(photo_back.status(), 200);

    // A second sweep finds nothing left to do.
    let later = sweep(
        &store,
        &blobs,
        None,
        Some(&log),
        10,
        final_step + Duration::days(1),
    )
    .await?;
    assert_eq!(later.users.deleted, 0);
    assert_eq!(log.since(final_step - Duration::seconds(1))?.len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_erasure_needs_another_manager() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let store = app.store().await?;
    let manager = app.sign_in("la_manager").await?;
    let (status, request) = status_and_json(
        manager
            .post("/api/v1/me/rights-requests", &json!({ "kind": "erasure" }))
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{request}");
    let path = format!(
        "/api/v1/rights-requests/{}/state",
        request["id"].as_str().unwrap_or_default()
    );
    let (status, body) = status_and_json(
        manager
            .post(&path, &json!({ "state": "completed" }))
            .await?,
    )
    .await?;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "resource.conflict", "{body}");
    let (manager_id, _) = demo_account(&app, &store, "la_manager").await?;
    let account = user::Entity::find_by_id(manager_id)
        .one(&store.db)
        .await?
        .context("the manager")?;
    assert_eq!(account.marked_at, None);

    // Starting or refusing their own request stays open to them.
    let (status, body) = status_and_json(
        manager
            .post(&path, &json!({ "state": "in_progress" }))
            .await?,
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    Ok(())
}
