//! BLAKE3 tree hashing, tree validation, SSH signatures and the verify walk.
#![deny(missing_docs)]

pub mod content_hash;
pub mod tree;

pub use content_hash::ContentHash;
