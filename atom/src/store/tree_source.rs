//! Reading a set's files from a git tree in the object database, never the working tree.
//!
//! [`TreeSource`] implements [`FileSource`] over one tree (usually a commit's root
//! tree), so [`crate::set::Set::load`] reads `ekala.toml` and every `atom.toml` exactly
//! as they were committed, whatever the working tree holds. It also finds the object id
//! at a path ([`TreeSource::entry`]), which is how a publisher finds an atom
//! directory's tree and its `atom.toml` blob.
//!
//! Tree objects are parsed leniently, entry by entry, so a hostile tree further down
//! does not prevent reading a file next to it; validating trees is `verify`'s business.
//!
//! ```no_run
//! use atom::{set::Set, store::tree_source::TreeSource};
//!
//! let repo = gix::open(".")?;
//! let commit = repo.head_commit()?;
//! let source = TreeSource::new(repo.clone(), commit.tree_id()?.detach(), "HEAD");
//! let set = Set::load(&source)?;
//! println!("{} atoms at HEAD", set.atoms.len());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{
    io,
    path::{Component, Path, PathBuf},
};

use gix::{ObjectId, bstr::ByteSlice, objs::tree::EntryKind};

use crate::set::FileSource;

/// Why a path could not be looked up in a tree.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An object on the way is missing or unreadable.
    #[error("cannot read object `{id}` on the way to `{path}`")]
    Read {
        /// The path being looked up.
        path: String,
        /// The object.
        id: ObjectId,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A tree on the way does not parse.
    #[error("tree `{id}` on the way to `{path}` is malformed")]
    Malformed {
        /// The path being looked up.
        path: String,
        /// The tree.
        id: ObjectId,
    },
    /// The path is not a clean relative path.
    #[error("`{path}` is not a clean relative path inside the repository")]
    Path {
        /// The path.
        path: String,
    },
}

/// What a path names in a tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The object id.
    pub id: ObjectId,
    /// The kind of entry (tree, blob, executable blob, link or commit).
    pub kind: EntryKind,
}

/// The files of one git tree, read from the object database.
#[derive(Clone)]
pub struct TreeSource {
    repo: gix::Repository,
    tree: ObjectId,
    revision: String,
}

impl std::fmt::Debug for TreeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TreeSource")
            .field("tree", &self.tree)
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

impl TreeSource {
    /// The files of `tree` in `repo`; `revision` names the tree in messages
    /// (`<revision>:<path>`, git's own syntax).
    pub fn new(repo: gix::Repository, tree: ObjectId, revision: impl Into<String>) -> Self {
        Self {
            repo,
            tree,
            revision: revision.into(),
        }
    }

    /// The root tree.
    pub fn tree(&self) -> ObjectId {
        self.tree
    }

    /// The entry at `path` (`.` or empty is the root tree), `None` if absent.
    pub fn entry(&self, path: &Path) -> Result<Option<Entry>, Error> {
        let shown = path.to_string_lossy().into_owned();
        let mut current = Entry {
            id: self.tree,
            kind: EntryKind::Tree,
        };
        for component in path.components() {
            let name = match component {
                Component::CurDir => continue,
                Component::Normal(name) => name,
                _ => return Err(Error::Path { path: shown }),
            };
            if current.kind != EntryKind::Tree {
                return Ok(None);
            }
            let object = self
                .repo
                .find_object(current.id)
                .map_err(|source| Error::Read {
                    path: shown.clone(),
                    id: current.id,
                    source: source.into(),
                })?;
            if object.kind != gix::objs::Kind::Tree {
                return Ok(None);
            }
            let wanted = name.as_encoded_bytes();
            let mut found = None;
            for entry in gix::objs::TreeRefIter::from_bytes(&object.data, self.repo.object_hash()) {
                let entry = entry.map_err(|_| Error::Malformed {
                    path: shown.clone(),
                    id: current.id,
                })?;
                if entry.filename.as_bytes() == wanted {
                    found = Some(Entry {
                        id: entry.oid.to_owned(),
                        kind: entry.mode.kind(),
                    });
                    break;
                }
            }
            match found {
                Some(entry) => current = entry,
                None => return Ok(None),
            }
        }
        Ok(Some(current))
    }
}

impl FileSource for TreeSource {
    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, io::Error> {
        let entry = self.entry(path).map_err(io::Error::other)?;
        match entry {
            Some(Entry {
                id,
                kind: EntryKind::Blob | EntryKind::BlobExecutable,
            }) => {
                let object = self.repo.find_object(id).map_err(io::Error::other)?;
                Ok(Some(object.detach().data))
            }
            Some(_) => Err(io::Error::other(format!(
                "`{}` is not a regular file",
                self.display_path(path).display()
            ))),
            None => Ok(None),
        }
    }

    fn display_path(&self, path: &Path) -> PathBuf {
        PathBuf::from(format!("{}:{}", self.revision, path.display()))
    }
}
