//! BLAKE3 tree hashing, tree validation, SSH signatures and the verify walk.
#![deny(missing_docs)]
