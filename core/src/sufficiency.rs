//! Small-count suppression for the national sufficiency statistics.
//!
//! Organisations see how many approved families are waiting, by region and
//! ethnicity, and how many children are waiting, by age band. A count below
//! [`THRESHOLD`] could single out a family or a child, so it is never
//! published, and neither is any set of numbers from which a reader could
//! work such a count out by subtraction.
//!
//! # The rule
//!
//! A table is a set of *lines*, each a total and the members that add up to
//! it. A two-way table has a line for each row with its row total, for each
//! column with its column total, for the row totals with the grand total and
//! for the column totals with the grand total. A one-way table has a single
//! line, its entries with their total. With T = [`THRESHOLD`]:
//!
//! 1. Primary suppression: every cell and every total whose true value is
//!    below T is suppressed, 0 included. A shown 0 means nobody is in the
//!    group, and if zeros were shown, a suppressed cell would mean "one to
//!    four".
//! 2. Complementary suppression: in a line whose total is shown, the
//!    suppressed members must be none, or at least two whose true values add
//!    up to T or more. A line that breaks this has its smallest shown member
//!    suppressed, or its total when no member is shown. A member that also
//!    sits in another broken line goes before a smaller one that does not.
//! 3. When one shown number counts everyone another shown number counts (a
//!    cell and the grand total, say), their difference must be at least T,
//!    unless both count the same people, as a cell and its row total do in a
//!    table with one column. Otherwise the inner number is suppressed.
//!
//! Steps 2 and 3 repeat until nothing changes, because suppressing a cell can
//! break another line through it. Each round suppresses one more number, so
//! the loop ends after at most as many rounds as the table has numbers.
//!
//! # What the rule closes
//!
//! By these derivations, a reader of the published table finds no count
//! below T, apart from the difference of 0 between two numbers that count
//! the same people:
//!
//! - reading a shown number, which is at least T;
//! - subtracting a shown total's shown members from it: when any member is
//!   suppressed, the remainder is the sum of at least two suppressed members
//!   and at least T;
//! - subtracting one shown number from another whose population contains it
//!   (a cell from its row, column or grand total, a row or column total from
//!   the grand total): the difference is at least T, or 0 for the same
//!   people.
//!
//! [`check_two_way`] and [`check_one_way`] list every derivation of these
//! kinds that falls below T, so a test can check any published table.
//!
//! NOTE: the rule works one line at a time. A reader who solves several lines
//! together can still find a suppressed cell exactly when it is the only
//! link between two separate groups of suppressed cells, or narrow a cell's
//! range because counts are never negative. Closing that needs a whole-table
//! method such as linear programming, which this module does not attempt.
//!
//! Totals are the sums of the cells, so the caller counts each person in
//! exactly one cell, with a code of its own for a mixed or unknown value.

mod check;
mod layout;

use serde::{Deserialize, Serialize};

use layout::{Grid, Layout};

pub use check::{
    Derivation, Disclosure, Position, PublishedMismatch, check_one_way, check_two_way,
};

/// The smallest count that may be published or derived from published
/// numbers.
pub const THRESHOLD: u64 = 5;

/// A published count: the number, or nothing when it could single someone
/// out.
///
/// Serialises as a JSON number, or as `null` when suppressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Option<u64>", into = "Option<u64>")]
pub enum Count {
    /// The true count.
    Shown(u64),
    /// Withheld because it is small or would let a reader derive a small
    /// count.
    Suppressed,
}

impl Count {
    /// Returns the number when it is shown.
    pub fn shown(self) -> Option<u64> {
        match self {
            Count::Shown(value) => Some(value),
            Count::Suppressed => None,
        }
    }

    fn publish(value: u64, suppressed: bool) -> Self {
        if suppressed {
            Count::Suppressed
        } else {
            Count::Shown(value)
        }
    }
}

impl From<Option<u64>> for Count {
    fn from(value: Option<u64>) -> Self {
        value.map_or(Count::Suppressed, Count::Shown)
    }
}

impl From<Count> for Option<u64> {
    fn from(count: Count) -> Self {
        count.shown()
    }
}

/// True counts by row label and column label, such as approved families by
/// region code and ethnicity code. A cell never added to is 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TwoWayCounts {
    rows: Vec<String>,
    columns: Vec<String>,
    /// `cells[row][column]`, indexed in the order of `rows` and `columns`.
    cells: Vec<Vec<u64>>,
}

impl TwoWayCounts {
    /// Creates a table of zeros with these rows and columns, in this order.
    /// A repeated label is kept once.
    pub fn new(
        rows: impl IntoIterator<Item = impl Into<String>>,
        columns: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let mut table = Self::default();
        for column in columns {
            table.column_index(column.into());
        }
        for row in rows {
            table.row_index(row.into());
        }
        table
    }

    /// Adds `count` people to a cell, appending its row or column when the
    /// label is new.
    pub fn add(&mut self, row: &str, column: &str, count: u64) {
        let r = self.row_index(row.to_owned());
        let c = self.column_index(column.to_owned());
        self.cells[r][c] = self.cells[r][c].saturating_add(count);
    }

    /// Returns the row labels, in order.
    pub fn rows(&self) -> &[String] {
        &self.rows
    }

    /// Returns the column labels, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Returns a cell's count, 0 for a label the table does not have.
    pub fn get(&self, row: &str, column: &str) -> u64 {
        let r = self.rows.iter().position(|label| label == row);
        let c = self.columns.iter().position(|label| label == column);
        match (r, c) {
            (Some(r), Some(c)) => self.cells[r][c],
            _ => 0,
        }
    }

    fn row_index(&mut self, label: String) -> usize {
        if let Some(index) = self.rows.iter().position(|row| *row == label) {
            return index;
        }
        self.rows.push(label);
        self.cells.push(vec![0; self.columns.len()]);
        self.rows.len() - 1
    }

    fn column_index(&mut self, label: String) -> usize {
        if let Some(index) = self.columns.iter().position(|column| *column == label) {
            return index;
        }
        self.columns.push(label);
        for row in &mut self.cells {
            row.push(0);
        }
        self.columns.len() - 1
    }

    fn row_total(&self, r: usize) -> u64 {
        sum(self.cells[r].iter().copied())
    }

    fn column_total(&self, c: usize) -> u64 {
        sum(self.cells.iter().map(|row| row[c]))
    }

    fn total(&self) -> u64 {
        sum((0..self.rows.len()).map(|r| self.row_total(r)))
    }
}

/// True counts by one label, such as children waiting by age band. An entry
/// never added to is 0.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneWayCounts {
    labels: Vec<String>,
    /// Indexed in the order of `labels`.
    counts: Vec<u64>,
}

impl OneWayCounts {
    /// Creates a table of zeros with these labels, in this order. A repeated
    /// label is kept once.
    pub fn new(labels: impl IntoIterator<Item = impl Into<String>>) -> Self {
        let mut table = Self::default();
        for label in labels {
            table.index(label.into());
        }
        table
    }

    /// Adds `count` people to an entry, appending it when the label is new.
    pub fn add(&mut self, label: &str, count: u64) {
        let index = self.index(label.to_owned());
        self.counts[index] = self.counts[index].saturating_add(count);
    }

    /// Returns the labels, in order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// Returns an entry's count, 0 for a label the table does not have.
    pub fn get(&self, label: &str) -> u64 {
        self.labels
            .iter()
            .position(|known| known == label)
            .map_or(0, |index| self.counts[index])
    }

    fn index(&mut self, label: String) -> usize {
        if let Some(index) = self.labels.iter().position(|known| *known == label) {
            return index;
        }
        self.labels.push(label);
        self.counts.push(0);
        self.labels.len() - 1
    }

    fn total(&self) -> u64 {
        sum(self.counts.iter().copied())
    }
}

/// A two-way table ready to publish, in the order of the true table's rows
/// and columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTwoWay {
    /// The column labels.
    pub columns: Vec<String>,
    /// The rows, each with one cell per column.
    pub rows: Vec<PublishedRow>,
    /// One total per column.
    pub column_totals: Vec<Count>,
    /// The grand total.
    pub total: Count,
}

impl PublishedTwoWay {
    /// Returns a cell by its labels, or `None` for a label the table does
    /// not have.
    pub fn cell(&self, row: &str, column: &str) -> Option<Count> {
        let c = self.columns.iter().position(|label| label == column)?;
        let row = self.rows.iter().find(|published| published.label == row)?;
        row.cells.get(c).copied()
    }
}

/// One row of a [`PublishedTwoWay`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedRow {
    /// The row label.
    pub label: String,
    /// One cell per column, in the order of the table's columns.
    pub cells: Vec<Count>,
    /// The row total.
    pub total: Count,
}

/// A one-way table ready to publish, in the order of the true table's
/// labels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedOneWay {
    /// One entry per label.
    pub entries: Vec<PublishedEntry>,
    /// The total of all entries.
    pub total: Count,
}

/// One entry of a [`PublishedOneWay`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedEntry {
    /// The entry's label.
    pub label: String,
    /// The entry's count.
    pub count: Count,
}

/// Suppresses a two-way table by the rule in the module documentation.
pub fn suppress_two_way(counts: &TwoWayCounts) -> PublishedTwoWay {
    let grid = Grid {
        height: counts.rows.len(),
        width: counts.columns.len(),
    };
    let layout = Layout::two_way(counts, grid);
    let suppressed = layout.suppress();
    let publish = |index: usize| Count::publish(layout.values[index], suppressed[index]);

    let rows = counts
        .rows
        .iter()
        .enumerate()
        .map(|(r, label)| PublishedRow {
            label: label.clone(),
            cells: (0..grid.width).map(|c| publish(grid.cell(r, c))).collect(),
            total: publish(grid.row_total(r)),
        })
        .collect();
    PublishedTwoWay {
        columns: counts.columns.clone(),
        rows,
        column_totals: (0..grid.width)
            .map(|c| publish(grid.column_total(c)))
            .collect(),
        total: publish(grid.total()),
    }
}

/// Suppresses a one-way table by the rule in the module documentation.
pub fn suppress_one_way(counts: &OneWayCounts) -> PublishedOneWay {
    let layout = Layout::one_way(counts);
    let suppressed = layout.suppress();
    let publish = |index: usize| Count::publish(layout.values[index], suppressed[index]);

    // The entries come first in the layout, then the total.
    PublishedOneWay {
        entries: counts
            .labels
            .iter()
            .enumerate()
            .map(|(index, label)| PublishedEntry {
                label: label.clone(),
                count: publish(index),
            })
            .collect(),
        total: publish(counts.labels.len()),
    }
}

/// Adds counts, stopping at `u64::MAX` where a plain sum would overflow.
fn sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0, u64::saturating_add)
}

#[cfg(test)]
mod tests;
