//! The lock transaction every lock-changing command (`add`, `remove`, `resolve`,
//! `update`) goes through, and what a new lock changes.
//!
//! [`relock`] holds the project's file lock, reads `atom.toml` and `atom.lock`, lets the
//! caller edit the manifest, gathers a [`Catalog`] (`resolver::catalog`), resolves
//! (preferring the locked versions, never downgrading, and never moving a locked
//! claimant's version whose trust was lost: that is [`Error::LostTrust`]), synthesizes the new [`Lockfile`]
//! (`resolver::lock`, which refuses a version that stays locked but whose mirrors now
//! serve another commit or content hash: published versions are immutable), fetches
//! every remote atom the new lock adds or changes with its tree and checks it
//! (`verify::locked`: hostile trees, content hashes, and the tree's `atom.toml` against
//! the published manifest resolution used; `--dry-run` too), decides the follows
//! (`[deps.follows]`, checked against the resolution in `transaction::follows`), locks the direct Nix
//! inputs through the `nix` crate and writes
//! both files together ([`atom::fs::write_together`]) — or neither, on any failure,
//! with `--dry-run`, or when `--locked` finds the lock would change. [`diff`] lists
//! what changed ([`Changes`]), Nix inputs included. Main types: [`Options`], [`Plan`],
//! [`Outcome`] and [`Error`].
//!
//! ```
//! use atom::lock::Lockfile;
//! use eka::transaction::diff;
//!
//! let changes = diff(&Lockfile::default(), &Lockfile::default());
//! assert!(changes.is_empty());
//! ```

mod follows;

use atom::error::{Classify, Kind};
use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use atom::{
    Label,
    config::Mirrors,
    lock::{LockedAtom, Lockfile},
    manifest::{Manifest, ManifestDocument},
    store::fetch::Warning,
};
use resolver::{
    AtomKey, Requirement, Resolution,
    catalog::{self, Catalog, LocalSet, SetRef, Sources},
};
use semver::Version;
use serde::Serialize;

/// Why the lock could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// There is no `atom.toml` in the directory.
    #[error("no `atom.toml` in `{}`", dir.display())]
    NoManifest {
        /// The directory.
        dir: PathBuf,
        /// What to do.
        hint: &'static str,
    },
    /// `atom.toml` is invalid.
    #[error(transparent)]
    Manifest(#[from] atom::manifest::Error),
    /// `atom.lock` is invalid.
    #[error(transparent)]
    Lockfile(#[from] atom::lock::Error),
    /// Gathering atoms failed.
    #[error(transparent)]
    Catalog(#[from] catalog::Error),
    /// No resolution.
    #[error(transparent)]
    Resolve(#[from] resolver::Error),
    /// Writing the files failed.
    #[error(transparent)]
    Write(#[from] atom::fs::Error),
    /// `--locked` and the lock would change.
    #[error("`{}` would change, but `--locked` forbids it", path.display())]
    LockedDrift {
        /// The lockfile.
        path: PathBuf,
        /// What would change.
        changes: Box<Changes>,
        /// What to do.
        hint: &'static str,
    },
    /// `eka remove` named something that is not a dependency.
    #[error("`{name}` is not a dependency in `{}`", path.display())]
    NotADependency {
        /// The name.
        name: Label,
        /// The manifest.
        path: PathBuf,
        /// What to do.
        hint: &'static str,
    },
    /// The resolution could not be turned into a lock.
    #[error(transparent)]
    Synthesis(#[from] resolver::lock::Error),
    /// Locked versions vanished from their set and resolution found nothing newer
    /// (rollback protection: never an older version).
    #[error("{}; no newer version satisfies the requirements", vanished.join("; "))]
    Vanished {
        /// What vanished.
        vanished: Vec<String>,
        /// The resolver's explanation.
        #[source]
        source: Box<resolver::Error>,
        /// What to do.
        hint: &'static str,
    },
    /// No resolution, and a URL not configured for a set serves versions of it that
    /// were not used.
    #[error("{}", withheld.join("; "))]
    Withheld {
        /// The versions not used, each with the URL serving it.
        withheld: Vec<String>,
        /// The resolver's explanation.
        #[source]
        source: Box<resolver::Error>,
        /// How to opt in.
        hint: String,
    },
    /// Locked versions only a URL not configured for their set serves, which the set's
    /// trust policy no longer vouches for: a locked version is never moved to another.
    #[error("{}", lost.join("; "))]
    LostTrust {
        /// Each locked version, its URLs and why it is no longer trusted.
        lost: Vec<String>,
        /// How to trust it again, or move it explicitly.
        hint: String,
    },
    /// Resolution would move locked atoms to older versions that were not named.
    #[error("refusing to downgrade {}", downgraded.join(", "))]
    Downgrade {
        /// The atoms and versions, `label old -> new`.
        downgraded: Vec<String>,
        /// What to do.
        hint: &'static str,
    },
    /// A direct Nix input could not be locked.
    #[error(transparent)]
    NixInput(#[from] Box<nix::input::Error>),
    /// An atom the new lock adds or changes could not be fetched with its tree, or its
    /// tree was refused: nothing is written.
    #[error(transparent)]
    Check(#[from] Box<verify::locked::Error>),
    /// A value did not fit the lockfile format.
    #[error("cannot lock `{label}`: {message}")]
    Value {
        /// The label.
        label: Label,
        /// What is wrong.
        message: String,
    },
}

impl Classify for Error {
    /// The user's input or data refused, or a check that failed, is [`Kind::Input`];
    /// writing files and a resolution that names an unknown atom (a bug) are not.
    fn kind(&self) -> Kind {
        match self {
            Error::Catalog(error) => error.kind(),
            Error::Synthesis(error) => error.kind(),
            Error::NixInput(error) => error.kind(),
            Error::Check(error) => error.kind(),
            Error::Manifest(error) => error.kind(),
            Error::Lockfile(error) => error.kind(),
            Error::Resolve(error) => error.kind(),
            Error::Write(_) => Kind::Environment,
            Error::NoManifest { .. }
            | Error::LockedDrift { .. }
            | Error::NotADependency { .. }
            | Error::Vanished { .. }
            | Error::Withheld { .. }
            | Error::LostTrust { .. }
            | Error::Downgrade { .. }
            | Error::Value { .. } => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NoManifest { hint, .. }
            | Error::LockedDrift { hint, .. }
            | Error::NotADependency { hint, .. }
            | Error::Vanished { hint, .. }
            | Error::Downgrade { hint, .. } => Some((*hint).to_owned()),
            Error::Withheld { hint, .. } | Error::LostTrust { hint, .. } => Some(hint.clone()),
            Error::Catalog(error) => error.hint(),
            Error::Synthesis(error) => error.hint(),
            Error::Resolve(error) => error.hint(),
            Error::Manifest(error) => error.hint(),
            Error::NixInput(error) => error.hint(),
            Error::Check(error) => match **error {
                verify::locked::Error::Refused { .. } => Some(
                    "nothing was locked: ask the set's publisher to fix that version, or \
                     require another one"
                        .into(),
                ),
                _ => error.hint(),
            },
            Error::Lockfile(_) | Error::Write(_) | Error::Value { .. } => None,
        }
    }
}

/// A locked atom as shown in a change list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The label.
    pub label: String,
    /// The set root (hex).
    pub set: String,
    /// The version before (None when added).
    pub old: Option<Version>,
    /// The version after (None when removed).
    pub new: Option<Version>,
}

/// What a new lock changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Changes {
    /// Atoms newly locked.
    pub added: Vec<Change>,
    /// Atoms whose version or pin changed.
    pub updated: Vec<Change>,
    /// Atoms no longer locked.
    pub removed: Vec<Change>,
    /// Direct Nix inputs added, re-pinned or dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nix: Vec<nix::input::NixChange>,
}

impl Changes {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty()
            && self.updated.is_empty()
            && self.removed.is_empty()
            && self.nix.is_empty()
    }
}

/// Compare two locks atom by atom (by set and label).
pub fn diff(old: &Lockfile, new: &Lockfile) -> Changes {
    let (old_lock, new_lock) = (old, new);
    let index = |lock: &Lockfile| -> BTreeMap<(String, String), LockedAtom> {
        lock.atoms
            .iter()
            .map(|atom| ((atom.label.to_string(), atom.set.to_string()), atom.clone()))
            .collect()
    };
    let (old, new) = (index(old), index(new));
    let mut changes = Changes::default();
    for ((label, set), atom) in &new {
        let change = |old: Option<Version>| Change {
            label: label.clone(),
            set: set.clone(),
            old,
            new: Some(atom.version.clone()),
        };
        match old.get(&(label.clone(), set.clone())) {
            None => changes.added.push(change(None)),
            Some(before) if before != atom => {
                changes.updated.push(change(Some(before.version.clone())))
            }
            Some(_) => {}
        }
    }
    for ((label, set), atom) in &old {
        if !new.contains_key(&(label.clone(), set.clone())) {
            changes.removed.push(Change {
                label: label.clone(),
                set: set.clone(),
                old: Some(atom.version.clone()),
                new: None,
            });
        }
    }
    changes.nix = nix::input::diff(&old_lock.nix, &new_lock.nix);
    changes
}

/// Remove the temporary files a killed writer of `atom.toml` or `atom.lock` left in
/// `dir` (`.atom.toml.<pid>.<n>.tmp`, see `atom::fs`). Only called while holding the
/// project's [`atom::fs::FileLock`], which every writer of these two files holds, so no
/// live writer's temporary is touched. Failures are ignored: a leftover is harmless.
fn sweep_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = [".atom.toml.", ".atom.lock."]
            .iter()
            .any(|prefix| name.starts_with(prefix));
        if ours && name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// How a lock-changing command runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The project directory (holding `atom.toml`).
    pub dir: PathBuf,
    /// The cache directory.
    pub cache: PathBuf,
    /// Use only the cache.
    pub offline: bool,
    /// Fail if the lock would change.
    pub locked: bool,
    /// Compute and report, write nothing.
    pub dry_run: bool,
    /// Where discovery reports its progress.
    pub reporter: std::sync::Arc<dyn atom::progress::Reporter>,
    /// The consumer's `[mirrors]` (`eka.toml`): where set URLs are fetched from.
    pub mirrors: Mirrors,
    /// The consumer's `[trust.<set>]` entries (`eka.toml`): a version only a URL not
    /// configured for its set serves is used when a key they trust for the set signed it.
    pub trust: std::collections::BTreeMap<String, atom::config::Trust>,
}

/// What a lock-changing command did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// What changed in the lock.
    pub changes: Changes,
    /// Whether `atom.toml` changed.
    pub manifest_changed: bool,
    /// Whether anything was written.
    pub written: bool,
    /// Mirrors skipped.
    #[serde(skip)]
    pub warnings: Vec<Warning>,
    /// Locked versions their set no longer advertises (a rewritten or rolled-back set).
    pub vanished: Vec<String>,
}

/// What the caller's edit wants beside the manifest's own requirements.
#[derive(Debug, Default)]
pub struct Plan {
    /// Atoms to discover beside those the manifest names.
    pub extra: Vec<(SetRef, Label)>,
    /// Which locked versions stop being preferred.
    pub unpin: Unpin,
}

/// Which locked versions stop being preferred (so they move to the newest allowed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Unpin {
    /// Keep every locked version while allowed.
    #[default]
    Nothing,
    /// Move every atom.
    All,
    /// Move atoms with these labels.
    Labels(Vec<Label>),
}

/// The files of a project.
pub fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("atom.toml")
}

/// A manifest edit: called before resolution with `None`, then with the resolution
/// (returning whether to resolve again).
pub type Edit<'a> =
    dyn FnMut(&mut ManifestDocument, Option<(&Catalog, &Resolution)>) -> Result<bool, Error> + 'a;

/// Run one lock-changing transaction (see the module docs). `edit` changes the
/// manifest document before resolution and may, after a first resolution, finish its
/// edit (e.g. write `^<resolved version>`): it is called again with the resolution and
/// returns whether to resolve once more.
pub fn relock(options: &Options, plan: Plan, edit: &mut Edit<'_>) -> Result<Outcome, Error> {
    let path = manifest_path(&options.dir);
    if !path.is_file() {
        return Err(Error::NoManifest {
            dir: options.dir.clone(),
            hint: "run the command in an atom's directory, or create one with `eka new`",
        });
    }
    let _lock = atom::fs::FileLock::acquire(&options.dir)?;
    sweep_temporaries(&options.dir);
    let mut files = ProjectFiles::read(&options.dir, path)?;
    edit(&mut files.document, None)?;
    let manifest = files.document.manifest()?;
    let local = LocalSet::find(&options.dir)?;
    let trust =
        crate::trust::TrustPolicy::new(&options.trust, &manifest, std::time::SystemTime::now());
    let sources = Sources::new(&options.cache, options.offline, local)?
        .with_mirrors(options.mirrors.clone())
        .with_vouch(Box::new(trust));
    let catalog = Catalog::gather(&sources, &manifest, Some(&plan.extra), &*options.reporter)?;
    let vanished = vanished(&catalog, &files.old);
    let lost = lost_trust(&catalog, &files.old, &plan);
    let solving = atom::progress::Step::begin(&*options.reporter, "Solving", None);
    let (manifest, resolution) = resolve_and_edit(
        &catalog, &mut files, manifest, &plan, &vanished, &lost, edit,
    )?;
    drop(solving);
    refuse_downgrades(&plan, &files.old, &resolution)?;
    let mut new = resolver::lock::synthesize_reporting(
        &catalog,
        &resolution,
        &sources,
        &manifest,
        &files.old,
        &crate::ops::publish::content_hash,
        &*options.reporter,
    )?;
    check_new_atoms(options, &catalog, &files.old, &new)?;
    // Follows need only the locked atoms: checked before any Nix input is fetched.
    new.follows = follows::decide(
        &catalog,
        &manifest,
        &new,
        &files.manifest_path,
        &files.document.to_string(),
    )?;
    let locked_nix = lock_nix_inputs(options, &plan, &manifest, &files.old)?;
    new.nix = locked_nix.inputs;
    let mut outcome = write_if_changed(options, &files, &new)?;
    outcome.warnings = catalog
        .warnings
        .iter()
        .cloned()
        .chain(locked_nix.warnings.into_iter().map(Warning::CacheRebuilt))
        .collect();
    outcome.vanished = vanished;
    Ok(outcome)
}

/// The project's `atom.toml` (as text and as an editable document) and `atom.lock`, as
/// they were when the transaction started.
struct ProjectFiles {
    manifest_path: PathBuf,
    original: String,
    document: ManifestDocument,
    lock_path: PathBuf,
    old_text: Option<String>,
    old: Lockfile,
}

impl ProjectFiles {
    /// Read both files. Only a missing `atom.lock` is an empty lock: one that cannot be
    /// read or parsed is an error naming it, never discarded and written over.
    fn read(dir: &Path, manifest_path: PathBuf) -> Result<ProjectFiles, Error> {
        let original = fs_err::read_to_string(&manifest_path).map_err(atom::manifest::Error::Io)?;
        let document = ManifestDocument::parse(&original, &manifest_path)?;
        let lock_path = dir.join(atom::lock::FILE_NAME);
        let (old_text, old) = match fs_err::read(&lock_path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                (None, Lockfile::default())
            }
            Err(error) => return Err(atom::lock::Error::Io(error).into()),
            Ok(bytes) => {
                // Parsing checks the encoding too (invalid UTF-8 is located).
                let old = Lockfile::read(&lock_path)?;
                (Some(String::from_utf8_lossy(&bytes).into_owned()), old)
            }
        };
        Ok(ProjectFiles {
            manifest_path,
            original,
            document,
            lock_path,
            old_text,
            old,
        })
    }
}

/// The resolver's options: the locked versions preferred unless `plan` unpins them,
/// and never an older version than the locked one.
fn resolve_options(plan: &Plan, old: &Lockfile) -> resolver::Options {
    let mut resolve_options = resolver::Options {
        // Rollback protection: a locked atom never moves to an older version.
        allow_downgrade: false,
        ..resolver::Options::default()
    };
    for atom in &old.atoms {
        let unpinned = match &plan.unpin {
            Unpin::Nothing => false,
            Unpin::All => true,
            Unpin::Labels(labels) => labels.contains(&atom.label),
        };
        if !unpinned {
            resolve_options.preferred.insert(
                AtomKey::new(atom.set.to_string(), atom.label.clone()),
                atom.version.clone(),
            );
        }
    }
    resolve_options
}

/// Resolve the manifest's requirements, let `edit` finish its edit with the resolution
/// and resolve once more if it asks to. Returns the final manifest and resolution.
fn resolve_and_edit(
    catalog: &Catalog,
    files: &mut ProjectFiles,
    manifest: Manifest,
    plan: &Plan,
    vanished: &[String],
    lost: &[LostTrust],
    edit: &mut Edit<'_>,
) -> Result<(Manifest, Resolution), Error> {
    let resolve_options = resolve_options(plan, &files.old);
    let root: Vec<Requirement> = catalog.requirements_of(&manifest, None)?;
    let resolution = match resolver::resolve(catalog, &root, &resolve_options) {
        Err(_) if !lost.is_empty() => return Err(lost_error(lost)),
        Err(source) if !vanished.is_empty() => {
            return Err(Error::Vanished {
                vanished: vanished.to_vec(),
                source: Box::new(source),
                hint: "a mirror rewrote or rolled back the set: check it; to accept an \
                       older version, `eka update <label>` it explicitly",
            });
        }
        result => result.map_err(|source| withheld(catalog, source))?,
    };
    keep_locked(&resolution, lost)?;
    if !edit(&mut files.document, Some((catalog, &resolution)))? {
        return Ok((manifest, resolution));
    }
    let manifest = files.document.manifest()?;
    let root = catalog.requirements_of(&manifest, None)?;
    let resolution = match resolver::resolve(catalog, &root, &resolve_options) {
        Err(_) if !lost.is_empty() => return Err(lost_error(lost)),
        result => result.map_err(|source| withheld(catalog, source))?,
    };
    keep_locked(&resolution, lost)?;
    Ok((manifest, resolution))
}

/// A locked version only a claimant serves whose trust was lost (see [`lost_trust`]).
#[derive(Debug, Clone)]
struct LostTrust {
    /// The locked atom's key.
    key: AtomKey,
    /// The locked version, its URLs and why it is no longer trusted.
    message: String,
    /// How to trust it again, from the trust policy.
    hint: Option<String>,
}

/// The locked versions (not named by `eka update <label>`) that discovery found served
/// only by a claimant of their set, with the locked atom commit, and that the set's
/// trust policy no longer vouches for (a key revoked, expired or removed, or the
/// `[trust.<set>]` entry gone since they were locked).
fn lost_trust(catalog: &Catalog, old: &Lockfile, plan: &Plan) -> Vec<LostTrust> {
    let mut lost = Vec::new();
    for atom in &old.atoms {
        if let Unpin::Labels(labels) = &plan.unpin
            && labels.contains(&atom.label)
        {
            continue;
        }
        let set = atom.set.to_string();
        let Some(withheld) = withheld_lock(catalog, atom) else {
            continue;
        };
        let quoted = |urls: &[atom::uri::SetUrl]| {
            urls.iter()
                .map(|url| format!("`{url}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let why = match &withheld.refusal {
            Some(refusal) => refusal.reason.clone(),
            None => format!(
                "no `[trust.<set>]` entry of `eka.toml` names the set of {} any more",
                quoted(&withheld.owners)
            ),
        };
        lost.push(LostTrust {
            key: AtomKey::new(set, atom.label.clone()),
            message: format!(
                "locked `{}` {} is served only by {}, not configured for its set, and is no \
                 longer trusted: {why}",
                atom.label,
                atom.version,
                quoted(&withheld.claimant)
            ),
            hint: withheld
                .refusal
                .as_ref()
                .and_then(|refusal| refusal.hint.clone()),
        });
    }
    lost
}

/// The withheld claimant version that is `atom` (its set, label, version and commit).
fn withheld_lock<'a>(catalog: &'a Catalog, atom: &LockedAtom) -> Option<&'a catalog::Withheld> {
    let set = atom.set.to_string();
    let commit = atom.commit.to_string();
    catalog.withheld.iter().find(|withheld| {
        withheld.set == set
            && withheld.label == atom.label
            && withheld.version == atom.version
            && withheld.commit.is_some_and(|id| id.to_hex() == commit)
    })
}

/// The error for locked versions whose trust was lost: nothing is re-pinned.
fn lost_error(lost: &[LostTrust]) -> Error {
    let trust = lost
        .first()
        .and_then(|lost| lost.hint.as_ref())
        .map(|hint| format!("{hint}; "))
        .unwrap_or_default();
    let labels: Vec<String> = lost.iter().map(|lost| lost.key.label.to_string()).collect();
    Error::LostTrust {
        lost: lost.iter().map(|lost| lost.message.clone()).collect(),
        hint: format!(
            "{trust}a locked version is never moved to another on its own: trust its key \
             again, or move it to a version a trusted key signed with `eka update {}`",
            labels.join(" ")
        ),
    }
}

/// Refuse a resolution that moved a locked version whose trust was lost.
fn keep_locked(resolution: &Resolution, lost: &[LostTrust]) -> Result<(), Error> {
    let moved: Vec<LostTrust> = lost
        .iter()
        .filter(|lost| resolution.atoms.contains_key(&lost.key))
        .cloned()
        .collect();
    if moved.is_empty() {
        return Ok(());
    }
    Err(lost_error(&moved))
}

/// A failed resolution, naming the versions a URL not configured for their set serves
/// (not used, see `resolver::catalog`) and how to opt in.
fn withheld(catalog: &Catalog, source: resolver::Error) -> Error {
    let Some(first) = catalog.withheld.first() else {
        return source.into();
    };
    let quoted = |urls: &[atom::uri::SetUrl]| {
        urls.iter()
            .map(|url| format!("`{url}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let withheld = catalog
        .withheld
        .iter()
        .map(|withheld| {
            let why = withheld
                .refusal
                .as_ref()
                .map(|refusal| format!(" ({})", refusal.reason))
                .unwrap_or_default();
            format!(
                "`{}` {} is served only by {}, which is not configured for the set of {}: \
                 not used{why}",
                withheld.label,
                withheld.version,
                quoted(&withheld.claimant),
                quoted(&withheld.owners)
            )
        })
        .collect();
    let listed = |urls: &[atom::uri::SetUrl]| {
        urls.iter()
            .map(|url| format!("\"{url}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let (owner, claimant) = (listed(&first.owners), listed(&first.claimant));
    let named = quoted(&first.claimant);
    let key = first
        .owners
        .first()
        .map(|url| url.as_str())
        .unwrap_or_default();
    let trust = first
        .refusal
        .as_ref()
        .and_then(|refusal| refusal.hint.as_ref())
        .map(|hint| format!("{hint}; or, "))
        .unwrap_or_default();
    Error::Withheld {
        withheld,
        source: Box::new(source),
        hint: format!(
            "{trust}if {named} really mirrors that set, configure it in `eka.toml`: \
             `[mirrors]` `\"{key}\" = [{owner}, {claimant}]`"
        ),
    }
}

/// Rollback protection: `eka update` of everything never moves an atom down; only
/// naming it (`eka update <label>`) allows that.
fn refuse_downgrades(plan: &Plan, old: &Lockfile, resolution: &Resolution) -> Result<(), Error> {
    if plan.unpin != Unpin::All {
        return Ok(());
    }
    let downgraded: Vec<String> = old
        .atoms
        .iter()
        .filter_map(|atom| {
            let key = AtomKey::new(atom.set.to_string(), atom.label.clone());
            let resolved = resolution.atoms.get(&key)?;
            (resolved.version < atom.version)
                .then(|| format!("`{}` {} -> {}", atom.label, atom.version, resolved.version))
        })
        .collect();
    if downgraded.is_empty() {
        return Ok(());
    }
    Err(Error::Downgrade {
        downgraded,
        hint: "name the atoms to downgrade explicitly: `eka update <label>`",
    })
}

/// Before a lock is written (or shown, with `--dry-run`): fetch every remote atom that
/// `new` adds or changes with its tree into the cache's atom store (ONE fetch per
/// mirror, none with `--offline`) and check it ([`verify::locked`]): the commit is the
/// lock's, its tree is not hostile, its content hash is the lock's and the header's, and
/// its `atom.toml` is the manifest resolution used. Atoms unchanged from `old` were
/// checked when they were locked (`eka verify` checks them again); local atoms are the
/// work tree's (publish validates those).
fn check_new_atoms(
    options: &Options,
    catalog: &Catalog,
    old: &Lockfile,
    new: &Lockfile,
) -> Result<(), Error> {
    let changed: Vec<&LockedAtom> = new
        .atoms
        .iter()
        .filter(|atom| !old.atoms.contains(atom))
        .filter(|atom| {
            !catalog
                .sets
                .get(&atom.set.to_string())
                .is_some_and(|info| info.local)
        })
        .collect();
    if changed.is_empty() {
        return Ok(());
    }
    let boxed = |error: verify::locked::Error| Error::Check(Box::new(error));
    let cache =
        atom::store::cache::Cache::open(&options.cache).map_err(|error| boxed(error.into()))?;
    let mut fetched =
        verify::locked::fetch_atoms(&changed, &cache, options.offline, &*options.reporter)
            .map_err(boxed)?;
    for index in 0..fetched.len() {
        let atom = fetched.atom(index);
        // Discovery listed this commit on the atom's mirrors in this run.
        let served = |error: verify::locked::Error| match atom.mirrors.first() {
            Some(url) => boxed(error.served_by(url.as_str())),
            None => boxed(error),
        };
        let tree = fetched.check(index).map_err(served)?;
        let key = AtomKey::new(atom.set.to_string(), atom.label.clone());
        if let Some(published) = catalog
            .published
            .get(&key)
            .and_then(|versions| versions.get(&atom.version))
        {
            fetched
                .check_manifest(index, tree, &published.manifest)
                .map_err(served)?;
        }
    }
    Ok(())
}

/// Lock the manifest's direct Nix inputs through the `nix` crate, re-locking those
/// `plan` unpins.
fn lock_nix_inputs(
    options: &Options,
    plan: &Plan,
    manifest: &Manifest,
    old: &Lockfile,
) -> Result<nix::input::Locked, Error> {
    let locked = nix::input::lock_nix_inputs(
        manifest,
        old,
        &nix::input::Options {
            cache: options.cache.clone(),
            offline: options.offline,
            relock: match &plan.unpin {
                Unpin::Nothing => nix::input::Relock::Nothing,
                Unpin::All => nix::input::Relock::All,
                Unpin::Labels(names) => nix::input::Relock::Names(names.clone()),
            },
        },
        &*options.reporter,
    )
    .map_err(Box::new)?;
    Ok(locked)
}

/// Compare the new lock and the edited manifest with the files as read, refuse a
/// change under `--locked`, and write both files together unless nothing changed or
/// this is a dry run.
fn write_if_changed(
    options: &Options,
    files: &ProjectFiles,
    new: &Lockfile,
) -> Result<Outcome, Error> {
    let new_text = new.to_string();
    let changes = diff(&files.old, new);
    let manifest_text = files.document.to_string();
    let manifest_changed = manifest_text != files.original;
    let lock_changed = files.old_text.as_deref() != Some(new_text.as_str());
    if options.locked && (lock_changed || manifest_changed) {
        return Err(Error::LockedDrift {
            path: files.lock_path.clone(),
            changes: Box::new(changes),
            hint: "run the command without `--locked` to update `atom.lock`",
        });
    }
    let mut written = false;
    if !options.dry_run && (lock_changed || manifest_changed) {
        // `atom.lock` first: a crash between the two renames leaves the lock ahead of
        // its manifest, which `eka resolve` repairs (see `atom::fs`).
        atom::fs::write_together(&[
            (files.lock_path.as_path(), new_text.as_bytes()),
            (files.manifest_path.as_path(), manifest_text.as_bytes()),
        ])?;
        written = true;
    }
    Ok(Outcome {
        changes,
        manifest_changed,
        written,
        ..Outcome::default()
    })
}

/// The locked versions of remote sets that the catalog no longer lists.
fn vanished(catalog: &Catalog, old: &Lockfile) -> Vec<String> {
    let mut vanished = Vec::new();
    for atom in &old.atoms {
        let set = atom.set.to_string();
        if catalog.sets.get(&set).is_some_and(|info| info.local) {
            continue;
        }
        let key = AtomKey::new(set, atom.label.clone());
        // A claimant's version no longer vouched for is still published: withheld.
        if let Some(versions) = catalog.published.get(&key)
            && !versions.contains_key(&atom.version)
            && withheld_lock(catalog, atom).is_none()
        {
            let mirrors: Vec<&str> = atom.mirrors.iter().map(|url| url.as_str()).collect();
            let owners: Vec<&str> = catalog
                .sets
                .get(&key.set)
                .map(|info| info.mirrors.iter().map(|url| url.as_str()).collect())
                .unwrap_or_default();
            // Locked from a claimant that nothing the project requires reaches any more.
            let claimant = !owners.is_empty() && mirrors.iter().all(|url| !owners.contains(url));
            vanished.push(if claimant {
                format!(
                    "locked `{}@{}` came from `{}`, which is not configured for its set and \
                     which no requirement reaches any more; the set's configured URLs (`{}`) \
                     do not publish it",
                    atom.label,
                    atom.version,
                    mirrors.join("`, `"),
                    owners.join("`, `")
                )
            } else {
                format!(
                    "locked `{}@{}` is no longer published by its set (`{}`)",
                    atom.label,
                    atom.version,
                    mirrors.join("`, `")
                )
            });
        }
    }
    vanished
}
