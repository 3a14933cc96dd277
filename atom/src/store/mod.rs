//! The git store of published atoms (format 1).
//!
//! A published atom is three refs in its set's repository (see [`refs`]): the atom commit
//! (built by [`commit::AtomCommit`]), the `atom.toml` blob and the source commit it was cut
//! from. This module owns cutting an atom from a source commit ([`cut::cut_atom`], the
//! one derivation `eka publish` and local locking share), building and reading atom
//! commits, finding a set's root commit
//! ([`root::find_set_root`]), listing atom refs of a remote ([`remote::list_atom_refs`]),
//! pushing refs atomically ([`push::push_refs`]), discovering a set's published atoms
//! ([`fetch::discover`]) and the on-disk cache they are kept in ([`cache::Cache`],
//! layout `v1`, self-repairing). Every `git` child is spawned by one front door,
//! [`git`] ([`git::Repo`], [`git::ls_remote`]): clean environment, no prompts, and a
//! deadline on every network operation (`EKA_NET_TIMEOUT`).
//!
//! ```
//! use atom::{Label, store::refs};
//!
//! let label = Label::parse("hello").unwrap();
//! let version = semver::Version::new(1, 2, 3);
//! assert_eq!(refs::atom_ref(&label, &version), "refs/eka/atoms/hello/1.2.3");
//! ```

pub mod cache;
pub mod commit;
pub mod cut;
pub mod fetch;
pub mod git;
pub mod push;
pub mod refs;
pub mod remote;
pub mod root;
pub mod tree_source;

pub use commit::AtomCommit;
pub use cut::{Cut, cut_atom};
pub use push::{PushOutcome, RefStatus, RefUpdate, push_refs};
pub use refs::{AtomRef, RefKind};
pub use remote::list_atom_refs;
pub use root::find_set_root;
pub use tree_source::TreeSource;
