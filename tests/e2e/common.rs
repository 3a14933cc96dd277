//! Running the real `eka` binary in an isolated environment.

use std::{
    io::Write as _,
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
};

/// A scratch directory with a private HOME and XDG dirs, so no test reads the developer's
/// own configuration.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

/// The result of one `eka` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The exit code and the output of a finished `eka` process.
    pub fn from_output(output: Output) -> Self {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn success(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn refused(self) -> Self {
        assert_eq!(
            self.code, 1,
            "expected exit 1\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "config", "cache", "work"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        Sandbox { dir }
    }

    pub fn work(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.work().join(relative)
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative)).unwrap()
    }

    pub fn write(&self, relative: &str, content: &str) {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    /// Replace `from` by `to` in `work/<relative>`, which must hold `from` exactly once.
    #[track_caller]
    pub fn replace_once(&self, relative: &str, from: &str, to: &str) {
        let text = self.read(relative);
        assert_eq!(text.matches(from).count(), 1, "`{from}` in\n{text}");
        self.write(relative, &text.replacen(from, to, 1));
    }

    /// A `Command` for the eka binary, run in `work/`, with a clean environment.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_eka"));
        command.current_dir(self.work());
        isolate(&mut command, self.dir.path());
        command
    }

    /// Run eka with `args` in `work/`.
    pub fn eka(&self, args: &[&str]) -> Run {
        Run::from_output(self.command().args(args).output().unwrap())
    }

    /// Run eka with `args` in `work/<dir>`.
    pub fn eka_in(&self, dir: &str, args: &[&str]) -> Run {
        self.eka_at(&self.path(dir), args)
    }

    /// Run `eka` in `dir`, a directory anywhere (not only inside the sandbox).
    pub fn eka_at(&self, dir: &Path, args: &[&str]) -> Run {
        Run::from_output(self.command().current_dir(dir).args(args).output().unwrap())
    }
}

/// A new Ed25519 key pair `dir/name` (no passphrase, comment `name`) made by
/// `ssh-keygen`: the private key's path.
pub fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    key
}

/// The public key `dir/name.pub` (one line, trimmed) and its fingerprint as
/// `ssh-keygen -l` prints it (`SHA256:…`).
pub fn public_key(dir: &Path, name: &str) -> (String, String) {
    let public_path = dir.join(format!("{name}.pub"));
    let public = std::fs::read_to_string(&public_path)
        .unwrap()
        .trim()
        .to_owned();
    let listed = Command::new("ssh-keygen")
        .arg("-lf")
        .arg(&public_path)
        .output()
        .unwrap();
    assert!(listed.status.success());
    let fingerprint = String::from_utf8(listed.stdout)
        .unwrap()
        .split_whitespace()
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
    (public, fingerprint)
}

/// An `atom.toml` of `label` at `version`, nothing else.
pub fn atom_toml(label: &str, version: &str) -> String {
    atom_toml_with(label, version, "")
}

/// An `atom.toml` of `label` at `version`, with `extra` (sets, dependencies) after its
/// `[package]` table.
pub fn atom_toml_with(label: &str, version: &str, extra: &str) -> String {
    format!("[package]\nlabel = \"{label}\"\nversion = \"{version}\"\n{extra}")
}

pub fn isolate(command: &mut Command, root: &Path) {
    command
        .env_remove("NO_COLOR")
        .env_remove("EKA_CONFIG")
        .env_remove("EKA_CACHE_DIR")
        .env_remove("EKA_SIGNING_KEY")
        .env_remove("EKA_LOG")
        // clap wraps help to `COLUMNS`; unset, it uses a fixed width (stable snapshots).
        .env_remove("COLUMNS")
        .env_remove("LINES")
        .env_remove("CLICOLOR_FORCE")
        .env("HOME", root.join("home"))
        .env("XDG_CONFIG_HOME", root.join("config"))
        .env("XDG_CACHE_HOME", root.join("cache"))
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "eka test")
        .env("GIT_AUTHOR_EMAIL", "test@eka.invalid")
        .env("GIT_COMMITTER_NAME", "eka test")
        .env("GIT_COMMITTER_EMAIL", "test@eka.invalid")
        .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z");
}

impl Run {
    /// The whole run as one text for a snapshot: exit code, stdout, stderr.
    pub fn transcript(&self) -> String {
        format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `(regex, replacement)` pairs that make whole outputs stable across runs and machines:
/// temporary paths, ports, atom ids, BLAKE3 hashes, commit and object ids, short commits,
/// times and durations. Use through [`snapshot!`].
pub fn filters() -> Vec<(String, String)> {
    let temp = std::env::temp_dir();
    let temp = regex_escape(temp.to_str().unwrap().trim_end_matches('/'));
    vec![
        (
            format!(r"{temp}/(\.tmp|eka-test-[a-z]+-)[A-Za-z0-9_]+"),
            "[tmp]".to_owned(),
        ),
        (
            r"(127\.0\.0\.1|localhost|\[::1\]):[0-9]+".to_owned(),
            "$1:[port]".to_owned(),
        ),
        (
            r#"("id": "|id = ")[0-9a-f]{64}"#.to_owned(),
            "$1[atom-id]".to_owned(),
        ),
        (r"\b[0-9a-f]{64}\b".to_owned(), "[hash]".to_owned()),
        (
            r"sha256-[A-Za-z0-9+/]{43}=".to_owned(),
            "sha256-[nar-hash]".to_owned(),
        ),
        (r"\b[0-9a-f]{40}\b".to_owned(), "[commit]".to_owned()),
        (
            r"\b[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9:]+)?"
                .to_owned(),
            "[time]".to_owned(),
        ),
        (
            r"\b[0-9]+(\.[0-9]+)?(ms|s)\b".to_owned(),
            "[duration]".to_owned(),
        ),
    ]
}

fn regex_escape(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$#&-~".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect()
}

/// `insta::assert_snapshot!(name, value)` with [`filters`] applied.
macro_rules! snapshot {
    ($name:expr, $value:expr $(,)?) => {{
        let filters = $crate::common::filters();
        let pairs: Vec<(&str, &str)> = filters
            .iter()
            .map(|(regex, replacement)| (regex.as_str(), replacement.as_str()))
            .collect();
        insta::with_settings!({ filters => pairs }, {
            insta::assert_snapshot!($name, $value);
        });
    }};
}
pub(crate) use snapshot;

/// A loopback server that accepts connections and never answers; it stops (and its
/// thread ends, closing every connection it held) when dropped.
pub struct SilentServer {
    port: u16,
    stopping: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stopping = Arc::new(AtomicBool::new(false));
        let stop = Arc::clone(&stopping);
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                held.extend(stream.ok());
            }
        });
        SilentServer {
            port,
            stopping,
            thread: Some(thread),
        }
    }

    /// `<scheme>://127.0.0.1:<port>/set.git`.
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/set.git", self.port)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking `accept` so the thread sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Run git in `dir` with an isolated environment, `stdin` fed in; stdout trimmed.
pub fn git(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> String {
    let home = tempfile::tempdir().unwrap();
    let mut command = Command::new("git");
    command.current_dir(dir).args(args);
    isolate(&mut command, home.path());
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}
