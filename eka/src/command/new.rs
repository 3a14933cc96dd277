//! `eka new <path> [--label L] [--version V] [--description D]`.

use eka::ops::new;

use super::Context;
use crate::{cli::NewArgs, view};

pub(crate) fn exec(context: &Context<'_>, args: NewArgs) -> crate::error::Result<()> {
    let outcome = new::run(&new::Options {
        path: context.cwd.join(&args.path),
        label: args.label,
        version: args.version,
        description: args.description,
    })?;
    context.printer.show(&view::new::New::from(&outcome));
    Ok(())
}
