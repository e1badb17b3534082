//! Invitations into a contact link through the real server and a real SMTP
//! server: the email and its one-time link, accepting, the pending account,
//! the practitioner's confirmation, and links that are used, expired or
//! unknown.

use std::time::Duration;

use chrono::Utc;
use kinlink_store::entity::invitation;
use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::mail::Catcher;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

const INVITEE: &str = "new.relative@family.example";
const PASSWORD: &str = "a long family passphrase 42";

async fn invite(practitioner: &Client, link: &str) -> anyhow::Result<reqwest::Response> {
    practitioner
        .post(
            &format!("/api/v1/conversations/{link}/invitations"),
            &json!({
                "email": INVITEE,
                "display_name": "Robin (grandparent)",
                "side": "birth",
                "relationship": "grandparent"
            }),
        )
        .await
}

#[tokio::test]
async fn invited_relative_joins_after_confirmation() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let (status, created) = status_and_json(invite(&practitioner, &link).await?).await?;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "waiting");

    let (token, email) = catcher.invitation_token(INVITEE).await?;
    assert_eq!(token.len(), 43, "a 256-bit token: {token}");
    for word in ["Robin", "grandparent", "Carter", "Northshire", "Priya"] {
        assert!(!email.contains(word), "{word} in the invitation email");
    }
    assert!(email.contains(&format!("{}/invitation#", app.address)));

    // The token is stored only as a hash.
    let store = app.store().await?;
    let row = invitation::Entity::find().one(&store.db).await?;
    let stored = row.and_then(|row| row.token_hash).unwrap_or_default();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&token));

    let anonymous = Client::new(&app.address)?;
    let (status, opened) = status_and_json(
        anonymous
            .post("/api/v1/invitations/open", &json!({"token": token}))
            .await?,
    )
    .await?;
    assert_eq!(
        (status, opened["display_name"].clone()),
        (200, json!("Robin (grandparent)"))
    );

    assert_eq!(opened["kind"], "contact_link");
    // A family member's account has no second factor, so no key is offered.
    let (status, no_key) = status_and_json(
        anonymous
            .post("/api/v1/invitations/enrol", &json!({"token": token}))
            .await?,
    )
    .await?;
    assert_eq!(
        (status, no_key["code"].clone()),
        (409, json!("resource.conflict"))
    );

    let (status, short) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/accept",
                &json!({"token": token, "password": "short"}),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, short["field"].clone()), (400, json!("password")));

    let (status, accepted) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/accept",
                &json!({"token": token, "password": PASSWORD}),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{accepted}");
    let user_id = accepted["user_id"].as_str().unwrap_or_default().to_owned();

    // The link works once.
    let (status, again) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/accept",
                &json!({"token": token, "password": PASSWORD}),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, again["code"].clone()),
        (410, json!("invitation.used"))
    );

    // Pending until the practitioner confirms.
    let relative = Client::new(&app.address)?;
    let sign_in = json!({"email": INVITEE, "password": PASSWORD});
    let (status, pending) =
        status_and_json(relative.post("/api/v1/auth/sign-in", &sign_in).await?).await?;
    assert_eq!(
        (status, pending["code"].clone()),
        (403, json!("auth.account_pending"))
    );
    let listed = practitioner
        .get_json(&format!("/api/v1/conversations/{link}/invitations"))
        .await?;
    assert_eq!(listed[0]["status"], "accepted");
    assert_eq!(listed[0]["user_id"], user_id.as_str());
    let other_practitioner = app.sign_in("va_practitioner").await?;
    assert_eq!(
        other_practitioner
            .post(&format!("/api/v1/users/{user_id}/confirm"), &json!({}))
            .await?
            .status(),
        404
    );
    assert_eq!(
        practitioner
            .post(&format!("/api/v1/users/{user_id}/confirm"), &json!({}))
            .await?
            .status(),
        204
    );

    // Confirmed: the contact link and nothing else, with its history, and
    // a place among the agreement's parties.
    let response = relative.post("/api/v1/auth/sign-in", &sign_in).await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let relative = relative.with_session_from_jar();
    let conversations = relative.get_json("/api/v1/conversations").await?;
    let ids: Vec<&str> = conversations
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert_eq!(ids, [link.as_str()]);
    let agreement = relative
        .get_json(&format!("/api/v1/conversations/{link}/agreement"))
        .await?;
    let party = agreement["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["user_id"] == user_id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(party["relationship"], "grandparent");
    let (status, letter) = status_and_json(
        relative
            .post(
                &format!("/api/v1/conversations/{link}/letters"),
                &json!({"body": "Hello from a grandparent"}),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{letter}");
    Ok(())
}

#[tokio::test]
async fn expired_and_unknown_links_create_nothing() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    assert_eq!(invite(&practitioner, &link).await?.status(), 201);
    let (token, _email) = catcher.invitation_token(INVITEE).await?;

    let store = app.store().await?;
    invitation::Entity::update_many()
        .col_expr(
            invitation::Column::ExpiresAt,
            Expr::value(Utc::now() - chrono::Duration::minutes(1)),
        )
        .filter(invitation::Column::Email.eq(INVITEE))
        .exec(&store.db)
        .await?;

    let anonymous = Client::new(&app.address)?;
    for (path, body) in [
        ("/api/v1/invitations/open", json!({"token": token})),
        (
            "/api/v1/invitations/accept",
            json!({"token": token, "password": PASSWORD}),
        ),
    ] {
        let (status, error) = status_and_json(anonymous.post(path, &body).await?).await?;
        assert_eq!(
            (status, error["code"].clone()),
            (410, json!("invitation.expired")),
            "{path}"
        );
    }
    assert!(
        store.find_user_by_email(INVITEE).await?.is_none(),
        "no account"
    );

    let forged = "A".repeat(43);
    let (status, error) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/accept",
                &json!({"token": forged, "password": PASSWORD}),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, error["code"].clone()),
        (404, json!("invitation.unknown"))
    );
    Ok(())
}

#[tokio::test]
async fn invitation_rejects_bad_fields_and_non_supervisors() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let family = app.sign_in("birth_parent").await?;
    let link = practitioner.conversation_id("contact_link").await?;
    let path = format!("/api/v1/conversations/{link}/invitations");
    let good = json!({
        "email": "someone@family.example",
        "display_name": "Someone",
        "side": "birth",
        "relationship": "aunt_or_uncle"
    });
    assert_eq!(family.post(&path, &good).await?.status(), 403);

    let cases = [
        ("email", json!("not-an-email")),
        ("display_name", json!(" ")),
        ("side", json!("neither")),
        ("relationship", json!("adoptive_parent")),
    ];
    for (field, value) in cases {
        let mut body = good.clone();
        body[field] = value;
        let (status, error) = status_and_json(practitioner.post(&path, &body).await?).await?;
        assert_eq!(
            (status, error["field"].clone()),
            (400, json!(field)),
            "{body}"
        );
    }
    let mut taken = good.clone();
    taken["email"] = json!("birth.parent@family.example");
    assert_eq!(practitioner.post(&path, &taken).await?.status(), 409);
    assert_eq!(practitioner.post(&path, &good).await?.status(), 201);
    assert_eq!(
        practitioner.post(&path, &good).await?.status(),
        409,
        "one open invitation per address"
    );
    Ok(())
}
