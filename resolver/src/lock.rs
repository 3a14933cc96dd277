//! Lock synthesis: from a [`Resolution`] over a [`Catalog`] to an `atom.lock`.
//!
//! [`synthesize`] turns every resolved atom into a [`LockedAtom`]: a published atom is
//! locked as the atom commit and content hash its set advertises; a local (`"::"`)
//! atom is cut from `HEAD` with [`atom::store::cut_atom`], exactly as `eka publish`
//! would cut it, using the caller's content hasher (`verify::tree::hash_tree`: this
//! crate does no content hashing). Direct Nix inputs are not resolved here: the old
//! lock's entries still declared are kept for the caller to re-lock. Main items:
//! [`synthesize`] and [`Error`].
//!
//! ```no_run
//! use atom::{lock::Lockfile, manifest::Manifest};
//! use resolver::catalog::{Catalog, LocalSet, Sources};
//!
//! let manifest = Manifest::read("atom.toml")?;
//! let local = LocalSet::find(".".as_ref())?;
//! let sources = Sources::new("/home/me/.cache/eka".as_ref(), false, local)?;
//! let catalog = Catalog::gather(&sources, &manifest, None, &atom::progress::Silent)?;
//! let root = catalog.requirements_of(&manifest, None)?;
//! let resolution = resolver::resolve(&catalog, &root, &resolver::Options::default())?;
//! // A real caller hashes with `verify::tree::hash_tree`.
//! let hash = |_: &gix::Repository, _| Ok::<_, std::io::Error>("b3:00".to_owned());
//! let old = Lockfile::default();
//! let lock = resolver::lock::synthesize(&catalog, &resolution, &sources, &manifest, &old, &hash)?;
//! println!("{lock}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{collections::HashMap, path::Path};

use atom::{
    Label,
    error::{Classify, Kind},
    id::{AtomId, SetRoot},
    lock::{AtomIdHex, ContentHash, LockedAtom, Lockfile},
    manifest::Manifest,
    store::{Cut, cut_atom},
};
use gix::ObjectId;
use semver::Version;

use crate::{
    AtomKey, Resolution, Resolved,
    catalog::{Catalog, LocalSet, Sources},
};

/// Why a resolution could not be turned into a lock.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A local atom cannot be locked.
    #[error("cannot lock local atom `::{label}`: {message}")]
    Local {
        /// The label.
        label: Label,
        /// Why.
        message: String,
        /// What to do.
        hint: &'static str,
    },
    /// A resolved atom is missing from the catalog (a bug).
    #[error("resolved atom `{key}` `{version}` is unknown")]
    Unknown {
        /// The atom.
        key: AtomKey,
        /// The version.
        version: Version,
    },
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
    /// A local atom that cannot be cut and a value the lockfile refuses are the data;
    /// an unknown resolved atom is a bug, not the user's input.
    fn kind(&self) -> Kind {
        match self {
            Error::Unknown { .. } => Kind::Environment,
            Error::Local { .. } | Error::Value { .. } => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Local { hint, .. } => Some((*hint).to_owned()),
            Error::Unknown { .. } | Error::Value { .. } => None,
        }
    }
}

/// Build the lockfile of `resolution`, keeping `old`'s direct Nix inputs still declared
/// by `manifest`. Local atoms are cut from `HEAD`, their trees hashed with `hash`.
pub fn synthesize<H, E>(
    catalog: &Catalog,
    resolution: &Resolution,
    sources: &Sources,
    manifest: &Manifest,
    old: &Lockfile,
    hash: &H,
) -> Result<Lockfile, Error>
where
    H: Fn(&gix::Repository, ObjectId) -> Result<String, E>,
    E: std::error::Error + 'static,
{
    let mut ids: HashMap<AtomKey, AtomIdHex> = HashMap::new();
    let mut lock = Lockfile::default();
    let mut pending = Vec::new();
    for (key, resolved) in &resolution.atoms {
        let atom = locked_atom(catalog, sources, key, resolved, hash)?;
        ids.insert(key.clone(), atom.id.clone());
        pending.push(resolved.dependencies.clone());
        lock.atoms.push(atom);
    }
    for (atom, dependencies) in lock.atoms.iter_mut().zip(pending) {
        atom.deps = dependencies
            .iter()
            .filter_map(|dependency| ids.get(dependency).cloned())
            .collect();
    }
    lock.nix = old
        .nix
        .iter()
        .filter(|input| manifest.deps.direct.nix.contains_key(&input.name))
        .cloned()
        .collect();
    lock.sort();
    Ok(lock)
}

/// One resolved atom as locked (without its dependencies, filled in once every atom's
/// id is known).
fn locked_atom<H, E>(
    catalog: &Catalog,
    sources: &Sources,
    key: &AtomKey,
    resolved: &Resolved,
    hash: &H,
) -> Result<LockedAtom, Error>
where
    H: Fn(&gix::Repository, ObjectId) -> Result<String, E>,
    E: std::error::Error + 'static,
{
    let published = catalog
        .published
        .get(key)
        .and_then(|versions| versions.get(&resolved.version))
        .ok_or_else(|| Error::Unknown {
            key: key.clone(),
            version: resolved.version.clone(),
        })?;
    let info = catalog.sets.get(&key.set).cloned().unwrap_or_default();
    let value_error = |message: String| Error::Value {
        label: key.label.clone(),
        message,
    };
    let (commit_id, content, set_root) = match (&published.commit_id, &published.content) {
        (Some(commit_id), Some(content)) => {
            let root = ObjectId::from_hex(key.set.as_bytes())
                .map_err(|error| value_error(error.to_string()))?;
            (*commit_id, content.clone(), root)
        }
        _ => lock_local(
            sources,
            &key.label,
            &resolved.version,
            &published.path,
            hash,
        )?,
    };
    let value = |error: atom::lock::ValueError| value_error(error.to_string());
    let id = AtomId::new(&SetRoot::new(set_root), &key.label).to_string();
    Ok(LockedAtom {
        label: key.label.clone(),
        version: resolved.version.clone(),
        set: atom::lock::ObjectId::parse(&set_root.to_hex().to_string()).map_err(value)?,
        id: AtomIdHex::parse(&id).map_err(value)?,
        commit: atom::lock::ObjectId::parse(&commit_id.to_hex().to_string()).map_err(value)?,
        content: ContentHash::parse(&content).map_err(value)?,
        mirrors: info.mirrors.clone(),
        deps: Default::default(),
    })
}

/// Lock a local atom as the atom commit `eka publish` would make from `HEAD`: the same
/// [`cut_atom`] with the same hasher. Returns the atom commit, its content hash and
/// the set root.
fn lock_local<H, E>(
    sources: &Sources,
    label: &Label,
    version: &Version,
    path: &str,
    hash: &H,
) -> Result<(ObjectId, String, ObjectId), Error>
where
    H: Fn(&gix::Repository, ObjectId) -> Result<String, E>,
    E: std::error::Error + 'static,
{
    let local_error = |message: String| Error::Local {
        label: label.clone(),
        message,
        hint: "commit the atom first: local atoms are locked at `HEAD`",
    };
    let local: &LocalSet = sources
        .local
        .as_ref()
        .ok_or_else(|| local_error("there is no local set".to_owned()))?;
    let root = local
        .root
        .ok_or_else(|| local_error("the repository has no commit".to_owned()))?;
    let repo = gix::discover(&local.dir).map_err(|error| local_error(error.to_string()))?;
    let head = repo
        .head_commit()
        .map_err(|error| local_error(error.to_string()))?;
    let prefix = repo
        .workdir()
        .and_then(|workdir| local.dir.strip_prefix(workdir).ok().map(Path::to_path_buf))
        .unwrap_or_default();
    let in_repo = prefix.join(path);
    let in_repo = in_repo.to_string_lossy().replace('\\', "/");
    let in_repo = in_repo.trim_start_matches("./").trim_end_matches("/.");
    let cut = Cut {
        set_root: root,
        origin: head.id,
        revision: "HEAD",
        path: if in_repo.is_empty() { "." } else { in_repo },
        label,
        version,
    };
    let commit = cut_atom(&repo, &cut, hash).map_err(|error| local_error(error.to_string()))?;
    let commit_id = commit
        .id()
        .map_err(|error| local_error(error.to_string()))?;
    Ok((commit_id, commit.content, root))
}
