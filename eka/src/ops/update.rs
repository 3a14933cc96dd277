//! `eka update [names…]`: move locked versions to the newest the requirements allow —
//! every atom, or only those named (by label).
//!
//! ```no_run
//! use eka::ops::{lock, update};
//!
//! let options = update::Options {
//!     lock: lock::Options {
//!         dir: ".".into(),
//!         cache: "/home/me/.cache/eka".into(),
//!         offline: false,
//!         locked: false,
//!         dry_run: false,
//!         reporter: atom::progress::Silent::shared(),
//!     },
//!     names: vec!["hello".parse()?],
//! };
//! update::run(&options)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use atom::Label;

use super::lock::{self, Plan, Unpin};

/// What to update.
#[derive(Debug, Clone)]
pub struct Options {
    /// How to lock.
    pub lock: lock::Options,
    /// The labels to move (empty: all).
    pub names: Vec<Label>,
}

/// Run `eka update`.
pub fn run(options: &Options) -> Result<lock::Outcome, lock::Error> {
    let unpin = if options.names.is_empty() {
        Unpin::All
    } else {
        Unpin::Labels(options.names.clone())
    };
    let plan = Plan {
        unpin,
        ..Plan::default()
    };
    lock::relock(&options.lock, plan, &mut |_, _| Ok(false))
}
