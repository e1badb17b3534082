//! The community is kept apart from case data: no organisation sees
//! community activity. After members write, report and are moderated,
//! every demo user who is not in the community calls every route the
//! server documents, with every id the community made and with their own,
//! and no answer carries anything of the community.

use anyhow::Context;
use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::uploads::community_image;
use serde_json::{Value, json};

/// Written into every community field, so any leak shows.
const MARK: &str = "qx7-community-only";

/// The demo users outside the community: every organisation's workers,
/// the operators and the families.
const OUTSIDERS: [&str; 10] = [
    "la_manager",
    "la_practitioner",
    "va_practitioner",
    "va_manager",
    "platform_admin",
    "second_platform_admin",
    "adoptive_parent",
    "birth_parent",
    "second_adoptive_parent",
    "second_birth_relative",
];

/// Community routes anyone may call without being in the community.
const PUBLIC: [&str; 4] = [
    "/api/v1/community/partners",
    "/api/v1/community/rules",
    "/api/v1/community/applications/confirm",
    "/api/v1/community/membership",
];

fn text(value: &Value) -> anyhow::Result<String> {
    Ok(value
        .as_str()
        .with_context(|| format!("not a string: {value}"))?
        .to_owned())
}

/// Makes community activity and returns the ids it made.
async fn community_activity(app: &TestApp) -> anyhow::Result<Vec<String>> {
    let member = app.sign_in("community_member").await?;
    let moderator = app.sign_in("community_moderator").await?;
    let picture = text(&community_image(&member, "photo.jpg").await?["id"])?;
    let response = member
        .put(
            "/api/v1/community/profile",
            &json!({
                "display_name": format!("Lantern {MARK}"),
                "family_makeup": { "value": format!("hidden {MARK}"), "visible": false },
                "legal_status": { "value": "adoption_order", "visible": true },
                "interests": { "value": format!("shown {MARK}"), "visible": true },
                "picture": { "value": picture, "visible": true },
            }),
        )
        .await?;
    anyhow::ensure!(response.status() == 200, "{}", response.text().await?);
    let image = text(&community_image(&member, "photo.heic").await?["id"])?;
    let groups = member.get_json("/api/v1/community/groups").await?;
    let open = groups
        .as_array()
        .and_then(|all| all.iter().find(|group| group["join"] == "open"))
        .with_context(|| format!("no open group in {groups}"))?;
    let group = text(&open["id"])?;
    let (status, topic) = status_and_json(
        member
            .post(
                &format!("/api/v1/community/groups/{group}/topics"),
                &json!({
                    "title": format!("Title {MARK}"),
                    "body": format!("Body {MARK}"),
                    "images": [{ "id": image, "description": format!("Image {MARK}") }],
                }),
            )
            .await?,
    )
    .await?;
    anyhow::ensure!(status == 201, "{topic}");
    let topic_id = text(&topic["id"])?;
    let post_id = text(&topic["posts"][0]["id"])?;
    let (status, moderated) = status_and_json(
        moderator
            .post(
                &format!("/api/v1/community/posts/{post_id}/moderation"),
                &json!({ "action": "hide", "reason": format!("Reason {MARK}") }),
            )
            .await?,
    )
    .await?;
    anyhow::ensure!(status == 200, "{moderated}");
    let me = member.get_json("/api/v1/community/membership").await?;
    let moderator_me = moderator.get_json("/api/v1/me").await?;
    Ok(vec![
        group,
        topic_id,
        post_id,
        picture,
        image,
        text(&me["user_id"])?,
        text(&moderator_me["user"]["id"])?,
    ])
}

/// Ids an outsider has of their own, so routes that need one of theirs
/// answer with their data.
async fn own_ids(client: &Client) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let me = client.get_json("/api/v1/me").await?;
    ids.push(text(&me["user"]["id"])?);
    if let Some(organisation) = me["user"]["organisation_id"].as_str() {
        ids.push(organisation.to_owned());
    }
    let conversations = client.get_json("/api/v1/conversations").await?;
    if let Some(first) = conversations
        .as_array()
        .or_else(|| conversations["conversations"].as_array())
        .and_then(|all| all.first())
    {
        ids.push(text(&first["id"])?);
    }
    Ok(ids)
}

fn fill(path: &str, id: &str) -> String {
    let mut filled = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        filled.push_str(&rest[..open]);
        let close = rest[open..]
            .find('}')
            .map_or(rest.len(), |at| open + at + 1);
        filled.push_str(id);
        rest = &rest[close..];
    }
    filled.push_str(rest);
    filled
}

#[tokio::test]
async fn no_outsider_route_shows_community_data() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let community_ids = community_activity(&app).await?;
    let document = Client::new(&app.address)?
        .get_json("/api/openapi.json")
        .await?;
    let paths = document["paths"]
        .as_object()
        .context("the document has no paths")?;
    let mut calls = 0;
    for key in OUTSIDERS {
        let client = app.sign_in(key).await?;
        let mut ids = community_ids.clone();
        ids.extend(own_ids(&client).await?);
        for (path, methods) in paths {
            if !path.starts_with("/api/v1/") || path == "/api/v1/ws" {
                continue;
            }
            let community = path.starts_with("/api/v1/community/");
            let Some(methods) = methods.as_object() else {
                continue;
            };
            for method in methods.keys() {
                // Outside the community, only reading is asked of every
                // route; a community route is asked with every method.
                if method != "get" && !community {
                    continue;
                }
                // A required query parameter gets a value, so the route
                // itself answers rather than the query's parser.
                let query: Vec<String> = methods[method]["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|p| p["in"] == "query" && p["required"] == true)
                    .filter_map(|p| p["name"].as_str())
                    .map(|name| format!("{name}=community"))
                    .collect();
                let suffix = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{}", query.join("&"))
                };
                let targets: Vec<String> = if path.contains('{') {
                    ids.iter()
                        .map(|id| format!("{}{suffix}", fill(path, id)))
                        .collect()
                } else {
                    vec![format!("{path}{suffix}")]
                };
                for target in targets {
                    let response = match method.as_str() {
                        "get" => client.get(&target).await?,
                        "post" => client.post(&target, &json!({})).await?,
                        "put" => client.put(&target, &json!({})).await?,
                        "delete" => client.delete(&target).await?,
                        other => anyhow::bail!("unexpected method {other} for {path}"),
                    };
                    calls += 1;
                    let status = response.status().as_u16();
                    let body = response.text().await?;
                    assert!(
                        !body.contains(MARK),
                        "{key}: {method} {target} shows community data: {body}"
                    );
                    for id in &community_ids {
                        assert!(
                            !body.contains(id.as_str()),
                            "{key}: {method} {target} names the community's {id}: {body}"
                        );
                    }
                    if community && method == "get" && !PUBLIC.contains(&path.as_str()) {
                        assert!(
                            status == 403 || status == 404,
                            "{key}: GET {target} answered {status}: {body}"
                        );
                    }
                }
            }
        }
        // Nor does the WebSocket let them follow a group.
        let mut socket = client.socket().await?;
        socket
            .send(json!({ "type": "community_follow", "group_id": community_ids[0] }))
            .await?;
        let error = socket.expect("error").await?;
        assert_eq!(error["code"], "resource.not_found", "{key}");
    }
    println!("{calls} calls by {} outsiders", OUTSIDERS.len());
    assert!(calls > 1000, "only {calls} calls were made");
    Ok(())
}
