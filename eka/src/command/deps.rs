//! `eka add`, `remove`, `resolve`, `update`, `tree`, `list` and `show`: thin `exec`s over
//! `eka::ops`.

use atom::Label;
use eka::ops::{
    add, list as list_op, lock, remove as remove_op, resolve as resolve_op, tree as tree_op,
    update as update_op,
};

use super::Context;
use crate::cli::{AddArgs, DryRunArgs, ListArgs, RemoveArgs, UpdateArgs};

fn config(context: &Context<'_>) -> anyhow::Result<atom::config::Config> {
    Ok(atom::config::Config::load(Some(&context.cwd))?)
}

fn lock_options(context: &Context<'_>, dry_run: bool) -> anyhow::Result<lock::Options> {
    Ok(lock::Options {
        dir: context.cwd.clone(),
        cache: config(context)?.cache,
        offline: context.offline,
        locked: context.locked,
        dry_run,
    })
}

fn labels(names: &[String]) -> anyhow::Result<Vec<Label>> {
    Ok(names
        .iter()
        .map(|name| Label::parse(name))
        .collect::<Result<_, _>>()?)
}

/// Print what a lock transaction changed.
fn report(context: &Context<'_>, outcome: &lock::Outcome, dry_run: bool) {
    let printer = context.printer;
    for warning in &outcome.warnings {
        printer.warn(format_args!(
            "skipped mirror `{}`: {}",
            warning.url, warning.message
        ));
    }
    for vanished in &outcome.vanished {
        printer.warn(vanished);
    }
    if printer.json() {
        if let Ok(value) = serde_json::to_value(outcome) {
            printer.json_value(&value);
        }
        return;
    }
    let changes = &outcome.changes;
    let version = |version: &Option<semver::Version>| {
        version
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    for change in &changes.added {
        printer.status(
            "Locking",
            format_args!("{} {}", change.label, version(&change.new)),
        );
    }
    for change in &changes.updated {
        printer.status(
            "Updating",
            format_args!(
                "{} {} -> {}",
                change.label,
                version(&change.old),
                version(&change.new)
            ),
        );
    }
    for change in &changes.removed {
        printer.status(
            "Removing",
            format_args!("{} {}", change.label, version(&change.old)),
        );
    }
    for change in &changes.nix {
        match (&change.old, &change.new) {
            (None, Some(new)) => printer.status("Locking", format_args!("{} {new}", change.name)),
            (Some(old), Some(new)) => {
                printer.status("Updating", format_args!("{} {old} -> {new}", change.name))
            }
            (Some(old), None) => printer.status("Removing", format_args!("{} {old}", change.name)),
            (None, None) => {}
        }
    }
    if changes.is_empty() {
        printer.status("Unchanged", "atom.lock is up to date");
    }
    if dry_run && (!changes.is_empty() || outcome.manifest_changed) {
        printer.warn("dry run: nothing was written");
    }
}

fn locked_error(error: lock::Error, context: &Context<'_>) -> anyhow::Error {
    if let lock::Error::LockedDrift { changes, .. } = &error {
        let outcome = lock::Outcome {
            changes: (**changes).clone(),
            ..Default::default()
        };
        if !context.printer.json() {
            report(context, &outcome, true);
        }
    }
    error.into()
}

/// `eka add --nix NAME URL`.
fn add_nix(context: &Context<'_>, name: String, args: AddArgs) -> anyhow::Result<()> {
    let fetch = match (args.git, args.git_version) {
        (Some(reference), _) => add::NixFetchArg::GitRef(reference),
        (None, Some(requirement)) => add::NixFetchArg::GitVersion(requirement),
        (None, None) if args.tar => add::NixFetchArg::Tar,
        (None, None) if args.build => add::NixFetchArg::Build,
        (None, None) => add::NixFetchArg::Url,
    };
    let [url] = <[String; 1]>::try_from(args.uris).map_err(|uris| add::Error::NixArguments {
        name: name.clone(),
        message: format!("expected one URL, got {}", uris.len()),
        hint: "write `eka add --nix <name> <url>`",
    })?;
    let options = add::NixOptions {
        lock: lock_options(context, args.dry_run)?,
        name,
        url,
        fetch,
        flake: args.flake,
    };
    let outcome = match add::run_nix(&options) {
        Ok(outcome) => outcome,
        Err(add::Error::Lock(error)) => return Err(locked_error(error, context)),
        Err(error) => return Err(error.into()),
    };
    report(context, &outcome, args.dry_run);
    Ok(())
}

pub(crate) fn add(context: &Context<'_>, args: AddArgs) -> anyhow::Result<()> {
    if let Some(name) = args.nix.clone() {
        return add_nix(context, name, args);
    }
    let config = config(context)?;
    let options = add::Options {
        lock: lock_options(context, args.dry_run)?,
        uris: args.uris,
        aliases: config.aliases,
    };
    let outcome = match add::run(&options) {
        Ok(outcome) => outcome,
        Err(add::Error::Lock(error)) => return Err(locked_error(error, context)),
        Err(error) => return Err(error.into()),
    };
    if context.printer.json() {
        if let Ok(value) = serde_json::to_value(&outcome) {
            context.printer.json_value(&value);
        }
        return Ok(());
    }
    for added in &outcome.added {
        context.printer.status(
            "Adding",
            format_args!("{}::{} `{}`", added.set, added.label, added.requirement),
        );
    }
    report(context, &outcome.lock, args.dry_run);
    Ok(())
}

pub(crate) fn remove(context: &Context<'_>, args: RemoveArgs) -> anyhow::Result<()> {
    let options = remove_op::Options {
        lock: lock_options(context, args.dry_run)?,
        names: labels(&args.names)?,
    };
    let outcome = remove_op::run(&options).map_err(|error| locked_error(error, context))?;
    report(context, &outcome, args.dry_run);
    Ok(())
}

pub(crate) fn resolve(context: &Context<'_>, args: DryRunArgs) -> anyhow::Result<()> {
    let options = lock_options(context, args.dry_run)?;
    let outcome = resolve_op::run(&options).map_err(|error| locked_error(error, context))?;
    report(context, &outcome, args.dry_run);
    Ok(())
}

pub(crate) fn update(context: &Context<'_>, args: UpdateArgs) -> anyhow::Result<()> {
    let options = update_op::Options {
        lock: lock_options(context, args.dry_run)?,
        names: labels(&args.names)?,
    };
    let outcome = update_op::run(&options).map_err(|error| locked_error(error, context))?;
    report(context, &outcome, args.dry_run);
    Ok(())
}

pub(crate) fn tree(context: &Context<'_>) -> anyhow::Result<()> {
    let tree = tree_op::run(&context.cwd)?;
    let printer = context.printer;
    if printer.json() {
        printer.json_value(&serde_json::to_value(&tree)?);
        return Ok(());
    }
    printer.data(format_args!("{} {}", tree.label, tree.version));
    for node in &tree.nodes {
        let mark = if node.repeated { " (*)" } else { "" };
        printer.data(format_args!(
            "{}{} {}{mark}",
            "    ".repeat(node.depth + 1),
            node.label,
            node.version
        ));
    }
    Ok(())
}

pub(crate) fn list(context: &Context<'_>, args: ListArgs, show: bool) -> anyhow::Result<()> {
    let config = config(context)?;
    let options = list_op::Options {
        input: args.uri,
        aliases: config.aliases,
        cache: config.cache,
        offline: context.offline,
    };
    let listing = if show {
        list_op::show(&options)?
    } else {
        list_op::list(&options)?
    };
    let printer = context.printer;
    for warning in &listing.warnings {
        printer.warn(format_args!(
            "skipped mirror `{}`: {}",
            warning.url, warning.message
        ));
    }
    if let Some(set) = &listing.set {
        printer.detail(format_args!("set root of `{}`: {set}", listing.url));
    }
    if printer.json() {
        printer.json_value(&serde_json::to_value(&listing)?);
        return Ok(());
    }
    for atom in &listing.atoms {
        if show {
            for version in &atom.versions {
                printer.data(format_args!("{} {}", atom.label, version.version));
                if let Some(description) = &version.description {
                    printer.data(format_args!("    description: {description}"));
                }
                printer.data(format_args!("    commit: {}", version.commit));
                printer.data(format_args!("    content: {}", version.content));
                for dependency in &version.dependencies {
                    printer.data(format_args!("    requires: {dependency}"));
                }
            }
        } else {
            let versions: Vec<&str> = atom.versions.iter().map(|v| v.version.as_str()).collect();
            printer.data(format_args!("{} {}", atom.label, versions.join(", ")));
        }
    }
    Ok(())
}
