//! `eka verify [names…] [--require-signed] [--json]`: a thin `exec` over
//! `eka::ops::verify`; one verdict line per atom on stdout, a summary on stderr.

use eka::ops::verify;

use super::Context;
use crate::{cli::VerifyArgs, error::CheckFailed};

pub(crate) fn exec(context: &Context<'_>, args: VerifyArgs) -> anyhow::Result<()> {
    let printer = context.printer;
    let config = atom::config::Config::load(Some(&context.cwd))?;
    let names = args
        .names
        .iter()
        .map(|name| atom::Label::parse(name))
        .collect::<Result<Vec<_>, _>>()?;
    let options = verify::Options {
        dir: context.cwd.clone(),
        cache: config.cache,
        offline: context.offline,
        names,
        require_signed: args.require_signed,
        trust: config.trust,
        now: std::time::SystemTime::now(),
    };
    let outcome = verify::verify(&options)?;
    let report = &outcome.report;
    if printer.json() {
        let mut value = serde_json::to_value(&outcome)?;
        if let Some(atoms) = value
            .get_mut("atoms")
            .and_then(serde_json::Value::as_array_mut)
        {
            for (atom, verdict) in atoms.iter_mut().zip(&report.atoms) {
                if let Some(object) = atom.as_object_mut() {
                    let text = if verdict.is_ok() { "ok" } else { "failed" };
                    object.insert("verdict".to_owned(), text.into());
                }
            }
        }
        if let Some(object) = value.as_object_mut() {
            object.insert("ok".to_owned(), outcome.is_ok().into());
        }
        printer.json_value(&value);
    } else {
        for atom in &report.atoms {
            if atom.is_ok() {
                printer.data(format_args!("ok {}@{}", atom.label, atom.version));
            }
            for failure in &atom.failures {
                printer.data(format_args!(
                    "FAILED {}@{}: {}: {failure}",
                    atom.label,
                    atom.version,
                    failure.kind()
                ));
            }
        }
        for failure in &outcome.root_failures {
            printer.data(format_args!(
                "FAILED atom.toml: {}: {failure}",
                failure.kind()
            ));
        }
        let mut hints: Vec<&str> = report
            .atoms
            .iter()
            .flat_map(|atom| &atom.failures)
            .chain(&outcome.root_failures)
            .filter_map(|failure| failure.hint())
            .collect();
        hints.sort_unstable();
        hints.dedup();
        for hint in hints {
            printer.hint(hint);
        }
    }
    let failed = report.failed().count();
    let total = report.atoms.len();
    if outcome.is_ok() {
        printer.status("Verified", format_args!("{total} of {total} locked atoms"));
        return Ok(());
    }
    let root = if outcome.root_failures.is_empty() {
        String::new()
    } else {
        ", and `atom.toml` is not satisfied by the lock".to_owned()
    };
    Err(CheckFailed(format!(
        "verification failed: {failed} of {total} locked atoms did not verify{root}"
    ))
    .into())
}
