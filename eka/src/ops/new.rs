//! `eka new`: create an atom and register it in its set's `ekala.toml`.
//!
//! The set is the nearest ancestor directory (of the target) holding `ekala.toml`. The whole
//! operation runs under the set's write lock, checks that no other atom of the set has the
//! label, writes `atom.toml` and then adds the path to `ekala.toml` with a format-preserving
//! edit, so the user's comments and ordering stay as they were.
//!
//! [`start`] (`eka new --init DIR`) first makes the directory a set with a git
//! repository ([`crate::ops::init`]), then creates the atom at its root.

use atom::error::{Classify, Kind};
use std::path::{Component, Path, PathBuf};

use atom::{
    Label,
    fs::FileLock,
    manifest::{Manifest, PathError, RelativePath},
    set::{self, Set, SetDocument, WorkTree},
};
use semver::Version;

/// What to create.
#[derive(Debug, Clone)]
pub struct Options {
    /// The atom's directory (absolute, or relative to the process's current directory).
    pub path: PathBuf,
    /// The label; `None` takes the directory's name.
    pub label: Option<String>,
    /// The first version (strict semver).
    pub version: String,
    /// A one-line description.
    pub description: Option<String>,
}

/// What `new` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The atom's label.
    pub label: Label,
    /// Its version.
    pub version: Version,
    /// The `atom.toml` written.
    pub manifest_path: PathBuf,
    /// The atom's directory relative to the set's root.
    pub set_path: RelativePath,
    /// The set's root directory.
    pub set_root: PathBuf,
}

/// Why `new` refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `ekala.toml` above the target.
    #[error("`{}` is not inside a set (no `ekala.toml` in it or any parent directory)", path.display())]
    NoSet {
        /// The target directory.
        path: PathBuf,
    },
    /// The directory already holds an atom.
    #[error("`{}` already exists", path.display())]
    Exists {
        /// The existing `atom.toml`.
        path: PathBuf,
    },
    /// The label is invalid (or the directory name cannot be one).
    #[error("cannot use `{input}` as the label of the atom at `{}`", path.display())]
    Label {
        /// What was given or derived.
        input: String,
        /// The target directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: atom::label::Error,
    },
    /// The version is not strict semver.
    #[error("`{input}` is not a valid version (expected strict semver such as `0.1.0`)")]
    Version {
        /// What was given.
        input: String,
        /// Why.
        #[source]
        source: semver::Error,
    },
    /// The target cannot be registered as a set path.
    #[error("`{}` cannot be an atom directory of the set at `{}`", path.display(), set_root.display())]
    Path {
        /// The target directory.
        path: PathBuf,
        /// The set's root.
        set_root: PathBuf,
        /// Why.
        #[source]
        source: PathError,
    },
    /// Another atom of the set has the label.
    #[error("the set already has an atom labelled `{label}`, at `{}`", existing.display())]
    LabelTaken {
        /// The label.
        label: Label,
        /// The existing atom's `atom.toml`.
        existing: PathBuf,
    },
    /// The set or one of its atoms could not be read.
    #[error(transparent)]
    Set(#[from] set::Error),
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] atom::fs::Error),
    /// Creating the directory failed; the I/O error names it.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// `--init` could not make the directory a set (or it already is one).
    #[error(transparent)]
    Init(#[from] crate::ops::init::Error),
}

impl Classify for Error {
    /// The arguments or the set refused are [`Kind::Input`]; writing is the environment.
    fn kind(&self) -> Kind {
        match self {
            Error::NoSet { .. }
            | Error::Exists { .. }
            | Error::Label { .. }
            | Error::Version { .. }
            | Error::Path { .. }
            | Error::LabelTaken { .. } => Kind::Input,
            Error::Set(error) => error.kind(),
            Error::Init(error) => error.kind(),
            Error::Write(_) | Error::Io(_) => Kind::Environment,
        }
    }

    /// How to fix the problem.
    fn hint(&self) -> Option<String> {
        match self {
            Error::NoSet { .. } => Some("run `eka init` at the root of your repository first".into()),
            Error::Exists { .. } => Some("pick another directory; this one is already an atom".into()),
            Error::Label { .. } => Some(
                "labels start with a letter and contain letters, digits, `_` and `-`; pass `--label`".into(),
            ),
            Error::Version { .. } => Some("pass `--version 0.1.0` or another `MAJOR.MINOR.PATCH`".into()),
            Error::Path { .. } => Some("create atoms in a directory below the set's root".into()),
            Error::LabelTaken { .. } => Some("pass another `--label`".into()),
            Error::Set(error) => error.hint(),
            Error::Init(crate::ops::init::Error::AlreadyASet { .. }) => Some(
                "this directory is already a set; run `eka new <path>` without `--init`".into(),
            ),
            Error::Init(error) => error.hint(),
            Error::Write(_) | Error::Io(_) => None,
        }
    }
}

/// What `new --init` did: the set, then its first atom.
#[derive(Debug, Clone)]
pub struct Started {
    /// The set created.
    pub init: crate::ops::init::Outcome,
    /// The atom created at its root.
    pub atom: Outcome,
}

/// Make `options.path` a set with a git repository (refused if it already is a set),
/// then create the atom at its root.
pub fn start(options: &Options) -> Result<Started, Error> {
    let dir = normalise(&options.path);
    let init = crate::ops::init::run(&crate::ops::init::Options {
        dir: dir.clone(),
        git: true,
    })?;
    let atom = run(&Options {
        path: dir,
        ..options.clone()
    })?;
    Ok(Started { init, atom })
}

/// Create the atom.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let target = normalise(&options.path);
    let set_root = find_set_root(&target).ok_or_else(|| Error::NoSet {
        path: target.clone(),
    })?;
    let manifest_path = target.join(atom::manifest::FILE_NAME);
    if manifest_path.exists() {
        return Err(Error::Exists {
            path: manifest_path,
        });
    }
    let label_input = match &options.label {
        Some(label) => label.clone(),
        None => target
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    let label = Label::parse(&label_input).map_err(|source| Error::Label {
        input: label_input.clone(),
        path: target.clone(),
        source,
    })?;
    let version = Version::parse(&options.version).map_err(|source| Error::Version {
        input: options.version.clone(),
        source,
    })?;
    let relative = match target.strip_prefix(&set_root) {
        Ok(relative) if !relative.as_os_str().is_empty() => relative,
        // The set's root itself: the atom's path is `.`.
        _ => Path::new("."),
    };
    let set_path =
        RelativePath::parse(&relative.to_string_lossy()).map_err(|source| Error::Path {
            path: target.clone(),
            set_root: set_root.clone(),
            source,
        })?;

    let _lock = FileLock::acquire(&set_root)?;
    let set = Set::load(&WorkTree {
        root: set_root.clone(),
    })?;
    if let Some(existing) = set.atom(&label) {
        return Err(Error::LabelTaken {
            label,
            existing: set_root
                .join(existing.path.as_str())
                .join(atom::manifest::FILE_NAME),
        });
    }
    let set_file = set_root.join(set::FILE_NAME);
    let mut document = SetDocument::read(&set_file)?;
    document.add_package(&set_path)?;

    fs_err::create_dir_all(&target)?;
    let text = Manifest::template(&label, &version, options.description.as_deref());
    atom::fs::write_atomic(&manifest_path, text.as_bytes())?;
    if let Err(error) = atom::fs::write_atomic(&set_file, document.to_string().as_bytes()) {
        // Leave no unregistered atom behind.
        let _ = std::fs::remove_file(&manifest_path);
        return Err(error.into());
    }
    Ok(Outcome {
        label,
        version,
        manifest_path,
        set_path,
        set_root,
    })
}

/// Resolve `.` and `..` lexically, so a target that does not exist yet can be placed.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn find_set_root(target: &Path) -> Option<PathBuf> {
    target
        .ancestors()
        .find(|dir| dir.join(set::FILE_NAME).is_file())
        .map(Path::to_path_buf)
}
