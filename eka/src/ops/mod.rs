//! One module per operation: `Options` in, `Outcome` out, a typed `Error` per module.

pub mod add;
pub mod eval;
pub mod flake;
pub mod init;
pub mod list;
pub mod lock;
pub mod new;
pub mod nix_inputs;
pub mod publish;
pub mod registry;
pub mod remove;
pub mod resolve;
pub mod tree;
pub mod update;
pub mod verify;
