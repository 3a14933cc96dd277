//! Real git servers on loopback: bare repositories over `file://`, `git daemon` over
//! `git://`, smart HTTP (`git http-backend` behind lighttpd, optionally requiring basic
//! auth) over `http://`, and OpenSSH's `sshd` over `ssh://` (with [`SshAgent`], a real
//! `ssh-agent`, holding the client's key). Static files over `https://` with a
//! certificate authority made per test run: [`HttpsFileServer`], [`TestCa`]; and over
//! plain `http://` (a Nix binary cache, say): [`HttpFileServer`].
//!
//! Every server listens on `127.0.0.1` on a free port, is started in its own process
//! group and killed (whole group) when its handle is dropped. Readiness is the server's
//! own "listening" log line followed by a successful TCP connection, both under a
//! deadline; a port taken between choosing and binding is retried on another port.
//!
//! ```no_run
//! use eka_test_support::{BareRepo, GitDaemon};
//!
//! let base = tempfile::tempdir().unwrap();
//! let repo = BareRepo::new_in(base.path(), "set.git");
//! let daemon = GitDaemon::start(base.path());
//! assert_eq!(daemon.url("set.git"), format!("git://127.0.0.1:{}/set.git", daemon.port()));
//! # drop(repo);
//! ```

use std::{
    io::{BufRead, BufReader},
    net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex, mpsc},
    thread,
    time::{Duration, Instant},
};

use tempfile::TempDir;

use crate::git::Git;

/// How long a server may take to become ready.
const START_DEADLINE: Duration = Duration::from_secs(20);
/// How many ports to try before giving up.
const START_ATTEMPTS: usize = 5;

/// A temporary bare repository.
pub struct BareRepo {
    _dir: Option<TempDir>,
    path: PathBuf,
    git: Git,
}

impl Default for BareRepo {
    fn default() -> Self {
        Self::new()
    }
}

impl BareRepo {
    /// A bare repository `repo.git` in a fresh temporary directory.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("eka-test-bare-")
            .tempdir()
            .expect("create a temporary directory for a bare repository");
        let mut repo = Self::new_in(dir.path(), "repo.git");
        repo._dir = Some(dir);
        repo
    }

    /// A bare repository `base_dir/name` (for serving `base_dir` with a daemon).
    pub fn new_in(base_dir: &Path, name: &str) -> Self {
        Self::new_in_with(base_dir, name, &[])
    }

    /// Like [`BareRepo::new_in`] with extra `git init` arguments
    /// (e.g. `["--ref-format=reftable"]`).
    pub fn new_in_with(base_dir: &Path, name: &str, extra_args: &[&str]) -> Self {
        let git = Git::new();
        let path = base_dir.join(name);
        let mut args = vec!["init", "--quiet", "--bare"];
        args.extend_from_slice(extra_args);
        let path_arg = path.to_string_lossy().into_owned();
        args.push(&path_arg);
        git.run(base_dir, args);
        Self {
            _dir: None,
            path,
            git,
        }
    }

    /// The repository's directory (its git dir).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Its `file://` URL.
    pub fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    /// Run `git args…` inside this repository (see [`Git::run`]).
    pub fn run<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.git.run(&self.path, args)
    }

    /// All refs of the repository as `(refname, object id)`, sorted by name.
    pub fn refs(&self) -> Vec<(String, String)> {
        let out = self.run(["for-each-ref", "--format=%(refname) %(objectname)"]);
        let mut refs: Vec<_> = out
            .lines()
            .filter_map(|line| {
                let (name, id) = line.split_once(' ')?;
                Some((name.to_owned(), id.to_owned()))
            })
            .collect();
        refs.sort();
        refs
    }

    /// Install a server-side hook that rejects any update of `refname`.
    pub fn reject_ref(&self, hook: Hook, refname: &str) {
        install_reject_hook(&self.path, hook, refname);
    }
}

/// Which server-side hook rejects a ref.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    /// `pre-receive`: sees every ref of the push at once; rejecting refuses the whole push.
    PreReceive,
    /// `update`: runs once per ref; rejects just that ref (an atomic push then fails whole).
    Update,
}

/// Install `hook` in the bare repository at `git_dir` so that it rejects any update of
/// `refname` (with the message `eka-test: rejecting <refname>`). Uses only shell
/// builtins, so it runs under any server's environment.
pub fn install_reject_hook(git_dir: &Path, hook: Hook, refname: &str) {
    assert!(
        !refname.contains(['\'', '\n']),
        "refname for a reject hook must not contain quotes or newlines: {refname:?}"
    );
    let (file, body) = match hook {
        Hook::PreReceive => (
            "pre-receive",
            format!(
                "while read old new ref; do\n  if [ \"$ref\" = '{refname}' ]; then\n    echo \"eka-test: rejecting $ref\" >&2\n    exit 1\n  fi\ndone\nexit 0\n"
            ),
        ),
        Hook::Update => (
            "update",
            format!(
                "if [ \"$1\" = '{refname}' ]; then\n  echo \"eka-test: rejecting $1\" >&2\n  exit 1\nfi\nexit 0\n"
            ),
        ),
    };
    let hooks = git_dir.join("hooks");
    std::fs::create_dir_all(&hooks).expect("create hooks directory");
    let path = hooks.join(file);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).expect("write hook");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("make hook executable");
}

/// A running server process: its whole process group is killed on drop.
struct ServerProcess {
    child: Child,
    port: u16,
    log: Arc<Mutex<String>>,
}

impl ServerProcess {
    /// Start `make_command(port)` on free ports until its log shows `ready_marker` and
    /// the port accepts a connection.
    fn start(what: &str, ready_marker: &str, make_command: impl Fn(u16) -> Command) -> Self {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let mut command = make_command(port);
            command
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .process_group(0);
            let mut child = command
                .spawn()
                .unwrap_or_else(|error| panic!("spawn {what}: {error}"));
            let log = Arc::new(Mutex::new(String::new()));
            let (sender, receiver) = mpsc::channel::<String>();
            let stderr = child.stderr.take().expect("piped stderr");
            let thread_log = Arc::clone(&log);
            thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(mut log) = thread_log.lock() {
                        log.push_str(&line);
                        log.push('\n');
                    }
                    // The receiver is gone once the server is ready: keep draining.
                    let _ = sender.send(line);
                }
            });
            let mut server = Self { child, port, log };
            match server.wait_ready(ready_marker, &receiver) {
                Ok(()) => return server,
                Err(reason) => {
                    failures.push(format!("port {port}: {reason}\n{}", server.log()));
                    drop(server);
                }
            }
        }
        panic!(
            "{what} did not start after {START_ATTEMPTS} attempts:\n{}",
            failures.join("\n")
        );
    }

    /// Block on the server's log until it says it listens, then check the port accepts
    /// a connection; all under [`START_DEADLINE`].
    fn wait_ready(
        &mut self,
        ready_marker: &str,
        lines: &mpsc::Receiver<String>,
    ) -> Result<(), String> {
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(remaining) {
                Ok(line) if line.contains(ready_marker) => break,
                Ok(_) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    return Err(format!("no `{ready_marker}` within {START_DEADLINE:?}"));
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err("exited before it was ready".to_owned());
                }
            }
        }
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if self.child.try_wait().ok().flatten().is_some() {
                return Err("exited before it accepted connections".to_owned());
            }
            if Instant::now() >= deadline {
                return Err(format!("port not accepting within {START_DEADLINE:?}"));
            }
        }
    }

    fn log(&self) -> String {
        self.log.lock().map(|log| log.clone()).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // The server runs in its own process group (pgid = its pid): kill the group so
        // forked children (daemon connections, CGI programs) go too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("bind 127.0.0.1:0 to choose a free port")
}

/// Find `program` on `PATH` or in the sbin directories, or panic naming the package.
fn find_program(program: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{program}` not found on PATH or in /usr/sbin: install the Debian package \
                 `{package}` (apt-get install -y {package})"
            )
        })
}

/// The directory of git's helper programs (`git --exec-path`).
fn git_exec_path() -> PathBuf {
    let git = Git::new();
    let dir = std::env::temp_dir();
    PathBuf::from(git.run(&dir, ["--exec-path"]))
}

/// Find one of git's helper programs (`git-daemon`, `git-http-backend`).
fn find_git_helper(helper: &str) -> PathBuf {
    let path = git_exec_path().join(helper);
    assert!(
        path.is_file(),
        "`{}` not found: install the Debian package `git` (apt-get install -y git)",
        path.display()
    );
    path
}

fn absolute(base_dir: &Path) -> PathBuf {
    std::fs::canonicalize(base_dir)
        .unwrap_or_else(|error| panic!("base directory {}: {error}", base_dir.display()))
}

/// `git daemon` serving every repository under a base directory over `git://`, with
/// pushes enabled.
pub struct GitDaemon {
    process: ServerProcess,
}

impl GitDaemon {
    /// Serve `base_dir` on `git://127.0.0.1:<free port>/`.
    pub fn start(base_dir: &Path) -> Self {
        let base_dir = absolute(base_dir);
        let daemon = find_git_helper("git-daemon");
        let git = Git::new();
        let process = ServerProcess::start("git daemon", "Ready to rumble", |port| {
            let mut command = Command::new(&daemon);
            git.apply_env(&mut command);
            command
                .current_dir(&base_dir)
                .arg("--verbose")
                .arg("--reuseaddr")
                .arg("--informative-errors")
                .arg(format!("--base-path={}", base_dir.display()))
                .arg("--export-all")
                .arg("--enable=receive-pack")
                .arg("--listen=127.0.0.1")
                .arg(format!("--port={port}"))
                .arg(&base_dir);
            command
        });
        Self { process }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// `git://127.0.0.1:<port>/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("git://127.0.0.1:{}/{name}", self.port())
    }

    /// What the daemon logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// Smart HTTP: `git http-backend` as a CGI program behind lighttpd, serving every
/// repository under a base directory, with pushes enabled.
pub struct HttpServer {
    process: ServerProcess,
    _config_dir: TempDir,
}

impl HttpServer {
    /// Serve `base_dir` on `http://127.0.0.1:<free port>/`.
    pub fn start(base_dir: &Path) -> Self {
        Self::start_with(base_dir, None)
    }

    /// Like [`HttpServer::start`], but every request must carry HTTP basic auth as
    /// `user` with `password` (lighttpd's `mod_auth` with a plain user file); anything
    /// else is answered `401`.
    pub fn start_with_basic_auth(base_dir: &Path, user: &str, password: &str) -> Self {
        Self::start_with(base_dir, Some((user, password)))
    }

    fn start_with(base_dir: &Path, basic_auth: Option<(&str, &str)>) -> Self {
        let base_dir = absolute(base_dir);
        let lighttpd = find_program("lighttpd", "lighttpd");
        let backend = find_git_helper("git-http-backend");
        let git = Git::new();
        let config_dir = tempfile::Builder::new()
            .prefix("eka-test-http-")
            .tempdir()
            .expect("create lighttpd config directory");
        let document_root = config_dir.path().join("www");
        std::fs::create_dir_all(&document_root).expect("create document root");
        let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/bin:/bin".to_owned());
        let (modules, auth) = match basic_auth {
            None => (String::new(), String::new()),
            Some((user, password)) => {
                assert!(
                    !user.contains([':', '\n', '"']) && !password.contains(['\n', '"']),
                    "basic auth user and password must not contain `:`, quotes or newlines"
                );
                let users = config_dir.path().join("users");
                std::fs::write(&users, format!("{user}:{password}\n"))
                    .expect("write lighttpd user file");
                (
                    r#""mod_auth", "mod_authn_file", "#.to_owned(),
                    format!(
                        r#"auth.backend = "plain"
auth.backend.plain.userfile = "{users}"
auth.require = ( "/" => ( "method" => "basic", "realm" => "eka-test", "require" => "valid-user" ) )
"#,
                        users = users.display()
                    ),
                )
            }
        };
        let process = ServerProcess::start("lighttpd", "server started", |port| {
            let config = format!(
                r#"server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.modules = ( {modules}"mod_alias", "mod_setenv", "mod_cgi" )
{auth}alias.url = ( "/" => "{backend}/" )
cgi.assign = ( "" => "" )
setenv.set-environment = (
  "GIT_PROJECT_ROOT" => "{base}",
  "GIT_HTTP_EXPORT_ALL" => "1",
  "GIT_CONFIG_PARAMETERS" => "'http.receivepack'='true'",
  "GIT_CONFIG_NOSYSTEM" => "1",
  "GIT_CONFIG_GLOBAL" => "/dev/null",
  "HOME" => "{home}",
  "PATH" => "{path}",
)
"#,
                root = document_root.display(),
                backend = backend.display(),
                base = base_dir.display(),
                home = git.home().display(),
            );
            let config_path = config_dir.path().join(format!("lighttpd-{port}.conf"));
            std::fs::write(&config_path, config).expect("write lighttpd config");
            let mut command = Command::new(&lighttpd);
            command.arg("-D").arg("-f").arg(&config_path);
            command
        });
        Self {
            process,
            _config_dir: config_dir,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// `http://127.0.0.1:<port>/<name>`.
    pub fn url(&self, name: &str) -> String {
        format!("http://127.0.0.1:{}/{name}", self.port())
    }

    /// What lighttpd (and the CGI programs' stderr) logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// Generate an ed25519 key pair at `path` (and `path.pub`) with `ssh-keygen`, protected
/// by `passphrase` (empty: none); returns the public key line.
pub fn ssh_keygen(path: &Path, passphrase: &str) -> String {
    let keygen = find_program("ssh-keygen", "openssh-client");
    let output = Command::new(keygen)
        .args([
            "-q", "-t", "ed25519", "-C", "eka-test", "-N", passphrase, "-f",
        ])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .expect("run ssh-keygen");
    assert!(
        output.status.success(),
        "ssh-keygen failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let public = PathBuf::from(format!("{}.pub", path.display()));
    std::fs::read_to_string(&public)
        .expect("read the generated public key")
        .trim()
        .to_owned()
}

/// The name of the user running the tests (the user an `ssh://` URL must name: sshd
/// logs in as a real account).
pub fn current_user() -> String {
    let output = Command::new("id")
        .arg("-un")
        .stdin(Stdio::null())
        .output()
        .expect("run `id -un`");
    assert!(output.status.success(), "`id -un` failed");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// OpenSSH's `sshd` on loopback, accepting the given public keys for the current user
/// and nothing else (no passwords, no keyboard-interactive), so `ssh://` URLs to
/// repositories on this machine work like a private registry.
///
/// Its host key, `authorized_keys`, pid file and generated `sshd_config` live in its own
/// temporary directory. Remote `git` runs without system or global configuration.
pub struct SshServer {
    process: ServerProcess,
    config_dir: TempDir,
    user: String,
}

impl SshServer {
    /// Serve on `127.0.0.1:<free port>`, letting in whoever holds one of
    /// `authorized_keys` (public key lines).
    pub fn start(authorized_keys: &[&str]) -> Self {
        let sshd = find_program("sshd", "openssh-server");
        // sshd refuses to start without its privilege separation directory.
        let privsep = Path::new("/run/sshd");
        if !privsep.is_dir() {
            std::fs::create_dir_all(privsep).expect("create /run/sshd for sshd");
        }
        let config_dir = tempfile::Builder::new()
            .prefix("eka-test-sshd-")
            .tempdir()
            .expect("create sshd directory");
        let dir = absolute(config_dir.path());
        let host_key = dir.join("host_ed25519");
        ssh_keygen(&host_key, "");
        let authorized = dir.join("authorized_keys");
        std::fs::write(&authorized, format!("{}\n", authorized_keys.join("\n")))
            .expect("write authorized_keys");
        let process = ServerProcess::start("sshd", "Server listening on", |port| {
            let config = format!(
                "ListenAddress 127.0.0.1:{port}\n\
                 HostKey {host_key}\n\
                 PidFile {pid}\n\
                 AuthorizedKeysFile {authorized}\n\
                 StrictModes no\n\
                 UsePAM no\n\
                 PermitRootLogin prohibit-password\n\
                 PubkeyAuthentication yes\n\
                 PasswordAuthentication no\n\
                 KbdInteractiveAuthentication no\n\
                 AllowAgentForwarding no\n\
                 AllowTcpForwarding no\n\
                 X11Forwarding no\n\
                 PrintMotd no\n\
                 SetEnv GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1\n\
                 LogLevel VERBOSE\n",
                host_key = host_key.display(),
                pid = dir.join(format!("sshd-{port}.pid")).display(),
                authorized = authorized.display(),
            );
            let config_path = dir.join(format!("sshd-{port}.conf"));
            std::fs::write(&config_path, config).expect("write sshd config");
            let mut command = Command::new(&sshd);
            command.arg("-D").arg("-e").arg("-f").arg(&config_path);
            command
        });
        Self {
            process,
            config_dir,
            user: current_user(),
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// `ssh://<user>@127.0.0.1:<port><absolute path>` for a repository on this machine.
    pub fn url(&self, repository: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port(),
            absolute(repository).display()
        )
    }

    /// An ssh client configuration block for this server (`Host 127.0.0.1`): its port,
    /// the user, host keys recorded in `known_hosts` (accepted on first use), no
    /// identity file and no prompts from the configuration itself.
    pub fn client_config(&self, known_hosts: &Path) -> String {
        format!(
            "Host 127.0.0.1\n  Port {port}\n  User {user}\n  UserKnownHostsFile {known}\n  \
             StrictHostKeyChecking accept-new\n  IdentitiesOnly no\n",
            port = self.port(),
            user = self.user,
            known = known_hosts.display(),
        )
    }

    /// The server's own directory (host key, `authorized_keys`, configuration).
    pub fn dir(&self) -> &Path {
        self.config_dir.path()
    }

    /// What sshd logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// A real `ssh-agent` listening on a socket in its own temporary directory; killed on
/// drop. Pass [`SshAgent::socket`] as `SSH_AUTH_SOCK`.
pub struct SshAgent {
    child: Child,
    socket: PathBuf,
    _dir: TempDir,
}

impl SshAgent {
    /// Start an agent holding no keys.
    pub fn start() -> Self {
        let agent = find_program("ssh-agent", "openssh-client");
        let dir = tempfile::Builder::new()
            .prefix("eka-test-agent-")
            .tempdir()
            .expect("create ssh-agent directory");
        let socket = absolute(dir.path()).join("agent.sock");
        let mut child = Command::new(agent)
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("spawn ssh-agent");
        // In the foreground the agent prints its environment once its socket listens.
        let stdout = child.stdout.take().expect("piped stdout");
        let mut first_line = String::new();
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .expect("read ssh-agent's output");
        let mut agent = Self {
            child,
            socket,
            _dir: dir,
        };
        assert!(
            first_line.contains("SSH_AUTH_SOCK") && agent.socket.exists(),
            "ssh-agent did not start: {first_line:?} ({:?})",
            agent.child.try_wait()
        );
        agent
    }

    /// The agent's socket (the value of `SSH_AUTH_SOCK`).
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Add the private key at `key` (without a passphrase) to the agent.
    pub fn add(&self, key: &Path) {
        let ssh_add = find_program("ssh-add", "openssh-client");
        let output = Command::new(ssh_add)
            .arg("-q")
            .arg(key)
            .env("SSH_AUTH_SOCK", &self.socket)
            .stdin(Stdio::null())
            .output()
            .expect("run ssh-add");
        assert!(
            output.status.success(),
            "ssh-add failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- https: a test CA and static files over TLS ------------------------------------

/// A certificate authority made for one test run with the `openssl` CLI, and a server
/// certificate it signed for `127.0.0.1` (an IP subject alternative name). Clients trust
/// it through [`TestCa::ca_file`] (`SSL_CERT_FILE`, `NIX_SSL_CERT_FILE`).
pub struct TestCa {
    dir: TempDir,
}

impl TestCa {
    /// Generate the CA and the server certificate (P-256 keys, valid for two days).
    pub fn generate() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("eka-test-ca-")
            .tempdir()
            .expect("create a directory for the test CA");
        let openssl = find_program("openssl", "openssl");
        let run = |args: &[&str]| {
            let output = Command::new(&openssl)
                .current_dir(dir.path())
                .args(args)
                .stdin(Stdio::null())
                .output()
                .unwrap_or_else(|error| panic!("run openssl {args:?}: {error}"));
            assert!(
                output.status.success(),
                "openssl {args:?} failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        };
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
        let mut ca = vec!["req", "-x509", "-nodes", "-days", "2"];
        ca.extend(key);
        ca.extend([
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-subj",
            "/CN=eka test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]);
        run(&ca);
        let mut request = vec!["req", "-nodes"];
        request.extend(key);
        request.extend([
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ]);
        run(&request);
        std::fs::write(
            dir.path().join("server.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
             extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1\n",
        )
        .expect("write the server certificate's extensions");
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ]);
        Self { dir }
    }

    /// The CA certificate (PEM): what a client must trust.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server certificate (PEM), for `127.0.0.1`.
    pub fn server_certificate(&self) -> PathBuf {
        self.dir.path().join("server.pem")
    }

    /// The server's private key (PEM).
    pub fn server_key(&self) -> PathBuf {
        self.dir.path().join("server.key")
    }
}

/// Start lighttpd serving the files of `document_root` on `127.0.0.1:<free port>`, over
/// TLS with `ca`'s server certificate when given, with the test redirect paths
/// (`/redirect/<path>`, `/loop/<anything>`, `/downgrade/<path>` to `http://`). Its config
/// lives in the returned directory.
fn start_file_server(document_root: &Path, ca: Option<&TestCa>) -> (ServerProcess, TempDir) {
    let document_root = absolute(document_root);
    let lighttpd = find_program("lighttpd", "lighttpd");
    let config_dir = tempfile::Builder::new()
        .prefix("eka-test-files-")
        .tempdir()
        .expect("create lighttpd config directory");
    let what = if ca.is_some() {
        "lighttpd (https)"
    } else {
        "lighttpd (http)"
    };
    let tls = match ca {
        Some(ca) => format!(
            "server.modules += ( \"mod_openssl\" )\nssl.engine = \"enable\"\n\
             ssl.pemfile = \"{}\"\nssl.privkey = \"{}\"\n",
            ca.server_certificate().display(),
            ca.server_key().display(),
        ),
        None => String::new(),
    };
    let process = ServerProcess::start(what, "server started", |port| {
        let config = format!(
            r#"server.document-root = "{root}"
server.bind = "127.0.0.1"
server.port = {port}
server.modules = ( "mod_redirect" )
{tls}url.redirect-code = 302
url.redirect = (
  "^/redirect/(.*)$" => "/$1",
  "^/loop/(.*)$" => "/loop/x$1",
  "^/downgrade/(.*)$" => "http://127.0.0.1:{port}/$1",
)
"#,
            root = document_root.display(),
        );
        let config_path = config_dir.path().join(format!("lighttpd-{port}.conf"));
        std::fs::write(&config_path, config).expect("write lighttpd config");
        let mut command = Command::new(&lighttpd);
        command.arg("-D").arg("-f").arg(&config_path);
        command
    });
    (process, config_dir)
}

/// lighttpd serving the files of a directory over plain `http://127.0.0.1:<free port>/`
/// (e.g. a Nix binary cache written by `nix copy --to file://DIR`), with the redirect
/// paths of [`HttpsFileServer`].
pub struct HttpFileServer {
    process: ServerProcess,
    _config_dir: TempDir,
}

impl HttpFileServer {
    /// Serve `document_root` over http.
    pub fn start(document_root: &Path) -> Self {
        let (process, config_dir) = start_file_server(document_root, None);
        Self {
            process,
            _config_dir: config_dir,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// `http://127.0.0.1:<port>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port())
    }

    /// What lighttpd logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// lighttpd serving the files of a directory over `https://127.0.0.1:<free port>/`
/// with a [`TestCa`]'s server certificate (`mod_openssl`, Debian package
/// `lighttpd-mod-openssl`). Redirect paths for tests: `/redirect/<path>` answers `302`
/// to `/<path>`, `/loop/<anything>` redirects to a longer `/loop/…` forever, and
/// `/downgrade/<path>` redirects to `http://` on the same port.
pub struct HttpsFileServer {
    process: ServerProcess,
    ca: TestCa,
    _config_dir: TempDir,
}

impl HttpsFileServer {
    /// Serve `document_root` over https with a freshly generated CA.
    pub fn start(document_root: &Path) -> Self {
        let ca = TestCa::generate();
        let (process, config_dir) = start_file_server(document_root, Some(&ca));
        Self {
            process,
            ca,
            _config_dir: config_dir,
        }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// `https://127.0.0.1:<port>/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}/{path}", self.port())
    }

    /// The test CA's certificate (PEM) a client must trust.
    pub fn ca_file(&self) -> PathBuf {
        self.ca.ca_file()
    }

    /// What lighttpd logged so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}
