//! Pushing refs to a remote in one atomic transaction, with the `git` binary.
//!
//! gix cannot push, so [`push_refs`] runs one `git push --atomic --porcelain`. Every
//! ref carries a lease (`--force-with-lease=<ref>:<expected>`, an empty expectation
//! meaning "must not exist"), so an existing ref is never overwritten unless the caller
//! names its current value. A ref already at the wanted id is reported up to date. If
//! the server rejects any ref, it keeps none of them.
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

use std::path::{Path, PathBuf};

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
            Error::Failed { .. } => Kind::Environment,
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
    let mut seen = std::collections::HashSet::new();
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

    let leases: Vec<super::git::PushUpdate<'_>> = updates
        .iter()
        .map(|update| super::git::PushUpdate {
            name: &update.name,
            new_id: update.new_id,
            expected_old: update.expected_old,
        })
        .collect();
    let report = super::git::Repo::open(repo_path)
        .push_atomic(url, &leases)
        .map_err(|source| Error::Git {
            path: repo_path.to_owned(),
            source,
        })?;
    let reported = parse_porcelain(&report.stdout);

    let mut refs = Vec::with_capacity(updates.len());
    for update in updates {
        match reported.iter().find(|(name, _)| *name == update.name) {
            Some((_, status)) => refs.push((update.name.clone(), status.clone())),
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
