//! `eka vendor [DIR] [--check]`: copy every locked atom's tree into a directory of the
//! project, and check such a directory against `atom.lock`.
//!
//! [`run`] fetches the lock's atom commits with their trees into the cache and checks
//! every one of them ([`verify::locked`]: commit bytes against the id, headers against the
//! lock, the hostile-tree rules, the BLAKE3 content hash against the lock and the
//! header) BEFORE anything is written. It then builds the new vendor directory next to
//! `DIR` (a temporary directory in the same parent), writes each atom's tree into
//! `<label>/` (`<label>-<first 12 hex of the set root>/` when atoms of two sets share a
//! label) and the record [`RECORD`] (`eka-vendor.toml`), and swaps it in: the old `DIR`
//! is renamed away, the new one renamed in, the old one deleted. `DIR` is never half old,
//! half new. A `DIR` that exists without a record is not replaced ([`Error::NotVendorDir`]).
//!
//! [`check`] recomputes every atom directory's content hash from the files on disk
//! (the scheme of [`verify::content_hash`]) and compares it with the lock; only for an
//! atom that differs does it read the atom's tree from the cache (fetching it unless
//! offline) to name each file that drifted ([`Drift`]). Main types: [`Options`],
//! [`Outcome`], [`CheckOutcome`], [`Drift`], [`Error`].
//!
//! ```no_run
//! use eka::ops::vendor::{Options, run};
//!
//! let options = Options::new("/work/app".into(), "/work/app/vendor".into(), "/home/me/.cache/eka".into());
//! let outcome = run(&options)?;
//! println!("{} atoms in {}", outcome.atoms.len(), outcome.dir.display());
//! # Ok::<(), eka::ops::vendor::Error>(())
//! ```

use std::{
    collections::{BTreeMap, BTreeSet},
    os::unix::{
        ffi::{OsStrExt as _, OsStringExt as _},
        fs::{PermissionsExt as _, symlink},
    },
    path::{Path, PathBuf},
    sync::Arc,
};

use atom::{
    error::{Classify, Kind},
    lock::{LockedAtom, Lockfile},
    progress::{Reporter, Silent, Step},
    store::cache::Cache,
};
use gix::objs::tree::EntryKind as GitKind;
use serde::Serialize;
use verify::content_hash::{ContentHash, EntryKind, TreeHasher, hash_blob, hash_symlink};

/// The record of a vendor directory, naming what it holds.
pub const RECORD: &str = "eka-vendor.toml";

/// The vendor directory's place, relative to the project, when none is given.
pub const DEFAULT_DIR: &str = "vendor";

/// What to vendor or check, and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// The project directory (holding `atom.lock`).
    pub project: PathBuf,
    /// The vendor directory.
    pub dir: PathBuf,
    /// The cache directory.
    pub cache: PathBuf,
    /// Use only the cache: no fetching.
    pub offline: bool,
    /// Where the run reports its progress.
    pub reporter: Arc<dyn Reporter>,
}

impl Options {
    /// Vendor online, no progress shown.
    pub fn new(project: PathBuf, dir: PathBuf, cache: PathBuf) -> Self {
        Options {
            project,
            dir,
            cache,
            offline: false,
            reporter: Silent::shared(),
        }
    }
}

/// One vendored atom, as recorded in [`RECORD`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vendored {
    /// Its directory's name inside the vendor directory.
    pub dir: String,
    /// Its label.
    pub label: String,
    /// Its locked version.
    pub version: String,
    /// The root commit of its set.
    pub set: String,
    /// Its atom commit.
    pub commit: String,
    /// Its BLAKE3 content hash.
    pub content: String,
}

/// What `eka vendor` wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The vendor directory.
    pub dir: PathBuf,
    /// The atoms it holds, by directory name.
    pub atoms: Vec<Vendored>,
    /// Atom directories of the previous vendor directory that are gone.
    pub removed: Vec<String>,
    /// Parts of the cache found damaged and rebuilt.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// One way a vendor directory differs from the lock; paths are relative to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Drift {
    /// A file's bytes differ from the atom's.
    #[error("`{path}` was edited")]
    Edited {
        /// The file.
        path: String,
    },
    /// A file, link or directory the atom does not have.
    #[error("`{path}` was added")]
    Added {
        /// The path.
        path: String,
    },
    /// A file, link or directory of the atom is missing.
    #[error("`{path}` was removed")]
    Removed {
        /// The path.
        path: String,
    },
    /// A file's executable bit differs from the atom's.
    #[error("`{path}` has mode {found}, the atom has {expected}")]
    Mode {
        /// The file.
        path: String,
        /// The atom's mode (`0755` or `0644`).
        expected: String,
        /// The mode on disk.
        found: String,
    },
    /// A symlink points elsewhere than the atom's.
    #[error("symlink `{path}` points to `{found}`, the atom's to `{expected}`")]
    Symlink {
        /// The link.
        path: String,
        /// The atom's target.
        expected: String,
        /// The target on disk.
        found: String,
    },
    /// A path is another kind of entry than the atom's.
    #[error("`{path}` is a {found}, the atom has a {expected}")]
    Kind {
        /// The path.
        path: String,
        /// What the atom has there.
        expected: String,
        /// What is on disk.
        found: String,
    },
    /// A locked atom has no directory.
    #[error("atom `{label}` is missing: there is no `{path}`")]
    MissingAtom {
        /// The atom.
        label: String,
        /// Its expected directory.
        path: String,
    },
    /// A directory or file that is no locked atom.
    #[error("`{path}` is not a locked atom")]
    ExtraAtom {
        /// The path.
        path: String,
    },
    /// The record does not describe the lock.
    #[error("`{path}` does not match `atom.lock`")]
    StaleRecord {
        /// The record.
        path: String,
    },
}

/// What `eka vendor --check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    /// The vendor directory.
    pub dir: PathBuf,
    /// The atoms it should hold.
    pub atoms: Vec<Vendored>,
    /// Every difference, by path.
    pub drift: Vec<Drift>,
    /// Parts of the cache found damaged and rebuilt.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl CheckOutcome {
    /// Whether the directory is exactly what the lock says.
    pub fn is_ok(&self) -> bool {
        self.drift.is_empty()
    }
}

/// Why vendoring or checking could not run (drift is a [`Drift`] in the outcome).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The project holds no `atom.lock`.
    #[error("no `atom.lock` in `{}`", dir.display())]
    NoLock {
        /// The project directory.
        dir: PathBuf,
    },
    /// The lockfile could not be read.
    #[error(transparent)]
    Lock(#[from] atom::lock::Error),
    /// The cache could not be opened.
    #[error(transparent)]
    Cache(#[from] atom::store::cache::Error),
    /// A locked atom could not be fetched, or was refused.
    #[error(transparent)]
    Locked(Box<verify::locked::Error>),
    /// The directory exists and is not a vendor directory.
    #[error("`{}` exists and is not a vendor directory (it has no `{RECORD}`)", dir.display())]
    NotVendorDir {
        /// The directory.
        dir: PathBuf,
    },
    /// The vendor directory to check does not exist.
    #[error("there is no vendor directory `{}`", dir.display())]
    NoVendorDir {
        /// The directory.
        dir: PathBuf,
    },
    /// The vendor directory has no parent to build the new one in.
    #[error("cannot vendor into `{}`: it has no parent directory", dir.display())]
    NoParent {
        /// The directory.
        dir: PathBuf,
    },
    /// An atom's tree could not be read from the cache.
    #[error("cannot read `{path}` of atom `{label}` from the cache: {message}")]
    Read {
        /// The atom.
        label: String,
        /// The path inside the atom.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A file could not be read, written, renamed or removed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl From<verify::locked::Error> for Error {
    fn from(error: verify::locked::Error) -> Self {
        Error::Locked(Box::new(error))
    }
}

impl Classify for Error {
    /// A missing lock or vendor directory, a refused atom or a directory that is not a
    /// vendor directory are the input; the cache and the file system are the environment.
    fn kind(&self) -> Kind {
        match self {
            Error::NoLock { .. }
            | Error::NotVendorDir { .. }
            | Error::NoVendorDir { .. }
            | Error::NoParent { .. } => Kind::Input,
            Error::Lock(error) => error.kind(),
            Error::Cache(error) => error.kind(),
            Error::Locked(error) => error.kind(),
            Error::Read { .. } | Error::Io(_) => Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NoLock { .. } => Some("run `eka resolve` to write `atom.lock`".into()),
            Error::NotVendorDir { .. } => Some(
                "`eka vendor` only replaces a directory it wrote: pass another directory \
                 (`eka vendor DIR`), or move this one away"
                    .into(),
            ),
            Error::NoVendorDir { .. } => Some("write it with `eka vendor`".into()),
            Error::Lock(error) => error.hint(),
            Error::Cache(error) => error.hint(),
            Error::Locked(error) => error.hint(),
            Error::NoParent { .. } | Error::Read { .. } | Error::Io(_) => None,
        }
    }
}

/// The damaged parts of the cache rebuilt in this run, as warnings.
fn repairs(cache: &Cache) -> Vec<String> {
    cache
        .take_repairs()
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// Read the project's lock.
fn read_lock(project: &Path) -> Result<Lockfile, Error> {
    let path = project.join(atom::lock::FILE_NAME);
    if !path.is_file() {
        return Err(Error::NoLock {
            dir: project.to_owned(),
        });
    }
    Ok(Lockfile::read(&path)?)
}

/// The directory name of each locked atom, in lock order: its label, or
/// `<label>-<first 12 hex of the set root>` when atoms of two sets share the label.
fn atom_dirs(lock: &Lockfile) -> Vec<Vendored> {
    let mut sets: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for atom in &lock.atoms {
        sets.entry(atom.label.to_string())
            .or_default()
            .insert(atom.set.to_string());
    }
    lock.atoms
        .iter()
        .map(|atom| {
            let label = atom.label.to_string();
            let set = atom.set.to_string();
            let shared = sets.get(&label).is_some_and(|sets| sets.len() > 1);
            let dir = if shared {
                format!("{label}-{}", set.get(..12).unwrap_or(&set))
            } else {
                label.clone()
            };
            Vendored {
                dir,
                label,
                version: atom.version.to_string(),
                set,
                commit: atom.commit.to_string(),
                content: atom.content.to_string(),
            }
        })
        .collect()
}

/// The text of [`RECORD`] for `atoms` (sorted by directory name).
pub fn render_record(atoms: &[Vendored]) -> String {
    let mut sorted: Vec<&Vendored> = atoms.iter().collect();
    sorted.sort_by(|a, b| a.dir.cmp(&b.dir));
    let mut text = String::from(
        "# Written by `eka vendor` from `atom.lock`; checked by `eka vendor --check`.\n\
         version = 1\n",
    );
    for atom in sorted {
        text.push_str(&format!(
            "\n[[atom]]\ndir = \"{}\"\nlabel = \"{}\"\nversion = \"{}\"\nset = \"{}\"\n\
             commit = \"{}\"\ncontent = \"{}\"\n",
            atom.dir, atom.label, atom.version, atom.set, atom.commit, atom.content
        ));
    }
    text
}

/// Run `eka vendor`: fetch and check every locked atom, then replace the vendor
/// directory (see the module docs).
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let lock = read_lock(&options.project)?;
    let previous = previous_atom_dirs(&options.dir)?;
    let parent = match options.dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => {
            return Err(Error::NoParent {
                dir: options.dir.clone(),
            });
        }
    };
    let cache = Cache::open(&options.cache)?;
    let mut fetched = verify::locked::fetch(&lock, &cache, options.offline, &*options.reporter)?;
    let trees = fetched.check_all(&*options.reporter)?;
    let warnings = repairs(&cache);
    let atoms = atom_dirs(&lock);
    let staging = Staging::new(&parent, &options.dir)?;
    let step = Step::begin(&*options.reporter, "Writing", Some(atoms.len() as u64));
    for (index, atom) in atoms.iter().enumerate() {
        let target = staging.new.join(&atom.dir);
        fs_err::create_dir(&target)?;
        write_tree(fetched.repo(), trees[index], &target, &atom.label, "")?;
        step.advance(atom.label.as_str());
    }
    drop(step);
    fs_err::write(staging.new.join(RECORD), render_record(&atoms))?;
    staging.swap_into(&options.dir)?;
    let kept: BTreeSet<&str> = atoms.iter().map(|atom| atom.dir.as_str()).collect();
    let removed = previous
        .into_iter()
        .filter(|dir| !kept.contains(dir.as_str()))
        .collect();
    let mut atoms = atoms;
    atoms.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(Outcome {
        dir: options.dir.clone(),
        atoms,
        removed,
        warnings,
    })
}

/// The atom directories of the existing vendor directory `dir` (none if it does not
/// exist); refuses a `dir` that exists and is not a vendor directory.
fn previous_atom_dirs(dir: &Path) -> Result<Vec<String>, Error> {
    match fs_err::symlink_metadata(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error.into()),
        Ok(metadata) if !metadata.is_dir() || !dir.join(RECORD).is_file() => {
            return Err(Error::NotVendorDir {
                dir: dir.to_owned(),
            });
        }
        Ok(_) => {}
    }
    let mut dirs = Vec::new();
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            dirs.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    dirs.sort();
    Ok(dirs)
}

/// The new vendor directory being built next to the old one; removed if dropped before
/// it is swapped in.
struct Staging {
    new: PathBuf,
    old: PathBuf,
    swapped: bool,
}

impl Staging {
    fn new(parent: &Path, dir: &Path) -> Result<Staging, Error> {
        let name = dir.file_name().map_or_else(
            || "vendor".into(),
            |name| name.to_string_lossy().into_owned(),
        );
        let pid = std::process::id();
        let new = parent.join(format!(".{name}.eka-new-{pid}"));
        let old = parent.join(format!(".{name}.eka-old-{pid}"));
        for leftover in [&new, &old] {
            if leftover.exists() {
                fs_err::remove_dir_all(leftover)?;
            }
        }
        fs_err::create_dir_all(&new)?;
        Ok(Staging {
            new,
            old,
            swapped: false,
        })
    }

    /// Rename `dir` away (if it exists), rename the new directory in, delete the old.
    fn swap_into(mut self, dir: &Path) -> Result<(), Error> {
        let had_old = dir.exists();
        if had_old {
            fs_err::rename(dir, &self.old)?;
        }
        if let Err(error) = fs_err::rename(&self.new, dir) {
            if had_old {
                // Put the old directory back: `dir` stays as it was.
                let _ = fs_err::rename(&self.old, dir);
            }
            return Err(error.into());
        }
        self.swapped = true;
        if had_old {
            fs_err::remove_dir_all(&self.old)?;
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.swapped {
            let _ = std::fs::remove_dir_all(&self.new);
        }
    }
}

/// Join a path inside an atom.
fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}/{name}")
    }
}

/// The entries of `tree` in `repo`: (name, kind, object).
fn tree_entries(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    label: &str,
    path: &str,
) -> Result<Vec<(Vec<u8>, GitKind, gix::ObjectId)>, Error> {
    let read = |message: String| Error::Read {
        label: label.to_owned(),
        path: if path.is_empty() {
            ".".into()
        } else {
            path.to_owned()
        },
        message,
    };
    let object = repo
        .find_tree(tree)
        .map_err(|error| read(error.to_string()))?;
    let decoded = object.decode().map_err(|error| read(error.to_string()))?;
    Ok(decoded
        .entries
        .iter()
        .map(|entry| {
            (
                entry.filename.to_vec(),
                entry.mode.kind(),
                entry.oid.to_owned(),
            )
        })
        .collect())
}

/// The bytes of blob `id`.
fn blob(
    repo: &gix::Repository,
    id: gix::ObjectId,
    label: &str,
    path: &str,
) -> Result<Vec<u8>, Error> {
    repo.find_object(id)
        .map(|object| object.detach().data)
        .map_err(|error| Error::Read {
            label: label.to_owned(),
            path: path.to_owned(),
            message: error.to_string(),
        })
}

/// Write the (checked) tree `tree` into the existing directory `target`: files with
/// mode 0644 or 0755, symlinks as symlinks.
fn write_tree(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    target: &Path,
    label: &str,
    path: &str,
) -> Result<(), Error> {
    for (name, kind, id) in tree_entries(repo, tree, label, path)? {
        let name_text = String::from_utf8_lossy(&name).into_owned();
        let inner = join(path, &name_text);
        let destination = target.join(std::ffi::OsString::from_vec(name));
        match kind {
            GitKind::Tree => {
                fs_err::create_dir(&destination)?;
                write_tree(repo, id, &destination, label, &inner)?;
            }
            GitKind::Blob | GitKind::BlobExecutable => {
                fs_err::write(&destination, blob(repo, id, label, &inner)?)?;
                let mode = if kind == GitKind::BlobExecutable {
                    0o755
                } else {
                    0o644
                };
                fs_err::set_permissions(&destination, std::fs::Permissions::from_mode(mode))?;
            }
            GitKind::Link => {
                let target = blob(repo, id, label, &inner)?;
                symlink(std::ffi::OsStr::from_bytes(&target), &destination).map_err(|error| {
                    std::io::Error::new(
                        error.kind(),
                        format!("cannot create symlink `{}`: {error}", destination.display()),
                    )
                })?;
            }
            GitKind::Commit => {
                return Err(Error::Read {
                    label: label.to_owned(),
                    path: inner,
                    message: "a submodule entry cannot be vendored".into(),
                });
            }
        }
    }
    Ok(())
}

/// One entry of an atom, on disk or in its tree, by path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    File { executable: bool, hash: ContentHash },
    Symlink { target: Vec<u8> },
    Directory,
    Other,
}

impl Entry {
    fn noun(&self) -> &'static str {
        match self {
            Entry::File { .. } => "file",
            Entry::Symlink { .. } => "symlink",
            Entry::Directory => "directory",
            Entry::Other => "special file",
        }
    }
}

/// Every entry of an atom, by path inside it.
type Entries = BTreeMap<String, Entry>;

/// The sort key of a tree entry in git's canonical order: a directory's name as if
/// followed by `/`.
fn git_order_key(name: &[u8], directory: bool) -> Vec<u8> {
    let mut key = name.to_vec();
    if directory {
        key.push(b'/');
    }
    key
}

/// Hash the directory `dir` on disk with the content hash scheme, recording every entry
/// in `entries`. `None` when it holds something an atom cannot (a special file).
fn hash_disk(dir: &Path, path: &str, entries: &mut Entries) -> Result<Option<ContentHash>, Error> {
    let mut children = Vec::new();
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let file_type = entry.file_type()?;
        let name = entry.file_name().into_vec();
        children.push((
            git_order_key(&name, file_type.is_dir()),
            name,
            entry.path(),
            file_type,
        ));
    }
    children.sort_by(|a, b| a.0.cmp(&b.0));
    let mut hasher = TreeHasher::new(children.len() as u64);
    let mut valid = true;
    for (_, name, full, file_type) in children {
        let inner = join(path, &String::from_utf8_lossy(&name));
        let (kind, hash, entry) = if file_type.is_dir() {
            let hash = hash_disk(&full, &inner, entries)?;
            (EntryKind::Tree, hash, Entry::Directory)
        } else if file_type.is_symlink() {
            let target = fs_err::read_link(&full)?.into_os_string().into_vec();
            let hash = hash_symlink(&target);
            (EntryKind::Symlink, Some(hash), Entry::Symlink { target })
        } else if file_type.is_file() {
            // As git: the owner's executable bit makes an executable.
            let executable = fs_err::metadata(&full)?.permissions().mode() & 0o100 != 0;
            let hash = hash_blob(&fs_err::read(&full)?);
            let kind = if executable {
                EntryKind::Executable
            } else {
                EntryKind::File
            };
            (kind, Some(hash), Entry::File { executable, hash })
        } else {
            (EntryKind::File, None, Entry::Other)
        };
        entries.insert(inner, entry);
        match hash {
            Some(hash) => hasher.entry(kind, &name, &hash),
            None => valid = false,
        }
    }
    Ok(valid.then(|| hasher.finish()))
}

/// Every entry of the (checked) tree `tree`.
fn tree_listing(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    label: &str,
    path: &str,
    entries: &mut Entries,
) -> Result<(), Error> {
    for (name, kind, id) in tree_entries(repo, tree, label, path)? {
        let inner = join(path, &String::from_utf8_lossy(&name));
        let entry = match kind {
            GitKind::Tree => {
                tree_listing(repo, id, label, &inner, entries)?;
                Entry::Directory
            }
            GitKind::Blob | GitKind::BlobExecutable => Entry::File {
                executable: kind == GitKind::BlobExecutable,
                hash: hash_blob(&blob(repo, id, label, &inner)?),
            },
            GitKind::Link => Entry::Symlink {
                target: blob(repo, id, label, &inner)?,
            },
            GitKind::Commit => Entry::Other,
        };
        entries.insert(inner, entry);
    }
    Ok(())
}

/// The differences between an atom's tree (`expected`) and its directory on disk
/// (`found`), with paths prefixed by `dir`. Below an added or removed directory only
/// the directory is named.
fn compare(dir: &str, expected: &Entries, found: &Entries) -> Vec<Drift> {
    let paths: BTreeSet<&String> = expected.keys().chain(found.keys()).collect();
    let mut drift = Vec::new();
    let mut covered: Option<String> = None;
    for path in paths {
        if covered
            .as_ref()
            .is_some_and(|prefix| path.starts_with(prefix.as_str()))
        {
            continue;
        }
        let full = join(dir, path);
        let mode = |executable: bool| if executable { "0755" } else { "0644" }.to_owned();
        let item = match (expected.get(path), found.get(path)) {
            (Some(Entry::Directory), None) | (None, Some(Entry::Directory)) => {
                covered = Some(format!("{path}/"));
                if expected.contains_key(path) {
                    Drift::Removed { path: full }
                } else {
                    Drift::Added { path: full }
                }
            }
            (Some(_), None) => Drift::Removed { path: full },
            (None, Some(_)) => Drift::Added { path: full },
            (Some(left), Some(right)) if left == right => continue,
            (
                Some(Entry::File {
                    executable: a,
                    hash: left,
                }),
                Some(Entry::File {
                    executable: b,
                    hash: right,
                }),
            ) => {
                if left != right {
                    drift.push(Drift::Edited { path: full.clone() });
                }
                if a == b {
                    continue;
                }
                Drift::Mode {
                    path: full,
                    expected: mode(*a),
                    found: mode(*b),
                }
            }
            (Some(Entry::Symlink { target: a }), Some(Entry::Symlink { target: b })) => {
                Drift::Symlink {
                    path: full,
                    expected: String::from_utf8_lossy(a).into_owned(),
                    found: String::from_utf8_lossy(b).into_owned(),
                }
            }
            (Some(left), Some(right)) => Drift::Kind {
                path: full,
                expected: left.noun().to_owned(),
                found: right.noun().to_owned(),
            },
            (None, None) => continue,
        };
        drift.push(item);
    }
    drift
}

/// Run `eka vendor --check`: compare the vendor directory with the lock (see the
/// module docs).
pub fn check(options: &Options) -> Result<CheckOutcome, Error> {
    let lock = read_lock(&options.project)?;
    if !options.dir.is_dir() {
        return Err(Error::NoVendorDir {
            dir: options.dir.clone(),
        });
    }
    let atoms = atom_dirs(&lock);
    let mut drift = record_and_extra_drift(&options.dir, &atoms)?;
    let mut differing = Vec::new();
    let step = Step::begin(&*options.reporter, "Checking", Some(atoms.len() as u64));
    for (index, atom) in atoms.iter().enumerate() {
        let path = options.dir.join(&atom.dir);
        if !fs_err::symlink_metadata(&path).is_ok_and(|metadata| metadata.is_dir()) {
            drift.push(Drift::MissingAtom {
                label: atom.label.clone(),
                path: format!("{}/", atom.dir),
            });
        } else {
            let mut entries = Entries::new();
            let hash = hash_disk(&path, "", &mut entries)?;
            if hash.map(|hash| hash.to_string()).as_deref() != Some(atom.content.as_str()) {
                differing.push((index, entries));
            }
        }
        step.advance(atom.label.as_str());
    }
    drop(step);
    let mut warnings = Vec::new();
    if !differing.is_empty() {
        let cache = Cache::open(&options.cache)?;
        drift.extend(name_drift(&lock, &cache, options, &atoms, differing)?);
        warnings = repairs(&cache);
    }
    drift.sort_by_key(|item| item.to_string());
    let mut atoms = atoms;
    atoms.sort_by(|a, b| a.dir.cmp(&b.dir));
    Ok(CheckOutcome {
        dir: options.dir.clone(),
        atoms,
        drift,
        warnings,
    })
}

/// A stale record, and entries of the vendor directory that are no locked atom.
fn record_and_extra_drift(dir: &Path, atoms: &[Vendored]) -> Result<Vec<Drift>, Error> {
    let mut drift = Vec::new();
    let record = match fs_err::read_to_string(dir.join(RECORD)) {
        Ok(text) => Some(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(error.into()),
    };
    if record.as_deref() != Some(render_record(atoms).as_str()) {
        drift.push(Drift::StaleRecord {
            path: RECORD.to_owned(),
        });
    }
    let expected: BTreeSet<&str> = atoms.iter().map(|atom| atom.dir.as_str()).collect();
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == RECORD || expected.contains(name.as_str()) {
            continue;
        }
        let suffix = if entry.file_type()?.is_dir() { "/" } else { "" };
        drift.push(Drift::ExtraAtom {
            path: format!("{name}{suffix}"),
        });
    }
    Ok(drift)
}

/// Name the files of the atoms whose directory hash differs from the lock, against
/// their trees in the cache (fetched and checked first).
fn name_drift(
    lock: &Lockfile,
    cache: &Cache,
    options: &Options,
    atoms: &[Vendored],
    differing: Vec<(usize, Entries)>,
) -> Result<Vec<Drift>, Error> {
    let only = Lockfile {
        atoms: differing
            .iter()
            .map(|(index, _)| lock.atoms[*index].clone())
            .collect::<Vec<LockedAtom>>(),
        nix: Vec::new(),
        follows: Vec::new(),
    };
    let mut fetched = verify::locked::fetch(&only, cache, options.offline, &*options.reporter)?;
    let mut drift = Vec::new();
    for (position, (index, found)) in differing.into_iter().enumerate() {
        let tree = fetched.check(position)?;
        let label = &atoms[index].label;
        let mut expected = Entries::new();
        tree_listing(fetched.repo(), tree, label, "", &mut expected)?;
        drift.extend(compare(&atoms[index].dir, &expected, &found));
    }
    Ok(drift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(byte: u8, executable: bool) -> Entry {
        Entry::File {
            executable,
            hash: hash_blob(&[byte]),
        }
    }

    #[test]
    fn every_kind_of_drift_is_named_by_its_path() {
        let expected: Entries = [
            ("a".to_owned(), file(1, false)),
            ("b".to_owned(), file(2, true)),
            ("d".to_owned(), Entry::Directory),
            ("d/x".to_owned(), file(3, false)),
            (
                "l".to_owned(),
                Entry::Symlink {
                    target: b"a".to_vec(),
                },
            ),
        ]
        .into();
        let found: Entries = [
            ("a".to_owned(), file(9, false)),
            ("b".to_owned(), file(2, false)),
            (
                "l".to_owned(),
                Entry::Symlink {
                    target: b"b".to_vec(),
                },
            ),
            ("n".to_owned(), file(4, false)),
        ]
        .into();
        let drift: Vec<String> = compare("top", &expected, &found)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            drift,
            [
                "`top/a` was edited",
                "`top/b` has mode 0644, the atom has 0755",
                "`top/d` was removed",
                "symlink `top/l` points to `b`, the atom's to `a`",
                "`top/n` was added",
            ]
        );
    }

    fn locked(label: &str, set: char) -> LockedAtom {
        use atom::lock::{AtomIdHex, ContentHash, ObjectId};
        LockedAtom {
            label: atom::Label::parse(label).unwrap(),
            version: "1.0.0".parse().unwrap(),
            set: ObjectId::parse(&set.to_string().repeat(40)).unwrap(),
            id: AtomIdHex::parse(&set.to_string().repeat(64)).unwrap(),
            commit: ObjectId::parse(&"c".repeat(40)).unwrap(),
            content: ContentHash::parse(&format!("blake3:{}", "0".repeat(64))).unwrap(),
            mirrors: Vec::new(),
            deps: BTreeSet::new(),
        }
    }

    #[test]
    fn a_label_locked_from_two_sets_gets_the_set_root_in_its_directory() {
        let lock = Lockfile {
            atoms: vec![locked("lib", 'a'), locked("lib", 'b'), locked("app", 'a')],
            nix: Vec::new(),
            follows: Vec::new(),
        };
        let dirs: Vec<String> = atom_dirs(&lock).into_iter().map(|atom| atom.dir).collect();
        assert_eq!(dirs, ["lib-aaaaaaaaaaaa", "lib-bbbbbbbbbbbb", "app"]);
    }

    #[test]
    fn the_record_is_sorted_by_directory_and_versioned() {
        let atom = |dir: &str| Vendored {
            dir: dir.into(),
            label: dir.into(),
            version: "1.0.0".into(),
            set: "s".into(),
            commit: "c".into(),
            content: "h".into(),
        };
        let text = render_record(&[atom("zeta"), atom("alpha")]);
        assert!(text.contains("\nversion = 1\n"), "{text}");
        let alpha = text.find("dir = \"alpha\"");
        let zeta = text.find("dir = \"zeta\"");
        assert!(alpha.is_some() && alpha < zeta, "{text}");
    }
}
