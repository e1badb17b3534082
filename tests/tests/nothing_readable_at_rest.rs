//! After a conversation, neither the database files nor the logs hold any
//! message text, password, key or session token.

use kinlink_core::{ConversationId, UserId};
use kinlink_tests::secrets::{Secret, conversation_key, database_bytes, find_in, user_keys};
use kinlink_tests::{AppOptions, TestApp};
use sea_orm::ConnectionTrait;
use serde_json::json;

/// Runs a conversation between the two parents and both practitioners and
/// returns every secret involved.
async fn converse(app: &TestApp) -> anyhow::Result<Vec<Secret>> {
    let mut secrets = Vec::new();
    let store = app.store().await?;
    let keys = [
        "adoptive_parent",
        "birth_parent",
        "la_practitioner",
        "va_practitioner",
    ];
    let mut clients = Vec::new();
    for key in keys {
        let client = app.sign_in(key).await?;
        let user = app.demo_user(key)?;
        let password = user["password"].as_str().unwrap_or_default().to_owned();
        let id: UserId = client.get_json("/api/v1/me").await?["user"]["id"]
            .as_str()
            .unwrap_or_default()
            .parse()?;
        let (kek, private) = user_keys(&store, id, &password).await?;
        secrets.push(Secret {
            name: format!("{key} password"),
            bytes: password.into_bytes(),
        });
        secrets.push(Secret {
            name: format!("{key} key-encryption key"),
            bytes: kek.expose().to_vec(),
        });
        secrets.push(Secret {
            name: format!("{key} private key"),
            bytes: private.expose().to_vec(),
        });
        let token = client.session_token.clone().unwrap_or_default();
        let raw_token =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &token)?;
        secrets.push(Secret {
            name: format!("{key} session token"),
            bytes: raw_token,
        });
        secrets.push(Secret {
            name: format!("{key} session cookie"),
            bytes: token.into_bytes(),
        });
        clients.push((client, id, private));
    }

    for (kind, speakers) in [("contact_link", [0usize, 1]), ("discussion", [2, 3])] {
        let conversation = clients[speakers[0]].0.conversation_id(kind).await?;
        let mut first = clients[speakers[0]].0.socket().await?;
        let mut second = clients[speakers[1]].0.socket().await?;
        second.subscribe(&conversation, 0).await?;
        for n in 0..3 {
            let text = format!("private words {} {kind} {n}", uuid::Uuid::new_v4().simple());
            first.say(&conversation, &text).await?;
            second.messages(&conversation, 1).await?;
            secrets.push(Secret {
                name: format!("message {kind} {n}"),
                bytes: text.into_bytes(),
            });
            let reply = format!("reply words {} {kind} {n}", uuid::Uuid::new_v4().simple());
            second.say(&conversation, &reply).await?;
            secrets.push(Secret {
                name: format!("reply {kind} {n}"),
                bytes: reply.into_bytes(),
            });
        }
        let (_, member, private) = &clients[speakers[0]];
        let id: ConversationId = conversation.parse()?;
        let key = conversation_key(&store, id, 0, *member, private).await?;
        secrets.push(Secret {
            name: format!("{kind} conversation key"),
            bytes: key.expose().to_vec(),
        });
    }
    secrets.extend(write_letterbox(&clients[1].0, &clients[2].0).await?);
    Ok(secrets)
}

/// Sets a contact agreement with a protected term, writes a letter that a
/// practitioner returns with a reason, suspends the link with a reason and
/// adds a case note; returns each text.
async fn write_letterbox(
    family: &kinlink_tests::Client,
    practitioner: &kinlink_tests::Client,
) -> anyhow::Result<Vec<Secret>> {
    let unique = |label: &str| format!("{label} {}", uuid::Uuid::new_v4().simple());
    let term = unique("Protectedname");
    let letter_text = unique("letter words");
    let reason = unique("return reason");
    let suspension = unique("suspension reason");
    let note = unique("case note words");
    let link = practitioner.conversation_id("contact_link").await?;
    let agreement_path = format!("/api/v1/conversations/{link}/agreement");
    kinlink_tests::agreements::change(practitioner, &link, |agreement| {
        agreement["protected_terms"] = json!([{"kind": "other", "text": term}]);
    })
    .await?;

    let draft: serde_json::Value = family
        .post(
            &format!("/api/v1/conversations/{link}/letters"),
            &json!({"body": letter_text}),
        )
        .await?
        .json()
        .await?;
    let letter = format!(
        "/api/v1/letters/{}",
        draft["id"].as_str().unwrap_or_default()
    );
    anyhow::ensure!(
        family
            .post(&format!("{letter}/submit"), &json!({}))
            .await?
            .status()
            == 200
    );
    let decided = practitioner
        .post(
            &format!("{letter}/decision"),
            &json!({"decision": "return", "reason": reason}),
        )
        .await?;
    anyhow::ensure!(
        decided.status() == 200,
        "decision: {}",
        decided.text().await?
    );
    let status = format!("{agreement_path}/status");
    anyhow::ensure!(
        practitioner
            .post(
                &status,
                &json!({"status": "suspended", "reason": suspension})
            )
            .await?
            .status()
            == 200
    );
    anyhow::ensure!(
        practitioner
            .post(&status, &json!({"status": "active"}))
            .await?
            .status()
            == 200
    );
    let noted = practitioner
        .post(
            &format!("/api/v1/conversations/{link}/notes"),
            &json!({"body": note}),
        )
        .await?;
    anyhow::ensure!(noted.status() == 201, "note: {}", noted.text().await?);
    Ok([
        ("protected term", term),
        ("letter text", letter_text),
        ("return reason", reason),
        ("suspension reason", suspension),
        ("case note", note),
    ]
    .into_iter()
    .map(|(name, text)| Secret {
        name: name.to_owned(),
        bytes: text.into_bytes(),
    })
    .collect())
}

#[tokio::test]
async fn database_holds_no_plaintext_or_keys() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let secrets = converse(&app).await?;
    let bytes = database_bytes(&app).await?;
    let hits = find_in(&bytes, &secrets);
    assert!(hits.is_empty(), "found in the database: {hits:#?}");
    Ok(())
}

#[tokio::test]
async fn trace_logs_hold_no_secrets() -> anyhow::Result<()> {
    let options = AppOptions {
        rust_log: "trace".to_owned(),
        ..AppOptions::default()
    };
    let app = TestApp::spawn_with(options).await?;
    let secrets = converse(&app).await?;
    let logs = app.logs();
    assert!(
        logs.len() > 10_000,
        "trace logging produced only {} bytes",
        logs.len()
    );
    let hits = find_in(logs.as_bytes(), &secrets);
    assert!(hits.is_empty(), "found in the logs: {hits:#?}");
    Ok(())
}

#[tokio::test]
async fn scan_detects_a_planted_secret() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(AppOptions::default()).await?;
    let secrets = converse(&app).await?;
    let planted = &secrets
        .iter()
        .find(|secret| secret.name.starts_with("message"))
        .map(|s| s.bytes.clone());
    let planted = planted.clone().unwrap_or_default();
    let store = app.store().await?;
    let backend = store.db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "INSERT INTO platform_settings (name, value) VALUES ('planted', $1)"
        }
        _ => "INSERT INTO platform_settings (name, value) VALUES ('planted', ?)",
    };
    store
        .db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            sql,
            [planted.into()],
        ))
        .await?;
    let bytes = database_bytes(&app).await?;
    assert!(
        !find_in(&bytes, &secrets).is_empty(),
        "a planted message was not found"
    );
    Ok(())
}
