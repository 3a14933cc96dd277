//! The atoms of a lock, fetched with their trees into the cache and checked before
//! anything uses them.
//!
//! Every command that hands a locked atom's bytes to something else (`eka export
//! --flake` pins a `narHash`, `eka vendor` writes files, `eka mirror` pushes the
//! commits, `eka eval`/`build` give the trees to Nix) goes through [`fetch`] and
//! [`Fetched::check`]:
//!
//! 1. [`fetch`] reads the lock's commits, rebuilds a damaged atom store, and fetches the
//!    commits missing from the cache's atom store (`<cache>/v1/atoms.git`) — or present
//!    without their tree, as discovery leaves them — with their trees: ONE fetch per
//!    mirror URL for all the commits it serves, mirrors in lock order, until none is
//!    missing. It reports a `Fetching` step (one item per mirror).
//! 2. [`Fetched::check`] checks one atom commit: its bytes hash to its id; it decodes as
//!    a canonical atom commit whose `set`, `label` and `version` headers are the lock's;
//!    its tree passes the hostile-tree validator ([`crate::tree::hash_tree`]); and the
//!    tree's BLAKE3 content hash equals both the lock's `content` and the commit's
//!    content header. Anything else is [`Error::Refused`], naming the mirror the commit
//!    came from (or the cache). Each tree is validated once per run.
//!
//! [`fetch_atoms`] does the same for some locked atoms only (the lock transaction checks
//! the atoms a new lock adds or changes, plus [`Fetched::check_manifest`]: the tree's
//! `atom.toml` is the published manifest resolution used; `eka tree --offline` checks
//! the atoms [`cached`] says the cache holds). [`Fetched::keep`] keeps a
//! checked commit under a ref of its own so Nix can fetch it from the atom store.
//!
//! Signatures, atom ids and the dependency closure are `eka verify`'s
//! ([`crate::walk`]). Main types: [`Fetched`], [`Origin`], [`Error`].
//!
//! ```no_run
//! use atom::{lock::Lockfile, progress::Silent, store::cache::Cache};
//!
//! let lock = Lockfile::read("atom.lock")?;
//! let cache = Cache::open("/home/me/.cache/eka".as_ref())?;
//! let mut fetched = verify::locked::fetch(&lock, &cache, false, &Silent)?;
//! for index in 0..fetched.len() {
//!     let tree = fetched.check(index)?;
//!     println!("{} is tree {tree}", fetched.atom(index).label);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;

use atom::{
    error::{Classify, Kind},
    lock::{LockedAtom, Lockfile},
    manifest::Manifest,
    progress::{Reporter, Step},
    store::{
        AtomCommit,
        cache::Cache,
        git::{Depth, FetchSpec},
    },
};

use gix::bstr::ByteSlice;

use crate::walk::{Against, Failure};

/// Why the locked atoms could not be fetched or were refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An atom commit is not cached and could not be fetched.
    #[error("atom commit `{commit}` of `{label}` is not cached and could not be fetched{}", if *offline { " (offline)" } else { "" })]
    Missing {
        /// The atom.
        label: String,
        /// Its commit.
        commit: String,
        /// Whether fetching was forbidden.
        offline: bool,
    },
    /// The cache could not be opened, locked or repaired.
    #[error(transparent)]
    Cache(#[from] atom::store::cache::Error),
    /// A locked commit is not a valid object id.
    #[error("locked atom `{label}` has an invalid commit: {message}")]
    Commit {
        /// The atom.
        label: String,
        /// Why.
        message: String,
    },
    /// Fetching atom commits from a mirror failed and some commit is still missing.
    #[error("cannot fetch atom commits from `{url}`")]
    Fetch {
        /// The mirror.
        url: String,
        /// What git said (naming the command and the URL).
        #[source]
        source: atom::store::git::Error,
    },
    /// A locked atom commit is not what the lock says, or its tree is hostile: it is
    /// not used.
    #[error("atom `{label}@{version}` from {origin} is refused")]
    Refused {
        /// The atom.
        label: String,
        /// Its locked version.
        version: String,
        /// Where its commit came from.
        origin: Origin,
        /// What is wrong.
        #[source]
        failure: Box<Failure>,
    },
    /// The `atom.toml` in a locked atom's tree is not the manifest its set published
    /// for that version (`refs/eka/meta/<label>/<version>/manifest`), which resolution
    /// used: the atom is not locked.
    #[error(
        "atom `{label}@{version}` from {origin} is refused: the `atom.toml` in its tree \
         is not the manifest published as `refs/eka/meta/{label}/{version}/manifest` ({reason})"
    )]
    ManifestMismatch {
        /// The atom.
        label: String,
        /// Its version.
        version: String,
        /// Where its commit came from.
        origin: Origin,
        /// What differs.
        reason: String,
    },
    /// The ref keeping a checked atom commit in the atom store could not be written.
    #[error("cannot keep atom commit `{commit}` in the atom store")]
    Keep {
        /// The commit.
        commit: String,
        /// What went wrong.
        message: String,
    },
    /// The tree of an atom could not be read to validate it.
    #[error("cannot read the tree of atom `{label}`")]
    Tree {
        /// The atom.
        label: String,
        /// The cause.
        #[source]
        source: crate::tree::Error,
    },
}

impl Classify for Error {
    /// A missing, invalid or refused commit is the lock's or a mirror's data; a cache,
    /// fetch or read failure is the environment.
    fn kind(&self) -> Kind {
        match self {
            Error::Missing { .. }
            | Error::Commit { .. }
            | Error::Refused { .. }
            | Error::ManifestMismatch { .. } => Kind::Input,
            Error::Keep { .. } => Kind::Environment,
            Error::Cache(error) => error.kind(),
            Error::Fetch { source, .. } => source.kind(),
            Error::Tree { .. } => Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Missing { offline: true, .. } => {
                Some("run again without `--offline` to fetch it from its mirrors".into())
            }
            Error::Missing { .. } => Some("check the atom's mirrors with `eka verify`".into()),
            Error::Refused { .. } => Some("run `eka verify` to see which mirror changed it".into()),
            Error::ManifestMismatch { .. } => Some(
                "the set's publisher must republish the version; ask them, or require another version"
                    .into(),
            ),
            Error::Cache(error) => error.hint(),
            Error::Fetch { source, .. } => source.hint(),
            Error::Commit { .. } | Error::Tree { .. } | Error::Keep { .. } => None,
        }
    }
}

impl Error {
    /// The same error, naming `url` instead of the cache as where a refused commit came
    /// from: for a caller that knows the mirror serves that commit (discovery just
    /// listed it there, and a commit id names its bytes).
    pub fn served_by(self, url: &str) -> Error {
        match self {
            Error::Refused {
                label,
                version,
                origin: Origin::Cache,
                failure,
            } => Error::Refused {
                label,
                version,
                origin: Origin::Mirror(url.to_owned()),
                failure,
            },
            Error::ManifestMismatch {
                label,
                version,
                origin: Origin::Cache,
                reason,
            } => Error::ManifestMismatch {
                label,
                version,
                origin: Origin::Mirror(url.to_owned()),
                reason,
            },
            other => other,
        }
    }
}

/// The lock's atom commits, present with their trees in the cache's atom store.
pub struct Fetched<'a> {
    repo: gix::Repository,
    commits: Vec<(&'a LockedAtom, gix::ObjectId)>,
    served: Served,
    verdicts: TreeVerdicts,
}

impl std::fmt::Debug for Fetched<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fetched")
            .field("commits", &self.commits.len())
            .finish_non_exhaustive()
    }
}

impl<'a> Fetched<'a> {
    /// How many atoms the lock has.
    pub fn len(&self) -> usize {
        self.commits.len()
    }

    /// Whether the lock has no atom.
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    /// The locked atom at `index` (lock order).
    pub fn atom(&self, index: usize) -> &'a LockedAtom {
        self.commits[index].0
    }

    /// The atom commit of the atom at `index`.
    pub fn commit(&self, index: usize) -> gix::ObjectId {
        self.commits[index].1
    }

    /// The atom store holding every commit with its tree.
    pub fn repo(&self) -> &gix::Repository {
        &self.repo
    }

    /// Where the commit of the atom at `index` came from in this run.
    pub fn origin(&self, index: usize) -> Origin {
        self.served
            .get(&self.commits[index].1)
            .map_or(Origin::Cache, |url| Origin::Mirror(url.clone()))
    }

    /// Check the atom at `index` (see the module docs) and return its tree.
    pub fn check(&mut self, index: usize) -> Result<gix::ObjectId, Error> {
        let (atom, commit) = self.commits[index];
        let origin = self.origin(index);
        check_atom(&self.repo, atom, commit, origin, &mut self.verdicts)
    }

    /// Check that the `atom.toml` in `tree` (the tree [`Fetched::check`] returned for
    /// the atom at `index`) is `published`, the manifest resolution used.
    pub fn check_manifest(
        &self,
        index: usize,
        tree: gix::ObjectId,
        published: &Manifest,
    ) -> Result<(), Error> {
        let atom = self.atom(index);
        let mismatch = |reason: String| Error::ManifestMismatch {
            label: atom.label.to_string(),
            version: atom.version.to_string(),
            origin: self.origin(index),
            reason,
        };
        let unreadable = |object: gix::ObjectId| Error::Missing {
            label: atom.label.to_string(),
            commit: object.to_string(),
            offline: false,
        };
        let tree = self.repo.find_object(tree).map_err(|_| unreadable(tree))?;
        let entry = tree
            .try_into_tree()
            .ok()
            .and_then(|tree| tree.find_entry("atom.toml").map(|entry| entry.object_id()));
        let Some(blob) = entry else {
            return Err(mismatch("the tree has no `atom.toml`".into()));
        };
        let data = self
            .repo
            .find_object(blob)
            .map_err(|_| unreadable(blob))?
            .detach()
            .data;
        let Ok(text) = std::str::from_utf8(&data) else {
            return Err(mismatch("the tree's `atom.toml` is not UTF-8".into()));
        };
        let display = format!("{}@{}/atom.toml", atom.label, atom.version);
        match Manifest::from_str(text, &display) {
            Ok(found) if &found == published => Ok(()),
            Ok(_) => Err(mismatch("they differ".into())),
            Err(error) => Err(mismatch(format!(
                "the tree's `atom.toml` is invalid: {error}"
            ))),
        }
    }

    /// Keep the commit of the atom at `index` in the atom store under a ref of its own
    /// (`refs/cache/<commit>`, created if missing) and return that ref's name, so a
    /// `git fetch` of the atom store (Nix's `builtins.fetchGit`) can ask for it.
    pub fn keep(&self, index: usize) -> Result<String, Error> {
        let commit = self.commit(index);
        let name = format!("{CACHE_NAMESPACE}{commit}");
        let present = self
            .repo
            .try_find_reference(name.as_str())
            .ok()
            .flatten()
            .and_then(|reference| reference.try_id().map(|id| id.detach()))
            == Some(commit);
        if !present {
            self.repo
                .reference(
                    name.as_str(),
                    commit,
                    gix::refs::transaction::PreviousValue::Any,
                    "eka: checked atom commit",
                )
                .map_err(|error| Error::Keep {
                    commit: commit.to_string(),
                    message: error.to_string(),
                })?;
        }
        Ok(name)
    }

    /// Check every atom, reporting a `Checking` step; returns the trees in lock order.
    pub fn check_all(&mut self, reporter: &dyn Reporter) -> Result<Vec<gix::ObjectId>, Error> {
        let step = Step::begin(reporter, "Checking", Some(self.len() as u64));
        (0..self.len())
            .map(|index| {
                let tree = self.check(index)?;
                step.advance(self.atom(index).label.as_str());
                Ok(tree)
            })
            .collect()
    }
}

/// Fetch every locked atom commit of `lock` missing from `cache` with its tree (never
/// when `offline`), rebuilding a damaged atom store first.
pub fn fetch<'a>(
    lock: &'a Lockfile,
    cache: &Cache,
    offline: bool,
    reporter: &dyn Reporter,
) -> Result<Fetched<'a>, Error> {
    let atoms: Vec<&LockedAtom> = lock.atoms.iter().collect();
    fetch_atoms(&atoms, cache, offline, reporter)
}

/// [`fetch`] for some locked atoms only (e.g. those a new lock adds or changes): ONE
/// fetch per mirror for all of them; [`Fetched`] indexes them in the order given.
pub fn fetch_atoms<'a>(
    atoms: &[&'a LockedAtom],
    cache: &Cache,
    offline: bool,
    reporter: &dyn Reporter,
) -> Result<Fetched<'a>, Error> {
    let commits = atoms
        .iter()
        .map(|atom| Ok((*atom, commit_id(atom)?)))
        .collect::<Result<Vec<_>, Error>>()?;
    if let Some(reason) = unreadable_commit(&cache.atoms_repo()?, &commits) {
        // A damaged store: rebuild it (a warning) and fetch again.
        cache.rebuild_atoms_repo(&reason)?;
    }
    let (served, fetch_error) = if offline {
        (Served::new(), None)
    } else {
        fetch_missing(cache, &commits, reporter)?
    };
    let repo = cache.atoms_repo()?;
    if let Some((atom, _)) = missing(&repo, &commits).first() {
        return Err(match fetch_error {
            Some(error) => error,
            None => Error::Missing {
                label: atom.label.to_string(),
                commit: atom.commit.to_string(),
                offline,
            },
        });
    }
    Ok(Fetched {
        repo,
        commits,
        served,
        verdicts: TreeVerdicts::new(),
    })
}

/// Whether each of `atoms` (in the order given) has its commit, with its tree, in the
/// cache's atom store: the atoms an `offline` [`fetch_atoms`] can serve, for a caller
/// that shows what it can without the network.
pub fn cached(atoms: &[&LockedAtom], cache: &Cache) -> Result<Vec<bool>, Error> {
    let repo = cache.atoms_repo()?;
    atoms
        .iter()
        .map(|atom| Ok(has_commit_with_tree(&repo, commit_id(atom)?)))
        .collect()
}

/// Where fetched atom commits are kept in the atom store (shared with discovery and
/// verify).
const CACHE_NAMESPACE: &str = "refs/cache/";

fn commit_id(atom: &LockedAtom) -> Result<gix::ObjectId, Error> {
    gix::ObjectId::from_hex(atom.commit.as_str().as_bytes()).map_err(|error| Error::Commit {
        label: atom.label.to_string(),
        message: error.to_string(),
    })
}

/// Whether the store holds `id` with its root tree (discovery fetches commits without).
fn has_commit_with_tree(repo: &gix::Repository, id: gix::ObjectId) -> bool {
    repo.find_object(id)
        .ok()
        .and_then(|object| object.try_into_commit().ok())
        .and_then(|commit| commit.tree_id().ok())
        .is_some_and(|tree| repo.has_object(tree))
}

/// The first atom whose commit the store claims to have but cannot read, with why.
fn unreadable_commit(
    repo: &gix::Repository,
    commits: &[(&LockedAtom, gix::ObjectId)],
) -> Option<String> {
    commits.iter().find_map(|(_, id)| {
        if !repo.has_object(*id) {
            return None;
        }
        repo.find_object(*id)
            .err()
            .map(|error| format!("object `{id}` is unreadable: {error}"))
    })
}

/// The atoms whose commit (with its tree) is not in the store yet.
fn missing<'a>(
    repo: &gix::Repository,
    commits: &[(&'a LockedAtom, gix::ObjectId)],
) -> Vec<(&'a LockedAtom, gix::ObjectId)> {
    commits
        .iter()
        .filter(|(_, id)| !has_commit_with_tree(repo, *id))
        .copied()
        .collect()
}

/// Which mirror URL served each atom commit fetched in this run.
type Served = HashMap<gix::ObjectId, String>;

/// Fetch the missing atom commits with their trees: ONE fetch per mirror URL for all
/// the commits it serves, mirrors in lock order, until none is missing. Returns the
/// mirror that served each fetched commit, and the last failure, kept to be reported
/// if some commit stays missing.
fn fetch_missing(
    cache: &Cache,
    commits: &[(&LockedAtom, gix::ObjectId)],
    reporter: &dyn Reporter,
) -> Result<(Served, Option<Error>), Error> {
    let mut served = Served::new();
    let mut wanted = missing(&cache.atoms_repo()?, commits);
    if wanted.is_empty() {
        return Ok((served, None));
    }
    let _lock = cache.lock()?;
    let mut mirrors: Vec<&str> = Vec::new();
    for (atom, _) in &wanted {
        for mirror in &atom.mirrors {
            if !mirrors.contains(&mirror.as_str()) {
                mirrors.push(mirror.as_str());
            }
        }
    }
    let step = Step::begin(reporter, "Fetching", Some(mirrors.len() as u64));
    let mut last_error = None;
    for url in mirrors {
        let ids: Vec<gix::ObjectId> = wanted
            .iter()
            .filter(|(atom, _)| atom.mirrors.iter().any(|mirror| mirror.as_str() == url))
            .map(|(_, id)| *id)
            .collect();
        if ids.is_empty() {
            step.advance(url);
            continue;
        }
        let spec = FetchSpec::objects(&ids, CACHE_NAMESPACE, Depth::Full);
        if let Err(source) = cache.atoms_git().fetch(url, &spec) {
            last_error = Some(Error::Fetch {
                url: url.to_owned(),
                source,
            });
        }
        step.advance(url);
        let still = missing(&cache.atoms_repo()?, commits);
        for id in ids {
            if !still.iter().any(|(_, missing)| *missing == id) {
                served.entry(id).or_insert_with(|| url.to_owned());
            }
        }
        wanted = still;
        if wanted.is_empty() {
            return Ok((served, None));
        }
    }
    Ok((served, last_error))
}

/// Where an atom commit checked by the export came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Fetched in this run from this mirror URL.
    Mirror(String),
    /// Already in the cache's atom store, fetched by an earlier command.
    Cache,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Mirror(url) => write!(f, "mirror `{url}`"),
            Origin::Cache => f.write_str("the cache"),
        }
    }
}

/// What a checked tree was found to be, by tree id: its content hash, or why it is
/// refused.
type TreeVerdicts = HashMap<gix::ObjectId, Result<String, Failure>>;

/// The decoded atom commit `id`, or why it is not a canonical atom commit.
fn decode_commit(
    repo: &gix::Repository,
    atom: &LockedAtom,
    id: gix::ObjectId,
) -> Result<Result<AtomCommit, Failure>, Error> {
    let not_atom = |reason: String| {
        Ok(Err(Failure::NotAtomCommit {
            commit: id.to_string(),
            reason,
        }))
    };
    let object = repo.find_object(id).map_err(|_| Error::Missing {
        label: atom.label.to_string(),
        commit: id.to_string(),
        offline: false,
    })?;
    if object.kind != gix::object::Kind::Commit {
        return not_atom(format!("the object is a {}", object.kind));
    }
    let data = object.detach().data;
    match gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Commit, &data) {
        Ok(actual) if actual == id => {}
        Ok(actual) => {
            return not_atom(format!(
                "the object's bytes hash to `{actual}`, not to its id"
            ));
        }
        Err(error) => return not_atom(error.to_string()),
    }
    let decoded = gix::objs::CommitRef::from_bytes(&data, repo.object_hash())
        .map_err(|error| error.to_string())
        .and_then(|parsed| AtomCommit::decode(&parsed).map_err(|error| error.to_string()));
    match decoded {
        Ok(commit) => Ok(Ok(commit)),
        Err(reason) => not_atom(reason),
    }
}

/// The first header of `commit` that disagrees with the lock's `atom`.
fn header_mismatch(atom: &LockedAtom, commit: &AtomCommit) -> Option<Failure> {
    [
        ("set", atom.set.to_string(), commit.set_root.to_string()),
        ("label", atom.label.to_string(), commit.label.to_string()),
        (
            "version",
            atom.version.to_string(),
            commit.version.to_string(),
        ),
    ]
    .into_iter()
    .find(|(_, expected, found)| expected != found)
    .map(|(field, expected, found)| Failure::HeaderMismatch {
        field,
        expected,
        found,
    })
}

/// Validate `tree` and compute its content hash (once per tree id).
fn tree_verdict(
    repo: &gix::Repository,
    atom: &LockedAtom,
    tree: gix::ObjectId,
    verdicts: &mut TreeVerdicts,
) -> Result<Result<String, Failure>, Error> {
    if let Some(verdict) = verdicts.get(&tree) {
        return Ok(verdict.clone());
    }
    let verdict = match crate::tree::hash_tree(repo, tree, &crate::tree::Options::default()) {
        Ok(outcome) => Ok(outcome.hash.to_string()),
        Err(crate::tree::Error::Refused { path, violation }) => Err(Failure::HostileTree {
            path: path.to_str_lossy().into_owned(),
            violation: violation.to_string(),
        }),
        Err(source @ crate::tree::Error::Read { .. }) => {
            return Err(Error::Tree {
                label: atom.label.to_string(),
                source,
            });
        }
    };
    verdicts.insert(tree, verdict.clone());
    Ok(verdict)
}

/// Check the atom commit `id` before its tree is pinned: the commit's bytes hash to
/// its id and decode as a canonical atom commit whose `set`, `label` and `version`
/// headers are the lock's; its tree passes the validator of `eka verify` and
/// `eka publish` ([`crate::tree::hash_tree`]); and the tree's BLAKE3 content hash is
/// both the lock's `content` and the commit's content header. Returns the tree.
fn check_atom(
    repo: &gix::Repository,
    atom: &LockedAtom,
    id: gix::ObjectId,
    origin: Origin,
    verdicts: &mut TreeVerdicts,
) -> Result<gix::ObjectId, Error> {
    let refused = |failure: Failure| Error::Refused {
        label: atom.label.to_string(),
        version: atom.version.to_string(),
        origin: origin.clone(),
        failure: Box::new(failure),
    };
    let commit = decode_commit(repo, atom, id)?.map_err(refused)?;
    if let Some(failure) = header_mismatch(atom, &commit) {
        return Err(refused(failure));
    }
    let found = tree_verdict(repo, atom, commit.tree, verdicts)?.map_err(refused)?;
    for (against, expected) in [
        (Against::Lock, atom.content.as_str()),
        (Against::Header, commit.content.as_str()),
    ] {
        if expected != found {
            return Err(refused(Failure::ContentMismatch {
                against,
                expected: expected.to_owned(),
                found,
            }));
        }
    }
    Ok(commit.tree)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_atom_is_the_inputs_fault_and_points_to_verify() {
        let error = Error::Refused {
            label: "top".into(),
            version: "1.0.0".into(),
            origin: Origin::Mirror("https://h/x.git".into()),
            failure: Box::new(Failure::HostileTree {
                path: "escape".into(),
                violation: "the symlink's target is absolute".into(),
            }),
        };
        assert_eq!(error.kind(), Kind::Input);
        assert_eq!(
            error.to_string(),
            "atom `top@1.0.0` from mirror `https://h/x.git` is refused"
        );
        assert!(
            error
                .hint()
                .is_some_and(|hint| hint.contains("`eka verify`")),
            "{:?}",
            error.hint()
        );
        assert_eq!(Origin::Cache.to_string(), "the cache");
    }

    #[test]
    fn served_by_names_the_mirror_only_instead_of_the_cache() {
        let refused = |origin: Origin| Error::Refused {
            label: "top".into(),
            version: "1.0.0".into(),
            origin,
            failure: Box::new(Failure::HostileTree {
                path: ".git".into(),
                violation: "the name is `.git`".into(),
            }),
        };
        let named = refused(Origin::Cache).served_by("https://h/x.git");
        assert_eq!(
            named.to_string(),
            "atom `top@1.0.0` from mirror `https://h/x.git` is refused"
        );
        let kept = refused(Origin::Mirror("https://a/y.git".into())).served_by("https://h/x.git");
        assert_eq!(
            kept.to_string(),
            "atom `top@1.0.0` from mirror `https://a/y.git` is refused"
        );
        let manifest = Error::ManifestMismatch {
            label: "top".into(),
            version: "1.0.0".into(),
            origin: Origin::Cache,
            reason: "they differ".into(),
        }
        .served_by("https://h/x.git");
        assert!(
            manifest
                .to_string()
                .contains("from mirror `https://h/x.git`"),
            "{manifest}"
        );
        assert_eq!(manifest.kind(), Kind::Input);
    }
}
