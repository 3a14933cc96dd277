//! Test harness for eka: real git servers on loopback and fixtures built by real git.
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
