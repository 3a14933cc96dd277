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
//! 3. fetch the commits and manifest blobs not yet cached into the [`Cache`]'s bare
//!    repository (`<cache>/objects.git`) with one `git fetch --filter=tree:0` per remote,
//!    by object id, each under `refs/cache/<id>` (objects are immutable, so cached forever);
//! 4. record what each URL listed in a small index file per URL
//!    (`<cache>/index/<digest of the URL>.toml`, written atomically), so `--offline` can
//!    answer from the cache alone and say exactly what is missing.
//!
//! A server that does not allow filters sends the trees too (git warns and ignores the
//! filter); the answer is the same, only bigger.
//!
//! ```no_run
//! use atom::{Label, store::fetch::{Cache, discover}};
//!
//! let cache = Cache::open("/home/me/.cache/eka".as_ref())?;
//! let url = atom::uri::parse_set_url("https://example.org/set.git")?;
//! let labels = [Label::parse("hello")?];
//! let found = discover(&cache, &[url], &labels, false)?;
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

use crate::{
    Label,
    manifest::Manifest,
    store::{
        commit::AtomCommit,
        refs::{AtomRef, RefKind, atom_prefix, meta_prefix},
        remote,
    },
    uri::SetUrl,
};

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cache directory or its repository could not be prepared or read.
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
    #[error("cannot fetch from `{url}`: {stderr}")]
    Fetch {
        /// The URL.
        url: SetUrl,
        /// What git printed on stderr.
        stderr: String,
    },
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

impl Error {
    /// Whether the failure is a refusal or a failed check (bad data, tampering, missing
    /// cache entries) rather than an unexpected failure (I/O, unreachable servers).
    pub fn is_refusal(&self) -> bool {
        !matches!(
            self,
            Error::Cache { .. } | Error::Unreachable { .. } | Error::Fetch { .. }
        )
    }

    /// How to fix it, if eka knows.
    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Unreachable { hint, .. }
            | Error::Tampering { hint, .. }
            | Error::NotCached { hint, .. } => Some(hint),
            _ => None,
        }
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

/// A mirror skipped because it failed while another answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The mirror.
    pub url: SetUrl,
    /// Why it was skipped.
    pub message: String,
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

/// The on-disk cache: a bare repository of fetched objects and an index per URL.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
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

/// The index file of one URL.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    url: String,
    #[serde(default)]
    atoms: BTreeMap<String, BTreeMap<String, Entry>>,
}

impl Cache {
    /// Open (creating if needed) the cache in `dir`.
    pub fn open(dir: &Path) -> Result<Cache, Error> {
        let cache = Cache {
            dir: dir.to_path_buf(),
        };
        let repo = cache.repo_path();
        if !repo.join("HEAD").is_file() {
            std::fs::create_dir_all(dir).map_err(|error| cache.error(dir, error))?;
            let _lock =
                crate::fs::FileLock::acquire(dir).map_err(|error| cache.error(dir, error))?;
            if !repo.join("HEAD").is_file() {
                // Build it aside and rename, so no reader ever sees a half-made repository.
                let temporary = format!("objects.git.tmp-{}", std::process::id());
                let _ = std::fs::remove_dir_all(dir.join(&temporary));
                run_git(dir, &["init", "-q", "--bare", &temporary], &cache.dir)?;
                run_git(
                    &dir.join(&temporary),
                    &["config", "gc.auto", "0"],
                    &cache.dir,
                )?;
                std::fs::rename(dir.join(&temporary), &repo)
                    .map_err(|error| cache.error(&repo, error))?;
            }
        }
        Ok(cache)
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bare repository holding fetched objects.
    pub fn repo_path(&self) -> PathBuf {
        self.dir.join("objects.git")
    }

    /// Open the object repository.
    pub fn repo(&self) -> Result<gix::Repository, Error> {
        let path = self.repo_path();
        gix::open(&path).map_err(|error| self.error(&path, error))
    }

    fn error(&self, path: &Path, error: impl std::fmt::Display) -> Error {
        Error::Cache {
            path: path.to_path_buf(),
            message: error.to_string(),
        }
    }

    fn index_path(&self, url: &SetUrl) -> PathBuf {
        let digest = blake3::hash(url.as_str().as_bytes()).to_hex();
        self.dir
            .join("index")
            .join(format!("{}.toml", &digest.as_str()[..32]))
    }

    /// The labels the cache's index of `url` holds (what `--offline` can answer for).
    pub fn cached_labels(&self, url: &SetUrl) -> Result<Vec<Label>, Error> {
        Ok(self
            .read_index(url)?
            .map(|listing| listing.into_keys().collect())
            .unwrap_or_default())
    }

    fn read_index(&self, url: &SetUrl) -> Result<Option<Listing>, Error> {
        let path = self.index_path(url);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(self.error(&path, error)),
        };
        let index: Index = toml::from_str(&text).map_err(|error| self.error(&path, error))?;
        let mut listing = Listing::new();
        for (label, versions) in index.atoms {
            let label = Label::parse(&label).map_err(|error| self.error(&path, error))?;
            let mut parsed = BTreeMap::new();
            for (version, entry) in versions {
                let version = Version::parse(&version).map_err(|error| self.error(&path, error))?;
                parsed.insert(version, entry);
            }
            listing.insert(label, parsed);
        }
        Ok(Some(listing))
    }

    /// Merge `listing` (complete for its labels) into the index of `url`.
    fn write_index(&self, url: &SetUrl, listing: &Listing) -> Result<(), Error> {
        let path = self.index_path(url);
        let mut merged = self.read_index(url)?.unwrap_or_default();
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
        let text = toml::to_string(&index).map_err(|error| self.error(&path, error))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|error| self.error(parent, error))?;
        }
        crate::fs::write_atomic(&path, text.as_bytes())
            .map_err(|error| self.error(&path, error))?;
        Ok(())
    }
}

fn run_git(dir: &Path, args: &[&str], cache: &Path) -> Result<String, Error> {
    super::git::run(Some(dir), args)
        .map(|stdout| String::from_utf8_lossy(&stdout).into_owned())
        .map_err(|error| Error::Cache {
            path: cache.to_path_buf(),
            message: error.to_string(),
        })
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

/// List, fetch and read the published versions of `labels` in the set mirrored at
/// `mirrors` (see the module docs). With `offline`, only the cache is used.
pub fn discover(
    cache: &Cache,
    mirrors: &[SetUrl],
    labels: &[Label],
    offline: bool,
) -> Result<SetAtoms, Error> {
    let labels: Vec<Label> = labels
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut outcome = SetAtoms::default();
    // Per mirror that answered, its listing.
    let mut answers: Vec<(SetUrl, Listing)> = Vec::new();
    if offline {
        for url in mirrors {
            if let Some(listing) = cache.read_index(url)? {
                answers.push((url.clone(), listing));
            }
        }
        let first = mirrors.first().cloned().ok_or_else(|| Error::Unreachable {
            urls: Vec::new(),
            causes: vec!["the set has no URL".to_owned()],
            hint: "declare a URL for the set in `[package.sets]`",
        })?;
        for label in &labels {
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
    } else {
        let prefixes: Vec<String> = labels
            .iter()
            .flat_map(|label| [atom_prefix(label), meta_prefix(label)])
            .collect();
        let results: Vec<Result<Vec<(String, ObjectId)>, remote::Error>> =
            std::thread::scope(|scope| {
                let handles: Vec<_> = mirrors
                    .iter()
                    .map(|url| {
                        let prefixes = &prefixes;
                        // One retry: a loaded local server can drop a handshake.
                        scope.spawn(move || {
                            remote::list_refs(url.as_str(), prefixes)
                                .or_else(|_| remote::list_refs(url.as_str(), prefixes))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|handle| {
                        handle.join().unwrap_or_else(|_| {
                            Err(remote::Error::LsRemote {
                                url: String::new(),
                                stderr: "the listing thread panicked".to_owned(),
                            })
                        })
                    })
                    .collect()
            });
        let mut causes = Vec::new();
        for (url, result) in mirrors.iter().zip(results) {
            match result {
                Ok(refs) => answers.push((url.clone(), parse_listing(&refs, &labels))),
                Err(error) => {
                    let message = error_chain(&error);
                    causes.push(format!("`{url}`: {message}"));
                    outcome.warnings.push(Warning {
                        url: url.clone(),
                        message,
                    });
                }
            }
        }
        if answers.is_empty() {
            return Err(Error::Unreachable {
                urls: mirrors.to_vec(),
                causes,
                hint: "check the URLs and your connection, or use `--offline` to work from the cache",
            });
        }
    }
    // Merge the mirrors' listings, refusing disagreements.
    let mut merged: BTreeMap<Label, BTreeMap<Version, (Entry, Vec<SetUrl>)>> = BTreeMap::new();
    for (url, listing) in &answers {
        for (label, versions) in listing {
            if !labels.contains(label) {
                continue;
            }
            let slot = merged.entry(label.clone()).or_default();
            for (version, entry) in versions {
                match slot.get_mut(version) {
                    None => {
                        slot.insert(version.clone(), (*entry, vec![url.clone()]));
                    }
                    Some((known, urls)) => {
                        let disagreement = if known.commit != entry.commit {
                            Some(("commit", known.commit.0, entry.commit.0))
                        } else {
                            match (known.manifest, entry.manifest) {
                                (Some(a), Some(b)) if a != b => Some(("manifest", a.0, b.0)),
                                _ => None,
                            }
                        };
                        if let Some((what, first_id, second_id)) = disagreement {
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
        }
    }
    outcome.answered = answers.iter().map(|(url, _)| url.clone()).collect();
    let first_url = outcome
        .answered
        .first()
        .cloned()
        .or_else(|| mirrors.first().cloned());
    // Every version needs its manifest.
    for (label, versions) in &merged {
        for (version, (entry, urls)) in versions {
            if entry.manifest.is_none() {
                return Err(Error::MissingManifest {
                    url: urls[0].clone(),
                    atom: format!("{label}@{version}"),
                });
            }
        }
    }
    let repo = cache.repo()?;
    // Fetch what is missing, one fetch per remote.
    let missing = |repo: &gix::Repository| -> Vec<(ObjectId, Vec<SetUrl>, Label)> {
        let mut missing = Vec::new();
        for (label, versions) in &merged {
            for (entry, urls) in versions.values() {
                for id in [Some(entry.commit), entry.manifest].into_iter().flatten() {
                    if !repo.has_object(id.0) {
                        missing.push((id.0, urls.clone(), label.clone()));
                    }
                }
            }
        }
        missing
    };
    let mut wanted = missing(&repo);
    if !wanted.is_empty() {
        if offline {
            let (id, _, label) = &wanted[0];
            return Err(Error::NotCached {
                url: first_url.clone().unwrap_or_else(|| mirrors[0].clone()),
                label: label.clone(),
                what: format!("object `{id}` was never fetched"),
                hint: "run the command once without `--offline` to fill the cache",
            });
        }
        let _lock = crate::fs::FileLock::acquire(&cache.dir)
            .map_err(|error| cache.error(&cache.dir, error))?;
        let mut last_error = None;
        for url in &outcome.answered {
            let ids: Vec<ObjectId> = wanted
                .iter()
                .filter(|(_, urls, _)| urls.contains(url))
                .map(|(id, _, _)| *id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            match fetch_objects(cache, url, &ids) {
                Ok(()) => {}
                Err(error) => last_error = Some(error),
            }
            let repo = cache.repo()?;
            wanted = missing(&repo);
            if wanted.is_empty() {
                break;
            }
        }
        if !wanted.is_empty() {
            return Err(last_error.unwrap_or_else(|| Error::Fetch {
                url: first_url.clone().unwrap_or_else(|| mirrors[0].clone()),
                stderr: format!("object `{}` was not sent", wanted[0].0),
            }));
        }
    }
    if !offline {
        for (url, listing) in &answers {
            cache.write_index(url, listing)?;
        }
    }
    // Read the objects.
    let repo = cache.repo()?;
    for label in &labels {
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
    Ok(outcome)
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

fn fetch_objects(cache: &Cache, url: &SetUrl, ids: &[ObjectId]) -> Result<(), Error> {
    let refspecs: Vec<String> = ids
        .iter()
        .map(|id| format!("{id}:refs/cache/{id}"))
        .collect();
    let mut args: Vec<&str> = vec![
        "fetch",
        "-q",
        "--no-tags",
        "--no-write-fetch-head",
        "--filter=tree:0",
        "--",
        url.as_str(),
    ];
    args.extend(refspecs.iter().map(String::as_str));
    super::git::run(Some(&cache.repo_path()), &args)
        .map(drop)
        .map_err(|error| Error::Fetch {
            url: url.clone(),
            stderr: error.detail(),
        })
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
