//! Cutting an atom: from an atom directory at a source commit to its atom commit.
//!
//! [`cut_atom`] is the one place an atom commit is derived from a repository. `eka
//! publish` cuts every atom it pushes, and locking a local (`"::"`) atom cuts the atom
//! `publish` would push from `HEAD`, so both name the same commit id. Given the
//! repository and a [`Cut`] (the set's root commit, the source commit, the atom's
//! directory and its manifest's label and version), it finds the directory's tree,
//! validates and hashes it with the caller's content hasher (this crate has no content
//! hashing: callers pass `verify::tree::hash_tree`), and builds the [`AtomCommit`].
//! Main types: [`Cut`] and [`Error`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = tempfile::tempdir()?;
//! # let repo = gix::init(dir.path())?;
//! # let tree = repo.write_object(gix::objs::Tree::empty())?.detach();
//! # let signature = gix::actor::Signature::default();
//! # let origin = repo.write_object(gix::objs::Commit {
//! #     tree, parents: Default::default(), author: signature.clone(), committer: signature,
//! #     encoding: None, message: "root\n".into(), extra_headers: Vec::new(),
//! # })?.detach();
//! use atom::store::cut::{Cut, cut_atom};
//!
//! let label = atom::Label::parse("hello")?;
//! let version = semver::Version::new(1, 0, 0);
//! let cut = Cut {
//!     set_root: origin,
//!     origin,
//!     revision: "HEAD",
//!     path: ".",
//!     label: &label,
//!     version: &version,
//! };
//! // A real caller validates and hashes with `verify::tree::hash_tree`.
//! let hash = |_: &gix::Repository, _| Ok::<_, std::io::Error>("b3:00".to_owned());
//! let commit = cut_atom(&repo, &cut, hash)?;
//! assert_eq!(commit.tree, tree);
//! assert_eq!(commit.content, "b3:00");
//! # Ok(()) }
//! ```

use gix::{ObjectId, objs::tree::EntryKind};
use semver::Version;

use crate::{
    Label,
    error::{Classify, Kind},
    store::commit::{self, AtomCommit},
};

/// What to cut: one atom directory at one source commit.
#[derive(Debug, Clone, Copy)]
pub struct Cut<'a> {
    /// The set's root commit.
    pub set_root: ObjectId,
    /// The source commit the atom is cut from.
    pub origin: ObjectId,
    /// How the source commit is named in messages (`HEAD`, a branch, a commit id).
    pub revision: &'a str,
    /// The atom's directory inside the repository (`.` for the root).
    pub path: &'a str,
    /// The label in the atom's manifest.
    pub label: &'a Label,
    /// The version in the atom's manifest.
    pub version: &'a Version,
}

/// Why an atom could not be cut; `E` is the content hasher's error.
#[derive(Debug, thiserror::Error)]
pub enum Error<E: std::error::Error + 'static> {
    /// The source commit or its tree could not be read.
    #[error("cannot read the tree of commit `{origin}`")]
    Origin {
        /// The source commit.
        origin: ObjectId,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The atom directory is not in the source commit.
    #[error("`{path}` is not in `{revision}`")]
    NotFound {
        /// The atom's directory.
        path: String,
        /// The source commit's name.
        revision: String,
    },
    /// The atom directory is not a directory in the source commit.
    #[error("atom directory `{path}` is not a directory at `{revision}`")]
    NotADirectory {
        /// The atom's directory.
        path: String,
        /// The source commit's name.
        revision: String,
    },
    /// The tree was refused or could not be hashed.
    #[error(transparent)]
    Hash(E),
    /// The atom commit could not be built.
    #[error(transparent)]
    Commit(#[from] commit::Error),
}

impl<E: std::error::Error + Classify + 'static> Classify for Error<E> {
    /// The hasher decides for the tree; a missing directory or a refused commit input
    /// is [`Kind::Input`], an unreadable commit [`Kind::Environment`].
    fn kind(&self) -> Kind {
        match self {
            Error::Hash(error) => error.kind(),
            Error::Origin { .. } => Kind::Environment,
            Error::NotFound { .. } | Error::NotADirectory { .. } | Error::Commit(_) => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Hash(error) => error.hint(),
            _ => None,
        }
    }
}

/// Cut the atom `cut` names: find its directory's tree at the source commit, validate
/// and hash it with `hash` (which returns the content hash), and build its unsigned
/// atom commit. Nothing is written to the repository.
pub fn cut_atom<E, H>(
    repo: &gix::Repository,
    cut: &Cut<'_>,
    hash: H,
) -> Result<AtomCommit, Error<E>>
where
    E: std::error::Error + 'static,
    H: FnOnce(&gix::Repository, ObjectId) -> Result<String, E>,
{
    let tree = atom_tree(repo, cut)?;
    let content = hash(repo, tree).map_err(Error::Hash)?;
    Ok(AtomCommit::new(
        tree,
        cut.set_root,
        cut.label.as_str(),
        cut.version,
        cut.origin,
        cut.path,
        &content,
    )?)
}

/// The tree of the atom's directory at the source commit.
fn atom_tree<E: std::error::Error + 'static>(
    repo: &gix::Repository,
    cut: &Cut<'_>,
) -> Result<ObjectId, Error<E>> {
    let origin_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Origin {
        origin: cut.origin,
        source,
    };
    let root = repo
        .find_commit(cut.origin)
        .map_err(|error| origin_error(error.into()))?
        .tree()
        .map_err(|error| origin_error(error.into()))?;
    if cut.path == "." {
        return Ok(root.id);
    }
    let entry = root
        .lookup_entry_by_path(cut.path)
        .map_err(|error| origin_error(error.into()))?
        .ok_or_else(|| Error::NotFound {
            path: cut.path.to_owned(),
            revision: cut.revision.to_owned(),
        })?;
    if entry.mode().kind() != EntryKind::Tree {
        return Err(Error::NotADirectory {
            path: cut.path.to_owned(),
            revision: cut.revision.to_owned(),
        });
    }
    Ok(entry.object_id())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gix::objs::{Tree, tree};

    /// A repository whose one commit holds `sub/file` and `file`.
    fn repository() -> (tempfile::TempDir, gix::Repository, ObjectId, ObjectId) {
        let dir = tempfile::tempdir().unwrap();
        let repo = gix::init(dir.path()).unwrap();
        let blob = repo.write_blob(b"hello\n").unwrap().detach();
        let file = tree::Entry {
            mode: tree::EntryKind::Blob.into(),
            filename: "file".into(),
            oid: blob,
        };
        let sub = repo
            .write_object(Tree {
                entries: vec![file.clone()],
            })
            .unwrap()
            .detach();
        let sub_entry = tree::Entry {
            mode: tree::EntryKind::Tree.into(),
            filename: "sub".into(),
            oid: sub,
        };
        let root = repo
            .write_object(Tree {
                entries: vec![file, sub_entry],
            })
            .unwrap()
            .detach();
        let signature = gix::actor::Signature::default();
        let commit = repo
            .write_object(gix::objs::Commit {
                tree: root,
                parents: Default::default(),
                author: signature.clone(),
                committer: signature,
                encoding: None,
                message: "root\n".into(),
                extra_headers: Vec::new(),
            })
            .unwrap()
            .detach();
        (dir, repo, commit, sub)
    }

    fn cut_at(
        repo: &gix::Repository,
        origin: ObjectId,
        path: &str,
    ) -> Result<AtomCommit, Error<std::io::Error>> {
        let label = Label::parse("hello").unwrap();
        let version = Version::new(1, 0, 0);
        let cut = Cut {
            set_root: origin,
            origin,
            revision: "HEAD",
            path,
            label: &label,
            version: &version,
        };
        cut_atom(repo, &cut, |_, tree: ObjectId| {
            Ok(format!("b3:{}", tree.to_hex()))
        })
    }

    #[test]
    fn cuts_the_directory_tree_with_the_hashers_content() {
        let (_dir, repo, origin, sub) = repository();
        let commit = cut_at(&repo, origin, "sub").unwrap();
        assert_eq!(commit.tree, sub);
        assert_eq!(commit.content, format!("b3:{}", sub.to_hex()));
        assert_eq!((commit.origin, commit.path.as_str()), (origin, "sub"));
        let again = cut_at(&repo, origin, "sub").unwrap();
        assert_eq!(commit.id().unwrap(), again.id().unwrap());
    }

    #[test]
    fn refuses_a_missing_directory_or_a_file() {
        let (_dir, repo, origin, _) = repository();
        let missing = cut_at(&repo, origin, "missing").unwrap_err();
        assert_eq!(missing.to_string(), "`missing` is not in `HEAD`");
        assert_eq!(missing.kind(), Kind::Input);
        let file = cut_at(&repo, origin, "file").unwrap_err();
        assert!(matches!(file, Error::NotADirectory { .. }), "{file:?}");
    }

    #[test]
    fn the_hashers_refusal_is_returned_as_is() {
        let (_dir, repo, origin, _) = repository();
        let label = Label::parse("hello").unwrap();
        let version = Version::new(1, 0, 0);
        let cut = Cut {
            set_root: origin,
            origin,
            revision: "HEAD",
            path: ".",
            label: &label,
            version: &version,
        };
        let refused = cut_atom(&repo, &cut, |_, _| {
            Err(std::io::Error::other("hostile tree"))
        })
        .unwrap_err();
        assert!(matches!(refused, Error::Hash(_)), "{refused:?}");
        assert_eq!(refused.to_string(), "hostile tree");
    }
}
