//! Pushing refs to a remote in one atomic transaction, with the `git` binary.
//!
//! gix cannot push, so [`push_refs`] runs one `git push --atomic --porcelain`. Its cost
//! must not grow with the refs already on the remote, so the refs are not named one by
//! one: they are written into a throwaway staging git directory (a `packed-refs` file
//! under `refs/eka-staging/`, the source repository's objects borrowed through
//! `objects/info/alternates`, its configuration included) and pushed with the one
//! refspec `refs/eka-staging/*:refs/*`. A bare `--force-with-lease` gives every pushed
//! ref the lease "must not exist" (a URL has no remote-tracking refs), so an existing
//! ref is never overwritten (git reports `stale info`) unless the caller names its
//! current value ([`RefUpdate::expected_old`], an explicit lease). A ref already at the
//! wanted id is reported up to date. If the server rejects any ref, it keeps none of
//! them. The staging directory is removed when the push returns, whatever happened.
//!
//! ```no_run
//! use atom::store::{RefUpdate, push_refs};
//! # let id = gix::ObjectId::null(gix::hash::Kind::Sha1);
//! let outcome = push_refs(
//!     std::path::Path::new("."),
//!     "file:///srv/set.git",
//!     &[RefUpdate { name: "refs/eka/atoms/hello/1.0.0".into(), new_id: id, expected_old: None }],
//! )
//! .unwrap();
//! assert!(outcome.is_success());
//! ```

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
};

use gix::ObjectId;

use crate::error::{Classify, Kind};

/// Why a push could not be carried out (refs the server rejected are not errors: they
/// are reported in [`PushOutcome`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A ref name is not a valid full ref name.
    #[error("`{name}` is not a valid full ref name (`refs/…`)")]
    RefName {
        /// The offending name.
        name: String,
    },
    /// The same ref appears twice in one push.
    #[error("ref `{name}` appears more than once in one push")]
    DuplicateRef {
        /// The offending name.
        name: String,
    },
    /// The staging git directory could not be written.
    #[error("cannot prepare the refs to push from `{}`", path.display())]
    Stage {
        /// The local repository.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// `git push` could not be started or got no answer in time.
    #[error("cannot push from `{}`", path.display())]
    Git {
        /// The local repository.
        path: PathBuf,
        /// The cause.
        #[source]
        source: super::git::Error,
    },
    /// `git push` failed without reporting every ref (connection, protocol or
    /// permission trouble).
    #[error("`git push` to `{url}` failed: {stderr}")]
    Failed {
        /// The remote URL.
        url: String,
        /// What git printed on stderr.
        stderr: String,
    },
}

/// One ref to set on the remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefUpdate {
    /// The full ref name (`refs/…`).
    pub name: String,
    /// The object the ref should point to (must exist in the local repository).
    pub new_id: ObjectId,
    /// The value the ref must have now on the remote; `None` means it must not exist.
    pub expected_old: Option<ObjectId>,
}

/// What happened to one ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefStatus {
    /// The ref did not exist and was created.
    Created,
    /// The ref already pointed to the wanted object.
    UpToDate,
    /// The ref existed with the expected value and was moved.
    Updated,
    /// The ref was not changed.
    Rejected {
        /// Why, as git reported it (e.g. `stale info`, `hook declined`,
        /// `atomic push failed`).
        reason: String,
    },
}

/// The result of one push, per ref, in the order the updates were given.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PushOutcome {
    /// Every requested ref and its status.
    pub refs: Vec<(String, RefStatus)>,
}

impl PushOutcome {
    /// `true` if no ref was rejected.
    pub fn is_success(&self) -> bool {
        self.rejected().next().is_none()
    }

    /// The refs that were created.
    pub fn created(&self) -> impl Iterator<Item = &str> {
        self.with_status(|status| *status == RefStatus::Created)
    }

    /// The refs that were already up to date.
    pub fn up_to_date(&self) -> impl Iterator<Item = &str> {
        self.with_status(|status| *status == RefStatus::UpToDate)
    }

    /// The refs that were rejected, with the reason.
    pub fn rejected(&self) -> impl Iterator<Item = (&str, &str)> {
        self.refs.iter().filter_map(|(name, status)| match status {
            RefStatus::Rejected { reason } => Some((name.as_str(), reason.as_str())),
            _ => None,
        })
    }

    fn with_status(&self, keep: impl Fn(&RefStatus) -> bool) -> impl Iterator<Item = &str> {
        self.refs
            .iter()
            .filter(move |(_, status)| keep(status))
            .map(|(name, _)| name.as_str())
    }
}

impl Classify for Error {
    fn kind(&self) -> Kind {
        match self {
            Error::RefName { .. } | Error::DuplicateRef { .. } => Kind::Input,
            Error::Git { source, .. } => source.kind(),
            Error::Stage { .. } | Error::Failed { .. } => Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Git { source, .. } => source.hint(),
            _ => None,
        }
    }
}

/// Push `updates` from the repository at `repo_path` to `url` in one atomic push.
///
/// Returns per-ref statuses; a server refusing any ref leaves all of them unchanged
/// (every other ref is then reported rejected too, with git's reason).
pub fn push_refs(repo_path: &Path, url: &str, updates: &[RefUpdate]) -> Result<PushOutcome, Error> {
    if updates.is_empty() {
        return Ok(PushOutcome::default());
    }
    validate(updates)?;
    let repo = super::git::Repo::open(repo_path);
    let staging = stage(&repo, updates)?;
    let leases: Vec<super::git::PushLease<'_>> = updates
        .iter()
        .filter_map(|update| {
            update.expected_old.map(|expected| super::git::PushLease {
                name: &update.name,
                expected,
            })
        })
        .collect();
    let refspecs = [format!("{STAGING_NAMESPACE}*:refs/*")];
    let request = super::git::PushRequest {
        source: staging.path(),
        refspecs: &refspecs,
        leases: &leases,
    };
    let pushed = repo.push_atomic(url, &request);
    // Removed on every path, before the outcome is read (failing to remove it is not a
    // push failure: it holds no ref of the repository).
    drop(staging);
    let report = pushed.map_err(|source| Error::Git {
        path: repo_path.to_owned(),
        source,
    })?;
    let mut reported: HashMap<String, RefStatus> =
        parse_porcelain(&report.stdout).into_iter().collect();

    let mut refs = Vec::with_capacity(updates.len());
    for update in updates {
        match reported.remove(&update.name) {
            Some(status) => refs.push((update.name.clone(), status)),
            None => {
                return Err(Error::Failed {
                    url: url.to_owned(),
                    stderr: report.stderr,
                });
            }
        }
    }
    let outcome = PushOutcome { refs };
    if !report.success && outcome.is_success() {
        return Err(Error::Failed {
            url: url.to_owned(),
            stderr: report.stderr,
        });
    }
    Ok(outcome)
}

/// Where the refs to push live in the staging git directory.
const STAGING_NAMESPACE: &str = "refs/eka-staging/";

/// The name prefix of the staging git directories [`push_refs`] creates (and removes)
/// inside the source repository's git directory.
pub const STAGING_DIRECTORY_PREFIX: &str = "eka-push-";

/// Every name must be a valid full ref name, and appear once.
fn validate(updates: &[RefUpdate]) -> Result<(), Error> {
    let mut seen = HashSet::new();
    for update in updates {
        let valid = update.name.starts_with("refs/")
            && gix::validate::reference::name(update.name.as_bytes().into()).is_ok();
        if !valid {
            return Err(Error::RefName {
                name: update.name.clone(),
            });
        }
        if !seen.insert(update.name.as_str()) {
            return Err(Error::DuplicateRef {
                name: update.name.clone(),
            });
        }
    }
    Ok(())
}

/// What the staging git directory borrows from the source repository.
struct Source {
    git_dir: PathBuf,
    object_format: String,
    objects: PathBuf,
    config: PathBuf,
    hooks: PathBuf,
    shallow: PathBuf,
}

/// Ask git where the source repository's git directory is, and where it keeps its objects, configuration, hooks and
/// shallow list (worktrees, `core.hooksPath` and relative paths resolved by git).
fn locate(repo: &super::git::Repo) -> Result<Source, Error> {
    let stdout = repo
        .run(&[
            "rev-parse",
            "--absolute-git-dir",
            "--show-object-format",
            "--path-format=absolute",
            "--git-path",
            "objects",
            "--git-path",
            "config",
            "--git-path",
            "hooks",
            "--git-path",
            "shallow",
        ])
        .map_err(|source| Error::Git {
            path: repo.path().to_owned(),
            source,
        })?;
    let mut lines = stdout.split(|byte| *byte == b'\n');
    let mut next = || {
        lines
            .next()
            .filter(|line| !line.is_empty())
            .and_then(|line| gix::path::from_byte_slice(line).ok())
            .map(Path::to_path_buf)
    };
    match (next(), next(), next(), next(), next(), next()) {
        (Some(git_dir), Some(format), Some(objects), Some(config), Some(hooks), Some(shallow)) => {
            Ok(Source {
                git_dir,
                object_format: format.to_string_lossy().into_owned(),
                objects,
                config,
                hooks,
                shallow,
            })
        }
        _ => Err(stage_error(
            repo.path(),
            std::io::Error::other("`git rev-parse --git-path` gave no paths"),
        )),
    }
}

/// Write a throwaway git directory holding `updates` as `refs/eka-staging/…` (one
/// `packed-refs` file, so its cost is one write whatever the number of refs), inside the
/// source's git directory (`eka-push-*`: same file system, never in a work tree).
fn stage(repo: &super::git::Repo, updates: &[RefUpdate]) -> Result<tempfile::TempDir, Error> {
    let source = locate(repo)?;
    let failed = |error: std::io::Error| stage_error(repo.path(), error);
    let dir = tempfile::Builder::new()
        .prefix(STAGING_DIRECTORY_PREFIX)
        .tempdir_in(&source.git_dir)
        .map_err(failed)?;
    let root = dir.path();
    fs_err::create_dir_all(root.join("objects").join("info")).map_err(failed)?;
    fs_err::create_dir_all(root.join("refs")).map_err(failed)?;
    fs_err::write(root.join("HEAD"), "ref: refs/heads/main\n").map_err(failed)?;
    fs_err::write(
        root.join("objects").join("info").join("alternates"),
        format!("{}\n", single_line(&source.objects).map_err(failed)?),
    )
    .map_err(failed)?;
    let config = staging_config(&source).map_err(failed)?;
    fs_err::write(root.join("config"), config).map_err(failed)?;
    if source.shallow.is_file() {
        fs_err::copy(&source.shallow, root.join("shallow")).map_err(failed)?;
    }

    let mut refs: Vec<(String, ObjectId)> = updates
        .iter()
        .map(|update| {
            let name = update.name.strip_prefix("refs/").unwrap_or(&update.name);
            (format!("{STAGING_NAMESPACE}{name}"), update.new_id)
        })
        .collect();
    // `sorted` promises the names in byte order.
    refs.sort();
    let mut packed = String::from("# pack-refs with: sorted \n");
    for (name, id) in refs {
        packed.push_str(&format!("{id} {name}\n"));
    }
    fs_err::write(root.join("packed-refs"), packed).map_err(failed)?;
    Ok(dir)
}

/// The staging directory's configuration: the source's own (included, so URL rewrites,
/// credentials and http settings apply as when pushing from it), then what makes the
/// staging directory a bare repository of the same object format running the source's
/// hooks.
fn staging_config(source: &Source) -> std::io::Result<String> {
    let mut config = String::new();
    if source.object_format == "sha1" {
        config.push_str("[core]\n\trepositoryformatversion = 0\n");
    } else {
        config.push_str("[core]\n\trepositoryformatversion = 1\n");
        config.push_str(&format!(
            "[extensions]\n\tobjectFormat = {}\n",
            source.object_format
        ));
    }
    config.push_str(&format!(
        "[include]\n\tpath = {}\n",
        quoted(single_line(&source.config)?)
    ));
    config.push_str(&format!(
        "[core]\n\tbare = true\n\thooksPath = {}\n",
        quoted(single_line(&source.hooks)?)
    ));
    Ok(config)
}

/// A path as one line of text (git's files hold one path per line).
fn single_line(path: &Path) -> std::io::Result<&str> {
    path.to_str()
        .filter(|text| !text.contains(['\n', '\r']))
        .ok_or_else(|| {
            std::io::Error::other(format!("`{}` is not one line of UTF-8", path.display()))
        })
}

/// A git config value in double quotes.
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

fn stage_error(path: &Path, source: std::io::Error) -> Error {
    Error::Stage {
        path: path.to_owned(),
        source,
    }
}

/// Parse `git push --porcelain` lines: `<flag>\t<from>:<to>\t<summary>`.
fn parse_porcelain(stdout: &str) -> Vec<(String, RefStatus)> {
    stdout
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, '\t');
            let flag = fields.next()?;
            let refspec = fields.next()?;
            let summary = fields.next().unwrap_or_default();
            let (_, to) = refspec.rsplit_once(':')?;
            let status = match flag {
                "*" => RefStatus::Created,
                "=" => RefStatus::UpToDate,
                " " | "+" => RefStatus::Updated,
                _ => RefStatus::Rejected {
                    reason: rejection_reason(summary),
                },
            };
            Some((to.to_owned(), status))
        })
        .collect()
}

/// `[remote rejected] (hook declined)` → `hook declined`; `[rejected]` → `rejected`.
fn rejection_reason(summary: &str) -> String {
    let summary = summary.trim();
    if let Some(start) = summary.find('(')
        && let Some(end) = summary.rfind(')')
        && start < end
    {
        return summary[start + 1..end].to_owned();
    }
    summary
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned()
}
