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
//!    ([`git::Depth::TreeLess`]), by object id, writing no ref: the objects stay in the
//!    promisor pack git makes for a filtered fetch, which `git gc` always keeps (objects
//!    are immutable, so cached forever);
//! 4. record what each URL listed in a small index file per URL
//!    (`<cache>/v1/index/<digest of the URL>.toml`, written atomically), so `--offline`
//!    can answer from the cache alone and say exactly what is missing;
//! 5. read the commits and manifests back; an object the store has but cannot read (a
//!    damaged cache) makes the store be rebuilt and fetched once more, and a garbled
//!    index file is dropped; both come back as [`Warning::CacheRebuilt`].
//!
//! Within one run, a [`Session`] remembers every listing: a mirror met again in a later
//! round is listed whole once and, for a set of at most [`PREFETCH_VERSIONS`] versions,
//! all its objects are fetched in that go, so a dependency walk of any depth costs two
//! listings and two fetches per mirror. [`discover_set`] lists a whole set (`eka list`)
//! and leaves out broken versions ([`SetAtoms::bad`]) instead of failing.
//!
//! Each step is a function of its own ([`Session::discover`] calls them in order). Progress goes
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
        refs::{
            ATOMS_PREFIX, AtomRef, META_PREFIX, RefKind, atom_prefix, atom_ref, manifest_ref,
            meta_prefix,
        },
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
    /// Versions left out because their metadata is broken ([`discover_set`] only).
    pub bad: Vec<BadAtom>,
}

/// A published version whose metadata is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadAtom {
    /// The atom's label.
    pub label: Label,
    /// The version.
    pub version: Version,
    /// What is wrong (the error that reading it gave).
    pub message: String,
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

/// Where `eka verify` keeps the full commits it fetches: `refs/cache/<id>` (discovery
/// writes no refs).
pub const CACHE_NAMESPACE: &str = "refs/cache/";

/// The index file of one URL.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    url: String,
    #[serde(default)]
    atoms: BTreeMap<String, BTreeMap<String, Entry>>,
}

impl Cache {
    /// The atom commits the cache's index of `url` lists (its last listing).
    pub fn cached_commits(&self, url: &SetUrl) -> Result<Vec<ObjectId>, Error> {
        Ok(read_index(self, url)?
            .into_iter()
            .flat_map(|listing| listing.into_values())
            .flat_map(|versions| versions.into_values())
            .map(|entry| entry.commit.0)
            .collect())
    }

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

/// Merge `listing` (complete for its labels) into the index of `url`; an index that
/// already says the same is left alone (no write, no sync).
fn write_index(cache: &Cache, url: &SetUrl, listing: &Listing) -> Result<(), Error> {
    let path = index_path(cache, url);
    let mut merged = read_index(cache, url)?.unwrap_or_default();
    let unchanged = listing
        .iter()
        .all(|(label, versions)| merged.get(label) == Some(versions));
    if unchanged && path.is_file() {
        return Ok(());
    }
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

/// Parse listed refs into a listing: for `Some(labels)` exactly those labels (every one
/// present, maybe empty), for `None` every label the refs name.
fn parse_listing(refs: &[(String, ObjectId)], labels: Option<&[Label]>) -> Listing {
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
        .into_iter()
        .flatten()
        .map(|label| (label.clone(), BTreeMap::new()))
        .collect();
    for ((label, version), commit) in commits {
        let manifest = manifests.get(&(label.clone(), version.clone())).copied();
        let versions = match labels {
            Some(_) => listing.get_mut(&label),
            None => Some(listing.entry(label.clone()).or_default()),
        };
        if let Some(versions) = versions {
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

/// A set listed whole is fetched whole (every commit and manifest, in one fetch per
/// mirror) when it has at most this many versions; a bigger one is fetched per round.
pub const PREFETCH_VERSIONS: usize = 20_000;

/// What one run learnt from listing a mirror.
#[derive(Debug, Clone, Default)]
struct Known {
    /// Per label listed, its versions.
    listing: Listing,
    /// Whether `listing` is the whole set (every label), not just the labels asked for.
    whole: bool,
    /// Whether the whole set's objects were fetched (or judged too many) this run.
    prefetched: bool,
}

impl Known {
    /// The listing of `labels`, if this mirror's answer covers them all.
    fn covering(&self, labels: &[Label]) -> Option<Listing> {
        labels
            .iter()
            .map(|label| match self.listing.get(label) {
                Some(versions) => Some((label.clone(), versions.clone())),
                None if self.whole => Some((label.clone(), BTreeMap::new())),
                None => None,
            })
            .collect()
    }
}

/// Discovery across the rounds of one run (a resolver's catalog keeps one).
///
/// Each mirror's listing is remembered for the run, so no mirror is listed twice for one
/// label. A mirror met the first time is listed for the labels asked (server-side
/// prefixes); met again (a later round of a dependency walk), it is listed whole, once,
/// and when the set has at most [`PREFETCH_VERSIONS`] versions every commit and manifest
/// it lists is fetched in the same go. A chain of `n` atoms in one set thus costs two
/// listings and two fetches per mirror, whatever `n`.
#[derive(Debug, Default)]
pub struct Session {
    known: BTreeMap<SetUrl, Known>,
}

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
    Session::default().discover(cache, mirrors, labels, offline, reporter)
}

/// Every published version of the set mirrored at `mirrors`, listed whole (one listing
/// and one fetch per mirror). A version whose metadata is broken (no manifest ref, a
/// commit that is not an atom commit, a manifest that does not parse) does not fail the
/// discovery: it is left out and named in [`SetAtoms::bad`].
pub fn discover_set(
    cache: &Cache,
    mirrors: &[SetUrl],
    offline: bool,
    reporter: &dyn Reporter,
) -> Result<SetAtoms, Error> {
    Session::default().run(cache, mirrors, None, offline, true, reporter)
}

impl Session {
    /// [`discover`] within this run: mirrors already listed are not listed again.
    pub fn discover(
        &mut self,
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
        self.run(cache, mirrors, Some(&labels), offline, false, reporter)
    }

    /// `labels`: `None` for the whole set. `lenient`: broken versions go to
    /// [`SetAtoms::bad`] instead of failing.
    fn run(
        &mut self,
        cache: &Cache,
        mirrors: &[SetUrl],
        labels: Option<&[Label]>,
        offline: bool,
        lenient: bool,
        reporter: &dyn Reporter,
    ) -> Result<SetAtoms, Error> {
        let mut outcome = SetAtoms::default();
        let answers = if offline {
            self.cached_listings(cache, mirrors, labels)?
        } else {
            self.listings(cache, mirrors, labels, &mut outcome.warnings, reporter)?
        };
        let labels: Vec<Label> = match labels {
            Some(labels) => labels.to_vec(),
            None => answers
                .iter()
                .flat_map(|(_, listing)| listing.keys().cloned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
        };
        let merged = check_agreement(&answers, &labels)?;
        outcome.answered = answers.iter().map(|(url, _)| url.clone()).collect();
        let merged = if lenient {
            drop_missing_manifests(merged, &mut outcome.bad)
        } else {
            require_manifests(&merged)?;
            merged
        };
        if !offline {
            self.prefetch(cache, &outcome.answered, mirrors, reporter)?;
        }
        fetch_missing(
            cache,
            &merged,
            &outcome.answered,
            mirrors,
            offline,
            reporter,
        )?;
        let mut repo = reading_repo(cache)?;
        if let Some(reason) = unreadable_object(&repo, &merged) {
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
            repo = reading_repo(cache)?;
        }
        read_all_published(&repo, &merged, &labels, lenient, &mut outcome)?;
        outcome
            .bad
            .sort_by(|a, b| (&a.label, &a.version).cmp(&(&b.label, &b.version)));
        outcome.warnings.extend(
            cache
                .take_repairs()
                .into_iter()
                .map(|repair| Warning::CacheRebuilt(repair.to_string())),
        );
        Ok(outcome)
    }

    /// Online: each mirror's listing of `labels`, from this run's memory when it covers
    /// them, else listed (whole when the mirror was met before or `labels` is `None`)
    /// and recorded in memory and in the index.
    fn listings(
        &mut self,
        cache: &Cache,
        mirrors: &[SetUrl],
        labels: Option<&[Label]>,
        warnings: &mut Vec<Warning>,
        reporter: &dyn Reporter,
    ) -> Result<Vec<(SetUrl, Listing)>, Error> {
        let covered = |known: &Known| match labels {
            Some(labels) => known.covering(labels),
            None if known.whole => Some(known.listing.clone()),
            None => None,
        };
        let to_list: Vec<SetUrl> = mirrors
            .iter()
            .filter(|url| self.known.get(*url).and_then(covered).is_none())
            .cloned()
            .collect();
        if !to_list.is_empty() {
            let whole = labels.is_none() || to_list.iter().any(|url| self.known.contains_key(url));
            let listed = list_mirrors(&to_list, labels.filter(|_| !whole), warnings, reporter)?;
            for (url, listing) in listed {
                write_index(cache, &url, &listing)?;
                let known = self.known.entry(url).or_default();
                if whole {
                    known.listing = listing;
                    known.whole = true;
                } else {
                    known.listing.extend(listing);
                }
            }
        }
        Ok(mirrors
            .iter()
            .filter_map(|url| {
                let listing = self.known.get(url).and_then(covered)?;
                Some((url.clone(), listing))
            })
            .collect())
    }

    /// Offline: every mirror's listing from the index (read once per run); every label
    /// must have been listed by one of them.
    fn cached_listings(
        &mut self,
        cache: &Cache,
        mirrors: &[SetUrl],
        labels: Option<&[Label]>,
    ) -> Result<Vec<(SetUrl, Listing)>, Error> {
        let mut answers = Vec::new();
        for url in mirrors {
            if !self.known.contains_key(url) {
                let Some(listing) = read_index(cache, url)? else {
                    continue;
                };
                self.known.insert(
                    url.clone(),
                    Known {
                        listing,
                        ..Known::default()
                    },
                );
            }
            if let Some(known) = self.known.get(url) {
                let listing = match labels {
                    Some(labels) => labels
                        .iter()
                        .filter_map(|label| {
                            let versions = known.listing.get(label)?;
                            Some((label.clone(), versions.clone()))
                        })
                        .collect(),
                    None => known.listing.clone(),
                };
                answers.push((url.clone(), listing));
            }
        }
        let first = mirrors.first().cloned().ok_or_else(|| Error::Unreachable {
            urls: Vec::new(),
            causes: vec!["the set has no URL".to_owned()],
            hint: "declare a URL for the set in `[package.sets]`",
        })?;
        for label in labels.into_iter().flatten() {
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

    /// Fetch every object of the mirrors listed whole (once per run, when the set has
    /// at most [`PREFETCH_VERSIONS`] versions).
    fn prefetch(
        &mut self,
        cache: &Cache,
        answered: &[SetUrl],
        mirrors: &[SetUrl],
        reporter: &dyn Reporter,
    ) -> Result<(), Error> {
        let mut fresh = false;
        for url in answered {
            if let Some(known) = self.known.get_mut(url)
                && known.whole
                && !known.prefetched
            {
                known.prefetched = true;
                fresh = true;
            }
        }
        if !fresh {
            return Ok(());
        }
        let whole: Vec<(SetUrl, Listing)> = answered
            .iter()
            .filter_map(|url| {
                let known = self.known.get(url).filter(|known| known.whole)?;
                Some((url.clone(), known.listing.clone()))
            })
            .collect();
        let labels: Vec<Label> = whole
            .iter()
            .flat_map(|(_, listing)| listing.keys().cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let merged = check_agreement(&whole, &labels)?;
        let versions: usize = merged.values().map(BTreeMap::len).sum();
        if versions > PREFETCH_VERSIONS {
            return Ok(());
        }
        fetch_missing(cache, &merged, answered, mirrors, false, reporter)
    }
}

/// List every mirror at once (one thread each), for `labels` or (`None`) whole; a mirror
/// that fails becomes a warning while another answers.
fn list_mirrors(
    mirrors: &[SetUrl],
    labels: Option<&[Label]>,
    warnings: &mut Vec<Warning>,
    reporter: &dyn Reporter,
) -> Result<Vec<(SetUrl, Listing)>, Error> {
    let prefixes: Vec<String> = match labels {
        Some(labels) => labels
            .iter()
            .flat_map(|label| [atom_prefix(label), meta_prefix(label)])
            .collect(),
        None => vec![ATOMS_PREFIX.to_owned(), META_PREFIX.to_owned()],
    };
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
    let mut all_unauthenticated = true;
    for (url, result) in mirrors.iter().zip(results) {
        match result {
            Ok(refs) => answers.push((url.clone(), parse_listing(&refs, labels))),
            Err(error) => {
                all_timed_out &= error.is_timeout();
                all_unauthenticated &= error.is_authentication_failure();
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
            hint: if all_unauthenticated {
                CREDENTIALS_HINT
            } else if all_timed_out {
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

/// What to do when every mirror wanted credentials eka was not given.
const CREDENTIALS_HINT: &str = "eka never asks for credentials: configure a git credential helper \
     (http/https) or load your key into `ssh-agent` (ssh)";

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

/// Leave out the versions without a manifest ref, naming each in `bad`.
fn drop_missing_manifests(mut merged: Merged, bad: &mut Vec<BadAtom>) -> Merged {
    for (label, versions) in &mut merged {
        versions.retain(|version, (entry, urls)| {
            if entry.manifest.is_some() {
                return true;
            }
            let error = Error::MissingManifest {
                url: urls[0].clone(),
                atom: format!("{label}@{version}"),
            };
            bad.push(BadAtom {
                label: label.clone(),
                version: version.clone(),
                message: error.to_string(),
            });
            false
        });
    }
    merged
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

/// An object to fetch: its id, the mirrors that listed it, its atom's label and the ref
/// naming it.
struct Wanted {
    id: ObjectId,
    urls: Vec<SetUrl>,
    label: Label,
    ref_name: String,
}

/// The commits and manifests of `merged` not in the store, with who listed them.
fn missing_objects(repo: &gix::Repository, merged: &Merged) -> Vec<Wanted> {
    let mut missing = Vec::new();
    for (label, versions) in merged {
        for (version, (entry, urls)) in versions {
            let objects = [
                Some((entry.commit, atom_ref(label, version))),
                entry
                    .manifest
                    .map(|manifest| (manifest, manifest_ref(label, version))),
            ];
            for (id, ref_name) in objects.into_iter().flatten() {
                if !repo.has_object(id.0) {
                    missing.push(Wanted {
                        id: id.0,
                        urls: urls.clone(),
                        label: label.clone(),
                        ref_name,
                    });
                }
            }
        }
    }
    missing
}

/// Fetch `wanted` from `url` in one tree-less fetch, by object id (no ref is written: the
/// objects stay in the fetched promisor pack, see [`super::cache`]); a server that
/// refuses ids it did not advertise is asked once more by the refs naming them.
fn fetch_objects(cache: &Cache, url: &SetUrl, wanted: &[&Wanted]) -> Result<(), git::Error> {
    let ids: Vec<ObjectId> = wanted.iter().map(|wanted| wanted.id).collect();
    let store = cache.atoms_git();
    match store.fetch(url.as_str(), &FetchSpec::ids(&ids, Depth::TreeLess)) {
        Ok(()) => Ok(()),
        Err(error @ git::Error::Timeout { .. }) => Err(error),
        Err(error) => {
            let by_name = FetchSpec {
                refspecs: wanted
                    .iter()
                    .map(|wanted| wanted.ref_name.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
                depth: Depth::TreeLess,
            };
            store.fetch(url.as_str(), &by_name).map_err(|_| error)
        }
    }
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
    let Some(first) = wanted.first() else {
        return Ok(());
    };
    if offline {
        return Err(Error::NotCached {
            url: first_url()?,
            label: first.label.clone(),
            what: format!("object `{}` was never fetched", first.id),
            hint: "run the command once without `--offline` to fill the cache",
        });
    }
    let _lock = cache.lock()?;
    let step = Step::begin(reporter, "Fetching", Some(wanted.len() as u64));
    let mut last_error = None;
    for url in answered {
        let from_url: Vec<&Wanted> = wanted
            .iter()
            .filter(|wanted| wanted.urls.contains(url))
            .collect();
        if from_url.is_empty() {
            continue;
        }
        if let Err(error) = fetch_objects(cache, url, &from_url) {
            last_error = Some(Error::Fetch {
                url: url.clone(),
                error: Box::new(error),
            });
        }
        let still_missing = missing_objects(&cache.atoms_repo()?, merged);
        let missing_ids: BTreeSet<ObjectId> =
            still_missing.iter().map(|wanted| wanted.id).collect();
        for fetched in wanted
            .iter()
            .filter(|wanted| !missing_ids.contains(&wanted.id))
        {
            step.advance(fetched.label.as_str());
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
            id: wanted[0].id,
        },
    })
}

/// Bytes of decoded objects the store keeps in memory while discovery reads: enough for
/// every commit and manifest of a large set, so checking that they are readable and
/// decoding them inflate each object once.
const OBJECT_CACHE_BYTES: usize = 64 * 1024 * 1024;

/// The atom store, opened for reading with an object cache.
fn reading_repo(cache: &Cache) -> Result<gix::Repository, Error> {
    let mut repo = cache.atoms_repo()?;
    repo.object_cache_size(OBJECT_CACHE_BYTES);
    Ok(repo)
}

/// The first object of `merged` the store has but cannot read, as a reason.
fn unreadable_object(repo: &gix::Repository, merged: &Merged) -> Option<String> {
    for versions in merged.values() {
        for (entry, _) in versions.values() {
            for id in [Some(entry.commit), entry.manifest].into_iter().flatten() {
                if let Err(error) = repo.find_object(id.0) {
                    return Some(format!("object `{}` is unreadable: {error}", id.0));
                }
            }
        }
    }
    None
}

/// Read every listed version from the store, checking they all name one set root; with
/// `lenient`, a version that cannot be read goes to [`SetAtoms::bad`].
fn read_all_published(
    repo: &gix::Repository,
    merged: &Merged,
    labels: &[Label],
    lenient: bool,
    outcome: &mut SetAtoms,
) -> Result<(), Error> {
    for label in labels {
        let mut versions = BTreeMap::new();
        for (version, (entry, urls)) in merged.get(label).into_iter().flatten() {
            let url = &urls[0];
            let published = match read_published(repo, url, label, version, entry) {
                Ok(published) => published,
                Err(error) if lenient => {
                    outcome.bad.push(BadAtom {
                        label: label.clone(),
                        version: version.clone(),
                        message: error.to_string(),
                    });
                    continue;
                }
                Err(error) => return Err(error),
            };
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
        let listing = parse_listing(&refs, Some(&[hello.clone(), missing.clone()]));
        assert_eq!(listing.len(), 2);
        assert!(listing[&missing].is_empty());
        let entry = listing[&hello][&Version::new(1, 0, 0)];
        assert_eq!(entry.commit.0, a);
        assert_eq!(entry.manifest.map(|id| id.0), Some(b));
    }
}
