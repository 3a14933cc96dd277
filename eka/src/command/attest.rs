//! `eka attest [LABELS…] [--key K] [--remote R] [--config FILE] [--set k=v]
//! [--copy-to CACHE] [--builders SPEC] [--store URL] [--substituters URL…]
//! [--trusted-public-keys KEY…] [--option NAME VALUE]`, and `eka show <uri> --attestations`.

use crate::error::ResultExt as _;
use eka::ops::attest;

use super::Context;
use crate::{cli::AttestArgs, error::CheckFailed, view};

pub(crate) fn exec(context: &Context<'_>, args: AttestArgs) -> crate::error::Result<()> {
    if context.offline {
        return Err(crate::error::Refusal::new(
            "`eka attest` pushes to a remote, and `--offline` forbids the network",
        )
        .hint("drop `--offline` (or `--frozen`) to attest")
        .into());
    }
    // Nix's settings are refused before anything is signed or built.
    let settings = args.nix.into_settings();
    settings.check()?;
    let config = atom::config::Config::load(Some(&context.cwd))
        .context("cannot load the eka configuration")?;
    let key = match args.key {
        Some(key) => context.cwd.join(key),
        None => match &config.signing {
            Some(signing) => signing.key.clone(),
            None => {
                return Err(crate::error::Refusal::new(
                    "`eka attest` signs its attestations, and no signing key is configured",
                )
                .hint("pass `--key <file>`, or set `[signing] key` in `eka.toml`")
                .into());
            }
        },
    };
    let agent = std::env::var_os("SSH_AUTH_SOCK").map(std::path::PathBuf::from);
    let signer = verify::signature::Signer::from_key_file(&key, agent.as_deref())
        .with_context(|| format!("cannot sign with `{}`", key.display()))?;
    let build_config = nix::eval::load_config(
        args.config.map(|path| context.cwd.join(path)).as_deref(),
        &args.settings,
    )?;
    let outcome = attest::run(&attest::Options {
        cwd: context.cwd.clone(),
        labels: args.labels,
        remote: Some(args.remote),
        config: build_config,
        cache: config.cache,
        signer,
        copy_to: args.copy_to,
        settings,
        reporter: context.printer.progress().clone(),
    })?;
    let view = view::attest::Attest::from(&outcome);
    context.printer.show(&view);
    let rejected = outcome
        .atoms
        .iter()
        .filter(|atom| matches!(atom.status, attest::Status::Rejected { .. }))
        .count();
    if rejected > 0 {
        return Err(CheckFailed(format!(
            "the remote rejected the push of {rejected} attestation(s), nothing was pushed"
        ))
        .into());
    }
    Ok(())
}

/// `eka show <uri> --attestations`.
pub(crate) fn show(context: &Context<'_>, uri: String) -> crate::error::Result<()> {
    if context.offline {
        return Err(crate::error::Refusal::new(
            "`--attestations` lists the set's attestations, and `--offline` forbids the network",
        )
        .hint("drop `--offline` (or `--frozen`)")
        .into());
    }
    let config = atom::config::Config::load(Some(&context.cwd))
        .context("cannot load the eka configuration")?;
    let shown = attest::show(&attest::ShowOptions {
        input: uri.clone(),
        aliases: config.aliases,
        cache: config.cache,
        trust: config.trust,
        now: std::time::SystemTime::now(),
    })?;
    context
        .printer
        .show(&view::attest::Attestations::new(uri, &shown));
    Ok(())
}
