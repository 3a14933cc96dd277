//! `eka outdated`: for every locked atom (direct or transitive) and every direct Nix
//! input, the locked version, the newest the requirements allow and the newest
//! published.
//!
//! The newest allowed is what `eka update` would lock: [`run`] runs the lock
//! transaction ([`crate::transaction::relock`]) as a dry run with every atom and input
//! unpinned, and reads the resolver's choice and the gathered catalog (every published
//! version discovery found; with `--offline`, the cache's). Nothing is written. A Nix
//! `git` input with a `version` requirement has its newest tag as newest published
//! (listed on its remote, unknown offline); for other Nix inputs the newest published
//! cannot be known (`-`), and only a `git` input's newest allowed is known (what its
//! ref names now; unknown offline). Main types: [`Options`], [`Outcome`], [`Row`], [`Error`].
//!
//! ```no_run
//! use eka::{ops::outdated, transaction};
//!
//! let options = outdated::Options {
//!     lock: transaction::Options {
//!         dir: ".".into(),
//!         cache: "/home/me/.cache/eka".into(),
//!         offline: false,
//!         locked: false,
//!         dry_run: true,
//!         reporter: atom::progress::Silent::shared(),
//!         mirrors: Default::default(),
//!         trust: Default::default(),
//!     },
//! };
//! let outcome = outdated::run(&options)?;
//! println!("{}", outcome.can_move());
//! # Ok::<(), outdated::Error>(())
//! ```

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use atom::{
    error::{Classify, Kind},
    lock::{LockedNixInput, Lockfile, NixKind},
};
use resolver::AtomKey;
use semver::Version;
use serde::Serialize;

use crate::transaction::{self, Plan, Unpin};

/// What "unknown" is shown as.
pub const UNKNOWN: &str = "-";

/// How to look.
#[derive(Debug, Clone)]
pub struct Options {
    /// How to lock (always run as a dry run, never `--locked`).
    pub lock: transaction::Options,
}

/// One locked atom or direct Nix input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    /// The atom's label or the input's name.
    pub name: String,
    /// `direct` or `transitive` (atoms), `nix` (direct Nix inputs).
    pub kind: &'static str,
    /// The atom's set root (atoms only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    /// The locked version (a Nix input's pin: version, short commit or NAR hash).
    pub locked: String,
    /// The newest the requirements allow (`-`: unknown; `removed`: no longer needed).
    pub allowed: String,
    /// The newest published (`-`: unknown).
    pub newest: String,
    /// Whether `eka update` would move it.
    pub can_move: bool,
}

/// Every locked atom and direct Nix input.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Outcome {
    /// Atoms (direct first, by label), then Nix inputs (by name).
    pub rows: Vec<Row>,
    /// Mirrors skipped, tags that could not be listed, caches rebuilt.
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Outcome {
    /// Whether anything can move to a newer allowed version.
    pub fn can_move(&self) -> bool {
        self.rows.iter().any(|row| row.can_move)
    }
}

/// Why the versions could not be found.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The project holds no `atom.lock`.
    #[error("no `atom.lock` in `{}`", dir.display())]
    NoLock {
        /// The project directory.
        dir: PathBuf,
    },
    /// The lockfile could not be read.
    #[error(transparent)]
    Lock(#[from] atom::lock::Error),
    /// The dry-run update failed.
    #[error(transparent)]
    Transaction(Box<transaction::Error>),
}

impl From<transaction::Error> for Error {
    fn from(error: transaction::Error) -> Self {
        Error::Transaction(Box::new(error))
    }
}

impl Classify for Error {
    /// A missing or invalid lock is the input; the transaction says for itself.
    fn kind(&self) -> Kind {
        match self {
            Error::NoLock { .. } => Kind::Input,
            Error::Lock(error) => error.kind(),
            Error::Transaction(error) => error.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::NoLock { .. } => Some("run `eka resolve` to write `atom.lock`".into()),
            Error::Lock(error) => error.hint(),
            Error::Transaction(error) => error.hint(),
        }
    }
}

/// What the dry-run update saw: per atom, the resolver's choice and the newest
/// published; and which atoms the project requires directly.
#[derive(Debug, Default)]
struct Seen {
    allowed: BTreeMap<(String, String), Version>,
    newest: BTreeMap<(String, String), Version>,
    direct: BTreeSet<(String, String)>,
}

fn key_of(key: &AtomKey) -> (String, String) {
    (key.set.clone(), key.label.to_string())
}

/// The newest stable version of `versions`, else the newest.
fn newest_published<'a>(versions: impl Iterator<Item = &'a Version> + Clone) -> Option<Version> {
    versions
        .clone()
        .filter(|version| version.pre.is_empty())
        .max()
        .or_else(|| versions.max())
        .cloned()
}

/// Run `eka outdated` (see the module docs).
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let path = options.lock.dir.join(atom::lock::FILE_NAME);
    if !path.is_file() {
        return Err(Error::NoLock {
            dir: options.lock.dir.clone(),
        });
    }
    let old = Lockfile::read(&path)?;
    let lock = transaction::Options {
        dry_run: true,
        locked: false,
        ..options.lock.clone()
    };
    let mut seen = Seen::default();
    let plan = Plan {
        unpin: Unpin::All,
        ..Plan::default()
    };
    let outcome = transaction::relock(&lock, plan, &mut |_, resolved| {
        if let Some((catalog, resolution)) = resolved {
            for (key, atom) in &resolution.atoms {
                seen.allowed.insert(key_of(key), atom.version.clone());
            }
            seen.direct = resolution.root.iter().map(key_of).collect();
            for (key, versions) in &catalog.published {
                if let Some(newest) = newest_published(versions.keys()) {
                    seen.newest.insert(key_of(key), newest);
                }
            }
        }
        Ok(false)
    })?;
    let mut warnings: Vec<String> = outcome.warnings.iter().map(ToString::to_string).collect();
    let mut rows = atom_rows(&old, &seen);
    let nix_allowed: BTreeMap<&str, Option<&str>> = outcome
        .changes
        .nix
        .iter()
        .map(|change| (change.name.as_str(), change.new.as_deref()))
        .collect();
    for input in &old.nix {
        rows.push(nix_row(
            input,
            &nix_allowed,
            options.lock.offline,
            &mut warnings,
        ));
    }
    Ok(Outcome { rows, warnings })
}

/// One row per locked atom: direct ones first, then by label and set.
fn atom_rows(old: &Lockfile, seen: &Seen) -> Vec<Row> {
    let mut rows: Vec<Row> = old
        .atoms
        .iter()
        .map(|atom| {
            let key = (atom.set.to_string(), atom.label.to_string());
            let locked = atom.version.clone();
            let allowed = seen.allowed.get(&key);
            let newest = [Some(&locked), allowed, seen.newest.get(&key)]
                .into_iter()
                .flatten()
                .max()
                .cloned()
                .unwrap_or_else(|| locked.clone());
            Row {
                name: key.1.clone(),
                kind: if seen.direct.contains(&key) {
                    "direct"
                } else {
                    "transitive"
                },
                set: Some(key.0.clone()),
                locked: locked.to_string(),
                allowed: allowed.map_or_else(|| "removed".to_owned(), ToString::to_string),
                newest: newest.to_string(),
                can_move: allowed.is_some_and(|allowed| *allowed != locked),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.kind != "direct", &a.name, &a.set).cmp(&(b.kind != "direct", &b.name, &b.set))
    });
    rows
}

/// The row of a direct Nix input; `allowed` holds the re-pinned inputs' new pins.
fn nix_row(
    input: &LockedNixInput,
    allowed: &BTreeMap<&str, Option<&str>>,
    offline: bool,
    warnings: &mut Vec<String>,
) -> Row {
    let locked = nix::input::pin_of(input);
    let name = input.name.to_string();
    let allowed = if input.kind == NixKind::Git {
        match allowed.get(name.as_str()) {
            Some(Some(pin)) => (*pin).to_owned(),
            Some(None) => "removed".to_owned(),
            // Offline, nothing was asked of the remote.
            None if offline => UNKNOWN.to_owned(),
            None => locked.clone(),
        }
    } else {
        UNKNOWN.to_owned()
    };
    let newest = match &input.version {
        Some(_) if !offline => newest_tag(&input.url, warnings)
            .map_or_else(|| UNKNOWN.to_owned(), |version| version.to_string()),
        _ => UNKNOWN.to_owned(),
    };
    Row {
        can_move: allowed != UNKNOWN && allowed != locked,
        name,
        kind: "nix",
        set: None,
        locked,
        allowed,
        newest,
    }
}

/// The newest `[v]X.Y.Z` tag of the git repository at `url` (stable first), or `None`
/// with a warning when the tags cannot be listed.
fn newest_tag(url: &str, warnings: &mut Vec<String>) -> Option<Version> {
    let output = match atom::store::git::ls_remote(url, &["refs/tags/*".to_owned()]) {
        Ok(output) => output,
        Err(error) => {
            warnings.push(format!("cannot list the tags of `{url}`: {error}"));
            return None;
        }
    };
    let text = String::from_utf8_lossy(&output);
    let versions: Vec<Version> = text
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .filter_map(|(_, name)| name.strip_prefix("refs/tags/"))
        .filter_map(|tag| tag.strip_prefix('v').unwrap_or(tag).parse().ok())
        .collect();
    newest_published(versions.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_published_is_the_newest_stable_else_the_newest() {
        let versions: Vec<Version> = ["1.0.0", "2.0.0-beta.1", "1.5.0"]
            .iter()
            .map(|text| text.parse().unwrap())
            .collect();
        assert_eq!(
            newest_published(versions.iter()),
            Some("1.5.0".parse().unwrap())
        );
        let pre: Vec<Version> = vec!["2.0.0-beta.1".parse().unwrap()];
        assert_eq!(newest_published(pre.iter()), Some(pre[0].clone()));
    }
}
