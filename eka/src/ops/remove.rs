//! `eka remove <label|name>…`: drop dependencies (atoms by label, direct Nix inputs by
//! name) from `atom.toml`, then relock so `atom.lock` no longer holds what only they
//! needed. A name that is neither is refused before anything is written; a table the
//! removal leaves empty goes with it (see [`atom::manifest::ManifestDocument`]).
//!
//! ```no_run
//! use eka::{ops::remove, transaction};
//!
//! let options = remove::Options {
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
//! remove::run(&options)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use atom::Label;

use crate::transaction::{self, Plan};

/// What to remove.
#[derive(Debug, Clone)]
pub struct Options {
    /// How to lock.
    pub lock: transaction::Options,
    /// Labels or Nix input names.
    pub names: Vec<Label>,
}

/// Run `eka remove`.
pub fn run(options: &Options) -> Result<transaction::Outcome, transaction::Error> {
    transaction::relock(&options.lock, Plan::default(), &mut |document, resolved| {
        if resolved.is_some() {
            return Ok(false);
        }
        for name in &options.names {
            let atom = document.remove_dependency(name);
            let nix = document.remove_nix_input(name);
            if !atom && !nix {
                return Err(transaction::Error::NotADependency {
                    name: name.clone(),
                    path: document.path().to_path_buf(),
                    hint: "see the dependencies with `eka tree`",
                });
            }
        }
        Ok(false)
    })
}
