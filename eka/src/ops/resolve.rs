//! `eka resolve`: make `atom.lock` satisfy `atom.toml`, transitively, changing as little
//! as possible (locked versions are preferred and never downgraded).
//!
//! ```no_run
//! use eka::ops::{lock, resolve};
//!
//! let options = lock::Options {
//!     dir: ".".into(),
//!     cache: "/home/me/.cache/eka".into(),
//!     offline: false,
//!     locked: false,
//!     dry_run: true,
//!     reporter: atom::progress::Silent::shared(),
//! };
//! let outcome = resolve::run(&options)?;
//! println!("{} atoms added", outcome.changes.added.len());
//! # Ok::<(), eka::ops::lock::Error>(())
//! ```

use super::lock::{self, Plan};

/// Run `eka resolve`.
pub fn run(options: &lock::Options) -> Result<lock::Outcome, lock::Error> {
    lock::relock(options, Plan::default(), &mut |_, _| Ok(false))
}
