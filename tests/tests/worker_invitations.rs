//! Worker invitations through the real server and a real SMTP server: a
//! manager invites a practitioner, who sets up an authenticator before the
//! account exists, accepts with its code, receives recovery codes once,
//! and waits for a manager's approval, which gives them the organisation
//! key. Replacing recovery codes later needs the password and a code.

use std::time::Duration;

use kinlink_core::OrganisationId;
use kinlink_core::UserId;
use kinlink_core::crypto::totp;
use kinlink_store::entity::worker_invitation;
use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::mail::Catcher;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

const WORKER: &str = "sam.okafor@northshire.example";
const PASSWORD: &str = "a long practitioner passphrase 7";

async fn organisation_of(client: &Client) -> anyhow::Result<String> {
    let me = client.get_json("/api/v1/me").await?;
    Ok(me["user"]["organisation_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

fn invitation(role: &str) -> Value {
    json!({"email": WORKER, "display_name": "Sam Okafor", "role": role})
}

fn code_now(secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    totp::code_from_base32(secret, now).unwrap_or_default()
}

#[tokio::test]
async fn invited_worker_enrols_and_is_approved() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let manager = app.sign_in("la_manager").await?;
    let organisation = organisation_of(&manager).await?;
    let (status, created) = status_and_json(
        manager
            .post(
                &format!("/api/v1/organisations/{organisation}/invitations"),
                &invitation("practitioner"),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, created["status"].clone()),
        (201, json!("waiting")),
        "{created}"
    );

    let (token, email) = catcher.invitation_token(WORKER).await?;
    assert!(email.contains("invited you to work in"), "{email}");
    for word in ["Sam", "Okafor", "Northshire", "practitioner"] {
        assert!(!email.contains(word), "{word} in the invitation email");
    }

    let anonymous = Client::new(&app.address)?;
    let opened = anonymous
        .post("/api/v1/invitations/open", &json!({"token": token}))
        .await?
        .json::<Value>()
        .await?;
    assert_eq!(opened["kind"], "worker");
    assert_eq!(opened["role"], "practitioner");
    assert_eq!(opened["display_name"], "Sam Okafor");
    assert!(opened["organisation_name"].as_str().is_some(), "{opened}");

    let accept = |code: Option<String>| {
        let mut body = json!({"token": token, "password": PASSWORD});
        if let Some(code) = code {
            body["totp_code"] = Value::String(code);
        }
        body
    };
    // Accepting needs the authenticator, set up first.
    let (status, missing) = status_and_json(
        anonymous
            .post("/api/v1/invitations/accept", &accept(None))
            .await?,
    )
    .await?;
    assert_eq!(
        (status, missing["field"].clone()),
        (400, json!("totp_code"))
    );
    let (status, early) = status_and_json(
        anonymous
            .post("/api/v1/invitations/accept", &accept(Some("123456".into())))
            .await?,
    )
    .await?;
    assert_eq!(
        (status, early["code"].clone()),
        (409, json!("resource.conflict"))
    );

    // A second offer replaces the first key.
    let first = anonymous
        .post("/api/v1/invitations/enrol", &json!({"token": token}))
        .await?
        .json::<Value>()
        .await?;
    let second = anonymous
        .post("/api/v1/invitations/enrol", &json!({"token": token}))
        .await?
        .json::<Value>()
        .await?;
    let first_secret = first["secret"].as_str().unwrap_or_default().to_owned();
    let secret = second["secret"].as_str().unwrap_or_default().to_owned();
    assert_eq!(secret.len(), 32, "160 bits in base32: {second}");
    assert_ne!(first_secret, secret);
    assert_eq!(second["account_name"], WORKER);
    let (status, stale) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/accept",
                &accept(Some(code_now(&first_secret))),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, stale["field"].clone()), (400, json!("totp_code")));
    assert_eq!(
        worker_invitation::Entity::find()
            .one(&app.store().await?.db)
            .await?
            .and_then(|row| row.accepted_at),
        None,
        "a failed accept stores nothing"
    );

    let enrolment_code = code_now(&secret);
    let (status, accepted) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/accept",
                &accept(Some(enrolment_code.clone())),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{accepted}");
    assert_eq!(accepted["status"], "pending");
    let recovery: Vec<String> = accepted["recovery_codes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert_eq!(recovery.len(), totp::RECOVERY_CODES);
    let user_id = accepted["user_id"].as_str().unwrap_or_default().to_owned();

    // The link works once, for the key offer too.
    for path in ["/api/v1/invitations/accept", "/api/v1/invitations/enrol"] {
        let body = if path.ends_with("enrol") {
            json!({"token": token})
        } else {
            accept(Some(enrolment_code.clone()))
        };
        let (status, again) = status_and_json(anonymous.post(path, &body).await?).await?;
        assert_eq!(
            (status, again["code"].clone()),
            (410, json!("invitation.used")),
            "{path}"
        );
    }

    // Pending until a manager approves; to a practitioner the account is
    // not there.
    let worker = Client::new(&app.address)?;
    let sign_in = |second_factor: Value| {
        let mut body = json!({"email": WORKER, "password": PASSWORD});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), second_factor.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    let (status, pending) = status_and_json(
        worker
            .post("/api/v1/auth/sign-in", &sign_in(json!({})))
            .await?,
    )
    .await?;
    assert_eq!(
        (status, pending["code"].clone()),
        (403, json!("auth.account_pending"))
    );
    let listed = manager
        .get_json(&format!("/api/v1/organisations/{organisation}/workers"))
        .await?;
    let waiting = listed["workers"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|w| w["user_id"] == user_id.as_str())
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        (waiting["status"].clone(), waiting["role"].clone()),
        (json!("pending"), json!("practitioner"))
    );
    assert_eq!(listed["invitations"][0]["status"], "accepted");
    let practitioner = app.sign_in("la_practitioner").await?;
    assert_eq!(
        practitioner
            .post(&format!("/api/v1/users/{user_id}/confirm"), &json!({}))
            .await?
            .status(),
        404
    );
    assert_eq!(
        manager
            .post(&format!("/api/v1/users/{user_id}/confirm"), &json!({}))
            .await?
            .status(),
        204
    );
    let store = app.store().await?;
    let organisation_id = OrganisationId(organisation.parse()?);
    let worker_id = UserId(user_id.parse()?);
    assert!(
        store
            .organisation_key_for(organisation_id, worker_id)
            .await?
            .is_some(),
        "approval seals the organisation key to the worker"
    );

    // The second factor is required, the enrolment code does not work a
    // second time, and a recovery code works once.
    let (status, required) = status_and_json(
        worker
            .post("/api/v1/auth/sign-in", &sign_in(json!({})))
            .await?,
    )
    .await?;
    assert_eq!(
        (status, required["code"].clone()),
        (401, json!("auth.second_factor_required"))
    );
    let (status, replay) = status_and_json(
        worker
            .post(
                "/api/v1/auth/sign-in",
                &sign_in(json!({"totp_code": enrolment_code})),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, replay["code"].clone()),
        (401, json!("auth.second_factor_invalid"))
    );
    let with_recovery = sign_in(json!({"recovery_code": recovery[0]}));
    let response = worker.post("/api/v1/auth/sign-in", &with_recovery).await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let again = Client::new(&app.address)?;
    let (status, _) =
        status_and_json(again.post("/api/v1/auth/sign-in", &with_recovery).await?).await?;
    assert_eq!(status, 401, "a recovery code works once");
    let worker = worker.with_session_from_jar();
    let me = worker.get_json("/api/v1/me").await?;
    assert_eq!(me["user"]["roles"], json!(["practitioner"]));

    // New recovery codes need the password and a fresh code; the old set
    // stops working.
    let later = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
        + 30;
    let fresh = totp::code_from_base32(&secret, later).unwrap_or_default();
    let replace =
        |password: &str, totp_code: &str| json!({"password": password, "totp_code": totp_code});
    let (status, wrong) = status_and_json(
        worker
            .post(
                "/api/v1/me/recovery-codes",
                &replace("not the password at all", &fresh),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, wrong["code"].clone()),
        (401, json!("auth.invalid_credentials"))
    );
    let (status, wrong) = status_and_json(
        worker
            .post(
                "/api/v1/me/recovery-codes",
                &replace(PASSWORD, &enrolment_code),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, wrong["code"].clone()),
        (401, json!("auth.second_factor_invalid"))
    );
    let (status, replaced) = status_and_json(
        worker
            .post("/api/v1/me/recovery-codes", &replace(PASSWORD, &fresh))
            .await?,
    )
    .await?;
    assert_eq!(status, 200, "{replaced}");
    let new_codes: Vec<String> = replaced["recovery_codes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_owned))
        .collect();
    assert_eq!(new_codes.len(), totp::RECOVERY_CODES);
    assert!(new_codes.iter().all(|c| !recovery.contains(c)));
    let old = Client::new(&app.address)?;
    let (status, _) = status_and_json(
        old.post(
            "/api/v1/auth/sign-in",
            &sign_in(json!({"recovery_code": recovery[1]})),
        )
        .await?,
    )
    .await?;
    assert_eq!(status, 401, "the old set stopped working");
    let (status, _) = status_and_json(
        old.post(
            "/api/v1/auth/sign-in",
            &sign_in(json!({"recovery_code": new_codes[0]})),
        )
        .await?,
    )
    .await?;
    assert_eq!(status, 200, "the new set works");

    // Guessing codes with the right password is throttled like sign-in.
    let mut last = 0;
    for guess in ["000000", "111111", "222222", "333333", "444444", "555555"] {
        let response = worker
            .post("/api/v1/me/recovery-codes", &replace(PASSWORD, guess))
            .await?;
        last = response.status().as_u16();
    }
    assert_eq!(last, 429, "six wrong codes in a row were not throttled");

    // A family member has no second factor and so no recovery codes.
    let parent = app.sign_in("adoptive_parent").await?;
    let password = app.demo_user("adoptive_parent")?["password"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, none) = status_and_json(
        parent
            .post("/api/v1/me/recovery-codes", &replace(&password, "123456"))
            .await?,
    )
    .await?;
    assert_eq!(
        (status, none["code"].clone()),
        (409, json!("resource.conflict"))
    );
    Ok(())
}

#[tokio::test]
async fn worker_invitation_rejects_bad_fields_and_non_managers() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let manager = app.sign_in("la_manager").await?;
    let organisation = organisation_of(&manager).await?;
    let path = format!("/api/v1/organisations/{organisation}/invitations");
    let cases = [
        (
            json!({"email": WORKER, "display_name": "Sam", "role": "platform_admin"}),
            "role",
        ),
        (
            json!({"email": WORKER, "display_name": "Sam", "role": "adopter"}),
            "role",
        ),
        (
            json!({"email": "not an email", "display_name": "Sam", "role": "manager"}),
            "email",
        ),
        (
            json!({"email": WORKER, "display_name": " ", "role": "manager"}),
            "display_name",
        ),
        (
            json!({"email": WORKER, "display_name": "Sam", "role": "manager", "extra": 1}),
            "extra",
        ),
    ];
    for (body, field) in cases {
        let (status, error) = status_and_json(manager.post(&path, &body).await?).await?;
        assert_eq!(
            (status, error["field"].clone()),
            (400, json!(field)),
            "{body}"
        );
    }
    let demo_email = app.demo_user("la_practitioner")?["email"].clone();
    let (status, taken) = status_and_json(
        manager
            .post(
                &path,
                &json!({"email": demo_email, "display_name": "Sam", "role": "manager"}),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, taken["code"].clone()),
        (409, json!("resource.conflict"))
    );

    // Practitioners and family members of the organisation are refused, and
    // to workers of another the organisation is not there.
    let practitioner = app.sign_in("la_practitioner").await?;
    let outsider = app.sign_in("va_practitioner").await?;
    let parent = app.sign_in("adoptive_parent").await?;
    for (client, expected) in [(&practitioner, 403), (&outsider, 404), (&parent, 403)] {
        assert_eq!(
            client
                .post(&path, &invitation("practitioner"))
                .await?
                .status(),
            expected
        );
        let list = format!("/api/v1/organisations/{organisation}/workers");
        assert_eq!(client.get(&list).await?.status(), expected);
    }
    let store = app.store().await?;
    assert_eq!(worker_invitation::Entity::find().count(&store.db).await?, 0);

    // One open invitation per address.
    assert_eq!(
        manager
            .post(&path, &invitation("practitioner"))
            .await?
            .status(),
        201
    );
    let (status, twice) =
        status_and_json(manager.post(&path, &invitation("manager")).await?).await?;
    assert_eq!(
        (status, twice["code"].clone()),
        (409, json!("resource.conflict"))
    );

    // A token that matches no invitation gets no authenticator key.
    let anonymous = Client::new(&app.address)?;
    let (status, unknown) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/enrol",
                &json!({"token": "A".repeat(43)}),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, unknown["code"].clone()),
        (404, json!("invitation.unknown"))
    );
    Ok(())
}

#[tokio::test]
async fn operator_invites_first_manager_of_new_organisation() -> anyhow::Result<()> {
    const FOUNDER: &str = "ruth.evans@riverside.example";
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let operator = app.sign_in("platform_admin").await?;
    let council_manager = app.sign_in("la_manager").await?;
    let (status, created) = status_and_json(
        operator
            .post(
                "/api/v1/admin/organisations",
                &json!({
                    "name": "Riverside Fostering",
                    "kind": "independent_fostering_provider",
                    "licence_starts_at": "2026-01-01T00:00:00Z",
                    "licence_expires_at": "2029-01-01T00:00:00Z"
                }),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["founded"], false);
    let organisation = created["id"].as_str().unwrap_or_default().to_owned();
    let path = format!("/api/v1/organisations/{organisation}/invitations");
    let founder = json!({"email": FOUNDER, "display_name": "Ruth Evans", "role": "manager"});

    let (status, body) = status_and_json(
        operator
            .post(
                &path,
                &json!({"email": FOUNDER, "display_name": "Ruth Evans", "role": "practitioner"}),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, body["field"].clone()),
        (400, json!("role")),
        "{body}"
    );
    let outsider = council_manager.post(&path, &founder).await?;
    assert_eq!(outsider.status(), 404);
    let (status, body) = status_and_json(operator.post(&path, &founder).await?).await?;
    assert_eq!(status, 201, "{body}");

    let (token, _email) = catcher.invitation_token(FOUNDER).await?;
    let anonymous = Client::new(&app.address)?;
    let enrolment = anonymous
        .post("/api/v1/invitations/enrol", &json!({"token": token}))
        .await?
        .json::<Value>()
        .await?;
    let secret = enrolment["secret"].as_str().unwrap_or_default().to_owned();
    let (status, accepted) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/accept",
                &json!({"token": token, "password": PASSWORD, "totp_code": code_now(&secret)}),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{accepted}");
    let user_id = accepted["user_id"].as_str().unwrap_or_default().to_owned();
    let recovery = accepted["recovery_codes"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let confirm = format!("/api/v1/users/{user_id}/confirm");
    assert_eq!(
        council_manager.post(&confirm, &json!({})).await?.status(),
        404
    );
    assert_eq!(operator.post(&confirm, &json!({})).await?.status(), 204);
    let store = app.store().await?;
    let organisation_id = OrganisationId(organisation.parse()?);
    assert!(
        store
            .organisation_key_for(organisation_id, UserId(user_id.parse()?))
            .await?
            .is_some(),
        "the first manager holds the organisation key"
    );
    // Once a manager has the key, the operator steps back.
    let listed = operator.get_json("/api/v1/admin/organisations").await?;
    let founded = listed
        .as_array()
        .and_then(|list| list.iter().find(|row| row["id"] == organisation.as_str()))
        .map(|row| row["founded"].clone());
    assert_eq!(founded, Some(json!(true)), "{listed}");
    let again = operator
        .post(
            &path,
            &json!({"email": "second@riverside.example", "display_name": "Tom", "role": "manager"}),
        )
        .await?;
    assert_eq!(again.status(), 404);

    let manager = Client::new(&app.address)?;
    let signed_in = manager
        .post(
            "/api/v1/auth/sign-in",
            &json!({"email": FOUNDER, "password": PASSWORD, "recovery_code": recovery}),
        )
        .await?;
    assert_eq!(signed_in.status(), 200, "{}", signed_in.text().await?);
    let manager = manager.with_session_from_jar();
    let workers = manager
        .get(&format!("/api/v1/organisations/{organisation}/workers"))
        .await?;
    assert_eq!(workers.status(), 200);

    // Disabling that manager does not let the operator found the
    // organisation again with a manager of their choosing.
    let disabled = operator
        .post(&format!("/api/v1/users/{user_id}/disable"), &json!({}))
        .await?;
    assert_eq!(disabled.status(), 204);
    let takeover = operator
        .post(
            &path,
            &json!({"email": "third@riverside.example", "display_name": "Kim", "role": "manager"}),
        )
        .await?;
    assert_eq!(takeover.status(), 404);
    Ok(())
}

#[tokio::test]
async fn moderator_name_reserved_at_confirmation() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let partner = organisation_of(&moderator).await?;
    let email = "rowan.vale@support.example";
    let (status, created) = status_and_json(
        moderator
            .post(
                &format!("/api/v1/organisations/{partner}/invitations"),
                &json!({"email": email, "display_name": "Rowan Vale", "role": "moderator"}),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{created}");
    let (token, _) = catcher.invitation_token(email).await?;
    let anonymous = Client::new(&app.address)?;
    let enrolled = anonymous
        .post("/api/v1/invitations/enrol", &json!({"token": token}))
        .await?
        .json::<Value>()
        .await?;
    let secret = enrolled["secret"].as_str().unwrap_or_default().to_owned();
    let (status, accepted) = status_and_json(
        anonymous
            .post(
                "/api/v1/invitations/accept",
                &json!({"token": token, "password": PASSWORD, "totp_code": code_now(&secret)}),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{accepted}");
    let user_id = accepted["user_id"].as_str().unwrap_or_default().to_owned();
    let response = moderator
        .post(&format!("/api/v1/users/{user_id}/confirm"), &json!({}))
        .await?;
    assert_eq!(response.status(), 204);

    // The new moderator has not visited the community, yet a member cannot
    // take their name.
    let member = app.sign_in("community_member").await?;
    let (status, body) = status_and_json(
        member
            .put(
                "/api/v1/community/profile",
                &json!({
                    "display_name": "Rowan  VALE",
                    "family_makeup": { "value": "", "visible": false },
                    "legal_status": { "value": null, "visible": false },
                    "interests": { "value": "", "visible": false },
                }),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, &body["field"]),
        (400, &json!("display_name")),
        "{body}"
    );
    Ok(())
}
