//! `eka completions <shell>`: print a completion script on stdout.

use clap::CommandFactory as _;

use super::Context;
use crate::cli::{Cli, CompletionsArgs};

pub(crate) fn exec(_context: &Context<'_>, args: CompletionsArgs) -> crate::error::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "eka", &mut std::io::stdout());
    Ok(())
}
