//! Operations behind the `eka` commands: each takes `Options`, does the work on disk or
//! in git, and returns an `Outcome` for the binary to print.
//!
//! ```no_run
//! use atom::ops::init;
//!
//! let outcome = init::run(&init::Options { dir: "my-set".into(), git: true })?;
//! assert!(outcome.created_git);
//! # Ok::<(), atom::ops::init::Error>(())
//! ```

pub mod init;
