//! `eka verify [names…] [--require-signed] [--attestations [--require-attested]
//! [--substituters URL…] [--config FILE] [--set KEY=VALUE]] [--json]`: a thin `exec` over
//! `eka::ops::verify`; one verdict line per atom on stdout, a summary on stderr.
//! `eka verify --vendored DIR` is `eka vendor --check DIR`.

use eka::ops::verify;

use super::Context;
use crate::{cli::VerifyArgs, error::CheckFailed, view};

pub(crate) fn exec(context: &Context<'_>, args: VerifyArgs) -> crate::error::Result<()> {
    if let Some(dir) = args.vendored {
        return super::vendor::check(context, &dir);
    }
    let printer = context.printer;
    if args.attestations && context.offline {
        return Err(crate::error::Refusal::new(
            "`--attestations` lists the mirrors' attestations, and `--offline` forbids the network",
        )
        .hint("drop `--offline` (or `--frozen`) to check attestations")
        .into());
    }
    let config = atom::config::Config::load(Some(&context.cwd))?;
    let names = args
        .names
        .iter()
        .map(|name| atom::Label::parse(name))
        .collect::<Result<Vec<_>, _>>()?;
    let build_config = nix::eval::load_config(
        args.config.map(|path| context.cwd.join(path)).as_deref(),
        &args.settings,
    )?;
    let options = verify::Options {
        dir: context.cwd.clone(),
        cache: config.cache,
        offline: context.offline,
        names,
        require_signed: args.require_signed,
        trust: config.trust,
        mirrors: config.mirrors,
        now: std::time::SystemTime::now(),
        attestations: args.attestations,
        require_attested: args.require_attested,
        substituters: args.substituters,
        config: build_config,
        reporter: printer.progress().clone(),
    };
    let outcome = verify::verify(&options)?;
    for warning in &outcome.warnings {
        printer.warn(warning);
    }
    let view = view::verify::Verify::from(outcome);
    printer.show(&view);
    if view.ok {
        return Ok(());
    }
    let failed = view.failed();
    let total = view.atoms.len();
    let root = if view.root_failures.is_empty() {
        String::new()
    } else {
        ", and `atom.toml` is not satisfied by the lock".to_owned()
    };
    Err(CheckFailed(format!(
        "verification failed: {failed} of {total} locked atoms did not verify{root}"
    ))
    .into())
}
