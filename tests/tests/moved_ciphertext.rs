//! A ciphertext copied into another conversation fails to open there: it
//! is not shown, and a security event is logged and audited.

use kinlink_tests::TestApp;
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn copied_row_is_not_shown() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let priya = app.sign_in("la_practitioner").await?;
    let link = priya.conversation_id("contact_link").await?;
    let thread = priya.conversation_id("discussion").await?;
    let mut socket = priya.socket().await?;
    socket.say(&link, "contact link only").await?;
    socket.say(&thread, "discussion message").await?;

    // Copy the contact link's ciphertext over the discussion's message, as
    // someone with write access to the database might.
    let store = app.store().await?;
    let backend = store.db.get_database_backend();
    let placeholder = |n: usize| match backend {
        sea_orm::DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    };
    let sql = format!(
        "UPDATE messages SET ciphertext = (SELECT ciphertext FROM messages WHERE conversation_id = {}) \
         WHERE conversation_id = {}",
        placeholder(1),
        placeholder(2)
    );
    let link_id: uuid::Uuid = link.parse()?;
    let thread_id: uuid::Uuid = thread.parse()?;
    let changed = store
        .db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [link_id.into(), thread_id.into()],
        ))
        .await?;
    assert_eq!(changed.rows_affected(), 1);

    let history = priya
        .get_json(&format!("/api/v1/conversations/{thread}/messages"))
        .await?;
    assert_eq!(
        history["messages"].as_array().map(Vec::len),
        Some(0),
        "{history}"
    );
    let text = history.to_string();
    assert!(!text.contains("contact link only"));

    let mut fresh = priya.socket().await?;
    fresh.subscribe(&thread, 0).await?;
    fresh.say(&thread, "after the tampering").await?;
    let next = fresh.messages(&thread, 1).await?;
    assert_eq!(
        next[0]["seq"], 2,
        "the tampered message was skipped: {next:?}"
    );

    let events = store
        .audit_events_with_action("security.ciphertext_rejected")
        .await?;
    assert!(!events.is_empty());
    assert!(app.logs().contains("ciphertext_rejected"));
    assert!(app.metric("kinlink_ciphertext_rejected_total").await? >= 1.0);
    Ok(())
}
