//! The one front door to the `git` binary: every git child of eka is spawned here.
//!
//! gix reads objects and lists refs; the git binary does what gix cannot (yet) do for eka:
//! fetch with filters and explicit negotiation ([`Repo::fetch`]), push atomically with
//! leases from a staging git directory ([`Repo::push_atomic`]), list refs over http ([`ls_remote`]) and create
//! repositories ([`Repo::init_bare`]).
//!
//! Every child runs with the same environment: the variables that would redirect git to
//! another repository or inject configuration (`GIT_DIR`, `GIT_WORK_TREE`,
//! `GIT_INDEX_FILE`, `GIT_OBJECT_DIRECTORY`, `GIT_ALTERNATE_OBJECT_DIRECTORIES`,
//! `GIT_NAMESPACE`, `GIT_CONFIG_PARAMETERS`, … see [`CLEARED_VARIABLES`]) are removed,
//! `GIT_TERMINAL_PROMPT=0`, an empty `GIT_ASKPASS` and `SSH_ASKPASS_REQUIRE=never` are
//! set and stdin is closed, so a remote asking for credentials nobody configured fails
//! instead of prompting or hanging. `HOME` and `SSH_AUTH_SOCK` are kept: credentials come
//! from git's credential helpers and the user's ssh agent, never from eka. Errors never
//! repeat a URL's password (see [`crate::uri::redact_credentials`]).
//!
//! Every child has a deadline ([`network_timeout`]: 30 s by default, or what the binary
//! set with [`set_network_timeout`] from `EKA_NET_TIMEOUT` or `[network] timeout` in
//! `eka.toml`): a child that prints nothing on stdout or stderr for that long is killed and
//! reported as [`Error::Timeout`] naming the URL. Fetches and pushes ask git for progress
//! so a slow but moving transfer keeps its deadline fresh; http(s) transfers also get
//! `http.lowSpeedLimit`/`http.lowSpeedTime`, so git's http helper gives up by itself.
//! stdout and stderr are read on their own threads, so a child never blocks on a full
//! pipe.
//!
//! ```
//! use atom::store::git;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let repo = git::Repo::init_bare(&dir.path().join("store.git")).unwrap();
//! let stdout = repo.run(&["rev-parse", "--is-bare-repository"]).unwrap();
//! assert_eq!(String::from_utf8_lossy(&stdout).trim(), "true");
//!
//! let error = repo.run(&["no-such-subcommand"]).unwrap_err();
//! assert!(error.to_string().starts_with("`git no-such-subcommand` failed: "));
//! ```

use std::{
    ffi::{OsStr, OsString},
    io::Read,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::Duration,
};

use gix::ObjectId;

use crate::{
    error::{Classify, Kind},
    uri::redact_credentials,
};

/// The environment variable giving the network deadline in seconds.
pub const TIMEOUT_VARIABLE: &str = "EKA_NET_TIMEOUT";

/// The deadline when nothing sets one, in seconds.
pub const DEFAULT_TIMEOUT_SECONDS: u64 = 30;

/// The deadline set by [`set_network_timeout`], in seconds (0: none set).
static CONFIGURED_TIMEOUT_SECONDS: AtomicU64 = AtomicU64::new(0);

/// Variables removed from every git child's environment: each would make git act on
/// another repository than the one eka names, or inject configuration.
pub const CLEARED_VARIABLES: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
    "GIT_REPLACE_REF_BASE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_PROTOCOL",
];

/// A git child failed, timed out or could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The binary could not be started.
    #[error("cannot run `{command}`")]
    Spawn {
        /// `git` and its subcommand.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A child talking to `url` printed nothing for `seconds` and was killed.
    #[error("`{command}` got no answer from `{url}` for {seconds} s and was stopped")]
    Timeout {
        /// `git` and its subcommand.
        command: String,
        /// The remote.
        url: String,
        /// The deadline.
        seconds: u64,
    },
    /// A child talking to `url` exited with a failure.
    #[error("`{command}` on `{url}` failed: {stderr}")]
    Remote {
        /// `git` and its subcommand.
        command: String,
        /// The remote.
        url: String,
        /// The local repository, if any.
        repo: Option<PathBuf>,
        /// What git printed on stderr (progress removed), trimmed.
        stderr: String,
    },
    /// A local child (no remote) exited with a failure.
    #[error("`{command}` failed: {stderr}")]
    Local {
        /// `git` and its subcommand.
        command: String,
        /// The repository or directory it ran in, if any.
        repo: Option<PathBuf>,
        /// What git printed on stderr, trimmed.
        stderr: String,
    },
}

impl Error {
    /// What went wrong without naming the command: git's stderr, the deadline, or why
    /// git could not start.
    pub fn detail(&self) -> String {
        match self {
            Error::Spawn { source, .. } => format!("cannot run `git`: {source}"),
            Error::Timeout { seconds, .. } => {
                format!("got no answer for {seconds} s and was stopped")
            }
            Error::Remote { stderr, .. } | Error::Local { stderr, .. } => stderr.clone(),
        }
    }

    /// Whether the remote answered that the repository does not exist or may not be read
    /// (git's words for `file://`, `git://`, `ssh://` and smart or dumb `http(s)://`).
    pub fn is_missing_repository(&self) -> bool {
        let Error::Remote { stderr, .. } = self else {
            return false;
        };
        let stderr = stderr.to_lowercase();
        stderr.contains("does not appear to be a git repository")
            || stderr.contains("repository not found")
            || stderr.contains("no such repository")
            || stderr.contains("repository not exported")
            || (stderr.contains("repository '") && stderr.contains("' not found"))
    }

    /// Whether the remote wanted credentials that were missing or wrong (git's words for
    /// http basic auth, ssh's for a refused key or an unknown host key).
    pub fn is_authentication_failure(&self) -> bool {
        let Error::Remote { stderr, .. } = self else {
            return false;
        };
        const FAILURES: &[&str] = &[
            "could not read username",
            "could not read password",
            "authentication failed",
            "permission denied (publickey",
            "host key verification failed",
        ];
        let stderr = stderr.to_lowercase();
        FAILURES.iter().any(|failure| stderr.contains(failure))
    }

    /// Whether the remote answered and refused: the repository or an object it was asked
    /// for does not exist there (the URL or the server's data is wrong, not the
    /// connection).
    pub fn is_refused_by_remote(&self) -> bool {
        let Error::Remote { stderr, .. } = self else {
            return false;
        };
        const REFUSALS: &[&str] = &[
            "does not appear to be a git repository",
            "repository not found",
            "not our ref",
            "no such remote ref",
            "couldn't find remote ref",
            "not found: did you run git update-server-info",
        ];
        let stderr = stderr.to_lowercase();
        REFUSALS.iter().any(|refusal| stderr.contains(refusal))
    }
}

impl Classify for Error {
    /// Always the environment: spawn failures, timeouts, unreachable remotes, failing
    /// local commands, and remotes that refuse (a repository or object missing on the
    /// server is the server's state, which eka cannot tell from a moved or broken
    /// mirror; callers that know better, like a check comparing a lock with a mirror,
    /// decide on their own). A refusal gets a hint to check the URL.
    fn kind(&self) -> Kind {
        Kind::Environment
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Timeout { .. } => Some(timeout_hint()),
            Error::Remote { .. } if self.is_authentication_failure() => Some(
                "eka never asks for credentials: configure a git credential helper \
                 (http/https) or load your key into `ssh-agent` (ssh)"
                    .to_owned(),
            ),
            Error::Remote { .. } if self.is_refused_by_remote() => {
                Some("check the URL and that the server still publishes it".to_owned())
            }
            _ => None,
        }
    }
}

/// The hint of every network timeout: the three places that raise the deadline.
pub fn timeout_hint() -> String {
    format!(
        "check your connection, or raise the deadline with `--timeout <seconds>`, \
         `{TIMEOUT_VARIABLE}=<seconds>` or `[network] timeout = <seconds>` in `eka.toml`"
    )
}

/// Set the deadline of every later network operation of this process (the binary calls
/// it once with the configured value, [`crate::config::Config::network_timeout`]). A
/// zero duration is ignored; durations are counted in whole seconds, at least one.
pub fn set_network_timeout(deadline: Duration) {
    let seconds = deadline
        .as_secs()
        .saturating_add(u64::from(deadline.subsec_nanos() > 0));
    if seconds > 0 {
        CONFIGURED_TIMEOUT_SECONDS.store(seconds, Ordering::Relaxed);
    }
}

/// The deadline of every git child and ref listing: the one given to
/// [`set_network_timeout`]; else `EKA_NET_TIMEOUT` seconds when it is a positive integer
/// (an embedder that loaded no configuration); else [`DEFAULT_TIMEOUT_SECONDS`].
pub fn network_timeout() -> Duration {
    let configured = CONFIGURED_TIMEOUT_SECONDS.load(Ordering::Relaxed);
    let seconds = if configured > 0 {
        configured
    } else {
        std::env::var(TIMEOUT_VARIABLE)
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .filter(|seconds| *seconds > 0)
            .unwrap_or(DEFAULT_TIMEOUT_SECONDS)
    };
    Duration::from_secs(seconds)
}

/// How much of each wanted commit a [`Repo::fetch`] brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// Commits and blobs named directly, no trees (`--filter=tree:0`): discovery.
    TreeLess,
    /// Everything reachable, even when some of it (a tree-less commit) is already
    /// present: negotiation is skipped (`--refetch`) and no remembered partial-clone
    /// filter applies (`--no-filter`), so the server sends the trees.
    Full,
    /// Everything reachable, negotiating with what is present (ordinary fetch).
    Incremental,
}

/// What a [`Repo::fetch`] asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchSpec {
    /// The refspecs (`<src>:<dst>`, `<id>:<dst>` or a ref name).
    pub refspecs: Vec<String>,
    /// How much to bring.
    pub depth: Depth,
}

impl FetchSpec {
    /// Fetch `ids` by object id, each kept under `<namespace><id>` (e.g. `refs/cache/`).
    pub fn objects(ids: &[ObjectId], namespace: &str, depth: Depth) -> FetchSpec {
        FetchSpec {
            refspecs: ids
                .iter()
                .map(|id| format!("{id}:{namespace}{id}"))
                .collect(),
            depth,
        }
    }
}

/// A lease of an atomic push: the ref may only change if it has this value now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushLease<'a> {
    /// The full ref name on the remote.
    pub name: &'a str,
    /// The value it must have now.
    pub expected: ObjectId,
}

/// One atomic push ([`Repo::push_atomic`]): what to push from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest<'a> {
    /// The git directory whose refs are pushed (`--git-dir`); the push still runs in
    /// this repository's directory, so a relative URL keeps its meaning.
    pub source: &'a Path,
    /// The refspecs (never forced: no leading `+`).
    pub refspecs: &'a [String],
    /// Refs that may be moved from a known value; every other ref the refspecs name
    /// must not exist on the remote.
    pub leases: &'a [PushLease<'a>],
}

/// What `git push --porcelain` reported, whatever its exit status.
#[derive(Debug, Clone)]
pub struct PushReport {
    /// Whether git exited successfully.
    pub success: bool,
    /// The porcelain lines.
    pub stdout: String,
    /// What git printed on stderr (progress removed), trimmed.
    pub stderr: String,
}

/// A local repository the git binary works on (bare or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repo {
    path: PathBuf,
    deadline: Option<Duration>,
}

impl Repo {
    /// The repository at `path` (not checked: git reports a missing one when used).
    pub fn open(path: &Path) -> Repo {
        Repo {
            path: path.to_path_buf(),
            deadline: None,
        }
    }

    /// The same repository with its own deadline instead of [`network_timeout`].
    pub fn with_deadline(mut self, deadline: Duration) -> Repo {
        self.deadline = Some(deadline);
        self
    }

    fn deadline(&self) -> Duration {
        self.deadline.unwrap_or_else(network_timeout)
    }

    /// Create a bare repository at `path` with automatic gc off (objects are only ever
    /// added).
    pub fn init_bare(path: &Path) -> Result<Repo, Error> {
        let mut arguments: Vec<OsString> = vec!["init".into(), "-q".into(), "--bare".into()];
        arguments.push(path.as_os_str().to_owned());
        let context = Context::local(&arguments, None);
        execute(
            git_command(None, None, &arguments, None),
            &context,
            network_timeout(),
        )?
        .into_success(&context, network_timeout())?;
        let repo = Repo::open(path);
        repo.run(&["config", "gc.auto", "0"])?;
        Ok(repo)
    }

    /// The repository's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run a local `git <args>` in the repository; its stdout on success.
    pub fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Vec<u8>, Error> {
        let arguments: Vec<OsString> = args.iter().map(|arg| arg.as_ref().to_owned()).collect();
        let context = Context::local(&arguments, Some(&self.path));
        execute(
            git_command(Some(&self.path), None, &arguments, None),
            &context,
            self.deadline(),
        )?
        .into_success(&context, self.deadline())
    }

    /// Fetch `spec` from `url` into the repository, never tags, never FETCH_HEAD.
    pub fn fetch(&self, url: &str, spec: &FetchSpec) -> Result<(), Error> {
        let mut arguments: Vec<OsString> = [
            "fetch",
            "--progress",
            "--no-tags",
            "--no-write-fetch-head",
            "--no-auto-gc",
        ]
        .map(OsString::from)
        .to_vec();
        match spec.depth {
            Depth::TreeLess => arguments.push("--filter=tree:0".into()),
            Depth::Full => {
                // `--no-filter`: a store that once fetched tree-less from this URL
                // remembers the filter as the URL's default; `--refetch`: skip
                // negotiation, or the server hears "have <commit>" and sends no trees.
                arguments.push("--refetch".into());
                arguments.push("--no-filter".into());
            }
            Depth::Incremental => {}
        }
        arguments.push("--".into());
        arguments.push(url.into());
        arguments.extend(spec.refspecs.iter().map(OsString::from));
        let context = Context::remote(&arguments, url, Some(&self.path));
        execute(
            git_command(
                Some(&self.path),
                Some(url),
                &arguments,
                Some(self.deadline()),
            ),
            &context,
            self.deadline(),
        )?
        .into_success(&context, self.deadline())
        .map(drop)
    }

    /// Push `request` to `url` in one `git push --atomic --porcelain --force-with-lease`:
    /// the bare `--force-with-lease` makes every pushed ref "must not exist" (a URL has no
    /// remote-tracking refs), except those given an explicit lease. The leases are
    /// checked against the advertised refs in linear time, and the server checks the
    /// same old values under its ref lock. The report is returned whatever git's exit
    /// status (the caller reads the per-ref lines).
    pub fn push_atomic(&self, url: &str, request: &PushRequest<'_>) -> Result<PushReport, Error> {
        let mut git_dir = OsString::from("--git-dir=");
        git_dir.push(request.source);
        let mut arguments: Vec<OsString> = vec![git_dir];
        arguments.extend(
            [
                "push",
                "--atomic",
                "--porcelain",
                "--progress",
                "--force-with-lease",
            ]
            .map(OsString::from),
        );
        for lease in request.leases {
            arguments.push(format!("--force-with-lease={}:{}", lease.name, lease.expected).into());
        }
        arguments.push(url.into());
        arguments.extend(request.refspecs.iter().map(OsString::from));
        let context = Context::remote(&arguments, url, Some(&self.path));
        let output = execute(
            git_command(
                Some(&self.path),
                Some(url),
                &arguments,
                Some(self.deadline()),
            ),
            &context,
            self.deadline(),
        )?;
        Ok(PushReport {
            success: output.status.success(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: clean_stderr(&output.stderr),
        })
    }
}

/// `git ls-remote --refs <url> <patterns…>`: its stdout (`<id>\t<ref>` lines).
pub fn ls_remote(url: &str, patterns: &[String]) -> Result<Vec<u8>, Error> {
    let mut arguments: Vec<OsString> = vec!["ls-remote".into(), "--refs".into(), url.into()];
    arguments.extend(patterns.iter().map(OsString::from));
    let context = Context::remote(&arguments, url, None);
    let deadline = network_timeout();
    execute(
        git_command(None, Some(url), &arguments, Some(deadline)),
        &context,
        deadline,
    )?
    .into_success(&context, deadline)
}

/// Who a child is, for its errors.
struct Context {
    command: String,
    url: Option<String>,
    repo: Option<PathBuf>,
}

impl Context {
    fn local(arguments: &[OsString], repo: Option<&Path>) -> Context {
        Context {
            command: command_name(arguments),
            url: None,
            repo: repo.map(Path::to_path_buf),
        }
    }

    fn remote(arguments: &[OsString], url: &str, repo: Option<&Path>) -> Context {
        Context {
            command: command_name(arguments),
            url: Some(redact_credentials(url)),
            repo: repo.map(Path::to_path_buf),
        }
    }
}

/// What git's http helper says when its low-speed limit or a connect timeout ends a
/// transfer.
const TIMED_OUT: &[&str] = &[
    "Operation too slow",
    "Operation timed out",
    "Connection timed out",
];

/// What a finished child left.
struct Finished {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Finished {
    fn into_success(self, context: &Context, deadline: Duration) -> Result<Vec<u8>, Error> {
        if self.status.success() {
            return Ok(self.stdout);
        }
        let stderr = clean_stderr(&self.stderr);
        if let Some(url) = &context.url
            && TIMED_OUT.iter().any(|text| stderr.contains(text))
        {
            // git's http helper gave up by itself (`http.lowSpeedTime`): the same deadline.
            return Err(Error::Timeout {
                command: context.command.clone(),
                url: url.clone(),
                seconds: deadline.as_secs(),
            });
        }
        let stderr = if stderr.is_empty() {
            format!("git exited with {}", self.status)
        } else {
            stderr
        };
        Err(match &context.url {
            Some(url) => Error::Remote {
                command: context.command.clone(),
                url: url.clone(),
                repo: context.repo.clone(),
                stderr,
            },
            None => Error::Local {
                command: context.command.clone(),
                repo: context.repo.clone(),
                stderr,
            },
        })
    }
}

/// The one place a git [`Command`] is made: environment, stdin, per-URL options.
fn git_command(
    dir: Option<&Path>,
    url: Option<&str>,
    arguments: &[OsString],
    deadline: Option<Duration>,
) -> Command {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    for variable in CLEARED_VARIABLES {
        command.env_remove(variable);
    }
    // Never prompt: git's own credential prompts are off (`GIT_TERMINAL_PROMPT=0`), an
    // empty `GIT_ASKPASS` wins over `core.askPass` and `SSH_ASKPASS` so git runs no askpass
    // program either, and ssh never runs one (`SSH_ASKPASS_REQUIRE=never`); with stdin
    // closed, a remote that wants credentials nobody configured fails at once. What
    // private remotes need is deliberately kept: `HOME` (git's credential helpers and
    // `~/.git-credentials`, the ssh configuration) and `SSH_AUTH_SOCK` (the ssh agent).
    command
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "")
        .env("SSH_ASKPASS_REQUIRE", "never");
    if url.is_some_and(is_http) {
        let seconds = deadline.unwrap_or_else(network_timeout).as_secs().max(1);
        command.args([
            "-c".to_owned(),
            "http.lowSpeedLimit=1000".to_owned(),
            "-c".to_owned(),
            format!("http.lowSpeedTime={seconds}"),
        ]);
    }
    command
        .args(arguments)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn is_http(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Spawn `command`, read its pipes on threads, and kill it when it stays silent past the
/// deadline.
fn execute(mut command: Command, context: &Context, deadline: Duration) -> Result<Finished, Error> {
    let mut child = command.spawn().map_err(|source| Error::Spawn {
        command: context.command.clone(),
        source,
    })?;
    let (activity, signals) = mpsc::channel::<()>();
    let stdout = child
        .stdout
        .take()
        .map(|pipe| read_pipe(pipe, activity.clone()));
    let stderr = child
        .stderr
        .take()
        .map(|pipe| read_pipe(pipe, activity.clone()));
    drop(activity);
    loop {
        match signals.recv_timeout(deadline) {
            Ok(()) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(stop(&mut child, context, deadline));
            }
        }
    }
    let status = child.wait().map_err(|source| Error::Spawn {
        command: context.command.clone(),
        source,
    })?;
    Ok(Finished {
        status,
        stdout: stdout.map(join_reader).unwrap_or_default(),
        stderr: stderr.map(join_reader).unwrap_or_default(),
    })
}

/// Kill a silent child. Its reader threads are left to end when the pipes close (a
/// helper git started, like `git-remote-http`, may hold them a little longer; its own
/// low-speed limit ends it).
fn stop(child: &mut Child, context: &Context, deadline: Duration) -> Error {
    let _ = child.kill();
    let _ = child.wait();
    Error::Timeout {
        command: context.command.clone(),
        url: context
            .url
            .clone()
            .or_else(|| context.repo.as_ref().map(|path| path.display().to_string()))
            .unwrap_or_else(|| "the local repository".to_owned()),
        seconds: deadline.as_secs(),
    }
}

fn read_pipe(
    mut pipe: impl Read + Send + 'static,
    activity: mpsc::Sender<()>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut collected = Vec::new();
        let mut buffer = [0u8; 8192];
        loop {
            match pipe.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    collected.extend_from_slice(&buffer[..read]);
                    let _ = activity.send(());
                }
            }
        }
        collected
    })
}

fn join_reader(handle: std::thread::JoinHandle<Vec<u8>>) -> Vec<u8> {
    handle.join().unwrap_or_default()
}

/// git's stderr without progress meters (lines rewritten with `\r`, counting lines) and
/// without the password of any URL it repeats ([`redact_credentials`]), trimmed.
fn clean_stderr(stderr: &[u8]) -> String {
    const PROGRESS: &[&str] = &[
        "Enumerating objects",
        "Counting objects",
        "Compressing objects",
        "Receiving objects",
        "Resolving deltas",
        "Writing objects",
        "Total ",
        "Delta compression",
        "Unpacking objects",
    ];
    let text = redact_credentials(&String::from_utf8_lossy(stderr));
    text.split(['\n', '\r'])
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
        .filter(|line| {
            let body = line.strip_prefix("remote: ").unwrap_or(line);
            !PROGRESS.iter().any(|progress| body.starts_with(progress))
        })
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// `git <subcommand>`: the first argument that is not an option.
fn command_name(arguments: &[OsString]) -> String {
    match arguments
        .iter()
        .map(|arg| arg.to_string_lossy())
        .find(|arg| !arg.starts_with('-'))
    {
        Some(subcommand) => format!("git {subcommand}"),
        None => "git".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(arguments: &[&str]) -> Vec<OsString> {
        arguments.iter().map(OsString::from).collect()
    }

    #[test]
    fn command_names_skip_options() {
        assert_eq!(
            command_name(&os(&["--git-dir=/x", "fetch", "-q"])),
            "git fetch"
        );
        assert_eq!(command_name(&os(&["--version"])), "git");
    }

    #[test]
    fn failures_carry_trimmed_stderr_and_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        let error = Repo::open(dir.path())
            .run(&["rev-parse", "HEAD"])
            .unwrap_err();
        let Error::Local {
            command,
            repo,
            stderr,
        } = &error
        else {
            panic!("{error:?}");
        };
        assert_eq!(command, "git rev-parse");
        assert_eq!(repo.as_deref(), Some(dir.path()));
        assert!(stderr.contains("not a git repository"), "{stderr}");
        assert_eq!(stderr.trim(), stderr);
        assert_eq!(error.detail(), *stderr);
        assert_eq!(error.kind(), Kind::Environment);
    }

    #[test]
    fn progress_is_removed_from_stderr() {
        let stderr = b"remote: Enumerating objects: 3, done.\nReceiving objects:  50% (1/2)\rReceiving objects: 100% (2/2), done.\nfatal: bad thing\n";
        assert_eq!(clean_stderr(stderr), "fatal: bad thing");
    }

    #[test]
    fn errors_never_repeat_a_password() {
        let stderr = b"fatal: unable to access 'http://user:secret@127.0.0.1:9/set.git/': boom\n";
        assert_eq!(
            clean_stderr(stderr),
            "fatal: unable to access 'http://user:***@127.0.0.1:9/set.git/': boom"
        );
        let context = Context::remote(
            &os(&["ls-remote"]),
            "http://user:secret@127.0.0.1:9/set.git",
            None,
        );
        let error = Finished {
            status: failed_status(),
            stdout: Vec::new(),
            stderr: stderr.to_vec(),
        }
        .into_success(&context, Duration::from_secs(1))
        .unwrap_err();
        let message = error.to_string();
        assert!(!message.contains("secret"), "{message}");
        assert!(
            message.contains("`http://user:***@127.0.0.1:9/set.git`"),
            "{message}"
        );
    }

    #[test]
    fn missing_credentials_get_a_hint_naming_where_they_come_from() {
        let remote = |stderr: &str| Error::Remote {
            command: "git ls-remote".to_owned(),
            url: "ssh://git@h/x".to_owned(),
            repo: None,
            stderr: stderr.to_owned(),
        };
        for stderr in [
            "fatal: could not read Username for 'http://h': terminal prompts disabled",
            "fatal: Authentication failed for 'http://h/x/'",
            "git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.",
        ] {
            let error = remote(stderr);
            assert!(error.is_authentication_failure(), "{stderr}");
            let hint = error.hint().unwrap_or_default();
            assert!(hint.contains("credential helper"), "{hint}");
            assert!(hint.contains("ssh-agent"), "{hint}");
        }
        let error = remote("fatal: unable to access 'http://h/x/': Connection refused");
        assert!(!error.is_authentication_failure());
        assert!(error.hint().is_none());
    }

    fn failed_status() -> ExitStatus {
        std::process::Command::new("git")
            .arg("no-such-subcommand")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
    }

    #[test]
    fn children_never_prompt_and_keep_what_credentials_need() {
        let command = git_command(None, Some("ssh://git@h/x"), &os(&["ls-remote"]), None);
        let set: Vec<(String, Option<String>)> = command
            .get_envs()
            .map(|(name, value)| {
                (
                    name.to_string_lossy().into_owned(),
                    value.map(|value| value.to_string_lossy().into_owned()),
                )
            })
            .collect();
        for (name, value) in [
            ("GIT_TERMINAL_PROMPT", "0"),
            ("GIT_ASKPASS", ""),
            ("SSH_ASKPASS_REQUIRE", "never"),
        ] {
            assert!(
                set.contains(&(name.to_owned(), Some(value.to_owned()))),
                "{name}: {set:?}"
            );
        }
        for kept in ["HOME", "SSH_AUTH_SOCK", "XDG_CONFIG_HOME"] {
            assert!(
                !set.iter().any(|(name, _)| name == kept),
                "{kept} must reach git unchanged: {set:?}"
            );
            assert!(!CLEARED_VARIABLES.contains(&kept));
        }
    }

    #[test]
    fn a_missing_remote_repository_is_refused_by_the_remote() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::init_bare(&dir.path().join("local.git")).unwrap();
        let url = format!("file://{}", dir.path().join("absent.git").display());
        let error = repo
            .fetch(&url, &FetchSpec::objects(&[], "refs/cache/", Depth::Full))
            .unwrap_err();
        assert!(matches!(&error, Error::Remote { url: named, .. } if *named == url));
        assert!(error.is_refused_by_remote(), "{error}");
        assert_eq!(error.kind(), Kind::Environment);
        assert!(error.hint().is_some_and(|hint| hint.contains("URL")));
    }
}
