//! The retention sweep on a real database: two nodes moving a simulated
//! clock through the days the clocks change sweep each local day once,
//! and the technical-data rule deletes what is a year and two weeks old,
//! in batches, keeping what is younger.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use kinlink_actors::retention::{SweepSettings, sweep, sweep_if_due};
use kinlink_store::entity::{
    audit_event, email_outbox, key_recovery, retention_sweep, revoked_session, sign_in_failure,
    unsubscribe_link,
};
use kinlink_tests::{AppOptions, TestApp};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .expect("a valid instant")
}

/// Waits for the sweep the server runs as it starts (it sweeps the current
/// day at once when no node has), so it cannot race the test's own.
async fn startup_sweep_done(store: &kinlink_store::Store) -> anyhow::Result<()> {
    for _ in 0..200 {
        let rows = retention_sweep::Entity::find().all(&store.db).await?;
        if rows.iter().any(|row| row.finished_at.is_some()) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    anyhow::bail!("the server did not finish its first sweep")
}

fn node(name: &str) -> SweepSettings {
    SweepSettings {
        time: NaiveTime::from_hms_opt(1, 30, 0).expect("a valid time"),
        node_id: name.to_owned(),
        batch_size: 2,
    }
}

#[tokio::test]
async fn sweep_once_per_day_two_nodes() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(AppOptions {
        demo: false,
        ..AppOptions::default()
    })
    .await?;
    let store = app.store().await?;
    startup_sweep_done(&store).await?;
    let nodes = [node("node-a"), node("node-b")];
    // Clocks go forward on 28 March 2027 and back on 31 October 2027.
    for (from, until) in [
        ("2027-03-26T12:00:00Z", "2027-03-30T12:00:00Z"),
        ("2027-10-29T12:00:00Z", "2027-11-02T12:00:00Z"),
    ] {
        let mut now = utc(from);
        let mut swept = 0;
        while now < utc(until) {
            for settings in &nodes {
                if sweep_if_due(&store, settings, now).await?.is_some() {
                    swept += 1;
                }
            }
            now += Duration::minutes(5);
        }
        assert_eq!(swept, 5, "sweeps from {from} to {until}");
    }
    let rows = retention_sweep::Entity::find().all(&store.db).await?;
    let days: Vec<&str> = rows.iter().map(|row| row.sweep_day.as_str()).collect();
    for day in [
        "2027-03-26",
        "2027-03-27",
        "2027-03-28",
        "2027-03-29",
        "2027-03-30",
        "2027-10-29",
        "2027-10-30",
        "2027-10-31",
        "2027-11-01",
        "2027-11-02",
    ] {
        assert_eq!(
            days.iter().filter(|d| **d == day).count(),
            1,
            "{day} in {days:?}"
        );
    }
    let due = |day: &str| {
        rows.iter()
            .find(|row| row.sweep_day == day)
            .map(|row| (row.due_at, row.started_at))
    };
    // The skipped 01:30 runs at 02:00 BST; the repeated one at its first,
    // in BST; no sweep starts before it is due.
    for (day, expected) in [
        ("2027-03-28", utc("2027-03-28T01:00:00Z")),
        ("2027-10-31", utc("2027-10-31T00:30:00Z")),
    ] {
        let (at, started) = due(day).expect("swept");
        assert_eq!(at, expected, "{day}");
        assert!(started >= at, "{day} started early");
        assert!(started < at + Duration::minutes(5), "{day} started late");
    }
    assert!(rows.iter().all(|row| row.finished_at.is_some()));
    assert!(rows.iter().any(|row| row.node_id == "node-a"));
    Ok(())
}

/// Technical rows collected at `at`, one of each kind, tagged by `tag`.
async fn plant(
    store: &kinlink_store::Store,
    user: uuid::Uuid,
    tag: &str,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    sign_in_failure::Model {
        subject: format!("account:{tag}"),
        window_started_at: at,
        failures: 1,
    }
    .into_active_model()
    .insert(&store.db)
    .await?;
    revoked_session::Model {
        token_hash: format!("token {tag}").into_bytes(),
        user_id: user,
        revoked_at: at,
        expires_at: at + Duration::hours(12),
        last_attempt_at: None,
    }
    .into_active_model()
    .insert(&store.db)
    .await?;
    let email = uuid::Uuid::now_v7();
    email_outbox::Model {
        id: email,
        user_id: user,
        template: "news".to_owned(),
        link_path: String::new(),
        state: "sent".to_owned(),
        attempts: 1,
        unknown_outcomes: 0,
        next_attempt_at: at,
        lease_until: None,
        last_error: None,
        created_at: at,
        finished_at: Some(at),
        invitation_id: None,
    }
    .into_active_model()
    .insert(&store.db)
    .await?;
    unsubscribe_link::Model {
        token_hash: format!("unsubscribe {tag}").into_bytes(),
        user_id: user,
        email_id: email,
        created_at: at,
        expires_at: at + Duration::days(90),
        used_at: None,
    }
    .into_active_model()
    .insert(&store.db)
    .await?;
    key_recovery::Model {
        id: uuid::Uuid::now_v7(),
        user_id: user,
        open_user_id: None,
        reason: format!("ticket {tag}"),
        requested_by: user,
        requested_at: at - Duration::days(1),
        approved_by: None,
        approved_at: None,
        resealed_at: None,
        token_hash: None,
        sealed_private_key: None,
        enrolment_sealed_secret: None,
        link_expires_at: None,
        ended_at: Some(at),
        outcome: Some("cancelled".to_owned()),
        ended_by: Some(user),
    }
    .into_active_model()
    .insert(&store.db)
    .await?;
    Ok(())
}

/// Returns the number of planted rows of each kind whose tag starts with
/// `prefix`.
async fn planted(store: &kinlink_store::Store, prefix: &str) -> anyhow::Result<[usize; 4]> {
    let failures = sign_in_failure::Entity::find()
        .filter(sign_in_failure::Column::Subject.starts_with(format!("account:{prefix}")))
        .all(&store.db)
        .await?
        .len();
    let revoked = revoked_session::Entity::find()
        .all(&store.db)
        .await?
        .iter()
        .filter(|row| {
            row.token_hash
                .starts_with(format!("token {prefix}").as_bytes())
        })
        .count();
    let recoveries = key_recovery::Entity::find()
        .filter(key_recovery::Column::Reason.starts_with(format!("ticket {prefix}")))
        .all(&store.db)
        .await?
        .len();
    let links = unsubscribe_link::Entity::find()
        .all(&store.db)
        .await?
        .iter()
        .filter(|row| {
            row.token_hash
                .starts_with(format!("unsubscribe {prefix}").as_bytes())
        })
        .count();
    Ok([failures, revoked, recoveries, links])
}

#[tokio::test]
async fn technical_data_deleted_after_year() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let store = app.store().await?;
    let user = app.demo_user("birth_parent")?["email"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_default();
    let user = store
        .find_user_by_email(&user)
        .await?
        .expect("the demo user")
        .id;
    startup_sweep_done(&store).await?;
    // Long before the demo data, so the rows planted here are the only
    // ones due: collected before 2020-06-01T01:30Z goes, later stays.
    let now = utc("2021-06-15T01:30:00Z");
    let boundary = utc("2020-06-01T01:30:00Z");
    for n in 0..5 {
        plant(
            &store,
            user,
            &format!("old{n}"),
            boundary - Duration::minutes(1 + n),
        )
        .await?;
    }
    plant(&store, user, "young0", boundary).await?;
    plant(&store, user, "young1", boundary + Duration::days(10)).await?;
    assert_eq!(planted(&store, "old").await?, [5, 5, 5, 5]);

    // A sweep stopped after its first batch leaves whole rows behind.
    let cutoff = kinlink_core::retention::technical_deletion_cutoff(now);
    assert_eq!(cutoff, boundary);
    let first = store.delete_technical_batch(cutoff, 2).await?;
    assert_eq!(first.sign_in_failures, 2);
    assert_eq!(first.emails, 2);
    assert_eq!(planted(&store, "old").await?, [3, 3, 3, 3]);

    // The next sweep finishes the work and keeps what is younger.
    let report = sweep(&store, 2, now).await?;
    assert_eq!(report.technical.sign_in_failures, 3);
    assert_eq!(report.technical.revoked_sessions, 3);
    assert_eq!(report.technical.emails, 3);
    assert_eq!(report.technical.key_recoveries, 3);
    assert_eq!(planted(&store, "old").await?, [0, 0, 0, 0]);
    assert_eq!(planted(&store, "young").await?, [2, 2, 2, 2]);
    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("retention.deleted"))
        .all(&store.db)
        .await?;
    assert_eq!(audited.len(), 1);
    assert_eq!(audited[0].detail["technical_data"]["emails"], 3);

    // Sweeping again changes nothing and audits nothing.
    let again = sweep(&store, 2, now).await?;
    assert_eq!(again.technical.total(), 0);
    assert_eq!(planted(&store, "young").await?, [2, 2, 2, 2]);
    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("retention.deleted"))
        .all(&store.db)
        .await?;
    assert_eq!(audited.len(), 1);
    Ok(())
}
