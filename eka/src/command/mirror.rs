//! `eka mirror <url> [--all-versions LABEL…]`.

use eka::ops::mirror;

use super::Context;
use crate::error::ResultExt as _;
use crate::{cli::MirrorArgs, view};

pub(crate) fn exec(context: &Context<'_>, args: MirrorArgs) -> crate::error::Result<()> {
    let cache = atom::config::Config::load(Some(&context.cwd))
        .context("cannot load the eka configuration")?
        .cache;
    let outcome = mirror::run(
        &mirror::Options {
            dir: context.cwd.clone(),
            cache,
            url: args.url,
            all_versions: args.all_versions,
            offline: context.offline,
        },
        context.printer.progress().as_ref(),
    )?;
    context.printer.show(&view::mirror::Mirror::from(outcome));
    Ok(())
}
