//! `eka vendor [DIR] [--check]`: a thin `exec` over `eka::ops::vendor`; also the check
//! behind `eka verify --vendored DIR`.

use std::path::{Path, PathBuf};

use eka::ops::vendor;

use super::Context;
use crate::{cli::VendorArgs, error::Refusal, view};

pub(crate) fn exec(context: &Context<'_>, args: VendorArgs) -> crate::error::Result<()> {
    let dir = args
        .dir
        .unwrap_or_else(|| PathBuf::from(vendor::DEFAULT_DIR));
    if args.check {
        return check(context, &dir);
    }
    let outcome = vendor::run(&options(context, &dir)?)?;
    for warning in &outcome.warnings {
        context.printer.warn(warning);
    }
    let mut view = view::vendor::Vendor::from(outcome);
    view.dir = dir.display().to_string();
    context.printer.show(&view);
    Ok(())
}

/// Compare the vendor directory `dir` (relative to the project) with `atom.lock`; exit 1
/// naming every difference.
pub(crate) fn check(context: &Context<'_>, dir: &Path) -> crate::error::Result<()> {
    let outcome = vendor::check(&options(context, dir)?)?;
    for warning in &outcome.warnings {
        context.printer.warn(warning);
    }
    let mut view = view::vendor::VendorCheck::from(outcome);
    view.dir = dir.display().to_string();
    context.printer.show(&view);
    if view.ok {
        return Ok(());
    }
    Err(Refusal::new(format!(
        "`{}` does not match `atom.lock`: {} difference{}",
        view.dir,
        view.drift.len(),
        if view.drift.len() == 1 { "" } else { "s" }
    ))
    .hint("run `eka vendor` to write it again from `atom.lock`")
    .into())
}

fn options(context: &Context<'_>, dir: &Path) -> crate::error::Result<vendor::Options> {
    let config = atom::config::Config::load(Some(&context.cwd))?;
    Ok(vendor::Options {
        project: context.cwd.clone(),
        dir: context.cwd.join(dir),
        cache: config.cache,
        offline: context.offline,
        reporter: context.printer.progress().clone(),
    })
}
