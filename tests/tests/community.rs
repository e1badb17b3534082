//! The community support network through the real server, its database
//! and a real SMTP server: applying by email link, verifying by hand and
//! by a partner's list, profiles with hidden fields, groups, topics and
//! replies with live updates, reports and moderation, and the bad input
//! each route must refuse without losing what was stored.

use anyhow::Context;
use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::mail::Catcher;
use kinlink_tests::uploads::community_image;
use serde_json::{Value, json};

const PASSWORD: &str = "a long community passphrase 7";

/// Returns an address no other run of the tests uses, because the SMTP
/// server is shared by every run against each database.
fn address(local: &str) -> String {
    let unique = uuid::Uuid::new_v4().simple().to_string();
    format!("{local}.{}@example.org", &unique[..12])
}

/// Applies by email link and returns the signed-in applicant.
async fn apply(
    app: &TestApp,
    catcher: &Catcher,
    email: &str,
    fields: Value,
) -> anyhow::Result<(Client, Value)> {
    let anonymous = Client::new(&app.address)?;
    let (status, body) = status_and_json(
        anonymous
            .post("/api/v1/community/applications", &json!({ "email": email }))
            .await?,
    )
    .await?;
    assert_eq!((status, &body["state"]), (202, &json!("check_email")));
    let (token, raw) = catcher.link_token(email, "community/apply#").await?;
    assert!(!raw.contains(PASSWORD));
    let mut request = fields;
    request["token"] = json!(token);
    request["password"] = json!(PASSWORD);
    let response = anonymous
        .post("/api/v1/community/applications/confirm", &request)
        .await?;
    let (status, membership) = status_and_json(response).await?;
    anyhow::ensure!(status == 201, "confirm answered {status}: {membership}");
    // The same link does not work twice.
    let (again, body) = status_and_json(
        anonymous
            .post("/api/v1/community/applications/confirm", &request)
            .await?,
    )
    .await?;
    assert_eq!((again, &body["code"]), (410, &json!("invitation.used")));
    Ok((anonymous.with_session_from_jar(), membership))
}

async fn verify(moderator: &Client, user_id: &Value) -> anyhow::Result<()> {
    let response = moderator
        .post(
            &format!("/api/v1/community/applications/{}/decision", text(user_id)?),
            &json!({ "decision": "verify" }),
        )
        .await?;
    let (status, body) = status_and_json(response).await?;
    anyhow::ensure!(status == 200, "verify answered {status}: {body}");
    Ok(())
}

fn text(value: &Value) -> anyhow::Result<&str> {
    value
        .as_str()
        .with_context(|| format!("not a string: {value}"))
}

async fn group_id(client: &Client, name: &str) -> anyhow::Result<String> {
    let groups = client.get_json("/api/v1/community/groups").await?;
    let group = groups
        .as_array()
        .and_then(|all| all.iter().find(|group| group["name"] == name))
        .with_context(|| format!("no group {name} in {groups}"))?;
    Ok(text(&group["id"])?.to_owned())
}

async fn accept_rules(client: &Client) -> anyhow::Result<()> {
    let response = client
        .post(
            "/api/v1/community/membership/rules",
            &json!({ "version": 1 }),
        )
        .await?;
    anyhow::ensure!(
        response.status() == 204,
        "rules: {}",
        response.text().await?
    );
    Ok(())
}

async fn open_topic(
    client: &Client,
    group: &str,
    title: &str,
    body: &str,
) -> anyhow::Result<Value> {
    let response = client
        .post(
            &format!("/api/v1/community/groups/{group}/topics"),
            &json!({ "title": title, "body": body }),
        )
        .await?;
    let (status, topic) = status_and_json(response).await?;
    anyhow::ensure!(status == 201, "open topic answered {status}: {topic}");
    Ok(topic)
}

async fn reply(client: &Client, topic: &str, body: &str) -> anyhow::Result<(u16, Value)> {
    status_and_json(
        client
            .post(
                &format!("/api/v1/community/topics/{topic}/posts"),
                &json!({ "body": body }),
            )
            .await?,
    )
    .await
}

#[tokio::test]
async fn an_applicant_joins_posts_and_is_moderated() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = catcher.app_sending_here().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;

    let (applicant, membership) = apply(
        &app,
        &catcher,
        &address("river.applicant"),
        json!({ "display_name": "River Light" }),
    )
    .await?;
    assert_eq!(membership["state"], "applied");
    // Waiting, the applicant sees where they stand and nothing else.
    let (status, body) = status_and_json(applicant.get("/api/v1/community/groups").await?).await?;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("community.not_member"))
    );
    let queue = moderator.get_json("/api/v1/community/applications").await?;
    assert!(
        queue.as_array().is_some_and(|all| all
            .iter()
            .any(|a| a["display_name"] == "River Light" && a["list_match"] == false)),
        "{queue}"
    );
    verify(&moderator, &membership["user_id"]).await?;
    let now = applicant.get_json("/api/v1/community/membership").await?;
    assert_eq!(
        (&now["state"], &now["verified_how"]),
        (&json!("active"), &json!("hand"))
    );
    // The community names the applicant by an id of its own: their
    // account's id, which case data carries, finds nothing here.
    let account = applicant.get_json("/api/v1/me").await?;
    assert_ne!(account["user"]["id"], membership["user_id"]);
    let (status, _) = status_and_json(
        member
            .get(&format!(
                "/api/v1/community/members/{}",
                text(&account["user"]["id"])?
            ))
            .await?,
    )
    .await?;
    assert_eq!(status, 404);

    // A profile with one hidden field: the other member never receives it.
    let hidden = "Kinship carers of two nephews";
    let response = applicant
        .put(
            "/api/v1/community/profile",
            &json!({
                "display_name": "River Light",
                "family_makeup": { "value": hidden, "visible": false },
                "legal_status": { "value": "special_guardianship_order", "visible": true },
                "interests": { "value": "Allotments", "visible": true },
            }),
        )
        .await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let seen = member
        .get(&format!(
            "/api/v1/community/members/{}",
            text(&membership["user_id"])?
        ))
        .await?
        .text()
        .await?;
    assert!(!seen.contains(hidden), "{seen}");
    assert!(seen.contains("Allotments") && seen.contains("special_guardianship_order"));
    let own = applicant.get_json("/api/v1/community/profile").await?;
    assert_eq!(own["family_makeup"]["value"], hidden);

    // Posting waits for the rules.
    let group = group_id(&applicant, "New adopters").await?;
    let (status, body) = status_and_json(
        applicant
            .post(
                &format!("/api/v1/community/groups/{group}/topics"),
                &json!({ "title": "Hello", "body": "First" }),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("community.rules_not_accepted"))
    );
    accept_rules(&applicant).await?;

    // The other member follows the group live.
    let mut socket = member.socket().await?;
    socket
        .send(json!({ "type": "community_follow", "group_id": group }))
        .await?;
    socket.sync().await?;
    let topic = open_topic(
        &applicant,
        &group,
        "Settling in at night",
        "Any tips for bedtime?",
    )
    .await?;
    let topic_id = text(&topic["id"])?.to_owned();
    let frame = socket.expect("community").await?;
    assert_eq!(
        (&frame["group_id"], &frame["topic_id"]),
        (&json!(group), &json!(topic_id))
    );

    let (status, posted) = reply(&applicant, &topic_id, "We tried a night light.").await?;
    assert_eq!(status, 201, "{posted}");
    socket.expect("community").await?;

    // The member reports the reply; the moderator hides it with a reason.
    let post_id = text(&posted["id"])?.to_owned();
    let report = member
        .post(
            &format!("/api/v1/community/posts/{post_id}/reports"),
            &json!({ "reason": "Names a school" }),
        )
        .await?;
    assert_eq!(report.status(), 201);
    let reports = moderator.get_json("/api/v1/community/reports").await?;
    assert!(
        reports.as_array().is_some_and(|all| all
            .iter()
            .any(|r| r["post"]["id"] == post_id.as_str() && r["reason"] == "Names a school")),
        "{reports}"
    );
    let reason = "Please leave out the name of a school";
    let (status, hidden_post) = status_and_json(
        moderator
            .post(
                &format!("/api/v1/community/posts/{post_id}/moderation"),
                &json!({ "action": "hide", "reason": reason }),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, &hidden_post["state"]), (200, &json!("hidden")));
    socket.expect("community").await?;
    let queue = moderator.get_json("/api/v1/community/reports").await?;
    assert_eq!(queue.as_array().map(Vec::len), Some(0), "{queue}");

    // Others see that it was hidden, not what it said or why.
    let as_member = member
        .get(&format!("/api/v1/community/topics/{topic_id}"))
        .await?
        .text()
        .await?;
    assert!(
        !as_member.contains("night light") && !as_member.contains(reason),
        "{as_member}"
    );
    let as_author = applicant
        .get_json(&format!("/api/v1/community/topics/{topic_id}"))
        .await?;
    let mine = as_author["posts"]
        .as_array()
        .and_then(|posts| posts.iter().find(|p| p["id"] == post_id.as_str()))
        .context("the reply is missing")?;
    assert_eq!(
        (&mine["state"], &mine["reason"]),
        (&json!("hidden"), &json!(reason))
    );
    let notices = applicant.get_json("/api/v1/community/notices").await?;
    assert_eq!(notices[0]["kind"], "post_hidden");
    assert_eq!(notices[0]["reason"], reason);

    // Every moderation step is in the audit trail, outside any
    // organisation's chain.
    let store = app.store().await?;
    for action in ["community.application_verified", "community.post_hidden"] {
        let rows = store.audit_events_with_action(action).await?;
        assert!(!rows.is_empty(), "no {action} audit row");
        assert!(rows.iter().all(|row| row.organisation_id.is_none()));
    }
    Ok(())
}

#[tokio::test]
async fn markup_is_kept_as_text() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let member = app.sign_in("community_member").await?;
    let group = group_id(&member, "New adopters").await?;
    let markup = "<img src=x onerror=\"window.__pwned=1\"><script>alert(1)</script>";
    let topic = open_topic(&member, &group, "<b>bold?</b>", markup).await?;
    assert_eq!(topic["posts"][0]["body"], markup);
    assert_eq!(topic["title"], "<b>bold?</b>");
    let response = member
        .get(&format!("/api/v1/community/topics/{}", text(&topic["id"])?))
        .await?;
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    Ok(())
}

#[tokio::test]
async fn a_suspended_member_cannot_post_by_any_way() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let group = group_id(&member, "New adopters").await?;
    let topic = open_topic(&member, &group, "Before", "Written before the suspension").await?;
    let topic_id = text(&topic["id"])?.to_owned();
    let me = member.get_json("/api/v1/community/membership").await?;
    let (status, notice) = status_and_json(
        moderator
            .post(
                &format!(
                    "/api/v1/community/members/{}/moderation",
                    text(&me["user_id"])?
                ),
                &json!({ "action": "suspend", "reason": "Cooling off", "days": 3 }),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, &notice["kind"]), (200, &json!("suspension")));

    // The page the member had open still posts over HTTP: refused.
    let (status, body) = reply(&member, &topic_id, "after").await?;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("community.suspended")),
        "{body}"
    );
    let (status, body) = status_and_json(
        member
            .post(
                &format!("/api/v1/community/groups/{group}/topics"),
                &json!({ "title": "New", "body": "after" }),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, &body["code"]),
        (403, &json!("community.suspended"))
    );
    // The WebSocket carries no post at all: a frame that tries is refused.
    let mut socket = member.socket().await?;
    socket
        .send(json!({ "type": "community_post", "topic_id": topic_id, "body": "after" }))
        .await?;
    let error = socket.expect("error").await?;
    assert_eq!(error["code"], "frame.invalid");
    let posts = member
        .get_json(&format!("/api/v1/community/topics/{topic_id}"))
        .await?;
    assert_eq!(posts["posts"].as_array().map(Vec::len), Some(1), "{posts}");

    // Reading goes on; lifting the suspension lets the member post again.
    let (status, _) = status_and_json(
        moderator
            .post(
                &format!(
                    "/api/v1/community/members/{}/moderation",
                    text(&me["user_id"])?
                ),
                &json!({ "action": "lift", "reason": "Served" }),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 200);
    let (status, _) = reply(&member, &topic_id, "back again").await?;
    assert_eq!(status, 201);
    Ok(())
}

#[tokio::test]
async fn an_approval_group_is_not_found_by_outsiders() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = catcher.app_sending_here().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let circle = group_id(&member, "Foster carers' circle").await?;

    let (status, joined) = status_and_json(
        member
            .post(
                &format!("/api/v1/community/groups/{circle}/join"),
                &json!({}),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, &joined["membership"]), (200, &json!("requested")));
    let me = member.get_json("/api/v1/community/membership").await?;
    let response = moderator
        .post(
            &format!(
                "/api/v1/community/groups/{circle}/requests/{}",
                text(&me["user_id"])?
            ),
            &json!({ "decision": "approve" }),
        )
        .await?;
    assert_eq!(response.status(), 204);
    let topic = open_topic(&member, &circle, "Respite care", "Inside the circle").await?;
    let topic_id = text(&topic["id"])?.to_owned();
    let post_id = text(&topic["posts"][0]["id"])?.to_owned();

    // A member who leaves hears no more of the group's changes.
    let mut socket = member.socket().await?;
    socket
        .send(json!({ "type": "community_follow", "group_id": circle }))
        .await?;
    socket.sync().await?;
    let response = member
        .delete(&format!("/api/v1/community/groups/{circle}/membership"))
        .await?;
    assert_eq!(response.status(), 204);
    let (status, _) = reply(&moderator, &topic_id, "After the member left").await?;
    assert_eq!(status, 201);
    let open = group_id(&member, "New adopters").await?;
    socket
        .send(json!({ "type": "community_follow", "group_id": open }))
        .await?;
    socket.sync().await?;
    open_topic(&moderator, &open, "Open to all", "Everyone hears of this").await?;
    socket
        .expect_where(
            |frame| frame["group_id"] == open.as_str(),
            "the open group's change",
        )
        .await?;
    let heard = socket
        .expect_where_within(
            |frame| frame["group_id"] == circle.as_str(),
            "no change of the group left",
            std::time::Duration::from_secs(2),
        )
        .await;
    assert!(heard.is_err(), "a member who left heard {heard:?}");

    let (outsider, membership) = apply(
        &app,
        &catcher,
        &address("outsider"),
        json!({ "display_name": "Outsider" }),
    )
    .await?;
    verify(&moderator, &membership["user_id"]).await?;
    accept_rules(&outsider).await?;
    for path in [
        format!("/api/v1/community/topics/{topic_id}"),
        format!("/api/v1/community/groups/{circle}/topics"),
    ] {
        let (status, body) = status_and_json(outsider.get(&path).await?).await?;
        assert_eq!(
            (status, &body["code"]),
            (404, &json!("resource.not_found")),
            "{path}"
        );
    }
    let (status, _) = reply(&outsider, &topic_id, "let me in").await?;
    assert_eq!(status, 404);
    let (status, _) = status_and_json(
        outsider
            .post(
                &format!("/api/v1/community/posts/{post_id}/reports"),
                &json!({ "reason": "curious" }),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 404);
    let mut socket = outsider.socket().await?;
    socket
        .send(json!({ "type": "community_follow", "group_id": circle }))
        .await?;
    let error = socket.expect("error").await?;
    assert_eq!(error["code"], "resource.not_found");
    Ok(())
}

/// Returns the partner's id from the public list.
async fn partner_id(client: &Client) -> anyhow::Result<String> {
    let partners = client.get_json("/api/v1/community/partners").await?;
    Ok(text(&partners[0]["id"])?.to_owned())
}

async fn upload_list(
    moderator: &Client,
    partner: &str,
    body: Vec<u8>,
) -> anyhow::Result<(u16, Value)> {
    let response = moderator
        .http
        .put(format!(
            "{}/api/v1/community/partners/{partner}/membership-list",
            moderator.address
        ))
        .header("Origin", &moderator.address)
        .header("Content-Type", "text/csv")
        .body(body)
        .send()
        .await?;
    status_and_json(response).await
}

#[tokio::test]
async fn a_membership_list_verifies_or_is_refused_whole() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = catcher.app_sending_here().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let partner = partner_id(&moderator).await?;

    let first = address("first");
    let second_address = address("second");
    let third_address = address("third");
    let good = format!("membership_number,email\nASN-1,{first}\nASN-2,{second_address}\n");
    let (status, body) = upload_list(&moderator, &partner, good.clone().into()).await?;
    assert_eq!((status, &body["entries"]), (200, &json!(2)), "{body}");

    let faulty: [(&str, Vec<u8>, &str); 5] = [
        (
            "header only",
            b"membership_number,email\n".to_vec(),
            "has no members",
        ),
        (
            "wrong header",
            b"number,email\nASN-9,x@example.org\n".to_vec(),
            "line 1:",
        ),
        (
            "duplicate number",
            b"membership_number,email\nASN-7,a@example.org\nASN-8,b@example.org\nasn-7,c@example.org\n"
                .to_vec(),
            "line 4: membership number ASN-7 appears again (first on line 2)",
        ),
        (
            "invalid email",
            b"membership_number,email\nASN-7,not an address\n".to_vec(),
            "line 2: email",
        ),
        (
            "50 MB",
            {
                let mut big = b"membership_number,email\n".to_vec();
                let line = b"ASN-100000,someone@example.org\n";
                while big.len() < 50 * 1024 * 1024 {
                    big.extend_from_slice(line);
                }
                big
            },
            "over the limit of 5242880 bytes",
        ),
    ];
    for (what, body, expected) in faulty {
        let (status, answer) = upload_list(&moderator, &partner, body).await?;
        assert_eq!(status, 400, "{what}: {answer}");
        assert_eq!(answer["field"], "membership_list", "{what}: {answer}");
        let message = text(&answer["message"])?;
        assert!(message.contains(expected), "{what}: {message}");
    }

    // The list before the refused files still stands: an applicant it
    // names is verified at once.
    let (second, membership) = apply(
        &app,
        &catcher,
        &second_address,
        json!({ "display_name": "Second Member", "partner_id": partner, "membership_number": "asn-2" }),
    )
    .await?;
    assert_eq!(
        (&membership["state"], &membership["verified_how"]),
        (&json!("active"), &json!("list"))
    );
    // A waiting applicant is verified when a new list names them.
    let (third, waiting) = apply(
        &app,
        &catcher,
        &third_address,
        json!({ "display_name": "Third Member", "partner_id": partner, "membership_number": "ASN-3" }),
    )
    .await?;
    assert_eq!(waiting["state"], "applied");
    let renewed = format!("{good}ASN-3,{third_address}\n");
    let (status, body) = upload_list(&moderator, &partner, renewed.into()).await?;
    assert_eq!((status, &body["verified"]), (200, &json!(1)), "{body}");
    let now = third.get_json("/api/v1/community/membership").await?;
    assert_eq!(now["state"], "active");
    // A number with another email verifies nobody.
    let (_, other) = apply(
        &app,
        &catcher,
        &address("impostor"),
        json!({ "display_name": "Impostor", "partner_id": partner, "membership_number": "ASN-1" }),
    )
    .await?;
    assert_eq!(other["state"], "applied");
    drop(second);
    Ok(())
}

#[tokio::test]
async fn posting_fast_is_throttled() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let member = app.sign_in("community_member").await?;
    let group = group_id(&member, "New adopters").await?;
    let topic = open_topic(&member, &group, "Counting", "one").await?;
    let topic_id = text(&topic["id"])?.to_owned();
    let mut refused = None;
    for n in 0..60 {
        let response = member
            .post(
                &format!("/api/v1/community/topics/{topic_id}/posts"),
                &json!({ "body": format!("post {n}") }),
            )
            .await?;
        if response.status() == 429 {
            let retry = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            refused = Some((n, retry, response.json::<Value>().await?));
            break;
        }
        assert_eq!(response.status(), 201);
    }
    let (n, retry, body) = refused.context("60 posts in a minute were all taken")?;
    // The topic's first post counts: ten in the minute, then no more.
    assert_eq!(n, 9);
    let seconds: i64 = retry.as_deref().context("no Retry-After")?.parse()?;
    assert!((1..=60).contains(&seconds), "Retry-After {seconds}");
    assert_eq!(body["code"], "community.throttled");
    assert!(text(&body["message"])?.contains("10 posts in the last minute"));
    Ok(())
}

#[tokio::test]
async fn parallel_posts_keep_the_limit() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let member = app.sign_in("community_member").await?;
    let group = group_id(&member, "New adopters").await?;
    let topic = open_topic(&member, &group, "At once", "one").await?;
    let topic_id = text(&topic["id"])?.to_owned();
    let sends = (0..30).map(|n| {
        let member = member.clone();
        let path = format!("/api/v1/community/topics/{topic_id}/posts");
        async move {
            let response = member
                .post(&path, &json!({ "body": format!("parallel {n}") }))
                .await?;
            anyhow::Ok(response.status().as_u16())
        }
    });
    let statuses = futures_util::future::try_join_all(sends).await?;
    let stored = statuses.iter().filter(|status| **status == 201).count();
    let throttled = statuses.iter().filter(|status| **status == 429).count();
    // The topic's first post counts: nine more fit in the minute.
    assert_eq!((stored, throttled), (9, 21), "{statuses:?}");
    Ok(())
}

#[tokio::test]
async fn names_cannot_pass_for_others() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let member = app.sign_in("community_member").await?;
    // The moderator's name is theirs in the community, before they visit.
    for name in [
        "Lee Carter",
        "Lee  CARTER",
        "C\u{0430}lm Harbour",
        "Calm\u{3164}Harbour",
        "former member",
    ] {
        let (status, body) = status_and_json(
            member
                .put(
                    "/api/v1/community/profile",
                    &json!({
                        "display_name": name,
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
            "{name:?}: {body}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn bad_fields_are_named() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let member = app.sign_in("community_member").await?;
    let group = group_id(&member, "New adopters").await?;
    let cases = [
        (json!({ "title": "", "body": "x" }), "title"),
        (json!({ "title": "two\nlines", "body": "x" }), "title"),
        (json!({ "title": "ok", "body": "   " }), "body"),
        (json!({ "title": "ok", "body": "y".repeat(10_001) }), "body"),
        (
            json!({ "title": "ok", "body": "bidi \u{202e} override" }),
            "body",
        ),
    ];
    for (request, field) in cases {
        let (status, body) = status_and_json(
            member
                .post(
                    &format!("/api/v1/community/groups/{group}/topics"),
                    &request,
                )
                .await?,
        )
        .await?;
        assert_eq!(
            (status, &body["field"]),
            (400, &json!(field)),
            "{request}: {body}"
        );
    }
    let topics = member
        .get_json(&format!("/api/v1/community/groups/{group}/topics"))
        .await?;
    assert_eq!(topics.as_array().map(Vec::len), Some(0), "{topics}");

    // A profile with a bad field changes nothing.
    let before = member.get_json("/api/v1/community/profile").await?;
    let (status, body) = status_and_json(
        member
            .put(
                "/api/v1/community/profile",
                &json!({
                    "display_name": "Calm Harbour",
                    "family_makeup": { "value": "changed", "visible": true },
                    "legal_status": { "value": "married", "visible": true },
                    "interests": { "value": "", "visible": false },
                }),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, &body["field"]), (400, &json!("legal_status")));
    assert_eq!(member.get_json("/api/v1/community/profile").await?, before);
    Ok(())
}

async fn search(client: &Client, query: &str) -> anyhow::Result<(u16, Value)> {
    let url = format!("/api/v1/community/search?q={}", query.replace(' ', "%20"));
    status_and_json(client.get(&url).await?).await
}

#[tokio::test]
async fn search_finds_only_what_the_reader_may_read() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let open = group_id(&member, "New adopters").await?;
    let circle = group_id(&member, "Foster carers' circle").await?;
    let mine = open_topic(
        &member,
        &open,
        "Marmalade sandwiches",
        "Ours love marmalade at lunch",
    )
    .await?;
    open_topic(
        &moderator,
        &circle,
        "Marmalade in the circle",
        "Only the circle reads this",
    )
    .await?;

    let (status, hits) = search(&member, "marmalade").await?;
    assert_eq!(status, 200, "{hits}");
    let titles: Vec<&str> = hits
        .as_array()
        .map(|all| all.iter().filter_map(|hit| hit["title"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(titles, ["Marmalade sandwiches"]);
    assert_eq!(hits[0]["group_name"], "New adopters");
    assert_eq!(hits[0]["author"]["display_name"], "Calm Harbour");
    // Words are stemmed: "sandwich" finds "sandwiches".
    let (_, stemmed) = search(&member, "sandwich").await?;
    assert_eq!(stemmed.as_array().map(Vec::len), Some(1), "{stemmed}");
    // Query syntax is text: quotes, stars and operators find nothing odd.
    let (status, odd) = search(&member, "\"marmalade\" OR NEAR(x*").await?;
    assert_eq!(status, 200, "{odd}");
    let (_, everything) = search(&moderator, "marmalade").await?;
    assert_eq!(everything.as_array().map(Vec::len), Some(2), "{everything}");

    // A hidden post is found by nobody.
    let post = text(&mine["posts"][0]["id"])?;
    let response = moderator
        .post(
            &format!("/api/v1/community/posts/{post}/moderation"),
            &json!({ "action": "hide", "reason": "Checking" }),
        )
        .await?;
    assert_eq!(response.status(), 200);
    let (_, after) = search(&member, "marmalade").await?;
    assert_eq!(after.as_array().map(Vec::len), Some(0), "{after}");
    let (status, body) = search(&member, "a").await?;
    assert_eq!((status, &body["field"]), (400, &json!("q")));
    Ok(())
}

/// Waits for an email to `address` with `subject`, and returns its body.
async fn email_with_subject(
    catcher: &Catcher,
    address: &str,
    subject: &str,
) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        for message in catcher.messages()? {
            if message.envelope["rcpt_tos"][0] == address
                && message.header("Subject").as_deref() == Some(subject)
            {
                return message.body();
            }
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "no email {subject:?} to {address}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn replies_mentions_and_decisions_are_notified() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = catcher.app_sending_here().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let address = "member@community.example";
    let group = group_id(&member, "New adopters").await?;
    let topic = open_topic(&member, &group, "Contact after court", "How did yours go?").await?;
    let topic_id = text(&topic["id"])?.to_owned();

    let (status, _) = reply(&moderator, &topic_id, "Thanks @Calm Harbour, good question").await?;
    assert_eq!(status, 201);
    let mention = email_with_subject(
        &catcher,
        address,
        "You were mentioned in the KinLink community",
    )
    .await?;
    assert!(!mention.contains("good question") && !mention.contains("Contact after court"));
    let (status, _) = reply(&moderator, &topic_id, "A second thought on hearings").await?;
    assert_eq!(status, 201);
    let replied = email_with_subject(
        &catcher,
        address,
        "A new reply is waiting in the KinLink community",
    )
    .await?;
    assert!(!replied.contains("hearings"));

    let me = member.get_json("/api/v1/community/membership").await?;
    let response = moderator
        .post(
            &format!(
                "/api/v1/community/members/{}/moderation",
                text(&me["user_id"])?
            ),
            &json!({ "action": "warn", "reason": "Mind the names of courts" }),
        )
        .await?;
    assert_eq!(response.status(), 200);
    let decided = email_with_subject(
        &catcher,
        address,
        "A moderator's decision is waiting in the KinLink community",
    )
    .await?;
    assert!(!decided.contains("courts"));
    Ok(())
}

#[tokio::test]
async fn a_decision_is_appealed_once_and_overturned() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let group = group_id(&member, "New adopters").await?;
    let topic = open_topic(
        &member,
        &group,
        "Life story books",
        "Ours has photos of the foster home",
    )
    .await?;
    let topic_id = text(&topic["id"])?.to_owned();
    let post = text(&topic["posts"][0]["id"])?.to_owned();
    let response = moderator
        .post(
            &format!("/api/v1/community/posts/{post}/moderation"),
            &json!({ "action": "hide", "reason": "It may identify the home" }),
        )
        .await?;
    assert_eq!(response.status(), 200);

    let notices = member.get_json("/api/v1/community/notices").await?;
    assert_eq!(notices[0]["appealable"], true, "{notices}");
    let notice = text(&notices[0]["id"])?.to_owned();
    let path = format!("/api/v1/community/notices/{notice}/appeal");
    let (status, appealed) = status_and_json(
        member
            .post(&path, &json!({ "text": "No address or name is in it" }))
            .await?,
    )
    .await?;
    assert_eq!(
        (status, &appealed["appealable"]),
        (200, &json!(false)),
        "{appealed}"
    );
    let (again, _) =
        status_and_json(member.post(&path, &json!({ "text": "Once more" })).await?).await?;
    assert_eq!(again, 409);
    // Nobody else appeals it, nor learns it exists.
    let (status, _) = status_and_json(
        moderator
            .post(&path, &json!({ "text": "Not mine" }))
            .await?,
    )
    .await?;
    assert!(status == 403 || status == 404, "{status}");

    let open = moderator.get_json("/api/v1/community/appeals").await?;
    assert_eq!(open.as_array().map(Vec::len), Some(1), "{open}");
    assert_eq!(open[0]["member"]["display_name"], "Calm Harbour");
    let (status, decided) = status_and_json(
        moderator
            .post(
                &format!("/api/v1/community/notices/{notice}/appeal/decision"),
                &json!({ "decision": "overturn", "reason": "Agreed, nothing identifies it" }),
            )
            .await?,
    )
    .await?;
    assert_eq!(
        (status, &decided["appeal"]["outcome"]),
        (200, &json!("overturned"))
    );
    let shown = moderator
        .get_json(&format!("/api/v1/community/topics/{topic_id}"))
        .await?;
    assert_eq!(shown["posts"][0]["state"], "visible", "{shown}");
    let notices = member.get_json("/api/v1/community/notices").await?;
    let mine = notices
        .as_array()
        .and_then(|all| all.iter().find(|n| n["id"] == notice.as_str()))
        .context("the notice is gone")?;
    assert_eq!(mine["appeal"]["reason"], "Agreed, nothing identifies it");
    let remaining = moderator.get_json("/api/v1/community/appeals").await?;
    assert_eq!(remaining.as_array().map(Vec::len), Some(0));
    Ok(())
}

/// Fetches a rendition of an image; returns its status and bytes.
async fn image_content(client: &Client, id: &str, role: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let response = client
        .get(&format!("/api/v1/community/images/{id}/{role}"))
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.bytes().await?.to_vec()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_image_reaches_readers_without_metadata() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = catcher.app_sending_here().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let outsider = app.sign_in("la_practitioner").await?;
    let (reader, membership) = apply(
        &app,
        &catcher,
        &address("tide.reader"),
        json!({ "display_name": "Tide Reader" }),
    )
    .await?;
    verify(&moderator, &membership["user_id"]).await?;
    let group = group_id(&member, "New adopters").await?;

    let image = community_image(&member, "photo.jpg").await?;
    let image_id = text(&image["id"])?.to_owned();
    let mut roles: Vec<&str> = image["renditions"]
        .as_array()
        .map(|all| all.iter().filter_map(|r| r["role"].as_str()).collect())
        .unwrap_or_default();
    roles.sort_unstable();
    assert_eq!(roles, ["main", "thumbnail"], "{image}");
    // Nobody else sees an image that no post shows yet.
    assert_eq!(image_content(&moderator, &image_id, "main").await?.0, 404);

    // The moderator cannot post the member's image as their own.
    let (status, body) = status_and_json(
        moderator
            .post(
                &format!("/api/v1/community/groups/{group}/topics"),
                &json!({
                    "title": "Borrowed",
                    "body": "Not mine",
                    "images": [{ "id": image_id }],
                }),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, &body["field"]), (400, &json!("images")), "{body}");

    let response = member
        .post(
            &format!("/api/v1/community/groups/{group}/topics"),
            &json!({
                "title": "Our first walk together",
                "body": "The beach on Sunday",
                "images": [{ "id": image_id, "description": "Footprints in wet sand" }],
            }),
        )
        .await?;
    let (status, topic) = status_and_json(response).await?;
    assert_eq!(status, 201, "{topic}");
    assert_eq!(topic["posts"][0]["images"][0]["id"], json!(image_id));
    assert_eq!(
        topic["posts"][0]["images"][0]["description"],
        "Footprints in wet sand"
    );
    let topic_id = text(&topic["id"])?.to_owned();
    let post_id = text(&topic["posts"][0]["id"])?.to_owned();

    // Readers get both renditions, with no GPS or camera tags left.
    let read = reader
        .get_json(&format!("/api/v1/community/topics/{topic_id}"))
        .await?;
    assert_eq!(read["posts"][0]["images"][0]["id"], json!(image_id));
    let dir = tempfile::tempdir()?;
    for role in ["main", "thumbnail"] {
        let (status, bytes) = image_content(&reader, &image_id, role).await?;
        assert_eq!(status, 200, "{role}");
        let file = dir.path().join(format!("{role}.jpg"));
        std::fs::write(&file, bytes)?;
        let lines = kinlink_tests::test_media::metadata_lines(&file)?;
        assert!(
            !lines
                .iter()
                .any(|line| line.contains("gps") || line.contains("[ifd0]")),
            "metadata left in the {role}: {lines:?}"
        );
    }
    // A worker outside the community gets nothing.
    assert!(matches!(
        image_content(&outsider, &image_id, "main").await?.0,
        403 | 404
    ));

    // The image cannot go in a second post, nor be deleted from this one.
    let (status, body) = status_and_json(
        member
            .post(
                &format!("/api/v1/community/topics/{topic_id}/posts"),
                &json!({ "body": "Again", "images": [{ "id": image_id }] }),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, &body["field"]), (400, &json!("images")), "{body}");
    let response = member
        .delete(&format!("/api/v1/community/images/{image_id}"))
        .await?;
    assert_eq!(response.status(), 404);

    // A post keeps its images in the order it gave, not the order sent.
    let earlier = text(&community_image(&member, "photo.jpg").await?["id"])?.to_owned();
    let later = text(&community_image(&member, "photo.heic").await?["id"])?.to_owned();
    let (status, ordered) = status_and_json(
        member
            .post(
                &format!("/api/v1/community/topics/{topic_id}/posts"),
                &json!({
                    "body": "Two views",
                    "images": [{ "id": later, "description": "d".repeat(500) }, { "id": earlier }],
                }),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{ordered}");
    let ids: Vec<&str> = ordered["images"]
        .as_array()
        .map(|all| all.iter().filter_map(|i| i["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, [later.as_str(), earlier.as_str()]);
    // Removing a post deletes its images, for its author too.
    let response = moderator
        .post(
            &format!(
                "/api/v1/community/posts/{}/moderation",
                text(&ordered["id"])?
            ),
            &json!({ "action": "remove", "reason": "A school uniform shows" }),
        )
        .await?;
    assert_eq!(response.status(), 200);
    for id in [&later, &earlier] {
        let (status, _) = status_and_json(
            member
                .get(&format!("/api/v1/community/images/{id}"))
                .await?,
        )
        .await?;
        assert_eq!(status, 404);
    }

    // A hidden post's images go with its text; its author keeps seeing them.
    let response = moderator
        .post(
            &format!("/api/v1/community/posts/{post_id}/moderation"),
            &json!({ "action": "hide", "reason": "A face shows in the water" }),
        )
        .await?;
    assert_eq!(response.status(), 200);
    let hidden = reader
        .get_json(&format!("/api/v1/community/topics/{topic_id}"))
        .await?;
    assert_eq!(hidden["posts"][0]["images"], json!([]));
    assert_eq!(image_content(&reader, &image_id, "main").await?.0, 404);
    assert_eq!(image_content(&member, &image_id, "main").await?.0, 200);
    assert_eq!(image_content(&moderator, &image_id, "main").await?.0, 200);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_checked_before_any_work() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let member = app.sign_in("community_member").await?;
    let outsider = app.sign_in("la_practitioner").await?;
    for (bytes, expected) in [
        (b"%PDF-1.7\n%not an image".to_vec(), "not accepted"),
        (b"plain words, no picture".to_vec(), "unsupported file type"),
        (Vec::new(), "empty"),
    ] {
        let (status, body) =
            status_and_json(member.post_bytes("/api/v1/community/images", bytes).await?).await?;
        assert_eq!((status, &body["field"]), (400, &json!("body")), "{body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|message| message.contains(expected)),
            "{body}"
        );
    }
    let bytes = std::fs::read(kinlink_tests::test_media::path("photo.jpg")?)?;
    let (status, _) = status_and_json(
        outsider
            .post_bytes("/api/v1/community/images", bytes)
            .await?,
    )
    .await?;
    assert_eq!(status, 403);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_picture_shown_only_when_chosen() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let me = member.get_json("/api/v1/community/membership").await?;
    let profile_path = format!("/api/v1/community/members/{}", text(&me["user_id"])?);
    let picture = community_image(&member, "photo.heic").await?;
    let picture_id = text(&picture["id"])?.to_owned();
    let profile = |visible: bool, picture: Value| {
        json!({
            "display_name": "Calm Harbour",
            "family_makeup": { "value": "Two mums and a daughter", "visible": true },
            "legal_status": { "value": "adoption_order", "visible": false },
            "interests": { "value": "Walking", "visible": true },
            "picture": { "value": picture, "visible": visible },
        })
    };

    // Hidden: not in the profile others read, and not served to them.
    let response = member
        .put(
            "/api/v1/community/profile",
            &profile(false, json!(picture_id)),
        )
        .await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let seen = moderator.get_json(&profile_path).await?;
    assert!(seen["fields"].get("picture").is_none(), "{seen}");
    assert_eq!(
        image_content(&moderator, &picture_id, "thumbnail").await?.0,
        404
    );

    // Shown: both.
    let response = member
        .put(
            "/api/v1/community/profile",
            &profile(true, json!(picture_id)),
        )
        .await?;
    assert_eq!(response.status(), 200);
    let seen = moderator.get_json(&profile_path).await?;
    assert_eq!(seen["fields"]["picture"], json!(picture_id));
    assert_eq!(
        image_content(&moderator, &picture_id, "thumbnail").await?.0,
        200
    );
    // A picture cannot go in a post as well.
    let group = group_id(&member, "New adopters").await?;
    let (status, body) = status_and_json(
        member
            .post(
                &format!("/api/v1/community/groups/{group}/topics"),
                &json!({ "title": "Me", "body": "My face", "images": [{ "id": picture_id }] }),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, &body["field"]), (400, &json!("images")), "{body}");

    // An id that is not the member's ready image is refused, naming the
    // field, and the stored profile stays.
    let (status, body) = status_and_json(
        member
            .put(
                "/api/v1/community/profile",
                &profile(true, json!(uuid::Uuid::new_v4())),
            )
            .await?,
    )
    .await?;
    assert_eq!((status, &body["field"]), (400, &json!("picture")), "{body}");
    let mine = member.get_json("/api/v1/community/profile").await?;
    assert_eq!(mine["picture"]["value"], json!(picture_id));

    // Deleting the profile deletes the picture.
    let response = member.delete("/api/v1/community/profile").await?;
    assert_eq!(response.status(), 204);
    let (status, _) = status_and_json(
        member
            .get(&format!("/api/v1/community/images/{picture_id}"))
            .await?,
    )
    .await?;
    assert_eq!(status, 404);
    Ok(())
}

#[tokio::test]
async fn concern_reaches_only_named_organisation() -> anyhow::Result<()> {
    let catcher = Catcher::shared()?;
    let app = catcher.app_sending_here().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let council = app.sign_in("la_manager").await?;
    let agency = app.sign_in("va_manager").await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let family = app.sign_in("adoptive_parent").await?;
    // A safeguarding concern reaches a manager at once, digest or not.
    let response = council
        .put(
            "/api/v1/me/notifications",
            &json!({ "delivery": "digest", "digest_hour": 3, "time_zone": "Pacific/Kiritimati" }),
        )
        .await?;
    assert_eq!(response.status(), 200, "{}", response.text().await?);
    let group = group_id(&member, "New adopters").await?;
    let worry = "Nobody checks on the little one at night";
    let topic = open_topic(&member, &group, "Nights", worry).await?;
    let post_id = text(&topic["posts"][0]["id"])?.to_owned();
    let organisation_of = |me: &Value| -> anyhow::Result<String> {
        Ok(text(&me["user"]["organisation_id"])?.to_owned())
    };
    let council_id = organisation_of(&council.get_json("/api/v1/me").await?)?;
    let agency_id = organisation_of(&agency.get_json("/api/v1/me").await?)?;
    let partner_id = organisation_of(&moderator.get_json("/api/v1/me").await?)?;
    let concerns = format!("/api/v1/community/posts/{post_id}/concerns");

    // The list offers placing organisations only.
    let offered = moderator
        .get_json("/api/v1/community/concern-organisations")
        .await?;
    let offered: Vec<&str> = offered
        .as_array()
        .map(|all| all.iter().filter_map(|o| o["id"].as_str()).collect())
        .unwrap_or_default();
    assert!(offered.contains(&council_id.as_str()), "{offered:?}");
    assert!(!offered.contains(&partner_id.as_str()), "{offered:?}");

    // Bad requests name their field and store nothing.
    for (request, field) in [
        (
            json!({ "organisation_id": council_id, "reason": "Risk at night", "tell_member": false }),
            "not_told_because",
        ),
        (
            json!({ "organisation_id": partner_id, "reason": "Risk at night", "tell_member": true }),
            "organisation_id",
        ),
        (
            json!({ "organisation_id": council_id, "reason": " ", "tell_member": true }),
            "reason",
        ),
    ] {
        let (status, body) = status_and_json(moderator.post(&concerns, &request).await?).await?;
        assert_eq!((status, &body["field"]), (400, &json!(field)), "{body}");
    }
    // Members and workers cannot raise one.
    let request = json!({ "organisation_id": council_id, "reason": "Risk", "tell_member": true });
    assert_eq!(member.post(&concerns, &request).await?.status(), 403);
    assert!(matches!(
        practitioner
            .post(&concerns, &request)
            .await?
            .status()
            .as_u16(),
        403 | 404
    ));
    assert_eq!(
        council
            .get_json(&format!(
                "/api/v1/organisations/{council_id}/community-concerns"
            ))
            .await?,
        json!([])
    );

    let (status, raised) = status_and_json(
        moderator
            .post(
                &concerns,
                &json!({
                    "organisation_id": council_id,
                    "reason": "Risk at night",
                    "tell_member": false,
                    "not_told_because": "The carer may be the risk",
                }),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{raised}");
    let (status, _) = status_and_json(
        moderator
            .post(
                &concerns,
                &json!({ "organisation_id": council_id, "reason": "Again", "tell_member": true }),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 409);

    // The council's manager reads it, with the account to act on; the
    // council's practitioner and the other organisation do not.
    let listed = council
        .get_json(&format!(
            "/api/v1/organisations/{council_id}/community-concerns"
        ))
        .await?;
    assert_eq!(listed[0]["post_body"], worry, "{listed}");
    assert_eq!(listed[0]["account"]["email"], "member@community.example");
    assert_eq!(listed[0]["member_told"], false);
    let (status, _) = status_and_json(
        practitioner
            .get(&format!(
                "/api/v1/organisations/{council_id}/community-concerns"
            ))
            .await?,
    )
    .await?;
    assert_eq!(status, 403);
    for outsider in [&agency, &family] {
        let (status, _) = status_and_json(
            outsider
                .get(&format!(
                    "/api/v1/organisations/{council_id}/community-concerns"
                ))
                .await?,
        )
        .await?;
        assert_eq!(status, 404);
    }
    assert_eq!(
        agency
            .get_json(&format!(
                "/api/v1/organisations/{agency_id}/community-concerns"
            ))
            .await?,
        json!([])
    );
    // The council's managers are emailed, with no content.
    let email = email_with_subject(
        &catcher,
        "manager@northshire.example",
        "A safeguarding concern is waiting for your organisation in KinLink",
    )
    .await?;
    assert!(!email.contains("little one"), "{email}");
    assert!(!email.contains("Risk at night"), "{email}");
    // The member was not told.
    let notices = member.get_json("/api/v1/community/notices").await?;
    assert!(!notices.to_string().contains("concern_raised"), "{notices}");

    // Told, the member gets a notice they cannot appeal.
    let (status, _) = status_and_json(
        moderator
            .post(
                &concerns,
                &json!({ "organisation_id": agency_id, "reason": "Worth a visit", "tell_member": true }),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 201);
    let notices = member.get_json("/api/v1/community/notices").await?;
    let told = notices
        .as_array()
        .and_then(|all| all.iter().find(|n| n["kind"] == "concern_raised"))
        .with_context(|| format!("no concern notice in {notices}"))?;
    assert_eq!(told["appealable"], false);
    assert!(
        told["reason"]
            .as_str()
            .is_some_and(|r| r.contains("Worth a visit"))
    );

    // Moderators raising the same concern at once store it once.
    let second = open_topic(&member, &group, "Evenings", "Out until late again").await?;
    let second = format!(
        "/api/v1/community/posts/{}/concerns",
        text(&second["posts"][0]["id"])?
    );
    let request = json!({ "organisation_id": council_id, "reason": "Late", "tell_member": true });
    let attempts =
        futures_util::future::join_all((0..3).map(|_| moderator.post(&second, &request))).await;
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt?.status().as_u16());
    }
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409]);

    // The council's audit trail records what it received.
    let trail = council.get_json("/api/v1/audit").await?;
    assert!(
        trail.to_string().contains("community.concern_received"),
        "{trail}"
    );
    Ok(())
}

#[tokio::test]
async fn appeal_closes_when_post_shown_again() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let group = group_id(&member, "New adopters").await?;
    let topic = open_topic(&member, &group, "Birthdays", "Cake with a name on it").await?;
    let post = text(&topic["posts"][0]["id"])?.to_owned();
    let path = format!("/api/v1/community/posts/{post}/moderation");
    let moderate = |action: &'static str| {
        let body = json!({ "action": action, "reason": "Names on cakes identify children" });
        let path = path.clone();
        let moderator = &moderator;
        async move { moderator.post(&path, &body).await }
    };
    assert_eq!(moderate("hide").await?.status(), 200);
    let hidden = |notices: &Value| {
        notices
            .as_array()
            .and_then(|all| all.iter().find(|n| n["kind"] == "post_hidden"))
            .cloned()
            .unwrap_or_default()
    };
    let notices = member.get_json("/api/v1/community/notices").await?;
    assert_eq!(hidden(&notices)["appealable"], true, "{notices}");

    assert_eq!(moderate("restore").await?.status(), 200);
    let notices = member.get_json("/api/v1/community/notices").await?;
    let notice = hidden(&notices);
    assert_eq!(notice["appealable"], false, "{notices}");
    let (status, body) = status_and_json(
        member
            .post(
                &format!("/api/v1/community/notices/{}/appeal", text(&notice["id"])?),
                &json!({ "text": "It was a made-up name" }),
            )
            .await?,
    )
    .await?;
    assert_eq!(status, 409, "{body}");

    // Hidden again: only the new decision may be appealed. Shown again
    // while that appeal waits, the appeal is answered as overturned and
    // leaves the moderators' queue.
    assert_eq!(moderate("hide").await?.status(), 200);
    let notices = member.get_json("/api/v1/community/notices").await?;
    let appealable: Vec<&Value> = notices
        .as_array()
        .map(|all| all.iter().filter(|n| n["appealable"] == true).collect())
        .unwrap_or_default();
    assert_eq!(appealable.len(), 1, "{notices}");
    let latest = text(&appealable[0]["id"])?.to_owned();
    assert_ne!(latest, text(&notice["id"])?);
    let response = member
        .post(
            &format!("/api/v1/community/notices/{latest}/appeal"),
            &json!({ "text": "Still a made-up name" }),
        )
        .await?;
    assert_eq!(response.status(), 200);
    assert_eq!(moderate("restore").await?.status(), 200);
    let queue = moderator.get_json("/api/v1/community/appeals").await?;
    assert!(!queue.to_string().contains(&latest), "{queue}");
    let notices = member.get_json("/api/v1/community/notices").await?;
    let answered = notices
        .as_array()
        .and_then(|all| all.iter().find(|n| n["id"] == latest.as_str()))
        .with_context(|| format!("no notice {latest} in {notices}"))?;
    assert_eq!(answered["appeal"]["outcome"], "overturned", "{answered}");
    Ok(())
}

#[tokio::test]
async fn long_listings_are_read_in_pages() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let member = app.sign_in("community_member").await?;
    let moderator = app.sign_in("community_moderator").await?;
    let group = group_id(&member, "New adopters").await?;
    let topic = open_topic(&member, &group, "Paging", "First words").await?;
    let topic_id = text(&topic["id"])?.to_owned();
    let (status, _) = reply(&moderator, &topic_id, "Second words").await?;
    assert_eq!(status, 201);

    let whole = member
        .get_json(&format!("/api/v1/community/topics/{topic_id}"))
        .await?;
    assert_eq!(whole["posts"].as_array().map(Vec::len), Some(2));
    assert_eq!(whole["more_posts"], false);
    let rest = member
        .get_json(&format!("/api/v1/community/topics/{topic_id}?offset=1"))
        .await?;
    assert_eq!(rest["posts"].as_array().map(Vec::len), Some(1), "{rest}");
    assert_eq!(rest["posts"][0]["body"], "Second words");

    let topics = member
        .get_json(&format!("/api/v1/community/groups/{group}/topics"))
        .await?;
    let count = topics.as_array().map_or(0, Vec::len);
    let past = member
        .get_json(&format!(
            "/api/v1/community/groups/{group}/topics?offset={count}"
        ))
        .await?;
    assert_eq!(past, json!([]));
    for bad in ["-1", "1000001", "many", "1.5", "%2B1", ""] {
        let (status, body) = status_and_json(
            member
                .get(&format!("/api/v1/community/topics/{topic_id}?offset={bad}"))
                .await?,
        )
        .await?;
        assert_eq!(
            (status, &body["field"]),
            (400, &json!("offset")),
            "{bad}: {body}"
        );
    }
    // Someone who may not read the topic learns nothing from the offset.
    let outsider = app.sign_in("la_practitioner").await?;
    let (status, _) = status_and_json(
        outsider
            .get(&format!("/api/v1/community/topics/{topic_id}?offset=-5"))
            .await?,
    )
    .await?;
    assert_eq!(status, 403);
    Ok(())
}

#[tokio::test]
async fn overturn_keeps_later_decision() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let moderator = app.sign_in("community_moderator").await?;
    let member = app.sign_in("community_member").await?;
    let group = group_id(&member, "New adopters").await?;
    let topic = open_topic(&member, &group, "Holidays", "Our caravan by the lake").await?;
    let post: uuid::Uuid = text(&topic["posts"][0]["id"])?.parse()?;
    let hide = |reason: &'static str| {
        let path = format!("/api/v1/community/posts/{post}/moderation");
        let moderator = &moderator;
        async move {
            moderator
                .post(&path, &json!({ "action": "hide", "reason": reason }))
                .await
        }
    };
    assert_eq!(hide("The lake is named").await?.status(), 200);
    let store = app.store().await?;
    let first = store.community_post(post).await?.moderated_at;
    assert_eq!(hide("The caravan site is named").await?.status(), 200);

    // An overturn of the first decision that reaches the store after the
    // second changes nothing: the store checks the post's last decision
    // in the same statement that would show it again.
    let overturn = store
        .moderate_community_post(kinlink_store::community::PostModeration {
            post,
            state: kinlink_core::community::PostState::Visible,
            reason: "Overturned on appeal".to_owned(),
            moderator: kinlink_core::UserId(uuid::Uuid::nil()),
            at: chrono::Utc::now(),
            notice: None,
            only_after: first,
        })
        .await;
    assert!(
        matches!(overturn, Err(kinlink_store::StoreError::Conflict { .. })),
        "{overturn:?}"
    );
    let now = store.community_post(post).await?;
    assert_eq!(now.state, "hidden");
    assert_eq!(now.reason.as_deref(), Some("The caravan site is named"));
    Ok(())
}
