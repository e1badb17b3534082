//! Resumable uploads into a conversation and downloads with HTTP Range,
//! against the real server. An interrupted upload resumes and the stored
//! file decrypts to the same bytes, and nothing readable lands in the data
//! folder. Names are cleaned, headers are safe, and bad files fail their
//! checks.

use std::time::Duration;

use kinlink_tests::data_dir::files_under;
use kinlink_tests::uploads::{append, settled, share, start, upload, upload_settled};
use kinlink_tests::{Client, TestApp};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

const SEGMENT: usize = 64 * 1024;

/// Opens a raw connection, sends a `PATCH` from offset 0 that declares the
/// whole file but sends only its first `sent` bytes, and returns the open
/// connection once the server has had time to read them.
async fn partial_patch(
    app: &TestApp,
    client: &Client,
    id: &str,
    original: &[u8],
    sent: usize,
) -> anyhow::Result<tokio::net::TcpStream> {
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await?;
    let token = client.session_token.clone().unwrap_or_default();
    let head = format!(
        "PATCH /api/v1/uploads/{id} HTTP/1.1\r\nHost: {host}\r\nOrigin: {}\r\n\
         Cookie: kinlink_session={token}\r\nUpload-Offset: 0\r\n\
         Content-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
        app.address,
        original.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&original[..sent]).await?;
    stream.flush().await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Ok(stream)
}

/// Builds a PDF-looking file: the kind check reads only the first bytes,
/// and the text extraction finds no PDF structure, so the file is ready
/// without text.
fn pdf(text: &str, len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    while bytes.len() < len {
        bytes.extend_from_slice(text.as_bytes());
    }
    bytes.truncate(len);
    bytes
}

#[tokio::test]
async fn interrupted_upload_resumes_to_identical_bytes() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let marker = "Dear Jordan, Sam started swimming lessons this week. ";
    let original = pdf(marker, 5 * SEGMENT + 12_345);
    let started = start(&alex, &link, "letter.pdf", original.len()).await?;
    let id = started["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(started["offset"], 0);
    assert_eq!(started["segment_size"], SEGMENT);

    // Send the first 2.5 segments on a raw connection and cut it half way
    // through the declared body.
    let stream = partial_patch(&app, &alex, &id, &original, SEGMENT * 5 / 2).await?;
    drop(stream);

    // The server keeps the two whole segments it received.
    let mut offset = 0;
    for _ in 0..50 {
        let status = alex.get_json(&format!("/api/v1/uploads/{id}")).await?;
        offset = status["offset"].as_u64().unwrap_or_default() as usize;
        if offset > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(offset, 2 * SEGMENT);

    // A resume from the wrong offset is refused and names the right one.
    let wrong = append(&alex, &id, 0, &original).await?;
    assert_eq!(wrong.status(), 409);
    let body: Value = wrong.json().await?;
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&offset.to_string()),
        "{body}"
    );

    let finished = append(&alex, &id, offset, &original[offset..]).await?;
    assert_eq!(finished.status(), 200);
    let finished: Value = finished.json().await?;
    assert_eq!(finished["status"], "processing", "{finished}");
    let finished = settled(&alex, &id).await?;
    assert_eq!(finished["status"], "ready", "{finished}");
    assert_eq!(finished["kind"], "pdf");

    let download = alex.get(&format!("/api/v1/files/{id}")).await?;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["cache-control"], "no-store");
    assert_eq!(download.headers()["accept-ranges"], "bytes");
    assert_eq!(download.bytes().await?.as_ref(), original.as_slice());

    // Sent in a message, it reaches another member, who reads it with a
    // Range that spans a segment boundary.
    share(&alex, &link, &id).await?;
    let jordan = app.sign_in("birth_parent").await?;
    let (first, last) = (SEGMENT - 100, 3 * SEGMENT + 7);
    let ranged = jordan
        .http
        .get(format!("{}/api/v1/files/{id}", app.address))
        .header("Range", format!("bytes={first}-{last}"))
        .send()
        .await?;
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.headers()["content-range"],
        format!("bytes {first}-{last}/{}", original.len()).as_str()
    );
    assert_eq!(ranged.bytes().await?.as_ref(), &original[first..=last]);

    let suffix = jordan
        .http
        .get(format!("{}/api/v1/files/{id}", app.address))
        .header("Range", "bytes=-10")
        .send()
        .await?;
    assert_eq!(suffix.status(), 206);
    assert_eq!(
        suffix.bytes().await?.as_ref(),
        &original[original.len() - 10..]
    );

    let beyond = jordan
        .http
        .get(format!("{}/api/v1/files/{id}", app.address))
        .header("Range", format!("bytes={}-", original.len() + 5))
        .send()
        .await?;
    assert_eq!(beyond.status(), 416);

    // No file under the data folder contains the letter's text.
    let needle = marker.as_bytes();
    for entry in files_under(app.data_dir.path())? {
        let bytes = std::fs::read(&entry)?;
        assert!(
            !bytes.windows(needle.len()).any(|window| window == needle),
            "plaintext found in {}",
            entry.display()
        );
    }
    Ok(())
}

#[tokio::test]
async fn names_are_cleaned_and_headers_safe() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let cases = [
        ("../../etc/cron.d/x", "x"),
        ("..\\..\\x", "x"),
        ("%2e%2e%2f", "%2e%2e%2f"),
        ("CON", "_CON"),
        ("with\0nul.pdf", "withnul.pdf"),
    ];
    for (name, cleaned) in cases {
        let view = upload(&alex, &link, name, &pdf("x", 100)).await?;
        assert_eq!(view["name"], cleaned, "{name:?}");
    }
    let long = format!("{}.pdf", "n".repeat(300));
    let view = upload(&alex, &link, &long, &pdf("x", 100)).await?;
    let capped = view["name"].as_str().unwrap_or_default();
    assert!(capped.len() <= 120, "{capped}");
    assert!(capped.ends_with(".pdf"), "{capped}");

    // No stored path comes from a name.
    for entry in files_under(app.data_dir.path())? {
        let name = entry
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        assert_ne!(name, "x");
        assert_ne!(name, "_CON");
    }

    let welsh = upload_settled(&alex, &link, "Llythyr i Siân 💌.pdf", &pdf("y", 200)).await?;
    let response = alex
        .get(&format!(
            "/api/v1/files/{}?download=true",
            welsh["id"].as_str().unwrap_or_default()
        ))
        .await?;
    let disposition = response.headers()["content-disposition"]
        .to_str()?
        .to_owned();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''Llythyr%20i%20Si%C3%A2n%20%F0%9F%92%8C.pdf"),
        "{disposition}"
    );

    let tricky = upload_settled(&alex, &link, "setup.bat\";x=.txt", &pdf("z", 200)).await?;
    let response = alex
        .get(&format!(
            "/api/v1/files/{}",
            tricky["id"].as_str().unwrap_or_default()
        ))
        .await?;
    let disposition = response.headers()["content-disposition"]
        .to_str()?
        .to_owned();
    assert_eq!(
        disposition,
        "attachment; filename=\"setup.bat;x=.txt\"; filename*=UTF-8''setup.bat%3Bx%3D.txt"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");

    // Names are sealed like the content, so none is readable at rest.
    for entry in files_under(app.data_dir.path())? {
        let bytes = std::fs::read(&entry)?;
        for name in [&b"Llythyr"[..], b"setup.bat"] {
            assert!(
                !bytes.windows(name.len()).any(|window| window == name),
                "a file name is readable in {}",
                entry.display()
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn bad_files_fail_their_checks() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;

    let empty = alex
        .post(
            &format!("/api/v1/conversations/{link}/uploads"),
            &json!({ "name": "empty.mp4", "size": 0 }),
        )
        .await?;
    assert_eq!(empty.status(), 400);
    let body: Value = empty.json().await?;
    assert_eq!(body["field"], "size");

    let text = upload(
        &alex,
        &link,
        "video.mp4",
        b"This is a letter, not a video.\n",
    )
    .await?;
    assert_eq!(text["status"], "failed");
    assert_eq!(text["failure"], "media.unsupported");

    // A JPEG header that declares 64250 × 64250 pixels.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    jpeg.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0xFA, 0xFA, 0xFA, 0xFA]);
    jpeg.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
    let huge = upload(&alex, &link, "huge.jpg", &jpeg).await?;
    assert_eq!(huge["status"], "failed");
    assert_eq!(huge["failure"], "media.too_many_pixels");

    // A failed file cannot be downloaded and keeps no content.
    let id = huge["id"].as_str().unwrap_or_default();
    assert_eq!(
        alex.get(&format!("/api/v1/files/{id}")).await?.status(),
        404
    );

    let oversized = alex
        .post(
            &format!("/api/v1/conversations/{link}/uploads"),
            &json!({ "name": "film.mp4", "size": 3u64 * 1024 * 1024 * 1024 }),
        )
        .await?;
    assert_eq!(oversized.status(), 400);
    Ok(())
}

#[tokio::test]
async fn outsiders_get_not_found() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let stored = upload(&alex, &link, "private.pdf", &pdf("private", 500)).await?;
    let id = stored["id"].as_str().unwrap_or_default();

    // A practitioner of the other organisation is not in the contact link.
    let outsider = app.sign_in("va_practitioner").await?;
    let theirs = outsider.get(&format!("/api/v1/files/{id}")).await?;
    let missing = outsider
        .get(&format!("/api/v1/files/{}", uuid::Uuid::now_v7()))
        .await?;
    assert_eq!(theirs.status(), 404);
    assert_eq!(missing.status(), 404);
    let theirs: Value = theirs.json().await?;
    let missing: Value = missing.json().await?;
    assert_eq!(theirs, missing);
    assert_eq!(
        outsider
            .get(&format!("/api/v1/uploads/{id}"))
            .await?
            .status(),
        404
    );
    let start = outsider
        .post(
            &format!("/api/v1/conversations/{link}/uploads"),
            &json!({ "name": "x.pdf", "size": 10 }),
        )
        .await?;
    assert_eq!(start.status(), 404);
    Ok(())
}

#[tokio::test]
async fn concurrent_append_is_refused() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let original = pdf("concurrent ", 3 * SEGMENT);
    let started = start(&alex, &link, "two-at-once.pdf", original.len()).await?;
    let id = started["id"].as_str().unwrap_or_default().to_owned();

    // The first request sends part of its body and keeps the connection
    // open.
    let first = partial_patch(&app, &alex, &id, &original, SEGMENT / 2).await?;

    let second = append(&alex, &id, 0, &original).await?;
    assert_eq!(second.status(), 409);
    let body: Value = second.json().await?;
    assert_eq!(body["code"], "resource.conflict");

    // Once the first request ends, the upload resumes and completes whole.
    drop(first);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let status = alex.get_json(&format!("/api/v1/uploads/{id}")).await?;
    let offset = status["offset"].as_u64().unwrap_or_default() as usize;
    let finished = append(&alex, &id, offset, &original[offset..]).await?;
    assert_eq!(finished.status(), 200);
    assert_eq!(settled(&alex, &id).await?["status"], "ready");
    let download = alex.get(&format!("/api/v1/files/{id}")).await?;
    assert_eq!(download.bytes().await?.as_ref(), original.as_slice());
    Ok(())
}

#[tokio::test]
async fn supervisor_limits_accepted_media() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let priya = app.sign_in("la_practitioner").await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let link = alex.conversation_id("contact_link").await?;
    let path = format!("/api/v1/conversations/{link}/accepted-media");

    let refused = alex
        .put(&path, &json!({ "accepted_media": ["document"] }))
        .await?;
    assert_eq!(refused.status(), 403, "a family member cannot choose");
    let unknown = priya
        .put(&path, &json!({ "accepted_media": ["spreadsheet"] }))
        .await?;
    assert_eq!(unknown.status(), 400);
    let body: Value = unknown.json().await?;
    assert_eq!(body["field"], "accepted_media");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("spreadsheet"),
        "{body}"
    );

    let chosen = priya
        .put(&path, &json!({ "accepted_media": ["document"] }))
        .await?;
    assert_eq!(chosen.status(), 204);
    let listed = alex.get_json("/api/v1/conversations").await?;
    let this = listed
        .as_array()
        .and_then(|all| all.iter().find(|c| c["id"] == link.as_str()))
        .cloned()
        .unwrap_or_default();
    assert_eq!(this["accepted_media"], json!(["document"]));

    // A photo is now rejected by its bytes, whatever its name. A PDF still
    // passes.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    jpeg.extend_from_slice(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    jpeg.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10]);
    jpeg.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1, 0xFF, 0xD9]);
    let photo = upload(&alex, &link, "letter.pdf", &jpeg).await?;
    assert_eq!(photo["status"], "failed", "{photo}");
    assert_eq!(photo["failure"], "media.not_allowed");
    let letter = upload_settled(&alex, &link, "letter.pdf", &pdf("Dear Jordan ", 300)).await?;
    assert_eq!(letter["status"], "ready", "{letter}");
    Ok(())
}
