//! Lock synthesis: from a [`Resolution`] over a [`Catalog`] to an `atom.lock`.
//!
//! [`synthesize`] turns every resolved atom into a [`LockedAtom`]: a published atom is
//! locked as the atom commit and content hash its set advertises — but a published
//! version is immutable: when the resolution keeps a version the old lock pins, the
//! commit and content hash the mirrors serve must be the locked ones, or synthesis
//! refuses ([`refuse_rewritten`], [`Error::Rewritten`]); a local (`"::"`)
//! atom is cut from `HEAD` with [`atom::store::cut_atom`], exactly as `eka publish`
//! would cut it, using the caller's content hasher (`verify::tree::hash_tree`: this
//! crate does no content hashing). Direct Nix inputs are not resolved here: the old
//! lock's entries still declared are kept for the caller to re-lock. Main items:
//! [`synthesize`], [`refuse_rewritten`] and [`Error`].
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
    /// The mirrors serve another atom commit or content hash for a version the lock
    /// pins: the version was rewritten on the mirror, or the lock was edited.
    #[error(transparent)]
    Rewritten(Box<Rewritten>),
}

/// A version that stays locked, but whose mirrors serve another atom commit or content
/// hash than the lock pins.
#[derive(Debug, thiserror::Error)]
#[error(
    "`{label}` {version} differs between `atom.lock` and its mirror `{}`: the lock pins \
     {what} `{locked}`, the mirror serves `{served}`",
    mirrors.join("`, `")
)]
pub struct Rewritten {
    /// The label.
    pub label: Label,
    /// The locked version.
    pub version: Version,
    /// The mirrors that served it.
    pub mirrors: Vec<String>,
    /// What differs: `commit` or `content hash`.
    pub what: &'static str,
    /// The locked value.
    pub locked: String,
    /// The served value.
    pub served: String,
}

impl Classify for Error {
    /// A local atom that cannot be cut and a value the lockfile refuses are the data;
    /// an unknown resolved atom is a bug, not the user's input.
    fn kind(&self) -> Kind {
        match self {
            Error::Unknown { .. } => Kind::Environment,
            Error::Local { .. } | Error::Value { .. } | Error::Rewritten(_) => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Local { hint, .. } => Some((*hint).to_owned()),
            Error::Rewritten(_) => Some(
                "run `eka verify`; if the publisher really replaced the version, remove the \
                 dependency and add it again"
                    .to_owned(),
            ),
            Error::Unknown { .. } | Error::Value { .. } => None,
        }
    }
}

/// Build the lockfile of `resolution`, keeping `old`'s direct Nix inputs still declared
/// by `manifest`. Local atoms are cut from `HEAD`, their trees hashed with `hash`.
/// Refuses a version `old` pins that its mirrors now serve differently
/// ([`refuse_rewritten`]).
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
    refuse_rewritten(catalog, resolution, old)?;
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

/// A published version is immutable: for every atom of `old` that `resolution` keeps at
/// its locked version, the atom commit and content hash the catalog's mirrors serve must
/// be the locked ones ([`Error::Rewritten`] otherwise). Atoms moved to another version,
/// dropped, or local (cut from `HEAD`) are not checked.
pub fn refuse_rewritten(
    catalog: &Catalog,
    resolution: &Resolution,
    old: &Lockfile,
) -> Result<(), Error> {
    for atom in &old.atoms {
        let key = AtomKey::new(atom.set.to_string(), atom.label.clone());
        let kept = resolution
            .atoms
            .get(&key)
            .is_some_and(|resolved| resolved.version == atom.version);
        let published = catalog
            .published
            .get(&key)
            .and_then(|versions| versions.get(&atom.version));
        let Some(published) = published.filter(|_| kept) else {
            continue;
        };
        let (Some(commit_id), Some(content)) = (&published.commit_id, &published.content) else {
            continue;
        };
        let rewritten = |what, locked: String, served: String| {
            Error::Rewritten(Box::new(Rewritten {
                label: atom.label.clone(),
                version: atom.version.clone(),
                mirrors: published
                    .mirrors
                    .iter()
                    .map(|url| url.as_str().to_owned())
                    .collect(),
                what,
                locked,
                served,
            }))
        };
        let served_commit = commit_id.to_hex().to_string();
        if served_commit != atom.commit.to_string() {
            return Err(rewritten("commit", atom.commit.to_string(), served_commit));
        }
        if ContentHash::parse(content).ok().as_ref() != Some(&atom.content) {
            return Err(rewritten(
                "content hash",
                atom.content.to_string(),
                content.clone(),
            ));
        }
    }
    Ok(())
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
        mirrors: published.mirrors.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Resolved, catalog::Published};

    const SET: &str = "0123456789abcdef0123456789abcdef01234567";
    const LOCKED: &str = "1111111111111111111111111111111111111111";
    const HASH: &str = "blake3:c12903641352b413a6f6dd2f2e861a45b6c7832ef82ae5068c5bbd8843d773e1";
    const OTHER_HASH: &str =
        "blake3:d12903641352b413a6f6dd2f2e861a45b6c7832ef82ae5068c5bbd8843d773e1";

    fn key() -> AtomKey {
        AtomKey::new(SET, "base".parse().unwrap())
    }

    /// A lock pinning `base` 1.0.0 at [`LOCKED`] with [`HASH`].
    fn old() -> Lockfile {
        let id = AtomId::new(
            &SetRoot::new(ObjectId::from_hex(SET.as_bytes()).unwrap()),
            &"base".parse().unwrap(),
        );
        let text = format!(
            "version = 1\n\n[[atom]]\nlabel = \"base\"\nversion = \"1.0.0\"\nset = \"{SET}\"\n\
             id = \"{id}\"\ncommit = \"{LOCKED}\"\ncontent = \"{HASH}\"\n\
             mirrors = [\"https://example.org/set.git\"]\ndeps = []\n"
        );
        Lockfile::from_str(&text, "atom.lock").unwrap()
    }

    /// A catalog where the mirror serves `base` `version` as `commit` with `content`.
    fn catalog(version: &str, commit: &str, content: &str) -> Catalog {
        let manifest = Manifest::from_str(
            &format!("[package]\nlabel = \"base\"\nversion = \"{version}\"\n"),
            "atom.toml",
        )
        .unwrap();
        let mut catalog = Catalog::default();
        catalog.published.entry(key()).or_default().insert(
            version.parse().unwrap(),
            Published {
                commit_id: Some(ObjectId::from_hex(commit.as_bytes()).unwrap()),
                content: Some(content.to_owned()),
                path: "base".to_owned(),
                manifest,
                mirrors: vec!["https://example.org/set.git".parse().unwrap()],
            },
        );
        catalog
    }

    fn resolution(version: &str) -> Resolution {
        let mut resolution = Resolution::default();
        resolution.atoms.insert(
            key(),
            Resolved {
                version: version.parse().unwrap(),
                dependencies: Vec::new(),
            },
        );
        resolution
    }

    #[test]
    fn the_locked_commit_and_hash_served_pass() {
        let catalog = catalog("1.0.0", LOCKED, HASH);
        assert!(refuse_rewritten(&catalog, &resolution("1.0.0"), &old()).is_ok());
    }

    #[test]
    fn another_commit_for_a_kept_version_is_refused() {
        let served = "2222222222222222222222222222222222222222";
        let catalog = catalog("1.0.0", served, HASH);
        let error = refuse_rewritten(&catalog, &resolution("1.0.0"), &old()).unwrap_err();
        assert_eq!(error.kind(), Kind::Input);
        let message = error.to_string();
        for needle in [
            "`base` 1.0.0",
            "`https://example.org/set.git`",
            LOCKED,
            served,
        ] {
            assert!(message.contains(needle), "`{needle}` in {message}");
        }
        assert!(error.hint().unwrap().contains("eka verify"));
    }

    #[test]
    fn another_content_hash_for_a_kept_version_is_refused() {
        let catalog = catalog("1.0.0", LOCKED, OTHER_HASH);
        let error = refuse_rewritten(&catalog, &resolution("1.0.0"), &old()).unwrap_err();
        assert!(
            matches!(&error, Error::Rewritten(rewritten) if rewritten.what == "content hash"),
            "{error}"
        );
    }

    #[test]
    fn a_version_the_lock_no_longer_needs_is_not_checked() {
        let mut catalog = catalog("1.0.0", "2222222222222222222222222222222222222222", HASH);
        let newer = self::catalog("1.1.0", "3333333333333333333333333333333333333333", HASH);
        catalog
            .published
            .get_mut(&key())
            .unwrap()
            .extend(newer.published.into_values().flatten());
        assert!(refuse_rewritten(&catalog, &resolution("1.1.0"), &old()).is_ok());
        assert!(refuse_rewritten(&catalog, &Resolution::default(), &old()).is_ok());
    }
}
