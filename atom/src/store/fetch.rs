//! Discovering a remote set's published atoms and caching their metadata on disk.
//!
//! To resolve, eka needs per published version: the atom commit (its headers carry the
//! set root and the content hash) and the `atom.toml` blob (its dependencies). It never
//! needs the atom's tree. [`discover`] does, for one set given by its mirror URLs and the
//! labels wanted:
//!
//! 1. list `refs/eka/atoms/<label>/` and `refs/eka/meta/<label>/` on every mirror at once
//!    (one thread per mirror, protocol v2 `ref-prefix` filtering server side);
//! 2. skip a mirror that fails, with a [`Warning`] in the outcome, while another answers;
//!    refuse two mirrors naming different commits (or manifests) for one version
//!    ([`Error::Tampering`]);
//! 3. fetch the commits and manifest blobs not yet cached into the [`Cache`]'s atom store
//!    (`<cache>/v1/atoms.git`) with one tree-less fetch per remote
//!    ([`git::Depth::TreeLess`]), by object id, each under `refs/cache/<id>` (objects are
//!    immutable, so cached forever);
//! 4. record what each URL listed in a small index file per URL
//!    (`<cache>/v1/index/<digest of the URL>.toml`, written atomically), so `--offline`
//!    can answer from the cache alone and say exactly what is missing;
//! 5. read the commits and manifests back; an object the store has but cannot read (a
//!    damaged cache) makes the store be rebuilt and fetched once more, and a garbled
//!    index file is dropped; both come back as [`Warning::CacheRebuilt`].
//!
//! Each step is a function of its own ([`discover`] calls them in order). Progress goes
//! to the caller's [`Reporter`]: a `Listing` step advancing per mirror listed, and a
//! `Fetching` step advancing per object fetched (only when something is missing).
//!
//! A server that does not allow filters sends the trees too (git warns and ignores the
//! filter); the answer is the same, only bigger.
//!
//! ```no_run
//! use atom::{Label, progress::Silent, store::fetch::{Cache, discover}};
//!
//! let cache = Cache::open("/home/me/.cache/eka".as_ref())?;
//! let url = atom::uri::parse_set_url("https://example.org/set.git")?;
//! let labels = [Label::parse("hello")?];
//! let found = discover(&cache, &[url], &labels, false, &Silent)?;
//! for (label, versions) in &found.atoms {
//!     println!("{label}: {} versions", versions.len());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use gix::ObjectId;
use semver::Version;
use serde::{Deserialize, Serialize};

pub use super::cache::Cache;
use crate::{
    Label,
    error::{Classify, Kind},
    manifest::Manifest,
    progress::{Reporter, Step},
    store::{
        cache,
        commit::AtomCommit,
        git::{self, Depth, FetchSpec},
        refs::{AtomRef, RefKind, atom_prefix, meta_prefix},
        remote,
    },
    uri::SetUrl,
};

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A listing index file could not be read or written.
    #[error("cannot use the cache at `{}`: {message}", path.display())]
    Cache {
        /// The path at fault.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// No mirror of the set could be listed.
    #[error("no mirror of the set answered: {}", causes.join("; "))]
    Unreachable {
        /// The URLs tried.
        urls: Vec<SetUrl>,
        /// Why each one failed.
        causes: Vec<String>,
        /// What to do.
        hint: &'static str,
    },
    /// Every mirror answered that the repository does not exist or is not readable.
    #[error("{}", not_found_message(urls))]
    NotFound {
        /// The URLs tried.
        urls: Vec<SetUrl>,
    },
    /// Two mirrors disagree about one published version.
    #[error(
        "mirrors disagree about the {} of `{}` `{}`: `{}` has `{}`, `{}` has `{}` (possible tampering)",
        details.what, details.label, details.version, details.first_url, details.first_id,
        details.second_url, details.second_id
    )]
    Tampering {
        /// What they disagree about.
        details: Box<Disagreement>,
        /// What to do.
        hint: &'static str,
    },
    /// `--offline` and the cache does not hold what is needed.
    #[error("`{label}` of `{url}` is not in the cache ({what})")]
    NotCached {
        /// The set's URL (the first mirror).
        url: SetUrl,
        /// The atom's label.
        label: Label,
        /// What exactly is missing.
        what: String,
        /// What to do.
        hint: &'static str,
    },
    /// Fetching objects from every mirror failed.
    #[error("cannot fetch from `{url}`: {}", error.detail())]
    Fetch {
        /// The URL.
        url: SetUrl,
        /// What went wrong.
        error: Box<git::Error>,
    },
    /// The mirrors answered the fetch without sending an object they list.
    #[error("cannot fetch from `{url}`: object `{id}` was not sent")]
    NotSent {
        /// The URL.
        url: SetUrl,
        /// The object.
        id: ObjectId,
    },
    /// The cache's object store could not be prepared or repaired.
    #[error(transparent)]
    Store(#[from] cache::Error),
    /// A published version lacks its manifest ref.
    #[error("`{atom}` at `{url}` has no manifest ref under `refs/eka/meta/`")]
    MissingManifest {
        /// The URL.
        url: SetUrl,
        /// The atom, as `label@version`.
        atom: String,
    },
    /// An atom commit is malformed or does not match its ref.
    #[error("atom commit `{commit_id}` of `{atom}` at `{url}` is invalid: {message}")]
    BadCommit {
        /// The URL.
        url: SetUrl,
        /// The atom, as `label@version`.
        atom: String,
        /// The commit.
        commit_id: ObjectId,
        /// What is wrong.
        message: String,
    },
    /// A published manifest is invalid or does not match its ref.
    #[error("the manifest of `{atom}` at `{url}` is invalid: {message}")]
    BadManifest {
        /// The URL.
        url: SetUrl,
        /// The atom, as `label@version`.
        atom: String,
        /// What is wrong.
        message: String,
    },
    /// Atoms of one URL name different set roots.
    #[error("`{url}` mixes atoms of two sets: `{first}` and `{second}`")]
    MixedSets {
        /// The URL.
        url: SetUrl,
        /// One set root.
        first: ObjectId,
        /// The other.
        second: ObjectId,
    },
}

impl Classify for Error {
    /// Bad data, tampering and missing cache entries are refusals (input); the cache,
    /// unreachable mirrors and failed fetches are the environment.
    fn kind(&self) -> Kind {
        match self {
            Error::Cache { .. }
            | Error::Unreachable { .. }
            | Error::NotFound { .. }
            | Error::Fetch { .. }
            | Error::NotSent { .. }
            | Error::Store(_) => Kind::Environment,
            Error::Tampering { .. }
            | Error::NotCached { .. }
            | Error::MissingManifest { .. }
            | Error::BadCommit { .. }
            | Error::BadManifest { .. }
            | Error::MixedSets { .. } => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Fetch { error, .. } => error.hint(),
            Error::NotFound { .. } => Some(remote::NOT_FOUND_HINT.to_owned()),
            Error::Unreachable { hint, .. }
            | Error::Tampering { hint, .. }
            | Error::NotCached { hint, .. } => Some((*hint).to_owned()),
            _ => None,
        }
    }
}

/// "repository `a` does not exist …" or "repositories `a`, `b` do not exist …".
fn not_found_message(urls: &[SetUrl]) -> String {
    let names: Vec<String> = urls.iter().map(|url| format!("`{url}`")).collect();
    match names.as_slice() {
        [only] => format!("repository {only} does not exist or is not readable"),
        _ => format!(
            "repositories {} do not exist or are not readable",
            names.join(", ")
        ),
    }
}

/// Two mirrors' answers for one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The atom's label.
    pub label: Label,
    /// The version.
    pub version: Version,
    /// `commit` or `manifest`.
    pub what: &'static str,
    /// One mirror.
    pub first_url: SetUrl,
    /// What it names.
    pub first_id: ObjectId,
    /// The other mirror.
    pub second_url: SetUrl,
    /// What it names.
    pub second_id: ObjectId,
}

/// Something the caller should print; the run went on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A mirror skipped because it failed while another answered.
    SkippedMirror {
        /// The mirror.
        url: SetUrl,
        /// Why it was skipped.
        message: String,
    },
    /// A damaged part of the cache was rebuilt (the text of a [`cache::Repair`]).
    CacheRebuilt(String),
}

impl std::fmt::Display for Warning {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::SkippedMirror { url, message } => {
                write!(formatter, "skipped mirror `{url}`: {message}")
            }
            Warning::CacheRebuilt(repair) => formatter.write_str(repair),
        }
    }
}

/// One published version, read from the cache.
#[derive(Debug, Clone)]
pub struct Published {
    /// The atom commit.
    pub commit_id: ObjectId,
    /// The decoded atom commit (set root, content hash, path, origin).
    pub commit: AtomCommit,
    /// The published `atom.toml`.
    pub manifest: Manifest,
}

/// What [`discover`] found about one set.
#[derive(Debug, Clone, Default)]
pub struct SetAtoms {
    /// The set's root commit, if any atom was found.
    pub set_root: Option<ObjectId>,
    /// The mirrors that answered, in the order given.
    pub answered: Vec<SetUrl>,
    /// Per label asked for, every published version (empty when none).
    pub atoms: BTreeMap<Label, BTreeMap<Version, Published>>,
    /// Mirrors skipped.
    pub warnings: Vec<Warning>,
}

/// The refs of one version as a URL listed them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Entry {
    commit: ObjectIdText,
    manifest: Option<ObjectIdText>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
struct ObjectIdText(ObjectId);

impl TryFrom<String> for ObjectIdText {
    type Error = String;
    fn try_from(text: String) -> Result<Self, String> {
        ObjectId::from_hex(text.as_bytes())
            .map(ObjectIdText)
            .map_err(|error| error.to_string())
    }
}

impl From<ObjectIdText> for String {
    fn from(id: ObjectIdText) -> String {
        id.0.to_hex().to_string()
    }
}

type Listing = BTreeMap<Label, BTreeMap<Version, Entry>>;

/// Where fetched atom objects are kept in the store: `refs/cache/<id>`.
pub const CACHE_NAMESPACE: &str = "refs/cache/";

/// The index file of one URL.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    url: String,
    #[serde(default)]
    atoms: BTreeMap<String, BTreeMap<String, Entry>>,
}

impl Cache {
    /// The labels the cache's index of `url` holds (what `--offline` can answer for).
    pub fn cached_labels(&self, url: &SetUrl) -> Result<Vec<Label>, Error> {
        Ok(read_index(self, url)?
            .map(|listing| listing.into_keys().collect())
            .unwrap_or_default())
    }
}

fn index_path(cache: &Cache, url: &SetUrl) -> PathBuf {
    let digest = blake3::hash(url.as_str().as_bytes()).to_hex();
    cache
        .index_dir()
        .join(format!("{}.toml", &digest.as_str()[..32]))
}

fn index_error(path: &Path, error: impl std::fmt::Display) -> Error {
    Error::Cache {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// The listing the cache recorded for `url`; a garbled index file is deleted (and the
/// repair recorded), as if it had never been written.
fn read_index(cache: &Cache, url: &SetUrl) -> Result<Option<Listing>, Error> {
    let path = index_path(cache, url);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
            return discard_index(cache, &path, "it is not UTF-8");
        }
        Err(error) => return Err(index_error(&path, error)),
    };
    match parse_index(&text) {
        Ok(listing) => Ok(Some(listing)),
        Err(reason) => discard_index(cache, &path, &reason),
    }
}

fn discard_index(cache: &Cache, path: &Path, reason: &str) -> Result<Option<Listing>, Error> {
    match fs_err::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(index_error(path, error)),
    }
    cache.record_repair(path, format!("the listing index is unreadable: {reason}"));
    Ok(None)
}

fn parse_index(text: &str) -> Result<Listing, String> {
    let index: Index = toml::from_str(text).map_err(|error| error.message().to_owned())?;
    let mut listing = Listing::new();
    for (label, versions) in index.atoms {
        let label = Label::parse(&label).map_err(|error| error.to_string())?;
        let mut parsed = BTreeMap::new();
        for (version, entry) in versions {
            let version = Version::parse(&version).map_err(|error| error.to_string())?;
            parsed.insert(version, entry);
        }
        listing.insert(label, parsed);
    }
    Ok(listing)
}

/// Merge `listing` (complete for its labels) into the index of `url`.
fn write_index(cache: &Cache, url: &SetUrl, listing: &Listing) -> Result<(), Error> {
    let path = index_path(cache, url);
    let mut merged = read_index(cache, url)?.unwrap_or_default();
    for (label, versions) in listing {
        merged.insert(label.clone(), versions.clone());
    }
    let index = Index {
        url: url.as_str().to_owned(),
        atoms: merged
            .into_iter()
            .map(|(label, versions)| {
                (
                    label.to_string(),
                    versions
                        .into_iter()
                        .map(|(version, entry)| (version.to_string(), entry))
                        .collect(),
                )
            })
            .collect(),
    };
    let text = toml::to_string(&index).map_err(|error| index_error(&path, error))?;
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent).map_err(|error| index_error(parent, error))?;
    }
    crate::fs::write_atomic(&path, text.as_bytes()).map_err(|error| index_error(&path, error))?;
    Ok(())
}

/// Parse listed refs into a listing for `labels` (every label present, maybe empty).
fn parse_listing(refs: &[(String, ObjectId)], labels: &[Label]) -> Listing {
    let mut commits: BTreeMap<(Label, Version), ObjectId> = BTreeMap::new();
    let mut manifests: BTreeMap<(Label, Version), ObjectId> = BTreeMap::new();
    for (name, id) in refs {
        let Ok(parsed) = AtomRef::parse(name) else {
            continue;
        };
        let key = (parsed.label, parsed.version);
        match parsed.kind {
            RefKind::Atom => {
                commits.insert(key, *id);
            }
            RefKind::Manifest => {
                manifests.insert(key, *id);
            }
            RefKind::Origin => {}
        }
    }
    let mut listing: Listing = labels
        .iter()
        .map(|label| (label.clone(), BTreeMap::new()))
        .collect();
    for ((label, version), commit) in commits {
        let manifest = manifests.get(&(label.clone(), version.clone())).copied();
        if let Some(versions) = listing.get_mut(&label) {
            versions.insert(
                version,
                Entry {
                    commit: ObjectIdText(commit),
                    manifest: manifest.map(ObjectIdText),
                },
            );
        }
    }
    listing
}

/// Per label and version: the merged entry and the mirrors that listed it.
type Merged = BTreeMap<Label, BTreeMap<Version, (Entry, Vec<SetUrl>)>>;

/// List, fetch and read the published versions of `labels` in the set mirrored at
/// `mirrors` (see the module docs), reporting progress to `reporter`. With `offline`,
/// only the cache is used.
pub fn discover(
    cache: &Cache,
    mirrors: &[SetUrl],
    labels: &[Label],
    offline: bool,
    reporter: &dyn Reporter,
) -> Result<SetAtoms, Error> {
    let labels: Vec<Label> = labels
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut outcome = SetAtoms::default();
    let answers = if offline {
        read_cached_listings(cache, mirrors, &labels)?
    } else {
        list_mirrors(mirrors, &labels, &mut outcome.warnings, reporter)?
    };
    let merged = check_agreement(&answers, &labels)?;
    outcome.answered = answers.iter().map(|(url, _)| url.clone()).collect();
    require_manifests(&merged)?;
    fetch_missing(
        cache,
        &merged,
        &outcome.answered,
        mirrors,
        offline,
        reporter,
    )?;
    if !offline {
        record_index(cache, &answers)?;
    }
    if let Some(reason) = unreadable_object(cache, &merged)? {
        // A damaged object store: rebuild it and fetch once more.
        cache.rebuild_atoms_repo(&reason)?;
        fetch_missing(
            cache,
            &merged,
            &outcome.answered,
            mirrors,
            offline,
            reporter,
        )?;
    }
    read_all_published(cache, &merged, &labels, &mut outcome)?;
    outcome.warnings.extend(
        cache
            .take_repairs()
            .into_iter()
            .map(|repair| Warning::CacheRebuilt(repair.to_string())),
    );
    Ok(outcome)
}

/// Offline: every mirror's listing from the index; every label must have been listed.
fn read_cached_listings(
    cache: &Cache,
    mirrors: &[SetUrl],
    labels: &[Label],
) -> Result<Vec<(SetUrl, Listing)>, Error> {
    let mut answers = Vec::new();
    for url in mirrors {
        if let Some(listing) = read_index(cache, url)? {
            answers.push((url.clone(), listing));
        }
    }
    let first = mirrors.first().cloned().ok_or_else(|| Error::Unreachable {
        urls: Vec::new(),
        causes: vec!["the set has no URL".to_owned()],
        hint: "declare a URL for the set in `[package.sets]`",
    })?;
    for label in labels {
        if !answers
            .iter()
            .any(|(_, listing)| listing.contains_key(label))
        {
            return Err(Error::NotCached {
                url: first,
                label: label.clone(),
                what: "its versions were never listed".to_owned(),
                hint: "run the command once without `--offline` to fill the cache",
            });
        }
    }
    Ok(answers)
}

/// List every mirror at once (one thread each); a mirror that fails becomes a warning
/// while another answers.
fn list_mirrors(
    mirrors: &[SetUrl],
    labels: &[Label],
    warnings: &mut Vec<Warning>,
    reporter: &dyn Reporter,
) -> Result<Vec<(SetUrl, Listing)>, Error> {
    let prefixes: Vec<String> = labels
        .iter()
        .flat_map(|label| [atom_prefix(label), meta_prefix(label)])
        .collect();
    let step = Step::begin(reporter, "Listing", Some(mirrors.len() as u64));
    let results: Vec<Result<Vec<(String, ObjectId)>, remote::Error>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = mirrors
                .iter()
                .map(|url| {
                    let (prefixes, step) = (&prefixes, &step);
                    scope.spawn(move || {
                        let result = list_once_more(url, prefixes);
                        step.advance(url.as_str());
                        result
                    })
                })
                .collect();
            handles
                .into_iter()
                .zip(mirrors)
                .map(|(handle, url)| {
                    handle.join().unwrap_or_else(|_| {
                        Err(remote::Error::Stopped {
                            url: url.to_string(),
                        })
                    })
                })
                .collect()
        });
    let mut answers = Vec::new();
    let mut causes = Vec::new();
    let mut all_timed_out = true;
    let mut all_not_found = true;
    for (url, result) in mirrors.iter().zip(results) {
        match result {
            Ok(refs) => answers.push((url.clone(), parse_listing(&refs, labels))),
            Err(error) => {
                all_timed_out &= error.is_timeout();
                all_not_found &= error.is_not_found();
                let message = error_chain(&error);
                causes.push(format!("`{url}`: {message}"));
                warnings.push(Warning::SkippedMirror {
                    url: url.clone(),
                    message,
                });
            }
        }
    }
    if answers.is_empty() && all_not_found && !mirrors.is_empty() {
        return Err(Error::NotFound {
            urls: mirrors.to_vec(),
        });
    }
    if answers.is_empty() {
        return Err(Error::Unreachable {
            urls: mirrors.to_vec(),
            causes,
            hint: if all_timed_out {
                "check the URLs and your connection, raise the deadline with \
                 `--timeout <seconds>`, `EKA_NET_TIMEOUT=<seconds>` or \
                 `[network] timeout = <seconds>` in `eka.toml`, or use `--offline` to work \
                 from the cache"
            } else {
                "check the URLs and your connection, or use `--offline` to work from the cache"
            },
        });
    }
    Ok(answers)
}

/// List `url`, once more after a failure (a loaded local server can drop a handshake),
/// but not after a timeout.
fn list_once_more(
    url: &SetUrl,
    prefixes: &[String],
) -> Result<Vec<(String, ObjectId)>, remote::Error> {
    match remote::list_refs(url.as_str(), prefixes) {
        Err(error) if error.is_timeout() => Err(error),
        Err(_) => remote::list_refs(url.as_str(), prefixes),
        Ok(refs) => Ok(refs),
    }
}

/// Merge the mirrors' listings, refusing two mirrors that name different objects for
/// one version.
fn check_agreement(answers: &[(SetUrl, Listing)], labels: &[Label]) -> Result<Merged, Error> {
    let mut merged = Merged::new();
    for (url, listing) in answers {
        for (label, versions) in listing {
            if !labels.contains(label) {
                continue;
            }
            let slot = merged.entry(label.clone()).or_default();
            for (version, entry) in versions {
                let Some((known, urls)) = slot.get_mut(version) else {
                    slot.insert(version.clone(), (*entry, vec![url.clone()]));
                    continue;
                };
                if let Some((what, first_id, second_id)) = disagreement(known, entry) {
                    return Err(Error::Tampering {
                        details: Box::new(Disagreement {
                            label: label.clone(),
                            version: version.clone(),
                            what,
                            first_url: urls[0].clone(),
                            first_id,
                            second_url: url.clone(),
                            second_id,
                        }),
                        hint: "find out which mirror was altered and remove it from `[package.sets]`",
                    });
                }
                if known.manifest.is_none() {
                    known.manifest = entry.manifest;
                }
                urls.push(url.clone());
            }
        }
    }
    Ok(merged)
}

fn disagreement(known: &Entry, entry: &Entry) -> Option<(&'static str, ObjectId, ObjectId)> {
    if known.commit != entry.commit {
        return Some(("commit", known.commit.0, entry.commit.0));
    }
    match (known.manifest, entry.manifest) {
        (Some(a), Some(b)) if a != b => Some(("manifest", a.0, b.0)),
        _ => None,
    }
}

/// Every version needs its manifest.
fn require_manifests(merged: &Merged) -> Result<(), Error> {
    for (label, versions) in merged {
        for (version, (entry, urls)) in versions {
            if entry.manifest.is_none() {
                return Err(Error::MissingManifest {
                    url: urls[0].clone(),
                    atom: format!("{label}@{version}"),
                });
            }
        }
    }
    Ok(())
}

/// The commits and manifests of `merged` not in the store, with who listed them.
fn missing_objects(repo: &gix::Repository, merged: &Merged) -> Vec<(ObjectId, Vec<SetUrl>, Label)> {
    let mut missing = Vec::new();
    for (label, versions) in merged {
        for (entry, urls) in versions.values() {
            for id in [Some(entry.commit), entry.manifest].into_iter().flatten() {
                if !repo.has_object(id.0) {
                    missing.push((id.0, urls.clone(), label.clone()));
                }
            }
        }
    }
    missing
}

/// Fetch what the store lacks, tree-less, one fetch per mirror until nothing is missing.
fn fetch_missing(
    cache: &Cache,
    merged: &Merged,
    answered: &[SetUrl],
    mirrors: &[SetUrl],
    offline: bool,
    reporter: &dyn Reporter,
) -> Result<(), Error> {
    let first_url = || {
        answered
            .first()
            .or_else(|| mirrors.first())
            .cloned()
            .ok_or_else(|| Error::Unreachable {
                urls: Vec::new(),
                causes: vec!["the set has no URL".to_owned()],
                hint: "declare a URL for the set in `[package.sets]`",
            })
    };
    let mut wanted = missing_objects(&cache.atoms_repo()?, merged);
    if wanted.is_empty() {
        return Ok(());
    }
    if offline {
        let (id, _, label) = &wanted[0];
        return Err(Error::NotCached {
            url: first_url()?,
            label: label.clone(),
            what: format!("object `{id}` was never fetched"),
            hint: "run the command once without `--offline` to fill the cache",
        });
    }
    let _lock = cache.lock()?;
    let step = Step::begin(reporter, "Fetching", Some(wanted.len() as u64));
    let mut last_error = None;
    for url in answered {
        let ids: Vec<ObjectId> = wanted
            .iter()
            .filter(|(_, urls, _)| urls.contains(url))
            .map(|(id, _, _)| *id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let spec = FetchSpec::objects(&ids, CACHE_NAMESPACE, Depth::TreeLess);
        if let Err(error) = cache.atoms_git().fetch(url.as_str(), &spec) {
            last_error = Some(Error::Fetch {
                url: url.clone(),
                error: Box::new(error),
            });
        }
        let still_missing = missing_objects(&cache.atoms_repo()?, merged);
        let missing_ids: BTreeSet<ObjectId> = still_missing.iter().map(|(id, _, _)| *id).collect();
        for (_, _, label) in wanted.iter().filter(|(id, _, _)| !missing_ids.contains(id)) {
            step.advance(label.as_str());
        }
        wanted = still_missing;
        if wanted.is_empty() {
            return Ok(());
        }
    }
    Err(match last_error {
        Some(error) => error,
        None => Error::NotSent {
            url: first_url()?,
            id: wanted[0].0,
        },
    })
}

/// Record what each mirror listed in its index file.
fn record_index(cache: &Cache, answers: &[(SetUrl, Listing)]) -> Result<(), Error> {
    for (url, listing) in answers {
        write_index(cache, url, listing)?;
    }
    Ok(())
}

/// The first object of `merged` the store has but cannot read, as a reason.
fn unreadable_object(cache: &Cache, merged: &Merged) -> Result<Option<String>, Error> {
    let repo = cache.atoms_repo()?;
    for versions in merged.values() {
        for (entry, _) in versions.values() {
            for id in [Some(entry.commit), entry.manifest].into_iter().flatten() {
                if let Err(error) = repo.find_object(id.0) {
                    return Ok(Some(format!("object `{}` is unreadable: {error}", id.0)));
                }
            }
        }
    }
    Ok(None)
}

/// Read every listed version from the store, checking they all name one set root.
fn read_all_published(
    cache: &Cache,
    merged: &Merged,
    labels: &[Label],
    outcome: &mut SetAtoms,
) -> Result<(), Error> {
    let repo = cache.atoms_repo()?;
    for label in labels {
        let mut versions = BTreeMap::new();
        for (version, (entry, urls)) in merged.get(label).into_iter().flatten() {
            let url = &urls[0];
            let published = read_published(&repo, url, label, version, entry)?;
            match outcome.set_root {
                None => outcome.set_root = Some(published.commit.set_root),
                Some(root) if root != published.commit.set_root => {
                    return Err(Error::MixedSets {
                        url: url.clone(),
                        first: root,
                        second: published.commit.set_root,
                    });
                }
                Some(_) => {}
            }
            versions.insert(version.clone(), published);
        }
        outcome.atoms.insert(label.clone(), versions);
    }
    Ok(())
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

fn read_published(
    repo: &gix::Repository,
    url: &SetUrl,
    label: &Label,
    version: &Version,
    entry: &Entry,
) -> Result<Published, Error> {
    let commit_id = entry.commit.0;
    let bad_commit = |message: String| Error::BadCommit {
        url: url.clone(),
        atom: format!("{label}@{version}"),
        commit_id,
        message,
    };
    let object = repo
        .find_object(commit_id)
        .map_err(|error| bad_commit(error.to_string()))?;
    if object.kind != gix::object::Kind::Commit {
        return Err(bad_commit(format!("it is a {}, not a commit", object.kind)));
    }
    let commit_ref = gix::objs::CommitRef::from_bytes(&object.data, gix::hash::Kind::Sha1)
        .map_err(|error| bad_commit(error.to_string()))?;
    let commit = AtomCommit::decode(&commit_ref).map_err(|error| bad_commit(error.to_string()))?;
    if &commit.label != label || &commit.version != version {
        return Err(bad_commit(format!(
            "it names `{}` `{}`",
            commit.label, commit.version
        )));
    }
    let bad_manifest = |message: String| Error::BadManifest {
        url: url.clone(),
        atom: format!("{label}@{version}"),
        message,
    };
    let manifest_id = entry
        .manifest
        .ok_or_else(|| bad_manifest("it has no manifest ref".to_owned()))?
        .0;
    let blob = repo
        .find_object(manifest_id)
        .map_err(|error| bad_manifest(error.to_string()))?;
    if blob.kind != gix::object::Kind::Blob {
        return Err(bad_manifest(format!("`{manifest_id}` is not a blob")));
    }
    let text =
        std::str::from_utf8(&blob.data).map_err(|_| bad_manifest("it is not UTF-8".to_owned()))?;
    let display = format!("{url}::{label}@{version}/atom.toml");
    let manifest =
        Manifest::from_str(text, &display).map_err(|error| bad_manifest(error.to_string()))?;
    if &manifest.package.label != label || &manifest.package.version != version {
        return Err(bad_manifest(format!(
            "it declares `{}` `{}`",
            manifest.package.label, manifest.package.version
        )));
    }
    Ok(Published {
        commit_id,
        commit,
        manifest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_pairs_commits_with_manifests() {
        let a = ObjectId::from_hex(b"1111111111111111111111111111111111111111").unwrap();
        let b = ObjectId::from_hex(b"2222222222222222222222222222222222222222").unwrap();
        let refs = vec![
            ("refs/eka/atoms/hello/1.0.0".to_owned(), a),
            ("refs/eka/meta/hello/1.0.0/manifest".to_owned(), b),
            ("refs/eka/meta/hello/1.0.0/origin".to_owned(), a),
            ("refs/eka/atoms/other/1.0.0".to_owned(), a),
        ];
        let hello = Label::parse("hello").unwrap();
        let missing = Label::parse("missing").unwrap();
        let listing = parse_listing(&refs, &[hello.clone(), missing.clone()]);
        assert_eq!(listing.len(), 2);
        assert!(listing[&missing].is_empty());
        let entry = listing[&hello][&Version::new(1, 0, 0)];
        assert_eq!(entry.commit.0, a);
        assert_eq!(entry.manifest.map(|id| id.0), Some(b));
    }
}
