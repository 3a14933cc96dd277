//! The on-disk cache, layout version 1, and its repair rule.
//!
//! [`Cache::open`] takes the cache directory (`<root>`) and uses `<root>/v1/`:
//!
//! - `atoms.git`: ONE bare object store for atom commits. Discovery fetches commits and
//!   manifest blobs without trees ([`Depth::TreeLess`](super::git::Depth)), `eka verify`
//!   fetches the same commits with their trees ([`Depth::Full`](super::git::Depth));
//!   discovery's objects stay in the promisor packs its filtered fetches make (which
//!   `git gc` keeps whatever reaches them), verify's under `refs/cache/<id>`;
//! - `inputs.git`: Nix git inputs ([`Cache::inputs_repo_path`]);
//! - `index/`: one listing file per set URL ([`Cache::index_dir`]);
//! - `downloads/`: fetched archives ([`Cache::downloads_dir`]).
//!
//! A new layout gets a new version directory, so an older eka never misreads it.
//!
//! **Repair.** A repository that fails its integrity check when opened (no `HEAD`, no
//! `config`, no `objects/`, gix cannot open it) or whose objects cannot be read later
//! ([`Cache::rebuild_atoms_repo`]) is moved aside to `<root>/v1/broken-<name>-<pid>`
//! and created again; a stale `*.tmp-*` directory left by a crashed run is deleted. Each
//! repair is returned as a [`Repair`] for the caller to print
//! (`the cache at `…` was damaged (…); it was rebuilt`) — a damaged cache never fails a
//! run for good. Repositories are created aside and renamed into place under the cache
//! lock, so no reader ever sees a half-made one.
//!
//! ```no_run
//! use atom::store::cache::Cache;
//!
//! let cache = Cache::open("/home/me/.cache/eka".as_ref())?;
//! for repair in cache.take_repairs() {
//!     eprintln!("warning: {repair}");
//! }
//! let repo = cache.atoms_repo()?;
//! # Ok::<(), atom::store::cache::Error>(())
//! ```

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use crate::error::{Classify, Kind};

use super::git;

/// The layout version directory.
pub const LAYOUT: &str = "v1";

/// Why the cache could not be used.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A cache directory or file could not be created, moved or read.
    #[error("cannot use the cache at `{}`", path.display())]
    Io {
        /// The path at fault.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A cache repository could not be created.
    #[error("cannot create the cache repository `{}`", path.display())]
    Init {
        /// The repository.
        path: PathBuf,
        /// The cause.
        #[source]
        source: git::Error,
    },
    /// A freshly made cache repository cannot be opened.
    #[error("cannot open the cache repository `{}`: {message}", path.display())]
    Open {
        /// The repository.
        path: PathBuf,
        /// What gix said.
        message: String,
    },
}

impl Classify for Error {
    /// The cache is the environment: a disk, a process.
    fn kind(&self) -> Kind {
        Kind::Environment
    }
}

/// A damaged part of the cache that was rebuilt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// What was rebuilt (a repository or an index file).
    pub path: PathBuf,
    /// What was wrong.
    pub reason: String,
}

impl std::fmt::Display for Repair {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "the cache at `{}` was damaged ({}); it was rebuilt",
            self.path.display(),
            self.reason
        )
    }
}

/// The cache directory, version 1 (see the module docs).
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
    dir: PathBuf,
    repairs: Arc<Mutex<Vec<Repair>>>,
}

impl Cache {
    /// Open (creating and repairing as needed) the cache in `root`.
    pub fn open(root: &Path) -> Result<Cache, Error> {
        let dir = root.join(LAYOUT);
        fs_err::create_dir_all(&dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
        let cache = Cache {
            root: root.to_path_buf(),
            dir,
            repairs: Arc::default(),
        };
        cache.prepare_repo(&cache.atoms_repo_path())?;
        Ok(cache)
    }

    /// The cache directory as given.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The version directory (`<root>/v1`), where every bucket lives.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bare store of atom commits, manifests and (after verify) trees.
    pub fn atoms_repo_path(&self) -> PathBuf {
        self.dir.join("atoms.git")
    }

    /// The bare store of Nix git inputs (created by [`Cache::inputs_repo`]).
    pub fn inputs_repo_path(&self) -> PathBuf {
        self.dir.join("inputs.git")
    }

    /// The directory of listing index files.
    pub fn index_dir(&self) -> PathBuf {
        self.dir.join("index")
    }

    /// The directory of downloaded archives.
    pub fn downloads_dir(&self) -> PathBuf {
        self.dir.join("downloads")
    }

    /// Open the atom store with gix.
    pub fn atoms_repo(&self) -> Result<gix::Repository, Error> {
        let path = self.atoms_repo_path();
        gix::open(&path).map_err(|error| Error::Open {
            path,
            message: error.to_string(),
        })
    }

    /// The atom store for the git binary.
    pub fn atoms_git(&self) -> git::Repo {
        git::Repo::open(&self.atoms_repo_path())
    }

    /// Open (creating or repairing) the Nix inputs store for the git binary.
    pub fn inputs_repo(&self) -> Result<git::Repo, Error> {
        let path = self.inputs_repo_path();
        self.prepare_repo(&path)?;
        Ok(git::Repo::open(&path))
    }

    /// Take the repairs made so far (each reported once).
    pub fn take_repairs(&self) -> Vec<Repair> {
        match self.repairs.lock() {
            Ok(mut repairs) => std::mem::take(&mut *repairs),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }

    /// Record a repair made outside this module (a garbled index file).
    pub fn record_repair(&self, path: &Path, reason: impl Into<String>) {
        let repair = Repair {
            path: path.to_path_buf(),
            reason: reason.into(),
        };
        match self.repairs.lock() {
            Ok(mut repairs) => repairs.push(repair),
            Err(poisoned) => poisoned.into_inner().push(repair),
        }
    }

    /// Take the cache's write lock (released on drop).
    pub fn lock(&self) -> Result<crate::fs::FileLock, Error> {
        crate::fs::FileLock::acquire(&self.dir).map_err(|error| Error::Io {
            path: self.dir.clone(),
            source: std::io::Error::other(error.to_string()),
        })
    }

    /// The atom store's objects could not be read (`reason`): move it aside and create
    /// it again, empty. The caller fetches again.
    pub fn rebuild_atoms_repo(&self, reason: &str) -> Result<(), Error> {
        let path = self.atoms_repo_path();
        let _lock = self.lock()?;
        self.move_aside(&path)?;
        self.create_repo(&path)?;
        self.record_repair(&path, reason);
        Ok(())
    }

    /// Make sure the bare repository at `path` exists and passes the integrity check.
    fn prepare_repo(&self, path: &Path) -> Result<(), Error> {
        if damage(path).is_none() && !self.has_stale_temporaries()? {
            return Ok(());
        }
        let _lock = self.lock()?;
        self.remove_stale_temporaries()?;
        match damage(path) {
            None => {}
            Some(Damage::Missing) => self.create_repo(path)?,
            Some(Damage::Broken(reason)) => {
                self.move_aside(path)?;
                self.create_repo(path)?;
                self.record_repair(path, reason);
            }
        }
        Ok(())
    }

    /// Build a repository aside and rename it into place (caller holds the lock).
    fn create_repo(&self, path: &Path) -> Result<(), Error> {
        let name = file_name(path);
        let temporary = self.dir.join(format!("{name}.tmp-{}", std::process::id()));
        remove_if_present(&temporary)?;
        git::Repo::init_bare(&temporary).map_err(|source| Error::Init {
            path: path.to_path_buf(),
            source,
        })?;
        fs_err::rename(&temporary, path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Move a damaged repository to `broken-<name>-<pid>` (replacing an older one).
    fn move_aside(&self, path: &Path) -> Result<(), Error> {
        if !path.exists() {
            return Ok(());
        }
        let aside = self
            .dir
            .join(format!("broken-{}-{}", file_name(path), std::process::id()));
        remove_if_present(&aside)?;
        fs_err::rename(path, &aside).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    fn temporaries(&self) -> Result<Vec<PathBuf>, Error> {
        let entries = fs_err::read_dir(&self.dir).map_err(|source| Error::Io {
            path: self.dir.clone(),
            source,
        })?;
        Ok(entries
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| file_name(path).contains(".tmp-"))
            .collect())
    }

    fn has_stale_temporaries(&self) -> Result<bool, Error> {
        Ok(!self.temporaries()?.is_empty())
    }

    /// Delete `*.tmp-*` leftovers (caller holds the lock, so none is in use).
    fn remove_stale_temporaries(&self) -> Result<(), Error> {
        for path in self.temporaries()? {
            remove_if_present(&path)?;
        }
        Ok(())
    }
}

/// What is wrong with a repository.
enum Damage {
    /// It is not there at all (a first run): create it, nothing to report.
    Missing,
    /// It is there but broken.
    Broken(String),
}

/// The integrity check of a bare repository.
fn damage(path: &Path) -> Option<Damage> {
    if !path.exists() {
        return Some(Damage::Missing);
    }
    for (entry, is_dir) in [("HEAD", false), ("config", false), ("objects", true)] {
        let present = if is_dir {
            path.join(entry).is_dir()
        } else {
            path.join(entry).is_file()
        };
        if !present {
            return Some(Damage::Broken(format!("`{entry}` is missing")));
        }
    }
    if let Err(error) = gix::open(path) {
        return Some(Damage::Broken(error.to_string()));
    }
    None
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn remove_if_present(path: &Path) -> Result<(), Error> {
    let result = if path.is_dir() {
        fs_err::remove_dir_all(path)
    } else {
        fs_err::remove_file(path)
    };
    match result {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_open_creates_the_layout_without_repairs() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        assert_eq!(cache.dir(), root.path().join("v1"));
        assert!(cache.atoms_repo_path().join("HEAD").is_file());
        assert!(cache.take_repairs().is_empty());
        cache.atoms_repo().unwrap();
    }

    #[test]
    fn a_repository_without_head_is_moved_aside_and_rebuilt() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        fs_err::remove_file(cache.atoms_repo_path().join("HEAD")).unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let repairs = cache.take_repairs();
        assert_eq!(repairs.len(), 1, "{repairs:?}");
        assert!(repairs[0].to_string().contains("`HEAD` is missing"));
        assert!(cache.atoms_repo_path().join("HEAD").is_file());
        let aside = cache
            .dir()
            .join(format!("broken-atoms.git-{}", std::process::id()));
        assert!(aside.is_dir());
        assert!(cache.take_repairs().is_empty());
    }

    #[test]
    fn a_repository_without_config_is_rebuilt_and_a_later_read_failure_too() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        fs_err::remove_file(cache.atoms_repo_path().join("config")).unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let repairs = cache.take_repairs();
        assert_eq!(repairs.len(), 1, "{repairs:?}");
        assert_eq!(repairs[0].reason, "`config` is missing");
        assert!(cache.atoms_repo_path().join("config").is_file());

        cache
            .rebuild_atoms_repo("object `x` is unreadable")
            .unwrap();
        let repairs = cache.take_repairs();
        assert_eq!(repairs.len(), 1, "{repairs:?}");
        assert_eq!(repairs[0].path, cache.atoms_repo_path());
        assert_eq!(
            repairs[0].to_string(),
            format!(
                "the cache at `{}` was damaged (object `x` is unreadable); it was rebuilt",
                cache.atoms_repo_path().display()
            )
        );
        cache.atoms_repo().unwrap();
    }

    #[test]
    fn stale_temporaries_are_removed() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let stale = cache.dir().join("atoms.git.tmp-1");
        fs_err::create_dir_all(stale.join("objects")).unwrap();
        Cache::open(root.path()).unwrap();
        assert!(!stale.exists());
    }

    #[test]
    fn the_inputs_store_comes_from_the_same_cache() {
        let root = tempfile::tempdir().unwrap();
        let cache = Cache::open(root.path()).unwrap();
        let inputs = cache.inputs_repo().unwrap();
        assert_eq!(inputs.path(), root.path().join("v1").join("inputs.git"));
        assert!(inputs.path().join("HEAD").is_file());
    }
}
