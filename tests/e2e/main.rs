//! End-to-end tests: the real `eka` binary against real git repositories and servers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

mod attest;
mod cache;
mod checked_paths;
mod common;
mod corpus;
mod deps;
mod deps_local;
mod deps_stress;
mod errors;
mod flake_export;
mod flake_root;
mod follows;
mod identity;
mod immutable;
mod init;
mod lockfile;
mod messages;
mod mirror;
mod new;
mod nix;
mod nix_common;
mod nix_eval;
mod nix_export_trust;
mod nix_https;
mod nix_inputs;
mod nix_remote;
mod outdated;
mod outputs;
mod private;
mod progress;
mod publish;
mod publish_identity;
mod publish_scale;
mod scale;
mod timeouts;
mod tree_inputs;
mod trust;
mod vendor;
mod verify;
