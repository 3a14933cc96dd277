//! `eka publish [paths… | --all] [--remote R] [--rev REV] [--sign [--key FILE]] [--dry-run]
//! [--keep-going]`.

use crate::error::ResultExt as _;
use eka::ops::publish;

use super::Context;
use crate::{cli::PublishArgs, error::CheckFailed, view};

pub(crate) fn exec(context: &Context<'_>, args: PublishArgs) -> crate::error::Result<()> {
    let printer = context.printer;
    if context.offline {
        return Err(crate::error::Refusal::new(
            "`eka publish` pushes to a remote, and `--offline` forbids the network",
        )
        .hint("drop `--offline` (or `--frozen`) to publish")
        .into());
    }
    let signer = if args.sign {
        let key = match args.key {
            Some(key) => context.cwd.join(key),
            None => {
                let config = atom::config::Config::load(Some(&context.cwd))?;
                match config.signing {
                    Some(signing) => signing.key,
                    None => {
                        return Err(crate::error::Refusal::new(
                            "`--sign` needs a signing key, and none is configured",
                        )
                        .hint("pass `--key <file>`, or set `[signing] key` in `eka.toml`")
                        .into());
                    }
                }
            }
        };
        let agent = std::env::var_os("SSH_AUTH_SOCK").map(std::path::PathBuf::from);
        Some(
            verify::signature::Signer::from_key_file(&key, agent.as_deref())
                .with_context(|| format!("cannot sign with `{}`", key.display()))?,
        )
    } else {
        None
    };
    let outcome = publish::run(&publish::Options {
        cwd: context.cwd.clone(),
        paths: args.paths,
        all: args.all,
        remote: Some(args.remote),
        revision: args.rev,
        dry_run: args.dry_run,
        keep_going: args.keep_going,
        signer,
        reporter: printer.progress().clone(),
    })?;

    let view = view::publish::Publish::from(&outcome);
    printer.show(&view);
    let plural = |count: usize| if count == 1 { "" } else { "s" };
    let failures: Vec<String> = [
        (view.summary.invalid, "invalid"),
        (view.summary.refused, "refused"),
    ]
    .into_iter()
    .filter(|(count, _)| *count > 0)
    .map(|(count, what)| format!("{count} atom{} {what}", plural(count)))
    .collect();
    if failures.is_empty() {
        return Ok(());
    }
    Err(CheckFailed(failures.join(", ")).into())
}
