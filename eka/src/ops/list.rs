//! `eka list <set-uri>`: the published atoms of a remote set and their metadata, from
//! the refs and manifests alone (no clone, no trees). Main types: [`Options`],
//! [`Listing`] (one [`AtomInfo`] per atom) and [`Error`]; `eka show` ([`super::show`])
//! shares them. The set is listed through the URLs its `eka.toml` `[mirrors]` entry
//! names, if any.
//!
//! ```no_run
//! use eka::ops::list;
//!
//! let options = list::Options {
//!     input: "https://example.org/set.git".into(),
//!     aliases: atom::uri::Aliases::builtin(),
//!     cache: "/home/me/.cache/eka".into(),
//!     offline: false,
//!     reporter: atom::progress::Silent::shared(),
//!     mirrors: Default::default(),
//! };
//! for atom in list::list(&options)?.atoms {
//!     println!("{} {:?}", atom.label, atom.versions);
//! }
//! # Ok::<(), eka::ops::list::Error>(())
//! ```

use atom::error::{Classify, Kind};
use std::path::PathBuf;

use atom::{
    Label,
    store::fetch::{self, Cache},
    uri::Aliases,
};
use serde::Serialize;

/// Why the set could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URI is invalid.
    #[error(transparent)]
    Uri(#[from] atom::uri::Error),
    /// The URI does not name a remote set.
    #[error("`{input}` does not name a set by URL")]
    NotRemote {
        /// The input.
        input: String,
        /// What to do.
        hint: &'static str,
    },
    /// Listing refs failed.
    #[error(transparent)]
    Remote(#[from] atom::store::remote::Error),
    /// Discovery failed.
    #[error(transparent)]
    Fetch(#[from] fetch::Error),
}

impl Classify for Error {
    /// A bad URI is the input; listing and fetching decide for themselves.
    fn kind(&self) -> Kind {
        match self {
            Error::Uri(_) | Error::NotRemote { .. } => Kind::Input,
            Error::Fetch(error) => error.kind(),
            Error::Remote(error) => error.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Uri(error) => error.hint(),
            Error::NotRemote { hint, .. } => Some((*hint).to_owned()),
            Error::Fetch(error) => error.hint(),
            Error::Remote(error) => error.hint(),
        }
    }
}

/// What to list.
#[derive(Debug, Clone)]
pub struct Options {
    /// The set URI (`gh:owner/repo`, `https://…`), or for `show` an atom URI.
    pub input: String,
    /// Aliases to expand.
    pub aliases: Aliases,
    /// The cache directory.
    pub cache: PathBuf,
    /// Use only the cache.
    pub offline: bool,
    /// Where discovery reports its progress.
    pub reporter: std::sync::Arc<dyn atom::progress::Reporter>,
    /// The consumer's `[mirrors]`: where the set is listed from.
    pub mirrors: atom::config::Mirrors,
}

/// One published version.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInfo {
    /// The version.
    pub version: String,
    /// The atom commit.
    pub commit: String,
    /// The content hash.
    pub content: String,
    /// The description in its manifest.
    pub description: Option<String>,
    /// Its requirements, as `set::label@req`.
    pub dependencies: Vec<String>,
}

/// One atom of the set.
#[derive(Debug, Clone, Serialize)]
pub struct AtomInfo {
    /// The label.
    pub label: String,
    /// Every published version, oldest first.
    pub versions: Vec<VersionInfo>,
}

/// A set's atoms.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The URL.
    pub url: String,
    /// The set root (when anything is published).
    pub set: Option<String>,
    /// The atoms.
    pub atoms: Vec<AtomInfo>,
    /// Mirrors skipped and cache repairs.
    #[serde(skip)]
    pub warnings: Vec<fetch::Warning>,
}

pub(super) fn set_url(input: &str, aliases: &Aliases) -> Result<atom::uri::SetUrl, Error> {
    let expanded = aliases.expand(input)?;
    Ok(atom::uri::parse_set_url(&expanded)?)
}

pub(super) fn open_cache(options: &Options) -> Result<Cache, Error> {
    Ok(Cache::open(&options.cache).map_err(fetch::Error::from)?)
}

pub(super) fn collect(
    cache: &Cache,
    url: &atom::uri::SetUrl,
    labels: &[Label],
    options: &Options,
) -> Result<Listing, Error> {
    let found = fetch::discover(
        cache,
        &options.mirrors.for_url(url),
        labels,
        options.offline,
        &*options.reporter,
    )?;
    let atoms = found
        .atoms
        .iter()
        .map(|(label, versions)| AtomInfo {
            label: label.to_string(),
            versions: versions
                .iter()
                .map(|(version, published)| VersionInfo {
                    version: version.to_string(),
                    commit: published.commit_id.to_string(),
                    content: published.commit.content.clone(),
                    description: published.manifest.package.description.clone(),
                    dependencies: published
                        .manifest
                        .deps
                        .from
                        .iter()
                        .flat_map(|(set, labels)| {
                            labels
                                .iter()
                                .map(move |(label, req)| format!("{set}::{label}@{req}"))
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Ok(Listing {
        url: url.to_string(),
        set: found.set_root.map(|root| root.to_string()),
        atoms,
        warnings: found.warnings,
    })
}

/// List every atom of the set at `options.input`.
pub fn list(options: &Options) -> Result<Listing, Error> {
    let url = set_url(&options.input, &options.aliases)?;
    let cache = open_cache(options)?;
    let labels: Vec<Label> = if options.offline {
        cache.cached_labels(&url)?
    } else {
        atom::store::remote::list_atom_refs(url.as_str(), None)?
            .into_iter()
            .filter_map(|(name, _)| atom::store::AtomRef::parse(&name).ok())
            .map(|parsed| parsed.label)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    collect(&cache, &url, &labels, options)
}
