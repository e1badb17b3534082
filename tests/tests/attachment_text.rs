//! The identifying-details check of a letter's attached PDFs, through the
//! real server: a PDF's text is read in its media job and checked like the
//! letter's body, with the page and an excerpt of each finding. A scanned
//! PDF without text, a malformed PDF and a photo each need a person to
//! look, and so does a PDF with a picture besides the findings in its
//! text. The text is never served and is stored sealed.

use kinlink_tests::data_dir::files_under;
use kinlink_tests::test_pdf;
use kinlink_tests::uploads::upload_settled;
use kinlink_tests::{Client, TestApp, test_media};
use serde_json::{Value, json};

const POSTCODE: &str = "LS6 2AB";

/// Returns the attachment findings of one file.
fn findings_of<'a>(letter: &'a Value, file: &str) -> Vec<&'a Value> {
    letter["attachment_findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|finding| finding["file_id"] == file)
        .collect()
}

/// Returns the single finding of `rule` in one file.
fn finding<'a>(letter: &'a Value, file: &str, rule: &str) -> anyhow::Result<&'a Value> {
    let found: Vec<&Value> = findings_of(letter, file)
        .into_iter()
        .filter(|finding| finding["rule"] == rule)
        .collect();
    anyhow::ensure!(found.len() == 1, "one {rule} in {file}: {letter}");
    Ok(found[0])
}

async fn ready_file(
    client: &Client,
    link: &str,
    name: &str,
    bytes: &[u8],
) -> anyhow::Result<String> {
    let view = upload_settled(client, link, name, bytes).await?;
    assert_eq!(view["status"], "ready", "{name}: {view}");
    Ok(view["id"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn attached_pdf_text_is_checked() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let writer = app.sign_in("birth_parent").await?;
    let practitioner = app.sign_in("la_practitioner").await?;
    let link = writer.conversation_id("contact_link").await?;

    let letter_pdf = test_pdf::with_text(&[
        &[
            "Dear Alex,",
            &format!("We moved to a flat at {POSTCODE} last month."),
        ],
        &["With love from Jordan and the Carter family"],
    ]);
    let with_text = ready_file(&writer, &link, "letter.pdf", &letter_pdf).await?;
    let scanned = ready_file(&writer, &link, "scan.pdf", &test_pdf::scanned()).await?;
    let broken = ready_file(&writer, &link, "broken.pdf", b"%PDF-1.7\n1 0 obj\n<< /Ty").await?;
    // Arrays nested 200,000 deep, which can overflow a recursive parser's
    // stack. The file must still end up ready.
    let depth = 200_000;
    let nested = format!(
        "%PDF-1.4\n1 0 obj\n{}{}\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let nested = ready_file(&writer, &link, "nested.pdf", nested.as_bytes()).await?;
    let photo_bytes = std::fs::read(test_media::path("photo.jpg")?)?;
    let photo = ready_file(&writer, &link, "photo.jpg", &photo_bytes).await?;
    // A picture pasted into a letter can show what its text leaves out.
    let pasted_pdf = test_pdf::with_text_and_image(&[&[
        "Dear Alex, here is our new garden.",
        &format!("The flat is at {POSTCODE}."),
    ]]);
    let pasted = ready_file(&writer, &link, "pasted.pdf", &pasted_pdf).await?;

    // The PDF is served as uploaded, and its text is never listed or served.
    let view = writer
        .get_json(&format!("/api/v1/uploads/{with_text}"))
        .await?;
    assert_eq!(view["kind"], "pdf");
    assert_eq!(view["renditions"], json!([]), "{view}");
    for role in ["text", "partial_text"] {
        let path = format!("/api/v1/files/{with_text}/renditions/{role}");
        assert_eq!(writer.get(&path).await?.status(), 404, "{role}");
    }
    let download = writer.get(&format!("/api/v1/files/{with_text}")).await?;
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await?.as_ref(), letter_pdf.as_slice());

    let attachments = [&with_text, &scanned, &broken, &nested, &photo, &pasted];
    let draft = writer
        .post(
            &format!("/api/v1/conversations/{link}/letters"),
            &json!({ "body": "Some news for you.", "attachments": attachments }),
        )
        .await?;
    assert_eq!(draft.status(), 201);
    let draft: Value = draft.json().await?;

    // The writer gets where each detail is, without the protected term.
    let postcode = finding(&draft, &with_text, "postcode")?;
    assert_eq!(postcode["page"], 1, "{postcode}");
    assert_eq!(postcode["excerpt"]["text"], POSTCODE, "{postcode}");
    let before = postcode["excerpt"]["before"].as_str().unwrap_or_default();
    assert!(before.ends_with("We moved to a flat at "), "{postcode}");
    assert!(
        postcode["end"].as_u64() > postcode["start"].as_u64(),
        "{postcode}"
    );
    let surname = finding(&draft, &with_text, "protected_term")?;
    assert_eq!(surname["page"], 2, "{surname}");
    assert_eq!(surname["excerpt"]["text"], "Carter", "{surname}");
    assert!(surname.get("term").is_none(), "the writer saw {surname}");
    assert!(
        findings_of(&draft, &with_text)
            .iter()
            .all(|f| f["rule"] != "needs_person_to_look"),
        "{draft}"
    );

    // Files without text need a person to look, and have no other finding.
    for file in [&scanned, &broken, &nested, &photo] {
        let found = findings_of(&draft, file);
        assert_eq!(found.len(), 1, "{file}: {draft}");
        assert_eq!(found[0]["rule"], "needs_person_to_look", "{file}");
        assert!(found[0].get("excerpt").is_none(), "{file}");
    }

    // A PDF with a picture has its text checked and needs a person to look
    // at the rest.
    let postcode = finding(&draft, &pasted, "postcode")?;
    assert_eq!(postcode["page"], 1, "{postcode}");
    assert_eq!(postcode["excerpt"]["text"], POSTCODE, "{postcode}");
    let look = finding(&draft, &pasted, "needs_person_to_look")?;
    assert!(look.get("excerpt").is_none(), "{look}");
    assert_eq!(findings_of(&draft, &pasted).len(), 2, "{draft}");

    // The practitioner gets the matched term and counts every finding.
    let letter = draft["id"].as_str().unwrap_or_default().to_owned();
    let submitted = writer
        .post(&format!("/api/v1/letters/{letter}/submit"), &json!({}))
        .await?;
    assert_eq!(submitted.status(), 200);
    let in_review = practitioner
        .get_json(&format!("/api/v1/letters/{letter}"))
        .await?;
    let surname = finding(&in_review, &with_text, "protected_term")?;
    assert_eq!(surname["term"], "Carter", "{surname}");
    let queue = practitioner.get_json("/api/v1/review-queue").await?;
    let expected = in_review["findings"].as_array().map_or(0, Vec::len)
        + in_review["attachment_findings"]
            .as_array()
            .map_or(0, Vec::len);
    assert_eq!(queue[0]["findings"], expected, "{queue}");

    // The text is stored sealed, and the working folder is empty again.
    for entry in files_under(app.data_dir.path())? {
        let bytes = std::fs::read(&entry)?;
        for needle in [POSTCODE.as_bytes(), b"Carter family"] {
            assert!(
                !bytes.windows(needle.len()).any(|window| window == needle),
                "readable text in {}",
                entry.display()
            );
        }
    }
    Ok(())
}
