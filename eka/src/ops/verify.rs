//! `eka verify [names…]`: re-fetch every locked atom from its mirrors and check it
//! from scratch.
//!
//! [`verify()`] reads the project's `atom.toml` and `atom.lock`, selects the locked atoms
//! (all of them, or the ones named and their transitive dependencies), and then:
//!
//! 1. unless offline, lists `refs/eka/atoms/<label>/` on every mirror of the selected
//!    atoms (each locked URL replaced by its `eka.toml` `[mirrors]` entry, if any); a mirror whose ref names another commit than the lock (or no longer names
//!    one) adds a [`Failure::RefMoved`]; an atom none of whose mirrors answered is
//!    [`Failure::Unreachable`], unless every one of them timed out: then the run fails
//!    with [`Error::Listing`] (the network, not the atom, failed);
//! 2. unless offline, fetches the locked commits *with their trees* (by commit id, one
//!    `git fetch` per mirror, [`Depth::Full`]) into the cache's one atom store
//!    (`<cache>/v1/atoms.git`, see [`atom::store::cache`]), where discovery keeps the
//!    same commits without trees; a commit already there without its tree is fetched
//!    again in full; a fetch that times out fails the run ([`Error::Fetch`]);
//! 3. runs [`verify::walk::verify_lock`] over that repository (content hash, id,
//!    headers, signatures, closure) and merges the network failures into its report;
//!    offline, a locked commit the cache lacks is [`Failure::NotCached`], not
//!    [`Failure::MissingCommit`] (nothing was asked of the mirrors);
//! 4. checks that every selected atom is served by a URL configured for its set, or
//!    signed by a key the set's trust policy allows (ADR 0017), else
//!    [`Failure::UnconfiguredSource`]. An atom the project requires from a set is
//!    configured by that set's URLs (and their `[mirrors]`); any other by the
//!    configured URLs (`[package.sets]`, `[mirrors]`) serving locked atoms of its set
//!    root, and by anything when there are none (a set reached only through published
//!    manifests);
//! 5. checks the project's own `[deps.from.<set>]` requirements against the lock (the
//!    closure at the root), reported in [`Outcome::root_failures`]. A requirement is
//!    met by a locked atom of that label listing one of the set's URLs, or carrying the
//!    set root of such an atom; when no locked atom lists the set's URLs (its atoms are
//!    served by a claimant only), by a locked atom of that label carrying a set root the
//!    cache's listing of those URLs shows, or, when the cache never listed them, by any
//!    of that label not listing another set the project requires it from; step 4
//!    judges it.
//! 6. with [`Options::attestations`], checks the attestation tags of the selected atoms
//!    for [`Options::config`] and, unless [`Options::require_attested`], for every other
//!    configuration found on the mirrors ([`AttestationReport`], one
//!    [`ConfigAttestations`] per configuration hash).
//!
//! Progress goes to [`Options::reporter`]: a `Listing` and a `Fetching` step advancing
//! per mirror (the latter only when a commit is missing), then the walk's `Verifying`
//! step advancing per atom.
//!
//! The trust policy comes from `eka.toml`: `[trust.<set name or set URL>]
//! allowed_signers = [...]` and `revoked_keys = [...]`; a set name is looked up in the
//! project's `[package.sets]`; two entries naming one set are refused. An entry judges
//! the atoms of the set roots of the locked atoms listing its URLs or meeting the
//! project's requirements from its set.
//!
//! ```no_run
//! use eka::ops::verify::{Options, verify};
//!
//! let options = Options::new("/work/app".into(), "/home/me/.cache/eka".into());
//! let outcome = verify(&options)?;
//! assert!(outcome.is_ok());
//! # Ok::<(), eka::ops::verify::Error>(())
//! ```

use atom::error::{Classify, Kind};
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    sync::Arc,
    time::SystemTime,
};

use atom::{
    Label,
    config::Trust,
    lock::{AtomIdHex, LockedAtom, Lockfile},
    manifest::{Manifest, SetSource},
    progress::{Reporter, Silent, Step},
    store::{
        cache::Cache,
        fetch::CACHE_NAMESPACE,
        git::{self, Depth, FetchSpec},
        refs::atom_ref,
        remote,
    },
    uri::SetUrl,
};
use gix::ObjectId;
use serde::Serialize;
use verify::{
    signature::AllowedSigners,
    walk::{Failure, Policy, Report},
};

/// What to verify and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The project directory (holding `atom.toml` and `atom.lock`).
    pub dir: PathBuf,
    /// The cache directory.
    pub cache: PathBuf,
    /// Use only the cache: no listing, no fetching.
    pub offline: bool,
    /// Verify only these atoms (and their transitive dependencies); all when empty.
    pub names: Vec<Label>,
    /// Every atom must be signed by an allowed signer.
    pub require_signed: bool,
    /// The trust policy, by set name or set URL.
    pub trust: BTreeMap<String, Trust>,
    /// The consumer's `[mirrors]`: where the locked atoms are listed and fetched from.
    pub mirrors: atom::config::Mirrors,
    /// The time signing keys are judged at.
    pub now: SystemTime,
    /// Check the attestations of every selected atom (`refs/eka/attest/…`).
    pub attestations: bool,
    /// With `attestations`: an atom without a trusted attestation fails.
    pub require_attested: bool,
    /// With `attestations`: realise the attested outputs from these Nix substituters and
    /// compare their NAR hashes with the attestations.
    pub substituters: Vec<String>,
    /// With `attestations`: the configuration whose attestations are required and whose
    /// outputs are realised (the object given to the entry point; `{}` by default).
    pub config: serde_json::Value,
    /// Where the run reports its progress.
    pub reporter: Arc<dyn Reporter>,
}

impl Options {
    /// Verify everything online, no trust policy, judged now, no progress shown.
    pub fn new(dir: PathBuf, cache: PathBuf) -> Self {
        Self {
            dir,
            cache,
            offline: false,
            names: Vec::new(),
            require_signed: false,
            trust: BTreeMap::new(),
            mirrors: atom::config::Mirrors::default(),
            now: SystemTime::now(),
            attestations: false,
            require_attested: false,
            substituters: Vec::new(),
            config: serde_json::Value::Object(serde_json::Map::new()),
            reporter: Silent::shared(),
        }
    }
}

/// The verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// One verdict per selected locked atom.
    #[serde(flatten)]
    pub report: Report,
    /// What is wrong with the lock's top level against the project's own `atom.toml`.
    pub root_failures: Vec<Failure>,
    /// Parts of the cache found damaged and rebuilt (to print as warnings).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// With [`Options::attestations`]: the attestations of each selected atom, by atom
    /// id.
    #[serde(skip)]
    pub attestations: BTreeMap<String, AttestationReport>,
}

impl Outcome {
    /// Whether everything verified.
    pub fn is_ok(&self) -> bool {
        self.report.is_ok()
            && self.root_failures.is_empty()
            && self.attestations.values().all(AttestationReport::is_ok)
    }
}

/// The hash naming a configuration in attestation refs and statements
/// (`sha256:<hex>` of its canonical JSON).
pub fn config_hash(config: &serde_json::Value) -> String {
    nix::eval::config_hash(&nix::eval::canonical_json(config))
}

/// The attestations of one locked atom: those of the selected configuration and, unless
/// [`Options::require_attested`], those of every other configuration found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AttestationReport {
    /// The selected configuration's attestations (its keys inlined).
    #[serde(flatten)]
    pub selected: ConfigAttestations,
    /// The other configurations' attestations found on the mirrors, by configuration
    /// hash (checked the same way, except for `--substituters` and `--require-attested`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other_configs: Vec<ConfigAttestations>,
}

impl AttestationReport {
    /// Every configuration's report, the selected one first.
    pub fn configs(&self) -> impl Iterator<Item = &ConfigAttestations> {
        std::iter::once(&self.selected).chain(&self.other_configs)
    }

    /// Everything wrong, in every configuration.
    pub fn failures(&self) -> impl Iterator<Item = &verify::attestation::Failure> {
        self.configs().flat_map(|config| &config.failures)
    }

    /// Whether nothing is wrong in any configuration.
    pub fn is_ok(&self) -> bool {
        self.failures().next().is_none()
    }
}

/// The attestations of one locked atom for one configuration.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ConfigAttestations {
    /// The configuration hash (`sha256:<hex>`).
    pub config_hash: String,
    /// The trusted attestations that match the lock.
    pub attested_by: Vec<Attester>,
    /// Everything wrong with its attestations.
    pub failures: Vec<verify::attestation::Failure>,
}

/// One trusted attestation.
#[derive(Debug, Clone, Serialize)]
pub struct Attester {
    /// The attestation ref.
    pub reference: String,
    /// The principal its key is allowed for.
    pub principal: String,
    /// The key's fingerprint.
    pub fingerprint: String,
    /// The attested outputs: store path and NAR sha256 (hex).
    pub outputs: Vec<(String, String)>,
}

/// Why verification could not run (a mismatch is a [`Failure`] in the [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory holds no `atom.toml`.
    #[error("no `atom.toml` in `{}`", dir.display())]
    NoManifest {
        /// The directory.
        dir: PathBuf,
    },
    /// The directory holds no `atom.lock`.
    #[error("no `atom.lock` in `{}`", dir.display())]
    NoLock {
        /// The directory.
        dir: PathBuf,
    },
    /// The manifest could not be read.
    #[error(transparent)]
    Manifest(#[from] atom::manifest::Error),
    /// The lockfile could not be read.
    #[error(transparent)]
    Lock(#[from] atom::lock::Error),
    /// A name given is not a locked atom.
    #[error("`{name}` is not locked in `atom.lock`")]
    UnknownName {
        /// The name.
        name: Label,
    },
    /// A trust entry of `eka.toml` is invalid (its allowed signers or revoked keys).
    #[error("invalid trust policy for `{set}` in `eka.toml`")]
    Signers {
        /// The trust entry's name.
        set: String,
        /// The cause.
        #[source]
        source: verify::signature::Error,
    },
    /// The cache's verify repository could not be prepared or read.
    #[error("cannot use the cache at `{}`: {message}", path.display())]
    Cache {
        /// The path.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The walk failed to read objects.
    #[error(transparent)]
    Walk(#[from] verify::walk::Error),
    /// Two trust entries of `eka.toml` name one set.
    #[error(transparent)]
    Config(#[from] atom::config::Error),
    /// Every mirror of an atom timed out listing its refs.
    #[error(transparent)]
    Listing(remote::Error),
    /// Fetching locked commits from a mirror timed out.
    #[error(transparent)]
    Fetch(git::Error),
}

impl Classify for Error {
    /// A missing file, an unknown name or bad trust entries are the input refused; the
    /// cache and the object walk are the environment.
    fn kind(&self) -> Kind {
        match self {
            Self::NoManifest { .. } | Self::NoLock { .. } | Self::UnknownName { .. } => Kind::Input,
            Self::Signers { .. } => Kind::Input,
            Self::Manifest(error) => error.kind(),
            Self::Lock(error) => error.kind(),
            Self::Cache { .. } => Kind::Environment,
            Self::Walk(error) => error.kind(),
            Self::Config(error) => error.kind(),
            Self::Listing(error) => error.kind(),
            Self::Fetch(error) => error.kind(),
        }
    }

    /// How to fix it.
    fn hint(&self) -> Option<String> {
        let text = match self {
            Self::NoManifest { .. } => "run `eka verify` in an atom's directory",
            Self::NoLock { .. } => "create the lock with `eka resolve`",
            Self::UnknownName { .. } => "name a label listed by `eka tree`",
            Self::Config(error) => return error.hint(),
            Self::Listing(error) => return error.hint(),
            Self::Fetch(error) => return error.hint(),
            Self::Signers { source, .. } if source.hint().is_some() => return source.hint(),
            Self::Signers { .. } => {
                "each entry of `allowed_signers` is one OpenSSH allowed_signers line: \
                 `principal keytype key`"
            }
            _ => return None,
        };
        Some(text.to_owned())
    }
}

/// Verify the project's locked atoms (see the module docs).
pub fn verify(options: &Options) -> Result<Outcome, Error> {
    let (manifest, lock) = read_project(&options.dir)?;
    let selected = select(&lock, &options.names)?;

    let signers = allowed_signers(&options.trust)?;
    let cache = open_store(&options.cache)?;
    let known = cached_roots(&manifest, &options.mirrors, &cache);
    atom::config::check_one_entry_per_set(&options.trust, |name| {
        set_identities_of(name, &manifest, &lock, &known)
    })?;
    let mut policy = Policy::new(options.now);
    policy.require_signed = options.require_signed;
    for (name, allowed) in &signers {
        for root in set_roots_of(name, &manifest, &lock, &known) {
            policy.signers.insert(atom::id::SetRoot::new(root), allowed);
        }
    }

    if let Some(reason) = unreadable_commit(&cache, &selected)? {
        // A damaged store: rebuild it; the locked commits are fetched again below.
        cache
            .rebuild_atoms_repo(&reason)
            .map_err(|error| cache_error(cache.dir(), error))?;
    }
    let mut network = AtomFailures::new();
    if !options.offline {
        // Listed and fetched through `[mirrors]`; the walk judges the lock as written.
        let fetched = options.mirrors.redirect_lock(&selected);
        network = check_mirrors(&fetched, &cache, &*options.reporter)?;
    }
    let repo = cache
        .atoms_repo()
        .map_err(|error| cache_error(cache.dir(), error))?;
    let mut report = verify::walk::verify_lock(&repo, &selected, &policy, &*options.reporter)?;
    let trust = crate::trust::TrustPolicy::new(&options.trust, &manifest, options.now);
    let sources = check_sources(
        &Requirements {
            manifest: &manifest,
            lock: &lock,
            known: &known,
        },
        &selected,
        &options.mirrors,
        &trust,
        &repo,
    );
    merge_failures(&mut report, sources, network);
    if options.offline {
        mark_not_cached(&mut report);
    }
    let root_failures = if options.names.is_empty() {
        check_root(&manifest, &lock, &known)
    } else {
        Vec::new()
    };
    let attestations = if options.attestations && !options.offline {
        let mut trusted: BTreeMap<ObjectId, &AllowedSigners> = BTreeMap::new();
        for (name, allowed) in &signers {
            for root in set_roots_of(name, &manifest, &lock, &known) {
                trusted.insert(root, allowed);
            }
        }
        check_attestations(&selected, &repo, &trusted, options)?
    } else {
        BTreeMap::new()
    };
    Ok(Outcome {
        report,
        root_failures,
        warnings: cache
            .take_repairs()
            .iter()
            .map(ToString::to_string)
            .collect(),
        attestations,
    })
}

/// The project's `atom.toml` and `atom.lock` in `dir`, each refused by name when missing
/// or invalid.
fn read_project(dir: &Path) -> Result<(Manifest, Lockfile), Error> {
    let manifest_path = dir.join(atom::manifest::FILE_NAME);
    if !manifest_path.is_file() {
        return Err(Error::NoManifest {
            dir: dir.to_path_buf(),
        });
    }
    let lock_path = dir.join(atom::lock::FILE_NAME);
    if !lock_path.is_file() {
        return Err(Error::NoLock {
            dir: dir.to_path_buf(),
        });
    }
    let text = fs_err::read_to_string(&manifest_path).map_err(atom::manifest::Error::Io)?;
    let manifest = Manifest::from_str(&text, &manifest_path)?;
    let lock = Lockfile::read(&lock_path)?;
    Ok((manifest, lock))
}

/// Add the source and network failures to the walk's report, atom by atom. An atom no
/// mirror answered for is `unreachable`, not also `missing-commit`: its commit is
/// missing because nothing answered, which says nothing about its content.
fn merge_failures(report: &mut Report, sources: AtomFailures, network: AtomFailures) {
    for (id, failures) in sources {
        if let Some(atom) = report.atom_mut(&id) {
            atom.failures.extend(failures);
        }
    }
    for (id, failures) in network {
        if let Some(atom) = report.atom_mut(&id) {
            let unreachable = failures
                .iter()
                .any(|failure| matches!(failure, Failure::Unreachable { .. }));
            if unreachable {
                atom.failures
                    .retain(|failure| !matches!(failure, Failure::MissingCommit { .. }));
            }
            atom.failures.extend(failures);
        }
    }
}

/// Offline, nothing was asked of the mirrors: a locked commit the cache lacks is not
/// cached, not missing.
fn mark_not_cached(report: &mut Report) {
    for atom in &mut report.atoms {
        for failure in &mut atom.failures {
            if let Failure::MissingCommit { commit } = failure
                && ObjectId::from_hex(commit.as_bytes()).is_ok()
            {
                *failure = Failure::NotCached {
                    commit: std::mem::take(commit),
                };
            }
        }
    }
}

/// The sub-lock of the named atoms and their transitive dependencies.
fn select(lock: &Lockfile, names: &[Label]) -> Result<Lockfile, Error> {
    if names.is_empty() {
        return Ok(lock.clone());
    }
    let mut wanted: BTreeSet<AtomIdHex> = BTreeSet::new();
    let mut stack: Vec<&LockedAtom> = Vec::new();
    for name in names {
        let found: Vec<&LockedAtom> = lock.atoms.iter().filter(|a| &a.label == name).collect();
        if found.is_empty() {
            return Err(Error::UnknownName { name: name.clone() });
        }
        stack.extend(found);
    }
    while let Some(atom) = stack.pop() {
        if wanted.insert(atom.id.clone()) {
            stack.extend(atom.deps.iter().filter_map(|id| lock.atom(id)));
        }
    }
    let mut selected = lock.clone();
    selected.atoms.retain(|atom| wanted.contains(&atom.id));
    Ok(selected)
}

fn allowed_signers(
    trust: &BTreeMap<String, Trust>,
) -> Result<BTreeMap<String, AllowedSigners>, Error> {
    trust
        .iter()
        .map(|(name, entry)| {
            AllowedSigners::from_config(name, entry)
                .map(|signers| (name.clone(), signers))
                .map_err(|source| Error::Signers {
                    set: name.clone(),
                    source,
                })
        })
        .collect()
}

/// What a trust entry's name stands for, to find two entries naming one set: its URLs
/// (a set name stands for the URLs `[package.sets]` gives it, a URL for itself) and the
/// set roots of the locked atoms served from them. URLs catch two entries for one set
/// before anything of it is locked; roots catch two URLs of one set.
fn set_identities_of(
    name: &str,
    manifest: &Manifest,
    lock: &Lockfile,
    known: &KnownRoots,
) -> BTreeSet<String> {
    let mut identities: BTreeSet<String> = crate::trust::urls_named(name, manifest)
        .into_iter()
        .map(|url| format!("url {url}"))
        .collect();
    identities.extend(
        set_roots_of(name, manifest, lock, known)
            .into_iter()
            .map(|root| format!("root {root}")),
    );
    identities
}

/// The set roots a trust entry judges: those of the locked atoms listing its URLs, and
/// of the locked atoms meeting the project's requirements from the sets it names.
fn set_roots_of(
    name: &str,
    manifest: &Manifest,
    lock: &Lockfile,
    known: &KnownRoots,
) -> BTreeSet<ObjectId> {
    let urls = crate::trust::urls_named(name, manifest);
    let mut roots = roots_listing(lock, &urls);
    for (set_name, requirements) in &manifest.deps.from {
        let set_urls = remote_urls(manifest, set_name);
        if !set_urls.iter().any(|url| urls.contains(&url.as_str())) {
            continue;
        }
        for label in requirements.keys() {
            roots.extend(
                meeting(manifest, lock, known, set_name, label)
                    .into_iter()
                    .filter_map(|atom| object_id(&atom.set)),
            );
        }
    }
    roots
}

/// The set roots of the locked atoms listing one of `urls` as a mirror.
fn roots_listing(lock: &Lockfile, urls: &[&str]) -> BTreeSet<ObjectId> {
    lock.atoms
        .iter()
        .filter(|atom| {
            atom.mirrors
                .iter()
                .any(|mirror| urls.contains(&mirror.as_str()))
        })
        .filter_map(|atom| object_id(&atom.set))
        .collect()
}

/// The URLs of the project's set `set_name` (none for `"::"` or an undeclared set).
fn remote_urls<'a>(manifest: &'a Manifest, set_name: &Label) -> &'a [SetUrl] {
    match manifest.package.sets.get(set_name) {
        Some(source @ (SetSource::Url(_) | SetSource::Mirrors(_))) => source.urls(),
        _ => &[],
    }
}

/// The set roots of the project's remote sets as the cache's last listing of their URLs
/// (through `[mirrors]`) shows them, by set name: how a set none of whose URLs a locked
/// atom lists is told apart from another set. A set the cache never listed is absent.
type KnownRoots = BTreeMap<Label, BTreeSet<ObjectId>>;

/// The [`KnownRoots`] of `manifest`'s sets: the set root of every atom commit the cache
/// lists for their fetch URLs and its atom store holds (anything unreadable is skipped:
/// the set's root is then unknown).
fn cached_roots(manifest: &Manifest, mirrors: &atom::config::Mirrors, cache: &Cache) -> KnownRoots {
    let mut known = KnownRoots::new();
    let Ok(repo) = cache.atoms_repo() else {
        return known;
    };
    for (set_name, source) in &manifest.package.sets {
        if matches!(source, SetSource::Here) {
            continue;
        }
        let mut roots = BTreeSet::new();
        for url in mirrors.expand(source.urls()) {
            for commit in cache.cached_commits(&url).unwrap_or_default() {
                if let Some(root) = set_root_of(&repo, commit) {
                    roots.insert(root);
                }
            }
        }
        if !roots.is_empty() {
            known.insert(set_name.clone(), roots);
        }
    }
    known
}

/// The set root the atom commit `id` of the store carries, if it is one.
fn set_root_of(repo: &gix::Repository, id: ObjectId) -> Option<ObjectId> {
    let object = repo.find_object(id).ok()?;
    let parsed = gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash()).ok()?;
    atom::store::AtomCommit::decode(&parsed)
        .ok()
        .map(|commit| commit.set_root)
}

/// The URLs of the project's other sets (not `set_name`) it requires `label` from.
fn other_sets_requiring<'a>(
    manifest: &'a Manifest,
    set_name: &Label,
    label: &Label,
) -> Vec<&'a str> {
    manifest
        .deps
        .from
        .iter()
        .filter(|(other, requirements)| *other != set_name && requirements.contains_key(label))
        .flat_map(|(other, _)| remote_urls(manifest, other).iter().map(SetUrl::as_str))
        .collect()
}

/// The locked atoms that may meet the project's requirement of `label` from its set
/// `set_name`: of that label, listing one of the set's URLs or carrying the set root of
/// an atom that does; when no locked atom lists the set's URLs, carrying a set root
/// the cache's listing of the set's URLs shows ([`KnownRoots`]); when the cache never
/// listed them either, any of that label not listing the URLs of another set the project
/// requires `label` from.
fn meeting<'a>(
    manifest: &Manifest,
    lock: &'a Lockfile,
    known: &KnownRoots,
    set_name: &Label,
    label: &Label,
) -> Vec<&'a LockedAtom> {
    let urls = remote_urls(manifest, set_name);
    let labelled = lock.atoms.iter().filter(|atom| &atom.label == label);
    if urls.is_empty() {
        return labelled.collect();
    }
    let names: Vec<&str> = urls.iter().map(SetUrl::as_str).collect();
    let roots = roots_listing(lock, &names);
    if roots.is_empty() {
        // The set's atoms are all served by a claimant: `check_sources` judges them.
        return match known.get(set_name) {
            Some(roots) => labelled
                .filter(|atom| object_id(&atom.set).is_some_and(|root| roots.contains(&root)))
                .collect(),
            None => {
                let others = other_sets_requiring(manifest, set_name, label);
                labelled
                    .filter(|atom| {
                        !atom
                            .mirrors
                            .iter()
                            .any(|mirror| others.contains(&mirror.as_str()))
                    })
                    .collect()
            }
        };
    }
    labelled
        .filter(|atom| {
            atom.mirrors.iter().any(|mirror| urls.contains(mirror))
                || object_id(&atom.set).is_some_and(|root| roots.contains(&root))
        })
        .collect()
}

/// Per atom id, the [`Failure::UnconfiguredSource`] of each selected atom none of whose
/// mirrors is configured for its set and whose commit (when the store has it) carries
/// no signature the set's trust entry allows (see the module docs, step 4).
fn check_sources(
    requirements: &Requirements<'_>,
    selected: &Lockfile,
    mirrors: &atom::config::Mirrors,
    trust: &crate::trust::TrustPolicy,
    repo: &gix::Repository,
) -> BTreeMap<String, Vec<Failure>> {
    let configured = configured_for(requirements, mirrors);
    let mut failures: BTreeMap<String, Vec<Failure>> = BTreeMap::new();
    for atom in &selected.atoms {
        let allowed = configured
            .named
            .get(atom.id.as_str())
            .or_else(|| configured.by_root.get(atom.set.as_str()));
        let Some(allowed) = allowed.filter(|allowed| !allowed.is_empty()) else {
            continue;
        };
        if atom.mirrors.is_empty()
            || atom
                .mirrors
                .iter()
                .any(|mirror| allowed.contains(mirror.as_str()))
        {
            continue;
        }
        let Some(raw) = object_id(&atom.commit)
            .and_then(|id| repo.find_object(id).ok())
            .map(|object| object.detach().data)
        else {
            // Missing or not cached: the walk reports it.
            continue;
        };
        let reason = match trust.judge(allowed.iter().map(String::as_str), &raw) {
            Some(Ok(_)) => continue,
            Some(Err(refusal)) => refusal.reason,
            None => "no `[trust.<set>]` entry of `eka.toml` names its set".to_owned(),
        };
        failures
            .entry(atom.id.to_string())
            .or_default()
            .push(Failure::UnconfiguredSource {
                label: atom.label.to_string(),
                mirrors: atom.mirrors.iter().map(|m| m.as_str().to_owned()).collect(),
                configured: allowed.iter().cloned().collect(),
                reason,
            });
    }
    failures
}

/// The URLs configured for each locked atom's set.
#[derive(Debug, Default)]
struct ConfiguredUrls {
    /// Per atom id meeting a requirement of the project's: the URLs of the set it is
    /// required from, and their `[mirrors]`.
    named: BTreeMap<String, BTreeSet<String>>,
    /// Per set root (hex): the configured URLs (`[package.sets]`, `[mirrors]` keys and
    /// targets) listed by locked atoms of that root.
    by_root: BTreeMap<String, BTreeSet<String>>,
}

/// The project's manifest and lock, with the set roots the cache knows of its sets.
struct Requirements<'a> {
    manifest: &'a Manifest,
    lock: &'a Lockfile,
    known: &'a KnownRoots,
}

fn configured_for(
    requirements: &Requirements<'_>,
    mirrors: &atom::config::Mirrors,
) -> ConfiguredUrls {
    let Requirements {
        manifest,
        lock,
        known,
    } = *requirements;
    let mut result = ConfiguredUrls::default();
    let mut configured: BTreeSet<String> = BTreeSet::new();
    for (set_name, requirements) in &manifest.deps.from {
        let urls = remote_urls(manifest, set_name);
        if urls.is_empty() {
            continue;
        }
        let mut allowed: BTreeSet<String> =
            urls.iter().map(|url| url.as_str().to_owned()).collect();
        allowed.extend(
            mirrors
                .expand(urls)
                .iter()
                .map(|url| url.as_str().to_owned()),
        );
        configured.extend(allowed.iter().cloned());
        for label in requirements.keys() {
            for atom in meeting(manifest, lock, known, set_name, label) {
                result
                    .named
                    .entry(atom.id.to_string())
                    .or_default()
                    .extend(allowed.iter().cloned());
            }
        }
    }
    for source in manifest.package.sets.values() {
        configured.extend(source.urls().iter().map(|url| url.as_str().to_owned()));
    }
    for (key, targets) in mirrors.iter() {
        configured.insert(key.as_str().to_owned());
        configured.extend(targets.iter().map(|url| url.as_str().to_owned()));
    }
    for atom in &lock.atoms {
        for mirror in &atom.mirrors {
            if configured.contains(mirror.as_str()) {
                result
                    .by_root
                    .entry(atom.set.to_string())
                    .or_default()
                    .insert(mirror.as_str().to_owned());
            }
        }
    }
    result
}

/// One mirror's atom refs, by name.
type Listing = Vec<(String, ObjectId)>;

fn object_id(hex: &atom::lock::ObjectId) -> Option<ObjectId> {
    ObjectId::from_hex(hex.as_str().as_bytes()).ok()
}

fn cache_error(path: &Path, message: impl std::fmt::Display) -> Error {
    Error::Cache {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Open (creating or repairing) the cache's atom store, where commits are verified.
fn open_store(cache: &Path) -> Result<Cache, Error> {
    Cache::open(cache).map_err(|error| cache_error(cache, error))
}

/// The first locked commit (or its root tree) the store has but cannot read, as a reason.
fn unreadable_commit(cache: &Cache, lock: &Lockfile) -> Result<Option<String>, Error> {
    let repo = cache
        .atoms_repo()
        .map_err(|error| cache_error(cache.dir(), error))?;
    for id in lock.atoms.iter().filter_map(|atom| object_id(&atom.commit)) {
        if !repo.has_object(id) {
            continue;
        }
        let object = match repo.find_object(id) {
            Ok(object) => object,
            Err(error) => return Ok(Some(format!("object `{id}` is unreadable: {error}"))),
        };
        let tree = gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash())
            .ok()
            .map(|commit| commit.tree());
        if let Some(tree) = tree.filter(|tree| repo.has_object(*tree))
            && let Err(error) = repo.find_object(tree)
        {
            return Ok(Some(format!("object `{tree}` is unreadable: {error}")));
        }
    }
    Ok(None)
}

/// Whether the store holds `id` with its root tree (discovery fetches commits without).
fn has_commit_with_tree(repo: &gix::Repository, id: ObjectId) -> bool {
    repo.find_object(id)
        .ok()
        .and_then(|object| {
            gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash())
                .ok()
                .map(|commit| commit.tree())
        })
        .is_some_and(|tree| repo.has_object(tree))
}

/// Fetch `ids` (commits with their trees, even when the store has them tree-less) from
/// `url` into the store.
fn fetch_commits(cache: &Cache, url: &str, ids: &[ObjectId]) -> Result<(), git::Error> {
    let spec = FetchSpec::objects(ids, CACHE_NAMESPACE, Depth::Full);
    cache.atoms_git().fetch(url, &spec)
}

/// List every mirror's refs of the selected atoms, report moved refs and unreachable
/// atoms, and fetch the locked commits not yet in the verify repository.
fn check_mirrors(
    lock: &Lockfile,
    cache: &Cache,
    reporter: &dyn Reporter,
) -> Result<AtomFailures, Error> {
    // Mirror → the atoms it serves.
    let mut by_mirror: BTreeMap<&str, Vec<&LockedAtom>> = BTreeMap::new();
    for atom in &lock.atoms {
        for mirror in &atom.mirrors {
            by_mirror.entry(mirror.as_str()).or_default().push(atom);
        }
    }
    let mut listings = list_mirrors(&by_mirror, reporter);
    let (answered, mut failures) = compare_listings(&by_mirror, &listings);
    if let Some(index) = timed_out_everywhere(lock, &answered, &listings) {
        let (_, listing) = listings.swap_remove(index);
        if let Err(error) = listing {
            return Err(Error::Listing(error));
        }
    }
    for atom in &lock.atoms {
        if !answered.contains_key(atom.id.as_str()) {
            failures
                .entry(atom.id.to_string())
                .or_default()
                .push(Failure::Unreachable {
                    mirrors: atom.mirrors.iter().map(|m| m.as_str().to_owned()).collect(),
                });
        }
    }
    let reachable: Vec<&str> = listings
        .iter()
        .filter(|(_, listing)| listing.is_ok())
        .map(|(url, _)| *url)
        .collect();
    fetch_missing(lock, cache, &reachable, &answered, reporter)?;
    Ok(failures)
}

/// One listing of each mirror's refs for the labels it serves, the mirrors in parallel
/// (one thread each), in `by_mirror`'s order.
fn list_mirrors<'a>(
    by_mirror: &BTreeMap<&'a str, Vec<&LockedAtom>>,
    reporter: &dyn Reporter,
) -> Vec<(&'a str, Result<Listing, remote::Error>)> {
    let listing_step = Step::begin(reporter, "Listing", Some(by_mirror.len() as u64));
    std::thread::scope(|scope| {
        let handles: Vec<_> = by_mirror
            .iter()
            .map(|(url, atoms)| {
                let labels: Vec<Label> = atoms
                    .iter()
                    .map(|atom| atom.label.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let (url, step) = (*url, &listing_step);
                scope.spawn(move || {
                    // One retry (a loaded local server can drop a handshake), but not
                    // after a timeout: the deadline is the user's.
                    let listing = match remote::list_atom_refs(url, Some(&labels)) {
                        Err(error) if error.is_timeout() => Err(error),
                        Err(_) => remote::list_atom_refs(url, Some(&labels)),
                        Ok(listing) => Ok(listing),
                    };
                    step.advance(url);
                    listing
                })
            })
            .collect();
        by_mirror
            .keys()
            .zip(handles)
            .map(|(url, handle)| {
                let listing = handle.join().unwrap_or_else(|_| {
                    Err(remote::Error::Stopped {
                        url: (*url).to_owned(),
                    })
                });
                (*url, listing)
            })
            .collect()
    })
}

/// Atom id → the mirrors that answered for it.
type Answered<'a> = BTreeMap<&'a str, Vec<&'a str>>;

/// Atom id → its failures.
type AtomFailures = BTreeMap<String, Vec<Failure>>;

/// Atom id → the mirrors that answered for it (holding its ref, or not: a mirror whose
/// ref moved may still serve the locked commit by id), and a `ref-moved` failure for
/// each mirror whose ref is not the locked commit.
fn compare_listings<'a>(
    by_mirror: &BTreeMap<&'a str, Vec<&'a LockedAtom>>,
    listings: &[(&'a str, Result<Listing, remote::Error>)],
) -> (Answered<'a>, AtomFailures) {
    let mut answered = Answered::new();
    let mut failures = AtomFailures::new();
    for (url, listing) in listings {
        let Ok(refs) = listing else { continue };
        for atom in &by_mirror[url] {
            let name = atom_ref(&atom.label, &atom.version);
            let found = refs.iter().find(|(listed, _)| listed == &name);
            answered.entry(atom.id.as_str()).or_default().push(url);
            match found {
                Some((_, id)) if *id == atom.commit.as_str() => {}
                other => failures
                    .entry(atom.id.to_string())
                    .or_default()
                    .push(Failure::RefMoved {
                        expected: atom.commit.to_string(),
                        found: other
                            .map(|(_, id)| id.to_string())
                            .unwrap_or_else(|| "nothing".to_owned()),
                        mirror: (*url).to_owned(),
                    }),
            }
        }
    }
    (answered, failures)
}

/// Fetch the locked commits the atom store lacks (or holds without their tree), one
/// batched fetch per reachable mirror of the commits it answered for; when a batch
/// fails, one by one, so a commit one mirror no longer serves stays missing (the walk
/// says so) without hiding the others. A timeout stops everything.
fn fetch_missing(
    lock: &Lockfile,
    cache: &Cache,
    reachable: &[&str],
    answered: &Answered<'_>,
    reporter: &dyn Reporter,
) -> Result<(), Error> {
    let repo = || {
        cache
            .atoms_repo()
            .map_err(|error| cache_error(cache.dir(), error))
    };
    let missing = |repo: &gix::Repository| -> Vec<&LockedAtom> {
        lock.atoms
            .iter()
            .filter(|atom| object_id(&atom.commit).is_none_or(|id| !has_commit_with_tree(repo, id)))
            .collect()
    };
    if missing(&repo()?).is_empty() {
        return Ok(());
    }
    let _lock = cache
        .lock()
        .map_err(|error| cache_error(cache.dir(), error))?;
    let fetching = Step::begin(reporter, "Fetching", Some(reachable.len() as u64));
    for url in reachable {
        let wanted: Vec<ObjectId> = missing(&repo()?)
            .into_iter()
            .filter(|atom| {
                answered
                    .get(atom.id.as_str())
                    .is_some_and(|urls| urls.contains(url))
            })
            .filter_map(|atom| object_id(&atom.commit))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if wanted.is_empty() {
            fetching.advance(url);
            continue;
        }
        match fetch_commits(cache, url, &wanted) {
            Err(error @ git::Error::Timeout { .. }) => return Err(Error::Fetch(error)),
            Err(_) if wanted.len() > 1 => {
                for id in &wanted {
                    if let Err(error @ git::Error::Timeout { .. }) =
                        fetch_commits(cache, url, std::slice::from_ref(id))
                    {
                        return Err(Error::Fetch(error));
                    }
                }
            }
            _ => {}
        }
        fetching.advance(url);
    }
    Ok(())
}

/// The index in `listings` of a timed-out mirror of the first atom none of whose mirrors
/// answered because every one of them timed out (other failures leave it
/// [`Failure::Unreachable`]).
fn timed_out_everywhere(
    lock: &Lockfile,
    answered: &BTreeMap<&str, Vec<&str>>,
    listings: &[(&str, Result<Listing, remote::Error>)],
) -> Option<usize> {
    let timed_out = |mirror: &str| {
        listings.iter().position(|(url, listing)| {
            *url == mirror && listing.as_ref().is_err_and(remote::Error::is_timeout)
        })
    };
    lock.atoms
        .iter()
        .filter(|atom| !answered.contains_key(atom.id.as_str()))
        .find_map(|atom| {
            let indexes: Vec<usize> = atom
                .mirrors
                .iter()
                .filter_map(|mirror| timed_out(mirror.as_str()))
                .collect();
            (indexes.len() == atom.mirrors.len())
                .then(|| indexes.first().copied())
                .flatten()
        })
}

/// The project's own requirements against the lock.
fn check_root(manifest: &Manifest, lock: &Lockfile, known: &KnownRoots) -> Vec<Failure> {
    let mut failures = Vec::new();
    for (set_name, requirements) in &manifest.deps.from {
        for (label, requirement) in requirements {
            let candidates = meeting(manifest, lock, known, set_name, label);
            let wanted = format!("`{set_name}::{label}@{requirement}`");
            if candidates.is_empty() {
                failures.push(Failure::ClosureBroken {
                    reason: format!("{wanted} required by `atom.toml` is not locked"),
                });
            } else if !candidates
                .iter()
                .any(|atom| requirement.matches(&atom.version))
            {
                let versions: Vec<String> =
                    candidates.iter().map(|a| a.version.to_string()).collect();
                failures.push(Failure::ClosureBroken {
                    reason: format!(
                        "{wanted} required by `atom.toml` is locked at `{}`, which does not \
                         satisfy it",
                        versions.join("`, `")
                    ),
                });
            }
        }
    }
    failures
}

/// One atom's attestation refs (ref name and tag id), over every mirror, by atom id.
type FoundAttestations = BTreeMap<String, BTreeSet<(String, ObjectId)>>;

/// The attestations of the selected atoms: one listing per mirror of
/// `refs/eka/attest/<label>/<version>/` (only `<selected config hash>/` under
/// `--require-attested`), the tags fetched into the atom store in one fetch per mirror,
/// each checked against the trust policy of its set and the lock; then, per
/// configuration, disagreeing outputs; for the selected configuration, the substituters
/// and `--require-attested`.
fn check_attestations(
    lock: &Lockfile,
    repo: &gix::Repository,
    trusted: &BTreeMap<ObjectId, &AllowedSigners>,
    options: &Options,
) -> Result<BTreeMap<String, AttestationReport>, Error> {
    let selected = config_hash(&options.config);
    let atom_prefix = |atom: &LockedAtom| {
        verify::attestation::ref_prefix(atom.label.as_str(), &atom.version.to_string())
    };
    let listed_prefix = |atom: &LockedAtom| {
        if options.require_attested {
            format!(
                "{}{}/",
                atom_prefix(atom),
                selected.trim_start_matches("sha256:")
            )
        } else {
            atom_prefix(atom)
        }
    };
    let mut found = list_attestations(lock, repo, options, &listed_prefix);
    let no_signers =
        AllowedSigners::parse("no allowed signers", "").map_err(|source| Error::Signers {
            set: String::new(),
            source,
        })?;
    let mut reports = BTreeMap::new();
    for atom in &lock.atoms {
        let allowed = object_id(&atom.set)
            .and_then(|root| trusted.get(&root).copied())
            .unwrap_or(&no_signers);
        let prefix = atom_prefix(atom);
        // Configuration hash → its refs.
        let mut by_config: BTreeMap<String, BTreeSet<(String, ObjectId)>> = BTreeMap::new();
        for (name, id) in found.remove(atom.id.as_str()).unwrap_or_default() {
            let config = name
                .strip_prefix(&prefix)
                .and_then(|rest| rest.split('/').next())
                .unwrap_or_default();
            by_config
                .entry(format!("sha256:{config}"))
                .or_default()
                .insert((name, id));
        }
        let selected_refs = by_config.remove(&selected).unwrap_or_default();
        let check = |refs, hash: &str, is_selected| {
            check_configuration(atom, repo, refs, allowed, options, hash, is_selected)
        };
        let report = AttestationReport {
            selected: check(&selected_refs, &selected, true),
            other_configs: by_config
                .iter()
                .map(|(hash, refs)| check(refs, hash, false))
                .collect(),
        };
        reports.insert(atom.id.to_string(), report);
    }
    Ok(reports)
}

/// List the attestation refs under `prefix_of` every selected atom, one listing per
/// mirror, and fetch the tags the atom store lacks, one fetch per mirror.
fn list_attestations(
    lock: &Lockfile,
    repo: &gix::Repository,
    options: &Options,
    prefix_of: &dyn Fn(&LockedAtom) -> String,
) -> FoundAttestations {
    let mut found = FoundAttestations::new();
    let mut by_mirror: BTreeMap<&str, Vec<&LockedAtom>> = BTreeMap::new();
    for atom in &lock.atoms {
        for mirror in &atom.mirrors {
            by_mirror.entry(mirror.as_str()).or_default().push(atom);
        }
    }
    let step = Step::begin(
        &*options.reporter,
        "Attestations",
        Some(by_mirror.len() as u64),
    );
    for (url, atoms) in &by_mirror {
        let prefixes: Vec<String> = atoms.iter().map(|atom| prefix_of(atom)).collect();
        // An unreachable mirror is already reported by the atom checks.
        let Ok(listing) = remote::list_refs(url, &prefixes) else {
            step.advance(url);
            continue;
        };
        let listing: Vec<(String, ObjectId)> = listing
            .into_iter()
            .filter(|(name, _)| !name.ends_with("^{}"))
            .collect();
        let missing: Vec<String> = listing
            .iter()
            .filter(|(_, id)| repo.find_object(*id).is_err())
            .map(|(name, _)| name.clone())
            .collect();
        if !missing.is_empty() {
            let spec = FetchSpec {
                refspecs: missing,
                depth: Depth::Incremental,
            };
            // A tag that cannot be fetched is reported as unreadable below.
            let _ = git::Repo::open(repo.git_dir()).fetch(url, &spec);
        }
        for atom in atoms {
            let prefix = prefix_of(atom);
            let entry = found.entry(atom.id.to_string()).or_default();
            for (name, id) in &listing {
                if name.starts_with(&prefix) {
                    entry.insert((name.clone(), *id));
                }
            }
        }
        step.advance(url);
    }
    found
}

/// Check the attestation tags found for one atom under one configuration; the
/// substituters and `--require-attested` apply to the selected configuration only.
fn check_configuration(
    atom: &LockedAtom,
    repo: &gix::Repository,
    refs: &BTreeSet<(String, ObjectId)>,
    allowed: &AllowedSigners,
    options: &Options,
    config_hash: &str,
    selected: bool,
) -> ConfigAttestations {
    use verify::attestation::{self, Failure as Attestation};
    let mut report = ConfigAttestations {
        config_hash: config_hash.to_owned(),
        ..ConfigAttestations::default()
    };
    let (Some(commit), version) = (object_id(&atom.commit), atom.version.to_string()) else {
        return report;
    };
    let content = atom.content.to_string();
    let expected = attestation::Expected {
        label: atom.label.as_str(),
        version: &version,
        commit,
        content: &content,
        atom_id: atom.id.as_str(),
    };
    let mut verified = Vec::new();
    for (reference, id) in refs {
        let raw = match read_tag(repo, reference, *id) {
            Ok(raw) => raw,
            Err(failure) => {
                report.failures.push(failure);
                continue;
            }
        };
        match attestation::check_tag(reference, &raw, &expected, allowed, options.now) {
            Ok(good) => {
                report.attested_by.push(Attester {
                    reference: reference.clone(),
                    principal: good.verdict.principal.clone(),
                    fingerprint: good.verdict.fingerprint.clone(),
                    outputs: good
                        .statement
                        .subjects
                        .iter()
                        .map(|subject| (subject.name.clone(), subject.sha256.clone()))
                        .collect(),
                });
                verified.push(good);
            }
            Err(failure) => report.failures.push(failure),
        }
    }
    report
        .failures
        .extend(attestation::disagreements(&verified));
    if !selected {
        return report;
    }
    if !options.substituters.is_empty() {
        report
            .failures
            .extend(check_outputs(&verified, &options.substituters));
    }
    if options.require_attested && verified.is_empty() {
        report.failures.push(Attestation::Unattested {
            config_hash: config_hash.to_owned(),
        });
    }
    report
}

/// The bytes of the tag object `id` that `reference` names; a ref naming something
/// else, or a tag that cannot be read, is a malformed attestation.
fn read_tag(
    repo: &gix::Repository,
    reference: &str,
    id: ObjectId,
) -> Result<Vec<u8>, verify::attestation::Failure> {
    let malformed = |reason: String| verify::attestation::Failure::AttestationMalformed {
        reference: reference.to_owned(),
        reason,
    };
    match repo.find_object(id) {
        Ok(object) if object.kind == gix::object::Kind::Tag => Ok(object.detach().data),
        Ok(_) => Err(malformed("the ref does not name a tag object".into())),
        Err(error) => Err(malformed(format!("its tag cannot be read: {error}"))),
    }
}

/// Every output the verified attestations name, realised once from the substituters
/// and compared with its attested NAR hash.
fn check_outputs(
    verified: &[verify::attestation::Verified],
    substituters: &[String],
) -> Vec<verify::attestation::Failure> {
    let mut checked = BTreeSet::new();
    verified
        .iter()
        .flat_map(|good| &good.statement.subjects)
        .filter(|subject| checked.insert(subject.name.clone()))
        .filter_map(|subject| check_substituted(subject, substituters))
        .collect()
}

/// Realise an attested output from the substituters and compare its NAR hash.
fn check_substituted(
    subject: &verify::attestation::Subject,
    substituters: &[String],
) -> Option<verify::attestation::Failure> {
    use verify::attestation::Failure as Attestation;
    let unavailable = |reason: String| Attestation::OutputUnavailable {
        path: subject.name.clone(),
        reason,
    };
    let joined = substituters.join(" ");
    let realised = std::process::Command::new("nix-store")
        .args([
            "--realise",
            &subject.name,
            "--option",
            "substituters",
            &joined,
        ])
        .args(["--option", "require-sigs", "false"])
        .stdin(std::process::Stdio::null())
        .output();
    match realised {
        Ok(output) if output.status.success() => {}
        Ok(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Some(unavailable(
                stderr.trim().lines().last().unwrap_or("").to_owned(),
            ));
        }
        Err(error) => return Some(unavailable(format!("cannot run `nix-store`: {error}"))),
    }
    match crate::ops::attest::query_nar_hash(&subject.name) {
        Ok(found) if found == subject.sha256 => None,
        Ok(found) => Some(Attestation::OutputMismatch {
            path: subject.name.clone(),
            expected: subject.sha256.clone(),
            found,
        }),
        Err(error) => Some(unavailable(error.to_string())),
    }
}
