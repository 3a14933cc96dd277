//! `eka update [names…]`: move locked versions to the newest the requirements allow —
//! every atom, or only those named (by label).
//!
//! ```no_run
//! use eka::{ops::update, transaction};
//!
//! let options = update::Options {
//!     lock: transaction::Options {
//!         dir: ".".into(),
//!         cache: "/home/me/.cache/eka".into(),
//!         offline: false,
//!         locked: false,
//!         dry_run: false,
//!         reporter: atom::progress::Silent::shared(),
//!         mirrors: Default::default(),
//!         trust: Default::default(),
//!     },
//!     names: vec!["hello".parse()?],
//! };
//! update::run(&options)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use atom::Label;

use crate::transaction::{self, Plan, Unpin};

/// What to update.
#[derive(Debug, Clone)]
pub struct Options {
    /// How to lock.
    pub lock: transaction::Options,
    /// The labels to move (empty: all).
    pub names: Vec<Label>,
}

/// Run `eka update`.
pub fn run(options: &Options) -> Result<transaction::Outcome, transaction::Error> {
    let unpin = if options.names.is_empty() {
        Unpin::All
    } else {
        Unpin::Labels(options.names.clone())
    };
    let plan = Plan {
        unpin,
        ..Plan::default()
    };
    transaction::relock(&options.lock, plan, &mut |_, _| Ok(false))
}
