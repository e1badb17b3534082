//! Letterbox letters through the real server: the agreement, a draft with
//! identifying details flagged, review with return, resubmission and
//! release, the first read, the timeline, who may see what, and the
//! notification email each step sends.

use std::time::Duration;

use kinlink_tests::app::TestApp;
use kinlink_tests::client::Client;
use kinlink_tests::mail::Catcher;
use serde_json::{Value, json};

const POSTCODE_LETTER: &str = "Dear Alex, we moved to LS6 2AB and I hope Mia Carter likes school.";
const AMENDED_LETTER: &str = "Dear Alex, we moved house and I hope Mia likes school. 😀";
const RETURN_REASON: &str = "Please leave out where you live and the family name.";

fn rules(letter: &Value) -> Vec<String> {
    letter["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .filter_map(|f| f["rule"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

async fn json_of(response: reqwest::Response, expected: u16) -> anyhow::Result<Value> {
    let status = response.status().as_u16();
    let text = response.text().await?;
    anyhow::ensure!(
        status == expected,
        "expected {expected}, got {status}: {text}"
    );
    Ok(if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text)?
    })
}

async fn link_of(client: &Client) -> anyhow::Result<String> {
    client.conversation_id("contact_link").await
}

/// Substrings of UTF-16 offsets, the way the web page slices.
fn utf16_slice(text: &str, start: u64, end: u64) -> String {
    let units: Vec<u16> = text.encode_utf16().collect();
    String::from_utf16_lossy(&units[start as usize..end as usize])
}

#[tokio::test]
async fn letter_goes_through_review_to_the_other_side() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let writer = app.sign_in("birth_parent").await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let reader = app.sign_in("adoptive_parent").await?;
    let link = link_of(&writer).await?;

    // The families see the agreement without its protected terms.
    let agreement = writer
        .get_json(&format!("/api/v1/conversations/{link}/agreement"))
        .await?;
    assert_eq!(agreement["status"], "active");
    assert!(agreement.get("protected_terms").is_none(), "{agreement}");
    let seen_by_practitioner = practitioner
        .get_json(&format!("/api/v1/conversations/{link}/agreement"))
        .await?;
    assert_eq!(seen_by_practitioner["protected_terms"][0]["text"], "Carter");

    // A draft: the postcode, the protected first name and surname are found,
    // and the writer is never told which term matched.
    let draft = json_of(
        writer
            .post(
                &format!("/api/v1/conversations/{link}/letters"),
                &json!({"body": POSTCODE_LETTER}),
            )
            .await?,
        201,
    )
    .await?;
    let letter = draft["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(draft["status"], "draft");
    let found = rules(&draft);
    for rule in ["postcode", "protected_term", "full_name"] {
        assert!(found.iter().any(|r| r == rule), "{rule} in {found:?}");
    }
    for finding in draft["findings"].as_array().into_iter().flatten() {
        assert!(finding.get("term").is_none(), "writer saw {finding}");
    }
    let postcode = draft["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == "postcode")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        utf16_slice(
            POSTCODE_LETTER,
            postcode["start"].as_u64().unwrap_or(0),
            postcode["end"].as_u64().unwrap_or(0)
        ),
        "LS6 2AB"
    );

    // Nobody else sees a draft.
    let path = format!("/api/v1/letters/{letter}");
    assert_eq!(practitioner.get(&path).await?.status(), 404);
    assert_eq!(reader.get(&path).await?.status(), 404);
    // Of a draft, the practitioner learns only the protected terms it
    // matched.
    let before = practitioner
        .get_json(&format!("/api/v1/conversations/{link}/timeline"))
        .await?;
    let mut flagged: Vec<&str> = before
        .as_array()
        .into_iter()
        .flatten()
        .map(|step| {
            assert_eq!(step["kind"], "term_flagged", "{before}");
            step["reason"].as_str().unwrap_or_default()
        })
        .collect();
    flagged.sort_unstable();
    assert_eq!(flagged, ["Carter", "Mia"], "{before}");

    // Submitted: it waits in the practitioner's queue, with the terms shown
    // to the practitioner.
    let submitted = json_of(
        writer.post(&format!("{path}/submit"), &json!({})).await?,
        200,
    )
    .await?;
    assert_eq!(submitted["status"], "submitted");
    let queue = practitioner.get_json("/api/v1/review-queue").await?;
    assert_eq!(queue[0]["letter_id"], letter.as_str(), "{queue}");
    assert!(queue[0]["findings"].as_u64().unwrap_or(0) >= 3, "{queue}");
    let in_review = practitioner.get_json(&path).await?;
    let terms: Vec<&str> = in_review["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["term"].as_str())
        .collect();
    assert!(terms.contains(&"Carter"), "{in_review}");
    assert_eq!(reader.get(&path).await?.status(), 404);
    assert_eq!(
        writer
            .put(&path, &json!({"body": "changed while waiting"}))
            .await?
            .status(),
        409
    );

    // Returned with a reason; the writer sees it, and must change the
    // letter before submitting again.
    let no_reason = practitioner
        .post(&format!("{path}/decision"), &json!({"decision": "return"}))
        .await?;
    let error = json_of(no_reason, 400).await?;
    assert_eq!(error["field"], "reason");
    json_of(
        practitioner
            .post(
                &format!("{path}/decision"),
                &json!({"decision": "return", "reason": RETURN_REASON}),
            )
            .await?,
        200,
    )
    .await?;
    let returned = writer.get_json(&path).await?;
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["reason"], RETURN_REASON);
    assert_eq!(
        writer
            .post(&format!("{path}/submit"), &json!({}))
            .await?
            .status(),
        409
    );
    let edited = json_of(
        writer.put(&path, &json!({"body": AMENDED_LETTER})).await?,
        200,
    )
    .await?;
    assert_eq!(edited["version"], 2);
    let edited_rules = rules(&edited);
    assert_eq!(edited_rules, vec!["protected_term"], "{edited}");
    // The practitioner still sees the submitted version until resubmission.
    assert_eq!(practitioner.get_json(&path).await?["version"], 1);
    json_of(
        writer.post(&format!("{path}/submit"), &json!({})).await?,
        200,
    )
    .await?;

    // Released; earlier versions stay visible to the practitioner, and the
    // reader's open page hears that the link's letters changed.
    let mut reader_socket = reader.socket().await?;
    reader_socket.subscribe(&link, 0).await?;
    reader_socket.sync().await?;
    let released = json_of(
        practitioner
            .post(&format!("{path}/decision"), &json!({"decision": "release"}))
            .await?,
        200,
    )
    .await?;
    assert_eq!(released["status"], "released");
    let frame = reader_socket.expect("letters").await?;
    assert_eq!(frame, json!({"type": "letters", "conversation_id": link}));
    assert_eq!(released["version"], 2);
    assert_eq!(released["versions"][0]["version"], 1);
    assert_eq!(released["versions"][0]["body"], POSTCODE_LETTER);
    assert_eq!(
        writer
            .put(&path, &json!({"body": "one more thing"}))
            .await?
            .status(),
        409,
        "a released letter cannot be edited"
    );

    // The adoptive parent reads it, without findings or earlier versions.
    let read = reader.get_json(&path).await?;
    assert_eq!(read["body"], AMENDED_LETTER);
    assert!(read.get("findings").is_none(), "{read}");
    assert!(read.get("versions").is_none(), "{read}");
    assert_eq!(
        reader
            .post(&format!("{path}/read"), &json!({}))
            .await?
            .status(),
        204
    );
    assert_eq!(
        reader
            .post(&format!("{path}/read"), &json!({}))
            .await?
            .status(),
        204
    );
    let seen_by_writer = writer.get_json(&path).await?;
    assert_eq!(
        seen_by_writer["read_by"].as_array().map(Vec::len),
        Some(1),
        "{seen_by_writer}"
    );

    let timeline = practitioner
        .get_json(&format!("/api/v1/conversations/{link}/timeline"))
        .await?;
    let kinds: Vec<&str> = timeline
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|step| step["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "written",
            "term_flagged",
            "term_flagged",
            "submitted",
            "returned",
            "submitted",
            "released",
            "read"
        ]
    );
    assert_eq!(timeline[4]["reason"], RETURN_REASON);
    assert_eq!(
        writer
            .get(&format!("/api/v1/conversations/{link}/timeline"))
            .await?
            .status(),
        403
    );

    // Email: the practitioner heard of two letters to review, the writer
    // of two decisions, the reader of one release; none carries a name or
    // a word of the letter.
    let address = |key: &str| -> anyhow::Result<String> {
        Ok(app.demo_user(key)?["email"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    };
    let expected = [
        (address("la_practitioner")?, 2),
        (address("birth_parent")?, 2),
        (address("adoptive_parent")?, 1),
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let messages = catcher.messages()?;
        let count = |to: &str| {
            messages
                .iter()
                .filter(|m| m.envelope["rcpt_tos"][0] == to)
                .count()
        };
        if expected.iter().all(|(to, n)| count(to) >= *n) {
            for (to, n) in &expected {
                assert_eq!(count(to), *n, "emails to {to}");
            }
            for message in &messages {
                let text = format!("{}\n{}", message.raw, message.body()?);
                for word in [
                    "Carter",
                    "Mia",
                    "Alex",
                    "Jordan",
                    "Blake",
                    "Priya",
                    "LS6",
                    "moved",
                    "Northshire",
                    "leave out",
                ] {
                    assert!(!text.contains(word), "{word} in an email:\n{text}");
                }
            }
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "emails did not arrive: {} so far",
            messages.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(())
}

#[tokio::test]
async fn letter_of_another_link_is_404_to_its_parties() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let writer = app.sign_in("birth_parent").await?;
    let other = app.sign_in("second_birth_relative").await?;
    let link = link_of(&writer).await?;
    let other_link = link_of(&other).await?;
    assert_ne!(link, other_link);

    let draft = json_of(
        writer
            .post(
                &format!("/api/v1/conversations/{link}/letters"),
                &json!({"body": "Hello"}),
            )
            .await?,
        201,
    )
    .await?;
    let path = format!(
        "/api/v1/letters/{}",
        draft["id"].as_str().unwrap_or_default()
    );
    json_of(
        writer.post(&format!("{path}/submit"), &json!({})).await?,
        200,
    )
    .await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    json_of(
        practitioner
            .post(&format!("{path}/decision"), &json!({"decision": "release"}))
            .await?,
        200,
    )
    .await?;

    for request in [
        other.get(&path).await?,
        other.post(&format!("{path}/read"), &json!({})).await?,
        other
            .get(&format!("/api/v1/conversations/{link}/letters"))
            .await?,
        other
            .get(&format!("/api/v1/conversations/{link}/agreement"))
            .await?,
        other
            .post(
                &format!("/api/v1/conversations/{link}/letters"),
                &json!({"body": "x"}),
            )
            .await?,
    ] {
        let url = request.url().path().to_owned();
        assert_eq!(request.status(), 404, "{url}");
    }
    // The other link's practitioner does not see it either.
    let other_practitioner = app.sign_in("va_practitioner").await?;
    assert_eq!(other_practitioner.get(&path).await?.status(), 404);
    let queue = other_practitioner.get_json("/api/v1/review-queue").await?;
    assert_eq!(queue, json!([]));
    Ok(())
}

#[tokio::test]
async fn first_exchange_review_releases_later_letters_at_once() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let writer = app.sign_in("second_birth_relative").await?;
    let practitioner = app.sign_in("va_practitioner").await?;
    let link = link_of(&writer).await?;
    let mut statuses = Vec::new();
    for body in ["First letter", "Second letter"] {
        let draft = json_of(
            writer
                .post(
                    &format!("/api/v1/conversations/{link}/letters"),
                    &json!({"body": body}),
                )
                .await?,
            201,
        )
        .await?;
        let path = format!(
            "/api/v1/letters/{}",
            draft["id"].as_str().unwrap_or_default()
        );
        let submitted = json_of(
            writer.post(&format!("{path}/submit"), &json!({})).await?,
            200,
        )
        .await?;
        statuses.push(submitted["status"].as_str().unwrap_or_default().to_owned());
        if submitted["status"] == "submitted" {
            json_of(
                practitioner
                    .post(&format!("{path}/decision"), &json!({"decision": "release"}))
                    .await?,
                200,
            )
            .await?;
        }
    }
    assert_eq!(statuses, ["submitted", "released"]);
    Ok(())
}

#[tokio::test]
async fn agreement_rejects_bad_fields_and_non_supervisors() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let family = app.sign_in("birth_parent").await?;
    let link = link_of(&practitioner).await?;
    let path = format!("/api/v1/conversations/{link}/agreement");
    let before = practitioner.get_json(&path).await?;
    let parties: Vec<Value> = before["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            json!({"user_id": p["user_id"], "side": p["side"], "relationship": p["relationship"]})
        })
        .collect();
    let good = json!({
        "review_level": "first_exchange",
        "read_receipts": "practitioners",
        "schedule": {"on_request": false, "exchanges": [{"month": 6, "from": "birth"}, {"month": 12, "from": "adoptive"}]},
        "media": {"adoptive": ["image", "document"], "birth": ["document"]},
        "parties": parties,
        "protected_terms": [{"kind": "surname", "text": "Carter"}, {"kind": "club", "text": "Ashby Otters"}],
    });
    assert_eq!(family.put(&path, &good).await?.status(), 403);

    let mut cases = Vec::new();
    let mut bad = good.clone();
    bad["review_level"] = json!("sometimes");
    cases.push((bad, "review_level"));
    let mut bad = good.clone();
    bad["schedule"]["exchanges"][0]["month"] = json!(13);
    cases.push((bad, "schedule"));
    let mut bad = good.clone();
    bad["media"]["birth"] = json!(["spreadsheet"]);
    cases.push((bad, "media"));
    let mut bad = good.clone();
    bad["parties"] = json!([parties[0]]);
    cases.push((bad, "parties"));
    let mut bad = good.clone();
    bad["parties"][0]["relationship"] = json!("grandparent");
    bad["parties"][0]["side"] = json!("adoptive");
    cases.push((bad, "parties"));
    let mut bad = good.clone();
    bad["protected_terms"][1]["kind"] = json!("pet");
    cases.push((bad, "protected_terms"));
    let mut bad = good.clone();
    bad["protected_terms"][1]["text"] = json!("carter");
    cases.push((bad, "protected_terms"));
    // Values of the wrong type, and unknown fields, are named too.
    let mut bad = good.clone();
    bad["read_receipts"] = json!(null);
    cases.push((bad, "read_receipts"));
    let mut bad = good.clone();
    bad["live_messages"] = json!("yes");
    cases.push((bad, "live_messages"));
    let mut bad = good.clone();
    bad["colour"] = json!("red");
    cases.push((bad, "colour"));
    let mut bad = good.clone();
    bad["parties"][0]["side"] = json!(7);
    cases.push((bad, "parties"));
    for (body, field) in cases {
        let error = json_of(practitioner.put(&path, &body).await?, 400).await?;
        assert_eq!(error["field"], field, "{body}");
    }
    assert_eq!(
        practitioner.get_json(&path).await?,
        before,
        "nothing changed"
    );

    let stored = json_of(practitioner.put(&path, &good).await?, 200).await?;
    assert_eq!(stored["review_level"], "first_exchange");
    assert_eq!(stored["media"]["adoptive"], json!(["document", "image"]));
    assert_eq!(stored["schedule"]["exchanges"][0]["month"], 6);
    assert_eq!(stored["protected_terms"][1]["text"], "Ashby Otters");

    // Suspending needs a reason, shown to the family; ending is final.
    let status = format!("{path}/status");
    let error = json_of(
        practitioner
            .post(&status, &json!({"status": "suspended"}))
            .await?,
        400,
    )
    .await?;
    assert_eq!(error["field"], "reason");
    json_of(
        practitioner
            .post(
                &status,
                &json!({"status": "suspended", "reason": "A court order pauses contact."}),
            )
            .await?,
        200,
    )
    .await?;
    let seen = family.get_json(&path).await?;
    assert_eq!(seen["status"], "suspended");
    assert_eq!(seen["status_reason"], "A court order pauses contact.");
    let blocked = family
        .post(
            &format!("/api/v1/conversations/{link}/letters"),
            &json!({"body": "Hello"}),
        )
        .await?;
    assert_eq!(blocked.status(), 409);
    // Nor does anything else new: a live message, a file, a setting.
    let mut socket = family.socket().await?;
    socket.subscribe(&link, 0).await?;
    socket
        .send(json!({
            "type": "send",
            "conversation_id": link,
            "message_id": uuid::Uuid::now_v7(),
            "body": "while suspended"
        }))
        .await?;
    let refused = socket.expect("error").await?;
    assert_eq!(refused["code"], "resource.conflict", "{refused}");
    let upload = family
        .post(
            &format!("/api/v1/conversations/{link}/uploads"),
            &json!({"name": "a.pdf", "size": 10}),
        )
        .await?;
    assert_eq!(upload.status(), 409);
    let media = practitioner
        .put(
            &format!("/api/v1/conversations/{link}/accepted-media"),
            &json!({"accepted_media": ["document"]}),
        )
        .await?;
    assert_eq!(media.status(), 409);
    json_of(
        practitioner
            .post(
                &status,
                &json!({"status": "ended", "reason": "The agreement has ended."}),
            )
            .await?,
        200,
    )
    .await?;
    assert_eq!(
        practitioner
            .post(&status, &json!({"status": "active"}))
            .await?
            .status(),
        409
    );
    Ok(())
}

#[tokio::test]
async fn case_notes_are_for_the_practitioner_only() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let family = app.sign_in("adoptive_parent").await?;
    let link = link_of(&practitioner).await?;
    let path = format!("/api/v1/conversations/{link}/notes");

    let error = json_of(practitioner.post(&path, &json!({"body": "  "})).await?, 400).await?;
    assert_eq!(error["field"], "body");
    let note = json_of(
        practitioner
            .post(
                &path,
                &json!({"body": "Birth parent asked about the summer exchange."}),
            )
            .await?,
        201,
    )
    .await?;
    assert_eq!(note["author_name"], "Priya Shah");
    let notes = practitioner.get_json(&path).await?;
    assert_eq!(
        notes[0]["body"],
        "Birth parent asked about the summer exchange."
    );
    assert_eq!(family.get(&path).await?.status(), 403);
    assert_eq!(
        family
            .post(&path, &json!({"body": "from the family"}))
            .await?
            .status(),
        403
    );
    let outsider = app.sign_in("va_practitioner").await?;
    assert_eq!(outsider.get(&path).await?.status(), 404);
    Ok(())
}
