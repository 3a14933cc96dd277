//! The views of `eka vendor`: [`Vendor`] (what was written) and [`VendorCheck`] (how
//! the directory differs from `atom.lock`).

use eka::ops::vendor::{CheckOutcome, Drift, Outcome, Vendored};
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// The vendor directory written.
#[derive(Debug, Serialize)]
pub(crate) struct Vendor {
    /// The vendor directory.
    pub(crate) dir: String,
    /// The atoms it holds, by directory name.
    pub(crate) atoms: Vec<Vendored>,
    /// Atom directories of the previous vendor directory that are gone.
    pub(crate) removed: Vec<String>,
}

impl From<Outcome> for Vendor {
    fn from(outcome: Outcome) -> Self {
        Vendor {
            dir: outcome.dir.display().to_string(),
            atoms: outcome.atoms,
            removed: outcome.removed,
        }
    }
}

impl View for Vendor {
    fn render_status(&self, printer: &Printer) {
        for dir in &self.removed {
            printer.status("Removed", format_args!("`{dir}/` (no longer locked)"));
        }
        let count = self.atoms.len();
        let plural = if count == 1 { "" } else { "s" };
        printer.status(
            "Vendored",
            format_args!("{count} atom{plural} into `{}`", self.dir),
        );
    }

    fn render_human(&self, printer: &Printer) {
        for atom in &self.atoms {
            printer.data(format_args!(
                "{}/ {}@{}",
                atom.dir, atom.label, atom.version
            ));
        }
    }
}

/// The verdict on a vendor directory.
#[derive(Debug, Serialize)]
pub(crate) struct VendorCheck {
    /// The vendor directory.
    pub(crate) dir: String,
    /// Whether it is exactly what `atom.lock` says.
    pub(crate) ok: bool,
    /// The atoms it should hold.
    pub(crate) atoms: Vec<Vendored>,
    /// Every difference.
    pub(crate) drift: Vec<Drift>,
}

impl From<CheckOutcome> for VendorCheck {
    fn from(outcome: CheckOutcome) -> Self {
        VendorCheck {
            dir: outcome.dir.display().to_string(),
            ok: outcome.is_ok(),
            atoms: outcome.atoms,
            drift: outcome.drift,
        }
    }
}

impl View for VendorCheck {
    fn render_status(&self, printer: &Printer) {
        for drift in &self.drift {
            printer.problem(format_args!("{}: {drift}", self.dir));
        }
        if self.ok {
            let count = self.atoms.len();
            let plural = if count == 1 { "" } else { "s" };
            printer.status(
                "Checked",
                format_args!("{count} atom{plural} in `{}` match `atom.lock`", self.dir),
            );
        }
    }

    fn render_human(&self, _printer: &Printer) {}
}
