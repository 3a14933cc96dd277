//! One module per operation: `Options` in, `Outcome` out, a typed `Error` per module.

pub mod init;
pub mod new;
pub mod publish;
