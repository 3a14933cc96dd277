//! Crash-safe writes of project files, and the lock that serialises writers.
//!
//! - [`write_atomic`] replaces a file so that a reader (or a crash) sees either the old
//!   or the new content, never a mix: it writes a temporary file in the same directory,
//!   fsyncs it, renames it over the target and fsyncs the directory. A file whose
//!   content would not change is not touched at all (its mtime stays).
//! - [`FileLock`] serialises the processes that write one project: it takes an exclusive
//!   `flock`-style lock ([`std::fs::File::lock`]) on the project directory itself, so no
//!   lock file is left behind. (On platforms that cannot open a directory as a file it
//!   locks a sentinel file, [`SENTINEL`], in that directory instead.)
//! - [`Transaction`] writes several files together or not at all, as far as a file
//!   system allows: every new content is first staged into a synced temporary file;
//!   only when all are staged are they renamed over their targets, in staging order,
//!   then the directories are synced. Any failure before the first rename removes the
//!   temporaries and leaves every target untouched. A crash between two renames can
//!   leave the first target new and the second old; callers stage `atom.lock` before
//!   `atom.toml`, so the worst case is a lockfile ahead of its manifest, which
//!   `eka resolve` repairs.
//!
//! ```
//! use atom::fs::{Outcome, write_atomic};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let path = dir.path().join("atom.lock");
//! assert_eq!(write_atomic(&path, b"version = 1\n").unwrap(), Outcome::Written);
//! assert_eq!(write_atomic(&path, b"version = 1\n").unwrap(), Outcome::Unchanged);
//! ```

use std::{
    fs::{File, OpenOptions},
    io::{self, Write as _},
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
};

/// The file locked instead of the directory where a directory cannot be opened.
pub const SENTINEL: &str = ".eka-write.lock";

/// What a write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The file now has the new content.
    Written,
    /// The file already had this content and was left alone.
    Unchanged,
}

/// A file system operation failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} `{}`", path.display())]
pub struct Error {
    /// What was being done (`write`, `rename`, `lock`...).
    pub action: &'static str,
    /// The file or directory.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: io::Error,
}

fn fail<'p>(action: &'static str, path: &'p Path) -> impl FnOnce(io::Error) -> Error + 'p {
    move |source| Error {
        action,
        path: path.to_path_buf(),
        source,
    }
}

fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Whether `path` already holds exactly `bytes`.
fn unchanged(path: &Path, bytes: &[u8]) -> Result<bool, Error> {
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.len() != bytes.len() as u64 => return Ok(false),
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(error) => return Err(fail("read", path)(error)),
    }
    match std::fs::read(path) {
        Ok(existing) => Ok(existing == bytes),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(fail("read", path)(error)),
    }
}

fn sync_directory(directory: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        File::open(directory)
            .and_then(|handle| handle.sync_all())
            .map_err(fail("sync", directory))
    }
    #[cfg(not(unix))]
    {
        let _ = directory;
        Ok(())
    }
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `bytes` to a new, synced temporary file beside `path`; returns its path.
fn stage_temporary(path: &Path, bytes: &[u8]) -> Result<PathBuf, Error> {
    let directory = parent_of(path);
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (file, temporary) = loop {
        let count = COUNTER.fetch_add(1, Ordering::Relaxed);
        let temporary = directory.join(format!(".{name}.{}.{count}.tmp", std::process::id()));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temporary)
        {
            Ok(file) => break (file, temporary),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(fail("create", &temporary)(error)),
        }
    };
    let written = (|| {
        let mut file = file;
        file.write_all(bytes)?;
        if let Ok(metadata) = std::fs::metadata(path) {
            file.set_permissions(metadata.permissions())?;
        }
        file.sync_all()
    })();
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(fail("write", &temporary)(error));
    }
    Ok(temporary)
}

/// Replace `path`'s content by `bytes` atomically, or leave it alone if it is equal.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<Outcome, Error> {
    let path = path.as_ref();
    if unchanged(path, bytes)? {
        return Ok(Outcome::Unchanged);
    }
    let temporary = stage_temporary(path, bytes)?;
    if let Err(error) = std::fs::rename(&temporary, path) {
        let _ = std::fs::remove_file(&temporary);
        return Err(fail("rename", path)(error));
    }
    sync_directory(parent_of(path))?;
    Ok(Outcome::Written)
}

/// An exclusive lock serialising the writers of one project directory; released on drop.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    fn open(directory: &Path) -> Result<(File, PathBuf), Error> {
        #[cfg(unix)]
        {
            let file = File::open(directory).map_err(fail("open", directory))?;
            Ok((file, directory.to_path_buf()))
        }
        #[cfg(not(unix))]
        {
            let path = directory.join(SENTINEL);
            let file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(fail("open", &path))?;
            Ok((file, path))
        }
    }

    /// Lock `directory`, waiting for any other holder to release it.
    pub fn acquire(directory: impl AsRef<Path>) -> Result<FileLock, Error> {
        let (file, path) = FileLock::open(directory.as_ref())?;
        file.lock().map_err(fail("lock", &path))?;
        Ok(FileLock { file, path })
    }

    /// Lock `directory` if nobody holds it; `None` if somebody does.
    pub fn try_acquire(directory: impl AsRef<Path>) -> Result<Option<FileLock>, Error> {
        let (file, path) = FileLock::open(directory.as_ref())?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { file, path })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(error)) => Err(fail("lock", &path)(error)),
        }
    }

    /// What is locked (the directory, or the sentinel file).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the handle releases the lock too; unlocking first is explicit.
        let _ = self.file.unlock();
    }
}

#[derive(Debug)]
struct Staged {
    target: PathBuf,
    temporary: PathBuf,
}

/// Files written together or not at all (see the module documentation).
#[derive(Debug, Default)]
pub struct Transaction {
    staged: Vec<Staged>,
}

impl Transaction {
    /// An empty transaction.
    pub fn new() -> Self {
        Transaction::default()
    }

    /// Stage `bytes` as the new content of `path`; an unchanged file is not staged.
    pub fn stage(&mut self, path: impl AsRef<Path>, bytes: &[u8]) -> Result<Outcome, Error> {
        let path = path.as_ref();
        if unchanged(path, bytes)? {
            return Ok(Outcome::Unchanged);
        }
        let temporary = stage_temporary(path, bytes)?;
        self.staged.push(Staged {
            target: path.to_path_buf(),
            temporary,
        });
        Ok(Outcome::Written)
    }

    /// Rename every staged file over its target, in staging order, then sync.
    pub fn commit(mut self) -> Result<(), Error> {
        let staged = std::mem::take(&mut self.staged);
        let mut directories: Vec<&Path> = Vec::new();
        for (index, file) in staged.iter().enumerate() {
            if let Err(error) = std::fs::rename(&file.temporary, &file.target) {
                for rest in &staged[index..] {
                    let _ = std::fs::remove_file(&rest.temporary);
                }
                return Err(fail("rename", &file.target)(error));
            }
            let directory = parent_of(&file.target);
            if !directories.contains(&directory) {
                directories.push(directory);
            }
        }
        for directory in directories {
            sync_directory(directory)?;
        }
        Ok(())
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        for file in &self.staged {
            let _ = std::fs::remove_file(&file.temporary);
        }
    }
}

/// Write every `(path, bytes)` pair together or not at all, in the given order.
pub fn write_together(files: &[(&Path, &[u8])]) -> Result<Vec<Outcome>, Error> {
    let mut transaction = Transaction::new();
    let outcomes = files
        .iter()
        .map(|(path, bytes)| transaction.stage(path, bytes))
        .collect::<Result<Vec<_>, _>>()?;
    transaction.commit()?;
    Ok(outcomes)
}

impl crate::error::Classify for Error {
    /// The file system failed.
    fn kind(&self) -> crate::error::Kind {
        crate::error::Kind::Environment
    }
}

/// An I/O error from a read that names the file, as `fs_err` does, for readers that get
/// a bare [`io::Error`] (a [`crate::set::FileSource`], say).
pub fn read_failed(path: &Path, error: io::Error) -> io::Error {
    io::Error::new(
        error.kind(),
        format!("failed to read `{}`: {error}", path.display()),
    )
}
