//! National sufficiency statistics through the real server: no shown
//! count, and no difference of two shown counts of nested groups, is
//! below 5.

use std::collections::BTreeSet;

use kinlink_core::profiles::{AGE_BANDS, Ethnicity, Region, age_band};
use kinlink_core::sufficiency::{
    Count, OneWayCounts, PublishedOneWay, PublishedTwoWay, THRESHOLD, TwoWayCounts, check_one_way,
    check_two_way,
};
use kinlink_tests::app::TestApp;
use kinlink_tests::client::{Client, status_and_json};
use serde_json::{Value, json};

/// Families the test adds: region, ethnic group, how many.
const FAMILIES: &[(&str, &str, u64)] = &[
    ("london", "white", 12),
    ("london", "black", 7),
    ("london", "asian", 3),
    ("london", "mixed", 1),
    ("north_west", "white", 9),
    ("north_west", "asian", 6),
    ("wales", "white", 2),
    ("yorkshire_and_humber", "black", 4),
];

/// Families in the demo data.
const DEMO_FAMILIES: &[(&str, &str)] = &[("yorkshire_and_humber", "black"), ("wales", "white")];

/// Sibling groups the test adds, by the children's ages.
const CHILD_GROUPS: &[&[u8]] = &[
    &[0],
    &[0, 3],
    &[0, 2, 4],
    &[0],
    &[0, 1],
    &[0, 1, 1],
    &[6],
    &[12, 14],
];

/// Children's ages in the published demo cases; Tyler (9) is a draft.
const DEMO_AGES: &[u8] = &[4, 7];

fn family(region: &str, ethnicity: &str) -> Value {
    json!({
        "kind": "family",
        "profile": {
            "household_name": "A household",
            "household_description": "Counted in the statistics.",
            "approved_for": ["adoption"],
            "approval_date": "2026-01-10",
            "region": region,
            "ethnicity": ethnicity,
            "offer": {
                "min_age": 0, "max_age": 10, "max_children": 2,
                "needs": { "health": "low", "development": "low", "history": "low" }
            }
        }
    })
}

fn children(ages: &[u8]) -> Value {
    json!({
        "kind": "child",
        "profile": {
            "children": ages
                .iter()
                .map(|age| json!({ "first_name": "Child", "age_years": age }))
                .collect::<Vec<_>>(),
            "description": "Counted in the statistics.",
            "legal_status": "placement_order",
            "plan": "adoption",
            "region": "london",
            "needs": { "health": "none", "development": "none", "history": "none" },
            "ethnicity": "white"
        }
    })
}

/// Creates a case and publishes it to all, since drafts are not counted.
async fn create(client: &Client, body: &Value) -> anyhow::Result<()> {
    let (status, answer) = status_and_json(client.post("/api/v1/cases", body).await?).await?;
    anyhow::ensure!(status == 201, "creating a case: {status} {answer}");
    let id = answer["id"].as_str().unwrap_or_default();
    let published = client
        .put(
            &format!("/api/v1/cases/{id}/publication"),
            &json!({ "visibility": "all", "anonymous": false }),
        )
        .await?;
    anyhow::ensure!(
        published.status() == 200,
        "publishing a case: {}",
        published.status()
    );
    Ok(())
}

/// A shown number with the cells it counts.
struct Shown {
    name: String,
    value: u64,
    cells: BTreeSet<(usize, usize)>,
}

/// Lists every shown number of a two-way table with the cells it covers.
fn shown_numbers(table: &PublishedTwoWay) -> Vec<Shown> {
    let columns = table.columns.len();
    let rows = table.rows.len();
    let mut shown = Vec::new();
    let mut push = |name: String, count: Count, cells: BTreeSet<(usize, usize)>| {
        if let Some(value) = count.shown() {
            shown.push(Shown { name, value, cells });
        }
    };
    for (r, row) in table.rows.iter().enumerate() {
        for (c, cell) in row.cells.iter().enumerate() {
            push(
                format!("{} × {}", row.label, table.columns[c]),
                *cell,
                BTreeSet::from([(r, c)]),
            );
        }
        push(
            format!("{} total", row.label),
            row.total,
            (0..columns).map(|c| (r, c)).collect(),
        );
    }
    for (c, total) in table.column_totals.iter().enumerate() {
        push(
            format!("{} total", table.columns[c]),
            *total,
            (0..rows).map(|r| (r, c)).collect(),
        );
    }
    push(
        "grand total".to_owned(),
        table.total,
        (0..rows)
            .flat_map(|r| (0..columns).map(move |c| (r, c)))
            .collect(),
    );
    shown
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_shown_count_or_difference_below_five() -> anyhow::Result<()> {
    let app = TestApp::spawn().await?;
    let council = app.sign_in("la_practitioner").await?;
    let agency = app.sign_in("va_practitioner").await?;

    let regions: Vec<&str> = Region::ALL.iter().map(|region| region.as_str()).collect();
    let groups: Vec<&str> = Ethnicity::ALL.iter().map(|group| group.as_str()).collect();
    let mut families = TwoWayCounts::new(regions.clone(), groups.clone());
    for (index, (region, ethnicity, count)) in FAMILIES.iter().enumerate() {
        let worker = if index % 2 == 0 { &council } else { &agency };
        for _ in 0..*count {
            create(worker, &family(region, ethnicity)).await?;
        }
        families.add(region, ethnicity, *count);
    }
    for (region, ethnicity) in DEMO_FAMILIES {
        families.add(region, ethnicity, 1);
    }
    let mut ages = OneWayCounts::new(AGE_BANDS.iter().map(|(band, _)| *band));
    for group in CHILD_GROUPS {
        create(&agency, &children(group)).await?;
        for age in *group {
            ages.add(age_band(*age), 1);
        }
    }
    for age in DEMO_AGES {
        ages.add(age_band(*age), 1);
    }

    // A draft is not counted, so no worker can pad the table with unseen cases.
    let (status, draft) = status_and_json(
        council
            .post("/api/v1/cases", &family("london", "white"))
            .await?,
    )
    .await?;
    assert_eq!(status, 201, "{draft}");

    let published = council.get_json("/api/v1/statistics/sufficiency").await?;
    let table: PublishedTwoWay = serde_json::from_value(published["families"].clone())?;
    let bands: PublishedOneWay = serde_json::from_value(published["children"].clone())?;

    let disclosures = check_two_way(&families, &table)?;
    assert!(disclosures.is_empty(), "families: {disclosures:?}");
    let disclosures = check_one_way(&ages, &bands)?;
    assert!(disclosures.is_empty(), "children: {disclosures:?}");

    // The same property, checked here over every pair of shown numbers
    // whose groups nest: each is at least 5, and so is each difference,
    // unless the two count the same families.
    let shown = shown_numbers(&table);
    for number in &shown {
        assert!(
            number.value >= THRESHOLD,
            "{} shows {}",
            number.name,
            number.value
        );
    }
    for outer in &shown {
        for inner in &shown {
            if outer.cells == inner.cells || !inner.cells.is_subset(&outer.cells) {
                continue;
            }
            let difference = outer.value - inner.value;
            assert!(
                difference >= THRESHOLD,
                "{} − {} = {difference}",
                outer.name,
                inner.name
            );
        }
    }
    for entry in &bands.entries {
        if let (Some(entry), Some(total)) = (entry.count.shown(), bands.total.shown()) {
            assert!(entry >= THRESHOLD);
            assert!(total == entry || total - entry >= THRESHOLD);
        }
    }

    // The rule does not hide everything: large groups stay visible. Which
    // of two large cells in a broken row goes is the rule's choice, so
    // only the totals and one cell the rule has no reason to hide are
    // pinned.
    assert_eq!(table.total, Count::Shown(46), "{published}");
    assert_eq!(table.cell("north_west", "white"), Some(Count::Shown(9)));
    let london = table.rows.iter().find(|row| row.label == "london");
    assert_eq!(london.map(|row| row.total), Some(Count::Shown(23)));
    assert_eq!(bands.total, Count::Shown(17));
    assert_eq!(
        table.cell("london", "mixed"),
        Some(Count::Suppressed),
        "a single family was shown"
    );

    let family_member = app.sign_in("adoptive_parent").await?;
    let refused = family_member.get("/api/v1/statistics/sufficiency").await?;
    assert_eq!(refused.status(), 403);
    Ok(())
}
