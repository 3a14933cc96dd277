//! Running the `git` binary: the one place that spawns it for the store and the ops.
//!
//! Every run is non-interactive: `GIT_TERMINAL_PROMPT=0` is set and stdin is closed, so a
//! remote asking for credentials fails instead of hanging. [`run`] turns a non-zero exit
//! into a [`GitError`] carrying git's stderr; [`run_unchecked`] returns the whole
//! [`Output`] whatever the status (for callers that parse stdout of a failed run, like
//! `git push --porcelain`).
//!
//! ```
//! use atom::store::git;
//!
//! let stdout = git::run(None, &["--version"]).unwrap();
//! assert!(String::from_utf8_lossy(&stdout).starts_with("git version"));
//!
//! let error = git::run(None, &["no-such-subcommand"]).unwrap_err();
//! assert_eq!(error.command, "git no-such-subcommand");
//! assert!(error.to_string().starts_with("`git no-such-subcommand` failed: "));
//! ```

use std::{
    ffi::OsStr,
    fmt,
    path::Path,
    process::{Command, ExitStatus, Output, Stdio},
};

/// `git` could not be started or exited with a failure.
#[derive(Debug)]
pub struct GitError {
    /// `git` and its subcommand, e.g. `git fetch` (the first argument not starting
    /// with `-`).
    pub command: String,
    /// What went wrong.
    pub kind: GitErrorKind,
}

/// Why a [`GitError`] happened.
#[derive(Debug)]
pub enum GitErrorKind {
    /// The binary could not be started.
    Spawn(std::io::Error),
    /// Git ran and exited unsuccessfully.
    Failed {
        /// The exit status.
        status: ExitStatus,
        /// What git printed on stderr, trimmed.
        stderr: String,
    },
}

impl GitError {
    /// What went wrong without naming the command: git's stderr, or why git could not
    /// start (`cannot run `git`: …`).
    pub fn detail(&self) -> String {
        match &self.kind {
            GitErrorKind::Spawn(error) => format!("cannot run `git`: {error}"),
            GitErrorKind::Failed { stderr, .. } => stderr.clone(),
        }
    }
}

impl fmt::Display for GitError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            GitErrorKind::Spawn(error) => {
                write!(formatter, "cannot run `{}`: {error}", self.command)
            }
            GitErrorKind::Failed { stderr, .. } => {
                write!(formatter, "`{}` failed: {stderr}", self.command)
            }
        }
    }
}

impl std::error::Error for GitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            GitErrorKind::Spawn(error) => Some(error),
            GitErrorKind::Failed { .. } => None,
        }
    }
}

/// Run `git <args>` in `dir` (the current directory when `None`); its stdout on success.
pub fn run<S: AsRef<OsStr>>(dir: Option<&Path>, args: &[S]) -> Result<Vec<u8>, GitError> {
    let output = run_unchecked(dir, args)?;
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(GitError {
            command: command_name(args),
            kind: GitErrorKind::Failed {
                status: output.status,
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            },
        })
    }
}

/// Run `git <args>` in `dir` (the current directory when `None`) and return its output
/// whatever its exit status; fails only when git cannot be started.
pub fn run_unchecked<S: AsRef<OsStr>>(dir: Option<&Path>, args: &[S]) -> Result<Output, GitError> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .stdin(Stdio::null())
        .output()
        .map_err(|error| GitError {
            command: command_name(args),
            kind: GitErrorKind::Spawn(error),
        })
}

/// `git <subcommand>`: the first argument that is not an option.
fn command_name<S: AsRef<OsStr>>(args: &[S]) -> String {
    match args
        .iter()
        .map(|arg| arg.as_ref().to_string_lossy())
        .find(|arg| !arg.starts_with('-'))
    {
        Some(subcommand) => format!("git {subcommand}"),
        None => "git".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_names_skip_options() {
        assert_eq!(command_name(&["--git-dir=/x", "fetch", "-q"]), "git fetch");
        assert_eq!(command_name(&["--version"]), "git");
    }

    #[test]
    fn failures_carry_trimmed_stderr() {
        let dir = tempfile::tempdir().unwrap();
        let error = run(Some(dir.path()), &["rev-parse", "HEAD"]).unwrap_err();
        assert_eq!(error.command, "git rev-parse");
        let GitErrorKind::Failed { status, stderr } = &error.kind else {
            panic!("{error:?}");
        };
        assert!(!status.success());
        assert!(stderr.contains("not a git repository"), "{stderr}");
        assert_eq!(stderr.trim(), stderr);
        assert_eq!(error.detail(), *stderr);
        assert_eq!(
            error.to_string(),
            format!("`git rev-parse` failed: {stderr}")
        );
    }

    #[test]
    fn unchecked_runs_return_output_of_failures() {
        let dir = tempfile::tempdir().unwrap();
        let output = run_unchecked(Some(dir.path()), &["rev-parse", "HEAD"]).unwrap();
        assert!(!output.status.success());
        assert!(!output.stderr.is_empty());
    }
}
