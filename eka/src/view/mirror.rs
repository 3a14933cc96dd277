//! The view of `eka mirror`: [`Mirror`].

use eka::ops::mirror;
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// What was copied to the mirror.
#[derive(Debug, Serialize)]
pub(crate) struct Mirror {
    /// The destination URL.
    pub(crate) url: String,
    /// The mirrored versions, `label@version`.
    pub(crate) atoms: Vec<String>,
    /// The refs pushed.
    pub(crate) pushed: Vec<Ref>,
    /// The refs the mirror already had at the same object.
    pub(crate) skipped: Vec<Ref>,
}

/// One ref of the mirror.
#[derive(Debug, Serialize)]
pub(crate) struct Ref {
    /// The full ref name.
    pub(crate) name: String,
    /// The object id.
    pub(crate) id: String,
}

impl From<&mirror::MirroredRef> for Ref {
    fn from(mirrored: &mirror::MirroredRef) -> Self {
        Ref {
            name: mirrored.name.clone(),
            id: mirrored.id.to_string(),
        }
    }
}

impl From<mirror::Outcome> for Mirror {
    fn from(outcome: mirror::Outcome) -> Self {
        Mirror {
            url: outcome.url,
            atoms: outcome.atoms,
            pushed: outcome.pushed.iter().map(Ref::from).collect(),
            skipped: outcome.skipped.iter().map(Ref::from).collect(),
        }
    }
}

impl View for Mirror {
    fn render_human(&self, printer: &Printer) {
        for pushed in &self.pushed {
            printer.data(format_args!("pushed  {}", pushed.name));
        }
        for skipped in &self.skipped {
            printer.data(format_args!("skipped {}", skipped.name));
        }
        let verb = if self.pushed.is_empty() {
            "Unchanged"
        } else {
            "Mirrored"
        };
        printer.status(
            verb,
            format_args!(
                "{} atom versions to `{}`: {} refs pushed, {} already there",
                self.atoms.len(),
                self.url,
                self.pushed.len(),
                self.skipped.len()
            ),
        );
    }
}
