//! End-to-end tests: the real `eka` binary against real git repositories and servers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[test]
fn binary_exists() {
    assert!(std::path::Path::new(env!("CARGO_BIN_EXE_eka")).exists());
}
