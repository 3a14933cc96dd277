//! The view of `eka export --flake`: [`Export`].

use nix::export;
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// The `flake.lock` written and the inputs declaration to paste.
#[derive(Debug, Serialize)]
pub(crate) struct Export {
    /// The `flake.lock` path.
    pub(crate) flake_lock: String,
    /// Whether its content changed.
    pub(crate) changed: bool,
    /// The `inputs = { … };` declaration.
    pub(crate) inputs: String,
    /// Direct Nix inputs that cannot be flake inputs on Nix 2.8.
    pub(crate) skipped: Vec<String>,
}

impl From<export::Outcome> for Export {
    fn from(outcome: export::Outcome) -> Self {
        Export {
            flake_lock: outcome.lock_path.display().to_string(),
            changed: outcome.changed,
            inputs: outcome.inputs,
            skipped: outcome.skipped,
        }
    }
}

impl View for Export {
    fn render_human(&self, printer: &Printer) {
        for name in &self.skipped {
            printer.warn(format_args!(
                "direct Nix input `{name}` is a `url`/`build` input, which Nix 2.8 flakes \
                 cannot lock; it is not in `flake.lock`"
            ));
        }
        let verb = if self.changed { "Wrote" } else { "Unchanged" };
        printer.status(verb, format_args!("`{}`", self.flake_lock));
        printer.hint("paste the inputs below into `flake.nix` (`inputs = { ... };`)");
        printer.data(self.inputs.trim_end());
    }
}
