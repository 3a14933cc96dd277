//! The operations behind the `eka` commands (cargo's "ops" layer) and the lock
//! transaction they share.
//!
//! Each module of [`ops`] is one command (`add`, `init`, `list`, `show`, `new`,
//! `publish`, `remove`, `resolve`, `tree`, `update`, `verify`): it takes `Options`, does
//! the work with the `atom`, `resolver`, `verify` and `nix` libraries, and returns an
//! `Outcome` for the binary to print. Every command that changes `atom.lock` goes
//! through one [`transaction::relock`]; [`trust`] applies the consumer's
//! `[trust.<set>]` entries to versions served by URLs not configured for their set
//! (resolution and `verify`). The services they share live in the libraries:
//! cutting atom commits in `atom::store::cut`, the resolver's catalog of published atoms
//! and lock synthesis in `resolver::{catalog, lock}`, `eval`/`build`/`export` and direct
//! Nix inputs in the `nix` crate. Nothing here prints; progress goes to the
//! `atom::progress::Reporter` an operation's `Options` carry.
//!
//! ```no_run
//! use eka::ops::init;
//!
//! let outcome = init::run(&init::Options { dir: "my-set".into(), git: true })?;
//! assert!(outcome.created_git);
//! # Ok::<(), eka::ops::init::Error>(())
//! ```
#![deny(missing_docs)]

pub mod ops;
pub mod transaction;
pub mod trust;
