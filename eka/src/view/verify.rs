//! The view of `eka verify`: [`Verify`], one [`Verdict`] per locked atom.

use ::verify::walk::{AtomReport, Failure};
use eka::ops::verify;
use serde::Serialize;

use super::View;
use crate::printer::Printer;

/// The verdict on every selected locked atom and on the project's own `atom.toml`.
#[derive(Debug, Serialize)]
pub(crate) struct Verify {
    /// One verdict per selected locked atom.
    pub(crate) atoms: Vec<Verdict>,
    /// What is wrong with the lock's top level against the project's `atom.toml`.
    pub(crate) root_failures: Vec<Failure>,
    /// Whether everything verified.
    pub(crate) ok: bool,
}

/// The verdict on one locked atom.
#[derive(Debug, Serialize)]
pub(crate) struct Verdict {
    /// The report, its keys inlined.
    #[serde(flatten)]
    pub(crate) report: AtomReport,
    /// `ok` or `failed`.
    pub(crate) verdict: &'static str,
    /// With `--attestations`: the trusted attestations and what is wrong with them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) attestations: Option<verify::AttestationReport>,
}

impl Verdict {
    fn is_ok(&self) -> bool {
        self.report.is_ok()
            && self
                .attestations
                .as_ref()
                .is_none_or(verify::AttestationReport::is_ok)
    }
}

impl From<verify::Outcome> for Verify {
    fn from(outcome: verify::Outcome) -> Self {
        let ok = outcome.is_ok();
        let mut attestations = outcome.attestations;
        let atoms = outcome
            .report
            .atoms
            .into_iter()
            .map(|report| {
                let mut verdict = Verdict {
                    attestations: attestations.remove(&report.id),
                    verdict: "ok",
                    report,
                };
                if !verdict.is_ok() {
                    verdict.verdict = "failed";
                }
                verdict
            })
            .collect();
        Verify {
            atoms,
            root_failures: outcome.root_failures,
            ok,
        }
    }
}

impl Verify {
    /// How many atoms did not verify.
    pub(crate) fn failed(&self) -> usize {
        self.atoms.iter().filter(|atom| !atom.is_ok()).count()
    }

    fn render_hints(&self, printer: &Printer) {
        let mut hints: Vec<&str> = self
            .atoms
            .iter()
            .flat_map(|atom| &atom.report.failures)
            .chain(&self.root_failures)
            .filter_map(|failure| failure.hint())
            .chain(
                self.atoms
                    .iter()
                    .filter_map(|atom| atom.attestations.as_ref())
                    .flat_map(verify::AttestationReport::failures)
                    .filter_map(|failure| failure.hint()),
            )
            .collect();
        hints.sort_unstable();
        hints.dedup();
        for hint in hints {
            printer.hint(hint);
        }
    }
}

impl View for Verify {
    fn render_status(&self, printer: &Printer) {
        if self.ok {
            let total = self.atoms.len();
            printer.status("Verified", format_args!("{total} of {total} locked atoms"));
        }
    }

    fn render_human(&self, printer: &Printer) {
        let default_config = verify::config_hash(&serde_json::json!({}));
        for atom in &self.atoms {
            let report = &atom.report;
            if atom.is_ok() {
                printer.data(format_args!("ok {}@{}", report.label, report.version));
            }
            let configs = atom.attestations.iter().flat_map(|found| found.configs());
            for config in configs {
                render_configuration(printer, report, config, &default_config);
            }
            for failure in &report.failures {
                printer.data(format_args!(
                    "FAILED {}@{}: {}: {failure}",
                    report.label,
                    report.version,
                    failure.kind()
                ));
            }
        }
        for failure in &self.root_failures {
            printer.data(format_args!(
                "FAILED atom.toml: {}: {failure}",
                failure.kind()
            ));
        }
        self.render_hints(printer);
    }
}

/// One configuration's attestation lines of one atom; a configuration other than the
/// default `{}` is named at the end of each line.
fn render_configuration(
    printer: &Printer,
    report: &AtomReport,
    config: &verify::ConfigAttestations,
    default_config: &str,
) {
    let named = if config.config_hash == default_config {
        String::new()
    } else {
        format!(" for configuration `{}`", config.config_hash)
    };
    for attester in &config.attested_by {
        printer.data(format_args!(
            "attested {}@{} by {} ({}){named}",
            report.label, report.version, attester.principal, attester.fingerprint
        ));
    }
    for failure in &config.failures {
        let kind = serde_json::to_value(failure)
            .ok()
            .and_then(|value| value["kind"].as_str().map(str::to_owned))
            .unwrap_or_default();
        // `unattested` names its configuration itself.
        let named = match failure {
            ::verify::attestation::Failure::Unattested { .. } => "",
            _ => named.as_str(),
        };
        printer.data(format_args!(
            "FAILED {}@{}: {kind}: {failure}{named}",
            report.label, report.version
        ));
    }
}
