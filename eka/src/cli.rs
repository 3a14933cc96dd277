//! The command line definition (clap derive). Parsing only: no behaviour lives here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// eka: a git-native package and atom manager.
///
/// Any git repository is a registry: atoms are published as reproducible commits under
/// `refs/eka/atoms/<label>/<version>`, resolved with PubGrub and pinned in `atom.lock` by
/// commit and BLAKE3 content hash.
#[derive(Debug, Parser)]
#[command(name = "eka", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) global: GlobalArgs,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Args, Clone)]
pub(crate) struct GlobalArgs {
    /// Run as if eka was started in <DIR>.
    #[arg(short = 'C', global = true, value_name = "DIR")]
    pub(crate) directory: Option<PathBuf>,
    /// Print less; repeat for silence.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub(crate) quiet: u8,
    /// Print more; repeat for even more.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub(crate) verbose: u8,
    /// When to colour output (`NO_COLOR` is honoured by `auto`).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true, value_name = "WHEN")]
    pub(crate) color: ColorChoice,
    /// Never touch the network: use only what is cached.
    #[arg(long, global = true)]
    pub(crate) offline: bool,
    /// Fail if `atom.lock` would change.
    #[arg(long, global = true)]
    pub(crate) locked: bool,
    /// Same as `--locked --offline`.
    #[arg(long, global = true)]
    pub(crate) frozen: bool,
    /// Print data as JSON on stdout (for commands that print data).
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// Stop a network operation after SECONDS without progress (default 30; overrides
    /// `EKA_NET_TIMEOUT` and `[network] timeout`).
    #[arg(long, global = true, value_name = "SECONDS", value_parser = parse_seconds)]
    pub(crate) timeout: Option<u64>,
}

/// When to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    /// Colour when stderr is a terminal and `NO_COLOR` is unset.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Make a directory the root of a set: write `ekala.toml`.
    Init(InitArgs),
    /// Create an atom: write its `atom.toml` and register it in `ekala.toml`.
    New(NewArgs),
    /// Publish atoms at a revision to a remote, all refs in one atomic push.
    Publish(PublishArgs),
    /// Print the locked dependency graph from `atom.lock`.
    Tree,
    /// Add atom dependencies, resolve, and update `atom.toml` and `atom.lock` together.
    Add(AddArgs),
    /// Drop dependencies from `atom.toml` and `atom.lock`.
    Remove(RemoveArgs),
    /// Make `atom.lock` satisfy `atom.toml`, changing as little as possible.
    Resolve(DryRunArgs),
    /// Move locked versions to the newest allowed.
    Update(UpdateArgs),
    /// List the atoms and versions of a remote set, without cloning it.
    List(ListArgs),
    /// Show the versions and metadata of one remote atom.
    Show(ShowArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Evaluate the current atom with Nix (pure, locked inputs only); print JSON.
    Eval(EvalArgs),
    /// Build the current atom with Nix (pure, locked inputs only); print store paths.
    Build(EvalArgs),
    /// Export `atom.lock` for other tools (`--flake`: a `flake.lock`).
    Export(ExportArgs),
    /// Re-fetch every locked atom from its mirrors and check hashes, ids, signatures and
    /// the dependency closure; exit 1 on any mismatch.
    Verify(VerifyArgs),
    /// Copy every locked atom's tree, checked first, into a directory of the project
    /// (`--check`: compare that directory with `atom.lock`).
    Vendor(VendorArgs),
    /// Show the locked, newest allowed and newest published version of every locked atom
    /// and direct Nix input.
    Outdated(OutdatedArgs),
    /// Copy every locked atom, checked, to another git repository in one atomic push.
    Mirror(MirrorArgs),
    /// Build published atoms and push signed attestations of their outputs (one
    /// SSH-signed tag per atom under `refs/eka/attest/…`, in one atomic push).
    Attest(AttestArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AttestArgs {
    /// Labels of the atoms to attest (default: every published atom with an entry point).
    pub(crate) labels: Vec<String>,
    /// The SSH key to sign with (default: `[signing] key` in `eka.toml`).
    #[arg(long, value_name = "FILE")]
    pub(crate) key: Option<PathBuf>,
    /// The remote the atoms are published on and the attestations pushed to.
    #[arg(long, value_name = "R", default_value = "origin")]
    pub(crate) remote: String,
    /// A JSON file holding the configuration object given to the entry point.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Set one configuration key (the value is parsed as JSON, else taken as a string).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) settings: Vec<String>,
    /// Copy the outputs to this Nix store or binary cache (`nix copy --to CACHE`).
    #[arg(long, value_name = "CACHE")]
    pub(crate) copy_to: Option<String>,
    #[command(flatten)]
    pub(crate) nix: NixArgs,
}

/// Nix's remote-build settings, handed to the Nix process (never undoing pure
/// evaluation or the lock checks).
#[derive(Debug, Args)]
pub(crate) struct NixArgs {
    /// Nix's remote builders (`ssh://host system`, several separated by `;`).
    #[arg(long, value_name = "SPEC", help_heading = "Nix")]
    pub(crate) builders: Option<String>,
    /// The Nix store to build in and keep the outputs in (a URL, or a directory for a
    /// chroot store).
    #[arg(long, value_name = "URL", help_heading = "Nix")]
    pub(crate) store: Option<String>,
    /// Nix's substituters (binary caches), replacing the configured ones.
    #[arg(long, value_name = "URL", num_args = 1.., help_heading = "Nix")]
    pub(crate) substituters: Vec<String>,
    /// The public keys Nix trusts for the substituters' signatures (`name:base64`).
    #[arg(long, value_name = "KEY", num_args = 1.., help_heading = "Nix")]
    pub(crate) trusted_public_keys: Vec<String>,
    /// Set the Nix setting NAME to VALUE for this run (repeatable; not `pure-eval`,
    /// `restrict-eval`, `allowed-uris` or `nix-path`).
    #[arg(long = "option", value_names = ["NAME", "VALUE"], num_args = 2, help_heading = "Nix")]
    pub(crate) options: Vec<String>,
}

impl NixArgs {
    /// The settings for `nix::eval`.
    pub(crate) fn into_settings(self) -> nix::settings::Settings {
        let mut pairs = self.options.into_iter();
        let mut options = Vec::new();
        while let (Some(name), Some(value)) = (pairs.next(), pairs.next()) {
            options.push((name, value));
        }
        nix::settings::Settings {
            builders: self.builders,
            store: self.store,
            substituters: self.substituters,
            trusted_public_keys: self.trusted_public_keys,
            options,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct OutdatedArgs {
    /// Exit 1 when anything can move to a newer allowed version.
    #[arg(long)]
    pub(crate) exit_code: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VendorArgs {
    /// The vendor directory, relative to the project (default: `vendor`).
    pub(crate) dir: Option<PathBuf>,
    /// Write nothing: compare DIR with `atom.lock` and exit 1 on any difference.
    #[arg(long)]
    pub(crate) check: bool,
}

#[derive(Debug, Args)]
pub(crate) struct MirrorArgs {
    /// The repository to copy the atoms to (any git URL eka can push to).
    pub(crate) url: String,
    /// Also copy every published version of these locked labels.
    #[arg(long, value_name = "LABEL", num_args = 1..)]
    pub(crate) all_versions: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Labels to verify, with their dependencies (default: every locked atom).
    pub(crate) names: Vec<String>,
    /// Fail any atom not signed by an allowed signer of its set.
    #[arg(long)]
    pub(crate) require_signed: bool,
    /// Check the vendor directory DIR against `atom.lock` instead of the mirrors (as
    /// `eka vendor --check DIR`).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["names", "require_signed", "attestations"])]
    pub(crate) vendored: Option<PathBuf>,
    /// Also check the signed build attestations of every atom (`refs/eka/attest/…`)
    /// against the trust policy and the lock.
    #[arg(long)]
    pub(crate) attestations: bool,
    /// With `--attestations`: fail any atom without a trusted attestation.
    #[arg(long, requires = "attestations")]
    pub(crate) require_attested: bool,
    /// With `--attestations`: realise the attested outputs from these Nix caches and
    /// compare their NAR hashes with the attestations.
    #[arg(long, value_name = "URL", num_args = 1.., requires = "attestations")]
    pub(crate) substituters: Vec<String>,
    /// With `--attestations`: a JSON file holding the configuration whose attestations
    /// are checked (default: `{}`).
    #[arg(long, value_name = "FILE", requires = "attestations")]
    pub(crate) config: Option<PathBuf>,
    /// With `--attestations`: set one key of that configuration (the value is parsed as
    /// JSON, else taken as a string).
    #[arg(long = "set", value_name = "KEY=VALUE", requires = "attestations")]
    pub(crate) settings: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct EvalArgs {
    /// The attribute path of the atom's value to evaluate or build (default: all of it).
    pub(crate) attr: Option<String>,
    /// A JSON file holding the configuration object given to the entry point.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Set one configuration key (the value is parsed as JSON, else taken as a string).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub(crate) settings: Vec<String>,
    /// Use the directory DIR as the locked atom LABEL's source, as is (not checked, not
    /// locked).
    #[arg(long = "override-atom", value_name = "LABEL=DIR")]
    pub(crate) override_atoms: Vec<String>,
    /// Take the direct Nix input NAME from a URL or a local path instead of its locked
    /// pin (not locked).
    #[arg(long = "override-input", value_name = "NAME=URL|DIR")]
    pub(crate) override_inputs: Vec<String>,
    #[command(flatten)]
    pub(crate) nix: NixArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ExportArgs {
    /// Write a `flake.lock` (version 7) pinning the locked atoms and direct Nix inputs,
    /// keeping the nodes of an existing one that eka did not write.
    #[arg(long, required = true)]
    pub(crate) flake: bool,
    /// The directory to write them to (default: the atom's directory).
    #[arg(long, value_name = "DIR")]
    pub(crate) output: Option<PathBuf>,
    /// Also write the inputs into `flake.nix` (in the output directory), replacing the
    /// lines between `# eka:inputs:begin` and `# eka:inputs:end`.
    #[arg(long)]
    pub(crate) write_inputs: bool,
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// The directory to make a set (created if missing; default: the current one).
    pub(crate) dir: Option<PathBuf>,
    /// Also create a git repository there if there is none.
    #[arg(long)]
    pub(crate) git: bool,
}

#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// Where to create the atom (relative to the current directory).
    pub(crate) path: PathBuf,
    /// The atom's label (default: the directory's name).
    #[arg(long)]
    pub(crate) label: Option<String>,
    /// The atom's first version.
    #[arg(long, default_value = "0.1.0")]
    pub(crate) version: String,
    /// A one-line description.
    #[arg(long)]
    pub(crate) description: Option<String>,
    /// Make the directory a set with a git repository first (as `eka init --git`), then
    /// create the atom at its root.
    #[arg(long)]
    pub(crate) init: bool,
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// Directories of the atoms to publish (default: the atom containing the current
    /// directory).
    #[arg(conflicts_with = "all")]
    pub(crate) paths: Vec<PathBuf>,
    /// Publish every atom of the set.
    #[arg(long)]
    pub(crate) all: bool,
    /// The remote to publish to: a name from the git config or a URL.
    #[arg(long, value_name = "R", default_value = "origin")]
    pub(crate) remote: String,
    /// The revision to publish from (read from the object database, not the working tree).
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub(crate) rev: String,
    /// Sign the atom commits (SSH signature) with the configured key or `--key`.
    #[arg(long)]
    pub(crate) sign: bool,
    /// The SSH key to sign with (default: `[signing] key` in `eka.toml`).
    #[arg(long, value_name = "FILE", requires = "sign")]
    pub(crate) key: Option<PathBuf>,
    /// Show what would be published without writing or pushing anything.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Publish the valid atoms even when some selected atoms are invalid (still exit 1,
    /// naming them).
    #[arg(long)]
    pub(crate) keep_going: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AddArgs {
    /// Atom URIs: `gh:owner/repo::label@^1`, `https://host/repo.git::label`, `set::label`, `::label`
    /// (with `--nix`: the input's one URL).
    #[arg(required = true)]
    pub(crate) uris: Vec<String>,
    /// Resolve and report, write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Add a direct Nix input named NAME: `eka add --nix NAME URL` (a file, unless
    /// `--git`, `--version`, `--tar` or `--build` says otherwise).
    #[arg(long, value_name = "NAME")]
    pub(crate) nix: Option<String>,
    /// With `--nix`: a git repository at this ref (`main`, `refs/tags/v1.0.0`).
    #[arg(long, value_name = "REF", requires = "nix", conflicts_with_all = ["git_version", "tar", "build"])]
    pub(crate) git: Option<String>,
    /// With `--nix`: a git repository at its newest tag (`v1.2.3` or `1.2.3`) matching REQ.
    #[arg(long = "version", id = "git_version", value_name = "REQ", requires = "nix", conflicts_with_all = ["tar", "build"])]
    pub(crate) git_version: Option<String>,
    /// With `--nix`: a tarball, unpacked.
    #[arg(long, requires = "nix", conflicts_with = "build")]
    pub(crate) tar: bool,
    /// With `--nix`: a file fetched at build time (fixed-output derivation).
    #[arg(long, requires = "nix")]
    pub(crate) build: bool,
    /// With `--nix`: the input is a flake.
    #[arg(long, requires = "nix")]
    pub(crate) flake: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RemoveArgs {
    /// Labels of atom dependencies or names of direct Nix inputs.
    #[arg(required = true)]
    pub(crate) names: Vec<String>,
    /// Report, write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DryRunArgs {
    /// Resolve and report, write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct UpdateArgs {
    /// Labels to update (default: all).
    pub(crate) names: Vec<String>,
    /// Resolve and report, write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    /// A set URI (`list`) or an atom URI (`show`).
    pub(crate) uri: String,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    /// An atom URI.
    pub(crate) uri: String,
    /// List the atom's signed build attestations instead (`refs/eka/attest/…`), each
    /// judged against the trust entry of the set's URL in `eka.toml`.
    #[arg(long)]
    pub(crate) attestations: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to print the completion script for.
    pub(crate) shell: clap_complete::Shell,
}

/// A whole number of seconds above 0 (`--timeout`).
fn parse_seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(seconds) if seconds > 0 => Ok(seconds),
        _ => Err("expected a whole number of seconds above 0".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn the_command_line_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
