//! The view of `eka publish`: [`Publish`], one [`PublishedAtom`] per valid selected
//! atom, one [`InvalidAtom`] per atom that cannot be published, and a [`Summary`].

use eka::ops::publish::{self, Status};
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// What `eka publish` did.
#[derive(Debug, Serialize)]
pub(crate) struct Publish {
    /// The URL pushed to.
    pub(crate) remote: String,
    /// The source commit.
    pub(crate) origin: String,
    /// The set's root commit.
    pub(crate) set_root: String,
    /// Whether nothing was written or pushed.
    pub(crate) dry_run: bool,
    /// Every valid selected atom, in the order `ekala.toml` lists them (none when some
    /// are invalid and `--keep-going` is not given).
    pub(crate) atoms: Vec<PublishedAtom>,
    /// Every selected atom that cannot be published.
    pub(crate) invalid: Vec<InvalidAtom>,
    /// How many atoms ended in each status.
    pub(crate) summary: Summary,
}

/// One atom of the run.
#[derive(Debug, Serialize)]
pub(crate) struct PublishedAtom {
    /// The label.
    pub(crate) label: String,
    /// The version.
    pub(crate) version: String,
    /// Its directory inside the repository.
    pub(crate) path: String,
    /// The atom commit.
    pub(crate) commit: String,
    /// The content hash.
    pub(crate) content: String,
    /// The `atom.toml` blob.
    pub(crate) manifest: String,
    /// `published`, `would-publish`, `skipped` or `refused`.
    pub(crate) status: &'static str,
    /// The atom commit the remote already has (only when refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) existing: Option<String>,
}

/// A selected atom that cannot be published.
#[derive(Debug, Serialize)]
pub(crate) struct InvalidAtom {
    /// Its directory inside the repository.
    pub(crate) path: String,
    /// What is wrong, with its causes.
    pub(crate) error: String,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint: Option<String>,
}

/// Counts per status.
#[derive(Debug, Serialize)]
pub(crate) struct Summary {
    /// Atoms pushed.
    pub(crate) published: usize,
    /// Atoms a dry run would push.
    pub(crate) would_publish: usize,
    /// Atoms the remote already has.
    pub(crate) skipped: usize,
    /// Atoms the remote has with other content.
    pub(crate) refused: usize,
    /// Atoms that cannot be published (not pushed).
    pub(crate) invalid: usize,
}

impl From<&publish::Outcome> for Publish {
    fn from(outcome: &publish::Outcome) -> Self {
        let atoms = outcome
            .atoms
            .iter()
            .map(|atom| PublishedAtom {
                label: atom.label.to_string(),
                version: atom.version.to_string(),
                path: atom.path.clone(),
                commit: atom.commit.to_string(),
                content: atom.content.clone(),
                manifest: atom.manifest.to_string(),
                status: atom.status.as_str(),
                existing: match &atom.status {
                    Status::Refused { existing } => Some(existing.to_string()),
                    _ => None,
                },
            })
            .collect();
        let published = outcome.count(Status::Published.as_str());
        let would_publish = outcome.count(Status::WouldPublish.as_str());
        let skipped = outcome.count(Status::Skipped.as_str());
        Publish {
            remote: outcome.remote_url.clone(),
            origin: outcome.origin.to_string(),
            set_root: outcome.set_root.to_string(),
            dry_run: outcome.dry_run,
            atoms,
            invalid: outcome
                .invalid
                .iter()
                .map(|invalid| InvalidAtom {
                    path: invalid.path.clone(),
                    error: invalid.reason.clone(),
                    hint: invalid.hint.clone(),
                })
                .collect(),
            summary: Summary {
                published,
                would_publish,
                skipped,
                refused: outcome.atoms.len() - published - would_publish - skipped,
                invalid: outcome.invalid.len(),
            },
        }
    }
}

impl PublishedAtom {
    fn render_status(&self, printer: &Printer) {
        let name = format!("{}@{}", self.label, self.version);
        match (self.status, &self.existing) {
            ("published", _) => printer.status("Publishing", &name),
            ("would-publish", _) => printer.status("Would publish", &name),
            ("skipped", _) => printer.status("Skipped", format_args!("{name} (already published)")),
            (_, existing) => {
                printer.problem(format_args!(
                    "`{name}` is already published with other content (remote commit `{}`, ours `{}`)",
                    existing.as_deref().unwrap_or_default(),
                    self.commit
                ));
                printer.hint(format_args!(
                    "published versions are immutable: bump `version` in `{}/atom.toml`, commit, and publish again",
                    self.path
                ));
            }
        }
        printer.detail(format_args!(
            "  commit {} content {} path {}",
            self.commit, self.content, self.path
        ));
    }
}

impl View for Publish {
    fn render_status(&self, printer: &Printer) {
        for invalid in &self.invalid {
            printer.problem(&invalid.error);
            if let Some(hint) = &invalid.hint {
                printer.hint(hint);
            }
        }
        if self.atoms.is_empty() && self.invalid.is_empty() {
            printer.warn(format_args!(
                "the set has no atoms at `{}`: nothing to publish",
                self.origin
            ));
        }
        for atom in &self.atoms {
            atom.render_status(printer);
        }
        let Summary {
            published,
            would_publish,
            skipped,
            refused,
            invalid,
        } = self.summary;
        let invalid_count = if invalid > 0 {
            format!(", {invalid} invalid")
        } else {
            String::new()
        };
        let summary = if invalid > 0 && self.atoms.is_empty() {
            format!("{invalid} invalid: nothing pushed")
        } else if self.dry_run {
            format!(
                "{would_publish} to publish, {skipped} skipped, {refused} refused{invalid_count} (dry run: nothing pushed)"
            )
        } else {
            format!(
                "{published} published, {skipped} skipped, {refused} refused{invalid_count} to `{}`",
                self.remote
            )
        };
        printer.status("Summary", &summary);
    }

    fn render_human(&self, printer: &Printer) {
        // Data for scripts: one line per atom.
        for atom in &self.atoms {
            printer.data(format_args!(
                "{}@{} {} {}",
                atom.label, atom.version, atom.commit, atom.status
            ));
        }
    }
}
