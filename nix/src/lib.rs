//! Everything eka does with Nix, in one crate.
//!
//! eka never calls Nix to learn a hash: it computes what Nix would, bit for bit, and
//! checks it against real Nix in the tests (see `docs/nix-hashes.md`). This crate owns:
//!
//! - [`hash`]: [`Sha256Hash`] in SRI, Nix base32 and hex forms, and [`flat_hash`], the
//!   hash of a file's bytes;
//! - [`nar`]: the NAR serialisation and `narHash` of a path, a git tree or a tarball;
//! - [`input`]: locking the direct Nix inputs of `atom.toml` (`[deps.direct.nix]`) into
//!   the `[[nix]]` entries of `atom.lock` ([`input::lock_nix_inputs`]);
//! - [`eval`]: `eka eval` / `eka build`, running Nix purely on an atom with the embedded
//!   library ([`eval::LIBRARY`], the files of `nix/lib/`);
//! - [`settings`]: remote builders, the store, substituters and other Nix settings
//!   handed to the Nix process, checked (never undoing pure evaluation);
//! - [`export`]: `eka export --flake`, an atom's lock as a `flake.lock`.
//!
//! The typed values these produce (`atom::lock::NarHash`, `atom::lock::FlatHash`) and the
//! manifest's `atom::manifest::NixInput` are file formats and stay in `atom`. Every
//! error implements [`atom::error::Classify`]; nothing here prints.
//!
//! ```
//! use nix::{Sha256Hash, flat_hash};
//!
//! let hash = flat_hash(&b"hello\n"[..]).unwrap();
//! assert_eq!(Sha256Hash::parse(&hash.to_sri()).unwrap(), hash);
//! ```
#![deny(missing_docs)]

pub mod eval;
pub mod export;
pub mod hash;
pub mod input;
pub mod nar;
pub mod settings;

pub use hash::{Sha256Hash, flat_hash};
