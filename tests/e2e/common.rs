//! Running the real `eka` binary in an isolated environment.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
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
    fn from(output: Output) -> Self {
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

    /// A `Command` for the eka binary, run in `work/`, with a clean environment.
    pub fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_eka"));
        command.current_dir(self.work());
        isolate(&mut command, self.dir.path());
        command
    }

    /// Run eka with `args` in `work/`.
    pub fn eka(&self, args: &[&str]) -> Run {
        Run::from(self.command().args(args).output().unwrap())
    }

    /// Run eka with `args` in `work/<dir>`.
    pub fn eka_in(&self, dir: &str, args: &[&str]) -> Run {
        Run::from(
            self.command()
                .current_dir(self.path(dir))
                .args(args)
                .output()
                .unwrap(),
        )
    }
}

pub fn isolate(command: &mut Command, root: &Path) {
    command
        .env_remove("NO_COLOR")
        .env_remove("EKA_CONFIG")
        .env_remove("EKA_CACHE_DIR")
        .env_remove("EKA_SIGNING_KEY")
        .env_remove("EKA_LOG")
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
