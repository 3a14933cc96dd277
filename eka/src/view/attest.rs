//! The views of `eka attest` ([`Attest`]) and `eka show --attestations`
//! ([`Attestations`]).

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

/// The attestations of one atom on its set.
#[derive(Debug, Serialize)]
pub(crate) struct Attestations {
    /// The atom URI asked for.
    pub(crate) uri: String,
    /// Every attestation found.
    pub(crate) attestations: Vec<Found>,
}

/// One attestation found.
#[derive(Debug, Serialize)]
pub(crate) struct Found {
    pub(crate) reference: String,
    pub(crate) tag: String,
    pub(crate) signer: Option<String>,
    pub(crate) trust: String,
    pub(crate) version: Option<String>,
    pub(crate) commit: Option<String>,
    pub(crate) config_hash: Option<String>,
    pub(crate) outputs: Vec<Output>,
}

impl Attestations {
    pub(crate) fn new(uri: String, shown: &[attest::Shown]) -> Self {
        let attestations = shown
            .iter()
            .map(|found| {
                let statement = found.statement.as_ref();
                Found {
                    reference: found.reference.clone(),
                    tag: found.tag.to_string(),
                    signer: found.signer.clone(),
                    trust: found.trust.clone(),
                    version: statement.map(|statement| statement.version.clone()),
                    commit: statement.map(|statement| statement.commit.clone()),
                    config_hash: statement.map(|statement| statement.config_hash.clone()),
                    outputs: statement
                        .map(|statement| {
                            statement
                                .subjects
                                .iter()
                                .map(|subject| Output {
                                    path: subject.name.clone(),
                                    nar_sha256: subject.sha256.clone(),
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                }
            })
            .collect();
        Attestations { uri, attestations }
    }
}

impl View for Attestations {
    fn render_human(&self, printer: &Printer) {
        for found in &self.attestations {
            printer.data(format_args!(
                "{} {} by {}: {}",
                found.version.as_deref().unwrap_or("?"),
                found.config_hash.as_deref().unwrap_or("?"),
                found.signer.as_deref().unwrap_or("nobody"),
                found.trust
            ));
            for output in &found.outputs {
                printer.data(format_args!(
                    "  {} sha256:{}",
                    output.path, output.nar_sha256
                ));
            }
        }
        printer.status(
            "Found",
            format_args!("{} attestations of `{}`", self.attestations.len(), self.uri),
        );
    }
}
