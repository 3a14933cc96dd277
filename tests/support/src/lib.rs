//! Test harness for eka: real git servers on loopback and fixtures built by real git.
//!
//! - [`Git`] runs the real `git` binary in an isolated environment; [`TestRepo`] builds
//!   work repositories for fixtures.
//! - [`BareRepo`] is a temporary bare repository reachable over `file://`;
//!   [`GitDaemon`] serves a directory of them over `git://` and [`HttpServer`] over smart
//!   HTTP (`git http-backend` behind lighttpd, optionally behind basic auth);
//!   [`SshServer`] serves them over `ssh://` (OpenSSH `sshd`, keys through a real
//!   [`SshAgent`]); [`Remote`] bundles one repository with
//!   the server for a chosen [`Transport`].
//! - [`install_reject_hook`] makes a server refuse one ref, for atomic-push tests.
//! - [`Nix`] is an offline, private environment for running real Nix.
//!
//! Needs the Debian packages `git`, `lighttpd`, `openssh-client` and `openssh-server`
//! (and `nix-bin` for [`Nix`]).
#![deny(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod git;
pub mod nix;
pub mod remote;
pub mod server;

pub use git::{Git, TestRepo};
pub use nix::Nix;
pub use remote::{Remote, Transport};
pub use server::{
    BareRepo, GitDaemon, Hook, HttpServer, SshAgent, SshServer, current_user, install_reject_hook,
    ssh_keygen,
};
