//! Running real `git` in an isolated environment, and building fixture repositories.
//!
//! [`Git`] runs the `git` binary with no user or system configuration, a private `HOME`
//! and a fixed author and committer, so fixtures are reproducible and never depend on
//! the developer's machine. [`TestRepo`] builds a work repository file by file.
//!
//! ```
//! use eka_test_support::TestRepo;
//!
//! let repo = TestRepo::init();
//! repo.write("hello/atom.toml", "[package]\n");
//! let commit_id = repo.commit("add hello");
//! assert_eq!(commit_id.len(), 40);
//! ```

use std::{
    ffi::OsStr,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::Arc,
};

use tempfile::TempDir;

/// The fixed author and committer name used by every fixture.
pub const AUTHOR_NAME: &str = "Eka Test";
/// The fixed author and committer email used by every fixture.
pub const AUTHOR_EMAIL: &str = "test@eka.invalid";
/// The fixed author and committer date used by every fixture (git's raw format).
pub const AUTHOR_DATE: &str = "1700000000 +0000";

/// A handle to run real `git` with an isolated environment.
///
/// Cloning is cheap: clones share the same private `HOME`.
#[derive(Clone)]
pub struct Git {
    home: Arc<TempDir>,
}

impl Default for Git {
    fn default() -> Self {
        Self::new()
    }
}

impl Git {
    /// A new isolated git environment with its own temporary `HOME`.
    pub fn new() -> Self {
        let home = tempfile::Builder::new()
            .prefix("eka-test-home-")
            .tempdir()
            .expect("create a temporary HOME for git");
        Self {
            home: Arc::new(home),
        }
    }

    /// The private `HOME` of this environment.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// A `git` command in `dir` with the isolated environment applied.
    pub fn command(&self, dir: &Path) -> Command {
        let mut command = Command::new("git");
        command.current_dir(dir);
        self.apply_env(&mut command);
        command
    }

    /// Apply the isolated environment to any command (useful for a program that runs
    /// git itself, such as the `eka` binary under test).
    pub fn apply_env(&self, command: &mut Command) {
        for variable in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_NAMESPACE",
            "GIT_CEILING_DIRECTORIES",
            "GIT_CONFIG",
            "GIT_CONFIG_PARAMETERS",
            "GIT_SSH",
            "GIT_SSH_COMMAND",
            "GIT_ASKPASS",
            "SSH_ASKPASS",
            "XDG_CONFIG_HOME",
        ] {
            command.env_remove(variable);
        }
        command
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.home.path())
            .env("GIT_AUTHOR_NAME", AUTHOR_NAME)
            .env("GIT_AUTHOR_EMAIL", AUTHOR_EMAIL)
            .env("GIT_AUTHOR_DATE", AUTHOR_DATE)
            .env("GIT_COMMITTER_NAME", AUTHOR_NAME)
            .env("GIT_COMMITTER_EMAIL", AUTHOR_EMAIL)
            .env("GIT_COMMITTER_DATE", AUTHOR_DATE)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_COUNT", "2")
            .env("GIT_CONFIG_KEY_0", "init.defaultBranch")
            .env("GIT_CONFIG_VALUE_0", "main")
            .env("GIT_CONFIG_KEY_1", "protocol.file.allow")
            .env("GIT_CONFIG_VALUE_1", "always")
            .env("LC_ALL", "C")
            .env("LANGUAGE", "C");
    }

    /// Run `git args…` in `dir` and return its full output, whatever its exit status.
    pub fn output<I, S>(&self, dir: &Path, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command(dir)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run `git` (install the Debian package `git`)")
    }

    /// Run `git args…` in `dir`, panic with its stderr unless it succeeds, and return its
    /// stdout with the trailing newline trimmed.
    pub fn run<I, S>(&self, dir: &Path, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<_> = args
            .into_iter()
            .map(|arg| arg.as_ref().to_owned())
            .collect();
        let output = self.output(dir, &args);
        if !output.status.success() {
            panic!(
                "`git {}` in {} failed ({}):\n{}{}",
                args.iter()
                    .map(|arg| arg.to_string_lossy())
                    .collect::<Vec<_>>()
                    .join(" "),
                dir.display(),
                output.status,
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
            );
        }
        String::from_utf8_lossy(&output.stdout)
            .trim_end_matches('\n')
            .to_owned()
    }

    /// `git ls-remote url` as `(refname, object id)` pairs, in the server's order.
    pub fn ls_remote(&self, url: &str) -> Vec<(String, String)> {
        let dir = self.home.path().to_owned();
        self.run(&dir, ["ls-remote", url])
            .lines()
            .filter_map(|line| {
                let (id, name) = line.split_once('\t')?;
                Some((name.to_owned(), id.to_owned()))
            })
            .collect()
    }
}

/// A temporary non-bare work repository for building fixtures with real git.
pub struct TestRepo {
    dir: TempDir,
    git: Git,
}

impl TestRepo {
    /// `git init` a fresh work repository (default branch `main`) in a temp directory.
    pub fn init() -> Self {
        Self::init_with(Git::new(), &[])
    }

    /// `git init` with extra arguments (e.g. `["--ref-format=reftable"]`) and the given
    /// git environment.
    pub fn init_with(git: Git, extra_args: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("eka-test-repo-")
            .tempdir()
            .expect("create a temporary work repository");
        let mut args = vec!["init", "--quiet"];
        args.extend_from_slice(extra_args);
        args.push(".");
        git.run(dir.path(), args);
        Self { dir, git }
    }

    /// The work tree's directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The `.git` directory.
    pub fn git_dir(&self) -> PathBuf {
        self.dir.path().join(".git")
    }

    /// The git environment this repository is driven with.
    pub fn git(&self) -> &Git {
        &self.git
    }

    /// Run `git args…` inside this repository (see [`Git::run`]).
    pub fn run<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.git.run(self.dir.path(), args)
    }

    /// Write `contents` to `relative_path`, creating parent directories.
    pub fn write(&self, relative_path: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.dir.path().join(relative_path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, contents).expect("write fixture file");
        self
    }

    /// Stage everything and commit with `message`; return the new commit id (hex).
    pub fn commit(&self, message: &str) -> String {
        self.run(["add", "--all"]);
        self.run(["commit", "--quiet", "--allow-empty", "-m", message]);
        self.head()
    }

    /// The id of `HEAD` (hex).
    pub fn head(&self) -> String {
        self.rev_parse("HEAD")
    }

    /// Resolve any revision to an object id (hex).
    pub fn rev_parse(&self, revision: &str) -> String {
        self.run(["rev-parse", "--verify", revision])
    }
}
