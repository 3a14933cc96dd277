//! `eka eval [attr]` / `eka build [attr]` with `--config FILE` / `--set KEY=VALUE` and
//! `--override-atom LABEL=DIR` / `--override-input NAME=URL|DIR` (warned about), and
//! Nix's `--builders`, `--store`, `--substituters`, `--trusted-public-keys`, `--option`.

use crate::error::ResultExt as _;
use nix::eval;

use super::Context;
use crate::{cli::EvalArgs, view};

pub(crate) fn exec(
    context: &Context<'_>,
    args: EvalArgs,
    mode: eval::Mode,
) -> crate::error::Result<()> {
    let config = eval::load_config(
        args.config.map(|path| context.cwd.join(path)).as_deref(),
        &args.settings,
    )?;
    let cache = atom::config::Config::load(Some(&context.cwd))
        .context("cannot load the eka configuration")?
        .cache;
    let reporter = context.printer.progress();
    let prepared = eval::prepare(
        &eval::Options {
            dir: context.cwd.clone(),
            attr: args.attr,
            config,
            cache,
            mode,
            offline: context.offline,
            override_atoms: args.override_atoms,
            override_inputs: args.override_inputs,
            settings: args.nix.into_settings(),
        },
        &**reporter,
    )?;
    for used in &prepared.overrides {
        context.printer.warn(used);
    }
    let outcome = prepared.run(&**reporter)?;
    context.printer.show(&view::eval::Eval::from(outcome));
    Ok(())
}
