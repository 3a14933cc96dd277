//! `eka init [dir] [--git]`.

use eka::ops::init;

use super::Context;
use crate::cli::InitArgs;

pub(crate) fn exec(context: &Context<'_>, args: InitArgs) -> anyhow::Result<()> {
    let dir = match args.dir {
        Some(dir) => context.cwd.join(dir),
        None => context.cwd.clone(),
    };
    let outcome = init::run(&init::Options { dir, git: args.git })?;
    if outcome.created_git {
        context.printer.status("Initialized", "git repository");
    }
    context.printer.status(
        "Created",
        format_args!("set `{}`", outcome.set_file.display()),
    );
    Ok(())
}
