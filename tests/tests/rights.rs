//! Rights requests on the real server: a person submits one from their menu,
//! a worker records a request for someone without an account, and the
//! organisation's manager moves each one on to a completion or a refusal
//! with its legal reason. Withdrawing marketing consent takes effect at
//! once. What people write is sealed at rest, and every step is audited.

use chrono::{Months, Utc};
use kinlink_store::entity::{audit_event, rights_request};
use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

const MINE: &str = "/api/v1/me/rights-requests";
const DESK: &str = "/api/v1/rights-requests";

async fn post(client: &Client, path: &str, body: Value) -> anyhow::Result<(u16, Value)> {
    status_and_json(client.post(path, &body).await?).await
}

fn field(body: &Value) -> Option<&str> {
    body["field"].as_str()
}

async fn audited(store: &kinlink_store::Store, action: &str) -> anyhow::Result<u64> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .count(&store.db)
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn person_asks_and_manager_decides() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let store = app.store().await?;
    let parent = app.sign_in("birth_parent").await?;
    let manager = app.sign_in("la_manager").await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let other_manager = app.sign_in("va_manager").await?;

    // Bad requests name the field and store nothing.
    let (status, body) = post(&parent, MINE, json!({ "kind": "everything" })).await?;
    assert_eq!((status, field(&body)), (400, Some("kind")), "{body}");
    let (status, body) = post(&parent, MINE, json!({ "kind": "correction" })).await?;
    assert_eq!((status, field(&body)), (400, Some("details")), "{body}");
    let (status, body) = post(
        &parent,
        MINE,
        json!({ "kind": "access", "details": "turned\u{202e}round" }),
    )
    .await?;
    assert_eq!((status, field(&body)), (400, Some("details")), "{body}");
    assert_eq!(rights_request::Entity::find().count(&store.db).await?, 0);

    let asked = "Please send me every letter about my daughter";
    let (status, request) =
        post(&parent, MINE, json!({ "kind": "access", "details": asked })).await?;
    assert_eq!(status, 201, "{request}");
    assert_eq!(request["state"], "received");
    assert_eq!(request["details"], asked);
    let due = Utc::now()
        .date_naive()
        .checked_add_months(Months::new(1))
        .map(|day| day.to_string());
    assert_eq!(request["due_on"].as_str().map(str::to_owned), due);
    assert_eq!(request["overdue"], false);
    let id = request["id"].as_str().unwrap_or_default().to_owned();
    let listed = parent.get_json(MINE).await?;
    assert_eq!(listed[0]["id"], id.as_str(), "{listed}");

    // What the person wrote is sealed at rest.
    let row = rights_request::Entity::find()
        .one(&store.db)
        .await?
        .expect("the stored request");
    let sealed = row.sealed_details.unwrap_or_default();
    assert!(!sealed.is_empty());
    assert!(
        !sealed
            .windows(asked.len())
            .any(|part| part == asked.as_bytes())
    );

    // The council's staff see it with its details. Another organisation
    // does not, and no one else may move it.
    for client in [&manager, &practitioner] {
        let desk = client.get_json(DESK).await?;
        assert_eq!(desk[0]["id"], id.as_str(), "{desk}");
        assert_eq!(desk[0]["details"], asked);
    }
    let theirs = other_manager.get_json(DESK).await?;
    assert!(theirs.as_array().is_some_and(Vec::is_empty), "{theirs}");
    assert_eq!(parent.get(DESK).await?.status(), 403);
    let state_path = format!("{DESK}/{id}/state");
    let moving = json!({ "state": "in_progress" });
    assert_eq!(practitioner.post(&state_path, &moving).await?.status(), 403);
    assert_eq!(
        other_manager.post(&state_path, &moving).await?.status(),
        404
    );
    assert_eq!(parent.post(&state_path, &moving).await?.status(), 403);

    let (status, moved) = post(&manager, &state_path, moving.clone()).await?;
    assert_eq!(
        (status, &moved["state"]),
        (200, &json!("in_progress")),
        "{moved}"
    );
    let (status, body) = post(&manager, &state_path, json!({ "state": "refused" })).await?;
    assert_eq!((status, field(&body)), (400, Some("reason")), "{body}");
    let (status, body) = post(&manager, &state_path, json!({ "state": "sent" })).await?;
    assert_eq!((status, field(&body)), (400, Some("state")), "{body}");
    let legal = "The letters are held for the court under an order";
    let (status, refused) = post(
        &manager,
        &state_path,
        json!({ "state": "refused", "reason": legal }),
    )
    .await?;
    assert_eq!(status, 200, "{refused}");
    assert_eq!(refused["state"], "refused");
    assert!(refused["closed_at"].is_string());
    let (status, body) = post(&manager, &state_path, json!({ "state": "completed" })).await?;
    assert_eq!((status, field(&body)), (400, Some("state")), "{body}");

    // The outcome and the reason are shown to the person.
    let listed = parent.get_json(MINE).await?;
    assert_eq!(listed[0]["state"], "refused");
    assert_eq!(listed[0]["reason"], legal);
    assert_eq!(audited(&store, "rights.requested").await?, 1);
    assert_eq!(audited(&store, "rights.in_progress").await?, 1);
    assert_eq!(audited(&store, "rights.refused").await?, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_records_for_someone_without_account() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let manager = app.sign_in("la_manager").await?;
    let parent = app.sign_in("birth_parent").await?;
    // A family member of the agency, not of the council.
    let other = app
        .sign_in("second_adoptive_parent")
        .await?
        .get_json("/api/v1/me")
        .await?["user"]["id"]
        .clone();
    assert!(other.is_string(), "{other}");

    let subject = json!({ "name": "Robin Ellis", "contact": "robin.ellis@adult.example" });
    for (body, wrong) in [
        (json!({ "kind": "access" }), "subject"),
        (
            json!({ "kind": "access", "subject": subject, "subject_user_id": other }),
            "subject",
        ),
        (
            json!({ "kind": "access", "subject": { "name": "Robin", "contact": " " } }),
            "subject",
        ),
        (
            json!({ "kind": "access", "subject_user_id": other }),
            "subject_user_id",
        ),
    ] {
        let (status, answer) = post(&practitioner, DESK, body).await?;
        assert_eq!((status, field(&answer)), (400, Some(wrong)), "{answer}");
    }
    assert_eq!(
        parent
            .post(DESK, &json!({ "kind": "access", "subject": subject }))
            .await?
            .status(),
        403
    );

    let (status, recorded) = post(
        &practitioner,
        DESK,
        json!({ "kind": "access", "subject": subject, "details": "Adopted in 1998" }),
    )
    .await?;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["subject"]["name"], "Robin Ellis");
    assert_eq!(recorded["subject_user_id"], Value::Null);
    let id = recorded["id"].as_str().unwrap_or_default().to_owned();
    let desk = manager.get_json(DESK).await?;
    assert_eq!(desk[0]["subject"]["contact"], "robin.ellis@adult.example");
    let (status, done) = post(
        &manager,
        &format!("{DESK}/{id}/state"),
        json!({ "state": "completed" }),
    )
    .await?;
    assert_eq!(
        (status, &done["state"]),
        (200, &json!("completed")),
        "{done}"
    );
    // A request about a person without an account is on no one's own list.
    let own = parent.get_json(MINE).await?;
    assert!(own.as_array().is_some_and(Vec::is_empty), "{own}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn marketing_withdrawn_at_once() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let preferences = "/api/v1/me/notifications";
    let mut settings = adoptive.get_json(preferences).await?;
    settings["marketing"] = json!(true);
    assert_eq!(adoptive.put(preferences, &settings).await?.status(), 200);
    assert_eq!(adoptive.get_json(preferences).await?["marketing"], true);

    let (status, request) = post(&adoptive, MINE, json!({ "kind": "marketing" })).await?;
    assert_eq!(status, 201, "{request}");
    assert_eq!(request["state"], "completed");
    assert_eq!(adoptive.get_json(preferences).await?["marketing"], false);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_handles_people_without_placing_organisation() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let member = app.sign_in("community_member").await?;
    let admin = app.sign_in("platform_admin").await?;
    let manager = app.sign_in("la_manager").await?;

    // The value of a wrong kind is not repeated in the message.
    let (status, body) = post(&member, MINE, json!({ "kind": "\u{202e}all" })).await?;
    assert_eq!((status, field(&body)), (400, Some("kind")), "{body}");
    assert!(!body.to_string().contains('\u{202e}'), "{body}");

    for client in [&member, &admin] {
        let (status, request) = post(client, MINE, json!({ "kind": "erasure" })).await?;
        assert_eq!(status, 201, "{request}");
        assert_eq!(request["organisation_id"], Value::Null, "{request}");
    }
    let desk = admin.get_json(DESK).await?;
    assert_eq!(desk.as_array().map(Vec::len), Some(2), "{desk}");
    let council = manager.get_json(DESK).await?;
    assert!(council.as_array().is_some_and(Vec::is_empty), "{council}");

    let id = desk[0]["id"].as_str().unwrap_or_default().to_owned();
    let state_path = format!("{DESK}/{id}/state");
    assert_eq!(
        manager
            .post(&state_path, &json!({ "state": "in_progress" }))
            .await?
            .status(),
        404
    );
    // A reason given with another move is ignored, not checked.
    let (status, moved) = post(
        &admin,
        &state_path,
        json!({ "state": "completed", "reason": "x".repeat(600) }),
    )
    .await?;
    assert_eq!((status, &moved["reason"]), (200, &Value::Null), "{moved}");
    Ok(())
}
