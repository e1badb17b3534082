//! Key recovery after a lost password, on the real binary. Two platform
//! admins agree through the API, and the real `kinlink recovery` commands
//! seal the user's key for a one-time link that a real SMTP server
//! receives. The user then reads their history under a new password.
//! Message text appears nowhere on the way: not in the commands' output,
//! the server's log or the database.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use kinlink_store::entity::{audit_event, email_outbox, key_recovery};
use kinlink_tests::app::binary;
use kinlink_tests::mail::{Catcher, Received};
use kinlink_tests::secrets::{Secret, database_bytes, find_in};
use kinlink_tests::{AppOptions, Client, TestApp};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

const RECOVERIES: &str = "/api/v1/admin/key-recoveries";
const NEW_PASSWORD: &str = "a new password after the loss";

/// Output of one run of the binary.
struct Run {
    success: bool,
    /// Standard output and standard error together.
    text: String,
}

/// Runs `kinlink` with `args` against the app's database, sending email to
/// `catcher`.
async fn kinlink(app: &TestApp, catcher: &Catcher, args: &[&str]) -> anyhow::Result<Run> {
    let output = tokio::process::Command::new(binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "debug")
        .env("KINLINK__DATA_DIR", app.data_dir.path())
        .env(
            "KINLINK__DATABASE__URL",
            app.database.url(app.data_dir.path()),
        )
        .env("KINLINK__EMAIL__SMTP_URL", &catcher.url)
        .env("KINLINK__SERVER__PUBLIC_ORIGIN", &app.address)
        .output()
        .await?;
    Ok(Run {
        success: output.status.success(),
        text: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// Makes a recovery key pair with `recovery keygen` and returns the
/// public key it printed.
async fn keygen(out: &Path) -> anyhow::Result<(String, String)> {
    let output = tokio::process::Command::new(binary())
        .args(["recovery", "keygen", "--out"])
        .arg(out)
        .env_clear()
        .output()
        .await?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(output.status.success(), "keygen failed: {text}");
    let public = text
        .lines()
        .find_map(|line| line.strip_prefix("KINLINK__KEYS__RECOVERY_PUBLIC_KEY="))
        .context("keygen printed no public key")?
        .to_owned();
    Ok((public, text))
}

/// A server sending email to its own catcher, with a recovery key pair
/// whose private half sits in a file outside the server's data folder.
struct Setup {
    app: TestApp,
    catcher: Catcher,
    key_dir: tempfile::TempDir,
    keygen_output: String,
}

impl Setup {
    async fn start() -> anyhow::Result<Setup> {
        let catcher = Catcher::start(Duration::from_secs(60))?;
        let key_dir = tempfile::tempdir()?;
        let (public, keygen_output) = keygen(&key_dir.path().join("recovery.key")).await?;
        let app = TestApp::spawn_with(AppOptions {
            env: vec![
                ("KINLINK__EMAIL__SMTP_URL".into(), catcher.url.clone()),
                ("KINLINK__EMAIL__POLL_SECONDS".into(), "1".into()),
                ("KINLINK__KEYS__RECOVERY_PUBLIC_KEY".into(), public),
            ],
            ..AppOptions::default()
        })
        .await?;
        Ok(Setup {
            app,
            catcher,
            key_dir,
            keygen_output,
        })
    }

    fn key_file(&self) -> String {
        self.key_dir
            .path()
            .join("recovery.key")
            .display()
            .to_string()
    }

    async fn send_link(&self, request: &str, key_file: &str) -> anyhow::Result<Run> {
        kinlink(
            &self.app,
            &self.catcher,
            &[
                "recovery",
                "send-link",
                "--request",
                request,
                "--private-key",
                key_file,
            ],
        )
        .await
    }

    fn email_of(&self, key: &str) -> anyhow::Result<String> {
        Ok(self.app.demo_user(key)?["email"]
            .as_str()
            .context("email")?
            .to_owned())
    }

    /// Waits for an email to `address` with `subject`.
    async fn wait_for_email(&self, address: &str, subject: &str) -> anyhow::Result<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self.emails(address, subject)?.pop() {
                return Ok(found);
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "no email {subject:?} to {address}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn emails(&self, address: &str, subject: &str) -> anyhow::Result<Vec<Received>> {
        Ok(self
            .catcher
            .messages()?
            .into_iter()
            .filter(|m| m.envelope["rcpt_tos"][0] == address)
            .filter(|m| m.header("Subject").as_deref() == Some(subject))
            .collect())
    }
}

/// Returns how many rejection emails were queued for the account with
/// `email`.
async fn rejection_emails_queued(app: &TestApp, email: &str) -> anyhow::Result<usize> {
    let store = app.store().await?;
    let user = store
        .find_user_by_email(email)
        .await?
        .context("the account")?
        .id;
    Ok(email_outbox::Entity::find()
        .filter(email_outbox::Column::UserId.eq(user))
        .filter(email_outbox::Column::Template.eq("recovery_rejected"))
        .all(&store.db)
        .await?
        .len())
}

/// Asks for a recovery of the account with `email` as `admin`.
async fn request(admin: &Client, email: &str) -> anyhow::Result<(u16, Value)> {
    let body = json!({ "email": email, "reason": "Ticket 4411: identity checked by phone" });
    kinlink_tests::client::status_and_json(admin.post(RECOVERIES, &body).await?).await
}

async fn approve(admin: &Client, id: &str) -> anyhow::Result<(u16, Value)> {
    let path = format!("{RECOVERIES}/{id}/approve");
    kinlink_tests::client::status_and_json(admin.post(&path, &json!({})).await?).await
}

async fn rejections(app: &TestApp) -> anyhow::Result<Vec<audit_event::Model>> {
    let store = app.store().await?;
    Ok(audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("key_recovery.rejected"))
        .all(&store.db)
        .await?)
}

async fn sign_in_with(
    app: &TestApp,
    email: &str,
    password: &str,
    totp_code: Option<String>,
) -> anyhow::Result<(u16, Client)> {
    let client = Client::new(&app.address)?;
    let mut body = json!({ "email": email, "password": password });
    if let Some(code) = totp_code {
        body["totp_code"] = Value::String(code);
    }
    let status = client
        .post("/api/v1/auth/sign-in", &body)
        .await?
        .status()
        .as_u16();
    Ok((status, client.with_session_from_jar()))
}

fn subject_id(value: &Value) -> anyhow::Result<String> {
    Ok(value["id"].as_str().context("id")?.to_owned())
}

#[tokio::test]
async fn two_admins_recover_a_lost_password() -> anyhow::Result<()> {
    let setup = Setup::start().await?;
    let app = &setup.app;
    let birth_email = setup.email_of("birth_parent")?;

    // Both sides write before the loss; the secrets are every text sent.
    let birth = app.sign_in("birth_parent").await?;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let link = birth.conversation_id("contact_link").await?;
    let mut birth_socket = birth.socket().await?;
    let mut adoptive_socket = adoptive.socket().await?;
    adoptive_socket.subscribe(&link, 0).await?;
    let mut secrets = Vec::new();
    for n in 0..3 {
        let sent = format!("before the loss {} {n}", uuid::Uuid::new_v4().simple());
        birth_socket.say(&link, &sent).await?;
        adoptive_socket.messages(&link, 1).await?;
        let received = format!("a reply {} {n}", uuid::Uuid::new_v4().simple());
        adoptive_socket.say(&link, &received).await?;
        for text in [sent, received] {
            secrets.push(Secret {
                name: format!("message {text}"),
                bytes: text.into_bytes(),
            });
        }
    }
    drop(birth_socket);

    // The first admin requests it, and the owner is emailed at once.
    let first = app.sign_in("platform_admin").await?;
    let second = app.sign_in("second_platform_admin").await?;
    let (status, asked) = request(&first, &birth_email).await?;
    assert_eq!(status, 201, "{asked}");
    assert_eq!(asked["state"], "requested");
    let id = subject_id(&asked)?;
    setup
        .wait_for_email(
            &birth_email,
            "A recovery of your KinLink account was asked for",
        )
        .await?;

    // One admin alone: approving their own request, or running the
    // command before a second approval, is rejected, audited and emailed to the owner.
    let (status, own) = approve(&first, &id).await?;
    assert_eq!(
        (status, own["code"].as_str()),
        (403, Some("recovery.rejected"))
    );
    let early = setup.send_link(&id, &setup.key_file()).await?;
    assert!(!early.success, "{}", early.text);
    assert!(
        early.text.contains("second platform admin"),
        "{}",
        early.text
    );
    let rejected = rejections(app).await?;
    assert_eq!(rejected.len(), 2, "{rejected:#?}");
    setup
        .wait_for_email(
            &birth_email,
            "An attempt to recover your KinLink account was rejected",
        )
        .await?;

    let (status, approved) = approve(&second, &id).await?;
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["state"], "approved");

    // A key that is not the pinned one is rejected before anything opens.
    let stranger = setup.key_dir.path().join("other.key");
    keygen(&stranger).await?;
    let wrong = setup
        .send_link(&id, &stranger.display().to_string())
        .await?;
    assert!(!wrong.success, "{}", wrong.text);
    assert!(
        wrong
            .text
            .contains("differs from the recovery public key pinned"),
        "{}",
        wrong.text
    );
    assert_eq!(rejections(app).await?.len(), 3);

    let sent = setup.send_link(&id, &setup.key_file()).await?;
    assert!(sent.success, "{}", sent.text);
    assert!(sent.text.contains("Emailed the link"), "{}", sent.text);
    // The old session ended with the command.
    assert_eq!(birth.get("/api/v1/me").await?.status(), 401);

    let (token, email) = setup.catcher.link_token(&birth_email, "recover#").await?;
    assert!(email.contains(&format!("{}/recover#{token}", app.address)));
    let token_secret = Secret {
        name: "recovery link token".to_owned(),
        bytes: token.clone().into_bytes(),
    };
    // While the key waits sealed for the link, too.
    let waiting = database_bytes(app).await?;
    let hits = find_in(&waiting, &secrets);
    assert!(hits.is_empty(), "found in the waiting database: {hits:#?}");
    let hits = find_in(&waiting, std::slice::from_ref(&token_secret));
    assert!(
        hits.is_empty(),
        "the link token is in the database: {hits:#?}"
    );

    let anyone = Client::new(&app.address)?;
    let opened = anyone
        .post("/api/v1/account-recovery/open", &json!({ "token": token }))
        .await?;
    let (status, opened) = kinlink_tests::client::status_and_json(opened).await?;
    assert_eq!(status, 200, "{opened}");
    assert_eq!(opened["email"], birth_email.as_str());
    assert!(opened["second_factor"].is_null());

    let complete = json!({ "token": token, "new_password": NEW_PASSWORD });
    let done = anyone
        .post("/api/v1/account-recovery/complete", &complete)
        .await?;
    let (status, done) = kinlink_tests::client::status_and_json(done).await?;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["recovery_codes"], json!([]));
    let again = anyone
        .post("/api/v1/account-recovery/complete", &complete)
        .await?;
    let (status, again) = kinlink_tests::client::status_and_json(again).await?;
    assert_eq!(
        (status, again["code"].as_str()),
        (410, Some("recovery.used"))
    );

    // The old password no longer works; the new one reads everything.
    let old_password = app.demo_user("birth_parent")?["password"]
        .as_str()
        .context("password")?
        .to_owned();
    let (status, _) = sign_in_with(app, &birth_email, &old_password, None).await?;
    assert_eq!(status, 401);
    let (status, recovered) = sign_in_with(app, &birth_email, NEW_PASSWORD, None).await?;
    assert_eq!(status, 200);
    let history = recovered
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .context("messages")?
        .iter()
        .filter_map(|message| message["body"].as_str())
        .collect();
    for secret in &secrets {
        let text = std::str::from_utf8(&secret.bytes)?;
        assert!(bodies.contains(&text), "{text} missing from {bodies:?}");
    }
    let listed = first.get(RECOVERIES).await?.text().await?;
    assert!(listed.contains("\"completed\""), "{listed}");

    // No message text, and no link token, anywhere an admin or operator
    // looks: the commands' output, the admins' list, the log, the database.
    let mut everything = secrets;
    everything.push(token_secret);
    for (place, bytes) in [
        ("keygen output", setup.keygen_output.clone().into_bytes()),
        ("rejected command output", early.text.into_bytes()),
        ("wrong-key command output", wrong.text.into_bytes()),
        ("command output", sent.text.into_bytes()),
        ("admins' list", listed.into_bytes()),
        ("server log", app.logs().into_bytes()),
        ("database", database_bytes(app).await?),
    ] {
        let hits = find_in(&bytes, &everything);
        assert!(hits.is_empty(), "found in the {place}: {hits:#?}");
    }
    let store = app.store().await?;
    let row = key_recovery::Entity::find_by_id(id.parse::<uuid::Uuid>()?)
        .one(&store.db)
        .await?
        .context("recovery row")?;
    assert!(row.sealed_private_key.is_none());
    assert!(row.enrolment_sealed_secret.is_none());
    assert_eq!(row.outcome.as_deref(), Some("completed"));
    Ok(())
}

#[tokio::test]
async fn worker_recovery_new_authenticator() -> anyhow::Result<()> {
    let setup = Setup::start().await?;
    let app = &setup.app;
    let email = setup.email_of("la_practitioner")?;
    let first = app.sign_in("platform_admin").await?;
    let second = app.sign_in("second_platform_admin").await?;
    let (_, asked) = request(&first, &email).await?;
    let id = subject_id(&asked)?;
    assert_eq!(approve(&second, &id).await?.0, 200);
    let sent = setup.send_link(&id, &setup.key_file()).await?;
    assert!(sent.success, "{}", sent.text);
    let (token, _) = setup.catcher.link_token(&email, "recover#").await?;

    let anyone = Client::new(&app.address)?;
    let opened = anyone
        .post("/api/v1/account-recovery/open", &json!({ "token": token }))
        .await?;
    let (status, opened) = kinlink_tests::client::status_and_json(opened).await?;
    assert_eq!(status, 200, "{opened}");
    let secret = opened["second_factor"]["secret"]
        .as_str()
        .context("a worker is offered a new authenticator key")?
        .to_owned();

    let without_code = json!({ "token": token, "new_password": NEW_PASSWORD });
    let (status, missing) = kinlink_tests::client::status_and_json(
        anyone
            .post("/api/v1/account-recovery/complete", &without_code)
            .await?,
    )
    .await?;
    assert_eq!(
        (status, missing["field"].as_str()),
        (400, Some("totp_code"))
    );
    let wrong_code = json!({ "token": token, "new_password": NEW_PASSWORD, "totp_code": "000000" });
    let (status, wrong) = kinlink_tests::client::status_and_json(
        anyone
            .post("/api/v1/account-recovery/complete", &wrong_code)
            .await?,
    )
    .await?;
    assert_eq!((status, wrong["field"].as_str()), (400, Some("totp_code")));

    let now = chrono::Utc::now().timestamp() as u64;
    let code = kinlink_core::crypto::totp::code_from_base32(&secret, now).context("code")?;
    let body = json!({ "token": token, "new_password": NEW_PASSWORD, "totp_code": code });
    let (status, done) = kinlink_tests::client::status_and_json(
        anyone
            .post("/api/v1/account-recovery/complete", &body)
            .await?,
    )
    .await?;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["recovery_codes"].as_array().map(Vec::len), Some(10));

    // The code used to complete cannot also sign in; the next step's can.
    let (status, _) = sign_in_with(app, &email, NEW_PASSWORD, Some(code)).await?;
    assert_eq!(status, 401);
    let next = kinlink_core::crypto::totp::code_from_base32(&secret, now + 30).context("code")?;
    let (status, _) = sign_in_with(app, &email, NEW_PASSWORD, Some(next)).await?;
    assert_eq!(status, 200);
    Ok(())
}

#[tokio::test]
async fn only_a_second_platform_admin_may_recover() -> anyhow::Result<()> {
    let setup = Setup::start().await?;
    let app = &setup.app;
    let birth_email = setup.email_of("birth_parent")?;
    let rejected_subject = "An attempt to recover your KinLink account was rejected";

    // A manager and a family member are not platform admins: rejected,
    // audited, and the account's owner emailed.
    for key in ["la_manager", "adoptive_parent"] {
        let low = app.sign_in(key).await?;
        let (status, answer) = request(&low, &birth_email).await?;
        assert_eq!(
            (status, answer["code"].as_str()),
            (403, Some("request.forbidden")),
            "{key}"
        );
        let (status, _) =
            kinlink_tests::client::status_and_json(low.get(RECOVERIES).await?).await?;
        assert_eq!(status, 403, "{key}");
    }
    // Each request and each look at the list is audited.
    let rejected = rejections(app).await?;
    assert_eq!(rejected.len(), 4, "{rejected:#?}");
    assert!(rejected.iter().all(|row| row.actor_id.is_some()));
    let about_the_owner = rejected
        .iter()
        .filter(|row| row.subject_id.is_some())
        .count();
    assert_eq!(about_the_owner, 2);
    // The owner is emailed once an hour at most, however many attempts.
    setup.wait_for_email(&birth_email, rejected_subject).await?;
    assert_eq!(rejection_emails_queued(app, &birth_email).await?, 1);

    // An admin cannot start the recovery of their own account.
    let first = app.sign_in("platform_admin").await?;
    let own_email = setup.email_of("platform_admin")?;
    let (status, own) = request(&first, &own_email).await?;
    assert_eq!(
        (status, own["code"].as_str()),
        (403, Some("recovery.rejected"))
    );

    // A family member cannot approve one an admin requested, and the
    // request stays waiting for a real second admin.
    let (status, asked) = request(&first, &birth_email).await?;
    assert_eq!(status, 201, "{asked}");
    let id = subject_id(&asked)?;
    let family = app.sign_in("adoptive_parent").await?;
    let (status, _) = approve(&family, &id).await?;
    assert_eq!(status, 403);
    let (status, twice) = request(&first, &birth_email).await?;
    assert_eq!(status, 409, "{twice}");
    assert_eq!(rejections(app).await?.len(), 6);

    // Bad input names its field and stores nothing.
    let bad = json!({ "email": "not an address", "reason": "x" });
    let (status, answer) =
        kinlink_tests::client::status_and_json(first.post(RECOVERIES, &bad).await?).await?;
    assert_eq!((status, answer["field"].as_str()), (400, Some("email")));
    let blank = json!({ "email": setup.email_of("la_practitioner")?, "reason": "  " });
    let (status, answer) =
        kinlink_tests::client::status_and_json(first.post(RECOVERIES, &blank).await?).await?;
    assert_eq!((status, answer["field"].as_str()), (400, Some("reason")));
    let listed = first.get_json(RECOVERIES).await?;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");

    // Cancelling ends it; the command then rejects it.
    let cancel = format!("{RECOVERIES}/{id}/cancel");
    let (status, cancelled) =
        kinlink_tests::client::status_and_json(first.post(&cancel, &json!({})).await?).await?;
    assert_eq!(
        (status, cancelled["state"].as_str()),
        (200, Some("cancelled"))
    );
    let late = setup.send_link(&id, &setup.key_file()).await?;
    assert!(
        !late.success && late.text.contains("cancelled"),
        "{}",
        late.text
    );
    Ok(())
}

#[tokio::test]
async fn lapsed_recoveries_close_and_drop_keys() -> anyhow::Result<()> {
    let setup = Setup::start().await?;
    let app = &setup.app;
    let store = app.store().await?;
    let first = app.sign_in("platform_admin").await?;
    let second = app.sign_in("second_platform_admin").await?;

    // A request not approved within its week no longer blocks a new one.
    let birth_email = setup.email_of("birth_parent")?;
    let (_, asked) = request(&first, &birth_email).await?;
    let lapsed: uuid::Uuid = subject_id(&asked)?.parse()?;
    let mut row: key_recovery::ActiveModel = key_recovery::Entity::find_by_id(lapsed)
        .one(&store.db)
        .await?
        .context("recovery")?
        .into();
    row.requested_at = sea_orm::ActiveValue::Set(chrono::Utc::now() - chrono::Duration::days(8));
    row.update(&store.db).await?;
    let (status, again) = request(&first, &birth_email).await?;
    assert_eq!(status, 201, "{again}");
    let closed = key_recovery::Entity::find_by_id(lapsed)
        .one(&store.db)
        .await?
        .context("recovery")?;
    assert_eq!(closed.outcome.as_deref(), Some("expired"));
    assert!(closed.open_user_id.is_none());

    // A link that ran out loses its sealed key at the next sweep.
    let worker_email = setup.email_of("la_practitioner")?;
    let (_, asked) = request(&first, &worker_email).await?;
    let id = subject_id(&asked)?;
    assert_eq!(approve(&second, &id).await?.0, 200);
    assert!(setup.send_link(&id, &setup.key_file()).await?.success);
    let sent: uuid::Uuid = id.parse()?;
    let waiting = key_recovery::Entity::find_by_id(sent)
        .one(&store.db)
        .await?
        .context("recovery")?;
    assert!(waiting.sealed_private_key.is_some());
    let expired_at = waiting.link_expires_at.context("link expiry")? + chrono::Duration::minutes(1);
    let blobs: std::sync::Arc<dyn kinlink_media::blob::BlobStore> = std::sync::Arc::new(
        kinlink_media::blob::LocalDisk::open(&app.data_dir.path().join("media"))?,
    );
    let report =
        kinlink_actors::retention::sweep(&store, &blobs, None, None, 10, expired_at).await?;
    assert_eq!(report.recoveries_expired, 1);
    let ended = key_recovery::Entity::find_by_id(sent)
        .one(&store.db)
        .await?
        .context("recovery")?;
    assert_eq!(ended.outcome.as_deref(), Some("expired"));
    assert!(ended.sealed_private_key.is_none());
    assert!(ended.ended_at.is_some());
    Ok(())
}

#[tokio::test]
async fn disabled_account_cannot_be_recovered() -> anyhow::Result<()> {
    let setup = Setup::start().await?;
    let app = &setup.app;
    let first = app.sign_in("platform_admin").await?;
    let second = app.sign_in("second_platform_admin").await?;
    let manager = app.sign_in("la_manager").await?;
    let email = setup.email_of("birth_parent")?;
    let (_, asked) = request(&first, &email).await?;
    let id = subject_id(&asked)?;
    assert_eq!(approve(&second, &id).await?.0, 200);
    assert!(setup.send_link(&id, &setup.key_file()).await?.success);
    let (token, _) = setup.catcher.link_token(&email, "recover#").await?;

    // Disabling the account cancels its recovery: the link stops working.
    let store = app.store().await?;
    let user = store
        .find_user_by_email(&email)
        .await?
        .context("the account")?
        .id;
    let disabled = manager
        .post(&format!("/api/v1/users/{user}/disable"), &json!({}))
        .await?;
    assert_eq!(disabled.status(), 204);
    let anyone = Client::new(&app.address)?;
    let body = json!({ "token": token, "new_password": NEW_PASSWORD });
    let (status, answer) = kinlink_tests::client::status_and_json(
        anyone
            .post("/api/v1/account-recovery/complete", &body)
            .await?,
    )
    .await?;
    assert_eq!(
        (status, answer["code"].as_str()),
        (410, Some("recovery.expired"))
    );
    let listed = first.get_json(RECOVERIES).await?;
    assert_eq!(listed[0]["state"], "cancelled", "{listed}");

    // A new request for the disabled account is rejected, naming the field.
    let (status, answer) = request(&first, &email).await?;
    assert_eq!((status, answer["field"].as_str()), (400, Some("email")));
    Ok(())
}
