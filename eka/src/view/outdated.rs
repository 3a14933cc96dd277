//! The view of `eka outdated`: [`Outdated`], one row per locked atom and direct Nix
//! input, printed as an aligned table.

use eka::ops::outdated::{Outcome, Row};
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// Every locked atom and direct Nix input with its versions.
#[derive(Debug, Serialize)]
pub(crate) struct Outdated {
    /// The rows: atoms (direct first), then Nix inputs.
    pub(crate) dependencies: Vec<Row>,
    /// Whether anything can move to a newer allowed version.
    pub(crate) outdated: bool,
}

impl From<Outcome> for Outdated {
    fn from(outcome: Outcome) -> Self {
        Outdated {
            outdated: outcome.can_move(),
            dependencies: outcome.rows,
        }
    }
}

impl Outdated {
    /// How many rows can move.
    pub(crate) fn movable(&self) -> usize {
        self.dependencies.iter().filter(|row| row.can_move).count()
    }
}

/// `cells` padded to `widths`, two spaces apart, trailing spaces trimmed.
fn aligned(cells: &[&str], widths: &[usize]) -> String {
    let line: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| format!("{cell:<width$}"))
        .collect();
    line.join("  ").trim_end().to_owned()
}

impl View for Outdated {
    fn render_status(&self, printer: &Printer) {
        if !self.outdated {
            printer.status(
                "Current",
                "every locked atom and Nix input is at the newest allowed version",
            );
        }
    }

    fn render_human(&self, printer: &Printer) {
        if self.dependencies.is_empty() {
            return;
        }
        let header = ["name", "kind", "locked", "allowed", "newest"];
        let rows: Vec<[&str; 5]> = self
            .dependencies
            .iter()
            .map(|row| {
                [
                    row.name.as_str(),
                    row.kind,
                    row.locked.as_str(),
                    row.allowed.as_str(),
                    row.newest.as_str(),
                ]
            })
            .collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        printer.data(aligned(&header, &widths));
        for row in &rows {
            printer.data(aligned(row, &widths));
        }
    }
}
