//! The view of `eka eval` and `eka build`: [`Eval`].

use nix::eval;
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// What Nix printed.
#[derive(Debug, Serialize)]
pub(crate) struct Eval {
    /// Nix's stdout: the JSON value, or the built store paths one per line.
    pub(crate) output: String,
    /// The configuration's hash as the entry point saw it.
    pub(crate) config_hash: String,
}

impl From<eval::Outcome> for Eval {
    fn from(outcome: eval::Outcome) -> Self {
        Eval {
            output: outcome.output,
            config_hash: outcome.config_hash,
        }
    }
}

impl View for Eval {
    /// Nix's value is already JSON (or store paths): printed as is with `--json` too, so
    /// `eka eval | jq` works either way.
    const DOCUMENT: bool = false;

    fn render_status(&self, printer: &Printer) {
        printer.detail(format_args!("configuration hash: {}", self.config_hash));
    }

    fn render_human(&self, printer: &Printer) {
        printer.data(&self.output);
    }
}
