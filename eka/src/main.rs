//! The `eka` command line: parse, call the libraries, print.
//!
//! Each command lives in [`command`] as a thin `exec` over the `atom`, `resolver` and
//! `verify` libraries; all output goes through one [`printer::Printer`]; exit codes are
//! 0 (success), 1 (input refused or a check failed) and 2 (the environment failed), taken
//! from the kind of the [`error::Error`] a command returns.

mod cli;
mod command;
mod error;
mod printer;
mod progress;
mod view;

use std::process::ExitCode;

use clap::Parser;

use crate::{cli::Cli, printer::Printer};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            // clap's usage errors are the user's input being refused: exit 1, not 2.
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp
                | clap::error::ErrorKind::DisplayVersion
                | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(1),
            };
        }
    };
    let global = &cli.global;
    let printer = Printer::new(global.quiet, global.verbose, global.color, global.json);
    init_tracing(global.verbose);
    match command::exec(cli, &printer) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            printer.error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 | 1 => "off",
        2 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("EKA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .try_init();
}
