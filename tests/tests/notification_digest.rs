//! Notification preferences over the API, and the daily digest: what
//! arrived before a user's digest hour goes out as one email, once, however
//! many nodes run the digest job.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use kinlink_core::UserId;
use kinlink_core::notices::{Delivery, Preferences, Template};
use kinlink_store::entity::{digest, notification};
use kinlink_store::notifications::Notified;
use kinlink_tests::Database;
use kinlink_tests::app::{AppOptions, TestApp};
use kinlink_tests::database::fresh_postgres;
use kinlink_tests::mail::Catcher;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const PATH: &str = "/api/v1/me/notifications";

#[tokio::test]
async fn preferences_round_trip() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let client = app.sign_in("adoptive_parent").await?;

    let defaults = client.get_json(PATH).await?;
    assert_eq!(
        defaults,
        json!({"delivery": "immediate", "digest_hour": 18, "time_zone": "Europe/London", "marketing": false})
    );

    let chosen = json!({"delivery": "digest", "digest_hour": 7, "time_zone": "Europe/Paris", "marketing": true});
    let response = client.put(PATH, &chosen).await?;
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<serde_json::Value>().await?, chosen);
    assert_eq!(client.get_json(PATH).await?, chosen);

    // Leaving `marketing` out keeps it.
    let without = json!({"delivery": "immediate", "digest_hour": 7, "time_zone": "Europe/Paris"});
    let kept = client
        .put(PATH, &without)
        .await?
        .json::<serde_json::Value>()
        .await?;
    assert_eq!(kept["marketing"], true);
    Ok(())
}

#[tokio::test]
async fn bad_preferences_name_field() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let client = app.sign_in("adoptive_parent").await?;
    let good = json!({"delivery": "digest", "digest_hour": 7, "time_zone": "Europe/Paris", "marketing": false});
    assert_eq!(client.put(PATH, &good).await?.status(), 200);

    let cases = [
        (
            json!({"delivery": "weekly", "digest_hour": 7, "time_zone": "Europe/Paris"}),
            "delivery",
        ),
        (
            json!({"delivery": "digest", "digest_hour": 24, "time_zone": "Europe/Paris"}),
            "digest_hour",
        ),
        (
            json!({"delivery": "digest", "digest_hour": 7, "time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
    ];
    for (body, field) in cases {
        let response = client.put(PATH, &body).await?;
        assert_eq!(response.status(), 400, "{body}");
        let error: serde_json::Value = response.json().await?;
        assert_eq!(error["code"], "request.invalid_field", "{body}");
        assert_eq!(error["field"], field, "{body}");
    }
    let unknown = json!({"delivery": "digest", "digest_hour": 7, "time_zone": "UTC", "x": 1});
    assert_eq!(client.put(PATH, &unknown).await?.status(), 400);
    assert_eq!(
        client.get_json(PATH).await?,
        good,
        "a rejected change keeps what was stored"
    );
    Ok(())
}

#[tokio::test]
async fn immediate_notification_is_emailed() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = TestApp::spawn_with(AppOptions {
        demo: true,
        env: vec![
            ("KINLINK__EMAIL__SMTP_URL".into(), catcher.url.clone()),
            ("KINLINK__EMAIL__POLL_SECONDS".into(), "1".into()),
        ],
        ..AppOptions::default()
    })
    .await?;
    let store = app.store().await?;
    let user = adoptive_parent(&app, &store).await?;

    let notified = store
        .notify(user, Template::NewMessage, "/", Utc::now())
        .await?;
    assert_eq!(notified, Notified::Emailed);
    let address = app.demo_user("adoptive_parent")?["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while count_to(&catcher, &address, Template::NewMessage)? == 0 {
        anyhow::ensure!(std::time::Instant::now() < deadline, "no email arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

#[tokio::test]
async fn two_nodes_send_one_digest() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(300))?;
    let database = Database::Postgres(fresh_postgres().await?);
    let env = vec![
        ("KINLINK__EMAIL__SMTP_URL".to_owned(), catcher.url.clone()),
        ("KINLINK__EMAIL__POLL_SECONDS".to_owned(), "1".to_owned()),
        kinlink_tests::app::shared_profile_key(),
    ];
    let first = TestApp::spawn_with(AppOptions {
        database: Some(database.clone()),
        env: env.clone(),
        ..AppOptions::default()
    })
    .await?;
    let store = first.store().await?;
    let user = adoptive_parent(&first, &store).await?;

    // The digest hour is the current UTC hour, so its time has just come;
    // five notifications arrive within one second before it.
    let now = Utc::now();
    let hour_start = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .unwrap_or(now);
    let preferences = Preferences::parse("digest", i64::from(now.hour()), "UTC")?;
    store.set_preferences(user, preferences).await?;
    assert_eq!(store.preferences(user).await?.delivery, Delivery::Digest);
    let arrived: DateTime<Utc> = hour_start - chrono::Duration::minutes(1);
    for step in 0..5 {
        let at = arrived + chrono::Duration::milliseconds(step * 150);
        assert_eq!(
            store.notify(user, Template::NewMessage, "/", at).await?,
            Notified::Kept
        );
    }

    // A second node joins; both run the digest job every second.
    let _second = TestApp::spawn_with(AppOptions {
        database: Some(database),
        env,
        demo: false,
        ..AppOptions::default()
    })
    .await?;
    let address = first.demo_user("adoptive_parent")?["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while count_to(&catcher, &address, Template::Digest)? == 0 {
        anyhow::ensure!(std::time::Instant::now() < deadline, "no digest arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(4)).await;

    assert_eq!(count_to(&catcher, &address, Template::Digest)?, 1);
    assert_eq!(count_to(&catcher, &address, Template::NewMessage)?, 0);
    assert_eq!(digest::Entity::find().count(&store.db).await?, 1);
    let collected = notification::Entity::find()
        .filter(notification::Column::DigestId.is_not_null())
        .count(&store.db)
        .await?;
    assert_eq!(collected, 5);
    Ok(())
}

async fn adoptive_parent(app: &TestApp, store: &kinlink_store::Store) -> anyhow::Result<UserId> {
    let address = app.demo_user("adoptive_parent")?["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let user = store.find_user_by_email(&address).await?;
    Ok(UserId(
        user.ok_or_else(|| anyhow::anyhow!("no user {address}"))?.id,
    ))
}

/// Counts the emails to `address` with the subject of `template`.
fn count_to(catcher: &Catcher, address: &str, template: Template) -> anyhow::Result<usize> {
    Ok(catcher
        .messages_with("Message-ID")?
        .iter()
        .filter(|m| m.header("To").as_deref() == Some(address))
        .filter(|m| m.header("Subject").as_deref() == Some(template.subject()))
        .count())
}
