//! Finding a set's identity: the root commit reached by following first parents.
//!
//! Timestamps are never consulted: from the given commit, the walk takes each commit's
//! first parent until a commit without parents. A shallow repository cannot answer (its
//! history is cut), so it is refused.

use gix::ObjectId;

use crate::error::{Classify, Kind};

/// Why the set root could not be found.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The repository is shallow, so its root commit is unknown.
    #[error("repository `{path}` is shallow, so its root commit cannot be found")]
    Shallow {
        /// The repository's git dir.
        path: std::path::PathBuf,
        /// What to do.
        hint: &'static str,
    },
    /// Whether the repository is shallow could not be determined.
    #[error("cannot tell whether repository `{path}` is shallow")]
    ShallowCheck {
        /// The repository's git dir.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A commit on the first-parent chain is missing or unreadable.
    #[error("cannot read commit `{commit_id}` while walking first parents to the set root")]
    Commit {
        /// The commit that could not be read.
        commit_id: ObjectId,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Classify for Error {
    /// A shallow clone is the user's checkout to fix; unreadable commits are the
    /// environment.
    fn kind(&self) -> Kind {
        match self {
            Error::Shallow { .. } => Kind::Input,
            Error::ShallowCheck { .. } | Error::Commit { .. } => Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Shallow { hint, .. } => Some((*hint).to_owned()),
            Error::ShallowCheck { .. } | Error::Commit { .. } => None,
        }
    }
}

/// Follow first parents from `commit_id` to the commit without parents and return its id.
pub fn find_set_root(repo: &gix::Repository, commit_id: ObjectId) -> Result<ObjectId, Error> {
    let shallow = repo.is_shallow().map_err(|source| Error::ShallowCheck {
        path: repo.git_dir().to_owned(),
        source: source.into(),
    })?;
    if shallow {
        return Err(Error::Shallow {
            path: repo.git_dir().to_owned(),
            hint: "fetch the full history with `git fetch --unshallow`",
        });
    }
    let mut current = commit_id;
    loop {
        let commit = repo.find_commit(current).map_err(|source| Error::Commit {
            commit_id: current,
            source: Box::new(source),
        })?;
        let decoded = commit.decode().map_err(|source| Error::Commit {
            commit_id: current,
            source: Box::new(source),
        })?;
        match decoded.parents().next() {
            Some(parent) => current = parent,
            None => return Ok(current),
        }
    }
}
