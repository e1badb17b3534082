//! The access export on the real server. Each person downloads their own
//! archive; Python's `zipfile` reads it, checking every entry's CRC-32.
//! The test reads every table of the data inventory straight from the
//! database, picks the rows whose subject columns name the person, and
//! checks that each of those rows is in the export with every column
//! copied, opened or withheld as the registry says, and that no other row
//! and no other person's name or address is.

use std::collections::BTreeMap;
use std::time::Duration;

use kinlink_core::access_export::{
    SubjectKind, Treatment, subject_kind, subject_tables, treatment,
};
use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use kinlink_tests::family::linked_household;
use kinlink_tests::mail::Catcher;
use kinlink_tests::test_media;
use kinlink_tests::uploads::{share, upload_settled};
use sea_orm::{FromQueryResult, Statement};
use serde_json::{Map, Value, json};
use sha2::Digest;

const FAMILY: &str = "the.adeyemis@example.org";
const PASSWORD: &str = "a long family passphrase 42";

type Row = Map<String, Value>;

/// An archive as Python's `zipfile` reads it: its `export.json` and every
/// entry's bytes.
struct Archive {
    export: Value,
    text: String,
    entries: BTreeMap<String, Vec<u8>>,
}

async fn download(client: &Client) -> anyhow::Result<Archive> {
    let response = client.get("/api/v1/me/export").await?;
    anyhow::ensure!(
        response.status() == 200,
        "export failed: {}",
        response.status()
    );
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/zip");
    assert_eq!(header("cache-control"), "no-store");
    assert!(
        header("content-disposition").starts_with("attachment; filename=\"kinlink-export-"),
        "{}",
        header("content-disposition")
    );
    let bytes = response.bytes().await?;
    let folder = tempfile::tempdir()?;
    let path = folder.path().join("export.zip");
    std::fs::write(&path, &bytes)?;
    let script = "import base64, json, sys, zipfile\n\
        archive = zipfile.ZipFile(sys.argv[1])\n\
        bad = archive.testzip()\n\
        assert bad is None, bad\n\
        print(json.dumps({i.filename: base64.b64encode(archive.read(i)).decode() for i in archive.infolist()}))\n";
    let output = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "zipfile could not read the export: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listed: BTreeMap<String, String> = serde_json::from_slice(&output.stdout)?;
    let mut entries = BTreeMap::new();
    for (name, encoded) in listed {
        use base64::Engine;
        entries.insert(
            name,
            base64::engine::general_purpose::STANDARD.decode(encoded)?,
        );
    }
    let json = entries
        .get("export.json")
        .ok_or_else(|| anyhow::anyhow!("no export.json"))?;
    let text = String::from_utf8(json.clone())?;
    Ok(Archive {
        export: serde_json::from_str(&text)?,
        text,
        entries,
    })
}

async fn all_rows(store: &kinlink_store::Store, table: &str) -> anyhow::Result<Vec<Row>> {
    let backend = store.db.get_database_backend();
    let statement = Statement::from_string(backend, format!("SELECT * FROM \"{table}\""));
    Ok(Value::find_by_statement(statement)
        .all(&store.db)
        .await?
        .into_iter()
        .filter_map(|row| match row {
            Value::Object(map) => Some(map),
            _ => None,
        })
        .collect())
}

/// The values that name one person, found in the database by the test.
struct Person {
    user_id: String,
    email: String,
    account_key: String,
    cases: Vec<String>,
    membership_number: Option<String>,
}

impl Person {
    async fn find(store: &kinlink_store::Store, user_id: &str) -> anyhow::Result<Self> {
        let users = all_rows(store, "users").await?;
        let user = users
            .iter()
            .find(|row| row["id"] == user_id)
            .ok_or_else(|| anyhow::anyhow!("no user {user_id}"))?;
        let email = user["email"].as_str().unwrap_or_default().to_owned();
        let digest = sha2::Sha256::digest(email.as_bytes());
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        let cases = all_rows(store, "cases")
            .await?
            .into_iter()
            .filter(|row| row["family_user_id"] == user_id)
            .filter_map(|row| row["id"].as_str().map(str::to_owned))
            .collect();
        let membership_number = all_rows(store, "community_members")
            .await?
            .into_iter()
            .find(|row| row["user_id"] == user_id)
            .and_then(|row| row["membership_number"].as_str().map(str::to_owned));
        Ok(Self {
            user_id: user_id.to_owned(),
            email,
            account_key: format!("account:{hex}"),
            cases,
            membership_number,
        })
    }

    fn named_by(&self, table: &str, column: &str, value: &Value) -> bool {
        let Some(value) = value.as_str() else {
            return false;
        };
        match subject_kind(table, column) {
            Some(SubjectKind::User) => value == self.user_id,
            Some(SubjectKind::Case) => self.cases.iter().any(|case| case == value),
            Some(SubjectKind::Email) => value == self.email,
            Some(SubjectKind::AccountKey) => value == self.account_key,
            Some(SubjectKind::MembershipNumber) => self.membership_number.as_deref() == Some(value),
            Some(SubjectKind::Other) | None => false,
        }
    }
}

/// Returns a row without its sealed and withheld columns, and without the
/// names the export gives opened values.
fn copied(table: &str, row: &Row) -> Row {
    row.iter()
        .filter(|(column, _)| {
            treatment(table, column) == Treatment::Copied && !opened_name(table, column)
        })
        .map(|(column, value)| (column.clone(), value.clone()))
        .collect()
}

fn opened_name(table: &str, name: &str) -> bool {
    kinlink_core::access_export::TREATED
        .iter()
        .any(|(t, _, treated)| {
            *t == table && matches!(treated, Treatment::Opened(opened) if *opened == name)
        })
        && kinlink_core::inventory::category(table, name).is_none()
}

fn sorted(mut rows: Vec<Row>) -> Vec<String> {
    let mut texts: Vec<String> = rows
        .drain(..)
        .map(|row| Value::Object(row).to_string())
        .collect();
    texts.sort();
    texts
}

/// Checks the export of `person` against the database, table by table,
/// and returns the tables it held rows of.
async fn check_records(
    store: &kinlink_store::Store,
    person: &Person,
    archive: &Archive,
) -> anyhow::Result<Vec<String>> {
    let export = &archive.export;
    assert_eq!(export["format"], "kinlink-access-export");
    assert_eq!(export["version"], 1);
    assert_eq!(export["user_id"], person.user_id.as_str());
    assert_eq!(export["unopened"], json!([]), "sealed values left closed");
    let records = export["records"]
        .as_object()
        .ok_or_else(|| anyhow::anyhow!("no records"))?;
    let mut seen = Vec::new();
    let mut others = Vec::new();
    for table in subject_tables() {
        let mut about = Vec::new();
        for row in all_rows(store, table.name).await? {
            let named = table.subject_columns.iter().any(|column| {
                row.get(*column)
                    .is_some_and(|value| person.named_by(table.name, column, value))
            });
            if named {
                about.push(row);
            } else if table.name == "users" {
                others.push(row);
            }
        }
        let exported: Vec<Row> = records
            .get(table.name)
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .filter_map(|row| row.as_object().cloned())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            sorted(about.iter().map(|row| copied(table.name, row)).collect()),
            sorted(exported.iter().map(|row| copied(table.name, row)).collect()),
            "the rows of {} about the person",
            table.name
        );
        if !about.is_empty() {
            seen.push(table.name.to_owned());
        }
        for row in &about {
            let copy = copied(table.name, row);
            let shown = exported
                .iter()
                .find(|candidate| copied(table.name, candidate) == copy)
                .ok_or_else(|| anyhow::anyhow!("a row of {} is missing", table.name))?;
            for (column, value) in row {
                match treatment(table.name, column) {
                    Treatment::Copied => {
                        // Sealed bytes are never copied as they are.
                        assert!(
                            !value.is_array(),
                            "{}.{column} holds bytes and is copied",
                            table.name
                        );
                    }
                    Treatment::Withheld(_) => {
                        assert!(shown.get(column).is_none(), "{}.{column}", table.name);
                        assert!(
                            export["withheld"]
                                .as_array()
                                .is_some_and(|list| list
                                    .iter()
                                    .any(|w| w["table"] == table.name
                                        && w["column"] == column.as_str())),
                            "{}.{column} is not listed as withheld",
                            table.name
                        );
                    }
                    Treatment::Opened(name) => {
                        assert!(shown.get(column).is_none(), "{}.{column}", table.name);
                        assert_eq!(
                            value.is_null(),
                            shown.get(name).is_none_or(Value::is_null),
                            "{}.{column} opened as {name}",
                            table.name
                        );
                    }
                }
            }
        }
    }
    // No one else's name or address.
    for other in others {
        for column in ["email", "display_name"] {
            let value = other[column].as_str().unwrap_or_default();
            assert!(
                !value.is_empty() && !archive.text.contains(value),
                "another person's {column} {value:?} is in the export"
            );
        }
    }
    Ok(seen)
}

fn rows_of<'a>(archive: &'a Archive, table: &str) -> Vec<&'a Value> {
    archive.export["records"][table]
        .as_array()
        .map(|rows| rows.iter().collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn family_member_export_is_complete() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let store = app.store().await?;
    let alex = app.sign_in("adoptive_parent").await?;
    let jordan = app.sign_in("birth_parent").await?;
    let link = alex.conversation_id("contact_link").await?;

    // Alex writes, shares a photo, starts a letter and asks for their
    // data; Jordan answers.
    let mut socket = alex.socket().await?;
    let sent = "We went to the beach on Saturday";
    socket.say(&link, sent).await?;
    let photo = std::fs::read(test_media::path("photo.jpg")?)?;
    let file = upload_settled(&alex, &link, "beach.jpg", &photo).await?;
    let file_id = file["id"].as_str().unwrap_or_default().to_owned();
    share(&alex, &link, &file_id).await?;
    let unsent = upload_settled(&alex, &link, "unsent.jpg", &photo).await?;
    let unsent_id = unsent["id"].as_str().unwrap_or_default().to_owned();
    let draft = "Dear Jordan, a draft about the summer";
    let (status, letter) = status_and_json(
        alex.post(
            &format!("/api/v1/conversations/{link}/letters"),
            &json!({ "body": draft }),
        )
        .await?,
    )
    .await?;
    assert_eq!(status, 201, "{letter}");
    let asked = "Every message about the summer, please";
    let (status, request) = status_and_json(
        alex.post(
            "/api/v1/me/rights-requests",
            &json!({ "kind": "access", "details": asked }),
        )
        .await?,
    )
    .await?;
    assert_eq!(status, 201, "{request}");
    let mut other = jordan.socket().await?;
    let received = "Thank you, the photo made my week";
    other.say(&link, received).await?;

    let archive = download(&alex).await?;
    let alex_email = app.demo_user("adoptive_parent")?["email"].clone();
    let alex_id = all_rows(&store, "users")
        .await?
        .into_iter()
        .find(|row| row["email"] == alex_email)
        .and_then(|row| row["id"].as_str().map(str::to_owned))
        .ok_or_else(|| anyhow::anyhow!("no user {alex_email}"))?;
    let person = Person::find(&store, &alex_id).await?;
    let tables = check_records(&store, &person, &archive).await?;
    for table in [
        "users",
        "memberships",
        "sessions",
        "messages",
        "files",
        "conversation_members",
        "conversation_keys",
        "agreement_parties",
        "letters",
        "letter_events",
        "rights_requests",
        "audit_events",
    ] {
        assert!(tables.iter().any(|t| t == table), "no rows of {table}");
    }

    // Sealed values are opened: the message Alex sent, the file's name,
    // the request's details.
    let bodies: Vec<&Value> = rows_of(&archive, "messages")
        .into_iter()
        .map(|row| &row["body"]["text"])
        .collect();
    assert!(bodies.contains(&&json!(sent)), "{bodies:?}");
    assert!(
        !bodies.contains(&&json!(received)),
        "Jordan's message is not Alex's row"
    );
    let files = rows_of(&archive, "files");
    assert!(
        files.iter().any(|row| row["name"] == "beach.jpg"),
        "{files:?}"
    );
    let requests = rows_of(&archive, "rights_requests");
    assert_eq!(requests[0]["details"], asked);
    for row in rows_of(&archive, "sessions") {
        assert!(row.get("token_hash").is_none(), "{row}");
        assert!(row.get("sealed_private_key").is_none(), "{row}");
    }

    // What Alex can read: both sides of the link, the draft letter, and
    // the photo as the application serves it.
    let conversation = archive.export["conversations"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["id"] == link.as_str()))
        .ok_or_else(|| anyhow::anyhow!("no contact link in the export"))?;
    let texts: Vec<&str> = conversation["messages"]
        .as_array()
        .map(|list| list.iter().filter_map(|m| m["body"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        texts.contains(&sent) && texts.contains(&received),
        "{texts:?}"
    );
    let letters = conversation["letters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let draft_row = letters
        .iter()
        .find(|l| l["id"] == letter["id"])
        .ok_or_else(|| anyhow::anyhow!("the draft letter is missing"))?;
    assert_eq!(draft_row["body"], draft);
    assert!(draft_row.get("writer_name").is_none());
    let listed = archive.export["files"]
        .as_array()
        .and_then(|list| list.iter().find(|f| f["id"] == file_id.as_str()))
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the photo is not listed"))?;
    let entry = listed["path"].as_str().unwrap_or_default();
    assert_eq!(entry, format!("files/{file_id}/beach.jpg"));
    let served = alex
        .get(&format!("/api/v1/files/{file_id}"))
        .await?
        .bytes()
        .await?;
    assert_eq!(
        archive.entries.get(entry).map(Vec::as_slice),
        Some(&served[..])
    );

    assert!(archive.text.contains(&unsent_id), "Alex's own unsent photo");

    // Jordan's own export has Jordan's message and not Alex's draft. Nor
    // does the council's practitioner's, who may read the link, have
    // Alex's unsent photo: it is not theirs.
    let theirs = download(&jordan).await?;
    assert!(theirs.text.contains(received));
    assert!(!theirs.text.contains(draft));
    assert!(!theirs.text.contains(asked));
    assert!(!theirs.text.contains(&unsent_id));
    let practitioner = download(&app.sign_in("la_practitioner").await?).await?;
    assert!(practitioner.text.contains(&file_id), "the shared photo");
    assert!(!practitioner.text.contains(&unsent_id), "the unsent photo");

    // The download is audited, without its content.
    let audited = all_rows(&store, "audit_events")
        .await?
        .into_iter()
        .filter(|row| row["action"] == "rights.access_exported")
        .count();
    assert_eq!(audited, 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn family_account_export_has_profile() -> anyhow::Result<()> {
    let catcher = Catcher::start(Duration::from_secs(30))?;
    let app = catcher.app_sending_here().await?;
    let worker = app.sign_in("va_practitioner").await?;
    let adeyemi = worker.own_case("family", "The Adeyemi family").await?;
    let household = linked_household(&app, &catcher, &worker, &adeyemi, FAMILY, PASSWORD).await?;
    let (user_id, family) = (household.user_id, household.client);
    // A mistyped password afterwards leaves a throttle row about the
    // account.
    let wrong = Client::new(&app.address)?
        .post(
            "/api/v1/auth/sign-in",
            &json!({ "email": FAMILY, "password": "not the passphrase" }),
        )
        .await?;
    assert_eq!(wrong.status(), 401);

    let archive = download(&family).await?;
    let store = app.store().await?;
    let person = Person::find(&store, &user_id).await?;
    assert_eq!(person.cases, vec![adeyemi.clone()]);
    let tables = check_records(&store, &person, &archive).await?;
    for table in [
        "users",
        "cases",
        "memberships",
        "sessions",
        "sign_in_failures",
    ] {
        assert!(tables.iter().any(|t| t == table), "no rows of {table}");
    }
    let cases = rows_of(&archive, "cases");
    assert_eq!(cases[0]["profile"]["household_name"], "The Adeyemi family");
    Ok(())
}
