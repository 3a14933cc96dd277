//! `eka publish [paths… | --all] [--remote R] [--rev REV] [--sign [--key FILE]] [--dry-run]`.

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
        signer,
        reporter: printer.progress().clone(),
    })?;

    let view = view::publish::Publish::from(&outcome);
    printer.show(&view);
    let refused = view.summary.refused;
    if refused > 0 {
        return Err(CheckFailed(format!(
            "{refused} atom{} refused",
            if refused == 1 { "" } else { "s" }
        ))
        .into());
    }
    Ok(())
}
