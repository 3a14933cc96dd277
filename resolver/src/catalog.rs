//! The resolver's view of published atoms: a [`Catalog`] gathered before solving.
//!
//! Starting from a project's `atom.toml`, [`Catalog::gather`] discovers, round after
//! round, every published version of every atom the manifest (and, transitively, every
//! published manifest found) may require: remote sets through
//! [`atom::store::fetch::discover`] (metadata only, cached on disk), the project's own
//! set (`"::"`) from the working tree, reporting a `Resolving` step that advances per
//! atom discovered. It then implements [`Registry`] in
//! memory, keyed by [`AtomKey`] `{ set: <set root hex>, label }`, and keeps what a lock
//! needs per version (atom commit, content hash, mirrors).
//!
//! A published manifest names its sets by URL, or `"::"` for its own set wherever it
//! was fetched from. A local (`"::"`) atom has exactly one version, the one in the work
//! tree; it is locked as the atom commit `eka publish` would make from `HEAD` (see
//! [`crate::lock`] and ADR 0012). Main types: [`Catalog`], [`Sources`], [`LocalSet`],
//! [`SetRef`] and [`Error`].
//!
//! ```no_run
//! use resolver::catalog::{Catalog, Sources};
//!
//! let manifest = atom::manifest::Manifest::read("atom.toml")?;
//! let sources = Sources::new("/home/me/.cache/eka".as_ref(), false, None)?;
//! let catalog = Catalog::gather(&sources, &manifest, None, &atom::progress::Silent)?;
//! let root = catalog.requirements_of(&manifest, None)?;
//! let resolution = resolver::resolve(&catalog, &root, &resolver::Options::default())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use atom::error::{Classify, Kind};
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use crate::{AtomKey, MemoryRegistry, Registry, RegistryError, Requirement};
use atom::{
    Label,
    manifest::{Manifest, SetSource},
    progress::{Reporter, Step},
    store::fetch::{self, Cache, Warning},
    uri::SetUrl,
};
use gix::ObjectId;
use semver::{Version, VersionReq};

/// Why the catalog could not be gathered.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Discovery of a remote set failed.
    #[error(transparent)]
    Fetch(#[from] fetch::Error),
    /// A manifest names a set it does not declare.
    #[error(
        "`{manifest}` requires atoms from set `{set}`, which its `[package.sets]` does not declare"
    )]
    UndeclaredSet {
        /// The manifest (a path or `url::label@version`).
        manifest: String,
        /// The set name.
        set: Label,
    },
    /// A `"::"` dependency but no local set.
    #[error("`{manifest}` requires `::{label}` but it is not inside a set with `ekala.toml`")]
    NoLocalSet {
        /// The manifest.
        manifest: String,
        /// The label.
        label: Label,
        /// What to do.
        hint: &'static str,
    },
    /// The local set could not be read.
    #[error("cannot read the local set at `{}`: {message}", path.display())]
    LocalSet {
        /// The set's directory.
        path: PathBuf,
        /// What failed.
        message: String,
        /// What to do.
        hint: Option<&'static str>,
    },
}

impl Classify for Error {
    /// A fetch failure decides for itself; every other error is the data refused.
    fn kind(&self) -> Kind {
        match self {
            Error::Fetch(error) => error.kind(),
            Error::UndeclaredSet { .. } | Error::NoLocalSet { .. } | Error::LocalSet { .. } => {
                Kind::Input
            }
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Fetch(error) => error.hint(),
            Error::NoLocalSet { hint, .. } => Some((*hint).to_owned()),
            Error::LocalSet { hint, .. } => hint.map(str::to_owned),
            Error::UndeclaredSet { .. } => Some("add the set under `[package.sets]`".to_owned()),
        }
    }
}

/// The project's own set, read from its working tree.
#[derive(Debug)]
pub struct LocalSet {
    /// The set's directory (holding `ekala.toml`).
    pub dir: PathBuf,
    /// Its atoms.
    pub set: atom::set::Set,
    /// The set root, from `HEAD` (None when the repository has no commit yet).
    pub root: Option<ObjectId>,
}

impl LocalSet {
    /// Find the set holding `start` (walking up to `ekala.toml`), if any.
    pub fn find(start: &Path) -> Result<Option<LocalSet>, Error> {
        let Some(dir) = start
            .ancestors()
            .find(|dir| dir.join("ekala.toml").is_file())
            .map(Path::to_path_buf)
        else {
            return Ok(None);
        };
        let local_error = |message: String, hint| Error::LocalSet {
            path: dir.clone(),
            message,
            hint,
        };
        let set = atom::set::Set::load(&atom::set::WorkTree { root: dir.clone() })
            .map_err(|error| local_error(error.to_string(), None))?;
        let root = match gix::discover(&dir) {
            Ok(repo) => match repo.head_id() {
                Ok(head) => Some(
                    atom::store::find_set_root(&repo, head.detach())
                        .map_err(|error| local_error(error.to_string(), None))?,
                ),
                Err(_) => None,
            },
            Err(_) => None,
        };
        Ok(Some(LocalSet { dir, set, root }))
    }

    /// The set root in hex, or a placeholder naming the directory when uncommitted.
    fn key(&self) -> String {
        match self.root {
            Some(root) => root.to_hex().to_string(),
            None => format!("local:{}", self.dir.display()),
        }
    }
}

/// Where atoms come from: the cache (and the network unless offline) and the local set.
#[derive(Debug)]
pub struct Sources {
    /// The metadata cache.
    pub cache: Cache,
    /// Use only the cache.
    pub offline: bool,
    /// The project's own set.
    pub local: Option<LocalSet>,
}

impl Sources {
    /// Open the cache in `cache_dir`.
    pub fn new(cache_dir: &Path, offline: bool, local: Option<LocalSet>) -> Result<Sources, Error> {
        Ok(Sources {
            cache: Cache::open(cache_dir).map_err(fetch::Error::from)?,
            offline,
            local,
        })
    }
}

/// A set as a manifest names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SetRef {
    /// The project's own set.
    Local,
    /// A remote set, by its mirrors.
    Remote(Vec<SetUrl>),
}

/// What a lock needs about one published version.
#[derive(Debug, Clone)]
pub struct Published {
    /// The atom commit (None for a local atom: computed when locking).
    pub commit_id: Option<ObjectId>,
    /// The content hash (None for a local atom).
    pub content: Option<String>,
    /// The atom's directory in its set (local atoms).
    pub path: String,
    /// Its manifest.
    pub manifest: Manifest,
    /// The mirrors that served it (empty for a local atom).
    pub mirrors: Vec<SetUrl>,
}

/// Everything known about one set.
#[derive(Debug, Clone, Default)]
pub struct SetInfo {
    /// Every URL it was found at (empty for the local set).
    pub mirrors: Vec<SetUrl>,
    /// Whether it is the project's own set.
    pub local: bool,
}

/// The gathered atoms; a [`Registry`].
#[derive(Debug, Default)]
pub struct Catalog {
    registry: MemoryRegistry,
    /// Per atom and version, what a lock needs.
    pub published: BTreeMap<AtomKey, BTreeMap<Version, Published>>,
    /// Per set root (hex), its mirrors.
    pub sets: BTreeMap<String, SetInfo>,
    /// Mirrors skipped during discovery.
    pub warnings: Vec<Warning>,
    /// Set references resolved to set keys.
    keys: BTreeMap<SetRef, String>,
    /// What discovery learnt this run (each mirror is listed at most twice, whatever
    /// the number of rounds).
    session: fetch::Session,
}

type Dep = (SetRef, Label, VersionReq);

impl Catalog {
    /// Discover every atom `manifest` may need, transitively. `extra` names atoms to
    /// look up beside the manifest's own dependencies (e.g. ones being added). Progress
    /// goes to `reporter`.
    pub fn gather(
        sources: &Sources,
        manifest: &Manifest,
        extra: Option<&[(SetRef, Label)]>,
        reporter: &dyn Reporter,
    ) -> Result<Catalog, Error> {
        let step = Step::begin(reporter, "Resolving", None);
        let mut catalog = Catalog::default();
        let mut pending: BTreeMap<SetRef, BTreeSet<Label>> = BTreeMap::new();
        let mut seen: BTreeSet<(SetRef, Label)> = BTreeSet::new();
        let root_name = "atom.toml".to_owned();
        for (set, label, _) in dependencies(manifest, &SetRef::Local, &root_name)? {
            pending.entry(set).or_default().insert(label);
        }
        for (set, label) in extra.into_iter().flatten() {
            pending
                .entry(set.clone())
                .or_default()
                .insert(label.clone());
        }
        // Per (set, label, version): its dependencies, converted once all keys are known.
        let mut raw: Vec<(SetRef, Label, Version, Vec<Dep>)> = Vec::new();
        while !pending.is_empty() {
            let round = std::mem::take(&mut pending);
            for (set, labels) in round {
                let labels: Vec<Label> = labels
                    .into_iter()
                    .filter(|label| seen.insert((set.clone(), label.clone())))
                    .collect();
                if labels.is_empty() {
                    continue;
                }
                let found = catalog.discover(sources, &set, &labels, reporter)?;
                for label in &labels {
                    step.advance(label.as_str());
                }
                for (label, version, published) in found {
                    let origin =
                        format!("{set_name}::{label}@{version}", set_name = describe(&set));
                    let deps = dependencies(&published.manifest, &set, &origin)?;
                    for (dep_set, dep_label, _) in &deps {
                        if !seen.contains(&(dep_set.clone(), dep_label.clone())) {
                            pending
                                .entry(dep_set.clone())
                                .or_default()
                                .insert(dep_label.clone());
                        }
                    }
                    let key = AtomKey::new(catalog.key_of(&set), label.clone());
                    catalog
                        .published
                        .entry(key)
                        .or_default()
                        .insert(version.clone(), published);
                    raw.push((set.clone(), label, version, deps));
                }
            }
        }
        for (set, label, version, deps) in raw {
            let key = AtomKey::new(catalog.key_of(&set), label);
            let requirements = deps
                .into_iter()
                .map(|(set, label, req)| {
                    Requirement::new(AtomKey::new(catalog.key_of(&set), label), req)
                })
                .collect();
            catalog.registry.add(key, version, requirements);
        }
        Ok(catalog)
    }

    /// The set key of a set reference: its root in hex, or a placeholder when unknown
    /// (a set where nothing was found).
    pub fn key_of(&self, set: &SetRef) -> String {
        self.keys.get(set).cloned().unwrap_or_else(|| match set {
            SetRef::Local => "local".to_owned(),
            SetRef::Remote(urls) => urls
                .first()
                .map_or_else(String::new, |url| url.as_str().to_owned()),
        })
    }

    /// The root requirements of `manifest` (the project's), with `overrides` replacing
    /// or adding requirements.
    pub fn requirements_of(
        &self,
        manifest: &Manifest,
        overrides: Option<&[(SetRef, Label, VersionReq)]>,
    ) -> Result<Vec<Requirement>, Error> {
        let mut requirements: BTreeMap<AtomKey, VersionReq> = BTreeMap::new();
        for (set, label, req) in dependencies(manifest, &SetRef::Local, "atom.toml")? {
            requirements.insert(AtomKey::new(self.key_of(&set), label), req);
        }
        for (set, label, req) in overrides.into_iter().flatten() {
            requirements.insert(AtomKey::new(self.key_of(set), label.clone()), req.clone());
        }
        Ok(requirements
            .into_iter()
            .map(|(key, req)| Requirement::new(key, req))
            .collect())
    }

    fn discover(
        &mut self,
        sources: &Sources,
        set: &SetRef,
        labels: &[Label],
        reporter: &dyn Reporter,
    ) -> Result<Vec<(Label, Version, Published)>, Error> {
        let mut found = Vec::new();
        match set {
            SetRef::Local => {
                let Some(local) = &sources.local else {
                    return Err(Error::NoLocalSet {
                        manifest: "atom.toml".to_owned(),
                        label: labels[0].clone(),
                        hint: "run `eka init` at the repository's root, or name the set by URL",
                    });
                };
                let key = local.key();
                self.keys.insert(SetRef::Local, key.clone());
                self.sets.entry(key).or_default().local = true;
                for label in labels {
                    if let Some(atom) = local.set.atom(label) {
                        found.push((
                            label.clone(),
                            atom.manifest.package.version.clone(),
                            Published {
                                commit_id: None,
                                content: None,
                                path: atom.path.to_string(),
                                manifest: atom.manifest.clone(),
                                mirrors: Vec::new(),
                            },
                        ));
                    }
                }
            }
            SetRef::Remote(urls) => {
                let atoms = self.session.discover(
                    &sources.cache,
                    urls,
                    labels,
                    sources.offline,
                    reporter,
                )?;
                self.warnings.extend(atoms.warnings.iter().cloned());
                if let Some(root) = atoms.set_root {
                    let key = root.to_hex().to_string();
                    self.keys.insert(set.clone(), key.clone());
                    let info = self.sets.entry(key).or_default();
                    for url in &atoms.answered {
                        if !info.mirrors.contains(url) {
                            info.mirrors.push(url.clone());
                        }
                    }
                }
                for (label, versions) in atoms.atoms {
                    for (version, published) in versions {
                        found.push((
                            label.clone(),
                            version,
                            Published {
                                commit_id: Some(published.commit_id),
                                content: Some(published.commit.content.clone()),
                                path: published.commit.path.clone(),
                                manifest: published.manifest,
                                mirrors: atoms.answered.clone(),
                            },
                        ));
                    }
                }
            }
        }
        Ok(found)
    }
}

fn describe(set: &SetRef) -> String {
    match set {
        SetRef::Local => String::new(),
        SetRef::Remote(urls) => urls
            .first()
            .map_or_else(String::new, |url| url.as_str().to_owned()),
    }
}

/// The dependencies a manifest declares, its sets resolved against `own` (the set the
/// manifest lives in, which `"::"` means).
pub fn dependencies(manifest: &Manifest, own: &SetRef, origin: &str) -> Result<Vec<Dep>, Error> {
    let mut deps = Vec::new();
    for (set_name, labels) in &manifest.deps.from {
        let source = manifest
            .package
            .sets
            .get(set_name)
            .ok_or_else(|| Error::UndeclaredSet {
                manifest: origin.to_owned(),
                set: set_name.clone(),
            })?;
        let set = match source {
            SetSource::Here => own.clone(),
            other => SetRef::Remote(other.urls().to_vec()),
        };
        for (label, req) in labels {
            deps.push((set.clone(), label.clone(), req.clone()));
        }
    }
    Ok(deps)
}

impl Registry for Catalog {
    fn versions(&self, key: &AtomKey) -> Result<Vec<Version>, RegistryError> {
        self.registry.versions(key)
    }

    fn dependencies(
        &self,
        key: &AtomKey,
        version: &Version,
    ) -> Result<Vec<Requirement>, RegistryError> {
        self.registry.dependencies(key, version)
    }
}
