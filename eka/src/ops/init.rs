//! `eka init`: make a directory the root of a set.

use std::{io::Write as _, path::PathBuf};

/// The name of the set index at a set's root.
pub const SET_FILE: &str = "ekala.toml";

const TEMPLATE: &str =
    "# The atoms of this set: paths of directories holding an `atom.toml`.\n[set]\npackages = []\n";

/// What to initialise.
#[derive(Debug, Clone)]
pub struct Options {
    /// The directory to make a set; created if missing.
    pub dir: PathBuf,
    /// Also create a git repository there if the directory is in none.
    pub git: bool,
}

/// What `init` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The `ekala.toml` written.
    pub set_file: PathBuf,
    /// Whether a git repository was created.
    pub created_git: bool,
}

/// Why `init` failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The directory is already a set.
    #[error("`{}` already exists", path.display())]
    AlreadyASet {
        /// The existing `ekala.toml`.
        path: PathBuf,
    },
    /// Filesystem failure; the I/O error names the path.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// git repository creation failed.
    #[error("cannot create a git repository in `{}`", path.display())]
    Git {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<gix::Error>,
    },
}

/// Make `options.dir` a set.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let dir = &options.dir;
    fs_err::create_dir_all(dir)?;
    let set_file = dir.join(SET_FILE);
    if set_file.exists() {
        return Err(Error::AlreadyASet { path: set_file });
    }
    let created_git = if options.git && gix::discover(dir).is_err() {
        gix::init(dir).map_err(|source| Error::Git {
            path: dir.clone(),
            source: Box::new(source),
        })?;
        true
    } else {
        false
    };
    let mut file = match fs_err::File::create_new(&set_file) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::AlreadyASet { path: set_file });
        }
        Err(error) => return Err(error.into()),
    };
    file.write_all(TEMPLATE.as_bytes())?;
    file.sync_all()?;
    Ok(Outcome {
        set_file,
        created_git,
    })
}

impl atom::error::Classify for Error {
    /// An existing set is the request refused; writing and `git init` are the environment.
    fn kind(&self) -> atom::error::Kind {
        match self {
            Error::AlreadyASet { .. } => atom::error::Kind::Input,
            Error::Io(_) | Error::Git { .. } => atom::error::Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::AlreadyASet { .. } => Some(
                "this directory is already a set; use `eka new <path>` to add atoms to it"
                    .to_owned(),
            ),
            Error::Io(_) | Error::Git { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_twice_is_refused_and_keeps_the_file() {
        let temp = tempfile::tempdir().unwrap();
        let options = Options {
            dir: temp.path().join("set"),
            git: false,
        };
        let outcome = run(&options).unwrap();
        assert!(!outcome.created_git);
        std::fs::write(&outcome.set_file, "# mine\n[set]\npackages = [\"a\"]\n").unwrap();
        let error = run(&options).unwrap_err();
        assert!(matches!(error, Error::AlreadyASet { .. }), "{error}");
        assert_eq!(
            std::fs::read_to_string(&outcome.set_file).unwrap(),
            "# mine\n[set]\npackages = [\"a\"]\n"
        );
    }

    #[test]
    fn init_with_git_creates_a_repository() {
        let temp = tempfile::tempdir().unwrap();
        let outcome = run(&Options {
            dir: temp.path().to_owned(),
            git: true,
        })
        .unwrap();
        assert!(outcome.created_git);
        assert!(temp.path().join(".git").is_dir());
    }
}
