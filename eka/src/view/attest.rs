//! The view of `eka attest`: [`Attest`].

use eka::ops::attest;
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// What was attested.
#[derive(Debug, Serialize)]
pub(crate) struct Attest {
    /// The remote URL.
    pub(crate) remote: String,
    /// The attested atoms.
    pub(crate) atoms: Vec<Attested>,
    /// The atoms left out, and why.
    pub(crate) unattested: Vec<Unattested>,
    /// The Nix store the outputs were copied to.
    pub(crate) copied_to: Option<String>,
}

/// One attestation.
#[derive(Debug, Serialize)]
pub(crate) struct Attested {
    pub(crate) label: String,
    pub(crate) version: String,
    pub(crate) commit: String,
    pub(crate) config_hash: String,
    pub(crate) reference: String,
    pub(crate) tag: String,
    pub(crate) status: &'static str,
    pub(crate) outputs: Vec<Output>,
}

/// One output.
#[derive(Debug, Serialize)]
pub(crate) struct Output {
    pub(crate) path: String,
    pub(crate) nar_sha256: String,
}

/// An atom left out.
#[derive(Debug, Serialize)]
pub(crate) struct Unattested {
    pub(crate) label: String,
    pub(crate) version: String,
    pub(crate) reason: String,
}

impl From<&attest::Outcome> for Attest {
    fn from(outcome: &attest::Outcome) -> Self {
        Attest {
            remote: outcome.remote_url.clone(),
            atoms: outcome
                .atoms
                .iter()
                .map(|atom| Attested {
                    label: atom.label.clone(),
                    version: atom.version.to_string(),
                    commit: atom.commit.to_string(),
                    config_hash: atom.statement.config_hash.clone(),
                    reference: atom.reference.clone(),
                    tag: atom.tag.to_string(),
                    status: atom.status.as_str(),
                    outputs: atom
                        .statement
                        .subjects
                        .iter()
                        .map(|subject| Output {
                            path: subject.name.clone(),
                            nar_sha256: subject.sha256.clone(),
                        })
                        .collect(),
                })
                .collect(),
            unattested: outcome
                .unattested
                .iter()
                .map(|atom| Unattested {
                    label: atom.label.clone(),
                    version: atom.version.to_string(),
                    reason: atom.reason.clone(),
                })
                .collect(),
            copied_to: outcome.copied_to.clone(),
        }
    }
}

impl View for Attest {
    fn render_human(&self, printer: &Printer) {
        for atom in &self.atoms {
            for output in &atom.outputs {
                printer.data(format_args!(
                    "{}@{} {} sha256:{}",
                    atom.label, atom.version, output.path, output.nar_sha256
                ));
            }
        }
        for atom in &self.atoms {
            printer.status(
                "Attested",
                format_args!(
                    "`{}@{}` ({}): `{}`",
                    atom.label, atom.version, atom.status, atom.reference
                ),
            );
        }
        for atom in &self.unattested {
            printer.status(
                "Skipped",
                format_args!("`{}@{}`: {}", atom.label, atom.version, atom.reason),
            );
        }
        if let Some(store) = &self.copied_to {
            printer.status("Copied", format_args!("the outputs to `{store}`"));
        }
    }
}
