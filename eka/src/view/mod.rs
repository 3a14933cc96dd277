//! Views: the one value each command prints, both as a JSON document (`--json`) and for a
//! person, so the two outputs never drift apart.
//!
//! Every view is a [`View`]: a `Serialize` struct whose JSON form is wrapped in a
//! [`Document`] carrying the [`SCHEMA`] version as its first key, and whose
//! [`View::render_human`] prints the same value as text. [`crate::printer::Printer::show`]
//! picks the form.

pub(crate) mod attest;
pub(crate) mod deps;
pub(crate) mod eval;
pub(crate) mod export;
pub(crate) mod mirror;
pub(crate) mod new;
pub(crate) mod outdated;
pub(crate) mod publish;
pub(crate) mod vendor;
pub(crate) mod verify;

use serde::Serialize;

use crate::printer::Printer;

/// The version of every JSON document's shape; bumped when a key changes meaning or goes
/// away (new keys do not bump it).
pub(crate) const SCHEMA: u32 = 1;

/// A command's result, printable as JSON or as text.
pub(crate) trait View: Serialize {
    /// Whether `--json` prints this view as a [`Document`]; a view whose human form is
    /// already data for scripts (Nix's own JSON) prints that in both modes.
    const DOCUMENT: bool = true;

    /// Status lines, warnings and details on stderr, shown in both modes.
    fn render_status(&self, _printer: &Printer) {}

    /// The human form: data lines on stdout and human-only status lines on stderr.
    fn render_human(&self, printer: &Printer);
}

/// A view as a JSON document: `{ "schema": SCHEMA, …the view's keys }`.
#[derive(Debug, Serialize)]
pub(crate) struct Document<'a, T: Serialize> {
    /// The document's shape version.
    pub(crate) schema: u32,
    /// The view, its keys inlined after `schema`.
    #[serde(flatten)]
    pub(crate) view: &'a T,
}

impl<'a, T: Serialize> Document<'a, T> {
    /// Wrap `view` with the current [`SCHEMA`].
    pub(crate) fn new(view: &'a T) -> Self {
        Document {
            schema: SCHEMA,
            view,
        }
    }
}
