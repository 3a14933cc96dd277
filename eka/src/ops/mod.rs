//! One module per command: `Options` in, `Outcome` out, a typed `Error` per module.
//!
//! The lock-changing commands (`add`, `remove`, `resolve`, `update`) run through
//! [`crate::transaction::relock`]. The Nix commands (`eval`/`build`, `export --flake`)
//! and locking direct Nix inputs live in the `nix` crate.

pub mod add;
pub mod attest;
pub mod init;
pub mod list;
pub mod mirror;
pub mod new;
pub mod outdated;
pub mod publish;
pub mod remove;
pub mod resolve;
pub mod show;
pub mod tree;
pub mod update;
pub mod vendor;
pub mod verify;
