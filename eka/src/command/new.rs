//! `eka new <path> [--label L] [--version V] [--description D]`.

use eka::ops::new;

use super::Context;
use crate::cli::NewArgs;

pub(crate) fn exec(context: &Context<'_>, args: NewArgs) -> anyhow::Result<()> {
    let outcome = new::run(&new::Options {
        path: context.cwd.join(&args.path),
        label: args.label,
        version: args.version,
        description: args.description,
    })?;
    context.printer.status(
        "Created",
        format_args!(
            "atom `{}` {} at `{}`",
            outcome.label,
            outcome.version,
            outcome.manifest_path.display()
        ),
    );
    context.printer.detail(format_args!(
        "registered `{}` in `{}`",
        outcome.set_path.as_str(),
        outcome.set_root.join(atom::set::FILE_NAME).display()
    ));
    Ok(())
}
