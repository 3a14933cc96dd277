//! The hashes Nix needs to fetch direct Nix inputs purely, computed by eka itself.
//!
//! eka locks `git`, `url`, `tar` and `build` inputs (see `docs/nix-hashes.md`); Nix
//! fetches them purely only if it is given the hash it would compute itself, bit for bit:
//!
//! - [`nar`]: the NAR serialisation and `narHash` of a path, a git tree or a tarball;
//! - [`hash`]: [`Sha256Hash`] in SRI, Nix base32 and hex forms, and [`flat_hash`], the
//!   hash of a file's bytes.
//!
//! ```
//! use atom::nix::{Sha256Hash, flat_hash};
//!
//! let hash = flat_hash(&b"hello\n"[..]).unwrap();
//! assert_eq!(Sha256Hash::parse(&hash.to_sri()).unwrap(), hash);
//! ```

pub mod hash;
pub mod nar;

pub use hash::{Sha256Hash, flat_hash};
