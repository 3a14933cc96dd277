//! The user configuration, `eka.toml`.
//!
//! [`Config`] is the merged view eka works with. [`Config::load`] builds it from, in
//! increasing priority:
//!
//! 1. built-ins: the aliases in [`crate::uri::BUILTIN_ALIASES`], the cache at
//!    `$XDG_CACHE_HOME/eka`;
//! 2. the user file `$XDG_CONFIG_HOME/eka/eka.toml` (or the file named by `EKA_CONFIG`,
//!    which must then exist);
//! 3. the project file `eka.toml` in the project directory (the set root), if any;
//! 4. the environment: `EKA_CACHE_DIR` (cache directory), `EKA_SIGNING_KEY` (signing key),
//!    `EKA_NET_TIMEOUT` (network deadline in seconds).
//!
//! [`Config::load_from`] takes the same inputs explicitly ([`Sources`]), for tests and
//! embedders. A file's errors are [`Located`]: they name the file, line and column.
//!
//! ```toml
//! cache = "~/.cache/eka"            # relative paths are relative to this file
//!
//! [aliases]
//! work = "git@git.example.com:"     # `work:team/repo::label`
//! mine = "gh:my-name/"              # an expansion may start with another alias
//!
//! [signing]
//! key = "~/.ssh/id_ed25519"         # private key for `eka publish --sign`
//!
//! [network]
//! timeout = 30                      # seconds a network operation may go without progress
//!
//! [mirrors]                         # fetch a set named by the key URL from these instead
//! "https://origin.example/set.git" = ["https://git.internal/set.git"]
//!
//! [trust.company]                   # a set name from `[package.sets]` or a set URL
//! allowed_signers = ["alice@example.com ssh-ed25519 AAAAC3Nza..."]
//! revoked_keys = ["ssh-ed25519 AAAAC3Nzb...", "revoked.keys"]   # key lines or files
//! ```
//!
//! Two trust entries must not name one set ([`check_one_entry_per_set`], once the set
//! names and URLs are resolved).
//!
//! ```
//! use atom::config::{Config, Sources};
//!
//! let env = |name: &str| (name == "EKA_CACHE_DIR").then(|| "/tmp/eka-cache".to_owned());
//! let sources = Sources {
//!     user_file: None,
//!     project_file: None,
//!     default_cache: "/home/me/.cache/eka".into(),
//!     home: None,
//!     env: &env,
//! };
//! let config = Config::load_from(&sources).unwrap();
//! assert_eq!(config.cache, std::path::Path::new("/tmp/eka-cache"));
//! assert_eq!(config.aliases.get("gh"), Some("https://github.com/"));
//! assert_eq!(config.network_timeout, std::time::Duration::from_secs(30));
//! ```

use std::{
    collections::{BTreeMap, BTreeSet},
    ops::Range,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use toml::Spanned;

use crate::{
    Label,
    diagnostic::Located,
    error::{Classify, Kind},
    store::git::{DEFAULT_TIMEOUT_SECONDS, TIMEOUT_VARIABLE},
    uri::{self, SetUrl},
};

/// The file name of the configuration, in the user's config directory and in projects.
pub const FILE_NAME: &str = "eka.toml";

/// The environment variable naming the user file (instead of the XDG location).
pub const ENV_CONFIG: &str = "EKA_CONFIG";
/// The environment variable overriding the cache directory.
pub const ENV_CACHE_DIR: &str = "EKA_CACHE_DIR";
/// The environment variable overriding the signing key.
pub const ENV_SIGNING_KEY: &str = "EKA_SIGNING_KEY";
/// The environment variable overriding the network deadline (seconds).
pub const ENV_NET_TIMEOUT: &str = TIMEOUT_VARIABLE;

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration file exists (or is required) but cannot be read; the I/O error
    /// names it.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A configuration file is not valid; the diagnostic points at the fault.
    #[error(transparent)]
    Invalid(Box<Located>),
    /// The home or XDG directories cannot be determined.
    #[error("cannot find the home directory: {reason}")]
    NoHome {
        /// Why.
        reason: String,
    },
    /// An `EKA_*` environment variable holds an unusable value.
    #[error("environment variable `{name}` is invalid: {reason}")]
    InvalidEnv {
        /// The variable.
        name: String,
        /// Why.
        reason: String,
    },
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Invalid(_) | Error::InvalidEnv { .. } => Kind::Input,
            Error::Io(_) | Error::NoHome { .. } => Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Invalid(located) => located.hint(),
            Error::Io(_) => Some("check the path, or unset `EKA_CONFIG`".to_owned()),
            Error::NoHome { .. } => {
                Some("set `HOME` or `XDG_CONFIG_HOME` and `XDG_CACHE_HOME`".to_owned())
            }
            Error::InvalidEnv { name, .. } if name == ENV_NET_TIMEOUT => Some(format!(
                "set `{ENV_NET_TIMEOUT}` to a whole number of seconds above 0, e.g. `30`, or unset it"
            )),
            Error::InvalidEnv { .. } => None,
        }
    }
}

/// The merged configuration.
///
/// - `aliases`: URI aliases (`[aliases]` name → expansion, merged over the built-ins; a
///   later file overrides a name).
/// - `cache`: where eka keeps fetched sets (`cache = "path"`; `EKA_CACHE_DIR`).
/// - `signing`: the key `eka publish --sign` uses (`[signing] key = "path"`;
///   `EKA_SIGNING_KEY`).
/// - `trust`: per set (a name from `[package.sets]` or a set URL), the OpenSSH
///   `allowed_signers` lines whose keys may sign its atoms and the keys revoked for it
///   (`[trust.<set>] allowed_signers = [...]`, `revoked_keys = [...]`). A later file
///   replaces a set's whole entry.
/// - `mirrors`: per set URL, the URLs eka fetches the set from instead, wherever a
///   manifest or a lock names it (`[mirrors] "url" = ["url", ...]`; list the original
///   too to keep it). The URLs listed are configured for that set: they may speak for
///   its set root (see [`Mirrors`]). A later file replaces a URL's whole entry.
/// - `network_timeout`: how long a network operation may go without progress before it
///   is stopped (`[network] timeout = <seconds>`; `EKA_NET_TIMEOUT`; 30 s by default).
///
/// Paths in a file are relative to that file's directory; a leading `~/` is the home
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// URI aliases, built-ins included.
    pub aliases: uri::Aliases,
    /// The cache directory.
    pub cache: PathBuf,
    /// The signing setup, if any.
    pub signing: Option<Signing>,
    /// Trust policy per set name or set URL.
    pub trust: BTreeMap<String, Trust>,
    /// The network deadline (see [`crate::store::git::network_timeout`]).
    pub network_timeout: Duration,
    /// Where sets are fetched from instead of the URLs manifests name.
    pub mirrors: Mirrors,
}

/// The `[mirrors]` table: per set URL, the URLs to fetch the set from instead.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mirrors {
    redirects: BTreeMap<SetUrl, Vec<SetUrl>>,
}

impl Mirrors {
    /// A table from its entries (an empty list is kept: the set is then never fetched).
    pub fn new(redirects: BTreeMap<SetUrl, Vec<SetUrl>>) -> Mirrors {
        Mirrors { redirects }
    }

    /// The URLs to fetch the set named `url` from: its `[mirrors]` entry, or `url` itself.
    pub fn for_url(&self, url: &SetUrl) -> Vec<SetUrl> {
        self.redirects
            .get(url)
            .cloned()
            .unwrap_or_else(|| vec![url.clone()])
    }

    /// The URLs to fetch a set named by `urls` from, in order, each once.
    pub fn expand(&self, urls: &[SetUrl]) -> Vec<SetUrl> {
        let mut expanded: Vec<SetUrl> = Vec::new();
        for url in urls {
            for mirror in self.for_url(url) {
                if !expanded.contains(&mirror) {
                    expanded.push(mirror);
                }
            }
        }
        expanded
    }

    /// Whether `url` has an entry (the consumer configured where it is fetched from).
    pub fn redirects(&self, url: &SetUrl) -> bool {
        self.redirects.contains_key(url)
    }

    /// `lock` with every atom's mirrors replaced by the URLs to fetch them from (for
    /// fetching only: a lock keeps the URLs manifests name).
    pub fn redirect_lock(&self, lock: &crate::lock::Lockfile) -> crate::lock::Lockfile {
        let mut redirected = lock.clone();
        for atom in &mut redirected.atoms {
            atom.mirrors = self.expand(&atom.mirrors);
        }
        redirected
    }

    /// Every entry: a set URL and the URLs it is fetched from.
    pub fn iter(&self) -> impl Iterator<Item = (&SetUrl, &[SetUrl])> {
        self.redirects
            .iter()
            .map(|(url, mirrors)| (url, mirrors.as_slice()))
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.redirects.is_empty()
    }
}

/// How atoms are signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signing {
    /// The private SSH key file.
    pub key: PathBuf,
}

/// Who may sign a set's atoms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trust {
    /// Lines in OpenSSH `allowed_signers` format (`principals [options] keytype key`).
    pub allowed_signers: Vec<String>,
    /// Keys refused even when an allowed signers line lists them.
    pub revoked_keys: Vec<RevokedKeys>,
    /// Where the entry is written.
    pub origin: Origin,
}

/// An entry of `revoked_keys`: one public key written inline, or a file of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokedKeys {
    /// A public key line, `keytype base64 [comment]` (the entry starts with a key type).
    Line(String),
    /// A file of public key lines (any other entry: a path, relative to its `eka.toml`).
    File(PathBuf),
}

/// Where a `[trust.<set>]` entry is written, for errors that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The configuration file.
    pub path: PathBuf,
    /// The 1-based line of the entry's set name.
    pub line: usize,
    /// The set name located in its file, for diagnostics (its message is empty).
    located: Box<Located>,
    /// Load order: the file's index and the name's byte offset.
    order: (usize, usize),
}

impl Origin {
    fn error(&self, message: String, hint: String) -> Error {
        let mut located = self.located.clone();
        located.message = message;
        located.hint = Some(hint);
        Error::Invalid(located)
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}:{}", self.path.display(), self.line)
    }
}

/// Refuse two trust entries that name one set: a set name and one of its URLs, two URLs
/// of one set, … `sets_of` gives what an entry's name stands for (set roots, say: any
/// ordered key). The error is located at the later entry and names the earlier one's
/// file and line.
pub fn check_one_entry_per_set<K: Ord>(
    trust: &BTreeMap<String, Trust>,
    mut sets_of: impl FnMut(&str) -> BTreeSet<K>,
) -> Result<(), Error> {
    let mut claimed: BTreeMap<K, &str> = BTreeMap::new();
    for (name, entry) in trust {
        for set in sets_of(name) {
            let Some(other) = claimed.insert(set, name) else {
                continue;
            };
            let Some(other_entry) = trust.get(other).filter(|_| other != name) else {
                continue;
            };
            let ((first, first_entry), (second, second_entry)) =
                if other_entry.origin.order <= entry.origin.order {
                    ((other, other_entry), (name.as_str(), entry))
                } else {
                    ((name.as_str(), entry), (other, other_entry))
                };
            return Err(second_entry.origin.error(
                format!(
                    "{} names the same set as {} at `{}`",
                    entry_header(second),
                    entry_header(first),
                    first_entry.origin
                ),
                "keep one trust entry per set: merge their `allowed_signers` and \
                 `revoked_keys` into one and remove the other"
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

/// `[trust.name]`, or `[trust."url"]`, as the entry is written.
fn entry_header(name: &str) -> String {
    if Label::parse(name).is_ok() {
        format!("`[trust.{name}]`")
    } else {
        format!("`[trust.\"{name}\"]`")
    }
}

/// A configuration file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSource {
    /// Its path.
    pub path: PathBuf,
    /// Whether a missing file is an error (true when the user named it explicitly).
    pub required: bool,
}

/// The inputs of [`Config::load_from`].
pub struct Sources<'a> {
    /// The user file, if there is one to look for.
    pub user_file: Option<FileSource>,
    /// The project file, if there is one to look for.
    pub project_file: Option<FileSource>,
    /// The cache directory when nothing overrides it.
    pub default_cache: PathBuf,
    /// The home directory, for `~/` in paths.
    pub home: Option<PathBuf>,
    /// The environment.
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for Sources<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("user_file", &self.user_file)
            .field("project_file", &self.project_file)
            .field("default_cache", &self.default_cache)
            .field("home", &self.home)
            .finish_non_exhaustive()
    }
}

impl<'a> Sources<'a> {
    /// The usual sources: XDG directories (via `etcetera`), `EKA_CONFIG`, and
    /// `<project_dir>/eka.toml`, reading variables through `env`.
    pub fn from_environment(
        project_dir: Option<&Path>,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, Error> {
        use etcetera::BaseStrategy;
        let strategy = etcetera::choose_base_strategy().map_err(|error| Error::NoHome {
            reason: error.to_string(),
        })?;
        let user_file = match env(ENV_CONFIG).filter(|value| !value.is_empty()) {
            Some(path) => FileSource {
                path: PathBuf::from(path),
                required: true,
            },
            None => FileSource {
                path: strategy.config_dir().join("eka").join(FILE_NAME),
                required: false,
            },
        };
        Ok(Sources {
            user_file: Some(user_file),
            project_file: project_dir.map(|dir| FileSource {
                path: dir.join(FILE_NAME),
                required: false,
            }),
            default_cache: strategy.cache_dir().join("eka"),
            home: Some(strategy.home_dir().to_owned()),
            env,
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    aliases: BTreeMap<Spanned<String>, Spanned<String>>,
    cache: Option<Spanned<String>>,
    signing: Option<RawSigning>,
    #[serde(default)]
    trust: BTreeMap<Spanned<String>, RawTrust>,
    network: Option<RawNetwork>,
    #[serde(default)]
    mirrors: BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNetwork {
    timeout: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSigning {
    key: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    allowed_signers: Vec<Spanned<String>>,
    #[serde(default)]
    revoked_keys: Vec<Spanned<String>>,
}

/// A read file, kept for locating errors found after merging.
struct Loaded {
    path: PathBuf,
    text: String,
}

impl Loaded {
    fn error(&self, span: Range<usize>, message: String, hint: Option<String>) -> Error {
        Error::Invalid(Box::new(Located::new(
            &self.path,
            &self.text,
            Some(span),
            message,
            hint,
        )))
    }
}

impl Config {
    /// The URLs to fetch the set named `url` from (its `[mirrors]` entry, or itself).
    pub fn mirrors_for(&self, url: &SetUrl) -> Vec<SetUrl> {
        self.mirrors.for_url(url)
    }

    /// Load the configuration for a project at `project_dir` (or none) from the real
    /// environment.
    pub fn load(project_dir: Option<&Path>) -> Result<Config, Error> {
        let env = |name: &str| std::env::var(name).ok();
        Config::load_from(&Sources::from_environment(project_dir, &env)?)
    }

    /// Load the configuration from explicit sources.
    pub fn load_from(sources: &Sources<'_>) -> Result<Config, Error> {
        let mut config = Config {
            aliases: uri::Aliases::builtin(),
            cache: sources.default_cache.clone(),
            signing: None,
            trust: BTreeMap::new(),
            network_timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECONDS),
            mirrors: Mirrors::default(),
        };
        let mut files = Vec::new();
        // For each user-defined alias: the file index and span of its last definition.
        let mut alias_origin: BTreeMap<String, (usize, Range<usize>)> = BTreeMap::new();
        for source in [&sources.user_file, &sources.project_file]
            .into_iter()
            .flatten()
        {
            let Some(loaded) = read(source)? else {
                continue;
            };
            let raw = parse(&loaded)?;
            let index = files.len();
            config.apply(
                raw,
                &loaded,
                index,
                sources.home.as_deref(),
                &mut alias_origin,
            )?;
            files.push(loaded);
        }
        for (name, (index, span)) in &alias_origin {
            if let Err(error) = config.aliases.check(name)
                && let Some(file) = files.get(*index)
            {
                let hint = error.hint();
                return Err(file.error(span.clone(), error.to_string(), hint));
            }
        }
        if let Some(cache) = env_value(sources, ENV_CACHE_DIR) {
            config.cache = PathBuf::from(cache);
        }
        if let Some(key) = env_value(sources, ENV_SIGNING_KEY) {
            config.signing = Some(Signing {
                key: PathBuf::from(key),
            });
        }
        if let Some(text) = env_value(sources, ENV_NET_TIMEOUT) {
            config.network_timeout = parse_env_timeout(&text)?;
        }
        if !config.cache.is_absolute() {
            return Err(Error::InvalidEnv {
                name: ENV_CACHE_DIR.to_owned(),
                reason: format!(
                    "the cache directory `{}` is not an absolute path",
                    config.cache.display()
                ),
            });
        }
        Ok(config)
    }

    /// Merge one parsed file into the configuration: each table in turn, in the order
    /// they have always been applied, so the first error found stays the same.
    fn apply(
        &mut self,
        raw: RawFile,
        file: &Loaded,
        index: usize,
        home: Option<&Path>,
        alias_origin: &mut BTreeMap<String, (usize, Range<usize>)>,
    ) -> Result<(), Error> {
        self.apply_aliases(raw.aliases, file, index, alias_origin)?;
        if let Some(cache) = raw.cache {
            self.cache = resolve_path(file, &cache, home)?;
        }
        if let Some(timeout) = raw.network.and_then(|network| network.timeout) {
            self.apply_network_timeout(&timeout, file)?;
        }
        if let Some(signing) = raw.signing {
            self.signing = Some(Signing {
                key: resolve_path(file, &signing.key, home)?,
            });
        }
        self.apply_mirrors(&raw.mirrors, file)?;
        for (set, trust) in raw.trust {
            self.apply_trust(set, trust, file, index, home)?;
        }
        Ok(())
    }

    /// Add the file's `[aliases]`, remembering where each was last defined so the
    /// expansion can be checked (and located) once every file is merged.
    fn apply_aliases(
        &mut self,
        aliases: BTreeMap<Spanned<String>, Spanned<String>>,
        file: &Loaded,
        index: usize,
        alias_origin: &mut BTreeMap<String, (usize, Range<usize>)>,
    ) -> Result<(), Error> {
        for (name, expansion) in aliases {
            if let Err(error) = self.aliases.insert(name.get_ref(), expansion.get_ref()) {
                let span = match error {
                    uri::Error::InvalidAliasName { .. } => name.span(),
                    _ => expansion.span(),
                };
                let hint = Some(
                    "alias names are lowercase letters, digits and `-`; expansions start with \
                     `https://`, `ssh://`, ..., `user@host:` or another alias"
                        .to_owned(),
                );
                return Err(file.error(span, error.to_string(), hint));
            }
            alias_origin.insert(name.into_inner(), (index, expansion.span()));
        }
        Ok(())
    }

    /// Set the network timeout from `[network] timeout`, refusing zero (no operation
    /// could ever finish).
    fn apply_network_timeout(
        &mut self,
        timeout: &Spanned<u64>,
        file: &Loaded,
    ) -> Result<(), Error> {
        if *timeout.get_ref() == 0 {
            return Err(file.error(
                timeout.span(),
                "`[network] timeout` must be above 0 seconds".to_owned(),
                Some("write a whole number of seconds, e.g. `timeout = 30`".to_owned()),
            ));
        }
        self.network_timeout = Duration::from_secs(*timeout.get_ref());
        Ok(())
    }

    /// Add the file's `[mirrors]` redirects, every URL checked and located when invalid.
    fn apply_mirrors(
        &mut self,
        mirrors: &BTreeMap<Spanned<String>, Vec<Spanned<String>>>,
        file: &Loaded,
    ) -> Result<(), Error> {
        for (url, mirrors) in mirrors {
            let key = mirror_url(file, url)?;
            let mirrors = mirrors
                .iter()
                .map(|mirror| mirror_url(file, mirror))
                .collect::<Result<Vec<_>, _>>()?;
            self.mirrors.redirects.insert(key, mirrors);
        }
        Ok(())
    }

    /// Add one `[trust.<set>]` table once its set, signer lines and revoked keys are
    /// checked, keeping where it was written so a later file's table can replace it and
    /// a failure can point at it.
    fn apply_trust(
        &mut self,
        set: Spanned<String>,
        trust: RawTrust,
        file: &Loaded,
        index: usize,
        home: Option<&Path>,
    ) -> Result<(), Error> {
        check_trusted_set(file, &set)?;
        check_allowed_signer_lines(file, &trust.allowed_signers)?;
        let revoked_keys = trust
            .revoked_keys
            .iter()
            .map(|entry| revoked_keys(file, entry, home))
            .collect::<Result<Vec<_>, _>>()?;
        let span = set.span();
        let located = Located::new(&file.path, &file.text, Some(span.clone()), "", None);
        let origin = Origin {
            path: file.path.clone(),
            line: located.line,
            located: Box::new(located),
            order: (index, span.start),
        };
        self.trust.insert(
            set.into_inner(),
            Trust {
                allowed_signers: trust
                    .allowed_signers
                    .into_iter()
                    .map(Spanned::into_inner)
                    .collect(),
                revoked_keys,
                origin,
            },
        );
        Ok(())
    }
}

/// Refuse a `[trust.<set>]` key that is neither a set name nor a set URL, since it
/// could never match a set and the trust would silently not apply.
fn check_trusted_set(file: &Loaded, set: &Spanned<String>) -> Result<(), Error> {
    if Label::parse(set.get_ref()).is_err() && uri::parse_set_url(set.get_ref()).is_err() {
        return Err(file.error(
            set.span(),
            format!("`{}` is neither a set name nor a set URL", set.get_ref()),
            Some(
                "write `[trust.<name>]` with a name from `[package.sets]`, or quote a URL: \
                 `[trust.\"https://host/set.git\"]`"
                    .to_owned(),
            ),
        ));
    }
    Ok(())
}

/// Refuse the first `allowed_signers` line `ssh-keygen` would not accept, located in
/// the file rather than failing later at verification.
fn check_allowed_signer_lines(file: &Loaded, lines: &[Spanned<String>]) -> Result<(), Error> {
    for line in lines {
        if let Err(reason) = check_allowed_signer(line.get_ref()) {
            return Err(file.error(
                line.span(),
                format!("invalid `allowed_signers` line: {reason}"),
                Some(
                    "write one OpenSSH allowed_signers line: `principals [options] \
                     keytype base64-key`, e.g. `me@example.com ssh-ed25519 AAAA...`"
                        .to_owned(),
                ),
            ));
        }
    }
    Ok(())
}

/// A set URL of `[mirrors]` (a key or a listed mirror), located when invalid.
fn mirror_url(file: &Loaded, value: &Spanned<String>) -> Result<SetUrl, Error> {
    uri::parse_set_url(value.get_ref()).map_err(|error| {
        file.error(
            value.span(),
            format!("invalid set URL in `[mirrors]`: {error}"),
            Some(
                "write full set URLs, e.g. `\"https://origin.example/set.git\" = \
                 [\"https://git.internal/set.git\"]`"
                    .to_owned(),
            ),
        )
    })
}

/// An entry of `revoked_keys`: a key line when it starts with a key type, else a path.
fn revoked_keys(
    file: &Loaded,
    entry: &Spanned<String>,
    home: Option<&Path>,
) -> Result<RevokedKeys, Error> {
    let text = entry.get_ref().trim();
    let starts_key = text
        .split_whitespace()
        .next()
        .is_some_and(|first| KEY_TYPES.contains(&first));
    if !starts_key {
        return resolve_path(file, entry, home).map(RevokedKeys::File);
    }
    let fields: Vec<&str> = text.split_whitespace().collect();
    line_characters(text)
        .and_then(|()| check_key(&fields, 0))
        .map_err(|reason| {
            file.error(
                entry.span(),
                format!("invalid `revoked_keys` entry: {reason}"),
                Some(
                    "write a public key line, `ssh-ed25519 AAAA... [comment]`, or the path of a \
                 file of such lines"
                        .to_owned(),
                ),
            )
        })?;
    Ok(RevokedKeys::Line(text.to_owned()))
}

/// `EKA_NET_TIMEOUT`: a whole number of seconds above 0.
fn parse_env_timeout(text: &str) -> Result<Duration, Error> {
    match text.trim().parse::<u64>() {
        Ok(seconds) if seconds > 0 => Ok(Duration::from_secs(seconds)),
        _ => Err(Error::InvalidEnv {
            name: ENV_NET_TIMEOUT.to_owned(),
            reason: format!("`{text}` is not a whole number of seconds above 0"),
        }),
    }
}

fn env_value(sources: &Sources<'_>, name: &str) -> Option<String> {
    (sources.env)(name).filter(|value| !value.is_empty())
}

fn read(source: &FileSource) -> Result<Option<Loaded>, Error> {
    match fs_err::read_to_string(&source.path) {
        Ok(text) => Ok(Some(Loaded {
            path: source.path.clone(),
            text,
        })),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && !source.required => Ok(None),
        Err(error) => Err(Error::Io(error)),
    }
}

fn parse(file: &Loaded) -> Result<RawFile, Error> {
    toml::from_str(&file.text).map_err(|error| {
        let message = error.message().trim_end().to_owned();
        let hint = unknown_field_hint(&message);
        Error::Invalid(Box::new(Located::new(
            &file.path,
            &file.text,
            error.span(),
            message,
            hint,
        )))
    })
}

/// For serde's "unknown field `x`, expected one of `a`, `b`": suggest the closest field.
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (field, expected) = rest.split_once('`')?;
    let allowed: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let closest = allowed
        .iter()
        .map(|name| (edit_distance(field, name), *name))
        .min()
        .filter(|(distance, _)| *distance <= 2)
        .map(|(_, name)| name);
    let listed = allowed
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(match closest {
        Some(name) => format!("did you mean `{name}`? allowed here: {listed}"),
        None if listed.is_empty() => "remove it".to_owned(),
        None => format!("allowed here: {listed}"),
    })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

fn resolve_path(
    file: &Loaded,
    value: &Spanned<String>,
    home: Option<&Path>,
) -> Result<PathBuf, Error> {
    let text = value.get_ref();
    if text.is_empty() {
        return Err(file.error(value.span(), "the path is empty".to_owned(), None));
    }
    if let Some(rest) = text.strip_prefix("~/") {
        return match home {
            Some(home) => Ok(home.join(rest)),
            None => Err(file.error(
                value.span(),
                "`~` cannot be expanded: the home directory is unknown".to_owned(),
                Some("write an absolute path".to_owned()),
            )),
        };
    }
    let path = Path::new(text);
    if path.is_absolute() {
        return Ok(path.to_owned());
    }
    let base = file.path.parent().unwrap_or(Path::new(""));
    Ok(base.join(path))
}

const KEY_TYPES: [&str; 8] = [
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
];

/// A light check of an OpenSSH `allowed_signers` line: principals, a known key type and a
/// base64 key after it.
fn check_allowed_signer(line: &str) -> Result<(), String> {
    line_characters(line)?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let Some(first) = fields.first() else {
        return Err("it is empty".to_owned());
    };
    if first.starts_with('#') {
        return Err("it is a comment".to_owned());
    }
    let Some(position) = fields.iter().position(|field| KEY_TYPES.contains(field)) else {
        return Err("it names no known key type (e.g. `ssh-ed25519`)".to_owned());
    };
    if position == 0 {
        return Err("it has no principals before the key type".to_owned());
    }
    check_key(&fields, position)
}

fn line_characters(line: &str) -> Result<(), String> {
    if line.chars().any(char::is_control) {
        return Err("it contains a line break or control character".to_owned());
    }
    Ok(())
}

/// The field after the key type at `position` is a base64 key.
fn check_key(fields: &[&str], position: usize) -> Result<(), String> {
    match fields.get(position + 1) {
        Some(key)
            if key
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')) =>
        {
            Ok(())
        }
        Some(_) => Err("the key after the key type is not base64".to_owned()),
        None => Err("the key after the key type is missing".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("cahce", "cache"), 2);
        assert_eq!(edit_distance("alias", "aliases"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn hint_lists_allowed_fields() {
        let hint = unknown_field_hint(
            "unknown field `cahce`, expected one of `aliases`, `cache`, `signing`, `trust`",
        );
        assert_eq!(
            hint.as_deref(),
            Some("did you mean `cache`? allowed here: `aliases`, `cache`, `signing`, `trust`")
        );
    }

    #[test]
    fn allowed_signer_lines() {
        assert!(check_allowed_signer("a@b ssh-ed25519 AAAAC3Nz").is_ok());
        assert!(check_allowed_signer("a@b namespaces=\"git\" ssh-ed25519 AAAA=").is_ok());
        assert!(check_allowed_signer("ssh-ed25519 AAAA").is_err());
        assert!(check_allowed_signer("a@b ssh-ed25519").is_err());
        assert!(check_allowed_signer("a@b rot13 AAAA").is_err());
        assert!(check_allowed_signer("").is_err());
    }
}
