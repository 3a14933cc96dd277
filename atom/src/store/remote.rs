//! Listing a remote set's atom refs without cloning it.
//!
//! `git://` is spoken natively with gix, using protocol v2 `ls-refs`
//! with one `ref-prefix` per label, so the server sends back only those atoms' refs.
//! `http(s)://` is delegated to `git ls-remote` (through the [`super::git`] front door)
//! because this build of gix has no HTTP transport compiled in; so is `ssh://`, so that
//! listing reaches a private registry through the same ssh configuration as fetching
//! (`core.sshCommand`, `GIT_SSH_COMMAND`, which gix's transport ignores); so is `file://`, because
//! gix would start `git-upload-pack` itself with eka's environment, which the front door
//! cleans. `git ls-remote` sends the same prefixes. Either way the result is filtered again on the
//! client, so a server that ignores prefixes (protocol v1) gives the same answer.
//!
//! A network listing has the same deadline as every git child
//! ([`super::git::network_timeout`]); gix's blocking transport has none of its own, so
//! it runs on a thread that is given up on when the deadline passes.
//!
//! A local repository using the reftable ref format is refused: gix would silently
//! report zero refs for it.

use std::path::PathBuf;

use gix::{
    ObjectId,
    bstr::ByteSlice,
    protocol::{
        handshake::Ref,
        transport::{Protocol, Service, client::blocking_io::connect},
    },
};

use crate::{
    Label,
    error::{Classify, Kind},
    store::refs::{ATOMS_PREFIX, atom_prefix},
};

/// Why a remote's refs could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL could not be parsed.
    #[error("cannot parse remote URL `{url}`")]
    Url {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The local repository uses reftable, which gix cannot list.
    #[error("repository `{path}` uses the reftable ref format, which eka cannot read yet")]
    Reftable {
        /// The repository's directory.
        path: PathBuf,
        /// What to do.
        hint: &'static str,
    },
    /// The server answered that the repository does not exist or may not be read.
    #[error("repository `{url}` does not exist or is not readable")]
    NotFound {
        /// The URL.
        url: String,
    },
    /// Connecting or talking to the remote failed.
    #[error("cannot list refs of `{url}`")]
    Protocol {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `git ls-remote` could not be run, failed or timed out.
    #[error("`git ls-remote {url}` failed: {}", error.detail())]
    LsRemote {
        /// The URL.
        url: String,
        /// What went wrong.
        error: Box<super::git::Error>,
    },
    /// The server did not answer the listing in time.
    #[error("listing refs of `{url}` got no answer for {seconds} s and was stopped")]
    Timeout {
        /// The URL.
        url: String,
        /// The deadline.
        seconds: u64,
    },
    /// The gix connection thread ended without an answer (it panicked).
    #[error("listing refs of `{url}` stopped unexpectedly")]
    Stopped {
        /// The URL.
        url: String,
    },
    /// `git ls-remote` printed a line that is not `<id>\t<ref>`.
    #[error("`git ls-remote {url}` printed an unexpected line `{line}`")]
    LsRemoteOutput {
        /// The URL.
        url: String,
        /// The line.
        line: String,
    },
}

impl Error {
    /// Whether the listing failed because its deadline passed (over gix or `git
    /// ls-remote`).
    pub fn is_timeout(&self) -> bool {
        match self {
            Error::Timeout { .. } => true,
            Error::LsRemote { error, .. } => matches!(**error, super::git::Error::Timeout { .. }),
            _ => false,
        }
    }

    /// Whether the server answered that the repository does not exist or is not readable.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// Whether the remote wanted credentials that were missing or wrong.
    pub fn is_authentication_failure(&self) -> bool {
        matches!(self, Error::LsRemote { error, .. } if error.is_authentication_failure())
    }
}

impl Classify for Error {
    /// A URL that does not parse is the user's input; everything else (a connection,
    /// a server, a repository eka cannot read) is the environment.
    fn kind(&self) -> Kind {
        match self {
            Error::Url { .. } => Kind::Input,
            Error::Reftable { .. }
            | Error::LsRemoteOutput { .. }
            | Error::Protocol { .. }
            | Error::NotFound { .. }
            | Error::Timeout { .. }
            | Error::Stopped { .. } => Kind::Environment,
            Error::LsRemote { error, .. } => error.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Reftable { hint, .. } => Some((*hint).to_owned()),
            Error::LsRemote { error, .. } => error.hint(),
            Error::Timeout { .. } => Some(super::git::timeout_hint()),
            Error::NotFound { .. } => Some(NOT_FOUND_HINT.to_owned()),
            _ => None,
        }
    }
}

/// The hint of a repository that does not exist or is not readable.
pub const NOT_FOUND_HINT: &str = "check the URL, and that you have access to the repository";

/// List `refs/eka/atoms/…` of the repository at `url`, for the given labels only (all
/// atoms when `labels` is `None`), sorted by ref name.
pub fn list_atom_refs(
    url: &str,
    labels: Option<&[Label]>,
) -> Result<Vec<(String, ObjectId)>, Error> {
    let prefixes: Vec<String> = match labels {
        None => vec![ATOMS_PREFIX.to_owned()],
        Some(labels) => labels.iter().map(atom_prefix).collect(),
    };
    list_refs(url, &prefixes)
}

/// List the refs of the repository at `url` whose names start with one of `prefixes`
/// (direct refs only; symbolic and unborn refs are skipped), sorted by ref name.
/// An empty `prefixes` lists nothing.
pub fn list_refs(url: &str, prefixes: &[String]) -> Result<Vec<(String, ObjectId)>, Error> {
    if prefixes.is_empty() {
        return Ok(Vec::new());
    }
    let parsed = gix::url::parse(url.as_bytes().as_bstr()).map_err(|source| Error::Url {
        url: url.to_owned(),
        source: source.into(),
    })?;
    let mut refs = match parsed.scheme {
        // ssh goes through git too, so listing uses the same ssh as fetching and pushing:
        // gix's own ssh transport ignores `core.sshCommand`, `GIT_SSH_COMMAND` and
        // `ssh.variant`, which private registries are commonly reached through.
        gix::url::Scheme::Http | gix::url::Scheme::Https | gix::url::Scheme::Ssh => {
            ls_remote(url, prefixes)?
        }
        gix::url::Scheme::File => {
            refuse_reftable(&parsed.path.to_path_lossy())?;
            if environment_is_clean() {
                // gix sends the prefixes as protocol v2 `ref-prefix`, so the server
                // reads only the matching refs; `git ls-remote` filters on the client
                // after receiving every ref (2x slower on a 60,000-ref registry).
                ls_refs_with_deadline(url, parsed, prefixes)?
            } else {
                // gix would start `git-upload-pack` with eka's own environment, where a
                // caller's `GIT_DIR` (a git hook's) would redirect it; the front door
                // clears it.
                ls_remote(url, prefixes)?
            }
        }
        _ => ls_refs_with_deadline(url, parsed, prefixes)?,
    };
    refs.retain(|(name, _)| {
        prefixes
            .iter()
            .any(|prefix| name.starts_with(prefix.as_str()))
    });
    refs.sort();
    refs.dedup();
    Ok(refs)
}

/// Whether none of the variables the git front door clears is set in eka's environment,
/// so a git process gix starts itself acts on the repository eka names.
fn environment_is_clean() -> bool {
    super::git::CLEARED_VARIABLES
        .iter()
        .all(|variable| std::env::var_os(variable).is_none())
}

fn refuse_reftable(path: &std::path::Path) -> Result<(), Error> {
    let candidates = [path.to_owned(), path.join(".git")];
    for git_dir in candidates {
        let uses_reftable = git_dir.join("reftable").is_dir()
            || std::fs::read_to_string(git_dir.join("config")).is_ok_and(|config| {
                config
                    .lines()
                    .map(|line| line.split_whitespace().collect::<String>().to_lowercase())
                    .any(|line| line == "refstorage=reftable")
            });
        if uses_reftable {
            return Err(Error::Reftable {
                path: git_dir,
                hint: "convert it with `git refs migrate --ref-format=files`",
            });
        }
    }
    Ok(())
}

/// [`ls_refs`] on its own thread, given up after the network deadline: gix's blocking
/// transport has no timeout of its own. A thread given up on ends when its socket does.
fn ls_refs_with_deadline(
    url: &str,
    parsed: gix::Url,
    prefixes: &[String],
) -> Result<Vec<(String, ObjectId)>, Error> {
    let (sender, receiver) = std::sync::mpsc::channel();
    let owned_url = url.to_owned();
    let owned_prefixes = prefixes.to_vec();
    std::thread::spawn(move || {
        let _ = sender.send(ls_refs(&owned_url, parsed, &owned_prefixes));
    });
    let deadline = super::git::network_timeout();
    match receiver.recv_timeout(deadline) {
        Ok(result) => result,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err(Error::Timeout {
            url: url.to_owned(),
            seconds: deadline.as_secs(),
        }),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err(Error::Stopped {
            url: url.to_owned(),
        }),
    }
}

fn ls_refs(
    url: &str,
    parsed: gix::Url,
    prefixes: &[String],
) -> Result<Vec<(String, ObjectId)>, Error> {
    let protocol_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Protocol {
        url: url.to_owned(),
        source,
    };
    let options = connect::Options {
        version: Protocol::V2,
        ..Default::default()
    };
    let mut transport =
        connect::connect(parsed, options).map_err(|error| protocol_error(error.into()))?;
    let mut progress = gix::progress::Discard;
    let handshake = gix::protocol::handshake(
        &mut transport,
        Service::UploadPack,
        // No credentials: listing public atoms needs none; a prompt would hang scripts.
        |_action| Ok(None),
        Vec::new(),
        &mut progress,
    )
    .map_err(|error| {
        if closed_or_refused(&error) {
            Error::NotFound {
                url: url.to_owned(),
            }
        } else {
            protocol_error(error.into())
        }
    })?;
    let refs = match handshake.refs {
        // Protocol v0/v1: the server advertised everything up front.
        Some(refs) => refs,
        None => {
            let mut ref_prefixes = gix::protocol::ls_refs::RefPrefixes::new();
            ref_prefixes.extend(prefixes.iter().map(|prefix| prefix.as_str().into()));
            let agent = ("agent", Some(format!("eka/{}", env!("CARGO_PKG_VERSION"))));
            gix::protocol::LsRefsCommand::new(Some(ref_prefixes), &handshake.capabilities, agent)
                .invoke_blocking(&mut transport, &mut progress, false)
                .map_err(|error| protocol_error(error.into()))?
        }
    };
    // Tell the server we are done (best effort: the listing is complete either way).
    let _ = gix::protocol::indicate_end_of_interaction(&mut transport, false);
    Ok(refs
        .into_iter()
        .filter_map(|reference| match reference {
            Ref::Direct {
                full_ref_name,
                object,
            } => Some((full_ref_name.to_str_lossy().into_owned(), object)),
            // A ref to an annotated tag names the tag object, not the commit it peels to
            // (as `git ls-remote` lists it).
            Ref::Peeled {
                full_ref_name, tag, ..
            } => Some((full_ref_name.to_str_lossy().into_owned(), tag)),
            Ref::Symbolic { .. } | Ref::Unborn { .. } => None,
        })
        .collect())
}

/// Whether a failed handshake means the server has no such repository for us: `git
/// daemon` says so with `--informative-errors` and otherwise closes the connection
/// without a word (read as an unexpected end of file).
fn closed_or_refused(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        let closed = current
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::UnexpectedEof);
        let text = current.to_string().to_lowercase();
        if closed || text.contains("no such repository") || text.contains("repository not exported")
        {
            return true;
        }
        cause = current.source();
    }
    false
}

fn ls_remote(url: &str, prefixes: &[String]) -> Result<Vec<(String, ObjectId)>, Error> {
    let patterns: Vec<String> = prefixes.iter().map(|prefix| format!("{prefix}*")).collect();
    let stdout = super::git::ls_remote(url, &patterns).map_err(|error| {
        if error.is_missing_repository() {
            Error::NotFound {
                url: url.to_owned(),
            }
        } else {
            Error::LsRemote {
                url: url.to_owned(),
                error: Box::new(error),
            }
        }
    })?;
    String::from_utf8_lossy(&stdout)
        .lines()
        .map(|line| {
            line.split_once('\t')
                .and_then(|(id, name)| {
                    ObjectId::from_hex(id.as_bytes())
                        .ok()
                        .map(|id| (name.to_owned(), id))
                })
                .ok_or_else(|| Error::LsRemoteOutput {
                    url: url.to_owned(),
                    line: line.to_owned(),
                })
        })
        .collect()
}
