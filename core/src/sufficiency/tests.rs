use proptest::collection::vec;
use proptest::prelude::*;

use super::Count::{Shown, Suppressed};
use super::*;

/// Builds a two-way table from rows of cells, one per column.
fn table(columns: &[&str], rows: &[(&str, &[u64])]) -> TwoWayCounts {
    let mut counts = TwoWayCounts::new(rows.iter().map(|(label, _)| *label), columns.to_vec());
    for (row, cells) in rows {
        for (column, &count) in columns.iter().zip(cells.iter()) {
            counts.add(row, column, count);
        }
    }
    counts
}

/// Publishes with primary suppression alone, as a naive publisher would.
fn primary_only(counts: &TwoWayCounts) -> PublishedTwoWay {
    let publish = |value: u64| Count::publish(value, value < THRESHOLD);
    let width = counts.columns().len();
    PublishedTwoWay {
        columns: counts.columns().to_vec(),
        rows: (0..counts.rows().len())
            .map(|r| PublishedRow {
                label: counts.rows()[r].clone(),
                cells: counts.cells[r].iter().map(|&v| publish(v)).collect(),
                total: publish(counts.row_total(r)),
            })
            .collect(),
        column_totals: (0..width)
            .map(|c| publish(counts.column_total(c)))
            .collect(),
        total: publish(counts.total()),
    }
}

/// Returns each line as its total and its members.
fn lines(published: &PublishedTwoWay) -> Vec<(Count, Vec<Count>)> {
    let mut lines: Vec<(Count, Vec<Count>)> = published
        .rows
        .iter()
        .map(|row| (row.total, row.cells.clone()))
        .collect();
    for (c, &total) in published.column_totals.iter().enumerate() {
        lines.push((
            total,
            published.rows.iter().map(|row| row.cells[c]).collect(),
        ));
    }
    let row_totals = published.rows.iter().map(|row| row.total).collect();
    lines.push((published.total, row_totals));
    lines.push((published.total, published.column_totals.clone()));
    lines
}

/// Counts the lines whose total is shown and that have exactly one
/// suppressed member, which a reader could then find exactly.
fn lines_with_one_suppressed(published: &PublishedTwoWay) -> usize {
    let one_suppressed =
        |members: &[Count]| members.iter().filter(|m| **m == Suppressed).count() == 1;
    lines(published)
        .iter()
        .filter(|(total, members)| *total != Suppressed && one_suppressed(members))
        .count()
}

fn cells(published: &PublishedTwoWay) -> Vec<Vec<Count>> {
    published.rows.iter().map(|row| row.cells.clone()).collect()
}

fn row_totals(published: &PublishedTwoWay) -> Vec<Count> {
    published.rows.iter().map(|row| row.total).collect()
}

fn remainder(total: Position, suppressed: Vec<Position>, value: u64) -> Disclosure {
    Disclosure {
        derivation: Derivation::Remainder { total, suppressed },
        value,
    }
}

fn difference(outer: Position, inner: Position, value: u64) -> Disclosure {
    Disclosure {
        derivation: Derivation::Difference { outer, inner },
        value,
    }
}

fn cell(row: &str, column: &str) -> Position {
    Position::Cell {
        row: row.to_owned(),
        column: column.to_owned(),
    }
}

fn row_total(row: &str) -> Position {
    Position::RowTotal {
        row: row.to_owned(),
    }
}

#[test]
fn single_small_cell_takes_partners() {
    let counts = table(
        &["a", "b", "c"],
        &[("north", &[10, 3, 12]), ("south", &[8, 9, 7])],
    );

    let published = suppress_two_way(&counts);

    // The 3 is primary, and its row gives up the 10. Column a then gives up
    // the 8, and row south the 9 rather than the 7, because the 9 is also the
    // partner that column b needs for the 3.
    let expected = vec![
        vec![Suppressed, Suppressed, Shown(12)],
        vec![Suppressed, Suppressed, Shown(7)],
    ];
    assert_eq!(cells(&published), expected);
    assert_eq!(row_totals(&published), vec![Shown(25), Shown(24)]);
    assert_eq!(
        published.column_totals,
        vec![Shown(18), Shown(12), Shown(19)]
    );
    assert_eq!(published.total, Shown(49));
    assert_eq!(check_two_way(&counts, &published), Ok(vec![]));
}

#[test]
fn checker_finds_lone_small_cell() {
    let counts = table(
        &["a", "b", "c"],
        &[("north", &[10, 3, 12]), ("south", &[8, 9, 7])],
    );

    let disclosures =
        check_two_way(&counts, &primary_only(&counts)).expect("naive table has the true shape");

    let from_row = remainder(row_total("north"), vec![cell("north", "b")], 3);
    assert!(disclosures.contains(&from_row), "{disclosures:?}");
    let column_b = Position::ColumnTotal {
        column: "b".to_owned(),
    };
    let from_column = remainder(column_b, vec![cell("north", "b")], 3);
    assert!(disclosures.contains(&from_column), "{disclosures:?}");
}

#[test]
fn small_row_total_takes_partner() {
    // A grand total of 23 beside a region total of 20 would give 3 for the
    // other region.
    let counts = table(&["a", "b"], &[("north", &[10, 10]), ("south", &[1, 2])]);

    let naive =
        check_two_way(&counts, &primary_only(&counts)).expect("naive table has the true shape");
    let subtracted = difference(Position::Total, row_total("north"), 3);
    assert!(naive.contains(&subtracted), "{naive:?}");

    let published = suppress_two_way(&counts);
    assert_eq!(row_totals(&published), vec![Suppressed, Suppressed]);
    assert_eq!(cells(&published), vec![vec![Suppressed; 2]; 2]);
    assert_eq!(published.column_totals, vec![Shown(11), Shown(12)]);
    assert_eq!(published.total, Shown(23));
    assert_eq!(check_two_way(&counts, &published), Ok(vec![]));
}

#[test]
fn zero_cells_are_suppressed() {
    let counts = table(&["a", "b"], &[("north", &[7, 0]), ("south", &[6, 5])]);

    let published = suppress_two_way(&counts);

    assert_eq!(published.cell("north", "b"), Some(Suppressed));
    // The row total 7 beside a shown 7 would reveal that the other cell is 0.
    assert_eq!(published.cell("north", "a"), Some(Suppressed));
    assert_eq!(lines_with_one_suppressed(&published), 0);
    assert_eq!(check_two_way(&counts, &published), Ok(vec![]));
}

#[test]
fn checker_finds_revealed_zero() {
    let counts = table(&["a", "b"], &[("north", &[7, 0]), ("south", &[6, 5])]);

    let naive =
        check_two_way(&counts, &primary_only(&counts)).expect("naive table has the true shape");

    let zero_left = remainder(row_total("north"), vec![cell("north", "b")], 0);
    assert!(naive.contains(&zero_left), "{naive:?}");
    let same_value = difference(row_total("north"), cell("north", "a"), 0);
    assert!(naive.contains(&same_value), "{naive:?}");
}

#[test]
fn all_small_cells_keep_safe_totals() {
    let counts = table(
        &["a", "b", "c"],
        &[("r1", &[1, 2, 3]), ("r2", &[4, 1, 2]), ("r3", &[3, 3, 1])],
    );

    let published = suppress_two_way(&counts);

    assert_eq!(cells(&published), vec![vec![Suppressed; 3]; 3]);
    assert_eq!(row_totals(&published), vec![Shown(6), Shown(7), Shown(7)]);
    assert_eq!(published.column_totals, vec![Shown(8), Shown(6), Shown(6)]);
    assert_eq!(published.total, Shown(20));
    assert_eq!(check_two_way(&counts, &published), Ok(vec![]));
}

#[test]
fn all_small_table_is_fully_suppressed() {
    let counts = table(&["a", "b"], &[("r1", &[1, 0]), ("r2", &[0, 1])]);

    let published = suppress_two_way(&counts);

    assert_eq!(cells(&published), vec![vec![Suppressed; 2]; 2]);
    assert_eq!(row_totals(&published), vec![Suppressed; 2]);
    assert_eq!(published.column_totals, vec![Suppressed; 2]);
    assert_eq!(published.total, Suppressed);
    assert_eq!(check_two_way(&counts, &published), Ok(vec![]));
}

#[test]
fn suppression_cascades_across_rows() {
    // Hiding the 2 costs the 9 beside it, each column then costs a 9 in the
    // second row, and that row is then safe with two hidden cells.
    let counts = table(
        &["a", "b", "c"],
        &[
            ("r1", &[2, 9, 20]),
            ("r2", &[9, 9, 20]),
            ("r3", &[20, 20, 20]),
        ],
    );

    let published = suppress_two_way(&counts);

    let expected = vec![
        vec![Suppressed, Suppressed, Shown(20)],
        vec![Suppressed, Suppressed, Shown(20)],
        vec![Shown(20), Shown(20), Shown(20)],
    ];
    assert_eq!(cells(&published), expected);
    assert_eq!(
        row_totals(&published),
        vec![Shown(31), Shown(38), Shown(60)]
    );
    assert_eq!(lines_with_one_suppressed(&published), 0);
    assert_eq!(check_two_way(&counts, &published), Ok(vec![]));
}

#[test]
fn single_column_hides_partner_total() {
    // Each row total counts the same people as its only cell.
    let counts = table(&["a"], &[("r1", &[10]), ("r2", &[2]), ("r3", &[8])]);

    let published = suppress_two_way(&counts);

    assert_eq!(
        cells(&published),
        vec![vec![Shown(10)], vec![Suppressed], vec![Suppressed]]
    );
    assert_eq!(
        row_totals(&published),
        vec![Shown(10), Suppressed, Suppressed]
    );
    assert_eq!(published.column_totals, vec![Shown(20)]);
    assert_eq!(published.total, Shown(20));
    assert_eq!(check_two_way(&counts, &published), Ok(vec![]));
}

#[test]
fn empty_table_suppresses_its_total() {
    let counts = TwoWayCounts::new(Vec::<String>::new(), Vec::<String>::new());

    let published = suppress_two_way(&counts);

    assert!(published.rows.is_empty());
    assert_eq!(published.total, Suppressed);
    assert_eq!(check_two_way(&counts, &published), Ok(vec![]));
}

#[test]
fn add_appends_new_labels_and_sums() {
    let mut counts = TwoWayCounts::new(["north"], ["a"]);

    counts.add("south", "b", 4);
    counts.add("south", "b", 3);

    assert_eq!(counts.rows(), ["north", "south"]);
    assert_eq!(counts.columns(), ["a", "b"]);
    assert_eq!(counts.get("south", "b"), 7);
    assert_eq!(counts.get("north", "b"), 0);
    assert_eq!(counts.get("east", "a"), 0);
}

#[test]
fn checker_rejects_wrong_shown_value() {
    let counts = table(&["a"], &[("north", &[10])]);
    let mut published = suppress_two_way(&counts);
    published.total = Shown(11);

    let result = check_two_way(&counts, &published);

    let expected = PublishedMismatch::Value {
        position: Position::Total,
        published: 11,
        actual: 10,
    };
    assert_eq!(result, Err(expected));
}

#[test]
fn checker_rejects_other_labels() {
    let counts = table(&["a"], &[("north", &[10])]);
    let mut published = suppress_two_way(&counts);
    published.rows[0].label = "south".to_owned();

    let result = check_two_way(&counts, &published);

    assert!(
        matches!(result, Err(PublishedMismatch::Labels { .. })),
        "{result:?}"
    );
}

#[test]
fn count_serialises_as_number_or_null() {
    let shown_json = serde_json::to_string(&Shown(12)).expect("a count serialises");
    let suppressed_json = serde_json::to_string(&Suppressed).expect("a count serialises");

    assert_eq!(shown_json, "12");
    assert_eq!(suppressed_json, "null");
}

#[test]
fn published_table_serialises_for_a_route() {
    let counts = table(&["a", "b"], &[("north", &[7, 0]), ("south", &[6, 5])]);
    let published = suppress_two_way(&counts);

    let json = serde_json::to_value(&published).expect("a table serialises");

    let expected = serde_json::json!({
        "columns": ["a", "b"],
        "rows": [
            {"label": "north", "cells": [null, null], "total": 7},
            {"label": "south", "cells": [null, null], "total": 11},
        ],
        "column_totals": [13, 5],
        "total": 18,
    });
    assert_eq!(json, expected);
    let back: PublishedTwoWay = serde_json::from_value(json).expect("the JSON deserialises");
    assert_eq!(back, published);
}

#[test]
fn one_way_small_entry_takes_partner() {
    let mut counts = OneWayCounts::new(["0-4", "5-9", "10-15"]);
    counts.add("0-4", 12);
    counts.add("5-9", 3);
    counts.add("10-15", 20);

    let published = suppress_one_way(&counts);

    let entry_counts: Vec<Count> = published.entries.iter().map(|entry| entry.count).collect();
    assert_eq!(entry_counts, vec![Suppressed, Suppressed, Shown(20)]);
    assert_eq!(published.total, Shown(35));
    assert_eq!(check_one_way(&counts, &published), Ok(vec![]));
}

#[test]
fn one_way_checker_finds_naive_remainder() {
    let mut counts = OneWayCounts::new(["0-4", "5-9"]);
    counts.add("0-4", 12);
    let naive = PublishedOneWay {
        entries: vec![
            PublishedEntry {
                label: "0-4".to_owned(),
                count: Shown(12),
            },
            PublishedEntry {
                label: "5-9".to_owned(),
                count: Suppressed,
            },
        ],
        total: Shown(12),
    };

    let disclosures = check_one_way(&counts, &naive).expect("naive table has the true shape");

    let entry = |label: &str| Position::Entry {
        label: label.to_owned(),
    };
    let zero_left = remainder(Position::Total, vec![entry("5-9")], 0);
    assert!(disclosures.contains(&zero_left), "{disclosures:?}");
    let same_value = difference(Position::Total, entry("0-4"), 0);
    assert!(disclosures.contains(&same_value), "{disclosures:?}");
    assert!(
        suppress_one_way(&counts)
            .entries
            .iter()
            .all(|e| e.count == Suppressed)
    );
}

/// Generates counts from 0 to 30, mostly small, so that most tables need
/// suppression.
fn mostly_small() -> impl Strategy<Value = u64> + Clone {
    prop_oneof![2 => Just(0u64), 3 => 1u64..THRESHOLD, 4 => THRESHOLD..=30]
}

/// Generates tables of 1 to 6 rows and 1 to 6 columns with cells drawn from
/// `count`.
fn two_way_tables(
    count: impl Strategy<Value = u64> + Clone,
) -> impl Strategy<Value = TwoWayCounts> {
    (1usize..=6, 1usize..=6)
        .prop_flat_map(move |(height, width)| vec(vec(count.clone(), width), height))
        .prop_map(|cells| {
            let width = cells.first().map_or(0, Vec::len);
            let columns: Vec<String> = (0..width).map(|c| format!("c{c}")).collect();
            let mut counts =
                TwoWayCounts::new((0..cells.len()).map(|r| format!("r{r}")), columns.clone());
            for (r, row) in cells.iter().enumerate() {
                for (column, &value) in columns.iter().zip(row) {
                    counts.add(&format!("r{r}"), column, value);
                }
            }
            counts
        })
}

fn one_way_tables(count: impl Strategy<Value = u64>) -> impl Strategy<Value = OneWayCounts> {
    vec(count, 1..=8).prop_map(|values| {
        let mut counts = OneWayCounts::default();
        for (index, value) in values.into_iter().enumerate() {
            counts.add(&format!("band{index}"), value);
        }
        counts
    })
}

proptest! {
    #[test]
    fn two_way_leaves_nothing_derivable(counts in two_way_tables(mostly_small())) {
        let published = suppress_two_way(&counts);

        prop_assert_eq!(check_two_way(&counts, &published), Ok(vec![]));
        prop_assert_eq!(lines_with_one_suppressed(&published), 0);
    }

    #[test]
    fn two_way_large_cells_published_in_full(counts in two_way_tables(THRESHOLD..=30)) {
        let published = suppress_two_way(&counts);

        for row in &published.rows {
            prop_assert!(row.cells.iter().all(|c| *c != Suppressed), "{:?}", published);
            prop_assert_ne!(row.total, Suppressed);
        }
        prop_assert!(published.column_totals.iter().all(|c| *c != Suppressed));
        prop_assert_ne!(published.total, Suppressed);
    }

    #[test]
    fn one_way_leaves_nothing_derivable(counts in one_way_tables(mostly_small())) {
        let published = suppress_one_way(&counts);

        prop_assert_eq!(check_one_way(&counts, &published), Ok(vec![]));
        let hidden = published.entries.iter().filter(|e| e.count == Suppressed).count();
        prop_assert!(published.total == Suppressed || hidden != 1, "{:?}", published);
    }

    #[test]
    fn one_way_large_entries_published_in_full(counts in one_way_tables(THRESHOLD..=30)) {
        let published = suppress_one_way(&counts);

        prop_assert!(published.entries.iter().all(|e| e.count != Suppressed));
        prop_assert_ne!(published.total, Suppressed);
    }
}
