//! `eka eval` / `eka build`: run Nix on the current atom with its locked inputs only, in
//! pure mode, so nobody hand-writes the bootstrap expression.
//!
//! [`prepare`] materialises the Nix library shipped inside eka ([`LIBRARY`], the files
//! of `nix/lib/`) in the cache, fetches and checks every locked atom
//! ([`verify::locked`]: a refused atom stops before Nix runs), keeps each checked commit
//! in the cache's atom store, copies the atom directory (without `.git`) to a staging
//! directory, pins both into the store with `builtins.path { sha256 = <NAR hash>; }`
//! and writes a call of `importAtomWith` with a configuration and `sources` mapping
//! every locked atom id to the atom store (`file://<cache>/v1/atoms.git` and the ref
//! keeping its commit): Nix reads the checked trees, never a mirror. Overrides
//! (`--override-atom LABEL=DIR`, `--override-input NAME=URL|DIR`) replace a source and
//! are returned as [`Override`]s for the caller to warn about; [`Prepared::run`] runs
//! Nix ([`run`] does both). Nix runs with
//! `--option pure-eval true`: only what the lock pins (and the two pinned paths) can be
//! read. [`Options::settings`] (remote builders, the store, substituters, trusted keys,
//! other `--option`s; [`crate::settings`]) are checked first and handed to Nix before
//! `pure-eval`, which they may not name. The configuration is normalised to canonical JSON ([`canonical_json`]: object
//! keys sorted by their UTF-8 bytes, no whitespace) and hashed ([`config_hash`]:
//! `sha256:<hex>` of those bytes); the entry point sees both as `atom.config` and
//! `atom.configHash`. Nix's run is an `Evaluating` (or `Building`) step without a total
//! on the caller's [`Reporter`]; Nix's own stderr passes
//! through. Main types: [`Options`], [`Prepared`], [`Outcome`], [`Error`].
//!
//! ```
//! use nix::eval::{canonical_json, config_hash, load_config};
//!
//! let config = load_config(None, &["b=2".into(), "a=x".into()]).unwrap();
//! assert_eq!(canonical_json(&config), r#"{"a":"x","b":2}"#);
//! assert!(config_hash(&canonical_json(&config)).starts_with("sha256:"));
//! ```

use std::{
    fmt::Write as _,
    io,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use atom::{
    error::{Classify, Kind},
    progress::{Reporter, Step},
};
use fs_err as fs;
use serde_json::Value;

/// The Nix library shipped with eka: `(file name, text)` of every file of `nix/lib/`.
pub const LIBRARY: [(&str, &str); 4] = [
    ("default.nix", include_str!("../lib/default.nix")),
    ("fetch.nix", include_str!("../lib/fetch.nix")),
    ("graph.nix", include_str!("../lib/graph.nix")),
    ("lock.nix", include_str!("../lib/lock.nix")),
];

/// What to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `nix-instantiate --eval --strict --json`: print the value as JSON.
    Eval,
    /// `nix-build --no-out-link`: build the derivation(s), print the store paths.
    Build,
}

impl Mode {
    /// The Nix program run for this mode.
    pub fn program(self) -> &'static str {
        match self {
            Mode::Eval => "nix-instantiate",
            Mode::Build => "nix-build",
        }
    }
}

/// What to evaluate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The atom's directory (holding `atom.toml`).
    pub dir: PathBuf,
    /// The attribute path to select from the atom's value (`a.b`), or the whole value.
    pub attr: Option<String>,
    /// The configuration passed to the entry point (see [`load_config`]).
    pub config: Value,
    /// eka's cache directory (the library and the staging copies live under it).
    pub cache: PathBuf,
    /// Evaluate or build.
    pub mode: Mode,
    /// Use only the cache: locked atoms not in the atom store are an error.
    pub offline: bool,
    /// `--override-atom LABEL=DIR`: a locked atom's source taken from a directory.
    pub override_atoms: Vec<String>,
    /// `--override-input NAME=URL|DIR`: a direct Nix input taken from a URL or a path.
    pub override_inputs: Vec<String>,
    /// Remote builders, the store, substituters and other Nix settings for the run
    /// (checked before anything else; they never turn `pure-eval` off).
    pub settings: crate::settings::Settings,
}

/// One override in use, for the caller to warn about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    /// `atom` or `Nix input`.
    pub what: &'static str,
    /// The atom's label or the input's name.
    pub name: String,
    /// The directory or URL used instead of the locked pin.
    pub from: String,
}

impl std::fmt::Display for Override {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "using {} `{}` from `{}` (override; not locked)",
            self.what, self.name, self.from
        )
    }
}

/// What Nix printed.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Nix's stdout, trimmed: the JSON value, or the built store paths one per line.
    pub output: String,
    /// The configuration's hash as the entry point saw it.
    pub config_hash: String,
    /// The expression Nix evaluated (for `-v`).
    pub expression: String,
}

/// Why `eval`/`build` failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory holds no `atom.toml`.
    #[error("`{}` holds no `atom.toml`", dir.display())]
    NoManifest {
        /// The directory.
        dir: PathBuf,
    },
    /// Nix is not installed.
    #[error("`{program}` could not be run: Nix is not installed")]
    NixMissing {
        /// The program.
        program: &'static str,
    },
    /// The configuration file could not be read.
    #[error("cannot read the configuration `{}`", path.display())]
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// The configuration file is not JSON.
    #[error("the configuration `{}` is not valid JSON", path.display())]
    ConfigJson {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A `--set` is not `key=value`, or the configuration is not an object.
    #[error("invalid configuration setting `{setting}`")]
    Setting {
        /// The offending text.
        setting: String,
    },
    /// The attribute path is malformed.
    #[error("invalid attribute path `{attr}`")]
    Attr {
        /// The attribute path.
        attr: String,
    },
    /// The atom or the cache could not be read or written (the cause names the path).
    #[error("cannot stage the atom and the Nix library for evaluation")]
    Io(#[from] io::Error),
    /// Nix is installed but could not be started.
    #[error("cannot run `{program}`")]
    Run {
        /// The program.
        program: &'static str,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A NAR hash could not be computed.
    #[error("cannot hash `{}` for Nix", path.display())]
    Hash {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: crate::nar::Error,
    },
    /// `atom.lock` could not be read.
    #[error(transparent)]
    Lock(#[from] atom::lock::Error),
    /// `atom.toml` could not be read (to lock an overriding URL).
    #[error(transparent)]
    Manifest(#[from] atom::manifest::Error),
    /// The cache could not be opened.
    #[error(transparent)]
    Cache(#[from] atom::store::cache::Error),
    /// A locked atom could not be fetched with its tree, or was refused: Nix is not run.
    #[error(transparent)]
    Locked(#[from] Box<verify::locked::Error>),
    /// An overriding URL could not be locked.
    #[error(transparent)]
    OverrideInput(#[from] Box<crate::input::Error>),
    /// A Nix setting (`--builders`, `--store`, `--option`, …) is refused.
    #[error(transparent)]
    Settings(#[from] crate::settings::Error),
    /// An override is not `NAME=VALUE`.
    #[error("invalid override `{setting}`")]
    OverrideSyntax {
        /// The option.
        option: &'static str,
        /// The offending text.
        setting: String,
    },
    /// An override names an atom or Nix input the lock does not have.
    #[error("`{option}` names `{name}`, which `atom.lock` does not lock")]
    UnknownOverride {
        /// The option.
        option: &'static str,
        /// The name.
        name: String,
        /// The names it may be.
        known: Vec<String>,
    },
    /// An overriding directory does not exist.
    #[error("`{option}` names `{}`, which is not a file or directory", path.display())]
    OverridePath {
        /// The option.
        option: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// Nix ran and failed (its diagnostics went to stderr).
    #[error("`{program}` failed on atom `{}` ({status})", dir.display())]
    NixFailed {
        /// The program.
        program: &'static str,
        /// The atom directory.
        dir: PathBuf,
        /// Its exit status.
        status: std::process::ExitStatus,
    },
}

impl Classify for Error {
    /// Reading the atom or the cache, or hashing it, is the environment; everything else
    /// (no atom, no Nix, a bad configuration, a failed evaluation) is the user's input.
    fn kind(&self) -> Kind {
        match self {
            Error::Io(_) | Error::Run { .. } | Error::Hash { .. } => Kind::Environment,
            Error::Lock(error) => error.kind(),
            Error::Manifest(error) => error.kind(),
            Error::Cache(error) => error.kind(),
            Error::Locked(error) => error.kind(),
            Error::OverrideInput(error) => error.kind(),
            Error::Settings(error) => error.kind(),
            _ => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NoManifest { .. } => {
                Some("run eka in an atom's directory or pass it with `-C <dir>`".into())
            }
            Error::NixMissing { .. } => Some(
                "install Nix, e.g. the Debian package `nix-bin` (`apt-get install nix-bin`)".into(),
            ),
            Error::Setting { .. } => Some(
                "pass `--set key=value` (the value is parsed as JSON, else taken as a string); \
                 a `--config` file must hold a JSON object"
                    .into(),
            ),
            Error::Attr { .. } => Some("use dot-separated attribute names: `a.b.c`".into()),
            Error::Lock(error) => error.hint(),
            Error::Manifest(error) => error.hint(),
            Error::Cache(error) => error.hint(),
            Error::Locked(error) => error.hint(),
            Error::OverrideInput(error) => error.hint(),
            Error::Settings(error) => error.hint(),
            Error::OverrideSyntax { option, .. } => Some(format!(
                "pass `{option} {}`",
                if *option == "--override-atom" {
                    "LABEL=DIR"
                } else {
                    "NAME=URL|DIR"
                }
            )),
            Error::UnknownOverride { known, .. } if known.is_empty() => {
                Some("the lock has none: run `eka resolve` first".into())
            }
            Error::UnknownOverride { known, .. } => {
                Some(format!("the lock has `{}`", known.join("`, `")))
            }
            Error::NixFailed { .. } => Some(
                "the evaluation is pure: only the atom, its `atom.lock` pins and the \
                 configuration can be read; run `eka resolve` if the lock is stale"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// Build the configuration: the JSON object in `file` (if any), then each `key=value`
/// of `settings` (the value parsed as JSON, or else taken as a string) set on top.
pub fn load_config(file: Option<&Path>, settings: &[String]) -> Result<Value, Error> {
    let mut config = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
                path: path.to_owned(),
                source,
            })?;
            serde_json::from_str(&text).map_err(|source| Error::ConfigJson {
                path: path.to_owned(),
                source,
            })?
        }
        None => Value::Object(serde_json::Map::new()),
    };
    let Value::Object(object) = &mut config else {
        return Err(Error::Setting {
            setting: file.map(|p| p.display().to_string()).unwrap_or_default(),
        });
    };
    for setting in settings {
        let Some((key, value)) = setting.split_once('=').filter(|(key, _)| !key.is_empty()) else {
            return Err(Error::Setting {
                setting: setting.clone(),
            });
        };
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        object.insert(key.to_owned(), value);
    }
    Ok(config)
}

/// The canonical JSON text of a value: no whitespace, object keys sorted by their UTF-8
/// bytes, strings and numbers as `serde_json` writes them.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(object) => {
            let mut entries: Vec<(&String, &Value)> = object.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (index, (key, item)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// The configuration hash: `sha256:` and the lowercase hex sha256 of the canonical JSON.
pub fn config_hash(canonical: &str) -> String {
    // Hashing from memory cannot fail.
    let hash = crate::flat_hash(canonical.as_bytes())
        .map(|hash| hash.to_hex())
        .unwrap_or_default();
    format!("sha256:{hash}")
}

/// A Nix string literal holding `text`.
pub fn nix_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' if chars.peek() == Some(&'{') => out.push_str("\\$"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Nix expression for `path` added to the store and pinned by its NAR hash.
fn pinned(path: &Path, name: &str) -> Result<String, Error> {
    let hash = crate::nar::hash_path(path).map_err(|source| Error::Hash {
        path: path.to_owned(),
        source,
    })?;
    Ok(format!(
        "(builtins.path {{ path = /. + {}; name = {}; sha256 = {}; }})",
        nix_string(&path.display().to_string()),
        nix_string(name),
        nix_string(&hash.to_sri()),
    ))
}

/// Write the embedded library to `<cache>/nix/<hash of its files>/` (once) and return
/// that directory.
pub fn materialise_library(cache: &Path) -> Result<PathBuf, Error> {
    let mut all = String::new();
    for (name, text) in LIBRARY {
        let _ = write!(all, "{}\0{name}\0{text}", text.len());
    }
    let digest = config_hash(&all);
    let short = digest
        .trim_start_matches("sha256:")
        .get(..16)
        .unwrap_or("0");
    let dir = cache.join("nix").join(short);
    if dir.join("default.nix").is_file() {
        return Ok(dir);
    }
    let parent = cache.join("nix");
    fs::create_dir_all(&parent)?;
    let staging = parent.join(format!(".{short}.{}.tmp", std::process::id()));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging)?;
    for (name, text) in LIBRARY {
        let path = staging.join(name);
        fs::write(&path, text)?;
    }
    if let Err(error) = fs::rename(&staging, &dir) {
        let _ = fs::remove_dir_all(&staging);
        // Another eka may have won the race.
        if !dir.join("default.nix").is_file() {
            return Err(Error::Io(error));
        }
    }
    Ok(dir)
}

/// Copy `from` to `to` recursively, skipping `.git` and keeping symlinks as symlinks.
fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_name() == ".git" {
            continue;
        }
        let source = entry.path();
        let target = to.join(entry.file_name());
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            let link = fs::read_link(&source)?;
            fs::os::unix::fs::symlink(link, &target)?;
        } else if kind.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            fs::copy(&source, &target)?;
        }
    }
    Ok(())
}

/// `value."a"."b"` for `a.b`.
fn select(attr: Option<&str>) -> Result<String, Error> {
    let mut out = String::from("value");
    let Some(attr) = attr.filter(|attr| !attr.is_empty() && *attr != ".") else {
        return Ok(out);
    };
    for part in attr.split('.') {
        if part.is_empty() {
            return Err(Error::Attr {
                attr: attr.to_owned(),
            });
        }
        out.push('.');
        out.push_str(&nix_string(part));
    }
    Ok(out)
}

/// Removes the staging directory when dropped.
#[derive(Debug)]
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Split `NAME=VALUE` given to `option`.
fn split_override<'a>(option: &'static str, setting: &'a str) -> Result<(&'a str, &'a str), Error> {
    setting
        .split_once('=')
        .filter(|(name, value)| !name.is_empty() && !value.is_empty())
        .ok_or_else(|| Error::OverrideSyntax {
            option,
            setting: setting.to_owned(),
        })
}

/// The refusal of `name`, not one of `known` (sorted and deduplicated in the hint).
fn unknown_override(option: &'static str, name: &str, mut known: Vec<String>) -> Error {
    known.sort();
    known.dedup();
    Error::UnknownOverride {
        option,
        name: name.to_owned(),
        known,
    }
}

/// Copy the file or directory `path` (named by `option`) into `staging` as `name`, and
/// return the expression pinning the copy.
fn pinned_copy(
    option: &'static str,
    path: &Path,
    staging: &Path,
    name: &str,
) -> Result<String, Error> {
    let target = staging.join(name);
    if path.is_dir() {
        copy_tree(path, &target)?;
    } else if path.is_file() {
        fs::copy(path, &target)?;
    } else {
        return Err(Error::OverridePath {
            option,
            path: path.to_owned(),
        });
    }
    pinned(&target, "source")
}

/// One attribute of a Nix attribute set: its name and its value's expression.
type Binding = (String, String);

/// A Nix attribute set `{ "key" = value; ... }`.
fn attrs(entries: &[Binding]) -> String {
    let mut out = String::from("{");
    for (key, value) in entries {
        let _ = write!(out, " {} = {value};", nix_string(key));
    }
    out.push_str(" }");
    out
}

/// Fetch and check every locked atom not overridden ([`verify::locked`]) and return
/// `sources`: by atom id, the cache's atom store and the ref keeping its commit.
fn checked_sources(
    options: &Options,
    lock: &atom::lock::Lockfile,
    overridden: &[String],
    reporter: &dyn Reporter,
) -> Result<Vec<(String, String)>, Error> {
    let atoms: Vec<&atom::lock::LockedAtom> = lock
        .atoms
        .iter()
        .filter(|atom| !overridden.contains(&atom.label.to_string()))
        .collect();
    if atoms.is_empty() {
        return Ok(Vec::new());
    }
    let cache = atom::store::cache::Cache::open(&options.cache)?;
    let mut fetched =
        verify::locked::fetch_atoms(&atoms, &cache, options.offline, reporter).map_err(Box::new)?;
    fetched.check_all(reporter).map_err(Box::new)?;
    // Writers of the atom store hold the cache's lock.
    let _lock = cache.lock()?;
    let url = format!(
        "file://{}",
        fs::canonicalize(fetched.repo().path())?.display()
    );
    (0..fetched.len())
        .map(|index| {
            let reference = fetched.keep(index).map_err(Box::new)?;
            Ok((
                fetched.atom(index).id.to_string(),
                format!(
                    "{{ url = {}; ref = {}; }}",
                    nix_string(&url),
                    nix_string(&reference)
                ),
            ))
        })
        .collect()
}

/// `--override-atom LABEL=DIR`: by atom id, `{ path = <pinned copy of DIR>; }`.
fn atom_overrides(
    options: &Options,
    lock: &atom::lock::Lockfile,
    staging: &Path,
    used: &mut Vec<Override>,
) -> Result<(Vec<String>, Vec<Binding>), Error> {
    const OPTION: &str = "--override-atom";
    let mut labels = Vec::new();
    let mut sources = Vec::new();
    for (index, setting) in options.override_atoms.iter().enumerate() {
        let (label, dir) = split_override(OPTION, setting)?;
        if !lock.atoms.iter().any(|atom| atom.label.as_str() == label) {
            let known = lock.atoms.iter().map(|atom| atom.label.to_string());
            return Err(unknown_override(OPTION, label, known.collect()));
        }
        let path = options.dir.join(dir);
        let source = pinned_copy(OPTION, &path, staging, &format!("override-atom-{index}"))?;
        for atom in lock
            .atoms
            .iter()
            .filter(|atom| atom.label.as_str() == label)
        {
            sources.push((atom.id.to_string(), format!("{{ path = {source}; }}")));
        }
        labels.push(label.to_owned());
        used.push(Override {
            what: "atom",
            name: label.to_owned(),
            from: path.display().to_string(),
        });
    }
    Ok((labels, sources))
}

/// The local path an `--override-input` value names: a path, or a `file://` URL of a
/// directory. Any other URL (a `file://` tarball included) is locked anew.
fn local_path(value: &str) -> Option<&str> {
    match value.split_once("://") {
        Some(("file", path)) if Path::new(path).is_dir() => Some(path),
        Some(_) => None,
        None => Some(value),
    }
}

/// `--override-input NAME=URL|DIR`: by name, the fetched input (a URL is locked anew,
/// the way the manifest's input is, and not written).
fn input_overrides(
    options: &Options,
    lock: &atom::lock::Lockfile,
    staging: &Path,
    used: &mut Vec<Override>,
) -> Result<Vec<(String, String)>, Error> {
    const OPTION: &str = "--override-input";
    let mut inputs = Vec::new();
    for (index, setting) in options.override_inputs.iter().enumerate() {
        let (name, value) = split_override(OPTION, setting)?;
        let Some(entry) = lock.nix.iter().find(|input| input.name.as_str() == name) else {
            let known = lock.nix.iter().map(|input| input.name.to_string());
            return Err(unknown_override(OPTION, name, known.collect()));
        };
        let (expression, from) = match local_path(value) {
            Some(path) => {
                let path = options.dir.join(path);
                let name = format!("override-input-{index}");
                let expression = pinned_copy(OPTION, &path, staging, &name)?;
                (expression, path.display().to_string())
            }
            None => (locked_url(options, entry, value)?, value.to_owned()),
        };
        inputs.push((name.to_owned(), expression));
        used.push(Override {
            what: "Nix input",
            name: name.to_owned(),
            from,
        });
    }
    Ok(inputs)
}

/// Lock the input `name` at `url` instead of its locked URL, the same kind as its lock
/// entry (a `git` input follows the manifest's ref or version, else its locked ref);
/// the expression fetching that pin.
fn locked_url(
    options: &Options,
    entry: &atom::lock::LockedNixInput,
    url: &str,
) -> Result<String, Error> {
    use atom::{
        lock::NixKind,
        manifest::{GitSelector, NixFetch, NixInput},
    };
    let url = url.to_owned();
    let fetch = match entry.kind {
        NixKind::Git => {
            let manifest = atom::manifest::Manifest::read(options.dir.join("atom.toml"))?;
            let selector = match manifest.deps.direct.nix.get(&entry.name) {
                Some(NixInput {
                    fetch: NixFetch::Git { selector, .. },
                    ..
                }) => selector.clone(),
                _ => GitSelector::Ref(entry.reference.clone().unwrap_or_else(|| "HEAD".into())),
            };
            NixFetch::Git { url, selector }
        }
        NixKind::Url => NixFetch::Url(url),
        NixKind::Tar => NixFetch::Tar(url),
        NixKind::Build => NixFetch::Build(url),
    };
    let input = NixInput {
        fetch,
        flake: entry.flake,
    };
    let cache = atom::store::cache::Cache::open(&options.cache)?;
    let locked = crate::input::lock_one(&entry.name, &input, &cache).map_err(Box::new)?;
    let text = atom::lock::Lockfile {
        atoms: Vec::new(),
        nix: vec![locked],
        follows: Vec::new(),
    }
    .to_string();
    Ok(format!(
        "(eka.fetchNixInput (builtins.head (eka.parseLock {}).nix))",
        nix_string(&text)
    ))
}

/// An atom staged for Nix, its locked atoms checked: what [`Prepared::run`] evaluates.
#[derive(Debug)]
pub struct Prepared {
    /// The overrides in use (for the caller to warn about before Nix runs).
    pub overrides: Vec<Override>,
    dir: PathBuf,
    mode: Mode,
    expression: String,
    config_hash: String,
    settings: crate::settings::Settings,
    _staging: Staging,
}

/// Stage the atom at `options.dir` for Nix: fetch and check every locked atom
/// ([`verify::locked`], a `Fetching` and a `Checking` step on `reporter`; a refused
/// atom is an error and Nix does not run), apply the overrides and write the
/// expression, which reads every locked atom from the cache's atom store, by its locked
/// commit, and nothing from the mirrors.
pub fn prepare(options: &Options, reporter: &dyn Reporter) -> Result<Prepared, Error> {
    options.settings.check()?;
    let dir = fs::canonicalize(&options.dir)?;
    if !dir.join("atom.toml").is_file() {
        return Err(Error::NoManifest { dir });
    }
    let selection = select(options.attr.as_deref())?;
    let lock_path = dir.join(atom::lock::FILE_NAME);
    let lock = if lock_path.is_file() {
        atom::lock::Lockfile::read(&lock_path)?
    } else {
        atom::lock::Lockfile::default()
    };
    let library = materialise_library(&options.cache)?;
    let stage_root = options.cache.join("eval");
    fs::create_dir_all(&stage_root)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.subsec_nanos())
        .unwrap_or(0);
    let staging = Staging(stage_root.join(format!("{}-{nanos}", std::process::id())));
    fs::create_dir_all(&staging.0)?;
    let mut overrides = Vec::new();
    let (overridden, mut sources) = atom_overrides(options, &lock, &staging.0, &mut overrides)?;
    let inputs = input_overrides(options, &lock, &staging.0, &mut overrides)?;
    sources.extend(checked_sources(options, &lock, &overridden, reporter)?);
    let atom_copy = staging.0.join("atom");
    copy_tree(&dir, &atom_copy)?;

    let canonical = canonical_json(&options.config);
    let hash = config_hash(&canonical);
    let expression = format!(
        "let\n  eka = import {};\n  value = eka.importAtomWith {{\n    dir = {};\n    \
         config = builtins.fromJSON {};\n    configHash = {};\n    sources = {};\n    \
         nixInputs = {};\n  }};\nin {selection}\n",
        pinned(&library, "eka-nix")?,
        pinned(&atom_copy, "source")?,
        nix_string(&canonical),
        nix_string(&hash),
        attrs(&sources),
        attrs(&inputs),
    );
    Ok(Prepared {
        overrides,
        dir,
        mode: options.mode,
        expression,
        config_hash: hash,
        settings: options.settings.clone(),
        _staging: staging,
    })
}

impl Prepared {
    /// Run Nix on the prepared expression: an `Evaluating` or `Building` step without a
    /// total on `reporter`.
    pub fn run(self, reporter: &dyn Reporter) -> Result<Outcome, Error> {
        let program = self.mode.program();
        let mut command = Command::new(program);
        match self.mode {
            Mode::Eval => command.args(["--eval", "--strict", "--json", "--read-write-mode"]),
            Mode::Build => command.arg("--no-out-link"),
        };
        // The settings go first: nothing they say can undo `pure-eval`.
        command
            .args(self.settings.arguments())
            .args(["--option", "pure-eval", "true", "-E", &self.expression])
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        tracing::info!(program, expression = %self.expression, "running nix");
        let verb = match self.mode {
            Mode::Eval => "Evaluating",
            Mode::Build => "Building",
        };
        let step = Step::begin(reporter, verb, None);
        let output = command.output().map_err(|error| {
            if error.kind() == io::ErrorKind::NotFound {
                Error::NixMissing { program }
            } else {
                Error::Run {
                    program,
                    source: error,
                }
            }
        })?;
        drop(step);
        if !output.status.success() {
            return Err(Error::NixFailed {
                program,
                dir: self.dir.clone(),
                status: output.status,
            });
        }
        Ok(Outcome {
            output: String::from_utf8_lossy(&output.stdout).trim().to_owned(),
            config_hash: self.config_hash.clone(),
            expression: self.expression.clone(),
        })
    }
}

/// [`prepare`] and [`Prepared::run`] (the overrides in use are not reported).
pub fn run(options: &Options, reporter: &dyn Reporter) -> Result<Outcome, Error> {
    prepare(options, reporter)?.run(reporter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_and_drops_whitespace() {
        let value: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": 1, "a": "x"}], "a": null }"#).unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":null,"b":[1,{"a":"x","z":1}]}"#
        );
        assert_eq!(
            config_hash("{}"),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn settings_override_the_file_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.json");
        std::fs::write(&file, r#"{"a": 1, "b": true}"#).unwrap();
        let config = load_config(Some(&file), &["a=[2]".into(), "s=text".into()]).unwrap();
        assert_eq!(canonical_json(&config), r#"{"a":[2],"b":true,"s":"text"}"#);
        assert!(matches!(
            load_config(None, &["novalue".into()]),
            Err(Error::Setting { .. })
        ));
        std::fs::write(&file, "[1]").unwrap();
        assert!(matches!(
            load_config(Some(&file), &[]),
            Err(Error::Setting { .. })
        ));
    }

    #[test]
    fn a_bad_json_configuration_names_the_file_and_gives_its_cause_once() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("c.json");
        std::fs::write(&file, "{ nope").unwrap();
        let error = load_config(Some(&file), &[]).unwrap_err();
        let message = error.to_string();
        let cause = std::error::Error::source(&error).unwrap().to_string();
        assert!(message.contains("c.json"), "{message}");
        // The printer shows the source as its own `caused by:` line.
        assert!(!message.contains(&cause), "{message} repeats {cause}");
    }

    #[test]
    fn strings_and_selections_are_quoted() {
        assert_eq!(nix_string("a\"${b}$c\\"), r#""a\"\${b}$c\\""#);
        assert_eq!(select(Some("a.b")).unwrap(), r#"value."a"."b""#);
        assert_eq!(select(None).unwrap(), "value");
        assert!(select(Some("a..b")).is_err());
    }
}
