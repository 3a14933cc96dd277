//! An offline, private Nix environment for tests against real Nix (Debian `nix-bin`).
//!
//! [`Nix`] owns one temp dir holding a chroot store, fetcher cache, config and `HOME`.
//! Commands made by [`Nix::command`] use no substituters and no flake registry, ignore
//! the developer's `NIX_*` variables and git config, and read nothing from stdin; pass
//! `--store` [`Nix::store`] to keep `/nix/store` and any daemon out of it.
//!
//! ```no_run
//! let nix = eka_test_support::Nix::new();
//! let output = nix
//!     .command("nix-instantiate")
//!     .arg("--store")
//!     .arg(nix.store())
//!     .args(["--eval", "-E", "1 + 1"])
//!     .output()
//!     .expect(eka_test_support::nix::NIX_MISSING);
//! assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "2");
//! ```

use std::{
    path::PathBuf,
    process::{Command, Stdio},
    sync::OnceLock,
};

use tempfile::TempDir;

/// The panic message when the Nix binaries cannot be run.
pub const NIX_MISSING: &str = "these tests run real Nix, but `nix-hash`/`nix-instantiate`/\
     `nix-store`/`nix` could not be run: install the Debian package `nix-bin` \
     (`apt-get install -y nix-bin`)";

/// The offline `NIX_CONFIG` of [`Nix::command`]: no substituters, no flake registry, no
/// build users (root has no `nixbld` group on a bare machine).
pub const OFFLINE_CONFIG: &str =
    "substituters =\nflake-registry =\nexperimental-features =\nbuild-users-group =\n";

/// Environment variables that would point Nix at the developer's store, daemon or
/// config; [`Nix::command`] removes them.
pub const HOST_VARIABLES: [&str; 5] = [
    "NIX_REMOTE",
    "NIX_PATH",
    "NIX_STORE_DIR",
    "NIX_STATE_DIR",
    "NIX_CONF_DIR",
];

/// A private Nix environment: chroot store, fetcher cache, config and home in one temp
/// dir (removed on drop).
pub struct Nix {
    dir: TempDir,
}

impl Nix {
    /// A fresh environment; panics with [`NIX_MISSING`] when the Nix binaries are absent.
    pub fn new() -> Self {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        let available = *AVAILABLE.get_or_init(|| {
            ["nix-hash", "nix-instantiate", "nix-store", "nix"]
                .iter()
                .all(|program| {
                    Command::new(program)
                        .arg("--version")
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status()
                        .is_ok_and(|status| status.success())
                })
        });
        assert!(available, "{NIX_MISSING}");
        Nix {
            dir: tempfile::Builder::new()
                .prefix("eka-nix-")
                .tempdir()
                .unwrap(),
        }
    }

    /// The private chroot store (pass it as `--store`).
    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// `program` (a Nix binary) set up to run offline in this environment.
    pub fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        remove_host_variables(&mut command);
        let home = self.dir.path().join("home");
        command
            .env("HOME", &home)
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("NIX_CONFIG", OFFLINE_CONFIG)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdin(Stdio::null());
        command
    }
}

impl Default for Nix {
    fn default() -> Self {
        Self::new()
    }
}

/// Remove [`HOST_VARIABLES`] from `command`'s environment (for commands such as `eka`
/// that run Nix themselves).
pub fn remove_host_variables(command: &mut Command) {
    for variable in HOST_VARIABLES {
        command.env_remove(variable);
    }
}
