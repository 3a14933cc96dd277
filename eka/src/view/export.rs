//! The view of `eka export --flake`: [`Export`].

use nix::export;
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// The `flake.lock` written and the inputs declaration to paste (or written into
/// `flake.nix` with `--write-inputs`).
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
    /// The `flake.nix` whose inputs block was rewritten (`--write-inputs` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) flake_nix: Option<String>,
    /// Whether `flake.nix` changed (`--write-inputs` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) flake_nix_changed: Option<bool>,
}

impl From<export::Outcome> for Export {
    fn from(outcome: export::Outcome) -> Self {
        Export {
            flake_lock: outcome.lock_path.display().to_string(),
            changed: outcome.changed,
            inputs: outcome.inputs,
            skipped: outcome.skipped,
            flake_nix_changed: outcome.flake_nix.as_ref().map(|(_, changed)| *changed),
            flake_nix: outcome
                .flake_nix
                .map(|(path, _)| path.display().to_string()),
        }
    }
}

fn verb(changed: bool) -> &'static str {
    if changed { "Wrote" } else { "Unchanged" }
}

impl View for Export {
    fn render_human(&self, printer: &Printer) {
        for name in &self.skipped {
            printer.warn(format_args!(
                "direct Nix input `{name}` is a `url`/`build` input, which Nix 2.8 flakes \
                 cannot lock; it is not in `flake.lock`"
            ));
        }
        printer.status(verb(self.changed), format_args!("`{}`", self.flake_lock));
        match (&self.flake_nix, self.flake_nix_changed) {
            (Some(path), Some(changed)) => {
                printer.status(verb(changed), format_args!("`{path}` (inputs block)"));
            }
            _ => {
                printer.hint("paste the inputs below into `flake.nix` (`inputs = { ... };`)");
                printer.data(self.inputs.trim_end());
            }
        }
    }
}
