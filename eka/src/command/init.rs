//! `eka init [dir] [--git]`.

use eka::ops::init;

use super::Context;
use crate::{cli::InitArgs, view};

pub(crate) fn exec(context: &Context<'_>, args: InitArgs) -> crate::error::Result<()> {
    let dir = match args.dir {
        Some(dir) => context.cwd.join(dir),
        None => context.cwd.clone(),
    };
    let outcome = init::run(&init::Options { dir, git: args.git })?;
    context.printer.show(&view::new::Init::from(&outcome));
    Ok(())
}
