//! `eka export --flake [--output DIR]`: write `flake.lock`, print the inputs declaration.

use anyhow::Context as _;
use nix::export;

use super::Context;
use crate::cli::ExportArgs;

pub(crate) fn exec(context: &Context<'_>, args: ExportArgs) -> anyhow::Result<()> {
    // `--flake` is the only export format so far (clap requires it).
    let _ = args.flake;
    let cache = atom::config::Config::load(Some(&context.cwd))
        .context("cannot load the eka configuration")?
        .cache;
    let output = match args.output {
        Some(dir) => context.cwd.join(dir),
        None => context.cwd.clone(),
    };
    let outcome = export::run(&export::Options {
        dir: context.cwd.clone(),
        output,
        cache,
        offline: context.offline,
    })?;
    if context.printer.json() {
        context.printer.json_value(&serde_json::json!({
            "flake_lock": outcome.lock_path.display().to_string(),
            "changed": outcome.changed,
            "inputs": outcome.inputs,
            "skipped": outcome.skipped,
        }));
        return Ok(());
    }
    for name in &outcome.skipped {
        context.printer.warn(format_args!(
            "direct Nix input `{name}` is a `url`/`build` input, which Nix 2.8 flakes cannot \
             lock; it is not in `flake.lock`"
        ));
    }
    let verb = if outcome.changed {
        "Wrote"
    } else {
        "Unchanged"
    };
    context
        .printer
        .status(verb, format_args!("`{}`", outcome.lock_path.display()));
    context
        .printer
        .hint("paste the inputs below into `flake.nix` (`inputs = { ... };`)");
    context.printer.data(outcome.inputs.trim_end());
    Ok(())
}
