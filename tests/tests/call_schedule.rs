//! Sessions arranged ahead of time, with their emails through a real SMTP
//! server, and the record of past calls, through the real server.

use std::time::Duration;

use chrono::Utc;
use kinlink_store::call_schedule::{ScheduleLimits, Scheduled};
use kinlink_tests::app::{AppOptions, TestApp};
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::mail::Catcher;
use serde_json::{Value, json};

/// Names and words from the demo data that no email may carry.
const FIXTURE_WORDS: &[&str] = &["Alex", "Jordan", "Blake", "Priya", "Shah", "Northshire"];

fn email_of(app: &TestApp, key: &str) -> anyhow::Result<String> {
    Ok(app.demo_user(key)?["email"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Returns the emails `address` has received with `subject`, raw
/// message and body, oldest first. The catcher is shared by every test of
/// the run, so callers compare counts from before and after.
fn emails_to(catcher: &Catcher, address: &str, subject: &str) -> anyhow::Result<Vec<String>> {
    let mut bodies = Vec::new();
    for message in catcher.messages()? {
        if message.envelope["rcpt_tos"][0] == address
            && message.header("Subject").as_deref() == Some(subject)
        {
            bodies.push(format!("{}\n{}", message.raw, message.body()?));
        }
    }
    Ok(bodies)
}

/// Waits until `address` has more than `before` emails with `subject`,
/// and returns the newest.
async fn next_email(
    catcher: &Catcher,
    address: &str,
    subject: &str,
    before: usize,
) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut bodies = emails_to(catcher, address, subject)?;
        if bodies.len() > before {
            return Ok(bodies.pop().unwrap_or_default());
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "no new email titled {subject:?} to {address}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn arranged(client: &Client, link: &str) -> anyhow::Result<Vec<Value>> {
    let list = client
        .get_json(&format!("/api/v1/conversations/{link}/scheduled-calls"))
        .await?;
    Ok(list.as_array().cloned().unwrap_or_default())
}

const ARRANGED: &str = "A video session has been arranged in KinLink";
const CANCELLED: &str = "A video session in KinLink has been cancelled";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arranged_session_invites_other_members() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = catcher.app_sending_here().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let path = format!("/api/v1/conversations/{link}/scheduled-calls");
    let parents = [
        email_of(&app, "adoptive_parent")?,
        email_of(&app, "birth_parent")?,
    ];
    let own = email_of(&app, "la_practitioner")?;
    let mut before = Vec::new();
    for address in parents.iter().chain([&own]) {
        before.push((
            emails_to(&catcher, address, ARRANGED)?.len(),
            emails_to(&catcher, address, CANCELLED)?.len(),
        ));
    }
    let starts_at = (Utc::now() + chrono::Duration::days(3))
        .format("%Y-%m-%dT%H:%M:00Z")
        .to_string();

    let (status, created) = status_and_json(
        practitioner
            .post(&path, &json!({"starts_at": starts_at}))
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["conversation_id"], link.as_str());
    assert_eq!(created["scheduled_by_name"], "Priya Shah");
    let id = created["id"].as_str().unwrap_or_default().to_owned();

    // The family's list shows it too, at the time given.
    let seen = arranged(&adoptive, &link).await?;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let stored: chrono::DateTime<Utc> =
        seen[0]["starts_at"].as_str().unwrap_or_default().parse()?;
    assert_eq!(
        stored.to_rfc3339(),
        starts_at.parse::<chrono::DateTime<Utc>>()?.to_rfc3339()
    );

    // Both parents get an email about it, which contains no details.
    let day = &starts_at[..10];
    for (address, (arranged_before, _)) in parents.iter().zip(&before) {
        let body = next_email(&catcher, address, ARRANGED, *arranged_before).await?;
        for word in FIXTURE_WORDS.iter().chain([&day, &link.as_str()]) {
            assert!(
                !body.contains(word),
                "the email to {address} contains {word:?}"
            );
        }
    }

    // A parent can neither arrange nor cancel.
    let (status, rejected) = status_and_json(
        adoptive
            .post(&path, &json!({"starts_at": starts_at}))
            .await?,
    )
    .await?;
    assert_eq!(status, 403, "{rejected}");
    let (status, _) = status_and_json(adoptive.delete(&format!("{path}/{id}")).await?).await?;
    assert_eq!(status, 403);
    assert_eq!(arranged(&practitioner, &link).await?.len(), 1);

    // The practitioner cancels, once; the parents hear of that too.
    let (status, _) = status_and_json(practitioner.delete(&format!("{path}/{id}")).await?).await?;
    assert_eq!(status, 204);
    let (status, _) = status_and_json(practitioner.delete(&format!("{path}/{id}")).await?).await?;
    assert_eq!(status, 404);
    assert!(arranged(&adoptive, &link).await?.is_empty());
    next_email(&catcher, &parents[0], CANCELLED, before[0].1).await?;

    // The practitioner was not emailed about their own arrangements.
    assert_eq!(emails_to(&catcher, &own, ARRANGED)?.len(), before[2].0);
    assert_eq!(emails_to(&catcher, &own, CANCELLED)?.len(), before[2].1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_session_times_are_rejected() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let path = format!("/api/v1/conversations/{link}/scheduled-calls");
    let later = (Utc::now() + chrono::Duration::hours(5)).to_rfc3339();
    let (status, _) = status_and_json(
        practitioner
            .post(&path, &json!({"starts_at": later}))
            .await?,
    )
    .await?;
    assert_eq!(status, 201);

    let past = (Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let far = (Utc::now() + chrono::Duration::days(400)).to_rfc3339();
    for value in [
        "tomorrow at two",
        "2027-13-40T99:00:00Z",
        "",
        "2027-06-30T23:59:60Z",
        past.as_str(),
        far.as_str(),
    ] {
        let (status, error) = status_and_json(
            practitioner
                .post(&path, &json!({"starts_at": value}))
                .await?,
        )
        .await?;
        assert_eq!(status, 400, "{value}: {error}");
        assert_eq!(error["field"], "starts_at", "{value}: {error}");
    }
    let (status, error) = status_and_json(
        practitioner
            .post(&path, &json!({"starts_at": later, "length": 5}))
            .await?,
    )
    .await?;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["code"], "request.invalid_json");
    let (status, _) =
        status_and_json(practitioner.delete(&format!("{path}/not-an-id")).await?).await?;
    assert_eq!(status, 404);

    // A session that has started can no longer be cancelled.
    let store = app.store().await?;
    let started = uuid::Uuid::now_v7();
    let me = practitioner.get_json("/api/v1/me").await?;
    let scheduler: uuid::Uuid = me["user"]["id"].as_str().unwrap_or_default().parse()?;
    let an_hour_ago = Utc::now() - chrono::Duration::hours(1);
    let stored = store
        .schedule_call(
            kinlink_store::entity::scheduled_call::Model {
                id: started,
                conversation_id: link.parse()?,
                scheduled_by: scheduler,
                starts_at: an_hour_ago + chrono::Duration::minutes(30),
                created_at: an_hour_ago,
                cancelled_at: None,
                cancelled_by: None,
            },
            &[],
            ScheduleLimits {
                upcoming: 20,
                per_day: 40,
            },
        )
        .await?;
    assert_eq!(stored, Scheduled::Stored);
    let (status, _) =
        status_and_json(practitioner.delete(&format!("{path}/{started}")).await?).await?;
    assert_eq!(status, 404);

    // Those two sessions are all there is.
    assert_eq!(arranged(&practitioner, &link).await?.len(), 2);

    // Someone outside the link cannot even see that it exists.
    let outsider = app.sign_in("second_adoptive_parent").await?;
    let (status, _) = status_and_json(outsider.get(&path).await?).await?;
    assert_eq!(status, 404);

    // A suspended link takes no new sessions.
    let response = practitioner
        .post(
            &format!("/api/v1/conversations/{link}/agreement/status"),
            &json!({"status": "suspended", "reason": "A pause agreed at the review meeting"}),
        )
        .await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let (status, error) = status_and_json(
        practitioner
            .post(&path, &json!({"starts_at": later}))
            .await?,
    )
    .await?;
    assert_eq!(status, 409, "{error}");
    assert_eq!(error["code"], "resource.conflict");
    assert_eq!(arranged(&practitioner, &link).await?.len(), 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_record_lists_its_steps() -> anyhow::Result<()> {
    let port_min = 44_000 + (std::process::id() % 500) as u16 * 10;
    let app = TestApp::spawn_with(AppOptions {
        env: vec![
            ("KINLINK__CALLS__PORT_MIN".into(), port_min.to_string()),
            (
                "KINLINK__CALLS__PORT_MAX".into(),
                (port_min + 9).to_string(),
            ),
        ],
        ..AppOptions::default()
    })
    .await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let record_path = format!("/api/v1/conversations/{link}/calls");
    assert_eq!(practitioner.get_json(&record_path).await?, json!([]));

    let mut host = practitioner.socket().await?;
    host.send(json!({"type": "call_start", "conversation_id": link}))
        .await?;
    let started = host
        .expect_where(
            |f| f["type"] == "call" && f["call"]["status"] == "live",
            "the started call",
        )
        .await?;
    let call_id = started["call"]["call_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Joining again from the same socket changes nothing.
    for _ in 0..3 {
        host.send(json!({"type": "call_join", "call_id": call_id}))
            .await?;
        host.expect_where(|f| f["type"] == "call", "the call again")
            .await?;
    }
    host.send(json!({"type": "call_end", "call_id": call_id}))
        .await?;
    host.expect_where(
        |f| f["type"] == "call" && f["call"]["status"] == "ended",
        "the call ended",
    )
    .await?;

    // The record is written after the frame, so it may take a moment.
    let mut record = Value::Null;
    for _ in 0..50 {
        record = practitioner.get_json(&record_path).await?;
        if record[0]["events"]
            .as_array()
            .is_some_and(|events| events.iter().any(|e| e["kind"] == "ended"))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(record[0]["id"], call_id.as_str(), "{record}");
    assert_eq!(record[0]["end_reason"], "ended_by_host", "{record}");
    let kinds: Vec<&str> = record[0]["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds.first(), Some(&"started"), "{record}");
    let joined = kinds.iter().filter(|kind| **kind == "joined").count();
    assert_eq!(joined, 1, "{record}");
    assert!(!kinds.contains(&"rejoined"), "{record}");
    assert_eq!(kinds.last(), Some(&"ended"), "{record}");

    // Families do not read the record.
    let (status, _) = status_and_json(adoptive.get(&record_path).await?).await?;
    assert_eq!(status, 403);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_requests_keep_the_limit() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let path = format!("/api/v1/conversations/{link}/scheduled-calls");
    let starts_at = (Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let body = json!({"starts_at": starts_at});
    let answers =
        futures_util::future::join_all((0..30).map(|_| practitioner.post(&path, &body))).await;
    let mut created = 0;
    let mut rejected = 0;
    for answer in answers {
        match answer?.status().as_u16() {
            201 => created += 1,
            409 => rejected += 1,
            other => anyhow::bail!("unexpected status {other}"),
        }
    }
    assert_eq!(created, 20);
    assert_eq!(rejected, 10);
    assert_eq!(arranged(&practitioner, &link).await?.len(), 20);

    // Cancelled sessions emailed everyone too, so a day allows 40 in all.
    for session in arranged(&practitioner, &link).await? {
        let id = session["id"].as_str().unwrap_or_default();
        let response = practitioner.delete(&format!("{path}/{id}")).await?;
        assert_eq!(response.status(), 204);
    }
    for n in 0..20 {
        let (status, error) = status_and_json(practitioner.post(&path, &body).await?).await?;
        assert_eq!(status, 201, "arrangement {}: {error}", n + 21);
    }
    let last = arranged(&practitioner, &link).await?;
    let id = last[0]["id"].as_str().unwrap_or_default();
    let response = practitioner.delete(&format!("{path}/{id}")).await?;
    assert_eq!(response.status(), 204);
    let (status, error) = status_and_json(practitioner.post(&path, &body).await?).await?;
    assert_eq!(status, 409, "{error}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.contains("24 hours"), "{message}");
    Ok(())
}
