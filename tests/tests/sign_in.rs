//! Signing in and out, second factors, throttling, sessions, and the
//! account actions that end them.

use std::time::Duration;

use kinlink_tests::socket::Ended;
use kinlink_tests::{AppOptions, Client, TestApp};
use serde_json::{Value, json};

async fn attempt(app: &TestApp, body: Value) -> anyhow::Result<(u16, Value)> {
    let client = Client::new(&app.address)?;
    let response = client.post("/api/v1/auth/sign-in", &body).await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

#[tokio::test]
async fn wrong_email_and_wrong_password_look_alike() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let email = app.demo_user("birth_parent")?["email"].clone();
    let wrong_password = attempt(
        &app,
        json!({ "email": email, "password": "not the password" }),
    )
    .await?;
    let wrong_email = attempt(
        &app,
        json!({ "email": "nobody@family.example", "password": "not the password" }),
    )
    .await?;
    assert_eq!(wrong_password.0, 401);
    assert_eq!(wrong_password, wrong_email);
    assert_eq!(wrong_email.1["code"], "auth.invalid_credentials");
    Ok(())
}

#[tokio::test]
async fn invalid_email_names_field() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let (status, body) = attempt(&app, json!({ "email": "no-at-sign", "password": "x" })).await?;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "request.invalid_field");
    assert_eq!(body["field"], "email");
    let (status, body) = attempt(&app, json!({ "email": "a@b.example" })).await?;
    assert_eq!(status, 400);
    assert_eq!(body["code"], "request.invalid_json");
    assert!(
        body["message"].as_str().unwrap_or("").contains("password"),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn worker_needs_second_factor() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.demo_user("la_practitioner")?.clone();
    let base = json!({ "email": user["email"], "password": user["password"] });
    let (status, body) = attempt(&app, base.clone()).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("auth.second_factor_required"))
    );

    let mut wrong = base.clone();
    wrong["totp_code"] = json!("000000");
    let (status, body) = attempt(&app, wrong).await?;
    // One in a million codes is right by chance; the check below is about the code path.
    assert!(status == 401 && body["code"] == "auth.second_factor_invalid" || status == 200);

    let code = user["recovery_codes"][0].clone();
    let mut with_recovery = base.clone();
    with_recovery["recovery_code"] = code.clone();
    assert_eq!(attempt(&app, with_recovery.clone()).await?.0, 200);
    let (status, body) = attempt(&app, with_recovery).await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("auth.second_factor_invalid")),
        "a recovery code works once"
    );
    Ok(())
}

#[tokio::test]
async fn cookie_is_http_only_and_strict() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.demo_user("adoptive_parent")?.clone();
    let client = Client::new(&app.address)?;
    let response = client
        .post(
            "/api/v1/auth/sign-in",
            &json!({ "email": user["email"], "password": user["password"] }),
        )
        .await?;
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(cookie.starts_with("kinlink_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Strict"));
    assert!(cookie.contains("Path=/"));
    let value = cookie
        .trim_start_matches("kinlink_session=")
        .split(';')
        .next()
        .unwrap_or("");
    assert!(
        value.len() >= 43,
        "token has at least 256 bits: {}",
        value.len()
    );
    Ok(())
}

#[tokio::test]
async fn failures_are_throttled_per_account() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.demo_user("birth_parent")?.clone();
    for _ in 0..5 {
        let (status, _) = attempt(
            &app,
            json!({ "email": user["email"], "password": "wrong password!" }),
        )
        .await?;
        assert_eq!(status, 401);
    }
    // Let time pass inside the 15-minute window, so the wait it reports
    // must be shorter than the whole window.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let client = Client::new(&app.address)?;
    let response = client
        .post(
            "/api/v1/auth/sign-in",
            &json!({ "email": user["email"], "password": user["password"] }),
        )
        .await?;
    assert_eq!(
        response.status(),
        429,
        "even the right password waits out the window"
    );
    let retry_after: i64 = response.headers()["retry-after"].to_str()?.parse()?;
    assert!(retry_after <= 15 * 60 - 2, "Retry-After {retry_after}");
    assert!(retry_after >= 15 * 60 - 30, "Retry-After {retry_after}");
    let body: Value = response.json().await?;
    assert_eq!(body["code"], "auth.throttled");
    Ok(())
}

#[tokio::test]
async fn failures_are_throttled_per_address() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    for n in 0..5 {
        let (status, _) = attempt(
            &app,
            json!({ "email": format!("guess{n}@family.example"), "password": "wrong password!" }),
        )
        .await?;
        assert_eq!(status, 401);
    }
    let user = app.demo_user("adoptive_parent")?.clone();
    let (status, body) = attempt(
        &app,
        json!({ "email": user["email"], "password": user["password"] }),
    )
    .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("auth.throttled"))
    );
    Ok(())
}

#[tokio::test]
async fn sign_out_ends_session() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    assert_eq!(alex.get("/api/v1/me").await?.status(), 200);
    let mut socket = alex.socket().await?;
    assert_eq!(
        alex.post("/api/v1/auth/sign-out", &json!({}))
            .await?
            .status(),
        204
    );
    assert!(matches!(
        socket.ended().await?,
        Ended::Closed(Some(1008)) | Ended::Dropped
    ));

    // The old token no longer works even if a copy was kept.
    let stale = Client::new(&app.address)?;
    let response = stale
        .http
        .get(format!("{}/api/v1/me", app.address))
        .header(
            "Cookie",
            format!(
                "kinlink_session={}",
                alex.session_token.clone().unwrap_or_default()
            ),
        )
        .send()
        .await?;
    assert_eq!(response.status(), 401);
    Ok(())
}

#[tokio::test]
async fn revoking_a_session_closes_its_socket() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let phone = app.sign_in("adoptive_parent").await?;
    let laptop = app.sign_in("adoptive_parent").await?;
    let mut phone_socket = phone.socket().await?;

    let sessions = laptop.get_json("/api/v1/sessions").await?;
    let list = sessions.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    let other = list
        .iter()
        .find(|s| s["current"] == false)
        .and_then(|s| s["id"].as_str())
        .unwrap_or_default();
    assert_eq!(
        laptop
            .delete(&format!("/api/v1/sessions/{other}"))
            .await?
            .status(),
        204
    );

    assert!(matches!(
        phone_socket.ended().await?,
        Ended::Closed(Some(1008)) | Ended::Dropped
    ));
    assert_eq!(phone.get("/api/v1/me").await?.status(), 401);
    assert_eq!(laptop.get("/api/v1/me").await?.status(), 200);

    let foreign = app.sign_in("birth_parent").await?;
    let mine = laptop.get_json("/api/v1/sessions").await?[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        foreign
            .delete(&format!("/api/v1/sessions/{mine}"))
            .await?
            .status(),
        404
    );
    Ok(())
}

#[tokio::test]
async fn disabling_an_account_ends_everything() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let manager = app.sign_in("la_manager").await?;
    let priya = app.sign_in("la_practitioner").await?;
    let owen = app.sign_in("va_practitioner").await?;
    let mut socket = priya.socket().await?;
    let priya_id = priya.get_json("/api/v1/me").await?["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let refused = owen
        .post(&format!("/api/v1/users/{priya_id}/disable"), &json!({}))
        .await?;
    assert_eq!(
        refused.status(),
        404,
        "another organisation's worker cannot see the account"
    );
    let done = manager
        .post(&format!("/api/v1/users/{priya_id}/disable"), &json!({}))
        .await?;
    assert_eq!(done.status(), 204);

    assert!(matches!(
        socket.ended().await?,
        Ended::Closed(Some(1008)) | Ended::Dropped
    ));
    assert_eq!(priya.get("/api/v1/me").await?.status(), 401);
    let user = app.demo_user("la_practitioner")?.clone();
    let (status, body) = attempt(
        &app,
        json!({ "email": user["email"], "password": user["password"] }),
    )
    .await?;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("auth.account_disabled"))
    );
    Ok(())
}

#[tokio::test]
async fn changed_password_keeps_history() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;
    socket.say(&link, "written before the change").await?;
    let user = app.demo_user("adoptive_parent")?.clone();

    let wrong = alex
        .post("/api/v1/me/password", &json!({ "current_password": "not it at all", "new_password": "a brand new passphrase" }))
        .await?;
    assert_eq!(wrong.status(), 401);
    let short = alex
        .post(
            "/api/v1/me/password",
            &json!({ "current_password": user["password"], "new_password": "short" }),
        )
        .await?;
    let short_body: Value = short.json().await?;
    assert_eq!(short_body["field"], "new_password");
    let changed = alex
        .post("/api/v1/me/password", &json!({ "current_password": user["password"], "new_password": "a brand new passphrase" }))
        .await?;
    assert_eq!(changed.status(), 204);

    let (old_status, _) = attempt(
        &app,
        json!({ "email": user["email"], "password": user["password"] }),
    )
    .await?;
    assert_eq!(old_status, 401);
    let fresh = Client::new(&app.address)?;
    let response = fresh
        .post(
            "/api/v1/auth/sign-in",
            &json!({ "email": user["email"], "password": "a brand new passphrase" }),
        )
        .await?;
    assert_eq!(response.status(), 200);
    let fresh = fresh.with_session_from_jar();
    let history = fresh
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    assert_eq!(history["messages"][0]["body"], "written before the change");
    Ok(())
}

#[tokio::test]
async fn idle_session_expires() -> anyhow::Result<()> {
    let options = AppOptions {
        env: vec![("KINLINK__SESSION__IDLE_TIMEOUT_MINUTES".into(), "0".into())],
        ..AppOptions::default()
    };
    let app = TestApp::spawn_with(options).await?;
    let alex = app.sign_in("adoptive_parent").await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(alex.get("/api/v1/me").await?.status(), 401);
    Ok(())
}

#[tokio::test]
async fn totp_code_works_once() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let user = app.demo_user("la_manager")?.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let code = kinlink_core::crypto::totp::code_from_base32(
        user["totp_secret"].as_str().unwrap_or(""),
        now,
    )
    .unwrap_or_default();
    let body = json!({ "email": user["email"], "password": user["password"], "totp_code": code });
    let (first, _) = attempt(&app, body.clone()).await?;
    assert_eq!(first, 200);
    let (second, reply) = attempt(&app, body).await?;
    assert_eq!(
        (second, reply["code"].as_str()),
        (401, Some("auth.second_factor_invalid"))
    );
    Ok(())
}

#[tokio::test]
async fn parallel_guesses_are_throttled() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let email = app.demo_user("birth_parent")?["email"].clone();
    let mut guesses = Vec::new();
    for n in 0..20 {
        let client = Client::new(&app.address)?;
        let body = json!({ "email": email, "password": format!("guess number {n}") });
        guesses.push(tokio::spawn(async move {
            let response = client.post("/api/v1/auth/sign-in", &body).await?;
            Ok::<_, anyhow::Error>(response.status().as_u16())
        }));
    }
    let mut refused = 0;
    let mut wrong = 0;
    for guess in guesses {
        match guess.await?? {
            401 => wrong += 1,
            429 => refused += 1,
            other => anyhow::bail!("unexpected status {other}"),
        }
    }
    assert!(wrong <= 5, "{wrong} guesses were checked");
    assert_eq!(wrong + refused, 20);
    Ok(())
}

#[tokio::test]
async fn confirm_is_limited_to_the_organisation() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let manager = app.sign_in("la_manager").await?;
    let owen = app.sign_in("va_practitioner").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let priya = app.sign_in("la_practitioner").await?;
    let priya_id = priya.get_json("/api/v1/me").await?["user"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let path = format!("/api/v1/users/{priya_id}/confirm");

    assert_eq!(
        owen.post(&path, &json!({})).await?.status(),
        404,
        "another organisation"
    );
    assert_eq!(
        jordan.post(&path, &json!({})).await?.status(),
        404,
        "a family member"
    );
    assert_eq!(
        manager.post(&path, &json!({})).await?.status(),
        204,
        "an active worker stays active"
    );
    assert_eq!(priya.get("/api/v1/me").await?.status(), 200);
    Ok(())
}
