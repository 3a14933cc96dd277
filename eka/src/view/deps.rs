//! Views of the dependency commands: [`LockReport`] (`resolve`, `update`, `remove`, and
//! `add --nix`), [`Add`], [`Tree`] and [`Listing`] (`list`, `show`).

use eka::{
    ops::{add, list, tree},
    transaction,
};
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// What a lock transaction changed.
#[derive(Debug, Serialize)]
pub(crate) struct LockReport {
    /// The transaction's outcome, its keys inlined.
    #[serde(flatten)]
    pub(crate) outcome: transaction::Outcome,
    /// Whether this was a dry run (shown as a warning, not a key).
    #[serde(skip)]
    pub(crate) dry_run: bool,
}

impl LockReport {
    /// The report of `outcome`.
    pub(crate) fn new(outcome: transaction::Outcome, dry_run: bool) -> Self {
        LockReport { outcome, dry_run }
    }

    fn render_atom_changes(&self, printer: &Printer) {
        let changes = &self.outcome.changes;
        let version = |version: &Option<semver::Version>| {
            version
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        };
        for change in &changes.added {
            printer.status(
                "Locking",
                format_args!("{} {}", change.label, version(&change.new)),
            );
        }
        for change in &changes.updated {
            printer.status(
                "Updating",
                format_args!(
                    "{} {} -> {}",
                    change.label,
                    version(&change.old),
                    version(&change.new)
                ),
            );
        }
        for change in &changes.removed {
            printer.status(
                "Removing",
                format_args!("{} {}", change.label, version(&change.old)),
            );
        }
    }

    fn render_nix_changes(&self, printer: &Printer) {
        for change in &self.outcome.changes.nix {
            match (&change.old, &change.new) {
                (None, Some(new)) => {
                    printer.status("Locking", format_args!("{} {new}", change.name))
                }
                (Some(old), Some(new)) => {
                    printer.status("Updating", format_args!("{} {old} -> {new}", change.name))
                }
                (Some(old), None) => {
                    printer.status("Removing", format_args!("{} {old}", change.name))
                }
                (None, None) => {}
            }
        }
    }
}

impl View for LockReport {
    fn render_status(&self, printer: &Printer) {
        for warning in &self.outcome.warnings {
            printer.warn(warning);
        }
        for vanished in &self.outcome.vanished {
            printer.warn(vanished);
        }
    }

    fn render_human(&self, printer: &Printer) {
        self.render_atom_changes(printer);
        self.render_nix_changes(printer);
        let changes = &self.outcome.changes;
        if changes.is_empty() {
            printer.status("Unchanged", "atom.lock is up to date");
        }
        if self.dry_run && (!changes.is_empty() || self.outcome.manifest_changed) {
            printer.warn("dry run: nothing was written");
        }
    }
}

/// What `eka add` wrote and what the lock transaction changed.
#[derive(Debug, Serialize)]
pub(crate) struct Add {
    /// The dependencies written to `atom.toml`.
    pub(crate) added: Vec<add::Added>,
    /// The lock transaction, its keys inlined.
    #[serde(flatten)]
    pub(crate) lock: LockReport,
}

impl Add {
    /// The view of `outcome`.
    pub(crate) fn new(outcome: add::Outcome, dry_run: bool) -> Self {
        Add {
            added: outcome.added,
            lock: LockReport::new(outcome.lock, dry_run),
        }
    }
}

impl View for Add {
    fn render_status(&self, printer: &Printer) {
        self.lock.render_status(printer);
    }

    fn render_human(&self, printer: &Printer) {
        for added in &self.added {
            printer.status(
                "Adding",
                format_args!("{}::{} `{}`", added.set, added.label, added.requirement),
            );
        }
        self.lock.render_human(printer);
    }
}

/// The locked dependency graph.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub(crate) struct Tree(pub(crate) tree::Tree);

impl View for Tree {
    fn render_status(&self, printer: &Printer) {
        for warning in &self.0.warnings {
            printer.warn(warning);
        }
        if self.0.nodes.iter().any(|node| node.inputs_unknown) {
            printer.hint("run `eka tree` without `--offline` to fetch and check them");
        }
    }

    fn render_human(&self, printer: &Printer) {
        let tree = &self.0;
        printer.data(format_args!("{} {}", tree.label, tree.version));
        for node in &tree.nodes {
            let mark = if node.repeated { " (*)" } else { "" };
            let unknown = if node.inputs_unknown {
                " (nix inputs unknown)"
            } else {
                ""
            };
            printer.data(format_args!(
                "{}{} {}{mark}{unknown}",
                "    ".repeat(node.depth + 1),
                node.label,
                node.version
            ));
            render_nix(printer, node.depth + 2, &node.nix);
        }
        render_nix(printer, 1, &tree.nix);
    }
}

/// One line per Nix input at `depth`: `nix:<name> <kind> <pin>`, or `-> follows
/// <input>` instead of the pin when it follows the project's input.
fn render_nix(printer: &Printer, depth: usize, inputs: &[tree::NixNode]) {
    for input in inputs {
        let flake = if input.flake { " (flake)" } else { "" };
        let pin = match &input.follows {
            Some(root) => format!("-> follows {root}"),
            None => input.pin.clone(),
        };
        printer.data(format_args!(
            "{}nix:{} {} {pin}{flake}",
            "    ".repeat(depth),
            input.name,
            input.kind
        ));
    }
}

/// A set's published atoms (`list`) or one atom's versions with metadata (`show`).
#[derive(Debug, Serialize)]
pub(crate) struct Listing {
    /// The listing, its keys inlined.
    #[serde(flatten)]
    pub(crate) listing: list::Listing,
    /// Whether to show every version's metadata (`show`) rather than one line per atom.
    #[serde(skip)]
    pub(crate) show: bool,
}

impl Listing {
    fn render_versions(atom: &list::AtomInfo, printer: &Printer) {
        for version in &atom.versions {
            printer.data(format_args!("{} {}", atom.label, version.version));
            if let Some(description) = &version.description {
                printer.data(format_args!("    description: {description}"));
            }
            printer.data(format_args!("    commit: {}", version.commit));
            printer.data(format_args!("    content: {}", version.content));
            for dependency in &version.dependencies {
                printer.data(format_args!("    requires: {dependency}"));
            }
        }
    }
}

impl View for Listing {
    fn render_status(&self, printer: &Printer) {
        for warning in &self.listing.warnings {
            printer.warn(warning);
        }
        for bad in &self.listing.bad {
            printer.warn(format_args!(
                "`{}` `{}` is left out: {}",
                bad.label, bad.version, bad.message
            ));
        }
        if let Some(set) = &self.listing.set {
            printer.detail(format_args!("set root of `{}`: {set}", self.listing.url));
        }
    }

    fn render_human(&self, printer: &Printer) {
        for atom in &self.listing.atoms {
            if self.show {
                Self::render_versions(atom, printer);
            } else {
                let versions: Vec<&str> =
                    atom.versions.iter().map(|v| v.version.as_str()).collect();
                printer.data(format_args!("{} {}", atom.label, versions.join(", ")));
            }
        }
    }
}
