//! Views of `eka init` and `eka new`: [`Init`] and [`New`].

use eka::ops::{init, new};
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// What `eka init` created.
#[derive(Debug, Serialize)]
pub(crate) struct Init {
    /// The `ekala.toml` written.
    pub(crate) set_file: String,
    /// Whether a git repository was created.
    pub(crate) created_git: bool,
}

impl From<&init::Outcome> for Init {
    fn from(outcome: &init::Outcome) -> Self {
        Init {
            set_file: outcome.set_file.display().to_string(),
            created_git: outcome.created_git,
        }
    }
}

impl View for Init {
    fn render_status(&self, printer: &Printer) {
        if self.created_git {
            printer.status("Initialized", "git repository");
        }
        printer.status("Created", format_args!("set `{}`", self.set_file));
    }

    fn render_human(&self, _printer: &Printer) {}
}

/// What `eka new` created.
#[derive(Debug, Serialize)]
pub(crate) struct New {
    /// The atom's label.
    pub(crate) label: String,
    /// Its version.
    pub(crate) version: String,
    /// The `atom.toml` written.
    pub(crate) manifest: String,
    /// The atom's directory relative to the set's root.
    pub(crate) path: String,
    /// The `ekala.toml` it was registered in.
    pub(crate) set_file: String,
}

impl From<&new::Outcome> for New {
    fn from(outcome: &new::Outcome) -> Self {
        New {
            label: outcome.label.to_string(),
            version: outcome.version.to_string(),
            manifest: outcome.manifest_path.display().to_string(),
            path: outcome.set_path.as_str().to_owned(),
            set_file: outcome
                .set_root
                .join(atom::set::FILE_NAME)
                .display()
                .to_string(),
        }
    }
}

impl View for New {
    fn render_status(&self, printer: &Printer) {
        printer.status(
            "Created",
            format_args!(
                "atom `{}` {} at `{}`",
                self.label, self.version, self.manifest
            ),
        );
        printer.detail(format_args!(
            "registered `{}` in `{}`",
            self.path, self.set_file
        ));
    }

    fn render_human(&self, _printer: &Printer) {}
}

/// What `eka new --init` created: a set, then its first atom, and what to do next.
#[derive(Debug, Serialize)]
pub(crate) struct Started {
    /// The set.
    pub(crate) init: Init,
    /// Its first atom.
    pub(crate) atom: New,
    /// The directory as the user named it (for the hints).
    #[serde(skip)]
    pub(crate) dir: String,
}

impl Started {
    pub(crate) fn new(started: &new::Started, dir: &str) -> Self {
        Started {
            init: Init::from(&started.init),
            atom: New::from(&started.atom),
            dir: dir.to_owned(),
        }
    }
}

impl View for Started {
    fn render_status(&self, printer: &Printer) {
        self.init.render_status(printer);
        self.atom.render_status(printer);
    }

    fn render_human(&self, printer: &Printer) {
        printer.hint(format_args!("next: `cd {}`", self.dir));
        printer.hint("add dependencies with `eka add <uri>` (e.g. `eka add gh:owner/repo::label`)");
        printer
            .hint("commit, then publish with `eka publish` (after `git remote add origin <url>`)");
    }
}
