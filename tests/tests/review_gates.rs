//! What keeps a contact link's exchanges under review, through the real
//! server: families send live messages only when the agreement allows
//! them, and a file attached to a letter reaches the other family only
//! with the released letter, by download, by status and by `file` frame.

use std::time::Duration;

use kinlink_tests::uploads::upload_settled;
use kinlink_tests::{Socket, TestApp, agreements, test_media};
use serde_json::{Value, json};

/// Sends a message and returns the reply frame: `ack` or `error`.
async fn send_reply(socket: &mut Socket, link: &str, body: &str) -> anyhow::Result<Value> {
    let id = uuid::Uuid::now_v7().to_string();
    socket
        .send(json!({ "type": "send", "conversation_id": link, "message_id": id, "body": body }))
        .await?;
    socket
        .expect_where(
            |frame| {
                (frame["type"] == "ack" && frame["message_id"] == id)
                    || (frame["type"] == "error" && frame["ref"] == id)
            },
            "the answer to a send",
        )
        .await
}

/// Sets the link's `live_messages` and waits until `socket`, subscribed to
/// the link, has received the frame saying the agreement changed.
async fn set_live_messages(
    practitioner: &kinlink_tests::Client,
    socket: &mut Socket,
    link: &str,
    on: bool,
) -> anyhow::Result<()> {
    let stored = agreements::change(practitioner, link, |body| {
        body["live_messages"] = json!(on);
    })
    .await?;
    assert_eq!(stored["live_messages"], on, "{stored}");
    socket
        .expect_where(
            |frame| frame["type"] == "letters" && frame["conversation_id"] == link,
            "the letters frame of the agreement change",
        )
        .await?;
    Ok(())
}

#[tokio::test]
async fn live_messages_follow_agreement() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let relative = app.sign_in("second_birth_relative").await?;
    let practitioner = app.sign_in("va_practitioner").await?;
    let link = relative.conversation_id("contact_link").await?;

    // The demo's second link exchanges letters only.
    let agreement = relative
        .get_json(&format!("/api/v1/conversations/{link}/agreement"))
        .await?;
    assert_eq!(agreement["live_messages"], false, "{agreement}");

    let mut family = relative.socket().await?;
    family.subscribe(&link, 0).await?;
    family.sync().await?;
    let rejected = send_reply(&mut family, &link, "Where do you live now?").await?;
    assert_eq!(rejected["type"], "error", "{rejected}");
    assert_eq!(rejected["code"], "link.letters_only", "{rejected}");

    // Staff may still write in the link, and the family's message was not
    // stored: the practitioner's is the link's first.
    let mut staff = practitioner.socket().await?;
    let first = staff.say(&link, "Letters go through me for now.").await?;
    assert_eq!(first, 1);

    // Turned on, the family's message is stored; turned off again, the
    // family's session stops sending at once.
    set_live_messages(&practitioner, &mut family, &link, true).await?;
    let stored = send_reply(&mut family, &link, "Thank you for the photos.").await?;
    assert_eq!(stored["type"], "ack", "{stored}");
    assert_eq!(stored["seq"], 2, "{stored}");
    // A second connection sends without subscribing, so it hears no frames
    // of the link, yet the change must reach its cached right to send.
    let mut unsubscribed = relative.socket().await?;
    let stored = send_reply(&mut unsubscribed, &link, "Sent from my phone.").await?;
    assert_eq!(stored["type"], "ack", "{stored}");
    set_live_messages(&practitioner, &mut family, &link, false).await?;
    let rejected = send_reply(&mut family, &link, "One more thing.").await?;
    assert_eq!(rejected["code"], "link.letters_only", "{rejected}");
    let mut reply = Value::Null;
    for _ in 0..20 {
        reply = send_reply(&mut unsubscribed, &link, "And another.").await?;
        if reply["type"] == "error" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reply["code"], "link.letters_only", "{reply}");

    let history = practitioner
        .get_json(&format!("/api/v1/conversations/{link}/messages?after=0"))
        .await?;
    let bodies: Vec<&str> = history["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|message| message["body"].as_str())
        .filter(|body| *body != "And another.")
        .collect();
    assert_eq!(
        bodies,
        [
            "Letters go through me for now.",
            "Thank you for the photos.",
            "Sent from my phone."
        ],
        "{history}"
    );
    Ok(())
}

#[tokio::test]
async fn letter_file_hidden_until_release() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let writer = app.sign_in("birth_parent").await?;
    let reader = app.sign_in("adoptive_parent").await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = writer.conversation_id("contact_link").await?;
    let mut reader_socket = reader.socket().await?;
    reader_socket.subscribe(&link, 0).await?;
    reader_socket.sync().await?;

    let photo = std::fs::read(test_media::path("photo.jpg")?)?;
    let view = upload_settled(&writer, &link, "garden.jpg", &photo).await?;
    assert_eq!(view["status"], "ready", "{view}");
    let file = view["id"].as_str().unwrap_or_default().to_owned();
    let download = format!("/api/v1/files/{file}");
    let status = format!("/api/v1/uploads/{file}");
    let thumbnail = format!("/api/v1/files/{file}/renditions/thumbnail");

    let letter = writer
        .post(
            &format!("/api/v1/conversations/{link}/letters"),
            &json!({ "body": "A photo of the garden.", "attachments": [file] }),
        )
        .await?;
    assert_eq!(letter.status(), 201);
    let letter: Value = letter.json().await?;
    let letter_path = format!(
        "/api/v1/letters/{}",
        letter["id"].as_str().unwrap_or_default()
    );
    let submitted = writer
        .post(&format!("{letter_path}/submit"), &json!({}))
        .await?;
    assert_eq!(submitted.status(), 200);

    // In review: the writer and the practitioner see the file, the other
    // family does not, even knowing its id.
    for path in [&download, &status, &thumbnail] {
        assert_eq!(writer.get(path).await?.status(), 200, "writer {path}");
        assert_eq!(
            practitioner.get(path).await?.status(),
            200,
            "practitioner {path}"
        );
        assert_eq!(reader.get(path).await?.status(), 404, "reader {path}");
    }
    // Nor did its processing reach the other family's socket: a message
    // sent after it arrives, and no `file` frame came before it.
    let mut staff = practitioner.socket().await?;
    staff.say(&link, "Your letter is with me.").await?;
    reader_socket
        .expect_where(
            |frame| frame["type"] == "message" && frame["conversation_id"] == link,
            "the practitioner's message",
        )
        .await?;
    // Nor did it hear that a letter went into review.
    let unexpected = tokio::time::timeout(
        Duration::from_millis(500),
        reader_socket.expect_any_of(&["file", "letters"]),
    )
    .await;
    assert!(
        !matches!(unexpected, Ok(Ok(_))),
        "the other family received {unexpected:?}"
    );

    // Released, the file reaches the other family with the letter.
    let decided = practitioner
        .post(
            &format!("{letter_path}/decision"),
            &json!({ "decision": "release" }),
        )
        .await?;
    assert_eq!(decided.status(), 200, "{}", decided.text().await?);
    reader_socket.expect("letters").await?;
    for path in [&download, &status, &thumbnail] {
        assert_eq!(reader.get(path).await?.status(), 200, "reader {path}");
    }
    let released = reader.get_json(&letter_path).await?;
    assert_eq!(released["attachments"], json!([file]), "{released}");
    Ok(())
}

#[tokio::test]
async fn draft_terms_reach_timeline() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let writer = app.sign_in("birth_parent").await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = writer.conversation_id("contact_link").await?;

    // A guess at the surname, flagged to the writer without the term, then
    // a misspelt guess at it and at the town, then deleted again.
    let draft = writer
        .post(
            &format!("/api/v1/conversations/{link}/letters"),
            &json!({ "body": "Are you the Carter family?" }),
        )
        .await?;
    assert_eq!(draft.status(), 201);
    let draft: Value = draft.json().await?;
    let flagged = draft["findings"].as_array().cloned().unwrap_or_default();
    assert!(
        flagged.iter().any(|f| f["rule"] == "protected_term"),
        "{draft}"
    );
    assert!(flagged.iter().all(|f| f.get("term").is_none()), "{draft}");
    let path = format!(
        "/api/v1/letters/{}",
        draft["id"].as_str().unwrap_or_default()
    );
    for body in [
        "Are you the Cartre family in Ashby?",
        "Hello, I hope you are well.",
    ] {
        let saved = writer.put(&path, &json!({ "body": body })).await?;
        assert_eq!(saved.status(), 200);
    }

    // The draft was never submitted, yet the timeline lists each term once,
    // with its writer. The family cannot read the timeline.
    let timeline_path = format!("/api/v1/conversations/{link}/timeline");
    let timeline = practitioner.get_json(&timeline_path).await?;
    let mut terms: Vec<String> = timeline
        .as_array()
        .into_iter()
        .flatten()
        .filter(|step| step["kind"] == "term_flagged")
        .map(|step| {
            assert_eq!(step["actor_name"], "Jordan Blake", "{step}");
            step["reason"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    terms.sort();
    assert_eq!(terms, ["Ashby", "Carter"], "{timeline}");
    assert!(
        timeline
            .as_array()
            .into_iter()
            .flatten()
            .all(|step| step["kind"] == "term_flagged"),
        "the unsent draft's other steps stay the writer's: {timeline}"
    );
    let status = writer.get(&timeline_path).await?.status();
    assert!(status == 403 || status == 404, "{status}");
    Ok(())
}

#[tokio::test]
async fn reordered_text_is_rejected() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let writer = app.sign_in("birth_parent").await?;
    let link = writer.conversation_id("contact_link").await?;
    let letters = format!("/api/v1/conversations/{link}/letters");

    // Shown right to left, "retraC" reads as the protected surname, which
    // the check would never see.
    let response = writer
        .post(
            &letters,
            &json!({ "body": "Love from the \u{202e}retraC\u{202c} family" }),
        )
        .await?;
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await?;
    assert_eq!(error["field"], "body", "{error}");
    assert!(
        error["message"]
            .as_str()
            .unwrap_or_default()
            .contains("U+202E"),
        "{error}"
    );
    let stored = writer.get_json(&letters).await?;
    assert_eq!(stored, json!([]), "nothing is stored");

    // A right-to-left mark, which Arabic and Urdu writing needs, is kept.
    let body = "\u{200f}\u{0645}\u{0631}\u{062d}\u{0628}\u{0627}";
    let response = writer.post(&letters, &json!({ "body": body })).await?;
    assert_eq!(response.status(), 201);
    let draft: Value = response.json().await?;
    assert_eq!(draft["body"], body);
    Ok(())
}

#[tokio::test]
async fn rejected_send_shares_no_file() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let writer = app.sign_in("adoptive_parent").await?;
    let reader = app.sign_in("birth_parent").await?;
    let link = writer.conversation_id("contact_link").await?;
    let photo = std::fs::read(test_media::path("photo.jpg")?)?;
    let mut files = Vec::new();
    for name in ["first.jpg", "second.jpg"] {
        let view = upload_settled(&writer, &link, name, &photo).await?;
        assert_eq!(view["status"], "ready", "{view}");
        files.push(view["id"].as_str().unwrap_or_default().to_owned());
    }
    let mut writer_socket = writer.socket().await?;
    let mut reader_socket = reader.socket().await?;
    let send = |id: &str, body: &str, file: &str| {
        json!({
            "type": "send", "conversation_id": link, "message_id": id,
            "body": body, "attachments": [file]
        })
    };

    // A message id the other family used already: rejected, nothing shared.
    let used_id = uuid::Uuid::now_v7().to_string();
    reader_socket.send_with_id(&link, &used_id, "Hello").await?;
    writer_socket.send(send(&used_id, "", &files[0])).await?;
    let reply = writer_socket
        .expect_where(|f| f["ref"] == used_id.as_str(), "the error")
        .await?;
    assert_eq!(reply["type"], "error", "{reply}");

    // A resend of a stored message with a file added: acknowledged as the
    // first, which carried no file, so nothing is shared.
    let resent = uuid::Uuid::now_v7().to_string();
    writer_socket.send_with_id(&link, &resent, "plain").await?;
    writer_socket
        .send(send(&resent, "plain", &files[1]))
        .await?;
    let reply = writer_socket
        .expect_where(|f| f["message_id"] == resent.as_str(), "the ack")
        .await?;
    assert_eq!(reply["type"], "ack", "{reply}");

    for file in &files {
        for path in [
            format!("/api/v1/uploads/{file}"),
            format!("/api/v1/files/{file}/renditions/thumbnail"),
        ] {
            assert_eq!(reader.get(&path).await?.status(), 404, "{path}");
        }
    }
    Ok(())
}

#[tokio::test]
async fn upload_follows_the_sides_media() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let relative = app.sign_in("second_birth_relative").await?;
    let link = relative.conversation_id("contact_link").await?;

    // The second link's agreement lets each side send documents and
    // pictures only, although the conversation accepts every category.
    let video = std::fs::read(test_media::path("no-audio.mp4")?)?;
    let view = upload_settled(&relative, &link, "clip.mp4", &video).await?;
    assert_eq!(view["status"], "failed", "{view}");
    assert_eq!(view["failure"], "media.not_allowed", "{view}");
    let photo = std::fs::read(test_media::path("photo.jpg")?)?;
    let view = upload_settled(&relative, &link, "photo.jpg", &photo).await?;
    assert_eq!(view["status"], "ready", "{view}");
    Ok(())
}
