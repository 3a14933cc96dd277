//! One module per command; each `exec` turns the parsed arguments into an op's `Options`,
//! runs the op, and shows its outcome as a [`crate::view`] through the printer.

mod attest;
mod completions;
mod deps;
mod eval;
mod export;
mod init;
mod mirror;
mod new;
mod outdated;
mod publish;
mod vendor;
mod verify;

use std::path::PathBuf;

use crate::error::ResultExt as _;

use crate::{
    cli::{Cli, Command, GlobalArgs},
    printer::Printer,
};

/// What every command knows about the invocation.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub(crate) printer: &'a Printer,
    /// The directory eka runs in (`-C` applied).
    pub(crate) cwd: PathBuf,
    pub(crate) offline: bool,
    pub(crate) locked: bool,
    /// `--timeout`, which wins over the environment and `eka.toml`.
    timeout: Option<u64>,
}

impl<'a> Context<'a> {
    fn new(global: &GlobalArgs, printer: &'a Printer) -> crate::error::Result<Self> {
        let base = std::env::current_dir().context("cannot read the current directory")?;
        let cwd = match &global.directory {
            Some(dir) => base.join(dir),
            None => base,
        };
        if !cwd.is_dir() {
            return Err(crate::error::Refusal::new(format!(
                "`{}` is not a directory",
                cwd.display()
            ))
            .hint("pass an existing directory to `-C`")
            .into());
        }
        Ok(Context {
            printer,
            cwd,
            offline: global.offline || global.frozen,
            locked: global.locked || global.frozen,
            timeout: global.timeout,
        })
    }
}

pub(crate) fn exec(cli: Cli, printer: &Printer) -> crate::error::Result<()> {
    let context = Context::new(&cli.global, printer)?;
    if !matches!(
        cli.command,
        Command::Init(_) | Command::New(_) | Command::Completions(_)
    ) {
        set_network_timeout(&context)?;
    }
    match cli.command {
        Command::Init(args) => init::exec(&context, args),
        Command::New(args) => new::exec(&context, args),
        Command::Publish(args) => publish::exec(&context, args),
        Command::Tree => deps::tree(&context),
        Command::Add(args) => deps::add(&context, args),
        Command::Remove(args) => deps::remove(&context, args),
        Command::Resolve(args) => deps::resolve(&context, args),
        Command::Update(args) => deps::update(&context, args),
        Command::List(args) => deps::list(&context, args, false),
        Command::Show(args) if args.attestations => attest::show(&context, args.uri),
        Command::Show(args) => deps::list(&context, crate::cli::ListArgs { uri: args.uri }, true),
        Command::Completions(args) => completions::exec(&context, args),
        Command::Eval(args) => eval::exec(&context, args, nix::eval::Mode::Eval),
        Command::Build(args) => eval::exec(&context, args, nix::eval::Mode::Build),
        Command::Export(args) => export::exec(&context, args),
        Command::Verify(args) => verify::exec(&context, args),
        Command::Vendor(args) => vendor::exec(&context, args),
        Command::Outdated(args) => outdated::exec(&context, args),
        Command::Mirror(args) => mirror::exec(&context, args),
        Command::Attest(args) => attest::exec(&context, args),
    }
}

/// Give every network operation of the run the configured deadline (`--timeout`, else
/// `EKA_NET_TIMEOUT`, else `[network] timeout` in `eka.toml`, else 30 s); an invalid
/// value is refused here, before anything is fetched.
fn set_network_timeout(context: &Context<'_>) -> crate::error::Result<()> {
    let config = atom::config::Config::load(Some(&context.cwd))?;
    let deadline = match context.timeout {
        Some(seconds) => std::time::Duration::from_secs(seconds),
        None => config.network_timeout,
    };
    atom::store::git::set_network_timeout(deadline);
    Ok(())
}
