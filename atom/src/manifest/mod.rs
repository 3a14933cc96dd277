//! `atom.toml`: an atom's manifest, typed, validated, and edited in place.
//!
//! [`Manifest`] is the typed form of the file; [`Manifest::from_str`] parses and
//! validates it, turning every failure into a [`Located`] error (file, line, column,
//! snippet, hint). [`ManifestDocument`] edits the file's text while keeping the user's
//! comments, order and spacing. [`RelativePath`] is the path type shared with
//! `ekala.toml`.
//!
//! ```
//! use atom::manifest::Manifest;
//!
//! let text = r#"
//! [package]
//! label = "hello"
//! version = "0.1.0"
//!
//! [package.sets]
//! company = "https://git.example/x.git"
//!
//! [deps.from.company]
//! other = "^1.2"
//! "#;
//! let manifest = Manifest::from_str(text, "atom.toml").unwrap();
//! assert_eq!(manifest.package.label.as_str(), "hello");
//!
//! let error = Manifest::from_str(&text.replace("[deps.from.company]", "[deps.from.elsewhere]"), "atom.toml")
//!     .unwrap_err();
//! assert!(error.to_string().starts_with("atom.toml:9:12: undeclared set `elsewhere`"));
//! ```

mod edit;
mod path;
pub(crate) mod span;

use std::{
    collections::BTreeMap,
    fmt, io,
    path::{Path, PathBuf},
};

use semver::{Version, VersionReq};
use serde::{Deserialize, Serialize, de};

pub use edit::ManifestDocument;
pub use path::{PathError, RelativePath};
use span::{Seg, Spans, located_from_toml, with_hint};

use crate::{
    Label,
    diagnostic::Located,
    error::{Classify, Kind},
    uri::SetUrl,
};

/// The file name of an atom's manifest.
pub const FILE_NAME: &str = "atom.toml";

/// The set source that means "the repository this manifest lives in".
pub const HERE: &str = "::";

/// Why a manifest could not be read, parsed or edited.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read; the I/O error names it.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The file is not a valid manifest; the error points into it.
    #[error(transparent)]
    Invalid(Box<Located>),
    /// An edit named a set that the manifest does not declare.
    #[error("set `{set}` is not declared in `[package.sets]` of `{}`", path.display())]
    UndeclaredSet {
        /// The manifest.
        path: PathBuf,
        /// The set name.
        set: String,
    },
    /// An edit would write an entry the manifest refuses (the file is left as it was, so
    /// the error names the entry rather than a line that is not in the file).
    #[error("cannot write `{key}` into `{}`: {message}", path.display())]
    InvalidEntry {
        /// The manifest.
        path: PathBuf,
        /// The dotted key of the entry.
        key: String,
        /// Why it is refused.
        message: String,
        /// What to do.
        hint: Option<String>,
    },
    /// An edit needs a table where the file has another kind of value.
    #[error("`{key}` in `{}` is not a table", path.display())]
    NotATable {
        /// The manifest.
        path: PathBuf,
        /// The dotted key.
        key: String,
    },
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::Io(_) => Kind::Environment,
            Error::Invalid(_)
            | Error::UndeclaredSet { .. }
            | Error::NotATable { .. }
            | Error::InvalidEntry { .. } => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Io(_) => None,
            Error::NotATable { .. } => Some("fix the file by hand, then retry".to_owned()),
            Error::Invalid(located) => located.hint(),
            Error::InvalidEntry { hint, .. } => hint.clone(),
            Error::UndeclaredSet { .. } => {
                Some("add the set to `[package.sets]` with its URL first".to_owned())
            }
        }
    }
}

impl Error {
    /// The located diagnostic, when the error points into the file.
    pub fn located(&self) -> Option<&Located> {
        match self {
            Error::Invalid(located) => Some(located),
            _ => None,
        }
    }
}

/// A parsed and validated `atom.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The `[package]` table.
    pub package: Package,
    /// The `[deps]` table.
    #[serde(default, skip_serializing_if = "Deps::is_empty")]
    pub deps: Deps,
}

/// The `[package]` table: who this atom is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// The atom's label within its set.
    pub label: Label,
    /// The atom's version (strict semver).
    #[serde(deserialize_with = "de_version")]
    pub version: Version,
    /// A one-line description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The Nix entry point, relative to the atom's directory.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_entry"
    )]
    pub entry: Option<RelativePath>,
    /// The sets this atom takes dependencies from, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sets: BTreeMap<Label, SetSource>,
}

/// Where a named set is fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetSource {
    /// `"::"`: the repository this manifest lives in.
    Here,
    /// One URL.
    Url(SetUrl),
    /// Several mirrors of one set, tried in order.
    Mirrors(Vec<SetUrl>),
}

impl SetSource {
    /// The URLs to fetch the set from (empty for [`SetSource::Here`]).
    pub fn urls(&self) -> &[SetUrl] {
        match self {
            SetSource::Here => &[],
            SetSource::Url(url) => std::slice::from_ref(url),
            SetSource::Mirrors(urls) => urls,
        }
    }
}

/// The `[deps]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deps {
    /// `[deps.from.<set>]`: set name → label → version requirement.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "ser_from",
        deserialize_with = "de_from"
    )]
    pub from: BTreeMap<Label, BTreeMap<Label, VersionReq>>,
    /// `[deps.direct]`: inputs that are not atoms.
    #[serde(default, skip_serializing_if = "Direct::is_empty")]
    pub direct: Direct,
    /// `[deps.follows]`: which of this atom's direct Nix inputs a dependency's own Nix
    /// input is replaced by (`"tool.nixpkgs" = "nixpkgs"`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub follows: BTreeMap<FollowsKey, Label>,
}

impl Deps {
    /// Whether there are no dependencies at all.
    pub fn is_empty(&self) -> bool {
        self.from.is_empty() && self.direct.is_empty() && self.follows.is_empty()
    }
}

/// A key of `[deps.follows]`: `<dependency label>.<its Nix input name>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FollowsKey {
    /// The label of a (direct or transitive) dependency.
    pub atom: Label,
    /// The name of one of that dependency's own direct Nix inputs.
    pub input: Label,
}

impl FollowsKey {
    /// Parse `<label>.<input>`.
    pub fn parse(raw: &str) -> Result<FollowsKey, String> {
        let shape = || {
            with_hint(
                format!(
                    "`{}` is not a follows key: expected `<dependency>.<input>`",
                    raw.escape_debug()
                ),
                "write the dependency's label and its Nix input's name, e.g. `\"tool.nixpkgs\" = \"nixpkgs\"`",
            )
        };
        let (atom, input) = raw.split_once('.').ok_or_else(shape)?;
        let atom = Label::parse(atom).map_err(|_| shape())?;
        let input = Label::parse(input).map_err(|_| shape())?;
        Ok(FollowsKey { atom, input })
    }
}

impl fmt::Display for FollowsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.atom, self.input)
    }
}

impl Serialize for FollowsKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FollowsKey {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        FollowsKey::parse(&raw).map_err(de::Error::custom)
    }
}

/// The `[deps.direct]` table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Direct {
    /// `[deps.direct.nix]`: direct Nix inputs by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub nix: BTreeMap<Label, NixInput>,
}

impl Direct {
    /// Whether there are no direct inputs.
    pub fn is_empty(&self) -> bool {
        self.nix.is_empty()
    }
}

/// A direct Nix input: how to fetch it, and whether it is a flake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawNixInput", into = "RawNixInput")]
pub struct NixInput {
    /// What to fetch, and how.
    pub fetch: NixFetch,
    /// Whether the input is a flake (`flake = true`).
    pub flake: bool,
}

/// How a direct Nix input is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NixFetch {
    /// `git = URL` with `ref` or `version`: a git repository.
    Git {
        /// The repository URL.
        url: String,
        /// Which commit to take.
        selector: GitSelector,
    },
    /// `url = URL`: a file fetched at evaluation time.
    Url(String),
    /// `tar = URL`: a tarball fetched and unpacked at evaluation time.
    Tar(String),
    /// `build = URL`: a fixed-output fetch at build time.
    Build(String),
}

impl NixFetch {
    /// The kind as written in the manifest and the lockfile: `git`, `url`, `tar`, `build`.
    pub fn kind(&self) -> &'static str {
        match self {
            NixFetch::Git { .. } => "git",
            NixFetch::Url(_) => "url",
            NixFetch::Tar(_) => "tar",
            NixFetch::Build(_) => "build",
        }
    }

    /// The URL fetched.
    pub fn url(&self) -> &str {
        match self {
            NixFetch::Git { url, .. }
            | NixFetch::Url(url)
            | NixFetch::Tar(url)
            | NixFetch::Build(url) => url,
        }
    }
}

/// Which commit of a git input to take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitSelector {
    /// `ref = "refs/heads/main"`: follow a ref.
    Ref(String),
    /// `version = "^1"`: the newest tag matching a semver requirement.
    Version(VersionReq),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNixInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    git: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tar: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    build: Option<String>,
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    flake: bool,
}

impl TryFrom<RawNixInput> for NixInput {
    type Error = String;

    fn try_from(raw: RawNixInput) -> Result<Self, Self::Error> {
        let kinds = [
            ("git", &raw.git),
            ("url", &raw.url),
            ("tar", &raw.tar),
            ("build", &raw.build),
        ];
        let given: Vec<_> = kinds.iter().filter(|(_, v)| v.is_some()).collect();
        let kind_hint = "give exactly one of `git`, `url`, `tar` or `build`";
        let (kind, url) = match given.as_slice() {
            [(kind, Some(url))] => (*kind, url.clone()),
            [] => return Err(with_hint("nix input has no source", kind_hint)),
            _ => {
                let names: Vec<_> = given.iter().map(|(k, _)| format!("`{k}`")).collect();
                return Err(with_hint(
                    format!("nix input has several sources: {}", names.join(", ")),
                    kind_hint,
                ));
            }
        };
        check_fetch_url(&url, kind == "git")?;
        let fetch = match kind {
            "git" => {
                let selector = match (raw.reference, raw.version) {
                    (Some(reference), None) => {
                        check_git_ref(&reference)?;
                        GitSelector::Ref(reference)
                    }
                    (None, Some(version)) => GitSelector::Version(parse_requirement(&version)?),
                    _ => {
                        return Err(with_hint(
                            "git input needs exactly one of `ref` and `version`",
                            "use `ref = \"refs/heads/main\"` to follow a branch or `version = \"^1\"` to pick a tag",
                        ));
                    }
                };
                NixFetch::Git { url, selector }
            }
            other => {
                if raw.reference.is_some() || raw.version.is_some() {
                    return Err(with_hint(
                        format!("`ref` and `version` only apply to `git` inputs, not `{other}`"),
                        "remove them",
                    ));
                }
                match other {
                    "url" => NixFetch::Url(url),
                    "tar" => NixFetch::Tar(url),
                    _ => NixFetch::Build(url),
                }
            }
        };
        Ok(NixInput {
            fetch,
            flake: raw.flake,
        })
    }
}

impl From<NixInput> for RawNixInput {
    fn from(input: NixInput) -> Self {
        let mut raw = RawNixInput {
            git: None,
            url: None,
            tar: None,
            build: None,
            reference: None,
            version: None,
            flake: input.flake,
        };
        match input.fetch {
            NixFetch::Git { url, selector } => {
                raw.git = Some(url);
                match selector {
                    GitSelector::Ref(reference) => raw.reference = Some(reference),
                    GitSelector::Version(version) => raw.version = Some(version.to_string()),
                }
            }
            NixFetch::Url(url) => raw.url = Some(url),
            NixFetch::Tar(url) => raw.tar = Some(url),
            NixFetch::Build(url) => raw.build = Some(url),
        }
        raw
    }
}

/// Check a URL a Nix input is fetched from.
///
/// Git inputs take any set URL (see [`crate::uri::parse_set_url`]); the others need an
/// absolute `https`, `http` or `file` URL. Embedded passwords are refused everywhere.
pub fn check_fetch_url(raw: &str, git: bool) -> Result<(), String> {
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "URL `{}` contains whitespace or control characters",
            raw.escape_debug()
        ));
    }
    let parsed = url::Url::parse(raw);
    if let Ok(url) = &parsed
        && url.password().is_some()
    {
        return Err(with_hint(
            format!(
                "URL `{}` contains a password",
                crate::uri::redact_credentials(raw)
            ),
            "use a git credential helper or a netrc file instead of writing secrets into the manifest",
        ));
    }
    if git {
        return crate::uri::parse_set_url(raw)
            .map(drop)
            .map_err(|error| error.to_string());
    }
    match parsed {
        Ok(url) if matches!(url.scheme(), "https" | "http" | "file") => Ok(()),
        Ok(url) => Err(with_hint(
            format!("URL `{raw}` has unsupported scheme `{}`", url.scheme()),
            "use an `https://`, `http://` or `file://` URL",
        )),
        Err(error) => Err(format!("`{raw}` is not a valid URL: {error}")),
    }
}

pub(crate) fn check_git_ref(reference: &str) -> Result<(), String> {
    let bad = reference.is_empty()
        || reference.starts_with(['-', '/'])
        || reference.ends_with(['/', '.'])
        || reference.ends_with(".lock")
        || reference.contains("..")
        || reference.contains("//")
        || reference.contains("@{")
        || reference
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c));
    if bad {
        return Err(with_hint(
            format!("`{}` is not a valid git ref", reference.escape_debug()),
            "write a branch or tag name such as `main` or `refs/heads/main`",
        ));
    }
    Ok(())
}

fn parse_requirement(raw: &str) -> Result<VersionReq, String> {
    VersionReq::parse(raw).map_err(|error| {
        with_hint(
            format!("invalid version requirement `{raw}`: {error}"),
            "write a semver requirement such as `^1.2`, `~0.3` or `>=1, <3`",
        )
    })
}

fn de_version<'de, D: de::Deserializer<'de>>(deserializer: D) -> Result<Version, D::Error> {
    let raw = String::deserialize(deserializer)?;
    Version::parse(&raw).map_err(|error| {
        de::Error::custom(with_hint(
            format!("invalid version `{raw}`: {error}"),
            "versions are strict semver: `MAJOR.MINOR.PATCH`, e.g. `1.0.0`",
        ))
    })
}

fn de_entry<'de, D: de::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<RelativePath>, D::Error> {
    let raw = String::deserialize(deserializer)?;
    RelativePath::parse_strict(&raw).map(Some).map_err(|error| {
        de::Error::custom(with_hint(
            format!("invalid entry: {error}"),
            "give a file inside the atom's directory, e.g. `default.nix`",
        ))
    })
}

struct Requirement(VersionReq);

impl<'de> Deserialize<'de> for Requirement {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        parse_requirement(&raw)
            .map(Requirement)
            .map_err(de::Error::custom)
    }
}

type FromTable = BTreeMap<Label, BTreeMap<Label, VersionReq>>;

fn de_from<'de, D: de::Deserializer<'de>>(deserializer: D) -> Result<FromTable, D::Error> {
    let raw = BTreeMap::<Label, BTreeMap<Label, Requirement>>::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .map(|(set, deps)| (set, deps.into_iter().map(|(l, r)| (l, r.0)).collect()))
        .collect())
}

fn ser_from<S: serde::Serializer>(from: &FromTable, serializer: S) -> Result<S::Ok, S::Error> {
    let text: BTreeMap<&Label, BTreeMap<&Label, String>> = from
        .iter()
        .map(|(set, deps)| {
            let deps = deps.iter().map(|(l, r)| (l, r.to_string())).collect();
            (set, deps)
        })
        .collect();
    text.serialize(serializer)
}

fn parse_set_url(raw: &str) -> Result<SetUrl, String> {
    if let Ok(url) = url::Url::parse(raw)
        && url.password().is_some()
    {
        return Err(with_hint(
            format!(
                "set URL `{}` contains a password",
                crate::uri::redact_credentials(raw)
            ),
            "use a git credential helper instead of writing secrets into the manifest",
        ));
    }
    crate::uri::parse_set_url(raw).map_err(|error| error.to_string())
}

impl Serialize for SetSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            SetSource::Here => serializer.serialize_str(HERE),
            SetSource::Url(url) => serializer.serialize_str(url.as_str()),
            SetSource::Mirrors(urls) => serializer.collect_seq(urls.iter().map(SetUrl::as_str)),
        }
    }
}

impl<'de> Deserialize<'de> for SetSource {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = SetSource;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a set URL, a list of mirror URLs, or \"::\"")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<SetSource, E> {
                if value == HERE {
                    return Ok(SetSource::Here);
                }
                parse_set_url(value).map(SetSource::Url).map_err(E::custom)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<SetSource, A::Error> {
                let mut urls: Vec<SetUrl> = Vec::new();
                while let Some(raw) = seq.next_element::<String>()? {
                    let url = parse_set_url(&raw).map_err(de::Error::custom)?;
                    if urls.contains(&url) {
                        return Err(de::Error::custom(format!("mirror `{raw}` is listed twice")));
                    }
                    urls.push(url);
                }
                if urls.is_empty() {
                    return Err(de::Error::custom(with_hint(
                        "the list of mirrors is empty",
                        "give at least one URL, or `\"::\"` for this repository",
                    )));
                }
                Ok(SetSource::Mirrors(urls))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Manifest {
    /// Parse and validate the text of an `atom.toml`; `path` names it in errors.
    pub fn from_str(text: &str, path: impl AsRef<Path>) -> Result<Manifest, Error> {
        let path = path.as_ref();
        let manifest: Manifest = toml::from_str(text)
            .map_err(|error| Error::Invalid(Box::new(located_from_toml(path, text, &error))))?;
        manifest.validate(text, path)?;
        Ok(manifest)
    }

    /// Read, parse and validate an `atom.toml`.
    pub fn read(path: impl AsRef<Path>) -> Result<Manifest, Error> {
        let path = path.as_ref();
        let text = read_text(path)?;
        Manifest::from_str(&text, path)
    }

    /// The text of a new atom's manifest.
    pub fn template(label: &Label, version: &Version, description: Option<&str>) -> String {
        let mut document = toml_edit::DocumentMut::new();
        let mut package = toml_edit::Table::new();
        package.insert("label", toml_edit::value(label.as_str()));
        package.insert("version", toml_edit::value(version.to_string()));
        if let Some(description) = description {
            package.insert("description", toml_edit::value(description));
        }
        document.insert("package", toml_edit::Item::Table(package));
        document.to_string()
    }

    fn validate(&self, text: &str, path: &Path) -> Result<(), Error> {
        let spans = Spans::new(text);
        for (set, deps) in &self.deps.from {
            if !self.package.sets.contains_key(set) {
                let span = spans.key(&[Seg::Key("deps"), Seg::Key("from"), Seg::Key(set.as_str())]);
                return Err(invalid(
                    path,
                    text,
                    span,
                    format!("undeclared set `{set}`"),
                    Some(format!(
                        "add it to `[package.sets]`, e.g. `{set} = \"https://host/{set}.git\"`, or `{set} = \"::\"` for this repository"
                    )),
                ));
            }
            let here = self.package.sets.get(set) == Some(&SetSource::Here);
            if here && deps.contains_key(&self.package.label) {
                let key = [
                    Seg::Key("deps"),
                    Seg::Key("from"),
                    Seg::Key(set.as_str()),
                    Seg::Key(self.package.label.as_str()),
                ];
                return Err(invalid(
                    path,
                    text,
                    spans.key(&key),
                    format!("atom `{}` depends on itself", self.package.label),
                    Some("remove the dependency".to_owned()),
                ));
            }
        }
        self.validate_follows(&spans, text, path)
    }

    /// Each `[deps.follows]` value names one of this atom's `[deps.direct.nix]`.
    fn validate_follows(&self, spans: &Spans<'_>, text: &str, path: &Path) -> Result<(), Error> {
        for (key, target) in &self.deps.follows {
            if self.deps.direct.nix.contains_key(target) {
                continue;
            }
            let name = key.to_string();
            let at = [Seg::Key("deps"), Seg::Key("follows"), Seg::Key(&name)];
            return Err(invalid(
                path,
                text,
                spans.value(&at),
                format!("`{key}` follows `{target}`, which is not a Nix input of this atom"),
                Some(format!(
                    "declare `{target}` in `[deps.direct.nix]`, or name one of the inputs there"
                )),
            ));
        }
        Ok(())
    }
}

/// An error located at the key `key` of `[deps.follows]` in `text` (the manifest at
/// `path`): for the checks only a resolution can make (is the label locked, does it have
/// that input).
pub fn follows_error(
    path: &Path,
    text: &str,
    key: &FollowsKey,
    message: impl Into<String>,
    hint: Option<String>,
) -> Error {
    let name = key.to_string();
    let at = [Seg::Key("deps"), Seg::Key("follows"), Seg::Key(&name)];
    invalid(path, text, Spans::new(text).key(&at), message, hint)
}

pub(crate) fn read_text(path: &Path) -> Result<String, Error> {
    text_from_bytes(fs_err::read(path)?, path)
}

pub(crate) fn text_from_bytes(bytes: Vec<u8>, path: &Path) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|error| {
        let valid = error.utf8_error().valid_up_to();
        let prefix = String::from_utf8_lossy(&error.as_bytes()[..valid]).into_owned();
        invalid(
            path,
            &prefix,
            Some(valid..valid + 1),
            "the file is not valid UTF-8",
            Some("save it as UTF-8".to_owned()),
        )
    })
}

fn invalid(
    path: &Path,
    text: &str,
    span: Option<std::ops::Range<usize>>,
    message: impl Into<String>,
    hint: Option<String>,
) -> Error {
    Error::Invalid(Box::new(Located::new(path, text, span, message, hint)))
}

#[cfg(test)]
mod tests;
