//! Marketing email through a real SMTP server: only to users who opted
//! in, with `List-Unsubscribe` and one-click `List-Unsubscribe-Post` (RFC
//! 8058), and a one-time unsubscribe link that works without a session or
//! an Origin header.

use std::time::Duration;

use kinlink_store::entity::unsubscribe_link;
use kinlink_tests::app::TestApp;
use kinlink_tests::mail::{Catcher, Received};
use sea_orm::EntityTrait;
use serde_json::{Value, json};

const PREFERENCES: &str = "/api/v1/me/notifications";

fn opt_in(marketing: bool) -> Value {
    json!({"delivery": "immediate", "digest_hour": 18, "time_zone": "Europe/London", "marketing": marketing})
}

/// Runs `kinlink queue-news` against the app's database.
async fn queue_news(app: &TestApp) -> anyhow::Result<String> {
    let output = app.command().arg("queue-news").output().await?;
    anyhow::ensure!(
        output.status.success(),
        "queue-news failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

async fn news_to(catcher: &Catcher, address: &str) -> anyhow::Result<Vec<Received>> {
    Ok(catcher
        .messages()?
        .into_iter()
        .filter(|m| m.envelope["rcpt_tos"][0] == address)
        .filter(|m| m.header("Subject").as_deref() == Some("News from KinLink"))
        .collect())
}

#[tokio::test]
async fn news_email_unsubscribes_in_one_click() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let adoptive = app.sign_in("adoptive_parent").await?;
    let birth = app.sign_in("birth_parent").await?;
    assert_eq!(adoptive.get_json(PREFERENCES).await?["marketing"], false);
    assert_eq!(
        adoptive.put(PREFERENCES, &opt_in(true)).await?.status(),
        200
    );
    assert_eq!(birth.put(PREFERENCES, &opt_in(false)).await?.status(), 200);

    let printed = queue_news(&app).await?;
    assert!(printed.contains("for 1 users"), "{printed}");
    let address = |key: &str| -> anyhow::Result<String> {
        Ok(app.demo_user(key)?["email"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    };
    let adoptive_address = address("adoptive_parent")?;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let news = loop {
        let found = news_to(&catcher, &adoptive_address).await?;
        if let Some(first) = found.into_iter().next() {
            break first;
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "no news email");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        news_to(&catcher, &address("birth_parent")?)
            .await?
            .is_empty()
    );

    let header = news.header("List-Unsubscribe").unwrap_or_default();
    let prefix = format!("<{}/api/v1/unsubscribe/", app.address);
    assert!(
        header.starts_with(&prefix) && header.ends_with('>'),
        "{header}"
    );
    let token = header[prefix.len()..header.len() - 1].to_owned();
    assert_eq!(token.len(), 43);
    assert_eq!(
        news.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    assert_eq!(
        news.header("To").as_deref(),
        Some(adoptive_address.as_str())
    );
    let body = news.body()?;
    assert!(body.contains(&format!("{}/unsubscribe#{token}", app.address)));
    for word in ["Alex", "Carter", "Northshire", "Priya"] {
        assert!(!news.raw.contains(word), "{word} in the headers");
        assert!(!body.contains(word), "{word} in the body");
    }
    for line in news.raw.split("\r\n") {
        assert!(line.len() <= 998, "a line of {} octets", line.len());
    }

    // Stored only as a hash.
    let store = app.store().await?;
    let links = unsubscribe_link::Entity::find().all(&store.db).await?;
    assert_eq!(links.len(), 1);
    assert_ne!(links[0].token_hash, token.as_bytes());

    // One click, as a mail program does it: no session, no Origin.
    let http = reqwest::Client::new();
    let one_click = format!("{}/api/v1/unsubscribe/{token}", app.address);
    let response = http
        .post(&one_click)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await?;
    assert_eq!(response.status(), 200);
    assert_eq!(adoptive.get_json(PREFERENCES).await?["marketing"], false);
    // A second click changes nothing and still succeeds.
    assert_eq!(http.post(&one_click).send().await?.status(), 200);
    let used = unsubscribe_link::Entity::find().all(&store.db).await?;
    assert!(used[0].used_at.is_some());
    // Opting in again is the user's own choice, and the old link stays used.
    assert_eq!(
        adoptive.put(PREFERENCES, &opt_in(true)).await?.status(),
        200
    );
    assert_eq!(http.post(&one_click).send().await?.status(), 200);
    assert_eq!(adoptive.get_json(PREFERENCES).await?["marketing"], true);

    let forged = format!("{}/api/v1/unsubscribe/{}", app.address, "A".repeat(43));
    let response = http.post(&forged).send().await?;
    assert_eq!(response.status(), 404);
    let error: Value = response.json().await?;
    assert_eq!(error["code"], "unsubscribe.unknown");
    // Other routes still need the Origin header.
    let response = http
        .post(format!("{}/api/v1/unsubscribe", app.address))
        .json(&json!({"token": token}))
        .send()
        .await?;
    assert_eq!(response.status(), 403);
    Ok(())
}
