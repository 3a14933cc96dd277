//! One bare repository behind a server of a chosen transport, for tests that run the
//! same scenario over `file://`, `git://` and `http://`.
//!
//! ```no_run
//! use eka_test_support::{Remote, Transport};
//!
//! for transport in Transport::ALL {
//!     let remote = Remote::start(transport);
//!     assert!(remote.url().starts_with(transport.scheme()));
//! }
//! ```

use std::{fmt, path::Path};

use tempfile::TempDir;

use crate::server::{BareRepo, GitDaemon, Hook, HttpServer};

/// A way to reach a git repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// `file://` (git's local transport: no server process).
    File,
    /// `git://` through `git daemon`.
    Git,
    /// `http://` through `git http-backend` behind lighttpd.
    Http,
}

impl Transport {
    /// Every transport, in a fixed order.
    pub const ALL: [Transport; 3] = [Transport::File, Transport::Git, Transport::Http];

    /// The URL scheme with `://`.
    pub fn scheme(self) -> &'static str {
        match self {
            Transport::File => "file://",
            Transport::Git => "git://",
            Transport::Http => "http://",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Transport::File => "file",
            Transport::Git => "git",
            Transport::Http => "http",
        })
    }
}

enum Server {
    None,
    Daemon(GitDaemon),
    Http(HttpServer),
}

/// A bare repository `set.git` served over one transport; the server stops on drop.
pub struct Remote {
    transport: Transport,
    repo: BareRepo,
    url: String,
    server: Server,
    _base: TempDir,
}

impl Remote {
    /// The name of the repository under the served directory.
    pub const NAME: &'static str = "set.git";

    /// Create an empty bare repository and serve it over `transport`.
    pub fn start(transport: Transport) -> Self {
        Self::start_with(transport, &[])
    }

    /// Like [`Remote::start`] with extra `git init` arguments for the bare repository.
    pub fn start_with(transport: Transport, init_args: &[&str]) -> Self {
        let base = tempfile::Builder::new()
            .prefix("eka-test-remote-")
            .tempdir()
            .expect("create a temporary directory for a remote");
        let repo = BareRepo::new_in_with(base.path(), Self::NAME, init_args);
        let (server, url) = match transport {
            Transport::File => (Server::None, repo.url()),
            Transport::Git => {
                let daemon = GitDaemon::start(base.path());
                let url = daemon.url(Self::NAME);
                (Server::Daemon(daemon), url)
            }
            Transport::Http => {
                let http = HttpServer::start(base.path());
                let url = http.url(Self::NAME);
                (Server::Http(http), url)
            }
        };
        Self {
            transport,
            repo,
            url,
            server,
            _base: base,
        }
    }

    /// The transport it is served over.
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The URL to fetch from and push to.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bare repository on disk (to inspect it directly).
    pub fn repo(&self) -> &BareRepo {
        &self.repo
    }

    /// The bare repository's directory.
    pub fn path(&self) -> &Path {
        self.repo.path()
    }

    /// Make the server refuse any update of `refname` (see [`crate::install_reject_hook`]).
    pub fn reject_ref(&self, hook: Hook, refname: &str) {
        self.repo.reject_ref(hook, refname);
    }

    /// What the server logged so far (empty for `file://`).
    pub fn log(&self) -> String {
        match &self.server {
            Server::None => String::new(),
            Server::Daemon(daemon) => daemon.log(),
            Server::Http(http) => http.log(),
        }
    }
}
