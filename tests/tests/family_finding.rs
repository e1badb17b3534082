//! Family finding through the real server: organisations and licences,
//! child and family cases, publication, search, explained matches and
//! profile view counts.

use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use serde_json::{Value, json};

fn titles(page: &Value) -> Vec<String> {
    page["results"]
        .as_array()
        .map(|results| {
            results
                .iter()
                .filter_map(|case| case["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn child_profile(names: &[(&str, u8)]) -> Value {
    json!({
        "kind": "child",
        "profile": {
            "children": names
                .iter()
                .map(|(name, age)| json!({ "first_name": name, "age_years": age }))
                .collect::<Vec<_>>(),
            "description": "Loves the seaside.",
            "legal_status": "placement_order",
            "plan": "adoption",
            "region": "london",
            "needs": { "health": "none", "development": "low", "history": "moderate" },
            "ethnicity": "asian",
            "religion": "Hindu"
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_published_cases_only() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let agency = app.sign_in("va_practitioner").await?;
    let council = app.sign_in("la_practitioner").await?;

    let found = agency
        .get_json("/api/v1/search/children?min_age=3&max_age=8&min_group_size=2&region=yorkshire_and_humber")
        .await?;
    assert_eq!(titles(&found), ["Maisie, Jack"], "{found}");
    assert_eq!(found["total"], 1);

    let everything = agency.get_json("/api/v1/search/children").await?;
    assert!(
        !titles(&everything).contains(&"Tyler".to_owned()),
        "a draft was found: {everything}"
    );

    let families = council.get_json("/api/v1/search/families").await?;
    let mut names = titles(&families);
    names.sort();
    assert_eq!(names, ["The Adeyemi family", "The Price family"]);

    let fostering = council
        .get_json("/api/v1/search/families?plan=long_term_fostering&age=10")
        .await?;
    assert_eq!(titles(&fostering), ["The Price family"]);

    let paged = council
        .get_json("/api/v1/search/families?page=2&page_size=1")
        .await?;
    assert_eq!(paged["total"], 2);
    assert_eq!(paged["page"], 2);
    assert_eq!(titles(&paged).len(), 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_rejects_parameters_out_of_range() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let agency = app.sign_in("va_practitioner").await?;
    for (query, field) in [
        ("min_age=3&min_age=-1", "min_age"),
        ("min_age=-1", "min_age"),
        ("max_age=18", "max_age"),
        ("page_size=10000", "page_size"),
        ("page=0", "page"),
        ("region=atlantis", "region"),
        ("max_need_health=extreme", "max_need_health"),
        ("min_age=9&max_age=3", "min_age"),
        ("colour=blue", "colour"),
    ] {
        let response = agency
            .get(&format!("/api/v1/search/children?{query}"))
            .await?;
        let (status, body) = status_and_json(response).await?;
        assert_eq!(status, 400, "{query}: {body}");
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_organisations_case_is_not_found() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let draft = council.own_case("child", "Tyler").await?;
    let published = council.own_case("child", "Maisie, Jack").await?;
    let missing = uuid::Uuid::now_v7().to_string();

    let edit = child_profile(&[("Tyler", 9)]);
    let publication = json!({ "visibility": "all", "anonymous": false });
    for id in [&draft, &missing] {
        let read = agency.get(&format!("/api/v1/cases/{id}")).await?;
        assert_eq!(read.status(), 404, "read {id}");
        let write = agency.put(&format!("/api/v1/cases/{id}"), &edit).await?;
        assert_eq!(write.status(), 404, "edit {id}");
        let publish = agency
            .put(&format!("/api/v1/cases/{id}/publication"), &publication)
            .await?;
        assert_eq!(publish.status(), 404, "publish {id}");
        let matches = agency.get(&format!("/api/v1/cases/{id}/matches")).await?;
        assert_eq!(matches.status(), 404, "matches {id}");
    }

    let read = agency.get(&format!("/api/v1/cases/{published}")).await?;
    let (status, body) = status_and_json(read).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["own"], false);
    assert!(body.get("shared_with").is_none(), "{body}");
    let write = agency
        .put(&format!("/api/v1/cases/{published}"), &edit)
        .await?;
    assert_eq!(write.status(), 403);
    let matches = agency
        .get(&format!("/api/v1/cases/{published}/matches"))
        .await?;
    assert_eq!(matches.status(), 403);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publication_rejects_bad_requests() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let admin = app.sign_in("platform_admin").await?;
    let draft = council.own_case("child", "Tyler").await?;
    let organisations = admin.get_json("/api/v1/admin/organisations").await?;
    let own = organisations
        .as_array()
        .and_then(|list| list.iter().find(|org| org["name"] == "Northshire Council"))
        .and_then(|org| org["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let path = format!("/api/v1/cases/{draft}/publication");
    let unknown = uuid::Uuid::now_v7().to_string();
    for (body, field) in [
        (
            json!({ "visibility": "named", "organisations": [], "anonymous": false }),
            "organisations",
        ),
        (
            json!({ "visibility": "named", "anonymous": false }),
            "organisations",
        ),
        (
            json!({ "visibility": "all", "organisations": [unknown], "anonymous": false }),
            "organisations",
        ),
        (
            json!({ "visibility": "named", "organisations": [unknown], "anonymous": false }),
            "organisations",
        ),
        (
            json!({ "visibility": "named", "organisations": [own], "anonymous": false }),
            "organisations",
        ),
        (
            json!({ "visibility": "named", "organisations": ["not-an-id"], "anonymous": false }),
            "organisations",
        ),
        (
            json!({ "visibility": "everyone", "anonymous": false }),
            "visibility",
        ),
        (
            json!({ "visibility": "all", "anonymous": false, "organisation_id": unknown }),
            "organisation_id",
        ),
    ] {
        let response = council.put(&path, &body).await?;
        let (status, answer) = status_and_json(response).await?;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }
    let moved = council
        .put(
            &format!("/api/v1/cases/{draft}"),
            &json!({ "kind": "child", "profile": child_profile(&[("Tyler", 9)])["profile"], "organisation_id": unknown }),
        )
        .await?;
    assert_eq!(moved.status(), 400);

    let still = council.get_json(&format!("/api/v1/cases/{draft}")).await?;
    assert_eq!(still["visibility"], "draft", "{still}");
    assert_eq!(still["organisation"]["id"], own.as_str());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matches_explain_each_criterion() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let matches = council
        .get_json(&format!("/api/v1/cases/{siblings}/matches"))
        .await?;
    let list = matches.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2, "{matches}");
    let best = &list[0];
    assert_eq!(best["case"]["title"], "The Adeyemi family");
    assert_eq!(best["score"], 100);
    let criteria = best["criteria"].as_array().cloned().unwrap_or_default();
    assert_eq!(criteria.len(), 7);
    assert!(criteria.iter().all(|criterion| criterion["met"] == true));

    let second = &list[1];
    assert_eq!(second["case"]["title"], "The Price family");
    let unmet: Vec<&str> = second["criteria"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|criterion| criterion["met"] == false)
                .filter_map(|criterion| criterion["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(unmet, ["plan", "region"], "{second}");
    assert!(second["score"].as_u64() < best["score"].as_u64());

    let agency = app.sign_in("va_practitioner").await?;
    let adeyemi = agency.own_case("family", "The Adeyemi family").await?;
    let reverse = agency
        .get_json(&format!("/api/v1/cases/{adeyemi}/matches"))
        .await?;
    assert_eq!(reverse[0]["case"]["title"], "Maisie, Jack", "{reverse}");
    assert_eq!(reverse[0]["score"], 100);

    // One pair is explained the same way on request, in either direction.
    let price = second["case"]["id"].as_str().unwrap_or_default();
    let pair = council
        .get_json(&format!("/api/v1/cases/{siblings}/matches/{price}"))
        .await?;
    assert_eq!(pair["score"], second["score"], "{pair}");
    assert_eq!(pair["criteria"], second["criteria"]);
    let pair = agency
        .get_json(&format!("/api/v1/cases/{adeyemi}/matches/{siblings}"))
        .await?;
    assert_eq!(pair["case"]["title"], "Maisie, Jack");
    assert_eq!(pair["score"], 100);
    let (status, body) = status_and_json(
        council
            .get(&format!("/api/v1/cases/{siblings}/matches/{siblings}"))
            .await?,
    )
    .await?;
    assert_eq!((status, body["field"].clone()), (400, json!("other_id")));
    let tyler = council.own_case("child", "Tyler").await?;
    let hidden = agency
        .get(&format!("/api/v1/cases/{adeyemi}/matches/{tyler}"))
        .await?;
    assert_eq!(hidden.status(), 404);
    let not_own = agency
        .get(&format!("/api/v1/cases/{siblings}/matches/{adeyemi}"))
        .await?;
    assert_eq!(not_own.status(), 403);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_case_hides_names_and_counts_views() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let directory = council.get_json("/api/v1/organisations").await?;
    let harbour = directory
        .as_array()
        .and_then(|list| {
            list.iter()
                .find(|org| org["name"] == "Harbour Adoption Agency")
        })
        .and_then(|org| org["id"].as_str())
        .unwrap_or_default()
        .to_owned();

    let created = council
        .post(
            "/api/v1/cases",
            &child_profile(&[("Priyanka", 5), ("Dev", 2)]),
        )
        .await?;
    let (status, case) = status_and_json(created).await?;
    assert_eq!(status, 201, "{case}");
    assert_eq!(case["visibility"], "draft");
    let id = case["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        agency.get(&format!("/api/v1/cases/{id}")).await?.status(),
        404
    );

    let publish = council
        .put(
            &format!("/api/v1/cases/{id}/publication"),
            &json!({ "visibility": "named", "organisations": [harbour], "anonymous": true }),
        )
        .await?;
    let (status, body) = status_and_json(publish).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["shared_with"][0]["name"], "Harbour Adoption Agency");

    let seen = agency.get_json(&format!("/api/v1/cases/{id}")).await?;
    assert_eq!(seen["names_hidden"], true);
    assert_eq!(seen["profile"]["children"][0]["first_name"], "");
    assert_eq!(seen["profile"]["description"], "Loves the seaside.");
    assert!(!seen.to_string().contains("Priyanka"), "{seen}");
    let search = agency
        .get_json("/api/v1/search/children?region=london")
        .await?;
    assert_eq!(titles(&search), [""], "{search}");
    agency.get_json(&format!("/api/v1/cases/{id}")).await?;

    let own = council.get_json(&format!("/api/v1/cases/{id}")).await?;
    assert_eq!(own["profile"]["children"][0]["first_name"], "Priyanka");

    let views = council.get_json("/api/v1/statistics/profile-views").await?;
    let row = views
        .as_array()
        .and_then(|rows| rows.iter().find(|row| row["case"]["id"] == id.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(row["views"], 2, "{views}");

    let store = app.store().await?;
    let stored = store
        .case(id.parse()?)
        .await?
        .ok_or_else(|| anyhow::anyhow!("case not stored"))?;
    let bytes = String::from_utf8_lossy(&stored.sealed_profile).into_owned();
    assert!(!bytes.contains("Priyanka"));
    assert!(!bytes.contains("seaside"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_manages_organisations_and_licences() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let admin = app.sign_in("platform_admin").await?;
    let manager = app.sign_in("la_manager").await?;
    let agency = app.sign_in("va_practitioner").await?;

    let refused = manager.get("/api/v1/admin/organisations").await?;
    assert_eq!(refused.status(), 403);
    let operator_reads = admin.get("/api/v1/search/children").await?;
    assert_eq!(operator_reads.status(), 403);

    let created = admin
        .post(
            "/api/v1/admin/organisations",
            &json!({
                "name": "Riverside Fostering",
                "kind": "independent_fostering_provider",
                "licence_starts_at": "2026-01-01T00:00:00Z",
                "licence_expires_at": "2029-01-01T00:00:00Z"
            }),
        )
        .await?;
    let (status, body) = status_and_json(created).await?;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["retention_days"], 1095);
    assert_eq!(body["licence"], "active");

    for (body, field) in [
        (
            json!({ "name": "riverside   FOSTERING", "kind": "local_authority" }),
            "name",
        ),
        (json!({ "name": "X", "kind": "charity" }), "kind"),
        (json!({ "name": " ", "kind": "local_authority" }), "name"),
        (
            json!({ "name": "X", "kind": "local_authority", "retention_days": 30 }),
            "retention_days",
        ),
        (
            json!({ "name": "X", "kind": "local_authority",
                    "licence_starts_at": "2027-01-01T00:00:00Z",
                    "licence_expires_at": "2026-01-01T00:00:00Z" }),
            "licence_expires_at",
        ),
    ] {
        let response = admin.post("/api/v1/admin/organisations", &body).await?;
        let (status, answer) = status_and_json(response).await?;
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["field"], field, "{body}: {answer}");
    }

    // The council's licence expired a month ago: read-only.
    let organisations = admin.get_json("/api/v1/admin/organisations").await?;
    let council = organisations
        .as_array()
        .and_then(|list| list.iter().find(|org| org["name"] == "Northshire Council"))
        .cloned()
        .unwrap_or_default();
    let expired = (chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339();
    let changed = admin
        .put(
            &format!(
                "/api/v1/admin/organisations/{}",
                council["id"].as_str().unwrap_or_default()
            ),
            &json!({
                "name": "Northshire Council",
                "licence_starts_at": "2025-01-01T00:00:00Z",
                "licence_expires_at": expired
            }),
        )
        .await?;
    let (status, body) = status_and_json(changed).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["licence"], "read_only");

    let own = manager.get_json("/api/v1/cases?kind=child").await?;
    assert_eq!(own.as_array().map(Vec::len), Some(2), "{own}");
    let create = manager
        .post("/api/v1/cases", &child_profile(&[("Zara", 3)]))
        .await?;
    let (status, body) = status_and_json(create).await?;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["code"], "organisation.read_only");
    let siblings = manager.own_case("child", "Maisie, Jack").await?;
    let republish = manager
        .put(
            &format!("/api/v1/cases/{siblings}/publication"),
            &json!({ "visibility": "draft", "anonymous": false }),
        )
        .await?;
    assert_eq!(republish.status(), 403);

    let search = agency.get_json("/api/v1/search/children").await?;
    assert_eq!(
        search["total"], 0,
        "an expired organisation's case is listed: {search}"
    );
    let hidden = agency.get(&format!("/api/v1/cases/{siblings}")).await?;
    assert_eq!(hidden.status(), 404);
    Ok(())
}

async fn express(client: &Client, child: &str, family: &str) -> anyhow::Result<(u16, Value)> {
    let response = client
        .post(
            &format!("/api/v1/cases/{child}/interests"),
            &json!({ "family_case_id": family }),
        )
        .await?;
    status_and_json(response).await
}

async fn move_interest(
    client: &Client,
    interest: &str,
    body: Value,
) -> anyhow::Result<(u16, Value)> {
    let response = client
        .post(&format!("/api/v1/interests/{interest}/state"), &body)
        .await?;
    status_and_json(response).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interest_opens_discussion_between_organisations() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let outsider = app.sign_in("la_manager").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let adeyemi = agency.own_case("family", "The Adeyemi family").await?;

    let hidden = council
        .put(
            &format!("/api/v1/cases/{siblings}/publication"),
            &json!({ "visibility": "all", "anonymous": true }),
        )
        .await?;
    assert_eq!(hidden.status(), 200);
    let before = agency
        .get_json(&format!("/api/v1/cases/{siblings}"))
        .await?;
    assert_eq!(before["names_hidden"], true);

    let (status, interest) = express(&agency, &siblings, &adeyemi).await?;
    assert_eq!(status, 201, "{interest}");
    assert_eq!(interest["state"], "open");
    assert_eq!(interest["child"]["title"], "Maisie, Jack");
    let id = interest["id"].as_str().unwrap_or_default().to_owned();
    let discussion = interest["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let after = agency
        .get_json(&format!("/api/v1/cases/{siblings}"))
        .await?;
    assert_eq!(after["names_hidden"], false, "{after}");
    assert_eq!(after["profile"]["children"][0]["first_name"], "Maisie");

    for client in [&council, &agency] {
        let history = client
            .get(&format!("/api/v1/conversations/{discussion}/messages"))
            .await?;
        assert_eq!(history.status(), 200);
        let listed = client.get_json("/api/v1/interests").await?;
        assert_eq!(listed[0]["id"], id.as_str(), "{listed}");
    }
    let not_member = outsider
        .get(&format!("/api/v1/conversations/{discussion}/messages"))
        .await?;
    assert_eq!(not_member.status(), 404);
    let (status, _) = move_interest(&outsider, &id, json!({ "state": "progressing" })).await?;
    assert_eq!(status, 404, "a non-member moved the interest");

    let (status, again) = express(&agency, &siblings, &adeyemi).await?;
    assert_eq!(status, 409, "{again}");

    let (status, body) = move_interest(&council, &id, json!({ "state": "linked" })).await?;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("state")),
        "{body}"
    );
    let (status, body) = move_interest(&agency, &id, json!({ "state": "progressing" })).await?;
    assert_eq!(status, 200, "{body}");
    // Linking, placing and declining are the child's side's decisions;
    // withdrawing is the family's.
    let (status, body) = move_interest(&agency, &id, json!({ "state": "linked" })).await?;
    assert_eq!(status, 403, "the family's side linked: {body}");
    let (status, body) = move_interest(
        &council,
        &id,
        json!({ "state": "withdrawn", "reason": "family_withdrew" }),
    )
    .await?;
    assert_eq!(status, 403, "the child's side withdrew: {body}");
    let (status, body) = move_interest(&council, &id, json!({ "state": "declined" })).await?;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("reason")),
        "{body}"
    );
    let (status, body) = move_interest(
        &council,
        &id,
        json!({ "state": "declined", "reason": "placement_made" }),
    )
    .await?;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("reason")),
        "{body}"
    );
    let (status, body) = move_interest(&council, &id, json!({ "state": "linked" })).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "linked");
    let price = agency.own_case("family", "The Price family").await?;
    let (status, other) = express(&agency, &siblings, &price).await?;
    assert_eq!(status, 201, "{other}");
    let (status, body) = move_interest(
        &council,
        &id,
        json!({ "state": "placed", "reason": "placement_made" }),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reason"], "placement_made");
    let listed = agency.get_json("/api/v1/interests").await?;
    let ended = listed
        .as_array()
        .and_then(|all| all.iter().find(|row| row["id"] == other["id"]))
        .cloned()
        .unwrap_or_default();
    assert_eq!(ended["state"], "declined", "{listed}");
    assert_eq!(ended["reason"], "another_family_chosen");

    let search = agency.get_json("/api/v1/search/children").await?;
    assert_eq!(
        search["total"], 0,
        "a placed child is still listed: {search}"
    );
    let (status, body) = move_interest(&council, &id, json!({ "state": "open" })).await?;
    assert_eq!(status, 400, "{body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn family_over_interest_limit_is_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let price = agency.own_case("family", "The Price family").await?;

    let mut children = Vec::new();
    for index in 0..6u8 {
        let created = council
            .post("/api/v1/cases", &child_profile(&[("Child", index + 1)]))
            .await?;
        let (status, case) = status_and_json(created).await?;
        assert_eq!(status, 201, "{case}");
        let id = case["id"].as_str().unwrap_or_default().to_owned();
        let published = council
            .put(
                &format!("/api/v1/cases/{id}/publication"),
                &json!({ "visibility": "all", "anonymous": false }),
            )
            .await?;
        assert_eq!(published.status(), 200);
        children.push(id);
    }
    for child in &children[..5] {
        let (status, body) = express(&agency, child, &price).await?;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = express(&agency, &children[5], &price).await?;
    assert_eq!(status, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("5 interests that have not ended"),
        "{body}"
    );

    // The council may read the agency's family, not act for it.
    let (status, body) = express(&council, &children[5], &price).await?;
    assert_eq!(status, 403, "{body}");
    let (status, body) = express(&council, &children[5], &children[4]).await?;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("family_case_id")),
        "{body}"
    );
    Ok(())
}

fn bodies(history: &Value) -> Vec<String> {
    history["messages"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter_map(|message| message["body"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_hands_case_and_discussion_history() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let council_manager = app.sign_in("la_manager").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let adeyemi = agency.own_case("family", "The Adeyemi family").await?;
    let (status, interest) = express(&agency, &siblings, &adeyemi).await?;
    assert_eq!(status, 201, "{interest}");
    let discussion = interest["conversation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let mut council_socket = council.socket().await?;
    council_socket
        .say(&discussion, "Maisie's school report is attached next week.")
        .await?;
    let mut agency_socket = agency.socket().await?;
    agency_socket
        .say(&discussion, "The Adeyemis would like to visit.")
        .await?;

    let directory = council_manager.get_json("/api/v1/organisations").await?;
    let harbour = directory
        .as_array()
        .and_then(|list| {
            list.iter()
                .find(|org| org["name"] == "Harbour Adoption Agency")
        })
        .and_then(|org| org["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let path = format!("/api/v1/cases/{siblings}/transfer");
    let body = json!({
        "organisation_id": harbour,
        "approval_reference": "Panel minute 2026/114",
        "approved_on": "2026-11-30"
    });
    let by_practitioner = council.post(&path, &body).await?;
    assert_eq!(by_practitioner.status(), 403);
    for (bad, field) in [
        (
            json!({ "organisation_id": harbour, "approval_reference": " ", "approved_on": "2026-11-30" }),
            "approval_reference",
        ),
        (
            json!({ "organisation_id": harbour, "approval_reference": "R1", "approved_on": "2099-01-01" }),
            "approved_on",
        ),
        (
            json!({ "organisation_id": uuid::Uuid::now_v7(), "approval_reference": "R1", "approved_on": "2026-11-30" }),
            "organisation_id",
        ),
    ] {
        let (status, answer) = status_and_json(council_manager.post(&path, &bad).await?).await?;
        assert_eq!(
            (status, answer["field"].as_str()),
            (400, Some(field)),
            "{bad}: {answer}"
        );
    }

    let (status, transfer) = status_and_json(council_manager.post(&path, &body).await?).await?;
    assert_eq!(status, 200, "{transfer}\n{}", app.logs());
    assert_eq!(
        transfer["to_organisation"]["name"],
        "Harbour Adoption Agency"
    );

    // The council loses the case and the discussion at once.
    assert_eq!(
        council
            .get(&format!("/api/v1/cases/{siblings}"))
            .await?
            .status(),
        404
    );
    assert_eq!(
        council
            .get(&format!("/api/v1/conversations/{discussion}/messages"))
            .await?
            .status(),
        404
    );
    let again = council_manager.post(&path, &body).await?;
    assert_eq!(again.status(), 404);

    // The agency's manager reads the whole history, and the case is theirs.
    let receiving = app.sign_in("va_manager").await?;
    let history = receiving
        .get_json(&format!("/api/v1/conversations/{discussion}/messages"))
        .await?;
    assert_eq!(
        bodies(&history),
        [
            "Maisie's school report is attached next week.",
            "The Adeyemis would like to visit."
        ]
    );
    let case = receiving
        .get_json(&format!("/api/v1/cases/{siblings}"))
        .await?;
    assert_eq!(case["own"], true);
    assert_eq!(case["visibility"], "draft");
    agency_socket
        .say(&discussion, "Welcome to the discussion.")
        .await?;
    let history = receiving
        .get_json(&format!("/api/v1/conversations/{discussion}/messages"))
        .await?;
    assert_eq!(bodies(&history).len(), 3);

    // Both organisations see the transfer in their trails.
    let sent = council_manager.get_json("/api/v1/audit?limit=20").await?;
    assert!(
        sent.as_array().is_some_and(|rows| rows
            .iter()
            .any(|row| row["action"] == "case.transferred_out"
                && row["subject_id"] == siblings.as_str())),
        "{sent}"
    );
    let received = receiving.get_json("/api/v1/audit?limit=20").await?;
    assert!(
        received.as_array().is_some_and(|rows| rows
            .iter()
            .any(|row| row["action"] == "case.transferred_in")),
        "{received}"
    );
    let transfers = council_manager.get_json("/api/v1/transfers").await?;
    assert_eq!(transfers[0]["approval_reference"], "Panel minute 2026/114");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_worker_session_is_refused_and_audited() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let manager = app.sign_in("la_manager").await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    assert_eq!(practitioner.get("/api/v1/cases").await?.status(), 200);
    let me = practitioner.get_json("/api/v1/me").await?;
    let id = me["user"]["id"]
        .as_str()
        .or_else(|| me["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let disabled = manager
        .post(&format!("/api/v1/users/{id}/disable"), &json!({}))
        .await?;
    assert_eq!(disabled.status(), 204);

    for path in ["/api/v1/cases", "/api/v1/search/children"] {
        let (status, body) = status_and_json(practitioner.get(path).await?).await?;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["code"], "auth.required");
    }
    let trail = manager.get_json("/api/v1/audit?limit=10").await?;
    let attempts: Vec<&Value> = trail
        .as_array()
        .map(|rows| {
            rows.iter()
                .filter(|row| row["action"] == "session.refused_disabled_account")
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(attempts.len(), 1, "one row a minute at most: {trail}");
    assert_eq!(attempts[0]["subject_id"], id.as_str());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ended_interest_withholds_unpublished_child() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let adeyemi = agency.own_case("family", "The Adeyemi family").await?;
    let (status, interest) = express(&agency, &siblings, &adeyemi).await?;
    assert_eq!(status, 201, "{interest}");
    let id = interest["id"].as_str().unwrap_or_default().to_owned();
    let (status, body) = move_interest(
        &council,
        &id,
        json!({ "state": "declined", "reason": "needs_not_met" }),
    )
    .await?;
    assert_eq!(status, 200, "{body}");
    let unpublished = council
        .put(
            &format!("/api/v1/cases/{siblings}/publication"),
            &json!({ "visibility": "draft", "anonymous": false }),
        )
        .await?;
    assert_eq!(unpublished.status(), 200);

    let listed = agency.get_json("/api/v1/interests").await?;
    let child = &listed[0]["child"];
    assert_eq!(child["withheld"], true, "{listed}");
    assert_eq!(child["title"], "");
    assert!(!listed.to_string().contains("Maisie"), "{listed}");
    let read = agency.get(&format!("/api/v1/cases/{siblings}")).await?;
    assert_eq!(
        read.status(),
        404,
        "a member of an ended discussion read the case"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_page_cannot_overwrite_newer_change() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let manager = app.sign_in("la_manager").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let path = format!("/api/v1/cases/{siblings}/publication");

    // Both pages read the case; the first hides the names.
    let read = council.get(&format!("/api/v1/cases/{siblings}")).await?;
    let etag = read
        .headers()
        .get("etag")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let first: Value = read.json().await?;
    assert!(!etag.trim_matches('"').is_empty(), "no ETag");
    let put = |client: &Client, version: &str, anonymous: bool| {
        let request = client
            .http
            .put(format!("{}{path}", app.address))
            .header("Origin", &app.address)
            .header("If-Match", version.to_owned())
            .json(&json!({ "visibility": "all", "anonymous": anonymous }));
        async move { status_and_json(request.send().await?).await }
    };
    let (status, hidden) = put(&council, &etag, true).await?;
    assert_eq!(status, 200, "{hidden}");

    // The second, read before that change, is refused and changes nothing.
    let stale = format!("\"{}\"", first["updated_at"].as_str().unwrap_or_default());
    let (status, body) = put(&manager, &stale, false).await?;
    assert_eq!(status, 412, "{body}");
    assert_eq!(body["code"], "resource.changed");
    let now = council
        .get_json(&format!("/api/v1/cases/{siblings}"))
        .await?;
    assert_eq!(now["anonymous"], true, "the stale page undid the change");

    let (status, body) = put(&manager, "\"yesterday\"", false).await?;
    assert_eq!(
        (status, body["field"].as_str()),
        (400, Some("If-Match")),
        "{body}"
    );
    let current = format!("\"{}\"", now["updated_at"].as_str().unwrap_or_default());
    let (status, body) = put(&manager, &current, false).await?;
    assert_eq!(status, 200, "{body}");
    Ok(())
}
