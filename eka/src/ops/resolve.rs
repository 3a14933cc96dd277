//! `eka resolve`: make `atom.lock` satisfy `atom.toml`, transitively, changing as little
//! as possible (locked versions are preferred and never downgraded).
//!
//! ```no_run
//! use eka::{ops::resolve, transaction};
//!
//! let options = transaction::Options {
//!     dir: ".".into(),
//!     cache: "/home/me/.cache/eka".into(),
//!     offline: false,
//!     locked: false,
//!     dry_run: true,
//!     reporter: atom::progress::Silent::shared(),
//!     mirrors: Default::default(),
//!     trust: Default::default(),
//! };
//! let outcome = resolve::run(&options)?;
//! println!("{} atoms added", outcome.changes.added.len());
//! # Ok::<(), eka::transaction::Error>(())
//! ```

use crate::transaction::{self, Plan};

/// Run `eka resolve`.
pub fn run(options: &transaction::Options) -> Result<transaction::Outcome, transaction::Error> {
    transaction::relock(options, Plan::default(), &mut |_, _| Ok(false))
}
