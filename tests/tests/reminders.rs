//! Letterbox reminders on a simulated clock, against the real database: a
//! local time that the clocks skip or pass twice sends its reminder once,
//! two nodes polling together send each reminder once, and a letter
//! already written stops its side's reminders.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use kinlink_actors::reminders::run_pass;
use kinlink_store::Store;
use kinlink_store::entity::{email_outbox, reminder};
use kinlink_tests::agreements;
use kinlink_tests::app::TestApp;
use kinlink_tests::client::Client;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Replaces the demo link's schedule with `exchanges`, keeping the rest.
async fn set_schedule(practitioner: &Client, exchanges: Value) -> anyhow::Result<String> {
    let link = practitioner.conversation_id("contact_link").await?;
    agreements::change(practitioner, &link, |agreement| {
        agreement["schedule"] = json!({"on_request": false, "exchanges": exchanges});
    })
    .await?;
    Ok(link)
}

/// Two nodes step a simulated clock from `start` to `end`, each polling
/// every `step`, at the same instants. Returns how many reminders they
/// sent between them.
async fn two_nodes_tick(
    nodes: [&Store; 2],
    at: NaiveTime,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    step: Duration,
) -> anyhow::Result<usize> {
    let mut sent = 0;
    let mut last = start;
    while last < end {
        let now = last + step;
        let (first, second) = tokio::join!(
            run_pass(nodes[0], at, last, now),
            run_pass(nodes[1], at, last, now)
        );
        sent += first? + second?;
        last = now;
    }
    Ok(sent)
}

async fn reminders_of(store: &Store, due_on: NaiveDate, kind: &str) -> anyhow::Result<u64> {
    Ok(reminder::Entity::find()
        .filter(reminder::Column::DueOn.eq(due_on))
        .filter(reminder::Column::Kind.eq(kind))
        .count(&store.db)
        .await?)
}

async fn emails(store: &Store, template: &str) -> anyhow::Result<u64> {
    Ok(email_outbox::Entity::find()
        .filter(email_outbox::Column::Template.eq(template))
        .count(&store.db)
        .await?)
}

#[tokio::test]
async fn clock_changes_send_each_reminder_once() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    // 12 April: "due soon" on 29 March, when 01:30 does not happen in
    // London. 11 October: "overdue" on 25 October, when 01:30 happens twice.
    set_schedule(
        &practitioner,
        json!([
            {"month": 4, "day": 12, "from": "adoptive"},
            {"month": 10, "day": 11, "from": "birth"}
        ]),
    )
    .await?;
    let (first, second) = (app.store().await?, app.store().await?);
    let at = NaiveTime::from_hms_opt(1, 30, 0).unwrap_or_default();

    let spring = two_nodes_tick(
        [&first, &second],
        at,
        utc("2026-03-28T12:00:00Z"),
        utc("2026-03-30T12:00:00Z"),
        Duration::minutes(5),
    )
    .await?;
    assert_eq!(spring, 1);
    let april = NaiveDate::from_ymd_opt(2026, 4, 12).unwrap_or_default();
    assert_eq!(reminders_of(&first, april, "due_soon").await?, 1);
    let stored = reminder::Entity::find()
        .filter(reminder::Column::DueOn.eq(april))
        .one(&first.db)
        .await?
        .map(|row| row.fire_at);
    assert_eq!(
        stored,
        Some(utc("2026-03-29T01:00:00Z")),
        "first minute after the gap"
    );
    // The adoptive parent and the practitioner, each once.
    assert_eq!(emails(&first, "exchange_due_soon").await?, 2);

    let autumn = two_nodes_tick(
        [&first, &second],
        at,
        utc("2026-10-24T12:00:00Z"),
        utc("2026-10-26T12:00:00Z"),
        Duration::minutes(5),
    )
    .await?;
    assert_eq!(autumn, 1);
    let october = NaiveDate::from_ymd_opt(2026, 10, 11).unwrap_or_default();
    assert_eq!(reminders_of(&first, october, "overdue").await?, 1);
    let stored = reminder::Entity::find()
        .filter(reminder::Column::DueOn.eq(october))
        .one(&first.db)
        .await?
        .map(|row| row.fire_at);
    assert_eq!(
        stored,
        Some(utc("2026-10-25T00:30:00Z")),
        "the first of the two"
    );
    assert_eq!(emails(&first, "exchange_overdue").await?, 2);

    // Polling the same nights again, as after a restart, sends nothing.
    let again = two_nodes_tick(
        [&first, &second],
        at,
        utc("2026-03-28T12:00:00Z"),
        utc("2026-03-30T12:00:00Z"),
        Duration::hours(7),
    )
    .await?;
    assert_eq!(again, 0);
    Ok(())
}

#[tokio::test]
async fn reminders_stop_for_a_side_that_wrote() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let now = Utc::now();
    let mut due = (now + Duration::days(20)).date_naive();
    while due.day() > 28 {
        due = due.succ_opt().unwrap_or(due);
    }
    let link = set_schedule(
        &practitioner,
        json!([
            {"month": due.month(), "day": due.day(), "from": "adoptive"},
            {"month": due.month(), "day": due.day(), "from": "birth"}
        ]),
    )
    .await?;
    let draft: Value = adoptive
        .post(
            &format!("/api/v1/conversations/{link}/letters"),
            &json!({"body": "Our letter for this exchange."}),
        )
        .await?
        .json()
        .await?;
    let submit = adoptive
        .post(
            &format!(
                "/api/v1/letters/{}/submit",
                draft["id"].as_str().unwrap_or_default()
            ),
            &json!({}),
        )
        .await?;
    anyhow::ensure!(submit.status() == 200, "submit: {}", submit.text().await?);

    let store = app.store().await?;
    let at = NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default();
    let sent = run_pass(&store, at, now, now + Duration::days(40)).await?;
    assert_eq!(sent, 3, "only the birth side's three reminders");
    let sides: Vec<String> = reminder::Entity::find()
        .all(&store.db)
        .await?
        .into_iter()
        .map(|row| row.side)
        .collect();
    assert!(sides.iter().all(|side| side == "birth"), "{sides:?}");
    Ok(())
}

#[tokio::test]
async fn exchanges_list_only_unanswered_ones() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let today = Utc::now()
        .with_timezone(&kinlink_core::local_time::SCHEDULE_ZONE)
        .date_naive();
    let due = [10, 5, 0, -5, -10]
        .into_iter()
        .map(|days| today + Duration::days(days))
        .find(|day| day.day() <= 28)
        .unwrap_or(today);
    let link = set_schedule(
        &practitioner,
        json!([
            {"month": due.month(), "day": due.day(), "from": "adoptive"},
            {"month": due.month(), "day": due.day(), "from": "birth"}
        ]),
    )
    .await?;
    let open = practitioner.get_json("/api/v1/exchanges").await?;
    assert_eq!(open.as_array().map(Vec::len), Some(2), "{open}");

    let draft: Value = adoptive
        .post(
            &format!("/api/v1/conversations/{link}/letters"),
            &json!({"body": "Our letter."}),
        )
        .await?
        .json()
        .await?;
    let id = draft["id"].as_str().unwrap_or_default();
    let submit = adoptive
        .post(&format!("/api/v1/letters/{id}/submit"), &json!({}))
        .await?;
    anyhow::ensure!(submit.status() == 200, "submit: {}", submit.text().await?);
    let open = practitioner.get_json("/api/v1/exchanges").await?;
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    assert_eq!(open[0]["side"], "birth");
    assert_eq!(open[0]["due_on"], due.to_string());
    assert_eq!(open[0]["conversation_id"], link.as_str());
    let family = adoptive.get_json("/api/v1/exchanges").await?;
    assert_eq!(family, json!([]), "a family supervises nothing");
    Ok(())
}
