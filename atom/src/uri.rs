//! Atom URIs, URI aliases and set URLs.
//!
//! An [`AtomUri`] names an atom the way a user types it: `[source]::label[@requirement]`.
//! The text is split on its **last** `::`; what follows is the label, optionally followed
//! by `@` and a semver requirement (absent means any version). What precedes it is the
//! [`Source`]:
//!
//! | source | meaning |
//! | --- | --- |
//! | empty (`::label`) | [`Source::Local`]: the set the manifest lives in |
//! | `name` (no `:`) | [`Source::Named`]: a set declared in the manifest's `[package.sets]` |
//! | `alias:rest` (one `:`) | an alias, expanded to `expansion + rest` (recursively) |
//! | `https://…`, `http://…`, `git://…`, `ssh://…`, `file:///…`, `user@host:path` | [`Source::Url`] |
//!
//! Aliases ([`Aliases`]) are expanded while parsing, so an [`AtomUri`] always holds the
//! full URL and its `Display` form round-trips without any alias table. Built in:
//! `gh` → `https://github.com/`, `gl` → `https://gitlab.com/`, `cb` →
//! `https://codeberg.org/`, `sh` → `https://git.sr.ht/`.
//!
//! A [`SetUrl`] is kept as typed but only after [`parse_set_url`] refused anything that
//! could turn into an option, a credential leak or a non-git transport once it is handed
//! to `git` or gix.
//!
//! ```
//! use atom::uri::{AtomUri, Source};
//!
//! let uri: AtomUri = "gh:owner/repo::hello@^1".parse().unwrap();
//! assert_eq!(uri.label.as_str(), "hello");
//! assert!(matches!(&uri.source, Source::Url(url) if url.as_str() == "https://github.com/owner/repo"));
//! assert_eq!(uri.to_string(), "https://github.com/owner/repo::hello@^1");
//! assert!("https://user:secret@host/x::hello".parse::<AtomUri>().is_err());
//! ```

use std::{collections::BTreeMap, fmt, str::FromStr};

use semver::VersionReq;

use crate::{
    Label,
    error::{Classify, Kind},
    label,
};

/// The URL schemes a set URL may use.
pub const SCHEMES: [&str; 5] = ["https", "http", "git", "ssh", "file"];

/// The longest chain of aliases expanded before giving up.
pub const MAX_ALIAS_DEPTH: usize = 16;

/// The longest alias name, in bytes.
pub const MAX_ALIAS_LEN: usize = 32;

/// Names that can never be aliases because they are, or were, URL schemes or git transports.
const RESERVED_ALIASES: [&str; 10] = [
    "https", "http", "git", "ssh", "file", "ext", "fd", "ftp", "ftps", "rsync",
];

/// The built-in aliases.
pub const BUILTIN_ALIASES: [(&str, &str); 4] = [
    ("gh", "https://github.com/"),
    ("gl", "https://gitlab.com/"),
    ("cb", "https://codeberg.org/"),
    ("sh", "https://git.sr.ht/"),
];

/// Why a URI, URL or alias was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The URL is malformed in a way the other variants do not name.
    #[error("`{url}` is not a valid set URL: {reason}")]
    InvalidUrl {
        /// The URL as given (after alias expansion).
        url: String,
        /// Why.
        reason: String,
    },
    /// The URL is empty.
    #[error("the set URL is empty")]
    EmptyUrl,
    /// The URL uses a scheme or git transport eka does not allow.
    #[error("`{url}` uses the unsupported scheme `{scheme}`")]
    UnsupportedScheme {
        /// The URL as given.
        url: String,
        /// The scheme (or transport helper) found.
        scheme: String,
    },
    /// The URL carries credentials.
    #[error("`{url}` contains credentials")]
    Credentials {
        /// The URL as given.
        url: String,
    },
    /// The URL, its user or its host starts with `-`, which git or ssh would read as an option.
    #[error("`{url}` has a part starting with `-`, which git would read as an option")]
    LeadingDash {
        /// The URL as given.
        url: String,
    },
    /// The text contains whitespace or a control character.
    #[error(
        "`{input}` contains {found:?} (U+{code:04X}); whitespace and control characters are not allowed"
    )]
    ForbiddenChar {
        /// The text as given.
        input: String,
        /// The character.
        found: char,
        /// Its code point.
        code: u32,
    },
    /// A `file:` URL without an absolute path.
    #[error("`{url}` is not a `file:///absolute/path` URL")]
    RelativeFilePath {
        /// The URL as given.
        url: String,
    },
    /// A bare file system path was given where a URL is expected.
    #[error("`{input}` is a path, not a set URL")]
    BarePath {
        /// The text as given.
        input: String,
    },
    /// The URL has no host.
    #[error("`{url}` has no host")]
    EmptyHost {
        /// The URL as given.
        url: String,
    },
    /// The URL has no repository path.
    #[error("`{url}` has no repository path")]
    EmptyPath {
        /// The URL as given.
        url: String,
    },
    /// The URI has no `::label` part.
    #[error("`{uri}` names no atom: `::label` is missing")]
    MissingLabel {
        /// The URI as given.
        uri: String,
    },
    /// The URI's label is empty.
    #[error("`{uri}` has an empty label")]
    EmptyLabel {
        /// The URI as given.
        uri: String,
    },
    /// The URI's label is not a valid label.
    #[error("`{uri}` has an invalid label: {reason}")]
    InvalidLabel {
        /// The URI as given.
        uri: String,
        /// Why the label is invalid (shown in the message, so not a `source`).
        reason: label::Error,
    },
    /// The version requirement after `@` is not a semver requirement.
    #[error("`{uri}` has an invalid version requirement `{requirement}`: {reason}")]
    InvalidRequirement {
        /// The URI as given.
        uri: String,
        /// The requirement text.
        requirement: String,
        /// The semver parser's reason.
        reason: String,
    },
    /// The set name before `::` is not a valid name.
    #[error("`{uri}` names the set `{name}`, which is not a valid set name: {reason}")]
    InvalidSetName {
        /// The URI as given.
        uri: String,
        /// The set name.
        name: String,
        /// Why (set names follow the label rules; shown in the message, so not a
        /// `source`).
        reason: label::Error,
    },
    /// The alias is not defined.
    #[error("`{input}` uses the unknown alias `{alias}`")]
    UnknownAlias {
        /// The text as given.
        input: String,
        /// The alias.
        alias: String,
        /// The aliases that are defined.
        known: Vec<String>,
    },
    /// Aliases expand into each other forever.
    #[error("alias cycle: {}", format_chain(.chain))]
    AliasCycle {
        /// The aliases in expansion order, ending with the first repeated one.
        chain: Vec<String>,
    },
    /// Aliases expand through too many steps.
    #[error("`{input}` expands through more than {MAX_ALIAS_DEPTH} aliases: {}", format_chain(.chain))]
    AliasTooDeep {
        /// The text as given.
        input: String,
        /// The aliases expanded so far.
        chain: Vec<String>,
    },
    /// An alias name is not acceptable.
    #[error("`{name}` is not a valid alias name: {reason}")]
    InvalidAliasName {
        /// The name.
        name: String,
        /// Why.
        reason: String,
    },
    /// An alias expansion is not acceptable.
    #[error("the expansion `{expansion}` of alias `{name}` is invalid: {reason}")]
    InvalidAliasExpansion {
        /// The alias name.
        name: String,
        /// The expansion.
        expansion: String,
        /// Why.
        reason: String,
    },
}

fn format_chain(chain: &[String]) -> String {
    chain
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(" -> ")
}

impl Classify for Error {
    /// Every URI error is the user's input being refused.
    fn kind(&self) -> Kind {
        Kind::Input
    }

    fn hint(&self) -> Option<String> {
        let text = match self {
            Error::UnsupportedScheme { .. } => {
                "use an `https://`, `http://`, `git://`, `ssh://`, `file:///` or `user@host:path` URL"
                    .to_owned()
            }
            Error::Credentials { .. } => {
                "remove the user name and password; use a git credential helper or an ssh key"
                    .to_owned()
            }
            Error::RelativeFilePath { .. } | Error::BarePath { .. } => {
                "write local sets as `file:///absolute/path`".to_owned()
            }
            Error::MissingLabel { .. } | Error::EmptyLabel { .. } => {
                "write `<source>::<label>`, e.g. `gh:owner/repo::label` or `::label` for the local set"
                    .to_owned()
            }
            Error::InvalidRequirement { .. } => {
                "write a semver requirement after `@`, e.g. `@^1.2` or `@~1.2.3`".to_owned()
            }
            Error::UnknownAlias { known, .. } => format!(
                "known aliases: {}; define more under `[aliases]` in `eka.toml`",
                known
                    .iter()
                    .map(|name| format!("`{name}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Error::AliasCycle { .. } | Error::AliasTooDeep { .. } => {
                "make one of these aliases expand to a URL under `[aliases]` in `eka.toml`"
                    .to_owned()
            }
            Error::InvalidSetName { .. } => {
                "declare the set under `[package.sets]` in `atom.toml` and use that name".to_owned()
            }
            _ => return None,
        };
        Some(text)
    }
}

/// A validated URL of a set's repository (or a mirror of it), kept as typed.
///
/// Accepted forms: `https://host/path`, `http://host/path`, `git://host/path`,
/// `ssh://[user@]host[:port]/path`, `file:///absolute/path` and scp-like
/// `user@host:path` (or `host.domain:path`). Refused: other schemes and git transport
/// helpers (`ext::`, `fd::`), credentials (any user in `http(s)://`/`git://`, a password
/// anywhere), a leading `-` in the URL, user or host (git/ssh would read an option),
/// whitespace and control characters, queries and fragments, an empty host or path.
///
/// Callers hand [`SetUrl::as_str`] to git as one argument after `--` (or to gix's URL
/// parser), never through a shell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SetUrl(String);

impl SetUrl {
    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SetUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for SetUrl {
    type Err = Error;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse_set_url(input)
    }
}

impl AsRef<str> for SetUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl serde::Serialize for SetUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for SetUrl {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        parse_set_url(&raw).map_err(serde::de::Error::custom)
    }
}

/// How the text before a set URL's first `:` reads.
enum Shape<'a> {
    /// No `:` at all.
    NoColon,
    /// `scheme://rest`.
    Scheme(&'a str),
    /// `transport::address` (git remote helper syntax).
    Transport(&'a str),
    /// `[user@]host:path`.
    ScpLike,
    /// `./x:y` or `/x:y`: a path with a colon in it.
    Path,
    /// `name:rest`, where name could be an alias.
    Alias(&'a str, &'a str),
}

fn shape(input: &str) -> Shape<'_> {
    let Some(colon) = input.find(':') else {
        return Shape::NoColon;
    };
    let (prefix, after) = (&input[..colon], &input[colon + 1..]);
    if after.starts_with(':') {
        Shape::Transport(prefix)
    } else if after.starts_with("//") {
        Shape::Scheme(prefix)
    } else if prefix.contains('/') {
        Shape::Path
    } else if prefix.contains(['@', '.', '[']) {
        Shape::ScpLike
    } else {
        Shape::Alias(prefix, after)
    }
}

fn check_chars(input: &str) -> Result<(), Error> {
    match input
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || *c == '\u{FEFF}')
    {
        Some(found) => Err(Error::ForbiddenChar {
            input: redact_credentials(input),
            found,
            code: found as u32,
        }),
        None => Ok(()),
    }
}

/// What a password is shown as by [`redact_credentials`].
pub const REDACTED: &str = "***";

/// `text` with the password of every URL in it replaced by [`REDACTED`]
/// (`https://me:secret@host/x` → `https://me:***@host/x`, and the scp-like
/// `me:secret@host:x` → `me:***@host:x`); the user name is kept, so the message still
/// says which account was meant. Every error that names a URL given by the user or
/// printed by git goes through it, so eka never echoes a password.
///
/// ```
/// use atom::uri::redact_credentials;
///
/// assert_eq!(
///     redact_credentials("fatal: `http://user:secret@127.0.0.1:8080/set.git` failed"),
///     "fatal: `http://user:***@127.0.0.1:8080/set.git` failed"
/// );
/// assert_eq!(redact_credentials("ssh://git@host/x"), "ssh://git@host/x");
/// ```
pub fn redact_credentials(text: &str) -> String {
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    // A leading scp-like `user:password@host:path` (no scheme, no `/` before the `@`).
    if let Some((userinfo, _)) = rest.split_once('@')
        && !userinfo.contains(['/', '`', '\'', ' '])
        && !userinfo.contains("::")
        && let Some((user, _)) = userinfo.split_once(':')
    {
        redacted.push_str(user);
        redacted.push(':');
        redacted.push_str(REDACTED);
        rest = &rest[userinfo.len()..];
    }
    while let Some(start) = rest.find("://") {
        let authority_start = start + 3;
        redacted.push_str(&rest[..authority_start]);
        rest = &rest[authority_start..];
        let authority_end = rest
            .find(|c: char| matches!(c, '/' | '?' | '#' | '`' | '\'' | '"') || c.is_whitespace())
            .unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
        {
            redacted.push_str(&authority[..=colon]);
            redacted.push_str(REDACTED);
            rest = &rest[at..];
        }
    }
    redacted.push_str(rest);
    redacted
}

/// Validate a set URL (see [`SetUrl`] for the accepted forms). Aliases are not expanded.
pub fn parse_set_url(input: &str) -> Result<SetUrl, Error> {
    if input.is_empty() {
        return Err(Error::EmptyUrl);
    }
    check_chars(input)?;
    let url = || redact_credentials(input);
    if input.starts_with('-') {
        return Err(Error::LeadingDash { url: url() });
    }
    match shape(input) {
        Shape::Scheme(scheme) => check_scheme_url(input, scheme)?,
        Shape::ScpLike => check_scp_like(input)?,
        Shape::Alias("file", _) => return Err(Error::RelativeFilePath { url: url() }),
        Shape::Alias(scheme, _) if SCHEMES.contains(&scheme) => {
            return Err(Error::InvalidUrl {
                url: url(),
                reason: format!("`{scheme}:` must be followed by `//`"),
            });
        }
        Shape::Transport(scheme) | Shape::Alias(scheme, _) => {
            return Err(Error::UnsupportedScheme {
                url: url(),
                scheme: scheme.to_owned(),
            });
        }
        Shape::NoColon | Shape::Path => {
            return Err(if input.starts_with(['/', '.']) || input.contains('/') {
                Error::BarePath { input: url() }
            } else {
                Error::InvalidUrl {
                    url: url(),
                    reason: "it has no scheme".to_owned(),
                }
            });
        }
    }
    Ok(SetUrl(input.to_owned()))
}

fn check_scheme_url(input: &str, scheme: &str) -> Result<(), Error> {
    let url = || redact_credentials(input);
    if !SCHEMES.contains(&scheme) {
        return Err(Error::UnsupportedScheme {
            url: url(),
            scheme: scheme.to_owned(),
        });
    }
    let rest = &input[scheme.len() + 3..];
    if scheme == "file" {
        if !rest.starts_with('/') {
            return Err(Error::RelativeFilePath { url: url() });
        }
        if rest.trim_start_matches('/').is_empty() {
            return Err(Error::EmptyPath { url: url() });
        }
    } else {
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let host = match authority.rsplit_once('@') {
            Some((user, host)) => {
                if scheme != "ssh" || user.contains(':') {
                    return Err(Error::Credentials { url: url() });
                }
                if user.is_empty() {
                    return Err(Error::InvalidUrl {
                        url: url(),
                        reason: "the user before `@` is empty".to_owned(),
                    });
                }
                if user.starts_with('-') {
                    return Err(Error::LeadingDash { url: url() });
                }
                host
            }
            None => authority,
        };
        if host.is_empty() || host.starts_with(':') {
            return Err(Error::EmptyHost { url: url() });
        }
        if host.starts_with('-') {
            return Err(Error::LeadingDash { url: url() });
        }
        if path.trim_start_matches('/').is_empty() {
            return Err(Error::EmptyPath { url: url() });
        }
        if path.starts_with("/-") {
            return Err(Error::LeadingDash { url: url() });
        }
    }
    let parsed = url::Url::parse(input).map_err(|error| Error::InvalidUrl {
        url: url(),
        reason: error.to_string(),
    })?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(Error::InvalidUrl {
            url: url(),
            reason: "set URLs take no `?query` or `#fragment`".to_owned(),
        });
    }
    Ok(())
}

fn check_scp_like(input: &str) -> Result<(), Error> {
    let url = || redact_credentials(input);
    let (authority, path) = input.split_once(':').unwrap_or((input, ""));
    let host = match authority.rsplit_once('@') {
        Some((user, host)) => {
            if user.is_empty() {
                return Err(Error::InvalidUrl {
                    url: url(),
                    reason: "the user before `@` is empty".to_owned(),
                });
            }
            if user.starts_with('-') {
                return Err(Error::LeadingDash { url: url() });
            }
            host
        }
        None => authority,
    };
    if host.is_empty() {
        return Err(Error::EmptyHost { url: url() });
    }
    if host.starts_with('-') || path.starts_with('-') {
        return Err(Error::LeadingDash { url: url() });
    }
    if path.trim_start_matches('/').is_empty() {
        return Err(Error::EmptyPath { url: url() });
    }
    Ok(())
}

/// URI aliases: name → expansion. `name:rest` expands to `expansion + rest`.
///
/// Names are lowercase ASCII letters, digits and `-`, start with a letter, are at most
/// [`MAX_ALIAS_LEN`] bytes and are not a URL scheme or git transport (`https`, `ssh`,
/// `ext`, ...). An expansion may itself start with an alias; cycles and chains longer
/// than [`MAX_ALIAS_DEPTH`] are refused.
///
/// ```
/// use atom::uri::Aliases;
///
/// let mut aliases = Aliases::builtin();
/// aliases.insert("work", "gh:my-company/").unwrap();
/// assert_eq!(aliases.expand("work:repo").unwrap(), "https://github.com/my-company/repo");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aliases(BTreeMap<String, String>);

impl Default for Aliases {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Aliases {
    /// No aliases at all.
    pub fn empty() -> Self {
        Aliases(BTreeMap::new())
    }

    /// The built-in aliases ([`BUILTIN_ALIASES`]).
    pub fn builtin() -> Self {
        Aliases(
            BUILTIN_ALIASES
                .iter()
                .map(|(name, expansion)| ((*name).to_owned(), (*expansion).to_owned()))
                .collect(),
        )
    }

    /// Add or override an alias after validating its name and expansion on their own.
    ///
    /// Whether the expansion's own aliases exist or form a cycle is checked by
    /// [`Aliases::check`] once every alias is known.
    pub fn insert(&mut self, name: &str, expansion: &str) -> Result<(), Error> {
        validate_alias_name(name)?;
        validate_alias_expansion(name, expansion)?;
        self.0.insert(name.to_owned(), expansion.to_owned());
        Ok(())
    }

    /// The expansion of `name`, if it is defined.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// All aliases, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(name, exp)| (name.as_str(), exp.as_str()))
    }

    /// Check that `name` expands, through any chain of aliases, without a cycle or an
    /// unknown alias.
    pub fn check(&self, name: &str) -> Result<(), Error> {
        self.expand(&format!("{name}:")).map(|_| ())
    }

    /// Expand the aliases at the start of `input` until it no longer starts with one.
    ///
    /// Text that does not start with `name:` (a URL, a path, a set name) is returned
    /// unchanged; a reserved name (`https:`) is left for [`parse_set_url`] to judge.
    pub fn expand(&self, input: &str) -> Result<String, Error> {
        let mut current = input.to_owned();
        let mut chain: Vec<String> = Vec::new();
        loop {
            let Shape::Alias(name, rest) = shape(&current) else {
                return Ok(current);
            };
            if RESERVED_ALIASES.contains(&name) {
                return Ok(current);
            }
            if chain.iter().any(|seen| seen == name) {
                chain.push(name.to_owned());
                return Err(Error::AliasCycle { chain });
            }
            if chain.len() >= MAX_ALIAS_DEPTH {
                return Err(Error::AliasTooDeep {
                    input: redact_credentials(input),
                    chain,
                });
            }
            let Some(expansion) = self.get(name) else {
                return Err(Error::UnknownAlias {
                    input: redact_credentials(input),
                    alias: name.to_owned(),
                    known: self.0.keys().cloned().collect(),
                });
            };
            let next = format!("{expansion}{rest}");
            chain.push(name.to_owned());
            current = next;
        }
    }
}

fn validate_alias_name(name: &str) -> Result<(), Error> {
    let refuse = |reason: &str| Error::InvalidAliasName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    let mut bytes = name.bytes();
    match bytes.next() {
        None => return Err(refuse("it is empty")),
        Some(first) if !first.is_ascii_lowercase() => {
            return Err(refuse("it must start with a lowercase ASCII letter"));
        }
        Some(_) => {}
    }
    if !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(refuse(
            "only lowercase ASCII letters, digits and `-` are allowed",
        ));
    }
    if name.len() > MAX_ALIAS_LEN {
        return Err(refuse(&format!("it is longer than {MAX_ALIAS_LEN} bytes")));
    }
    if RESERVED_ALIASES.contains(&name) {
        return Err(refuse("it is a URL scheme or git transport"));
    }
    Ok(())
}

fn validate_alias_expansion(name: &str, expansion: &str) -> Result<(), Error> {
    let refuse = |reason: &str| Error::InvalidAliasExpansion {
        name: name.to_owned(),
        expansion: expansion.to_owned(),
        reason: reason.to_owned(),
    };
    if expansion.is_empty() {
        return Err(refuse("it is empty"));
    }
    if expansion.starts_with('-') {
        return Err(refuse("it starts with `-`"));
    }
    if expansion.contains("::") {
        return Err(refuse("it contains `::`"));
    }
    if expansion
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(refuse("it contains whitespace or control characters"));
    }
    match shape(expansion) {
        Shape::Scheme(scheme) if SCHEMES.contains(&scheme) => Ok(()),
        Shape::Scheme(scheme) => Err(refuse(&format!("the scheme `{scheme}` is not supported"))),
        Shape::ScpLike => Ok(()),
        Shape::Alias(other, _) if !RESERVED_ALIASES.contains(&other) => Ok(()),
        _ => Err(refuse(
            "it must start with a URL scheme (`https://`, ...), `user@host:` or another alias",
        )),
    }
}

/// Where an atom comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// A set at a URL (aliases already expanded).
    Url(SetUrl),
    /// A set declared by name in the manifest's `[package.sets]`.
    Named(String),
    /// The set the manifest itself lives in (`::label`).
    Local,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Url(url) => f.write_str(url.as_str()),
            Source::Named(name) => f.write_str(name),
            Source::Local => Ok(()),
        }
    }
}

/// An atom as a user names it: `[source]::label[@requirement]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomUri {
    /// The set the atom is in.
    pub source: Source,
    /// The atom's label.
    pub label: Label,
    /// The versions allowed; `None` means any.
    pub requirement: Option<VersionReq>,
}

impl AtomUri {
    /// Parse `input`, expanding `aliases`.
    pub fn parse(input: &str, aliases: &Aliases) -> Result<Self, Error> {
        let uri = || redact_credentials(input);
        check_chars(input)?;
        let Some((source, atom)) = input.rsplit_once("::") else {
            return Err(Error::MissingLabel { uri: uri() });
        };
        let (label, requirement) = match atom.split_once('@') {
            Some((label, requirement)) => (label, Some(requirement)),
            None => (atom, None),
        };
        if label.is_empty() {
            return Err(Error::EmptyLabel { uri: uri() });
        }
        let label =
            Label::parse(label).map_err(|reason| Error::InvalidLabel { uri: uri(), reason })?;
        let requirement = requirement
            .map(|text| {
                VersionReq::parse(text).map_err(|error| Error::InvalidRequirement {
                    uri: uri(),
                    requirement: text.to_owned(),
                    reason: error.to_string(),
                })
            })
            .transpose()?;
        let source = parse_source(input, source, aliases)?;
        Ok(AtomUri {
            source,
            label,
            requirement,
        })
    }
}

fn parse_source(input: &str, source: &str, aliases: &Aliases) -> Result<Source, Error> {
    if source.is_empty() {
        return Ok(Source::Local);
    }
    if source.starts_with('-') {
        return Err(Error::LeadingDash {
            url: redact_credentials(source),
        });
    }
    if matches!(shape(source), Shape::NoColon) {
        if source.starts_with(['/', '.', '~']) || source.contains('/') {
            return Err(Error::BarePath {
                input: redact_credentials(source),
            });
        }
        return match Label::parse(source) {
            Ok(name) => Ok(Source::Named(name.into())),
            Err(error) => Err(Error::InvalidSetName {
                uri: redact_credentials(input),
                name: source.to_owned(),
                reason: error,
            }),
        };
    }
    let expanded = aliases.expand(source)?;
    parse_set_url(&expanded).map(Source::Url)
}

impl FromStr for AtomUri {
    type Err = Error;

    /// Parse with the built-in aliases only.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        AtomUri::parse(input, &Aliases::builtin())
    }
}

impl fmt::Display for AtomUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.source, self.label)?;
        if let Some(requirement) = &self.requirement {
            // semver separates comparators with `, `; a URI holds no whitespace.
            write!(f, "@{}", requirement.to_string().replace(", ", ","))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_and_the_rest_is_kept() {
        let cases = [
            ("https://user:secret@h/x.git", "https://user:***@h/x.git"),
            (
                "x `http://u:secret@127.0.0.1:80/a` and 'ssh://g:pw@h:22/b'",
                "x `http://u:***@127.0.0.1:80/a` and 'ssh://g:***@h:22/b'",
            ),
            ("me:secret@host:path", "me:***@host:path"),
            ("http://u:p@ss@h/x", "http://u:***@h/x"),
            ("https://token@h/x", "https://token@h/x"),
            ("ssh://git@h:22/x", "ssh://git@h:22/x"),
            ("gh:owner/repo::label@^1", "gh:owner/repo::label@^1"),
            ("::label@^1", "::label@^1"),
            ("git@host:path", "git@host:path"),
            ("no url at all", "no url at all"),
        ];
        for (text, expected) in cases {
            assert_eq!(redact_credentials(text), expected, "{text}");
        }
    }

    #[test]
    fn refusals_never_echo_the_password() {
        let inputs = [
            "https://user:secret@h/x.git",
            "https://user:secret@h/x.git?q",
            "https://user:secret@h/x y",
            "user:secret@h:x",
            "ftp://user:secret@h/x",
        ];
        for input in inputs {
            let error = parse_set_url(input).unwrap_err();
            let message = error.to_string();
            assert!(!message.contains("secret"), "{input}: {message}");
            assert!(message.contains("user:***@"), "{input}: {message}");
        }
        let error =
            AtomUri::parse("http://user:secret@h/x.git::x", &Aliases::builtin()).unwrap_err();
        assert!(matches!(error, Error::Credentials { .. }), "{error:?}");
        assert_eq!(
            error.to_string(),
            "`http://user:***@h/x.git` contains credentials"
        );
    }
}
