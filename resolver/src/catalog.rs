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
//! was fetched from. URLs go through the consumer's `[mirrors]` ([`Sources::mirrors`])
//! before they are listed; a lock keeps the URLs as manifests name them.
//!
//! Set identity is earned, not claimed (ADR 0017): a set root is owned by the URLs the
//! consumer configured for it (the root manifest's `[package.sets]` and the extra
//! atoms, after `[mirrors]`; a group of URLs every one of which the consumer
//! configured). For one atom of a set, the owners are the configured groups the root
//! manifest names that atom from, else every configured group reporting the root, else
//! (no configured URL reports it) every group reporting it, merged as mirrors. Any other
//! group reporting that root is a claimant: a version it serves that an owner serves
//! must be the same atom commit ([`Error::Claimed`]); a version only it serves is used
//! when the set's trust policy vouches for its atom commit ([`Vouch`], given in
//! [`Sources::vouch`]: a signature by a key trusted for the set), and then locked with
//! the claimant's URLs as its only mirrors (two vouched claimants serving different
//! atom commits for it is [`Error::ClaimantsDisagree`]); otherwise it is not used, only
//! recorded ([`Catalog::withheld`], with why it was not vouched for). A local (`"::"`) atom has exactly one version, the one in the work
//! tree; it is locked as the atom commit `eka publish` would make from `HEAD` (see
//! [`crate::lock`] and ADR 0012). Main types: [`Catalog`], [`Sources`], [`Vouch`],
//! [`LocalSet`], [`SetRef`] and [`Error`].
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
    config::Mirrors,
    manifest::{Manifest, SetSource},
    progress::{Reporter, Step},
    store::{
        AtomCommit,
        fetch::{self, Cache, Warning},
    },
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
    /// A URL not configured for a set serves another atom commit than the set's
    /// configured mirrors for one version (`first` is the configured URL).
    #[error(
        "`{}` serves `{}` {} as atom commit `{}`, but `{}`, configured for that set, serves \
         `{}` (possible tampering)",
        .0.second, .0.label, .0.version, .0.second_commit, .0.first, .0.first_commit
    )]
    Claimed(Box<Conflict>),
    /// Two URLs configured for one set serve different atom commits for one version.
    #[error(
        "the mirrors of one set disagree about the commit of `{}` `{}`: `{}` has `{}`, `{}` \
         has `{}` (possible tampering)",
        .0.label, .0.version, .0.first, .0.first_commit, .0.second, .0.second_commit
    )]
    OwnersDisagree(Box<Conflict>),
    /// Two URLs not configured for a set serve different atom commits for one version
    /// no configured URL serves, each signed by a key the set's trust policy allows.
    #[error(
        "`{}` and `{}`, neither configured for the set, serve `{}` {} as different atom \
         commits (`{}` and `{}`), both signed by keys trusted for the set (possible tampering)",
        .0.first, .0.second, .0.label, .0.version, .0.first_commit, .0.second_commit
    )]
    ClaimantsDisagree(Box<Conflict>),
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

/// Two URLs serving different atom commits for one version of one set.
#[derive(Debug)]
pub struct Conflict {
    /// The atom's label.
    pub label: Label,
    /// The version.
    pub version: Version,
    /// The first URL (for a claim: the configured one).
    pub first: String,
    /// What it serves.
    pub first_commit: ObjectId,
    /// The second URL (for a claim: the claimant).
    pub second: String,
    /// What it serves.
    pub second_commit: ObjectId,
}

impl Classify for Error {
    /// A fetch failure decides for itself; every other error is the data refused.
    fn kind(&self) -> Kind {
        match self {
            Error::Fetch(error) => error.kind(),
            Error::UndeclaredSet { .. }
            | Error::NoLocalSet { .. }
            | Error::LocalSet { .. }
            | Error::Claimed(_)
            | Error::OwnersDisagree(_)
            | Error::ClaimantsDisagree(_) => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Fetch(error) => error.hint(),
            Error::NoLocalSet { hint, .. } => Some((*hint).to_owned()),
            Error::LocalSet { hint, .. } => hint.map(str::to_owned),
            Error::UndeclaredSet { .. } => Some("add the set under `[package.sets]`".to_owned()),
            Error::OwnersDisagree(_) => Some(
                "find out which mirror was altered and remove it from `[package.sets]` or \
                 `[mirrors]` in `eka.toml`"
                    .to_owned(),
            ),
            Error::ClaimantsDisagree(conflict) => Some(format!(
                "a trusted key signed two different commits for one version: find out which \
                 of `{first}` and `{second}` was altered (and whether the key leaked), and \
                 drop the dependency naming it",
                first = conflict.first,
                second = conflict.second
            )),
            Error::Claimed(conflict) => Some(format!(
                "`{claimant}` shares the set root of `{owner}` but is not configured for that \
                 set (a fork, or an altered copy): find out which one was altered, and drop \
                 the dependency naming `{claimant}` unless you trust it",
                claimant = conflict.second,
                owner = conflict.first
            )),
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

/// Judges a version only a claimant serves (see the module docs): whether the trust
/// policy of the set it claims vouches for its atom commit.
pub trait Vouch: std::fmt::Debug + Send + Sync {
    /// `Some(Ok(()))` when `commit` carries a signature by a key trusted for the set
    /// whose configured URLs (as the consumer names them) are `owners`; `Some(Err(_))`
    /// with why not; `None` when no trust policy applies to that set.
    fn vouch(&self, owners: &[SetUrl], commit: &AtomCommit) -> Option<Result<(), Refusal>>;
}

/// Why a claimant's version was not vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong, a lowercase phrase naming the key when there is one.
    pub reason: String,
    /// How to trust it, when the consumer may.
    pub hint: Option<String>,
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
    /// The consumer's `[mirrors]`: where each set URL is fetched from.
    pub mirrors: Mirrors,
    /// Judges the versions only a claimant serves (none are used without it).
    pub vouch: Option<Box<dyn Vouch>>,
}

impl Sources {
    /// Open the cache in `cache_dir`.
    pub fn new(cache_dir: &Path, offline: bool, local: Option<LocalSet>) -> Result<Sources, Error> {
        Ok(Sources {
            cache: Cache::open(cache_dir).map_err(fetch::Error::from)?,
            offline,
            local,
            mirrors: Mirrors::default(),
            vouch: None,
        })
    }

    /// The same sources, fetching set URLs through `mirrors`.
    pub fn with_mirrors(self, mirrors: Mirrors) -> Sources {
        Sources { mirrors, ..self }
    }

    /// The same sources, using the versions only a claimant serves that `vouch`
    /// vouches for.
    pub fn with_vouch(self, vouch: Box<dyn Vouch>) -> Sources {
        Sources {
            vouch: Some(vouch),
            ..self
        }
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
    /// The URLs, as manifests name them, of the groups owning any of its atoms (empty
    /// for the local set); claimants are never among them.
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
    /// Versions only a claimant of a set serves: not used.
    pub withheld: Vec<Withheld>,
    /// Set references resolved to set keys.
    keys: BTreeMap<SetRef, String>,
    /// Per remote set reference discovered, the URLs (as named) whose fetch URLs answered.
    answered: BTreeMap<SetRef, Vec<SetUrl>>,
    /// The set references the consumer configured, and the atoms it names from each.
    configured: Configured,
    /// What discovery learnt this run (each mirror is listed at most twice, whatever
    /// the number of rounds).
    session: fetch::Session,
    /// The decoded remote atom commits, by id (a claimant's are judged by [`Vouch`]).
    commits: BTreeMap<ObjectId, AtomCommit>,
    /// The versions in [`Catalog::published`] that only vouched claimants serve.
    vouched: BTreeSet<(AtomKey, Version)>,
}

/// A version a URL serves for a set it is not configured for, which no configured URL
/// of that set serves: not used (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    /// The set root (hex) the version carries.
    pub set: String,
    /// The atom's label.
    pub label: Label,
    /// The version.
    pub version: Version,
    /// The atom commit served.
    pub commit: Option<ObjectId>,
    /// The URLs serving it, as manifests name them.
    pub claimant: Vec<SetUrl>,
    /// The set's configured URLs, as the consumer names them.
    pub owners: Vec<SetUrl>,
    /// Why the set's trust policy did not vouch for it (None when no policy judged it).
    pub refusal: Option<Refusal>,
}

/// What the consumer configured: the root manifest's sets and extra atoms, after
/// `[mirrors]`.
#[derive(Debug, Default)]
struct Configured {
    /// The set references and labels the consumer names.
    named: BTreeSet<(SetRef, Label)>,
    /// Every fetch URL of a configured set reference, and every `[mirrors]` target.
    urls: BTreeSet<SetUrl>,
    /// The consumer's `[mirrors]`.
    mirrors: Mirrors,
}

impl Configured {
    /// Whether the consumer configured every URL `set` is fetched from.
    fn covers(&self, set: &SetRef) -> bool {
        match set {
            SetRef::Local => true,
            SetRef::Remote(urls) => {
                let fetched = self.mirrors.expand(urls);
                !fetched.is_empty() && fetched.iter().all(|url| self.urls.contains(url))
            }
        }
    }
}

type Dep = (SetRef, Label, VersionReq);

/// One version a claimant serves: its set reference, set key, label and version.
#[derive(Clone, Copy)]
struct Claim<'a> {
    set: &'a SetRef,
    key: &'a str,
    label: &'a Label,
    version: &'a Version,
}

/// One discovered version before it is keyed: its set reference, label, version,
/// dependencies and what a lock needs.
type Found = (SetRef, Label, Version, Vec<Dep>, Published);

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
        catalog.configure(&sources.mirrors, &pending);
        // Per (set, label, version): its dependencies, converted once all keys are known.
        let mut raw: Vec<Found> = Vec::new();
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
                    raw.push((set.clone(), label, version, deps, published));
                }
            }
            if pending.is_empty() {
                // A claimant's atoms are compared with the owners' own: ask them too.
                pending = catalog.owners_to_ask(&raw, &seen);
            }
        }
        catalog.settle(raw, sources.vouch.as_deref())?;
        Ok(catalog)
    }

    /// Record what the consumer configured: the set references it names (`pending`
    /// before the first round) and `[mirrors]`.
    fn configure(&mut self, mirrors: &Mirrors, named: &BTreeMap<SetRef, BTreeSet<Label>>) {
        let mut configured = Configured {
            mirrors: mirrors.clone(),
            ..Configured::default()
        };
        for (set, labels) in named {
            if let SetRef::Remote(urls) = set {
                configured.urls.extend(mirrors.expand(urls));
            }
            for label in labels {
                configured.named.insert((set.clone(), label.clone()));
            }
        }
        for (_, targets) in mirrors.iter() {
            configured.urls.extend(targets.iter().cloned());
        }
        self.configured = configured;
    }

    /// The set references reporting each set key, the local set included.
    fn groups(&self) -> BTreeMap<String, Vec<SetRef>> {
        let mut groups: BTreeMap<String, Vec<SetRef>> = BTreeMap::new();
        for set in self
            .answered
            .keys()
            .chain(self.keys.keys().filter(|set| matches!(set, SetRef::Local)))
        {
            groups
                .entry(self.key_of(set))
                .or_default()
                .push(set.clone());
        }
        groups
    }

    /// The set references owning atom `label` of the set `key`: the configured ones the
    /// root manifest names it from, else every configured one, else every one reporting
    /// the set.
    fn owners(
        &self,
        groups: &BTreeMap<String, Vec<SetRef>>,
        key: &str,
        label: &Label,
    ) -> Vec<SetRef> {
        let Some(sets) = groups.get(key) else {
            return Vec::new();
        };
        let named: Vec<SetRef> = sets
            .iter()
            .filter(|set| {
                self.configured
                    .named
                    .contains(&((*set).clone(), label.clone()))
            })
            .cloned()
            .collect();
        if !named.is_empty() {
            return named;
        }
        let configured: Vec<SetRef> = sets
            .iter()
            .filter(|set| self.configured.covers(set))
            .cloned()
            .collect();
        if !configured.is_empty() {
            return configured;
        }
        sets.clone()
    }

    /// For every atom a claimant served, the owners not yet asked for it.
    fn owners_to_ask(
        &self,
        raw: &[Found],
        seen: &BTreeSet<(SetRef, Label)>,
    ) -> BTreeMap<SetRef, BTreeSet<Label>> {
        let groups = self.groups();
        let mut ask: BTreeMap<SetRef, BTreeSet<Label>> = BTreeMap::new();
        for (set, label, ..) in raw {
            let owners = self.owners(&groups, &self.key_of(set), label);
            if owners.contains(set) {
                continue;
            }
            for owner in owners {
                if matches!(owner, SetRef::Remote(_))
                    && !seen.contains(&(owner.clone(), label.clone()))
                {
                    ask.entry(owner).or_default().insert(label.clone());
                }
            }
        }
        ask
    }

    /// The URLs (as named) of the owners of atom `label` of set `key`.
    fn owner_urls(&self, owners: &[SetRef]) -> Vec<SetUrl> {
        let mut urls: Vec<SetUrl> = Vec::new();
        for owner in owners {
            for url in self.answered.get(owner).into_iter().flatten() {
                if !urls.contains(url) {
                    urls.push(url.clone());
                }
            }
        }
        urls
    }

    /// Key every discovered version by its set root: the owners' versions are
    /// published (two owners disagreeing is tampering), a claimant's are checked
    /// against them ([`Error::Claimed`]), published when `vouch` vouches for them, or
    /// withheld. Then fill the registry.
    fn settle(&mut self, raw: Vec<Found>, vouch: Option<&dyn Vouch>) -> Result<(), Error> {
        let groups = self.groups();
        // Per atom, the set references that served a version of it.
        let mut served: BTreeMap<(String, Label), BTreeSet<SetRef>> = BTreeMap::new();
        for (set, label, ..) in &raw {
            served
                .entry((self.key_of(set), label.clone()))
                .or_default()
                .insert(set.clone());
        }
        let mut claims = Vec::new();
        let mut registered = Vec::new();
        for (set, label, version, deps, mut published) in raw {
            let key = self.key_of(&set);
            let owners = self.owners(&groups, &key, &label);
            if !owners.contains(&set) {
                claims.push((set, key, label, version, deps, published));
                continue;
            }
            // A configured owner that does not serve the atom is not its mirror; sets no
            // configured URL reports keep every URL reporting them.
            let serving: Vec<SetRef> = owners
                .into_iter()
                .filter(|owner| {
                    !self.configured.covers(owner)
                        || served
                            .get(&(key.clone(), label.clone()))
                            .is_some_and(|sets| sets.contains(owner))
                })
                .collect();
            published.mirrors = self.owner_urls(&serving);
            let info = self.sets.entry(key.clone()).or_default();
            for url in &published.mirrors {
                if !info.mirrors.contains(url) {
                    info.mirrors.push(url.clone());
                }
            }
            let versions = self
                .published
                .entry(AtomKey::new(key.clone(), label.clone()))
                .or_default();
            if let Some(known) = versions.get(&version) {
                if let (Some(first_commit), Some(second_commit)) =
                    (known.commit_id, published.commit_id)
                    && first_commit != second_commit
                {
                    return Err(Error::OwnersDisagree(Box::new(Conflict {
                        label,
                        version,
                        first: url_of(&set, known.mirrors.first()),
                        first_commit,
                        second: describe(&set),
                        second_commit,
                    })));
                }
                continue;
            }
            versions.insert(version.clone(), published);
            registered.push((key, label, version, deps));
        }
        for (set, key, label, version, deps, published) in claims {
            let claim = Claim {
                set: &set,
                key: &key,
                label: &label,
                version: &version,
            };
            if self.check_claim(&groups, &claim, published, vouch)? {
                registered.push((key, label, version, deps));
            }
        }
        for (key, label, version, deps) in registered {
            let requirements = deps
                .into_iter()
                .map(|(set, label, req)| {
                    Requirement::new(AtomKey::new(self.key_of(&set), label), req)
                })
                .collect();
            self.registry
                .add(AtomKey::new(key, label), version, requirements);
        }
        Ok(())
    }

    /// A claimant's version: the owners' own when they serve it (the same atom commit,
    /// else [`Error::Claimed`]); when they do not, published with the claimant as its
    /// only mirror if `vouch` vouches for its atom commit (returns true: register it),
    /// else withheld. Two vouched claimants serving different atom commits for one
    /// version is [`Error::ClaimantsDisagree`], whatever order they were found in.
    fn check_claim(
        &mut self,
        groups: &BTreeMap<String, Vec<SetRef>>,
        claim: &Claim<'_>,
        mut published: Published,
        vouch: Option<&dyn Vouch>,
    ) -> Result<bool, Error> {
        let Claim {
            set,
            key,
            label,
            version,
        } = *claim;
        let claimant = self.answered.get(set).cloned().unwrap_or_default();
        let atom_key = AtomKey::new(key.to_owned(), label.clone());
        let known = self
            .published
            .get(&atom_key)
            .and_then(|versions| versions.get(version))
            .map(|known| (known.commit_id, known.mirrors.first().cloned()));
        let known_vouched = self.vouched.contains(&(atom_key.clone(), version.clone()));
        let conflict = |(known_commit, known_url): &(Option<ObjectId>, Option<SetUrl>)| {
            let (first_commit, second_commit) = ((*known_commit)?, published.commit_id?);
            (first_commit != second_commit).then(|| {
                Box::new(Conflict {
                    label: label.clone(),
                    version: version.clone(),
                    first: url_of(set, known_url.as_ref()),
                    first_commit,
                    second: url_of(set, claimant.first()),
                    second_commit,
                })
            })
        };
        if let Some(known) = &known
            && !known_vouched
        {
            return match conflict(known) {
                Some(conflict) => Err(Error::Claimed(conflict)),
                None => Ok(false),
            };
        }
        let owners = self.owner_urls(&self.owners(groups, key, label));
        let commit = published.commit_id.and_then(|id| self.commits.get(&id));
        let verdict = match (vouch, commit) {
            (Some(vouch), Some(commit)) => vouch.vouch(&owners, commit),
            _ => None,
        };
        if let Some(Ok(())) = verdict {
            if let Some(known) = &known {
                // Another vouched claimant serves this version.
                return match conflict(known) {
                    Some(conflict) => Err(Error::ClaimantsDisagree(conflict)),
                    None => Ok(false),
                };
            }
            published.mirrors = claimant;
            self.published
                .entry(atom_key.clone())
                .or_default()
                .insert(version.clone(), published);
            self.vouched.insert((atom_key, version.clone()));
            return Ok(true);
        }
        let withheld = Withheld {
            set: key.to_owned(),
            label: label.clone(),
            version: version.clone(),
            commit: published.commit_id,
            claimant,
            owners,
            refusal: verdict.and_then(Result::err),
        };
        if !self.withheld.contains(&withheld) {
            self.withheld.push(withheld);
        }
        Ok(false)
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
                let fetched = sources.mirrors.expand(urls);
                let atoms = self.session.discover(
                    &sources.cache,
                    &fetched,
                    labels,
                    sources.offline,
                    reporter,
                )?;
                self.warnings.extend(atoms.warnings.iter().cloned());
                if let Some(root) = atoms.set_root {
                    self.keys.insert(set.clone(), root.to_hex().to_string());
                }
                // The URLs as named whose fetch URLs answered: what a lock records.
                let named: Vec<SetUrl> = urls
                    .iter()
                    .filter(|url| {
                        sources
                            .mirrors
                            .for_url(url)
                            .iter()
                            .any(|mirror| atoms.answered.contains(mirror))
                    })
                    .cloned()
                    .collect();
                let answered = self.answered.entry(set.clone()).or_default();
                for url in named {
                    if !answered.contains(&url) {
                        answered.push(url);
                    }
                }
                for (label, versions) in atoms.atoms {
                    for (version, published) in versions {
                        self.commits
                            .insert(published.commit_id, published.commit.clone());
                        found.push((
                            label.clone(),
                            version,
                            Published {
                                commit_id: Some(published.commit_id),
                                content: Some(published.commit.content.clone()),
                                path: published.commit.path.clone(),
                                manifest: published.manifest,
                                mirrors: Vec::new(),
                            },
                        ));
                    }
                }
            }
        }
        Ok(found)
    }
}

/// The URL to name a set reference by: `preferred`, else its first URL.
fn url_of(set: &SetRef, preferred: Option<&SetUrl>) -> String {
    preferred
        .map(|url| url.as_str().to_owned())
        .unwrap_or_else(|| describe(set))
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
