//! A family that keeps its own profile, through the real server and a real
//! SMTP server. The family's worker invites the household, the household
//! accepts with a password and the worker confirms it. The family then
//! reads its own profile. It changes the profile and its photos only when
//! its organisation allows, and never its approval.

use std::time::Duration;

use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::family::linked_household;
use kinlink_tests::mail::Catcher;
use kinlink_tests::test_media;
use serde_json::{Value, json};

const FAMILY: &str = "the.adeyemis@example.org";
const PASSWORD: &str = "a long family passphrase 42";

/// Returns the profile of a case's view as a `PUT` body.
fn edit_body(view: &Value) -> Value {
    json!({ "kind": view["kind"], "profile": view["profile"] })
}

async fn sign_in_family(app: &TestApp) -> anyhow::Result<(u16, Client)> {
    let client = Client::new(&app.address)?;
    let response = client
        .post(
            "/api/v1/auth/sign-in",
            &json!({ "email": FAMILY, "password": PASSWORD }),
        )
        .await?;
    Ok((response.status().as_u16(), client))
}

async fn add_photo(client: &Client, case: &str) -> anyhow::Result<u16> {
    let bytes = std::fs::read(test_media::path("photo.jpg")?)?;
    let response = client
        .post_bytes(&format!("/api/v1/cases/{case}/media?slot=photo"), bytes)
        .await?;
    Ok(response.status().as_u16())
}

/// Sets whether the organisation named `name` lets families edit their
/// profiles, keeping its other terms.
async fn allow_family_edits(admin: &Client, name: &str, allowed: bool) -> anyhow::Result<()> {
    let organisations = admin.get_json("/api/v1/admin/organisations").await?;
    let row = organisations
        .as_array()
        .and_then(|list| list.iter().find(|org| org["name"] == name))
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no organisation {name}"))?;
    let changed = admin
        .put(
            &format!(
                "/api/v1/admin/organisations/{}",
                row["id"].as_str().unwrap_or_default()
            ),
            &json!({
                "name": row["name"],
                "licence_starts_at": row["licence_starts_at"],
                "licence_expires_at": row["licence_expires_at"],
                "retention_days": row["retention_days"],
                "families_edit_profiles": allowed,
            }),
        )
        .await?;
    let (status, body) = status_and_json(changed).await?;
    anyhow::ensure!(status == 200, "changing the terms failed: {body}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn family_keeps_its_own_profile_when_allowed() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let worker = app.sign_in("va_practitioner").await?;
    let admin = app.sign_in("platform_admin").await?;
    let council = app.sign_in("la_practitioner").await?;
    let adeyemi = worker.own_case("family", "The Adeyemi family").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let invite_path = format!("/api/v1/cases/{adeyemi}/family-invitation");
    let invitation = json!({ "email": FAMILY, "display_name": "Funmi Adeyemi" });

    // Only the family case's own organisation invites, and only to a
    // family case.
    let other_organisation = council.post(&invite_path, &invitation).await?;
    assert_eq!(other_organisation.status(), 403);
    let not_family = council
        .post(
            &format!("/api/v1/cases/{siblings}/family-invitation"),
            &json!({ "email": "someone@example.org", "display_name": "Someone" }),
        )
        .await?;
    assert_eq!(not_family.status(), 409);

    // A mistyped address is withdrawn at once and its link stops working.
    let mistyped = json!({ "email": "the.adeyemi@example.org", "display_name": "Funmi Adeyemi" });
    let (status, account) = status_and_json(worker.post(&invite_path, &mistyped).await?).await?;
    assert_eq!(status, 201, "{account}");
    let (wrong_token, _) = catcher.invitation_token("the.adeyemi@example.org").await?;
    let withdrawn = worker
        .delete(&format!("/api/v1/cases/{adeyemi}/family-account"))
        .await?;
    assert_eq!(withdrawn.status(), 204);
    let (status, body) = status_and_json(
        Client::new(&app.address)?
            .post("/api/v1/invitations/open", &json!({ "token": wrong_token }))
            .await?,
    )
    .await?;
    assert_eq!(status, 410, "{body}");
    let nothing = worker
        .delete(&format!("/api/v1/cases/{adeyemi}/family-account"))
        .await?;
    assert_eq!(nothing.status(), 404);

    let (status, account) = status_and_json(worker.post(&invite_path, &invitation).await?).await?;
    assert_eq!(status, 201, "{account}");
    assert_eq!(account["state"], "invited");
    let (status, again) = status_and_json(worker.post(&invite_path, &invitation).await?).await?;
    assert_eq!(status, 409, "{again}");

    let (token, email) = catcher.invitation_token(FAMILY).await?;
    for word in ["Adeyemi", "Funmi", "Harbour", "profile of"] {
        assert!(!email.contains(word), "{word} in the invitation email");
    }
    let anonymous = Client::new(&app.address)?;
    let opened = anonymous
        .post("/api/v1/invitations/open", &json!({ "token": token }))
        .await?
        .json::<Value>()
        .await?;
    assert_eq!(opened["kind"], "family_profile", "{opened}");
    let enrol = anonymous
        .post("/api/v1/invitations/enrol", &json!({ "token": token }))
        .await?;
    assert_eq!(enrol.status(), 409);
    let (status, accepted) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/accept",
                &json!({ "token": token, "password": PASSWORD }),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{accepted}");
    let user_id = accepted["user_id"].as_str().unwrap_or_default().to_owned();

    // Pending until the worker who invited confirms the account.
    let (status, _) = sign_in_family(&app).await?;
    assert_ne!(status, 200);
    let view = worker.get_json(&format!("/api/v1/cases/{adeyemi}")).await?;
    assert_eq!(view["family_account"]["state"], "pending", "{view}");
    assert_eq!(view["family_account"]["user_id"], user_id.as_str());
    let confirmed = worker
        .post(&format!("/api/v1/users/{user_id}/confirm"), &json!({}))
        .await?;
    assert_eq!(confirmed.status(), 204);

    let (status, family) = sign_in_family(&app).await?;
    assert_eq!(status, 200);
    let listed = family.get_json("/api/v1/cases").await?;
    assert_eq!(listed[0]["title"], "The Adeyemi family", "{listed}");
    assert_eq!(listed[0]["own"], false, "{listed}");
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let own = family.get_json(&format!("/api/v1/cases/{adeyemi}")).await?;
    assert_eq!(own["own"], false);
    assert_eq!(own["may_edit"], false, "{own}");
    assert!(own.get("family_account").is_none(), "{own}");
    assert_eq!(own["profile"]["household_name"], "The Adeyemi family");
    for path in [
        format!("/api/v1/cases/{siblings}"),
        "/api/v1/search/children".to_owned(),
        format!("/api/v1/cases/{adeyemi}/matches"),
    ] {
        let status = family.get(&path).await?.status().as_u16();
        assert!(status == 403 || status == 404, "{path}: {status}");
    }

    // The agency does not let families edit yet.
    let mut changed = edit_body(&own);
    changed["profile"]["household_description"] = json!("We have a dog now.");
    let edit_path = format!("/api/v1/cases/{adeyemi}");
    assert_eq!(family.put(&edit_path, &changed).await?.status(), 403);
    assert_eq!(add_photo(&family, &adeyemi).await?, 403);

    allow_family_edits(&admin, "Harbour Adoption Agency", true).await?;
    let own = family.get_json(&format!("/api/v1/cases/{adeyemi}")).await?;
    assert_eq!(own["may_edit"], true, "{own}");
    let (status, saved) = status_and_json(family.put(&edit_path, &changed).await?).await?;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(
        saved["profile"]["household_description"],
        "We have a dog now."
    );
    let mut approval = changed.clone();
    approval["profile"]["approval_date"] = json!("2020-01-01");
    let (status, body) = status_and_json(family.put(&edit_path, &approval).await?).await?;
    assert_eq!(
        (status, body["field"].clone()),
        (400, json!("approval_date")),
        "{body}"
    );
    assert_eq!(add_photo(&family, &adeyemi).await?, 202);
    let publication = family
        .put(
            &format!("/api/v1/cases/{adeyemi}/publication"),
            &json!({ "visibility": "draft", "anonymous": false }),
        )
        .await?;
    assert_eq!(publication.status(), 403);

    // Where families edit their profiles, the family joins the discussion
    // an interest in a child opens.
    let interest = worker
        .post(
            &format!("/api/v1/cases/{siblings}/interests"),
            &json!({ "family_case_id": adeyemi }),
        )
        .await?;
    let (status, interest) = status_and_json(interest).await?;
    assert_eq!(status, 201, "{interest}");
    let messages = format!(
        "/api/v1/conversations/{}/messages",
        interest["conversation_id"].as_str().unwrap_or_default()
    );
    assert_eq!(family.get(&messages).await?.status(), 200);

    // The worker ends the family's access, to the profile and to the
    // discussion alike.
    let removed = worker
        .delete(&format!("/api/v1/cases/{adeyemi}/family-account"))
        .await?;
    assert_eq!(removed.status(), 204);
    assert_eq!(family.get(&edit_path).await?.status(), 404);
    assert_eq!(family.get(&messages).await?.status(), 404);
    let listed = family.get_json("/api/v1/cases").await?;
    assert_eq!(listed, json!([]));
    let view = worker.get_json(&edit_path).await?;
    assert_eq!(view["family_account"]["state"], "none", "{view}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_ends_the_family_access_to_its_profile() -> anyhow::Result<()> {
    const SECOND: &str = "prices@example.org";
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let worker = app.sign_in("va_practitioner").await?;
    let manager = app.sign_in("va_manager").await?;
    let price = worker.own_case("family", "The Price family").await?;
    let family = linked_household(&app, &catcher, &worker, &price, SECOND, PASSWORD)
        .await?
        .client;
    let path = format!("/api/v1/cases/{price}");
    assert_eq!(family.get(&path).await?.status(), 200);

    let directory = manager.get_json("/api/v1/organisations").await?;
    let council = directory
        .as_array()
        .and_then(|list| list.iter().find(|org| org["name"] == "Northshire Council"))
        .and_then(|org| org["id"].as_str())
        .unwrap_or_default()
        .to_owned();
    let moved = manager
        .post(
            &format!("/api/v1/cases/{price}/transfer"),
            &json!({
                "organisation_id": council,
                "approval_reference": "Panel minute 2026/120",
                "approved_on": "2026-12-01",
            }),
        )
        .await?;
    let (status, body) = status_and_json(moved).await?;
    assert_eq!(status, 200, "{body}");
    assert_eq!(family.get(&path).await?.status(), 404);
    assert_eq!(family.get_json("/api/v1/cases").await?, json!([]));
    let receiving = app.sign_in("la_practitioner").await?;
    let view = receiving.get_json(&path).await?;
    assert_eq!(view["family_account"]["state"], "none", "{view}");
    Ok(())
}
