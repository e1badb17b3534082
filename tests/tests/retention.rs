//! The retention sweep on a real database. Two nodes moving a simulated
//! clock through the days the clocks change sweep each local day once.
//! The technical-data rule deletes what is a year and two weeks old, in
//! batches, and keeps what is younger. Idle community profiles are marked,
//! hidden and deleted, and the plan command prints what a sweep would do,
//! rule by rule, family-finding cases included.

use std::sync::Arc;

use anyhow::Context;
use chrono::{DateTime, Duration, Months, NaiveTime, Utc};
use kinlink_actors::retention::{SweepSettings, sweep, sweep_if_due};
use kinlink_core::UserId;
use kinlink_media::blob::{BlobStore, LocalDisk};
use kinlink_store::entity::{
    audit_event, case, community_image_rendition, community_member, community_profile,
    email_outbox, key_recovery, retention_sweep, revoked_session, sign_in_failure,
    unsubscribe_link, user,
};
use kinlink_tests::erasure::startup_sweep_done;
use kinlink_tests::uploads::community_image;
use kinlink_tests::{AppOptions, Client, TestApp};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
};
use serde_json::{Value, json};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .expect("a valid instant")
}

/// Returns the app's store of encrypted files.
fn blobs(app: &TestApp) -> anyhow::Result<Arc<dyn BlobStore>> {
    Ok(Arc::new(LocalDisk::open(
        &app.data_dir.path().join("media"),
    )?))
}

fn node(name: &str) -> SweepSettings {
    SweepSettings {
        time: NaiveTime::from_hms_opt(1, 30, 0).expect("a valid time"),
        node_id: name.to_owned(),
        batch_size: 2,
        deletion_log: None,
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
    let blobs = blobs(&app)?;
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
                if sweep_if_due(&store, &blobs, None, settings, now)
                    .await?
                    .is_some()
                {
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
    let blobs = blobs(&app)?;
    let report = sweep(&store, &blobs, None, None, 2, now).await?;
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
    assert_eq!(audited[0].detail["rule"], "technical_data");
    assert_eq!(audited[0].detail["emails"], 3);

    // Sweeping again changes nothing and audits nothing.
    let again = sweep(&store, &blobs, None, None, 2, now).await?;
    assert_eq!(again.technical.total(), 0);
    assert_eq!(planted(&store, "young").await?, [2, 2, 2, 2]);
    let audited = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("retention.deleted"))
        .all(&store.db)
        .await?;
    assert_eq!(audited.len(), 1);
    Ok(())
}

/// Returns the fields of a profile as another member is shown them.
async fn seen_fields(viewer: &Client, path: &str) -> anyhow::Result<Value> {
    Ok(viewer.get_json(path).await?["fields"].clone())
}

async fn marked_at(
    store: &kinlink_store::Store,
    user: uuid::Uuid,
) -> anyhow::Result<Option<Option<DateTime<Utc>>>> {
    Ok(community_profile::Entity::find_by_id(user)
        .one(&store.db)
        .await?
        .map(|profile| profile.marked_at))
}

async fn audited(store: &kinlink_store::Store, action: &str) -> anyhow::Result<Vec<Value>> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .filter(audit_event::Column::SubjectKind.eq("community_profile"))
        .all(&store.db)
        .await?
        .into_iter()
        .map(|row| row.detail)
        .collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_profile_marked_then_deleted() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let store = app.store().await?;
    startup_sweep_done(&store).await?;
    let blobs = blobs(&app)?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let me = member.get_json("/api/v1/community/membership").await?;
    let path = format!(
        "/api/v1/community/members/{}",
        me["user_id"].as_str().context("user_id")?
    );
    let picture = community_image(&member, "photo.jpg").await?;
    let picture_id = picture["id"].as_str().context("id")?.to_owned();
    let profile = json!({
        "display_name": "Calm Harbour",
        "family_makeup": { "value": "Two mums and a daughter", "visible": true },
        "legal_status": { "value": "adoption_order", "visible": false },
        "interests": { "value": "Walking", "visible": true },
        "picture": { "value": picture_id, "visible": true },
    });
    let saved = member.put("/api/v1/community/profile", &profile).await?;
    assert_eq!(saved.status(), 200);
    let renditions: Vec<uuid::Uuid> = community_image_rendition::Entity::find()
        .filter(community_image_rendition::Column::ImageId.eq(picture_id.parse::<uuid::Uuid>()?))
        .all(&store.db)
        .await?
        .into_iter()
        .map(|rendition| rendition.id)
        .collect();
    assert_eq!(renditions.len(), 2);
    for id in &renditions {
        assert!(blobs.stored_len(*id)?.is_some(), "rendition {id} stored");
    }

    let account = store
        .find_user_by_email(
            app.demo_user("community_member")?["email"]
                .as_str()
                .context("email")?,
        )
        .await?
        .context("the member's account")?
        .id;
    let member_row = store
        .community_member(UserId(account))
        .await?
        .context("the member")?;
    let three_years =
        |from: DateTime<Utc>| from.checked_add_months(Months::new(36)).unwrap_or(from);
    let due = three_years(member_row.last_interaction_at);
    // The member kept signing in without interacting, so the account rule,
    // which counts sign-ins, leaves the account alone.
    user::Entity::update_many()
        .col_expr(
            user::Column::LastSignInAt,
            Expr::value(Some(three_years(due) + Duration::days(30))),
        )
        .filter(user::Column::Id.eq(account))
        .exec(&store.db)
        .await?;

    // A minute before three years: kept and shown.
    sweep(&store, &blobs, None, None, 2, due - Duration::minutes(1)).await?;
    assert_eq!(marked_at(&store, account).await?, Some(None));
    assert_eq!(
        seen_fields(&moderator, &path).await?["interests"],
        "Walking"
    );

    // At three years: marked, hidden from others with its picture.
    let report = sweep(&store, &blobs, None, None, 2, due).await?;
    assert!(report.profiles.marked >= 1, "{report:?}");
    assert_eq!(marked_at(&store, account).await?, Some(Some(due)));
    assert_eq!(seen_fields(&moderator, &path).await?, json!({}));
    let picture_path = format!("/api/v1/community/images/{picture_id}/thumbnail");
    assert_eq!(moderator.get(&picture_path).await?.status(), 404);
    // Its owner is still shown it, and can keep it by using the community.
    let own = member.get_json("/api/v1/community/profile").await?;
    assert_eq!(own["interests"]["value"], "Walking", "{own}");

    // An interaction a day later lifts the mark at the next sweep.
    store
        .touch_community_member(UserId(account), due + Duration::days(1))
        .await?;
    let report = sweep(&store, &blobs, None, None, 2, due + Duration::days(2)).await?;
    assert_eq!(report.profiles.unmarked, 1);
    assert_eq!(marked_at(&store, account).await?, Some(None));
    assert_eq!(
        seen_fields(&moderator, &path).await?["interests"],
        "Walking"
    );

    // Three years after that interaction it is marked again, kept for 14
    // days, then deleted with the picture's files.
    let again = three_years(due + Duration::days(1));
    sweep(&store, &blobs, None, None, 2, again).await?;
    assert_eq!(marked_at(&store, account).await?, Some(Some(again)));
    let report = sweep(&store, &blobs, None, None, 2, again + Duration::days(13)).await?;
    assert_eq!(report.profiles.deleted, 0);
    assert_eq!(marked_at(&store, account).await?, Some(Some(again)));
    let report = sweep(&store, &blobs, None, None, 2, again + Duration::days(14)).await?;
    assert!(report.profiles.deleted >= 1, "{report:?}");
    assert_eq!(marked_at(&store, account).await?, None);
    for id in &renditions {
        assert!(
            blobs.stored_len(*id)?.is_none(),
            "rendition {id} left on disk"
        );
    }
    let own = member.get_json("/api/v1/community/profile").await?;
    assert_eq!(own["interests"]["value"], "", "{own}");
    assert_eq!(seen_fields(&moderator, &path).await?, json!({}));

    // Every action is on the audit trail with the member's account id.
    let id = json!(account);
    for (action, count) in [
        ("retention.marked", 2),
        ("retention.unmarked", 1),
        ("retention.deleted", 1),
    ] {
        let naming: Vec<Value> = audited(&store, action)
            .await?
            .into_iter()
            .filter(|detail| {
                detail["members"]
                    .as_array()
                    .is_some_and(|m| m.contains(&id))
            })
            .collect();
        assert_eq!(naming.len(), count, "{action}: {naming:?}");
    }
    Ok(())
}

/// Returns the account id of a demo user.
async fn account_of(app: &TestApp, key: &str) -> anyhow::Result<uuid::Uuid> {
    let store = app.store().await?;
    let email = app.demo_user(key)?["email"].as_str().context("email")?;
    Ok(store
        .find_user_by_email(email)
        .await?
        .context("the demo account")?
        .id)
}

/// Runs `kinlink retention plan` against the app's database and returns
/// its standard output.
async fn plan_output(app: &TestApp, date: &str) -> anyhow::Result<String> {
    let output = app
        .command()
        .args(["retention", "plan", "--date", date])
        .output()
        .await?;
    anyhow::ensure!(
        output.status.success(),
        "retention plan failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8(output.stdout)?)
}

#[tokio::test]
async fn plan_prints_each_rule_and_changes_nothing() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let store = app.store().await?;
    startup_sweep_done(&store).await?;
    let user = account_of(&app, "birth_parent").await?;
    // The sweep of 15 June 2021 runs at 01:30 BST, 00:30 UTC. Technical
    // data collected before 1 June 2020, 00:30 UTC, goes.
    let boundary = utc("2020-06-01T00:30:00Z");
    for n in 0..2 {
        plant(
            &store,
            user,
            &format!("old{n}"),
            boundary - Duration::minutes(1 + n),
        )
        .await?;
    }
    plant(&store, user, "young0", boundary).await?;

    // The demo member last interacted in 2017: their profile is marked. A
    // second member's profile was marked more than 14 days before: deleted.
    let member = account_of(&app, "community_member").await?;
    community_member::Entity::update_many()
        .col_expr(
            community_member::Column::LastInteractionAt,
            Expr::value(utc("2017-01-01T00:00:00Z")),
        )
        .filter(community_member::Column::UserId.eq(member))
        .exec(&store.db)
        .await?;
    let second = account_of(&app, "adoptive_parent").await?;
    let joined = utc("2016-01-01T00:00:00Z");
    community_member::Model {
        user_id: second,
        member_id: uuid::Uuid::now_v7(),
        display_name: "Quiet Meadow".to_owned(),
        comparable_name: "quiet meadow".to_owned(),
        state: "active".to_owned(),
        partner_id: None,
        membership_number: None,
        applied_at: joined,
        decided_at: Some(joined),
        decided_by: None,
        verified_how: None,
        decision_reason: None,
        rules_version: None,
        rules_accepted_at: None,
        suspended_until: None,
        last_interaction_at: joined,
    }
    .into_active_model()
    .insert(&store.db)
    .await?;
    community_profile::Model {
        user_id: second,
        family_makeup: String::new(),
        family_makeup_visible: false,
        legal_status: None,
        legal_status_visible: false,
        interests: "Gardening".to_owned(),
        interests_visible: true,
        picture_id: None,
        picture_visible: false,
        updated_at: joined,
        marked_at: Some(utc("2021-05-31T00:30:00Z")),
    }
    .into_active_model()
    .insert(&store.db)
    .await?;

    // Of the demo's cases, one was idle since 2017 (marked), one was
    // marked more than 14 days before (anonymised), and one idle since
    // 2017 is on legal hold (skipped).
    let cases: Vec<uuid::Uuid> = case::Entity::find()
        .order_by_asc(case::Column::Id)
        .all(&store.db)
        .await?
        .into_iter()
        .map(|row| row.id)
        .collect();
    let [idle, marked, held] = [cases[0], cases[1], cases[2]];
    let idle_since = utc("2017-01-01T00:00:00Z");
    case::Entity::update_many()
        .col_expr(case::Column::LastActivityAt, Expr::value(idle_since))
        .filter(case::Column::Id.is_in([idle, held]))
        .exec(&store.db)
        .await?;
    case::Entity::update_many()
        .col_expr(case::Column::HeldAt, Expr::value(idle_since))
        .col_expr(case::Column::HoldReason, Expr::value("Court proceedings"))
        .filter(case::Column::Id.eq(held))
        .exec(&store.db)
        .await?;
    case::Entity::update_many()
        .col_expr(
            case::Column::MarkedAt,
            Expr::value(utc("2021-05-31T00:30:00Z")),
        )
        .col_expr(
            case::Column::MarkReason,
            Expr::value("organisation_request"),
        )
        .filter(case::Column::Id.eq(marked))
        .exec(&store.db)
        .await?;

    // The demo member's account, community-only, last signed in in 2017:
    // it is marked.
    user::Entity::update_many()
        .col_expr(
            user::Column::LastSignInAt,
            Expr::value(Some(utc("2017-01-01T00:00:00Z"))),
        )
        .filter(user::Column::Id.eq(member))
        .exec(&store.db)
        .await?;
    // A user record whose erasure was agreed more than 14 days before is
    // erased; one agreed 5 days before waits.
    let erased = account_of(&app, "second_adoptive_parent").await?;
    let waiting = account_of(&app, "va_practitioner").await?;
    for (id, at) in [
        (erased, "2021-05-31T00:30:00Z"),
        (waiting, "2021-06-10T00:00:00Z"),
    ] {
        user::Entity::update_many()
            .col_expr(user::Column::MarkedAt, Expr::value(Some(utc(at))))
            .col_expr(user::Column::MarkReason, Expr::value("requested"))
            .filter(user::Column::Id.eq(id))
            .exec(&store.db)
            .await?;
    }

    let output = plan_output(&app, "2021-06-15").await?;
    let expected = [
        "Retention plan for the sweep at 2021-06-15T00:30:00Z; nothing is changed.".to_owned(),
        "technical_data: delete 8 rows collected before 2020-06-01T00:30:00Z".to_owned(),
        "  sign_in_failures: 2".to_owned(),
        "  revoked_sessions: 2".to_owned(),
        "  emails: 2".to_owned(),
        "  key_recoveries: 2".to_owned(),
        "social_profile: mark 1, unmark 0, delete 1; idle since 2018-06-15T00:30:00Z or earlier"
            .to_owned(),
        format!("  mark {member}"),
        format!("  delete {second}"),
        "family_finding_case: mark 1, anonymise 1, skip 1 on legal hold".to_owned(),
        format!("  mark {idle} (inactive)"),
        format!("  anonymise {marked}"),
        format!("  held {held}"),
        "user_record: mark 1, erase 1".to_owned(),
        format!("  mark {member} (inactive)"),
        format!("  erase {erased}"),
    ];
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), expected.len(), "{output}");
    for (line, want) in lines.iter().zip(&expected) {
        assert_eq!(line, want);
    }

    // Nothing changed.
    assert_eq!(planted(&store, "old").await?, [2, 2, 2, 2]);
    assert_eq!(marked_at(&store, member).await?, Some(None));
    let unmarked = user::Entity::find_by_id(member)
        .one(&store.db)
        .await?
        .context("the member's account")?;
    assert_eq!(unmarked.marked_at, None);
    assert_eq!(
        marked_at(&store, second).await?,
        Some(Some(utc("2021-05-31T00:30:00Z")))
    );

    // A node that gets to that day's sweep hours late does what the plan
    // showed: the rules apply as of 00:30, so the row collected exactly at
    // the boundary stays.
    let blobs = blobs(&app)?;
    let late = utc("2021-06-15T09:00:00Z");
    let report = sweep_if_due(&store, &blobs, None, &node("late-node"), late)
        .await?
        .context("the day was not swept before")?;
    assert_eq!(report.technical.total(), 8);
    assert_eq!(report.profiles.marked, 1);
    assert_eq!(report.profiles.deleted, 1);
    assert_eq!((report.cases.marked, report.cases.deleted), (1, 1));
    assert_eq!((report.users.marked, report.users.deleted), (1, 1));
    let inactive = user::Entity::find_by_id(member)
        .one(&store.db)
        .await?
        .context("the inactive member")?;
    assert_eq!(
        (inactive.marked_at, inactive.mark_reason.as_deref()),
        (Some(utc("2021-06-15T00:30:00Z")), Some("inactive"))
    );
    let tombstone = user::Entity::find_by_id(erased)
        .one(&store.db)
        .await?
        .context("the erased user's tombstone")?;
    assert_eq!(tombstone.display_name, "Erased account");
    assert_eq!(tombstone.email, format!("erased-{erased}@erased.invalid"));
    assert_eq!(tombstone.erased_at, Some(utc("2021-06-15T00:30:00Z")));
    let untouched = user::Entity::find_by_id(waiting)
        .one(&store.db)
        .await?
        .context("the waiting user")?;
    assert_eq!(untouched.erased_at, None);
    assert!(
        !untouched.email.starts_with("erased-"),
        "{}",
        untouched.email
    );
    let left: Vec<(uuid::Uuid, Option<DateTime<Utc>>)> = case::Entity::find()
        .filter(case::Column::Id.is_in([idle, marked, held]))
        .order_by_asc(case::Column::Id)
        .all(&store.db)
        .await?
        .into_iter()
        .map(|row| (row.id, row.marked_at))
        .collect();
    assert_eq!(
        left,
        [(idle, Some(utc("2021-06-15T00:30:00Z"))), (held, None)]
    );
    assert_eq!(planted(&store, "young").await?, [1, 1, 1, 1]);
    assert_eq!(
        marked_at(&store, member).await?,
        Some(Some(utc("2021-06-15T00:30:00Z")))
    );

    // The plan of a day already swept states it, and what is left.
    let output = plan_output(&app, "2021-06-15").await?;
    let lines: Vec<&str> = output.lines().collect();
    assert!(
        lines[1].starts_with(
            "The sweep of 2021-06-15 ran already, from 2021-06-15T09:00:00Z on node late-node"
        ),
        "{output}"
    );
    assert_eq!(
        lines[2],
        "technical_data: delete 0 rows collected before 2020-06-01T00:30:00Z"
    );
    Ok(())
}

#[tokio::test]
async fn plan_without_database_changes_nothing() -> anyhow::Result<()> {
    let empty = tempfile::tempdir()?;
    let output = tokio::process::Command::new(kinlink_tests::app::binary())
        .args(["retention", "plan", "--date", "2021-06-15"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("KINLINK__DATA_DIR", empty.path())
        .output()
        .await?;
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no SQLite database at"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(empty.path())?.collect();
    assert!(left.is_empty(), "the plan created {left:?}");
    Ok(())
}
