//! One module per operation: `Options` in, `Outcome` out, a typed `Error` per module.
//!
//! The Nix operations (`eval`/`build`, `export --flake`, locking direct Nix inputs) live
//! in the `nix` crate; [`lock`] calls `nix::input` for the `[[nix]]` entries.

pub mod add;
pub mod init;
pub mod list;
pub mod lock;
pub mod new;
pub mod publish;
pub mod registry;
pub mod remove;
pub mod resolve;
pub mod tree;
pub mod update;
pub mod verify;
