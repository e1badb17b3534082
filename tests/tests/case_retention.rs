//! The family-finding case rule on the real server. An idle case with a
//! photo and a discussion is visible, then marked and hidden everywhere,
//! then anonymised with its files gone from disk. A manager's legal hold
//! keeps a case from erasure and from the rule. A manager can also ask
//! for a case to go, and keep it again.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use kinlink_actors::retention::sweep;
use kinlink_media::blob::{BlobStore, LocalDisk};
use kinlink_store::entity::{
    anonymous_case, audit_event, case, case_media_rendition, conversation, interest, message,
};
use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::test_media;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .expect("a valid instant")
}

/// Adds a photo to a case and waits until it is ready; returns its id.
async fn photo(client: &Client, case: &str) -> anyhow::Result<String> {
    let bytes = std::fs::read(test_media::path("photo.jpg")?)?;
    let response = client
        .post_bytes(&format!("/api/v1/cases/{case}/media?slot=photo"), bytes)
        .await?;
    let (status, body) = status_and_json(response).await?;
    anyhow::ensure!(status == 202, "photo upload: {status} {body}");
    let id = body["id"].as_str().context("media id")?.to_owned();
    for _ in 0..240 {
        let list = client
            .get_json(&format!("/api/v1/cases/{case}/media"))
            .await?;
        let ready = list
            .as_array()
            .into_iter()
            .flatten()
            .any(|item| item["id"] == id.as_str() && item["status"] == "ready");
        if ready {
            return Ok(id);
        }
        tokio::time::sleep(StdDuration::from_millis(250)).await;
    }
    anyhow::bail!("the photo was not ready within a minute")
}

/// Opens an interest of `family` in `child` and returns the discussion's id.
async fn discussion(client: &Client, child: &str, family: &str) -> anyhow::Result<String> {
    let response = client
        .post(
            &format!("/api/v1/cases/{child}/interests"),
            &json!({ "family_case_id": family }),
        )
        .await?;
    let (status, body) = status_and_json(response).await?;
    anyhow::ensure!(status == 201, "interest: {status} {body}");
    Ok(body["conversation_id"]
        .as_str()
        .context("discussion id")?
        .to_owned())
}

/// Sets a case's last activity.
async fn idle_since(
    store: &kinlink_store::Store,
    id: uuid::Uuid,
    at: DateTime<Utc>,
) -> anyhow::Result<()> {
    case::Entity::update_many()
        .col_expr(case::Column::LastActivityAt, Expr::value(at))
        .filter(case::Column::Id.eq(id))
        .exec(&store.db)
        .await?;
    Ok(())
}

async fn status(client: &Client, path: &str) -> anyhow::Result<u16> {
    Ok(client.get(path).await?.status().as_u16())
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["id"].as_str().map(str::to_owned))
        .collect()
}

/// Returns the ids of the cases on each page a worker may see them on:
/// their organisation's list, the search, the matches of `family`, and
/// each interest's two sides.
async fn listed_cases(client: &Client, own: bool, family: &str) -> anyhow::Result<Vec<String>> {
    let mut seen = Vec::new();
    if own {
        seen.extend(ids(&client.get_json("/api/v1/cases?kind=child").await?));
    } else {
        let search = client.get_json("/api/v1/search/children").await?;
        seen.extend(ids(&search["results"]));
        let matches = client
            .get_json(&format!("/api/v1/cases/{family}/matches"))
            .await?;
        for item in matches.as_array().into_iter().flatten() {
            seen.extend(item["case"]["id"].as_str().map(str::to_owned));
        }
    }
    for item in client
        .get_json("/api/v1/interests")
        .await?
        .as_array()
        .into_iter()
        .flatten()
    {
        seen.extend(item["child"]["id"].as_str().map(str::to_owned));
    }
    Ok(seen)
}

async fn audited(
    store: &kinlink_store::Store,
    case: uuid::Uuid,
    action: &str,
) -> anyhow::Result<u64> {
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .filter(audit_event::Column::SubjectId.eq(case))
        .count(&store.db)
        .await?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_case_marked_then_anonymised() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let store = app.store().await?;
    let blobs: Arc<dyn BlobStore> = Arc::new(LocalDisk::open(&app.data_dir.path().join("media"))?);
    let council = app.sign_in("la_practitioner").await?;
    let manager = app.sign_in("la_manager").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let adeyemi = agency.own_case("family", "The Adeyemi family").await?;
    let case_id: uuid::Uuid = siblings.parse()?;

    let photo_id = photo(&council, &siblings).await?;
    let talk = discussion(&agency, &siblings, &adeyemi).await?;
    let mut socket = council.socket().await?;
    socket.subscribe(&talk, 0).await?;
    socket.sync().await?;
    socket
        .say(&talk, "We would like to meet the family in May")
        .await?;
    let mut stored: Vec<uuid::Uuid> = case_media_rendition::Entity::find()
        .filter(case_media_rendition::Column::MediaId.eq(photo_id.parse::<uuid::Uuid>()?))
        .all(&store.db)
        .await?
        .into_iter()
        .map(|rendition| rendition.id)
        .collect();
    assert_eq!(stored.len(), 2, "the photo and its thumbnail");
    for id in &stored {
        assert!(blobs.stored_len(*id)?.is_some(), "rendition {id} stored");
    }
    // The upload itself, if processing left it behind.
    stored.push(photo_id.parse()?);

    // The council's retention period is the default three years.
    let last_activity = utc("2020-01-01T00:00:00Z");
    idle_since(&store, case_id, last_activity).await?;
    let due = last_activity + Duration::days(1095);
    let anonymous_before = anonymous_case::Entity::find().count(&store.db).await?;

    // A minute before: visible everywhere.
    let report = sweep(&store, &blobs, None, None, 10, due - Duration::minutes(1)).await?;
    assert_eq!(report.cases.marked, 0);
    assert_eq!(
        status(&council, &format!("/api/v1/cases/{siblings}")).await?,
        200
    );
    assert!(
        listed_cases(&council, true, &adeyemi)
            .await?
            .contains(&siblings)
    );
    assert!(
        listed_cases(&agency, false, &adeyemi)
            .await?
            .contains(&siblings)
    );

    // At three years: marked and hidden everywhere.
    let report = sweep(&store, &blobs, None, None, 10, due).await?;
    assert_eq!(report.cases.marked, 1);
    assert_eq!(audited(&store, case_id, "retention.marked").await?, 1);
    let media_path = format!("/api/v1/cases/{siblings}/media/{photo_id}/main");
    for client in [&council, &manager, &agency] {
        assert_eq!(
            status(client, &format!("/api/v1/cases/{siblings}")).await?,
            404
        );
        assert_eq!(status(client, &media_path).await?, 404);
        assert_eq!(
            status(client, &format!("/api/v1/cases/{siblings}/media")).await?,
            404
        );
    }
    assert!(
        !listed_cases(&council, true, &adeyemi)
            .await?
            .contains(&siblings)
    );
    assert!(
        !listed_cases(&agency, false, &adeyemi)
            .await?
            .contains(&siblings)
    );
    for client in [&council, &agency] {
        let messages = format!("/api/v1/conversations/{talk}/messages");
        assert_eq!(status(client, &messages).await?, 404);
        let conversations = client.get_json("/api/v1/conversations").await?;
        assert!(!ids(&conversations).contains(&talk), "{conversations}");
    }
    // A new socket cannot follow the discussion.
    let mut late = agency.socket().await?;
    late.subscribe(&talk, 0).await?;
    let refused = late.expect("error").await?;
    assert_eq!(refused["code"], "resource.not_found", "{refused}");

    // The council's managers see it in their list of marked cases.
    let marked = manager.get_json("/api/v1/cases/marked").await?;
    assert_eq!(ids(&marked), vec![siblings.clone()], "{marked}");
    assert_eq!(marked[0]["reason"], "inactive");
    let final_step: DateTime<Utc> = marked[0]["final_step_at"]
        .as_str()
        .context("final_step_at")?
        .parse()?;
    assert_eq!(final_step, due + Duration::days(14));
    assert_eq!(status(&council, "/api/v1/cases/marked").await?, 403);
    assert_eq!(status(&agency, "/api/v1/cases/marked").await?, 403);

    // A day before the final step the case is whole; at 14 days it is
    // anonymised, with its photo, interest and discussion deleted.
    let report = sweep(
        &store,
        &blobs,
        None,
        None,
        10,
        final_step - Duration::days(1),
    )
    .await?;
    assert_eq!(report.cases.deleted, 0);
    assert!(
        case::Entity::find_by_id(case_id)
            .one(&store.db)
            .await?
            .is_some()
    );
    let report = sweep(&store, &blobs, None, None, 10, final_step).await?;
    assert_eq!(report.cases.deleted, 1);
    assert!(
        case::Entity::find_by_id(case_id)
            .one(&store.db)
            .await?
            .is_none()
    );
    for id in &stored {
        assert!(blobs.stored_len(*id)?.is_none(), "blob {id} left on disk");
    }
    let talk_id: uuid::Uuid = talk.parse()?;
    assert!(
        conversation::Entity::find_by_id(talk_id)
            .one(&store.db)
            .await?
            .is_none()
    );
    let messages = message::Entity::find()
        .filter(message::Column::ConversationId.eq(talk_id))
        .count(&store.db)
        .await?;
    assert_eq!(messages, 0);
    let interests = interest::Entity::find()
        .filter(interest::Column::ChildCaseId.eq(case_id))
        .count(&store.db)
        .await?;
    assert_eq!(interests, 0);
    assert_eq!(audited(&store, case_id, "retention.anonymised").await?, 1);
    // What is left is one anonymous record. With fewer than five records
    // sharing its fields, it keeps none of them.
    let records = anonymous_case::Entity::find().all(&store.db).await?;
    assert_eq!(records.len() as u64, anonymous_before + 1);
    assert!(
        records.iter().all(|record| record.region.is_none()),
        "{records:?}"
    );
    // The family's case stays, without the interest.
    assert_eq!(
        status(&agency, &format!("/api/v1/cases/{adeyemi}")).await?,
        200
    );
    assert!(ids(&agency.get_json("/api/v1/interests").await?).is_empty());
    assert!(
        manager
            .get_json("/api/v1/cases/marked")
            .await?
            .as_array()
            .is_some_and(Vec::is_empty)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legal_hold_refuses_erasure() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let store = app.store().await?;
    let blobs: Arc<dyn BlobStore> = Arc::new(LocalDisk::open(&app.data_dir.path().join("media"))?);
    let council = app.sign_in("la_practitioner").await?;
    let manager = app.sign_in("la_manager").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let other_manager = app.sign_in("va_manager").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let adeyemi = agency.own_case("family", "The Adeyemi family").await?;
    let case_id: uuid::Uuid = siblings.parse()?;
    let talk = discussion(&agency, &siblings, &adeyemi).await?;
    let case_path = format!("/api/v1/cases/{siblings}");
    let hold_path = format!("{case_path}/hold");

    // Only the owning organisation's managers hold or erase.
    for client in [&council, &agency] {
        let response = client.put(&hold_path, &json!({ "reason": "x" })).await?;
        assert_eq!(response.status(), 403);
        assert_eq!(client.delete(&case_path).await?.status(), 403);
    }
    let response = other_manager
        .put(&hold_path, &json!({ "reason": "x" }))
        .await?;
    assert_eq!(response.status(), 404);
    assert_eq!(other_manager.delete(&case_path).await?.status(), 404);

    for (reason, field_problem) in [
        (json!(""), "is required"),
        (json!("x".repeat(501)), "over the limit of 500"),
        (json!("turned\u{202e}round"), "control character U+202E"),
    ] {
        let response = manager
            .put(&hold_path, &json!({ "reason": reason }))
            .await?;
        let (status, body) = status_and_json(response).await?;
        assert_eq!(
            (status, body["field"].as_str()),
            (400, Some("reason")),
            "{body}"
        );
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|m| m.contains(field_problem)),
            "{body}"
        );
    }
    let reason = "Family court proceedings, case FD27P00114";
    let response = manager
        .put(&hold_path, &json!({ "reason": reason }))
        .await?;
    let (status, held) = status_and_json(response).await?;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["reason"], reason);
    let again = manager
        .put(&hold_path, &json!({ "reason": "another" }))
        .await?;
    assert_eq!(again.status(), 409);
    let own_view = council.get_json(&case_path).await?;
    assert_eq!(own_view["legal_hold"]["reason"], reason, "{own_view}");
    let their_view = agency.get_json(&case_path).await?;
    assert!(their_view.get("legal_hold").is_none(), "{their_view}");

    // Erasure is refused with the hold's reason, and the case stays whole.
    let (status, refused) = status_and_json(manager.delete(&case_path).await?).await?;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "case.legal_hold");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|message| message.contains(reason)),
        "{refused}"
    );
    assert_eq!(audited(&store, case_id, "case.erasure_refused").await?, 1);
    assert_eq!(council.get(&case_path).await?.status(), 200);

    // The rule skips a held case however long it was idle.
    idle_since(&store, case_id, utc("2019-01-01T00:00:00Z")).await?;
    let report = sweep(&store, &blobs, None, None, 10, Utc::now()).await?;
    assert_eq!(report.cases.marked, 0);
    assert_eq!(council.get(&case_path).await?.status(), 200);

    // With the hold lifted, the manager's request marks the case at once.
    // A socket following its discussion receives `removed`, and the case
    // is hidden.
    assert_eq!(manager.delete(&hold_path).await?.status(), 204);
    assert_eq!(manager.delete(&hold_path).await?.status(), 409);
    let mut socket = agency.socket().await?;
    socket.subscribe(&talk, 0).await?;
    socket.sync().await?;
    let (status, marked) = status_and_json(manager.delete(&case_path).await?).await?;
    assert_eq!(status, 200, "{marked}");
    assert_eq!(marked["reason"], "organisation_request");
    let removed = socket.expect("removed").await?;
    assert_eq!(removed["conversation_id"], talk.as_str());
    assert_eq!(council.get(&case_path).await?.status(), 404);
    assert_eq!(
        agency
            .get(&format!("/api/v1/conversations/{talk}/messages"))
            .await?
            .status(),
        404
    );

    // Keeping it brings the case and its discussion back.
    assert_eq!(
        manager
            .post(&format!("{case_path}/keep"), &json!({}))
            .await?
            .status(),
        204
    );
    assert_eq!(council.get(&case_path).await?.status(), 200);
    assert_eq!(
        agency
            .get(&format!("/api/v1/conversations/{talk}/messages"))
            .await?
            .status(),
        200
    );
    assert_eq!(
        manager
            .post(&format!("{case_path}/keep"), &json!({}))
            .await?
            .status(),
        409
    );

    // A hold on a marked case lifts the mark.
    assert_eq!(manager.delete(&case_path).await?.status(), 200);
    let response = manager
        .put(&hold_path, &json!({ "reason": reason }))
        .await?;
    assert_eq!(response.status(), 200);
    assert_eq!(council.get(&case_path).await?.status(), 200);
    assert_eq!(audited(&store, case_id, "retention.kept").await?, 1);
    assert_eq!(audited(&store, case_id, "case.held").await?, 2);
    Ok(())
}
