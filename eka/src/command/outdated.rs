//! `eka outdated [--exit-code]`: a thin `exec` over `eka::ops::outdated`; a table on
//! stdout.

use eka::{ops::outdated, transaction};

use super::Context;
use crate::{cli::OutdatedArgs, error::CheckFailed, view};

pub(crate) fn exec(context: &Context<'_>, args: OutdatedArgs) -> crate::error::Result<()> {
    let config = atom::config::Config::load(Some(&context.cwd))?;
    let options = outdated::Options {
        lock: transaction::Options {
            dir: context.cwd.clone(),
            cache: config.cache,
            offline: context.offline,
            locked: false,
            dry_run: true,
            reporter: context.printer.progress().clone(),
            mirrors: config.mirrors,
            trust: config.trust,
        },
    };
    let outcome = outdated::run(&options)?;
    for warning in &outcome.warnings {
        context.printer.warn(warning);
    }
    let view = view::outdated::Outdated::from(outcome);
    context.printer.show(&view);
    let movable = view.movable();
    if args.exit_code && movable > 0 {
        let plural = if movable == 1 { "" } else { "s" };
        return Err(CheckFailed(format!(
            "{movable} locked version{plural} can move: run `eka update`"
        ))
        .into());
    }
    Ok(())
}
