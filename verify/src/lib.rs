//! Verification of atoms: BLAKE3 content hashes of git trees and hostile-tree
//! validation, SSH signatures of atom commits, and the verify walk over a lockfile.
//!
//! # The content hash
//!
//! An atom is a git tree. Its **content hash** is a BLAKE3 Merkle hash over that tree
//! which does not depend on git's SHA-1 object ids: files are hashed by their bytes,
//! symlinks by their targets (in a separate domain, so a symlink and a file with the
//! same bytes differ), and trees by their entries (kind, name, child hash) in git's
//! canonical order. The executable bit counts; submodules are refused. The exact byte
//! encoding is frozen as format v1 in `docs/format.md` ("Content hash"), with golden
//! vectors in `verify/tests/golden.rs`.
//!
//! Its text form is `blake3:<64 lowercase hex>`, see [`ContentHash`].
//!
//! # Tutorial
//!
//! Hash the tree of a commit with [`tree::hash_tree`]. The same call validates the
//! tree first: a tree that a checkout could not write safely (`..`, `.git`, a symlink
//! leaving the atom, …) or that exceeds the [`tree::Options`] limits is refused with a
//! [`tree::Error`] naming the path inside the tree and the kind of [`tree::Violation`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use gix::objs::{Tree, tree::{Entry, EntryKind}};
//! use verify::tree::{Options, Violation, hash_tree, validate_tree};
//!
//! let dir = tempfile::tempdir()?;
//! let repo = gix::init_bare(dir.path())?;
//! let blob = repo.write_blob(b"hello\n")?.detach();
//! let file = |name: &str| Entry { mode: EntryKind::Blob.into(), filename: name.into(), oid: blob };
//!
//! // A tree with one file: hash it.
//! let tree = repo.write_object(&Tree { entries: vec![file("hello")] })?.detach();
//! let outcome = hash_tree(&repo, tree, &Options::default())?;
//! assert_eq!(outcome.counts.entries, 1);
//! assert_eq!(outcome.counts.bytes, 6);
//! assert_eq!(outcome.hash.to_string().len(), "blake3:".len() + 64);
//!
//! // The hash is a value: print it, parse it back.
//! let text = outcome.hash.to_string();
//! assert_eq!(text.parse::<verify::ContentHash>()?, outcome.hash);
//!
//! // A hostile tree: `.git` as a name. Validation alone refuses it too.
//! let hostile = repo.write_object(&Tree { entries: vec![file(".GIT")] })?.detach();
//! let error = validate_tree(&repo, hostile, &Options::default()).unwrap_err();
//! assert_eq!(error.path(), ".GIT");
//! assert_eq!(error.violation(), Some(&Violation::GitDirName));
//!
//! // Limits are options; every one applies to the tree as a checkout expands it.
//! let strict = Options { max_total_bytes: 5, ..Options::default() };
//! let error = hash_tree(&repo, tree, &strict).unwrap_err();
//! assert_eq!(error.violation(), Some(&Violation::TooManyBytes { limit: 5 }));
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! - [`content_hash`]: the [`ContentHash`] type and the hashing primitives of format v1.
//! - [`tree`]: the walk that validates a git tree and computes its content hash.
//! - [`signature`]: SSH signatures of atom commits, the allowed signers policy.
//! - [`walk`]: the verify walk over a lockfile's atoms, giving a per-atom report.
//! - [`attestation`]: signed attestations of build outputs (in-toto statements in SSH-signed git tags).
#![deny(missing_docs)]

pub mod attestation;
pub mod content_hash;
pub mod locked;
pub mod signature;
pub mod tree;
pub mod walk;

pub use content_hash::ContentHash;
