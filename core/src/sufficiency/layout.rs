//! The suppression rule at work: every number of a table, cells and totals
//! alike, at one index, with the lines and nestings that tie them together.

use super::{OneWayCounts, THRESHOLD, TwoWayCounts, sum};

/// The numbers of a table, cells and totals alike, and how they add up.
pub(super) struct Layout {
    /// The true value of each number. A number is its index here.
    pub(super) values: Vec<u64>,
    lines: Vec<Line>,
    nestings: Vec<Nesting>,
}

/// The shape of a two-way table, which gives each number its index in the
/// [`Layout`]: the cells row by row, then the row totals, the column totals
/// and the grand total.
#[derive(Clone, Copy)]
pub(super) struct Grid {
    pub(super) height: usize,
    pub(super) width: usize,
}

impl Grid {
    pub(super) fn cell(self, r: usize, c: usize) -> usize {
        r * self.width + c
    }

    pub(super) fn row_total(self, r: usize) -> usize {
        self.height * self.width + r
    }

    pub(super) fn column_total(self, c: usize) -> usize {
        self.height * self.width + self.height + c
    }

    pub(super) fn total(self) -> usize {
        self.height * self.width + self.height + self.width
    }
}

/// A total and the members that add up to it.
struct Line {
    total: usize,
    members: Vec<usize>,
}

/// Two numbers where `outer` counts everyone `inner` counts.
struct Nesting {
    outer: usize,
    inner: usize,
    /// Both count exactly the same cells, so their difference is always 0
    /// and discloses nothing.
    same_people: bool,
}

impl Layout {
    /// Lays out a two-way table at the indices that `grid` gives.
    pub(super) fn two_way(counts: &TwoWayCounts, grid: Grid) -> Self {
        let Grid { height, width } = grid;
        let mut values = counts.cells.concat();
        values.extend((0..height).map(|r| counts.row_total(r)));
        values.extend((0..width).map(|c| counts.column_total(c)));
        values.push(counts.total());
        let mut layout = Layout {
            values,
            lines: Vec::new(),
            nestings: Vec::new(),
        };

        for r in 0..height {
            let members = (0..width).map(|c| grid.cell(r, c)).collect();
            layout.add_line(grid.row_total(r), members, width == 1);
        }
        for c in 0..width {
            let members = (0..height).map(|r| grid.cell(r, c)).collect();
            layout.add_line(grid.column_total(c), members, height == 1);
        }
        let row_totals = (0..height).map(|r| grid.row_total(r)).collect();
        layout.add_line(grid.total(), row_totals, height == 1);
        let column_totals = (0..width).map(|c| grid.column_total(c)).collect();
        layout.add_line(grid.total(), column_totals, width == 1);

        // A cell sits in the grand total through its row and its column,
        // which no single line covers.
        for r in 0..height {
            for c in 0..width {
                layout.nestings.push(Nesting {
                    outer: grid.total(),
                    inner: grid.cell(r, c),
                    same_people: height == 1 && width == 1,
                });
            }
        }
        layout
    }

    /// Lays out the entries, then the total.
    pub(super) fn one_way(counts: &OneWayCounts) -> Self {
        let entries = counts.counts.len();
        let mut values = counts.counts.clone();
        values.push(counts.total());
        let mut layout = Layout {
            values,
            lines: Vec::new(),
            nestings: Vec::new(),
        };
        layout.add_line(entries, (0..entries).collect(), entries == 1);
        layout
    }

    /// Adds a line, and a nesting of its total around each member. A member
    /// counts the same people as the total when it is the line's only one.
    fn add_line(&mut self, total: usize, members: Vec<usize>, same_people: bool) {
        for &member in &members {
            self.nestings.push(Nesting {
                outer: total,
                inner: member,
                same_people,
            });
        }
        self.lines.push(Line { total, members });
    }

    /// Returns which numbers to suppress.
    pub(super) fn suppress(&self) -> Vec<bool> {
        let mut suppressed: Vec<bool> = self.values.iter().map(|&v| v < THRESHOLD).collect();

        // Each round suppresses one number that was shown, so this runs at
        // most once per number.
        while let Some(index) = self.next_suppression(&suppressed) {
            debug_assert!(!suppressed[index], "number {index} is already suppressed");
            suppressed[index] = true;
        }
        suppressed
    }

    /// Returns a shown number whose suppression mends the first broken line
    /// or nesting, or `None` when the table is safe to publish.
    fn next_suppression(&self, suppressed: &[bool]) -> Option<usize> {
        if let Some(line) = self
            .lines
            .iter()
            .find(|line| self.is_broken(line, suppressed))
        {
            return Some(self.partner(line, suppressed));
        }
        self.nestings
            .iter()
            .find_map(|nesting| self.mend_nesting(nesting, suppressed))
    }

    /// Tells whether a line with a shown total has one suppressed member, or
    /// suppressed members that add up to less than the threshold.
    fn is_broken(&self, line: &Line, suppressed: &[bool]) -> bool {
        if suppressed[line.total] {
            return false;
        }
        let hidden: Vec<usize> = line
            .members
            .iter()
            .copied()
            .filter(|&m| suppressed[m])
            .collect();
        let hidden_sum = sum(hidden.iter().map(|&m| self.values[m]));
        !hidden.is_empty() && (hidden.len() == 1 || hidden_sum < THRESHOLD)
    }

    /// Returns the number to suppress to mend a broken line: its smallest
    /// shown member, or its total when no member is shown.
    fn partner(&self, line: &Line, suppressed: &[bool]) -> usize {
        // A member that also sits in another broken line goes first, because
        // suppressing it mends both. Ties go to the member that comes first,
        // so the result is the same on every run.
        let in_broken_line = |member: usize| {
            let mut crossing = self
                .lines
                .iter()
                .filter(|other| !std::ptr::eq(*other, line) && other.members.contains(&member));
            crossing.any(|other| self.is_broken(other, suppressed))
        };
        line.members
            .iter()
            .copied()
            .filter(|&m| !suppressed[m])
            .min_by_key(|&m| (!in_broken_line(m), self.values[m], m))
            .unwrap_or(line.total)
    }

    /// Returns the inner number of a nesting whose two numbers are shown,
    /// count different people and differ by less than the threshold. The
    /// lines already keep most nestings safe, but checking them all means the
    /// loop stops only where [`super::check_two_way`] finds nothing.
    fn mend_nesting(&self, nesting: &Nesting, suppressed: &[bool]) -> Option<usize> {
        let both_shown = !suppressed[nesting.outer] && !suppressed[nesting.inner];
        let difference = self.values[nesting.outer].saturating_sub(self.values[nesting.inner]);
        let revealing = both_shown && !nesting.same_people && difference < THRESHOLD;
        revealing.then_some(nesting.inner)
    }
}
