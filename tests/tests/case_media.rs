//! Photos and videos in family-finding profiles through the real server.
//! Media made by FFmpeg is uploaded and processed, then served with HTTP
//! Range to the organisations the profile is published to. Its GPS tags
//! are removed, and an anonymous profile hides it with its names.

use std::time::Duration;

use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::test_media;
use serde_json::{Value, json};

/// Sends a generated media file as a profile item and returns the status
/// and body.
async fn add(client: &Client, case: &str, slot: &str, file: &str) -> anyhow::Result<(u16, Value)> {
    send(client, case, slot, std::fs::read(test_media::path(file)?)?).await
}

async fn send(
    client: &Client,
    case: &str,
    slot: &str,
    bytes: Vec<u8>,
) -> anyhow::Result<(u16, Value)> {
    let response = client
        .post_bytes(&format!("/api/v1/cases/{case}/media?slot={slot}"), bytes)
        .await?;
    status_and_json(response).await
}

/// Waits until the item is ready in the case's list, as its editor reads it.
async fn ready(client: &Client, case: &str, media: &str) -> anyhow::Result<Value> {
    for _ in 0..240 {
        let list = client
            .get_json(&format!("/api/v1/cases/{case}/media"))
            .await?;
        let item = list
            .as_array()
            .and_then(|items| items.iter().find(|item| item["id"] == media))
            .cloned()
            .unwrap_or_default();
        match item["status"].as_str() {
            Some("ready") => return Ok(item),
            Some("failed") => anyhow::bail!("profile item failed: {item}"),
            _ => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
    anyhow::bail!("profile item {media} was not ready within a minute")
}

fn roles(item: &Value) -> Vec<String> {
    let mut roles: Vec<String> = item["renditions"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|rendition| rendition["role"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    roles.sort();
    roles
}

fn media_ids(view: &Value) -> Vec<String> {
    view["media"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profile_photo_and_video_reach_other_organisations() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;

    let (status, photo) = add(&council, &siblings, "photo", "photo.jpg").await?;
    assert_eq!(status, 202, "{photo}");
    assert_eq!(photo["slot"], "photo");
    let photo_id = photo["id"].as_str().unwrap_or_default().to_owned();
    let photo = ready(&council, &siblings, &photo_id).await?;
    assert_eq!(roles(&photo), ["main", "thumbnail"], "{photo}");

    let (status, video) = add(&council, &siblings, "video", "portrait.mov").await?;
    assert_eq!(status, 202, "{video}");
    let video_id = video["id"].as_str().unwrap_or_default().to_owned();
    let video = ready(&council, &siblings, &video_id).await?;
    assert_eq!(roles(&video), ["main", "poster"], "{video}");

    // The other organisation gets both, and the photo has no GPS tags left.
    let seen = agency
        .get_json(&format!("/api/v1/cases/{siblings}"))
        .await?;
    assert_eq!(media_ids(&seen), [photo_id.clone(), video_id.clone()]);
    let dir = tempfile::tempdir()?;
    for role in ["main", "thumbnail"] {
        let served = agency
            .get(&format!("/api/v1/cases/{siblings}/media/{photo_id}/{role}"))
            .await?;
        assert_eq!(served.status(), 200, "{role}");
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        assert_eq!(served.headers()["cache-control"], "no-store");
        let file = dir.path().join(format!("{role}.jpg"));
        std::fs::write(&file, served.bytes().await?)?;
        let lines = test_media::metadata_lines(&file)?;
        assert!(
            !lines.iter().any(|line| line.contains("gps")),
            "GPS left in the {role}: {lines:?}"
        );
    }

    // The video seeks: a range comes back alone, as 206.
    let whole = video["renditions"]
        .as_array()
        .and_then(|list| list.iter().find(|r| r["role"] == "main"))
        .and_then(|r| r["size"].as_u64())
        .unwrap_or_default();
    assert!(whole > 2000, "{video}");
    let part = agency
        .http
        .get(format!(
            "{}/api/v1/cases/{siblings}/media/{video_id}/main",
            agency.address
        ))
        .header("Range", "bytes=1000-1999")
        .send()
        .await?;
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-type"], "video/mp4");
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 1000-1999/{whole}").as_str()
    );
    assert_eq!(part.bytes().await?.len(), 1000);

    // A second video does not fit a child's profile, and the other
    // organisation may not remove anything.
    let (status, body) = add(&council, &siblings, "video", "portrait.mov").await?;
    assert_eq!(status, 409, "{body}");
    let other_removal = agency
        .delete(&format!("/api/v1/cases/{siblings}/media/{photo_id}"))
        .await?;
    assert_eq!(other_removal.status(), 403);

    // Removing the photo takes it out of every view and its content away.
    let removed = council
        .delete(&format!("/api/v1/cases/{siblings}/media/{photo_id}"))
        .await?;
    assert_eq!(removed.status(), 204);
    let removed_content = agency
        .get(&format!("/api/v1/cases/{siblings}/media/{photo_id}/main"))
        .await?;
    assert_eq!(removed_content.status(), 404);
    let seen = agency
        .get_json(&format!("/api/v1/cases/{siblings}"))
        .await?;
    assert_eq!(media_ids(&seen), [video_id]);

    let trail = app.store().await?;
    let case_id: uuid::Uuid = siblings.parse()?;
    let actions: Vec<String> = trail
        .organisation_audit(
            kinlink_core::OrganisationId(
                trail
                    .case(case_id)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("case not stored"))?
                    .organisation_id,
            ),
            None,
            200,
        )
        .await?
        .into_iter()
        .filter(|row| row.subject_id == Some(case_id))
        .map(|row| row.action)
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|action| action.starts_with("case.media_"))
            .count(),
        3,
        "{actions:?}"
    );
    // Following items in progress records no profile views: only the
    // other organisation's two reads of the case are views.
    assert_eq!(
        actions
            .iter()
            .filter(|action| action.starts_with("case.viewed"))
            .count(),
        2,
        "{actions:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_profile_items_are_rejected() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let family = agency.own_case("family", "The Adeyemi family").await?;

    // A picture sent as the video is judged by its bytes, not its slot,
    // and a picture declaring too many pixels is rejected from its header.
    let (status, body) = add(&council, &siblings, "video", "photo.heic").await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "body", "{body}");
    // This JPEG header declares 64250 × 64250 pixels.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    jpeg.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFA, 0xFA, 0xFA, 0xFA]);
    jpeg.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
    let (status, body) = send(&council, &siblings, "photo", jpeg).await?;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("pixels"),
        "{body}"
    );
    let (status, body) = send(&council, &siblings, "photo", Vec::new()).await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "body", "{body}");
    let (status, body) = add(&council, &siblings, "audio", "photo.jpg").await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "slot", "{body}");
    let (status, body) = add(&agency, &family, "video", "portrait.mov").await?;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["field"], "slot", "{body}");

    // A rejected item keeps no place: the rejected video did not fill the
    // child's one video slot, and the view lists nothing in progress.
    let view = council
        .get_json(&format!("/api/v1/cases/{siblings}"))
        .await?;
    let live: Vec<&Value> = view["media"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|item| item["status"] != "failed")
                .collect()
        })
        .unwrap_or_default();
    assert!(live.is_empty(), "{view}");

    // A worker of another organisation cannot add to a case.
    let (status, body) = add(&agency, &siblings, "photo", "photo.jpg").await?;
    assert_eq!(status, 403, "{body}");
    let missing = uuid::Uuid::now_v7();
    let (status, _) = add(&council, &missing.to_string(), "photo", "photo.jpg").await?;
    assert_eq!(status, 404);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_profile_hides_photos_until_a_discussion() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let agency = app.sign_in("va_practitioner").await?;
    let siblings = council.own_case("child", "Maisie, Jack").await?;
    let adeyemi = agency.own_case("family", "The Adeyemi family").await?;
    let published = council
        .put(
            &format!("/api/v1/cases/{siblings}/publication"),
            &json!({ "visibility": "all", "anonymous": true }),
        )
        .await?;
    assert_eq!(published.status(), 200);
    let (status, photo) = add(&council, &siblings, "photo", "photo.jpg").await?;
    assert_eq!(status, 202, "{photo}");
    let photo_id = photo["id"].as_str().unwrap_or_default().to_owned();
    ready(&council, &siblings, &photo_id).await?;

    let hidden = agency
        .get_json(&format!("/api/v1/cases/{siblings}"))
        .await?;
    assert_eq!(hidden["names_hidden"], true);
    assert!(media_ids(&hidden).is_empty(), "{hidden}");
    let content = agency
        .get(&format!(
            "/api/v1/cases/{siblings}/media/{photo_id}/thumbnail"
        ))
        .await?;
    assert_eq!(content.status(), 404);

    let interest = agency
        .post(
            &format!("/api/v1/cases/{siblings}/interests"),
            &json!({ "family_case_id": adeyemi }),
        )
        .await?;
    assert_eq!(interest.status(), 201);
    let after_interest = agency
        .get_json(&format!("/api/v1/cases/{siblings}"))
        .await?;
    assert_eq!(
        media_ids(&after_interest),
        [photo_id.as_str()],
        "{after_interest}"
    );
    let content = agency
        .get(&format!(
            "/api/v1/cases/{siblings}/media/{photo_id}/thumbnail"
        ))
        .await?;
    assert_eq!(content.status(), 200);
    Ok(())
}
