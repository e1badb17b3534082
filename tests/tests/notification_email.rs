//! Notification email from the outbox to a real SMTP server (aiosmtpd):
//! what arrives, and what happens when the server is away, drops an idle
//! connection, or drops the connection after taking a message.

use std::time::Duration;

use chrono::Utc;
use kinlink_core::UserId;
use kinlink_core::notices::Template;
use kinlink_store::entity::{email_outbox, organisation, user};
use kinlink_store::outbox::NewEmail;
use kinlink_tests::app::{AppOptions, TestApp};
use kinlink_tests::mail::Catcher;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

const FROM_DOMAIN: &str = "kinlink.test";

/// Names and words from the demo data that no email may carry.
const FIXTURE_WORDS: &[&str] = &[
    "Alex",
    "Carter",
    "Jordan",
    "Blake",
    "Priya",
    "Shah",
    "Northshire",
    "Harbour",
    "Bcc",
];

async fn app_sending_to(catcher: &Catcher) -> anyhow::Result<TestApp> {
    TestApp::spawn_with(AppOptions {
        demo: true,
        env: vec![
            ("KINLINK__EMAIL__SMTP_URL".into(), catcher.url.clone()),
            ("KINLINK__EMAIL__POLL_SECONDS".into(), "1".into()),
            (
                "KINLINK__EMAIL__FROM".into(),
                format!("KinLink <no-reply@{FROM_DOMAIN}>"),
            ),
        ],
        ..AppOptions::default()
    })
    .await
}

/// Queues an email to the adoptive parent linking to `link_path`; returns
/// its id and the recipient's address.
async fn queue(app: &TestApp, link_path: &str) -> anyhow::Result<(uuid::Uuid, String)> {
    let store = app.store().await?;
    let address = app.demo_user("adoptive_parent")?["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let recipient = store
        .find_user_by_email(&address)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no user"))?;
    let id = uuid::Uuid::now_v7();
    store
        .queue_email(NewEmail {
            id,
            user_id: UserId(recipient.id),
            template: Template::NewMessage,
            link_path: link_path.to_owned(),
            send_after: Utc::now(),
            created_at: Utc::now(),
        })
        .await?;
    Ok((id, address))
}

fn message_id(id: uuid::Uuid) -> String {
    format!("<{}@{FROM_DOMAIN}>", id.simple())
}

async fn outbox_row(app: &TestApp, id: uuid::Uuid) -> anyhow::Result<email_outbox::Model> {
    let store = app.store().await?;
    store
        .queued_email(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("outbox row {id} is gone"))
}

#[tokio::test]
async fn queued_email_arrives_with_fixed_headers() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = app_sending_to(&catcher).await?;

    // Names that try to inject a header go into the data the email is about.
    let store = app.store().await?;
    let injected = "Alex\r\nBcc: x@example.org";
    user::Entity::update_many()
        .col_expr(user::Column::DisplayName, Expr::value(injected))
        .exec(&store.db)
        .await?;
    organisation::Entity::update_many()
        .col_expr(
            organisation::Column::Name,
            Expr::value(format!("Northshire{injected}")),
        )
        .exec(&store.db)
        .await?;

    let link_path = format!("letters/{}", "x".repeat(1200));
    let (id, address) = queue(&app, &link_path).await?;
    let received = catcher
        .wait_for(&message_id(id), Duration::from_secs(30))
        .await?;

    assert_eq!(received.header("To").as_deref(), Some(address.as_str()));
    assert_eq!(received.envelope["rcpt_tos"], serde_json::json!([address]));
    assert_eq!(
        received.header("Subject").as_deref(),
        Some(Template::NewMessage.subject())
    );
    assert_eq!(received.header("Message-ID"), Some(message_id(id)));
    for line in received.raw.split("\r\n") {
        assert!(line.len() <= 998, "a line of {} octets", line.len());
    }
    let body = received.body()?;
    let link = format!("{}/{link_path}", app.address.trim_end_matches('/'));
    assert!(
        body.contains(&link),
        "the body does not hold the whole link"
    );
    for word in FIXTURE_WORDS {
        assert!(!received.raw.contains(word), "the email carries {word:?}");
        assert!(!body.contains(word), "the body carries {word:?}");
    }

    let row = outbox_row(&app, id).await?;
    assert_eq!(row.state, "sent");
    assert_eq!(row.attempts, 1);
    Ok(())
}

#[tokio::test]
async fn email_waits_while_server_is_away() -> anyhow::Result<()> {
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let app = TestApp::spawn_with(AppOptions {
        demo: true,
        env: vec![
            (
                "KINLINK__EMAIL__SMTP_URL".into(),
                format!("smtp://127.0.0.1:{closed_port}"),
            ),
            ("KINLINK__EMAIL__POLL_SECONDS".into(), "1".into()),
        ],
        ..AppOptions::default()
    })
    .await?;
    let (id, _address) = queue(&app, "").await?;

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let row = loop {
        let row = outbox_row(&app, id).await?;
        if row.attempts >= 1 || std::time::Instant::now() > deadline {
            break row;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(row.state, "pending");
    assert_eq!(row.attempts, 1);
    assert_eq!(row.unknown_outcomes, 0);
    assert_eq!(row.last_error.as_deref(), Some("connection_failed"));
    assert!(row.next_attempt_at > Utc::now() + chrono::Duration::seconds(30));
    Ok(())
}

#[tokio::test]
async fn dropped_idle_connection_is_replaced() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(1))?;
    let app = app_sending_to(&catcher).await?;

    let (first, _address) = queue(&app, "").await?;
    catcher
        .wait_for(&message_id(first), Duration::from_secs(30))
        .await?;

    // The catcher closes the pooled connection while it sits idle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (second, _address) = queue(&app, "").await?;
    catcher
        .wait_for(&message_id(second), Duration::from_secs(30))
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;

    assert_eq!(catcher.messages_with(&message_id(second))?.len(), 1);
    assert_eq!(outbox_row(&app, second).await?.state, "sent");
    assert_eq!(outbox_row(&app, second).await?.attempts, 1);
    Ok(())
}

/// Waits until the email's attempts reach `attempts`; returns its row.
async fn after_attempts(
    app: &TestApp,
    id: uuid::Uuid,
    attempts: i32,
) -> anyhow::Result<email_outbox::Model> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let row = outbox_row(app, id).await?;
        if row.attempts >= attempts && row.lease_until.is_none() {
            return Ok(row);
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "email {id} made {} attempts in 30 s, not {attempts}",
            row.attempts
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Makes the email's next attempt due now instead of after its backoff.
async fn due_now(app: &TestApp, id: uuid::Uuid) -> anyhow::Result<()> {
    let store = app.store().await?;
    email_outbox::Entity::update_many()
        .col_expr(email_outbox::Column::NextAttemptAt, Expr::value(Utc::now()))
        .filter(email_outbox::Column::Id.eq(id))
        .exec(&store.db)
        .await?;
    Ok(())
}

#[tokio::test]
async fn unknown_outcome_is_resent_only_once() -> anyhow::Result<()> {
    // The server takes every message, then drops the connection before it
    // replies, so the sender never learns that the message arrived.
    let catcher = Catcher::start_dropping(u32::MAX)?;
    let app = app_sending_to(&catcher).await?;
    let (id, _address) = queue(&app, "").await?;

    let first = after_attempts(&app, id, 1).await?;
    assert_eq!(first.state, "pending");
    assert_eq!(first.unknown_outcomes, 1);
    assert_eq!(first.last_error.as_deref(), Some("connection_lost"));
    assert_eq!(catcher.messages_with(&message_id(id))?.len(), 1);

    // Sent once more, with the same Message-ID, and then never again.
    due_now(&app, id).await?;
    let second = after_attempts(&app, id, 2).await?;
    assert_eq!(second.state, "unconfirmed");
    assert_eq!(second.unknown_outcomes, 2);
    due_now(&app, id).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(outbox_row(&app, id).await?.attempts, 2);
    assert_eq!(catcher.messages_with(&message_id(id))?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn resend_after_unknown_outcome_is_accepted() -> anyhow::Result<()> {
    let catcher = Catcher::start_dropping(1)?;
    let app = app_sending_to(&catcher).await?;
    let (id, _address) = queue(&app, "").await?;
    let first = after_attempts(&app, id, 1).await?;
    assert_eq!(first.unknown_outcomes, 1);

    due_now(&app, id).await?;
    let second = after_attempts(&app, id, 2).await?;
    assert_eq!(second.state, "sent");
    assert_eq!(catcher.messages_with(&message_id(id))?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn disabled_recipient_gets_no_email() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = app_sending_to(&catcher).await?;
    let store = app.store().await?;
    user::Entity::update_many()
        .col_expr(user::Column::Status, Expr::value("disabled"))
        .filter(user::Column::Email.contains("adoptive"))
        .exec(&store.db)
        .await?;
    let (id, _address) = queue(&app, "").await?;

    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let row = loop {
        let row = outbox_row(&app, id).await?;
        // A claimed row is "sending" for a moment before it is closed.
        let settled = !matches!(row.state.as_str(), "pending" | "sending");
        if settled || std::time::Instant::now() > deadline {
            break row;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(row.state, "failed");
    assert_eq!(row.last_error.as_deref(), Some("no_recipient"));
    assert!(catcher.messages_with(&message_id(id))?.is_empty());
    Ok(())
}
