//! One module per operation: `Options` in, `Outcome` out, a typed `Error` per module.

pub mod eval;
pub mod flake;
pub mod init;
pub mod new;
