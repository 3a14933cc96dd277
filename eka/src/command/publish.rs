//! `eka publish [paths… | --all] [--remote R] [--rev REV] [--sign [--key FILE]] [--dry-run]`.

use anyhow::Context as _;
use eka::ops::publish::{self, Status};

use super::Context;
use crate::{cli::PublishArgs, error::CheckFailed};

pub(crate) fn exec(context: &Context<'_>, args: PublishArgs) -> anyhow::Result<()> {
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
    })?;

    if outcome.atoms.is_empty() {
        printer.warn(format_args!(
            "the set has no atoms at `{}`: nothing to publish",
            outcome.origin
        ));
    }
    for atom in &outcome.atoms {
        let name = format!("{}@{}", atom.label, atom.version);
        match &atom.status {
            Status::Published => printer.status("Publishing", &name),
            Status::WouldPublish => printer.status("Would publish", &name),
            Status::Skipped => {
                printer.status("Skipped", format_args!("{name} (already published)"))
            }
            Status::Refused { existing } => {
                printer.error(&anyhow::anyhow!(
                    "`{name}` is already published with other content (remote commit `{existing}`, ours `{}`)",
                    atom.commit
                ));
                printer.hint(format_args!(
                    "published versions are immutable: bump `version` in `{}/atom.toml`, commit, and publish again",
                    atom.path
                ));
            }
        }
        printer.detail(format_args!(
            "  commit {} content {} path {}",
            atom.commit, atom.content, atom.path
        ));
    }
    let published = outcome.count(Status::Published.as_str());
    let would = outcome.count(Status::WouldPublish.as_str());
    let skipped = outcome.count(Status::Skipped.as_str());
    let refused = outcome.atoms.len() - published - would - skipped;
    let summary = if outcome.dry_run {
        format!(
            "{would} to publish, {skipped} skipped, {refused} refused (dry run: nothing pushed)"
        )
    } else {
        format!(
            "{published} published, {skipped} skipped, {refused} refused to `{}`",
            outcome.remote_url
        )
    };
    printer.status("Summary", &summary);

    if !printer.json() {
        // Data for scripts: one line per atom.
        for atom in &outcome.atoms {
            printer.data(format_args!(
                "{}@{} {} {}",
                atom.label,
                atom.version,
                atom.commit,
                atom.status.as_str()
            ));
        }
    } else {
        let atoms: Vec<serde_json::Value> = outcome
            .atoms
            .iter()
            .map(|atom| {
                let mut value = serde_json::json!({
                    "label": atom.label.as_str(),
                    "version": atom.version.to_string(),
                    "path": atom.path,
                    "commit": atom.commit.to_string(),
                    "content": atom.content,
                    "manifest": atom.manifest.to_string(),
                    "status": atom.status.as_str(),
                });
                if let Status::Refused { existing } = &atom.status {
                    value["existing"] = serde_json::Value::String(existing.to_string());
                }
                value
            })
            .collect();
        printer.json_value(&serde_json::json!({
            "remote": outcome.remote_url,
            "origin": outcome.origin.to_string(),
            "set_root": outcome.set_root.to_string(),
            "dry_run": outcome.dry_run,
            "atoms": atoms,
            "summary": {
                "published": published,
                "would_publish": would,
                "skipped": skipped,
                "refused": refused,
            },
        }));
    }
    if refused > 0 {
        return Err(CheckFailed(format!(
            "{refused} atom{} refused",
            if refused == 1 { "" } else { "s" }
        ))
        .into());
    }
    Ok(())
}
