//! `eka add`, `remove`, `resolve`, `update`, `tree`, `list` and `show`: thin `exec`s over
//! `eka::ops`.

use atom::Label;
use eka::{
    ops::{
        add, list as list_op, remove as remove_op, resolve as resolve_op, show as show_op,
        tree as tree_op, update as update_op,
    },
    transaction,
};

use super::Context;
use crate::{
    cli::{AddArgs, DryRunArgs, ListArgs, RemoveArgs, UpdateArgs},
    view::{self, View as _, deps::LockReport},
};

fn config(context: &Context<'_>) -> crate::error::Result<atom::config::Config> {
    Ok(atom::config::Config::load(Some(&context.cwd))?)
}

fn lock_options(
    context: &Context<'_>,
    dry_run: bool,
) -> crate::error::Result<transaction::Options> {
    let config = config(context)?;
    Ok(transaction::Options {
        dir: context.cwd.clone(),
        cache: config.cache,
        mirrors: config.mirrors,
        trust: config.trust,
        offline: context.offline,
        locked: context.locked,
        dry_run,
        reporter: context.printer.progress().clone(),
    })
}

fn labels(names: &[String]) -> crate::error::Result<Vec<Label>> {
    Ok(names
        .iter()
        .map(|name| Label::parse(name))
        .collect::<Result<_, _>>()?)
}

fn locked_error(error: transaction::Error, context: &Context<'_>) -> crate::error::Error {
    if let transaction::Error::LockedDrift { changes, .. } = &error {
        let outcome = transaction::Outcome {
            changes: (**changes).clone(),
            ..Default::default()
        };
        if !context.printer.json() {
            // The would-be changes, as a dry run would show them, before the error.
            LockReport::new(outcome, true).render_human(context.printer);
        }
    }
    error.into()
}

/// `eka add --nix NAME URL`.
fn add_nix(context: &Context<'_>, name: String, args: AddArgs) -> crate::error::Result<()> {
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
        aliases: config(context)?.aliases,
    };
    let outcome = match add::run_nix(&options) {
        Ok(outcome) => outcome,
        Err(add::Error::Lock(error)) => return Err(locked_error(error, context)),
        Err(error) => return Err(error.into()),
    };
    context
        .printer
        .show(&LockReport::new(outcome, args.dry_run));
    Ok(())
}

pub(crate) fn add(context: &Context<'_>, args: AddArgs) -> crate::error::Result<()> {
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
    context
        .printer
        .show(&view::deps::Add::new(outcome, args.dry_run));
    Ok(())
}

pub(crate) fn remove(context: &Context<'_>, args: RemoveArgs) -> crate::error::Result<()> {
    let options = remove_op::Options {
        lock: lock_options(context, args.dry_run)?,
        names: labels(&args.names)?,
    };
    let outcome = remove_op::run(&options).map_err(|error| locked_error(error, context))?;
    context
        .printer
        .show(&LockReport::new(outcome, args.dry_run));
    Ok(())
}

pub(crate) fn resolve(context: &Context<'_>, args: DryRunArgs) -> crate::error::Result<()> {
    let options = lock_options(context, args.dry_run)?;
    let outcome = resolve_op::run(&options).map_err(|error| locked_error(error, context))?;
    context
        .printer
        .show(&LockReport::new(outcome, args.dry_run));
    Ok(())
}

pub(crate) fn update(context: &Context<'_>, args: UpdateArgs) -> crate::error::Result<()> {
    let options = update_op::Options {
        lock: lock_options(context, args.dry_run)?,
        names: labels(&args.names)?,
    };
    let outcome = update_op::run(&options).map_err(|error| locked_error(error, context))?;
    context
        .printer
        .show(&LockReport::new(outcome, args.dry_run));
    Ok(())
}

pub(crate) fn tree(context: &Context<'_>) -> crate::error::Result<()> {
    let config = config(context)?;
    let options = tree_op::Options {
        dir: context.cwd.clone(),
        cache: config.cache,
        mirrors: config.mirrors,
        offline: context.offline,
        reporter: context.printer.progress().clone(),
    };
    let tree = tree_op::run(&options)?;
    context.printer.show(&view::deps::Tree(tree));
    Ok(())
}

pub(crate) fn list(context: &Context<'_>, args: ListArgs, show: bool) -> crate::error::Result<()> {
    let config = config(context)?;
    let options = list_op::Options {
        input: args.uri,
        aliases: config.aliases,
        cache: config.cache,
        offline: context.offline,
        reporter: context.printer.progress().clone(),
        mirrors: config.mirrors,
    };
    let listing = if show {
        show_op::run(&options)?
    } else {
        list_op::list(&options)?
    };
    context.printer.show(&view::deps::Listing { listing, show });
    Ok(())
}
