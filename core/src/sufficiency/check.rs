//! The check that lists what a reader can derive from a published table.
//!
//! It works from the published numbers alone and enumerates the lines and
//! nestings of the table afresh, apart from the suppression code, so a test
//! that runs both can catch a mistake in one of them.

use std::fmt;

use super::{Count, OneWayCounts, PublishedOneWay, PublishedTwoWay, THRESHOLD, TwoWayCounts, sum};

/// A number's place in a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// A cell of a two-way table.
    Cell { row: String, column: String },
    /// A row total of a two-way table.
    RowTotal { row: String },
    /// A column total of a two-way table.
    ColumnTotal { column: String },
    /// An entry of a one-way table.
    Entry { label: String },
    /// The grand total of a two-way table, or the total of a one-way table.
    Total,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Cell { row, column } => write!(f, "cell ({row}, {column})"),
            Position::RowTotal { row } => write!(f, "row total {row}"),
            Position::ColumnTotal { column } => write!(f, "column total {column}"),
            Position::Entry { label } => write!(f, "entry {label}"),
            Position::Total => write!(f, "total"),
        }
    }
}

/// A reader's route from the published numbers to a count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derivation {
    /// The number is shown.
    Shown(Position),
    /// A shown total minus its shown members, which is the sum of its
    /// suppressed members.
    Remainder {
        total: Position,
        suppressed: Vec<Position>,
    },
    /// A shown number minus another shown number whose people it contains.
    Difference { outer: Position, inner: Position },
}

/// A count below [`THRESHOLD`] that a reader can derive from a published
/// table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The reader's route to the count.
    pub derivation: Derivation,
    /// The count the reader finds.
    pub value: u64,
}

/// A published table that is not a suppression of the true table it is
/// checked against.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishedMismatch {
    /// The row, column or entry labels differ in content or order.
    #[error("published labels {published:?} differ from the true labels {expected:?}")]
    Labels {
        expected: Vec<String>,
        published: Vec<String>,
    },
    /// A row has the wrong number of cells.
    #[error("published row {row} has {published} cells, expected {expected}")]
    RowLength {
        row: String,
        expected: usize,
        published: usize,
    },
    /// The column totals are the wrong number.
    #[error("published table has {published} column totals, expected {expected}")]
    ColumnTotalsLength { expected: usize, published: usize },
    /// A shown number is not the true count.
    #[error("published {position} is {published}, but the true count is {actual}")]
    Value {
        position: Position,
        published: u64,
        actual: u64,
    },
}

/// Lists every count below [`THRESHOLD`] that a reader can derive from
/// `published`, using the true counts in `truth`. The derivations are those
/// the module documentation says the rule closes, so a table from
/// [`super::suppress_two_way`] gives an empty list.
///
/// A remainder of 0 over suppressed members counts, because it reveals that
/// they are all 0. A difference of 0 counts too, unless both numbers
/// count the same cells.
pub fn check_two_way(
    truth: &TwoWayCounts,
    published: &PublishedTwoWay,
) -> Result<Vec<Disclosure>, PublishedMismatch> {
    check_shape(truth, published)?;
    let numbers = TwoWayNumbers::new(truth, published)?;

    let mut disclosures = numbers.shown();
    disclosures.extend(numbers.remainders());
    disclosures.extend(numbers.differences());
    Ok(disclosures)
}

fn check_shape(truth: &TwoWayCounts, published: &PublishedTwoWay) -> Result<(), PublishedMismatch> {
    let rows: Vec<String> = published.rows.iter().map(|row| row.label.clone()).collect();
    same_labels(truth.rows(), &rows)?;
    same_labels(truth.columns(), &published.columns)?;

    let width = truth.columns().len();
    if published.column_totals.len() != width {
        return Err(PublishedMismatch::ColumnTotalsLength {
            expected: width,
            published: published.column_totals.len(),
        });
    }
    match published.rows.iter().find(|row| row.cells.len() != width) {
        Some(row) => Err(PublishedMismatch::RowLength {
            row: row.label.clone(),
            expected: width,
            published: row.cells.len(),
        }),
        None => Ok(()),
    }
}

/// Every number of a two-way table whose shape [`check_shape`] accepted.
struct TwoWayNumbers {
    /// `cells[row][column]`.
    cells: Vec<Vec<Number>>,
    row_totals: Vec<Number>,
    column_totals: Vec<Number>,
    total: Number,
}

impl TwoWayNumbers {
    fn new(truth: &TwoWayCounts, published: &PublishedTwoWay) -> Result<Self, PublishedMismatch> {
        let mut cells = Vec::new();
        let mut row_totals = Vec::new();
        for (r, row) in published.rows.iter().enumerate() {
            let mut line = Vec::new();
            for (c, column) in published.columns.iter().enumerate() {
                let position = Position::Cell {
                    row: row.label.clone(),
                    column: column.clone(),
                };
                line.push(Number::new(position, truth.cells[r][c], row.cells[c])?);
            }
            cells.push(line);
            let position = Position::RowTotal {
                row: row.label.clone(),
            };
            row_totals.push(Number::new(position, truth.row_total(r), row.total)?);
        }

        let mut column_totals = Vec::new();
        for (c, column) in published.columns.iter().enumerate() {
            let position = Position::ColumnTotal {
                column: column.clone(),
            };
            let count = published.column_totals[c];
            column_totals.push(Number::new(position, truth.column_total(c), count)?);
        }
        let total = Number::new(Position::Total, truth.total(), published.total)?;
        Ok(TwoWayNumbers {
            cells,
            row_totals,
            column_totals,
            total,
        })
    }

    fn shown(&self) -> Vec<Disclosure> {
        let cells = self.cells.iter().flatten();
        let totals = self.row_totals.iter().chain(&self.column_totals);
        let every_number = cells.chain(totals).chain([&self.total]);
        every_number.filter_map(Number::disclosure).collect()
    }

    /// Returns the disclosures of each line: each row and each column with
    /// its total, and the row totals and the column totals with the grand
    /// total.
    fn remainders(&self) -> Vec<Disclosure> {
        let mut disclosures = Vec::new();
        for (row, row_total) in self.cells.iter().zip(&self.row_totals) {
            disclosures.extend(remainder(row_total, row.iter()));
        }
        for (c, column_total) in self.column_totals.iter().enumerate() {
            let column = self.cells.iter().map(|row| &row[c]);
            disclosures.extend(remainder(column_total, column));
        }
        disclosures.extend(remainder(&self.total, self.row_totals.iter()));
        disclosures.extend(remainder(&self.total, self.column_totals.iter()));
        disclosures
    }

    /// Returns the disclosures of each pair whose populations nest: a cell
    /// in its row total, its column total and the grand total, and each row
    /// and column total in the grand total.
    fn differences(&self) -> Vec<Disclosure> {
        let height = self.row_totals.len();
        let width = self.column_totals.len();
        let mut disclosures = Vec::new();
        for (r, row) in self.cells.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                disclosures.extend(difference(&self.row_totals[r], cell, width == 1));
                disclosures.extend(difference(&self.column_totals[c], cell, height == 1));
                let single_cell = width == 1 && height == 1;
                disclosures.extend(difference(&self.total, cell, single_cell));
            }
        }
        for row_total in &self.row_totals {
            disclosures.extend(difference(&self.total, row_total, height == 1));
        }
        for column_total in &self.column_totals {
            disclosures.extend(difference(&self.total, column_total, width == 1));
        }
        disclosures
    }
}

/// Lists every count below [`THRESHOLD`] that a reader can derive from
/// `published`, as [`check_two_way`] does for its single line.
pub fn check_one_way(
    truth: &OneWayCounts,
    published: &PublishedOneWay,
) -> Result<Vec<Disclosure>, PublishedMismatch> {
    let labels: Vec<String> = published
        .entries
        .iter()
        .map(|entry| entry.label.clone())
        .collect();
    same_labels(truth.labels(), &labels)?;

    let mut entries = Vec::with_capacity(labels.len());
    for (entry, &actual) in published.entries.iter().zip(&truth.counts) {
        let position = Position::Entry {
            label: entry.label.clone(),
        };
        entries.push(Number::new(position, actual, entry.count)?);
    }
    let total = Number::new(Position::Total, truth.total(), published.total)?;

    let mut disclosures: Vec<Disclosure> = entries
        .iter()
        .chain([&total])
        .filter_map(Number::disclosure)
        .collect();
    disclosures.extend(remainder(&total, entries.iter()));
    let single = entries.len() == 1;
    for entry in &entries {
        disclosures.extend(difference(&total, entry, single));
    }
    Ok(disclosures)
}

/// A number of the table: its true value, and whether the reader sees it.
struct Number {
    position: Position,
    value: u64,
    shown: bool,
}

impl Number {
    fn new(position: Position, actual: u64, count: Count) -> Result<Self, PublishedMismatch> {
        match count {
            Count::Shown(published) if published != actual => Err(PublishedMismatch::Value {
                position,
                published,
                actual,
            }),
            _ => Ok(Number {
                position,
                value: actual,
                shown: count != Count::Suppressed,
            }),
        }
    }

    fn disclosure(&self) -> Option<Disclosure> {
        (self.shown && self.value < THRESHOLD).then(|| Disclosure {
            derivation: Derivation::Shown(self.position.clone()),
            value: self.value,
        })
    }
}

/// Returns the disclosure made by a shown total minus its shown members,
/// when any member is suppressed and the remainder is small.
fn remainder<'a>(total: &Number, members: impl Iterator<Item = &'a Number>) -> Option<Disclosure> {
    let members: Vec<&Number> = members.collect();
    let hidden: Vec<&Number> = members.iter().copied().filter(|m| !m.shown).collect();
    if !total.shown || hidden.is_empty() {
        return None;
    }

    let shown_sum = sum(members.iter().filter(|m| m.shown).map(|m| m.value));
    let value = total.value.saturating_sub(shown_sum);
    (value < THRESHOLD).then(|| Disclosure {
        derivation: Derivation::Remainder {
            total: total.position.clone(),
            suppressed: hidden.iter().map(|m| m.position.clone()).collect(),
        },
        value,
    })
}

/// Returns the disclosure made by subtracting `inner` from `outer`, when
/// both are shown, count different people and differ by less than the
/// threshold.
fn difference(outer: &Number, inner: &Number, same_people: bool) -> Option<Disclosure> {
    let value = outer.value.saturating_sub(inner.value);
    let revealing = outer.shown && inner.shown && !same_people && value < THRESHOLD;
    revealing.then(|| Disclosure {
        derivation: Derivation::Difference {
            outer: outer.position.clone(),
            inner: inner.position.clone(),
        },
        value,
    })
}

fn same_labels(expected: &[String], published: &[String]) -> Result<(), PublishedMismatch> {
    if expected == published {
        return Ok(());
    }
    Err(PublishedMismatch::Labels {
        expected: expected.to_vec(),
        published: published.to_vec(),
    })
}
