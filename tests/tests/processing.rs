//! Media processing through the real server: a phone video, a photo with
//! GPS tags and a broken file are uploaded, the uploader's WebSocket shows
//! the processing progress, and what is served afterwards is checked with
//! `ffprobe` and `exiftool`. Nothing readable of any of them is left under
//! the data folder.

use std::process::Command;

use kinlink_tests::data_dir::files_under;
use kinlink_tests::uploads::{follow, share, upload};
use kinlink_tests::{Client, TestApp, test_media};
use serde_json::{Value, json};

/// Asserts that no file under the data folder contains any of several 48-byte
/// runs taken across `plaintext`. Only runs of varied bytes are used, so a
/// run of zeros or of a flat colour cannot match by chance.
fn assert_not_at_rest(app: &TestApp, plaintext: &[u8], label: &str) -> anyhow::Result<()> {
    let varied = |run: &[u8]| run.iter().collect::<std::collections::HashSet<_>>().len() >= 24;
    let needles: Vec<&[u8]> = plaintext
        .chunks_exact(48)
        .step_by((plaintext.len() / 48 / 16).max(1))
        .filter(|run| varied(run))
        .collect();
    assert!(
        needles.len() >= 3,
        "{label} has too little varied content to search for"
    );
    for file in files_under(app.data_dir.path())? {
        let bytes = std::fs::read(&file)?;
        for needle in &needles {
            assert!(
                !bytes.windows(needle.len()).any(|window| window == *needle),
                "plaintext of {label} found in {}",
                file.display()
            );
        }
    }
    Ok(())
}

fn ffprobe(bytes: &[u8]) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("served");
    std::fs::write(&path, bytes)?;
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-show_streams", "-of", "json"])
        .arg(&path)
        .output()?;
    anyhow::ensure!(output.status.success(), "ffprobe failed");
    Ok(serde_json::from_slice(&output.stdout)?)
}

async fn fetch(client: &Client, path: &str) -> anyhow::Result<reqwest::Response> {
    let response = client.get(path).await?;
    anyhow::ensure!(response.status() == 200, "{path}: {}", response.status());
    Ok(response)
}

#[tokio::test]
async fn phone_video_becomes_playable_mp4() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let jordan = app.sign_in("birth_parent").await?;
    // The practitioner follows every file of the link from the start; the
    // other family once a message carries it.
    let practitioner = app.sign_in("la_practitioner").await?;
    let mut watching = practitioner.socket().await?;
    watching.subscribe(&link, 0).await?;

    let source = std::fs::read(test_media::path("portrait.mov")?)?;
    let view = upload(&alex, &link, "IMG_0042.MOV", &source).await?;
    assert_eq!(view["status"], "processing", "{view}");
    assert_eq!(view["kind"], "video");
    let id = view["id"].as_str().unwrap_or_default().to_owned();

    let (last, progress) = follow(&mut watching, &id).await?;
    assert_eq!(last["status"], "ready", "{last}");
    assert!(
        progress.windows(2).all(|pair| pair[0] <= pair[1]),
        "progress went backwards: {progress:?}"
    );
    assert!(!progress.is_empty(), "no progress was reported");

    let status = alex.get_json(&format!("/api/v1/uploads/{id}")).await?;
    assert_eq!(status["status"], "ready");
    let renditions = status["renditions"].as_array().cloned().unwrap_or_default();
    let main = renditions
        .iter()
        .find(|r| r["role"] == "main")
        .cloned()
        .unwrap_or_default();
    assert_eq!(main["mime"], "video/mp4", "{status}");
    assert_eq!(
        (main["width"].as_u64(), main["height"].as_u64()),
        (Some(720), Some(1280))
    );
    assert!(renditions.iter().any(|r| r["role"] == "poster"), "{status}");

    share(&alex, &link, &id).await?;
    let served = fetch(&jordan, &format!("/api/v1/files/{id}")).await?;
    assert_eq!(served.headers()["content-type"], "video/mp4");
    let disposition = served.headers()["content-disposition"].to_str()?.to_owned();
    assert!(disposition.contains("IMG_0042.mp4"), "{disposition}");
    let video = served.bytes().await?.to_vec();
    let probe = ffprobe(&video)?;
    assert_eq!(probe["streams"][0]["codec_name"], "h264", "{probe}");
    assert_eq!(probe["streams"][0]["height"], 1280);

    // The player's seek: a range from the middle.
    let middle = video.len() / 2;
    let ranged = jordan
        .http
        .get(format!("{}/api/v1/files/{id}", app.address))
        .header("Range", format!("bytes={middle}-"))
        .send()
        .await?;
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await?.as_ref(), &video[middle..]);

    let poster = fetch(&jordan, &format!("/api/v1/files/{id}/renditions/poster")).await?;
    assert_eq!(poster.headers()["content-type"], "image/jpeg");
    let poster = poster.bytes().await?.to_vec();

    assert_not_at_rest(&app, &source, "the upload")?;
    assert_not_at_rest(&app, &video, "the transcoded video")?;
    assert_not_at_rest(&app, &poster, "the poster")?;
    let work = files_under(&app.data_dir.path().join("work"))?;
    assert!(work.is_empty(), "left in the working folder: {work:?}");
    Ok(())
}

#[tokio::test]
async fn photo_loses_its_gps_tags() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;
    socket.subscribe(&link, 0).await?;

    let view = upload(
        &alex,
        &link,
        "beach.jpg",
        &std::fs::read(test_media::path("photo.jpg")?)?,
    )
    .await?;
    let id = view["id"].as_str().unwrap_or_default().to_owned();
    let (last, _) = follow(&mut socket, &id).await?;
    assert_eq!(last["status"], "ready", "{last}");

    let dir = tempfile::tempdir()?;
    for (path, name) in [
        (format!("/api/v1/files/{id}"), "main.jpg"),
        (
            format!("/api/v1/files/{id}/renditions/thumbnail"),
            "thumbnail.jpg",
        ),
    ] {
        let served = fetch(&alex, &path).await?;
        assert_eq!(served.headers()["content-type"], "image/jpeg");
        let file = dir.path().join(name);
        std::fs::write(&file, served.bytes().await?)?;
        let exif = Command::new("exiftool")
            .args(["-a", "-G1", "-s"])
            .arg(&file)
            .output()?;
        let text = String::from_utf8_lossy(&exif.stdout).to_lowercase();
        // The file system's own lines (the random temporary folder's name
        // among them) are not the file's metadata.
        let metadata: Vec<&str> = text
            .lines()
            .filter(|line| !line.starts_with("[system]"))
            .collect();
        assert!(
            !metadata.iter().any(|line| line.contains("gps")),
            "GPS left in {name}:\n{text}"
        );
    }

    // A late failure from a second job cannot undo a finished file.
    let store = app.store().await?;
    let failed = store
        .fail_file(id.parse()?, "media.failed", chrono::Utc::now())
        .await?;
    assert!(!failed, "a ready file was marked failed");
    let status = alex.get_json(&format!("/api/v1/uploads/{id}")).await?;
    assert_eq!(status["status"], "ready");
    Ok(())
}

#[tokio::test]
async fn message_carries_its_attachments() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let mut sender = alex.socket().await?;
    sender.subscribe(&link, 0).await?;
    let mut reader = jordan.socket().await?;
    reader.subscribe(&link, 0).await?;

    let photo = std::fs::read(test_media::path("photo.jpg")?)?;
    let view = upload(&alex, &link, "beach.jpg", &photo).await?;
    let id = view["id"].as_str().unwrap_or_default().to_owned();
    sender
        .send(json!({
            "type": "send", "conversation_id": link, "message_id": uuid::Uuid::now_v7(),
            "body": "", "attachments": [id],
        }))
        .await?;
    let acked = sender.expect_any_of(&["ack", "error"]).await?;
    assert_eq!(acked["type"], "ack", "{acked}");
    let message = reader.expect("message").await?;
    assert_eq!(message["attachments"], json!([id]));
    assert_eq!(message["body"], "");

    let history = jordan
        .get_json(&format!("/api/v1/conversations/{link}/messages"))
        .await?;
    let last = history["messages"]
        .as_array()
        .and_then(|m| m.last())
        .cloned();
    assert_eq!(last.unwrap_or_default()["attachments"], json!([id]));

    // Jordan may not attach Alex's file, nor a file that does not exist.
    let mut other = jordan.socket().await?;
    for attachment in [id.clone(), uuid::Uuid::now_v7().to_string()] {
        other
            .send(json!({
                "type": "send", "conversation_id": link, "message_id": uuid::Uuid::now_v7(),
                "body": "look", "attachments": [attachment],
            }))
            .await?;
        let error = other.expect("error").await?;
        assert_eq!(error["code"], "request.invalid_field", "{error}");
    }
    Ok(())
}

#[tokio::test]
async fn truncated_video_fails_once_and_leaves_nothing() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let mut socket = alex.socket().await?;
    socket.subscribe(&link, 0).await?;

    // The index is at the front, so the checks pass and decoding runs out.
    let dir = tempfile::tempdir()?;
    let whole = dir.path().join("whole.mp4");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(test_media::path("variable-rate.mp4")?)
        .args(["-c", "copy", "-movflags", "+faststart"])
        .arg(&whole)
        .status()?;
    anyhow::ensure!(status.success(), "ffmpeg failed");
    let bytes = std::fs::read(&whole)?;
    let half = &bytes[..bytes.len() / 2];
    let view = upload(&alex, &link, "cut.mp4", half).await?;
    let id = view["id"].as_str().unwrap_or_default().to_owned();
    let (last, _) = follow(&mut socket, &id).await?;
    assert_eq!(last["status"], "failed", "{last}");
    assert_eq!(last["failure"], "media.invalid");

    let status = alex.get_json(&format!("/api/v1/uploads/{id}")).await?;
    assert_eq!(status["status"], "failed");
    assert_eq!(
        alex.get(&format!("/api/v1/files/{id}")).await?.status(),
        404
    );
    let stored = files_under(&app.data_dir.path().join("media"))?;
    assert!(stored.is_empty(), "content kept: {stored:?}");
    let work = files_under(&app.data_dir.path().join("work"))?;
    assert!(work.is_empty(), "left in the working folder: {work:?}");

    // The server still processes the next file.
    let next = upload(
        &alex,
        &link,
        "ok.mp4",
        &std::fs::read(test_media::path("no-audio.mp4")?)?,
    )
    .await?;
    let next_id = next["id"].as_str().unwrap_or_default().to_owned();
    let (last, _) = follow(&mut socket, &next_id).await?;
    assert_eq!(last["status"], "ready", "{last}");
    Ok(())
}
