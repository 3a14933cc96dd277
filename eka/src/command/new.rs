//! `eka new <path> [--label L] [--version V] [--description D] [--init]`.

use eka::ops::new;

use super::Context;
use crate::{cli::NewArgs, view};

pub(crate) fn exec(context: &Context<'_>, args: NewArgs) -> crate::error::Result<()> {
    let options = new::Options {
        path: context.cwd.join(&args.path),
        label: args.label,
        version: args.version,
        description: args.description,
    };
    if args.init {
        let started = new::start(&options)?;
        context.printer.show(&view::new::Started::new(
            &started,
            &args.path.display().to_string(),
        ));
        return Ok(());
    }
    let outcome = new::run(&options)?;
    context.printer.show(&view::new::New::from(&outcome));
    Ok(())
}
