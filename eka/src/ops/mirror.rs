//! `eka mirror <url> [--all-versions LABEL…]`: copy the lock's atoms, checked, to
//! another git repository in one atomic push.
//!
//! [`run`] reads the project's `atom.lock` and:
//!
//! 1. lists the destination's `refs/eka/` (an unreachable URL fails here, before
//!    anything is fetched);
//! 2. with `--all-versions`, lists `refs/eka/atoms/<label>/` of the labels' source
//!    mirrors and adds every published version the lock does not pin;
//! 3. fetches the atom commits missing from the cache's atom store, with their trees,
//!    and checks each one ([`verify::locked`]: commit bytes against the id, headers
//!    against the lock, the hostile-tree validator, the BLAKE3 content hash against the
//!    lock and the commit's header); a version added by `--all-versions` is checked
//!    against its own commit's headers (its set must be the locked set of its label);
//! 4. lists `refs/eka/meta/<label>/` and `refs/eka/attest/<label>/` of the source
//!    mirrors and fetches, with their history, the source commits (`origin` refs) and
//!    attestations of the mirrored versions they still serve;
//! 5. pushes, in ONE atomic push from the cache's atom store, every ref of every
//!    mirrored version: `refs/eka/atoms/<label>/<version>` (the atom commit; a
//!    signature is inside it), `refs/eka/meta/<label>/<version>/manifest` (the
//!    `atom.toml` blob of the atom's tree), `…/origin` (only when a source mirror
//!    served the source commit) and `refs/eka/attest/<label>/<version>/…`.
//!
//! A ref already on the destination at the same object is skipped; at another object,
//! the whole mirror is refused ([`Error::Immutable`]) and nothing is pushed: published
//! versions never move. Every pushed ref carries a "must not exist" lease, so a ref
//! created meanwhile is refused by the server too. Main types: [`Options`],
//! [`Outcome`], [`Error`].

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use atom::{
    Label,
    error::{Classify, Kind},
    lock::{ContentHash, LockedAtom, Lockfile},
    progress::{Reporter, Step},
    store::{
        AtomCommit, RefUpdate,
        cache::Cache,
        fetch::CACHE_NAMESPACE,
        git::{Depth, FetchSpec},
        push_refs,
        refs::{self, AtomRef, RefKind},
        remote,
    },
    uri::SetUrl,
};
use gix::ObjectId;
use semver::Version;

/// The prefix of attestation refs: `refs/eka/attest/<label>/<version>/…`.
pub const ATTEST_PREFIX: &str = "refs/eka/attest/";

/// What to mirror, and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The project directory (holding `atom.lock`).
    pub dir: PathBuf,
    /// The cache directory.
    pub cache: PathBuf,
    /// The destination repository's URL.
    pub url: String,
    /// Labels whose every published version is mirrored too.
    pub all_versions: Vec<String>,
    /// Whether the network is forbidden (mirroring is refused then).
    pub offline: bool,
}

/// One ref of the destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MirroredRef {
    /// The full ref name.
    pub name: String,
    /// The object it points to.
    pub id: ObjectId,
}

/// What `mirror` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The destination URL.
    pub url: String,
    /// The mirrored versions, `label@version`, sorted.
    pub atoms: Vec<String>,
    /// The refs pushed, sorted by name.
    pub pushed: Vec<MirroredRef>,
    /// The refs the destination already had at the same object, sorted by name.
    pub skipped: Vec<MirroredRef>,
}

/// A ref the destination has at another object than the one to mirror.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The ref name.
    pub name: String,
    /// What the destination has.
    pub existing: ObjectId,
    /// What would be pushed.
    pub wanted: ObjectId,
}

/// Why `mirror` refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--offline` forbids the push.
    #[error("`eka mirror` pushes to `{url}`, which `--offline` forbids")]
    Offline {
        /// The destination.
        url: String,
    },
    /// The lock could not be read.
    #[error(transparent)]
    Lock(#[from] atom::lock::Error),
    /// The cache could not be opened or locked.
    #[error(transparent)]
    Cache(#[from] atom::store::cache::Error),
    /// A label given to `--all-versions` is invalid.
    #[error("`{input}` is not a valid label")]
    Label {
        /// What was given.
        input: String,
        /// Why.
        #[source]
        source: atom::label::Error,
    },
    /// A label given to `--all-versions` is not in the lock.
    #[error("`{label}` is not a locked atom, so its set is unknown")]
    NotLocked {
        /// The label.
        label: Label,
    },
    /// The destination's refs could not be listed.
    #[error("cannot reach the mirror `{url}`")]
    Destination {
        /// The destination.
        url: String,
        /// Why.
        #[source]
        source: Box<remote::Error>,
    },
    /// No source mirror of a label could be listed.
    #[error("cannot list the versions of `{label}` on its mirrors")]
    Source {
        /// The label.
        label: Label,
        /// The last failure.
        #[source]
        source: Box<remote::Error>,
    },
    /// A locked atom could not be fetched, or was refused.
    #[error(transparent)]
    Locked(Box<verify::locked::Error>),
    /// The destination has refs at other objects: published versions never move.
    #[error(
        "the mirror `{url}` already has `{}` at `{}`, not `{}`{}; nothing was pushed",
        conflicts[0].name,
        conflicts[0].existing,
        conflicts[0].wanted,
        if conflicts.len() > 1 { format!(" (and {} more refs)", conflicts.len() - 1) } else { String::new() }
    )]
    Immutable {
        /// The destination.
        url: String,
        /// Every conflicting ref (at least one).
        conflicts: Vec<Conflict>,
    },
    /// The push could not be carried out.
    #[error("cannot push to the mirror `{url}`")]
    Push {
        /// The destination.
        url: String,
        /// Why.
        #[source]
        source: Box<atom::store::push::Error>,
    },
    /// The server refused the push (nothing was kept).
    #[error("the mirror `{url}` refused `{name}` ({reason}); nothing was pushed")]
    Rejected {
        /// The destination.
        url: String,
        /// The first refused ref.
        name: String,
        /// Why, as git said.
        reason: String,
    },
}

impl From<verify::locked::Error> for Error {
    fn from(error: verify::locked::Error) -> Self {
        Error::Locked(Box::new(error))
    }
}

impl Classify for Error {
    /// The request, the lock or a mirror's data refused are [`Kind::Input`]; the network,
    /// the cache and a server refusing a push are the environment.
    fn kind(&self) -> Kind {
        match self {
            Error::Offline { .. }
            | Error::Label { .. }
            | Error::NotLocked { .. }
            | Error::Immutable { .. } => Kind::Input,
            Error::Lock(error) => error.kind(),
            Error::Cache(error) => error.kind(),
            Error::Locked(error) => error.kind(),
            Error::Destination { source, .. } | Error::Source { source, .. } => source.kind(),
            Error::Push { source, .. } => source.kind(),
            Error::Rejected { .. } => Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Offline { .. } => Some("run `eka mirror` without `--offline`".into()),
            Error::Label { .. } | Error::NotLocked { .. } => {
                Some("pass labels of `atom.lock` to `--all-versions`".into())
            }
            Error::Immutable { .. } => Some(
                "a published version never changes; mirror to an empty repository, or remove \
                 the wrong refs on the mirror by hand"
                    .into(),
            ),
            Error::Rejected { .. } => {
                Some("check that you may push to the mirror, and its hooks".into())
            }
            Error::Lock(error) => error.hint(),
            Error::Cache(error) => error.hint(),
            Error::Locked(error) => error.hint(),
            Error::Destination { source, .. } | Error::Source { source, .. } => source.hint(),
            Error::Push { source, .. } => source.hint(),
        }
    }
}

/// Mirror the lock's atoms (and `--all-versions`' labels) to `options.url`.
pub fn run(options: &Options, reporter: &dyn Reporter) -> Result<Outcome, Error> {
    if options.offline {
        return Err(Error::Offline {
            url: options.url.clone(),
        });
    }
    let lock = Lockfile::read(options.dir.join(atom::lock::FILE_NAME))?;
    let cache = Cache::open(&options.cache)?;
    let destination = list_destination(&options.url)?;
    let labels = all_versions_labels(&lock, &options.all_versions)?;
    let extra = unlocked_versions(&lock, &labels, reporter)?;

    let mut atoms = checked_atoms(&lock, &cache, reporter)?;
    if !extra.is_empty() {
        atoms.extend(checked_extra_atoms(&extra, &cache, reporter)?);
    }
    let mut wanted = atom_refs(&cache, &atoms)?;
    wanted.extend(source_refs(&cache, &atoms, reporter)?);
    wanted.sort();
    wanted.dedup();

    let (pushed, skipped) = against_destination(wanted, &destination, &options.url)?;
    push(&cache, &options.url, &pushed, reporter)?;
    let mut versions: Vec<String> = atoms
        .iter()
        .map(|atom| format!("{}@{}", atom.label, atom.version))
        .collect();
    versions.sort();
    versions.dedup();
    Ok(Outcome {
        url: options.url.clone(),
        atoms: versions,
        pushed,
        skipped,
    })
}

/// Split the refs to mirror into those to push and those the destination already has;
/// any it has at another object refuses the mirror.
fn against_destination(
    wanted: Vec<(String, ObjectId)>,
    destination: &BTreeMap<String, ObjectId>,
    url: &str,
) -> Result<(Vec<MirroredRef>, Vec<MirroredRef>), Error> {
    let mut pushed = Vec::new();
    let mut skipped = Vec::new();
    let mut conflicts = Vec::new();
    for (name, id) in wanted {
        match destination.get(&name) {
            None => pushed.push(MirroredRef { name, id }),
            Some(existing) if *existing == id => skipped.push(MirroredRef { name, id }),
            Some(existing) => conflicts.push(Conflict {
                name,
                existing: *existing,
                wanted: id,
            }),
        }
    }
    if conflicts.is_empty() {
        Ok((pushed, skipped))
    } else {
        Err(Error::Immutable {
            url: url.to_owned(),
            conflicts,
        })
    }
}

/// The destination's `refs/eka/*`.
fn list_destination(url: &str) -> Result<BTreeMap<String, ObjectId>, Error> {
    remote::list_refs(url, &["refs/eka/".to_owned()])
        .map(|refs| refs.into_iter().collect())
        .map_err(|source| Error::Destination {
            url: url.to_owned(),
            source: Box::new(source),
        })
}

/// The `--all-versions` labels, each a label of the lock.
fn all_versions_labels(lock: &Lockfile, inputs: &[String]) -> Result<Vec<Label>, Error> {
    let mut labels = Vec::new();
    for input in inputs {
        let label = Label::parse(input).map_err(|source| Error::Label {
            input: input.clone(),
            source,
        })?;
        if !lock.atoms.iter().any(|atom| atom.label == label) {
            return Err(Error::NotLocked { label });
        }
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    Ok(labels)
}

/// A mirrored atom: what its refs need.
#[derive(Debug, Clone)]
struct Mirrored {
    label: Label,
    version: Version,
    commit: ObjectId,
    tree: ObjectId,
    origin: ObjectId,
    mirrors: Vec<SetUrl>,
}

/// Fetch and check the lock's atoms.
fn checked_atoms(
    lock: &Lockfile,
    cache: &Cache,
    reporter: &dyn Reporter,
) -> Result<Vec<Mirrored>, Error> {
    let mut fetched = verify::locked::fetch(lock, cache, false, reporter)?;
    let trees = fetched.check_all(reporter)?;
    mirrored(&fetched, &trees)
}

/// The checked atoms with their source commits (read from the checked commits).
fn mirrored(
    fetched: &verify::locked::Fetched<'_>,
    trees: &[ObjectId],
) -> Result<Vec<Mirrored>, Error> {
    trees
        .iter()
        .enumerate()
        .map(|(index, tree)| {
            let atom = fetched.atom(index);
            let commit = fetched.commit(index);
            let decoded =
                decode(fetched.repo(), commit).ok_or_else(|| verify::locked::Error::Missing {
                    label: atom.label.to_string(),
                    commit: commit.to_string(),
                    offline: false,
                })?;
            Ok(Mirrored {
                label: atom.label.clone(),
                version: atom.version.clone(),
                commit,
                tree: *tree,
                origin: decoded.origin,
                mirrors: atom.mirrors.clone(),
            })
        })
        .collect()
}

/// The atom commit `id` of the store, decoded, if it is one.
fn decode(repo: &gix::Repository, id: ObjectId) -> Option<AtomCommit> {
    let object = repo.find_object(id).ok()?;
    let parsed = gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash()).ok()?;
    AtomCommit::decode(&parsed).ok()
}

/// The published versions of `--all-versions` labels the lock does not pin, as lock
/// entries of their label's set (content filled in once the commits are fetched).
fn unlocked_versions(
    lock: &Lockfile,
    labels: &[Label],
    reporter: &dyn Reporter,
) -> Result<Vec<LockedAtom>, Error> {
    let mut extra = Vec::new();
    if labels.is_empty() {
        return Ok(extra);
    }
    let step = Step::begin(reporter, "Listing", Some(labels.len() as u64));
    for label in labels {
        let locked: Vec<&LockedAtom> = lock
            .atoms
            .iter()
            .filter(|atom| &atom.label == label)
            .collect();
        let Some(template) = locked.first() else {
            continue;
        };
        let mut mirrors: Vec<&SetUrl> = Vec::new();
        for mirror in locked.iter().flat_map(|atom| &atom.mirrors) {
            if !mirrors.contains(&mirror) {
                mirrors.push(mirror);
            }
        }
        for (version, (commit, mirrors)) in published_versions(label, &mirrors)? {
            if locked.iter().any(|atom| atom.version == version) {
                continue;
            }
            let Ok(commit) = atom::lock::ObjectId::parse(&commit.to_string()) else {
                continue;
            };
            extra.push(LockedAtom {
                version,
                commit,
                mirrors,
                deps: BTreeSet::new(),
                ..(*template).clone()
            });
        }
        step.advance(label.as_str());
    }
    Ok(extra)
}

/// Every version of `label` its mirrors publish, with its commit (the first mirror's)
/// and the mirrors that agree on it. Fails only when no mirror answers.
fn published_versions(
    label: &Label,
    mirrors: &[&SetUrl],
) -> Result<BTreeMap<Version, (ObjectId, Vec<SetUrl>)>, Error> {
    let mut found: BTreeMap<Version, (ObjectId, Vec<SetUrl>)> = BTreeMap::new();
    let mut answered = false;
    let mut last_error = None;
    for mirror in mirrors {
        let listed =
            match remote::list_atom_refs(mirror.as_str(), Some(std::slice::from_ref(label))) {
                Ok(listed) => listed,
                Err(error) => {
                    last_error = Some(error);
                    continue;
                }
            };
        answered = true;
        for (name, id) in listed {
            let Ok(parsed) = AtomRef::parse(&name) else {
                continue;
            };
            if parsed.kind != RefKind::Atom || &parsed.label != label {
                continue;
            }
            let entry = found.entry(parsed.version).or_insert((id, Vec::new()));
            if entry.0 == id {
                entry.1.push((*mirror).clone());
            }
        }
    }
    match (answered, last_error) {
        (false, Some(source)) => Err(Error::Source {
            label: label.clone(),
            source: Box::new(source),
        }),
        _ => Ok(found),
    }
}

/// Fetch the `--all-versions` versions, then check each against its own commit's
/// content header (and its label's locked set).
fn checked_extra_atoms(
    extra: &[LockedAtom],
    cache: &Cache,
    reporter: &dyn Reporter,
) -> Result<Vec<Mirrored>, Error> {
    let unchecked = Lockfile {
        atoms: extra.to_vec(),
        nix: Vec::new(),
        follows: Vec::new(),
    };
    let fetched = verify::locked::fetch(&unchecked, cache, false, reporter)?;
    let atoms: Vec<LockedAtom> = extra
        .iter()
        .enumerate()
        .map(|(index, atom)| {
            let content = decode(fetched.repo(), fetched.commit(index))
                .and_then(|commit| ContentHash::parse(&commit.content).ok())
                .unwrap_or_else(|| atom.content.clone());
            LockedAtom {
                content,
                ..atom.clone()
            }
        })
        .collect();
    let headed = Lockfile {
        atoms,
        nix: Vec::new(),
        follows: Vec::new(),
    };
    // Everything is in the cache now: no second fetch.
    let mut fetched = verify::locked::fetch(&headed, cache, true, reporter)?;
    let trees = fetched.check_all(reporter)?;
    mirrored(&fetched, &trees)
}

/// The atom and manifest refs of the checked atoms.
fn atom_refs(cache: &Cache, atoms: &[Mirrored]) -> Result<Vec<(String, ObjectId)>, Error> {
    let repo = cache.atoms_repo()?;
    let mut wanted = Vec::new();
    for atom in atoms {
        wanted.push((refs::atom_ref(&atom.label, &atom.version), atom.commit));
        if let Some(manifest) = manifest_blob(&repo, atom.tree) {
            wanted.push((refs::manifest_ref(&atom.label, &atom.version), manifest));
        }
    }
    Ok(wanted)
}

/// The `atom.toml` blob of an atom's tree.
fn manifest_blob(repo: &gix::Repository, tree: ObjectId) -> Option<ObjectId> {
    let tree = repo.find_object(tree).ok()?.try_into_tree().ok()?;
    let entry = tree.find_entry(atom::manifest::FILE_NAME)?;
    entry.mode().is_blob().then(|| entry.object_id())
}

/// The `origin` and attestation refs of the checked atoms that a source mirror still
/// serves, fetched (with their history) into the cache's atom store.
fn source_refs(
    cache: &Cache,
    atoms: &[Mirrored],
    reporter: &dyn Reporter,
) -> Result<Vec<(String, ObjectId)>, Error> {
    let mut urls: Vec<&SetUrl> = Vec::new();
    for atom in atoms {
        for mirror in &atom.mirrors {
            if !urls.contains(&mirror) {
                urls.push(mirror);
            }
        }
    }
    let step = Step::begin(reporter, "Fetching", Some(urls.len() as u64));
    let mut found: BTreeMap<String, ObjectId> = BTreeMap::new();
    for url in urls {
        let served: Vec<&Mirrored> = atoms
            .iter()
            .filter(|atom| atom.mirrors.contains(url))
            .collect();
        let wanted = served_source_refs(url, &served, &found);
        let ids: Vec<ObjectId> = wanted
            .values()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if ids.is_empty() {
            step.advance(url.as_str());
            continue;
        }
        let repo = cache.atoms_repo()?;
        // An object already in the store came with its history from an earlier mirror.
        let missing: Vec<ObjectId> = ids.into_iter().filter(|id| !repo.has_object(*id)).collect();
        let fetched = missing.is_empty() || {
            let _lock = cache.lock()?;
            let spec = FetchSpec::objects(&missing, CACHE_NAMESPACE, Depth::Full);
            cache.atoms_git().fetch(url.as_str(), &spec).is_ok()
        };
        if fetched {
            found.extend(wanted);
        }
        step.advance(url.as_str());
    }
    Ok(found.into_iter().collect())
}

/// The `origin` and attestation refs `url` lists for `atoms` and not yet found on an
/// earlier mirror; a listing that fails gives none (the refs are optional).
fn served_source_refs(
    url: &SetUrl,
    atoms: &[&Mirrored],
    found: &BTreeMap<String, ObjectId>,
) -> BTreeMap<String, ObjectId> {
    let mut prefixes: Vec<String> = Vec::new();
    for atom in atoms {
        for prefix in [
            refs::meta_prefix(&atom.label),
            format!("{ATTEST_PREFIX}{}/", atom.label),
        ] {
            if !prefixes.contains(&prefix) {
                prefixes.push(prefix);
            }
        }
    }
    let Ok(listed) = remote::list_refs(url.as_str(), &prefixes) else {
        return BTreeMap::new();
    };
    let mut wanted = BTreeMap::new();
    for atom in atoms {
        let origin = refs::origin_ref(&atom.label, &atom.version);
        let attest = format!("{ATTEST_PREFIX}{}/{}/", atom.label, atom.version);
        for (name, id) in &listed {
            let keep = (*name == origin && *id == atom.origin) || name.starts_with(&attest);
            if keep && !found.contains_key(name) {
                wanted.insert(name.clone(), *id);
            }
        }
    }
    wanted
}

/// Push `refs` to `url` in one atomic push, each with a "must not exist" lease.
fn push(
    cache: &Cache,
    url: &str,
    refs: &[MirroredRef],
    reporter: &dyn Reporter,
) -> Result<(), Error> {
    if refs.is_empty() {
        return Ok(());
    }
    let step = Step::begin(reporter, "Pushing", Some(1));
    let updates: Vec<RefUpdate> = refs
        .iter()
        .map(|mirrored| RefUpdate {
            name: mirrored.name.clone(),
            new_id: mirrored.id,
            expected_old: None,
        })
        .collect();
    let outcome =
        push_refs(&cache.atoms_repo_path(), url, &updates).map_err(|source| Error::Push {
            url: url.to_owned(),
            source: Box::new(source),
        })?;
    step.advance(url);
    if let Some((name, reason)) = outcome.rejected().next() {
        return Err(Error::Rejected {
            url: url.to_owned(),
            name: name.to_owned(),
            reason: reason.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(digit: char) -> ObjectId {
        ObjectId::from_hex(digit.to_string().repeat(40).as_bytes()).unwrap()
    }

    #[test]
    fn refs_are_pushed_skipped_or_refused_by_what_the_destination_has() {
        let destination: BTreeMap<String, ObjectId> = [
            ("refs/eka/atoms/a/1.0.0".to_owned(), id('1')),
            ("refs/eka/atoms/b/1.0.0".to_owned(), id('2')),
        ]
        .into();
        let wanted = vec![
            ("refs/eka/atoms/a/1.0.0".to_owned(), id('1')),
            ("refs/eka/atoms/c/1.0.0".to_owned(), id('3')),
        ];
        let (pushed, skipped) = against_destination(wanted, &destination, "u").unwrap();
        assert_eq!(pushed.len(), 1);
        assert_eq!(pushed[0].name, "refs/eka/atoms/c/1.0.0");
        assert_eq!(skipped.len(), 1);

        let wanted = vec![
            ("refs/eka/atoms/b/1.0.0".to_owned(), id('4')),
            ("refs/eka/atoms/c/1.0.0".to_owned(), id('3')),
        ];
        let error = against_destination(wanted, &destination, "file:///m.git").unwrap_err();
        assert_eq!(error.kind(), Kind::Input);
        assert_eq!(
            error.to_string(),
            format!(
                "the mirror `file:///m.git` already has `refs/eka/atoms/b/1.0.0` at `{}`, \
                 not `{}`; nothing was pushed",
                id('2'),
                id('4')
            )
        );
        assert!(error.hint().is_some());
    }

    #[test]
    fn offline_is_refused_before_anything_is_read() {
        let options = Options {
            dir: "/nonexistent".into(),
            cache: "/nonexistent".into(),
            url: "file:///m.git".into(),
            all_versions: Vec::new(),
            offline: true,
        };
        let error = run(&options, &atom::progress::Silent).unwrap_err();
        assert!(matches!(error, Error::Offline { .. }), "{error}");
        assert_eq!(error.kind(), Kind::Input);
    }
}
