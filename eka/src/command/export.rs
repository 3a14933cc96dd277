//! `eka export --flake [--output DIR] [--write-inputs]`: write `flake.lock` (keeping the
//! nodes eka did not write), print the inputs declaration or write it into `flake.nix`.

use crate::error::ResultExt as _;
use nix::export;

use super::Context;
use crate::{cli::ExportArgs, view};

pub(crate) fn exec(context: &Context<'_>, args: ExportArgs) -> crate::error::Result<()> {
    // `--flake` is the only export format so far (clap requires it).
    let _ = args.flake;
    let config = atom::config::Config::load(Some(&context.cwd))
        .context("cannot load the eka configuration")?;
    let output = match args.output {
        Some(dir) => context.cwd.join(dir),
        None => context.cwd.clone(),
    };
    let outcome = export::run(
        &export::Options {
            dir: context.cwd.clone(),
            output,
            cache: config.cache,
            offline: context.offline,
            mirrors: config.mirrors,
            write_inputs: args.write_inputs,
        },
        context.printer.progress(),
    )?;
    for warning in &outcome.warnings {
        context.printer.warn(warning);
    }
    context.printer.show(&view::export::Export::from(outcome));
    Ok(())
}
