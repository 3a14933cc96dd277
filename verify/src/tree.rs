//! Validating a git tree against hostile content and computing its [`ContentHash`].
//!
//! This module owns the walk over an atom's git tree. [`validate_tree`] refuses any
//! tree that a checkout could not write safely or that would exhaust the machine;
//! [`hash_tree`] does the same walk and then computes the tree's content hash (format
//! v1, see [`crate::content_hash`]), reading file contents on several threads.
//!
//! Main types: [`Options`] (limits), [`Counts`], [`Outcome`], [`Error`] and the
//! [`Violation`] it carries, naming what is wrong with which path.
//!
//! The walk reads every *distinct* object once: a subtree or file that appears under
//! several names is read, validated and hashed once, while the counts and limits
//! apply to the tree as a checkout would expand it (a small tree that expands to
//! billions of files is refused, not walked).
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let repo = gix::open(".")?;
//! let tree_id = repo.head_commit()?.tree_id()?.detach();
//! let outcome = verify::tree::hash_tree(&repo, tree_id, &verify::tree::Options::default())?;
//! println!("{} ({} entries)", outcome.hash, outcome.counts.entries);
//! # Ok(()) }
//! ```

mod name;
mod raw;

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use gix::ObjectId;
use gix::bstr::{BStr, BString, ByteSlice, ByteVec};

use crate::content_hash::{ContentHash, EntryKind, TreeHasher, hash_blob, hash_symlink};

/// Limits of a walk. Every limit applies to the tree as a checkout would expand it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The deepest directory nesting allowed; the root's entries sit at depth 0, the
    /// entries of a directory of the root at depth 1.
    pub max_depth: u32,
    /// The most entries (files, symlinks and directories, at any depth) allowed.
    pub max_entries: u64,
    /// The largest single object (a file's content or a tree object) read, in bytes.
    pub max_object_size: u64,
    /// The most file and symlink bytes allowed in total.
    pub max_total_bytes: u64,
    /// How many threads read and hash file contents; `None` uses the available cores.
    pub threads: Option<NonZeroUsize>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_depth: 256,
            max_entries: 1_000_000,
            max_object_size: 512 << 20,
            max_total_bytes: 4 << 30,
            threads: None,
        }
    }
}

/// What a walk found, counted as a checkout would expand the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Files, symlinks and directories at any depth (the root itself not included).
    pub entries: u64,
    /// Bytes of file contents and symlink targets.
    pub bytes: u64,
    /// Directory nesting below the root: `0` when the root holds no directory.
    pub depth: u32,
}

/// The result of [`hash_tree`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// The tree's content hash.
    pub hash: ContentHash,
    /// What the tree holds.
    pub counts: Counts,
}

/// What is wrong with a tree entry (or with the tree at the path of an [`Error`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Violation {
    /// The name is empty.
    #[error("the name is empty")]
    EmptyName,
    /// The name is `.` or `..`.
    #[error("the names `.` and `..` are reserved")]
    DotName,
    /// The name is `.git`, or a checkout on some file system would treat it as such.
    #[error("the name is, or some file system treats it as, `.git`")]
    GitDirName,
    /// The name contains `/`.
    #[error("the name contains `/`")]
    SlashInName,
    /// The name contains `\`.
    #[error("the name contains `\\`")]
    BackslashInName,
    /// The name contains a NUL byte.
    #[error("the name contains NUL")]
    NulInName,
    /// Another entry of the same directory has the same name.
    #[error("the name appears twice in its directory")]
    DuplicateName,
    /// The entry is not in git's canonical order after its predecessor.
    #[error("the entry is out of git's canonical order")]
    OutOfOrder,
    /// The mode is not one of `100644`, `100755`, `120000`, `40000`.
    #[error("the mode `{mode}` is not one git writes")]
    BadMode {
        /// The mode as written in the tree object.
        mode: String,
    },
    /// The entry is a gitlink (a submodule, mode `160000`).
    #[error("the entry is a submodule (gitlink)")]
    Gitlink,
    /// The tree object's bytes do not parse.
    #[error("the tree object is malformed: {reason}")]
    MalformedTree {
        /// What does not parse.
        reason: &'static str,
    },
    /// The entry's object has another type than its mode says.
    #[error("the entry should be a {expected} but its object is a {actual}")]
    WrongObjectKind {
        /// The type the mode requires.
        expected: &'static str,
        /// The type found.
        actual: String,
    },
    /// The entry's object is not in the repository.
    #[error("the object `{id}` is missing")]
    MissingObject {
        /// The missing object.
        id: ObjectId,
    },
    /// The symlink's target is absolute.
    #[error("the symlink's target is absolute")]
    SymlinkAbsolute,
    /// The symlink's target climbs out of the tree's root.
    #[error("the symlink climbs {climb} directories from depth {depth}, out of the atom")]
    SymlinkEscapes {
        /// How many leading `..` the target has.
        climb: u32,
        /// How deep the symlink's directory is (the root is depth 0).
        depth: u32,
    },
    /// The symlink's target is unusable.
    #[error("the symlink's target is refused: {reason}")]
    SymlinkMalformed {
        /// Why.
        reason: &'static str,
    },
    /// The symlink's target is longer than 4096 bytes.
    #[error("the symlink's target has {size} bytes, more than 4096")]
    SymlinkTooLong {
        /// The target's length.
        size: u64,
    },
    /// The directories nest deeper than [`Options::max_depth`].
    #[error("directories nest deeper than the limit of {limit}")]
    TooDeep {
        /// The limit.
        limit: u32,
    },
    /// The tree has more entries than [`Options::max_entries`].
    #[error("the tree has more entries than the limit of {limit}")]
    TooManyEntries {
        /// The limit.
        limit: u64,
    },
    /// An object is larger than [`Options::max_object_size`].
    #[error("the object has {size} bytes, more than the limit of {limit}")]
    ObjectTooLarge {
        /// The object's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The files hold more bytes than [`Options::max_total_bytes`].
    #[error("the files hold more bytes than the limit of {limit}")]
    TooManyBytes {
        /// The limit.
        limit: u64,
    },
}

impl Violation {
    /// A hint on how to fix the tree, when there is one.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::BadMode { .. } => {
                "rewrite the tree with a current git (`git mktree`), which writes only canonical modes"
            }
            Self::Gitlink => {
                "vendor the submodule's files into the atom or depend on it as an atom"
            }
            Self::SymlinkAbsolute | Self::SymlinkEscapes { .. } | Self::SymlinkMalformed { .. } => {
                "make the symlink point inside the atom with a relative target"
            }
            Self::TooDeep { .. }
            | Self::TooManyEntries { .. }
            | Self::ObjectTooLarge { .. }
            | Self::TooManyBytes { .. } => {
                "raise the limit if the tree comes from a trusted source"
            }
            _ => return None,
        })
    }
}

/// Why a tree could not be validated or hashed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tree is refused; `path` names the offending entry (`.` is the root).
    #[error("tree entry `{path}` is refused: {violation}")]
    Refused {
        /// The entry's path inside the tree, `/`-separated.
        path: BString,
        /// What is wrong.
        violation: Violation,
    },
    /// The object database failed to read an object.
    #[error("could not read object `{id}` at `{path}`")]
    Read {
        /// The entry's path inside the tree, `/`-separated.
        path: BString,
        /// The object being read.
        id: ObjectId,
        /// The database's error.
        #[source]
        source: gix::Error,
    },
}

impl Error {
    /// The path inside the tree the error is about (`.` for the root).
    pub fn path(&self) -> &BStr {
        match self {
            Self::Refused { path, .. } | Self::Read { path, .. } => path.as_bstr(),
        }
    }

    /// What is wrong with the tree, if the tree (and not the database) is at fault.
    pub fn violation(&self) -> Option<&Violation> {
        match self {
            Self::Refused { violation, .. } => Some(violation),
            Self::Read { .. } => None,
        }
    }
}

/// Validate the tree `tree_id` of `repo` without hashing file contents.
///
/// Symlink targets are read (they decide whether a link escapes); file contents are
/// not, only their sizes. Returns what the tree holds.
pub fn validate_tree(
    repo: &gix::Repository,
    tree_id: ObjectId,
    options: &Options,
) -> Result<Counts, Error> {
    let mut walk = Walk::new(repo, options);
    let root = walk.run(tree_id)?;
    Ok(walk.trees[root].counts)
}

/// Validate the tree `tree_id` of `repo` and compute its content hash.
///
/// `tree_id` must name a tree (peel commits first). Validation completes before any
/// file content is read; contents are then hashed on [`Options::threads`] threads.
pub fn hash_tree(
    repo: &gix::Repository,
    tree_id: ObjectId,
    options: &Options,
) -> Result<Outcome, Error> {
    let mut walk = Walk::new(repo, options);
    let root = walk.run(tree_id)?;
    let blob_hashes = hash_blobs(repo, &walk.blobs, options.threads)?;
    let mut tree_hashes: Vec<ContentHash> = Vec::with_capacity(walk.trees.len());
    for tree in &walk.trees {
        let mut hasher = TreeHasher::new(tree.entries.len() as u64);
        for node in &tree.entries {
            let child = match node.kind {
                EntryKind::File | EntryKind::Executable => &blob_hashes[node.child],
                EntryKind::Symlink => &walk.symlinks[node.child].hash,
                EntryKind::Tree => &tree_hashes[node.child],
            };
            hasher.entry(node.kind, &node.name, child);
        }
        tree_hashes.push(hasher.finish());
    }
    Ok(Outcome {
        hash: tree_hashes[root],
        counts: walk.trees[root].counts,
    })
}

/// A distinct file content met by the walk.
struct Blob {
    id: ObjectId,
    size: u64,
    /// The first path it was met at, for errors while hashing.
    path: BString,
}

/// A distinct symlink target met by the walk, already checked and hashed.
struct Symlink {
    hash: ContentHash,
    climb: u32,
    size: u64,
}

/// The deepest-climbing symlink beneath a tree, relative to that tree.
#[derive(Clone)]
struct Escape {
    /// Climb minus the symlink directory's depth below the tree; always positive.
    need: u32,
    climb: u32,
    /// The symlink's path relative to the tree.
    path: BString,
}

/// An entry of a validated tree; `child` indexes blobs, symlinks or trees by kind.
struct Node {
    kind: EntryKind,
    name: BString,
    child: usize,
}

/// A validated distinct tree.
struct TreeNode {
    entries: Vec<Node>,
    counts: Counts,
    escape: Option<Escape>,
}

/// A tree being walked.
struct Frame {
    id: ObjectId,
    path: BString,
    depth: u32,
    data: Vec<u8>,
    position: usize,
    entries: Vec<Node>,
    names: HashSet<BString>,
    previous: Option<(BString, bool)>,
    counts: Counts,
    escape: Option<Escape>,
    /// The name of the subtree entry being walked above this frame.
    pending: Option<BString>,
}

struct Walk<'a> {
    repo: &'a gix::Repository,
    options: &'a Options,
    id_len: usize,
    trees: Vec<TreeNode>,
    tree_index: HashMap<ObjectId, usize>,
    blobs: Vec<Blob>,
    blob_index: HashMap<ObjectId, usize>,
    symlinks: Vec<Symlink>,
    symlink_index: HashMap<ObjectId, usize>,
    total_entries: u64,
    total_bytes: u64,
}

/// The path shown for `path` (`.` for the root).
fn shown(path: &BStr) -> BString {
    if path.is_empty() {
        BString::from(".")
    } else {
        path.to_owned()
    }
}

fn refused(path: &BStr, violation: Violation) -> Error {
    Error::Refused {
        path: shown(path),
        violation,
    }
}

fn join(directory: &BStr, name: &[u8]) -> BString {
    let mut path = directory.to_owned();
    if !path.is_empty() {
        path.push_byte(b'/');
    }
    path.push_str(name);
    path
}

fn read_error(path: &BStr, id: ObjectId, source: gix::Error) -> Error {
    Error::Read {
        path: shown(path),
        id,
        source,
    }
}

impl<'a> Walk<'a> {
    fn new(repo: &'a gix::Repository, options: &'a Options) -> Self {
        Self {
            repo,
            options,
            id_len: repo.object_hash().len_in_bytes(),
            trees: Vec::new(),
            tree_index: HashMap::new(),
            blobs: Vec::new(),
            blob_index: HashMap::new(),
            symlinks: Vec::new(),
            symlink_index: HashMap::new(),
            total_entries: 0,
            total_bytes: 0,
        }
    }

    /// Walk the tree `root` depth first, returning its index in `self.trees`.
    fn run(&mut self, root: ObjectId) -> Result<usize, Error> {
        let mut stack = vec![self.open_tree(root, BString::default(), 0)?];
        while let Some(frame) = stack.last_mut() {
            let next =
                raw::next_entry(&frame.data, &mut frame.position, self.id_len).map(|parsed| {
                    parsed.map(|entry| {
                        let id = ObjectId::try_from(entry.id);
                        (
                            raw::classify_mode(entry.mode),
                            BString::from(entry.name),
                            id,
                        )
                    })
                });
            match next {
                None => {
                    let Some(done) = stack.pop() else { break };
                    let index = self.finish_tree(done);
                    match stack.last_mut() {
                        None => return Ok(index),
                        Some(parent) => {
                            let name = parent.pending.take().unwrap_or_default();
                            Self::attach_tree(parent, &self.trees[index], index, name);
                        }
                    }
                }
                Some(Err(violation)) => return Err(refused(frame.path.as_bstr(), violation)),
                Some(Ok((kind, name, id))) => {
                    let path = join(frame.path.as_bstr(), &name);
                    let id = id.map_err(|_| {
                        refused(
                            path.as_bstr(),
                            Violation::MalformedTree {
                                reason: "entry with an unusable object id",
                            },
                        )
                    })?;
                    if let Some(child) = self.visit(frame, kind, name, id, path)? {
                        stack.push(child);
                    }
                }
            }
        }
        // The loop only ends by returning the root; an empty stack cannot happen here.
        Err(refused(
            BStr::new(""),
            Violation::MalformedTree {
                reason: "the walk ended without its root",
            },
        ))
    }

    /// Check one entry of `frame`; returns a frame to walk when it is a new subtree.
    fn visit(
        &mut self,
        frame: &mut Frame,
        kind: Result<EntryKind, Violation>,
        name: BString,
        id: ObjectId,
        path: BString,
    ) -> Result<Option<Frame>, Error> {
        let path = path.as_bstr();
        self.total_entries += 1;
        self.check_entries(path)?;
        name::check_name(&name).map_err(|violation| refused(path, violation))?;
        let kind = kind.map_err(|violation| refused(path, violation))?;
        Self::check_order(frame, &name, kind, path)?;
        match kind {
            EntryKind::File | EntryKind::Executable => {
                self.visit_file(frame, kind, name, id, path)?;
            }
            EntryKind::Symlink => self.visit_symlink(frame, name, id, path)?,
            EntryKind::Tree => return self.visit_tree(frame, name, id, path),
        }
        Ok(None)
    }

    /// An entry's name is new in its tree and sorts after the previous one in git's
    /// order (a tree git itself wrote never fails this; a forged one may).
    fn check_order(
        frame: &mut Frame,
        name: &BString,
        kind: EntryKind,
        path: &BStr,
    ) -> Result<(), Error> {
        if !frame.names.insert(name.clone()) {
            return Err(refused(path, Violation::DuplicateName));
        }
        let is_tree = kind == EntryKind::Tree;
        if let Some((previous, previous_tree)) = &frame.previous
            && name::git_order(previous, *previous_tree, name, is_tree).is_ge()
        {
            return Err(refused(path, Violation::OutOfOrder));
        }
        frame.previous = Some((name.clone(), is_tree));
        Ok(())
    }

    /// A file or executable: hashed once per blob, counted against the size limits.
    fn visit_file(
        &mut self,
        frame: &mut Frame,
        kind: EntryKind,
        name: BString,
        id: ObjectId,
        path: &BStr,
    ) -> Result<(), Error> {
        let index = self.file(id, path)?;
        let size = self.blobs[index].size;
        self.add_bytes(size, path)?;
        frame.counts.entries += 1;
        frame.counts.bytes = frame.counts.bytes.saturating_add(size);
        frame.entries.push(Node {
            kind,
            name,
            child: index,
        });
        Ok(())
    }

    /// A symlink: refused when it climbs out of the atom from here; the deepest climb
    /// is remembered, so a tree reused at a shallower depth is judged again.
    fn visit_symlink(
        &mut self,
        frame: &mut Frame,
        name: BString,
        id: ObjectId,
        path: &BStr,
    ) -> Result<(), Error> {
        let index = self.symlink(id, path)?;
        let Symlink { climb, size, .. } = self.symlinks[index];
        if climb > frame.depth {
            let depth = frame.depth;
            return Err(refused(path, Violation::SymlinkEscapes { climb, depth }));
        }
        self.add_bytes(size, path)?;
        frame.counts.entries += 1;
        frame.counts.bytes = frame.counts.bytes.saturating_add(size);
        if climb > 0
            && frame
                .escape
                .as_ref()
                .is_none_or(|escape| climb > escape.need)
        {
            frame.escape = Some(Escape {
                need: climb,
                climb,
                path: name.clone(),
            });
        }
        frame.entries.push(Node {
            kind: EntryKind::Symlink,
            name,
            child: index,
        });
        Ok(())
    }

    /// A subtree: a new one is a frame to walk; one already walked is attached with its
    /// counts, after its depth, its symlinks' climb and its entries and bytes are judged
    /// at this place.
    fn visit_tree(
        &mut self,
        frame: &mut Frame,
        name: BString,
        id: ObjectId,
        path: &BStr,
    ) -> Result<Option<Frame>, Error> {
        let depth = frame.depth + 1;
        let limit = self.options.max_depth;
        if depth > limit {
            return Err(refused(path, Violation::TooDeep { limit }));
        }
        let Some(&index) = self.tree_index.get(&id) else {
            frame.pending = Some(name);
            return self.open_tree(id, path.to_owned(), depth).map(Some);
        };
        let tree = &self.trees[index];
        if depth.saturating_add(tree.counts.depth) > limit {
            return Err(refused(path, Violation::TooDeep { limit }));
        }
        if let Some(escape) = &tree.escape
            && escape.need > depth
        {
            let violation = Violation::SymlinkEscapes {
                climb: escape.climb,
                depth: depth + escape.climb - escape.need,
            };
            return Err(refused(join(path, &escape.path).as_bstr(), violation));
        }
        let (entries, bytes) = (tree.counts.entries, tree.counts.bytes);
        self.total_entries = self.total_entries.saturating_add(entries);
        self.check_entries(path)?;
        self.add_bytes(bytes, path)?;
        Self::attach_tree(frame, &self.trees[index], index, name);
        Ok(None)
    }

    fn check_entries(&self, path: &BStr) -> Result<(), Error> {
        let limit = self.options.max_entries;
        if self.total_entries > limit {
            return Err(refused(path, Violation::TooManyEntries { limit }));
        }
        Ok(())
    }

    fn add_bytes(&mut self, size: u64, path: &BStr) -> Result<(), Error> {
        self.total_bytes = self.total_bytes.saturating_add(size);
        let limit = self.options.max_total_bytes;
        if self.total_bytes > limit {
            return Err(refused(path, Violation::TooManyBytes { limit }));
        }
        Ok(())
    }

    /// Add the finished subtree `tree` (at `index`) to its parent `frame`.
    fn attach_tree(frame: &mut Frame, tree: &TreeNode, index: usize, name: BString) {
        frame.counts.entries = frame.counts.entries.saturating_add(1 + tree.counts.entries);
        frame.counts.bytes = frame.counts.bytes.saturating_add(tree.counts.bytes);
        frame.counts.depth = frame.counts.depth.max(tree.counts.depth + 1);
        if let Some(escape) = &tree.escape
            && escape.need > 1
            && frame
                .escape
                .as_ref()
                .is_none_or(|own| escape.need - 1 > own.need)
        {
            frame.escape = Some(Escape {
                need: escape.need - 1,
                climb: escape.climb,
                path: join(name.as_bstr(), &escape.path),
            });
        }
        frame.entries.push(Node {
            kind: EntryKind::Tree,
            name,
            child: index,
        });
    }

    fn finish_tree(&mut self, frame: Frame) -> usize {
        let index = self.trees.len();
        self.trees.push(TreeNode {
            entries: frame.entries,
            counts: frame.counts,
            escape: frame.escape,
        });
        self.tree_index.insert(frame.id, index);
        index
    }

    /// Check the header of the object `id` met at `path`: present, of `kind`, and
    /// no larger than `max_size` (refused as `too_large(size)` otherwise).
    fn header(
        &self,
        id: ObjectId,
        path: &BStr,
        kind: gix::objs::Kind,
        too_large: impl FnOnce(u64) -> Option<Violation>,
    ) -> Result<u64, Error> {
        let header = self
            .repo
            .try_find_header(id)
            .map_err(|source| read_error(path, id, source))?
            .ok_or_else(|| refused(path, Violation::MissingObject { id }))?;
        if header.kind() != kind {
            return Err(refused(
                path,
                Violation::WrongObjectKind {
                    expected: kind_name(kind),
                    actual: kind_name(header.kind()).to_owned(),
                },
            ));
        }
        let size = header.size();
        if let Some(violation) = too_large(size) {
            return Err(refused(path, violation));
        }
        Ok(size)
    }

    fn too_large(&self, size: u64) -> Option<Violation> {
        let limit = self.options.max_object_size;
        (size > limit).then_some(Violation::ObjectTooLarge { size, limit })
    }

    fn read(&self, id: ObjectId, path: &BStr) -> Result<Vec<u8>, Error> {
        read_object(self.repo, id, path)
    }

    fn open_tree(&self, id: ObjectId, path: BString, depth: u32) -> Result<Frame, Error> {
        self.header(id, path.as_bstr(), gix::objs::Kind::Tree, |size| {
            self.too_large(size)
        })?;
        let data = self.read(id, path.as_bstr())?;
        Ok(Frame {
            id,
            path,
            depth,
            data,
            position: 0,
            entries: Vec::new(),
            names: HashSet::new(),
            previous: None,
            counts: Counts::default(),
            escape: None,
            pending: None,
        })
    }

    fn file(&mut self, id: ObjectId, path: &BStr) -> Result<usize, Error> {
        if let Some(&index) = self.blob_index.get(&id) {
            return Ok(index);
        }
        let size = self.header(id, path, gix::objs::Kind::Blob, |size| self.too_large(size))?;
        let index = self.blobs.len();
        self.blobs.push(Blob {
            id,
            size,
            path: path.to_owned(),
        });
        self.blob_index.insert(id, index);
        Ok(index)
    }

    fn symlink(&mut self, id: ObjectId, path: &BStr) -> Result<usize, Error> {
        if let Some(&index) = self.symlink_index.get(&id) {
            return Ok(index);
        }
        let size = self.header(id, path, gix::objs::Kind::Blob, |size| {
            (size > name::MAX_SYMLINK_TARGET).then_some(Violation::SymlinkTooLong { size })
        })?;
        let target = self.read(id, path)?;
        let climb = name::check_symlink_target(&target).map_err(|v| refused(path, v))?;
        let index = self.symlinks.len();
        self.symlinks.push(Symlink {
            hash: hash_symlink(&target),
            climb,
            size,
        });
        self.symlink_index.insert(id, index);
        Ok(index)
    }
}

fn kind_name(kind: gix::objs::Kind) -> &'static str {
    match kind {
        gix::objs::Kind::Tree => "tree",
        gix::objs::Kind::Blob => "blob",
        gix::objs::Kind::Commit => "commit",
        gix::objs::Kind::Tag => "tag",
    }
}

fn read_object(repo: &gix::Repository, id: ObjectId, path: &BStr) -> Result<Vec<u8>, Error> {
    let mut object = repo
        .try_find_object(id)
        .map_err(|source| read_error(path, id, source))?
        .ok_or_else(|| refused(path, Violation::MissingObject { id }))?;
    Ok(std::mem::take(&mut object.data))
}

/// Below this many bytes of distinct file content, threads cost more than they save.
const PARALLEL_THRESHOLD: u64 = 1 << 20;

/// Hash the distinct file contents, on several threads when there is enough to do.
fn hash_blobs(
    repo: &gix::Repository,
    blobs: &[Blob],
    threads: Option<NonZeroUsize>,
) -> Result<Vec<ContentHash>, Error> {
    let threads = threads
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get)
        .min(blobs.len());
    let bytes: u64 = blobs.iter().map(|blob| blob.size).sum();
    if threads <= 1 || bytes < PARALLEL_THRESHOLD {
        return blobs
            .iter()
            .map(|blob| Ok(hash_blob(&read_object(repo, blob.id, blob.path.as_bstr())?)))
            .collect();
    }

    let shared = repo.clone().into_sync();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let worker = || -> Result<Vec<(usize, ContentHash)>, Error> {
        let repo = shared.to_thread_local();
        let mut hashes = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(blob) = blobs.get(index) else { break };
            match read_object(&repo, blob.id, blob.path.as_bstr()) {
                Ok(data) => hashes.push((index, hash_blob(&data))),
                Err(error) => {
                    failed.store(true, Ordering::Relaxed);
                    return Err(error);
                }
            }
        }
        Ok(hashes)
    };
    let results: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut hashes = vec![ContentHash::from_bytes([0; 32]); blobs.len()];
    for result in results {
        for (index, hash) in result? {
            hashes[index] = hash;
        }
    }
    Ok(hashes)
}

impl atom::error::Classify for Error {
    /// A refused tree is the data at fault; a failed object read is the environment.
    fn kind(&self) -> atom::error::Kind {
        match self {
            Self::Refused { .. } => atom::error::Kind::Input,
            Self::Read { .. } => atom::error::Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        self.violation()
            .and_then(Violation::hint)
            .map(str::to_owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Error>();
        let error = refused(BStr::new(""), Violation::TooDeep { limit: 3 });
        assert_eq!(error.path(), ".");
        assert_eq!(
            error.to_string(),
            "tree entry `.` is refused: directories nest deeper than the limit of 3"
        );
    }

    #[test]
    fn paths_join_with_slashes() {
        assert_eq!(join(BStr::new(""), b"a"), "a");
        assert_eq!(join(BStr::new("a/b"), b".."), "a/b/..");
    }
}
