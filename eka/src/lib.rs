//! The operations behind the `eka` commands (cargo's "ops" layer).
//!
//! Each operation in [`ops`] takes `Options`, does the work with the `atom`, `resolver`,
//! `verify` and `nix` libraries, and returns an `Outcome` for the binary to print.
//! Nothing here prints; progress is reported through `tracing`.
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
