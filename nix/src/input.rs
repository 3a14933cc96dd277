//! Locking direct Nix inputs: from `[deps.direct.nix]` in `atom.toml` to the `[[nix]]`
//! entries of `atom.lock` ([`LockedNixInput`]).
//!
//! [`lock_nix_inputs`] keeps a locked input whose manifest entry still describes it
//! (same kind, URL and `flake`; for git, the same `ref` or a `version` the locked one
//! still matches) without touching the network, and locks the others:
//!
//! - `git` + `ref`: the ref is resolved on the remote with `git ls-remote` (`main` means
//!   `refs/heads/main`, then `refs/tags/main`), the commit is fetched into the cache's
//!   inputs store (`<cache>/v1/inputs.git`, [`atom::store::cache::Cache::inputs_repo`])
//!   through [`atom::store::git::Repo::fetch`] and `narHash` is the NAR hash of its tree
//!   ([`crate::nar::hash_git_tree`], which refuses submodules and export attributes).
//! - `git` + `version`: the newest tag `refs/tags/[v]X.Y.Z` matching the requirement
//!   (pre-releases as [`semver::VersionReq::matches`] allows them); annotated tags are
//!   peeled to their commit once fetched.
//! - `url` and `build`: the file is downloaded (`file://`, `http://`, with `ureq`) and
//!   both its flat hash (`hash`) and its NAR hash (`narHash`) are recorded.
//! - `tar`: `narHash` is the NAR hash of the unpacked tarball.
//!
//! Downloads pass through an anonymous file in `<cache>/v1/downloads/` and are not kept.
//! Each input locked anew is one item of a `Locking` step on the caller's
//! [`Reporter`]; a damaged inputs store is rebuilt and reported
//! in [`Locked::warnings`]. Git failures name the command and the URL.
//!
//! ```
//! use atom::lock::Lockfile;
//! use atom::manifest::Manifest;
//! use atom::progress::Silent;
//! use nix::input::{Options, lock_nix_inputs};
//!
//! let manifest = Manifest::from_str("[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n", "atom.toml")?;
//! let options = Options { cache: "/nonexistent".into(), offline: true, relock: Default::default() };
//! let locked = lock_nix_inputs(&manifest, &Lockfile::default(), &options, &Silent)?;
//! assert!(locked.inputs.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{
    io::{Read, Seek, Write as _},
    path::{Path, PathBuf},
};

use atom::{
    Label,
    error::{Classify, Kind},
    lock::{FlatHash, LockedNixInput, Lockfile, NarHash, NixKind, ObjectId},
    manifest::{GitSelector, Manifest, NixFetch, NixInput},
    progress::{Reporter, Step},
    store::{
        cache::Cache,
        git::{self, Depth, FetchSpec},
    },
};
use semver::{Version, VersionReq};

/// Why a direct Nix input could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `--offline` and the input is not locked yet.
    #[error("cannot lock Nix input `{name}` offline: it is not in `atom.lock` yet")]
    Offline {
        /// The input.
        name: Label,
        /// What to do.
        hint: &'static str,
    },
    /// The ref does not exist on the remote.
    #[error("Nix input `{name}`: ref `{reference}` not found at `{url}`")]
    NoSuchRef {
        /// The input.
        name: Label,
        /// The repository.
        url: String,
        /// The ref asked for.
        reference: String,
        /// What to do.
        hint: &'static str,
    },
    /// No tag matches the version requirement.
    #[error("Nix input `{name}`: no tag of `{url}` matches `{requirement}`")]
    NoMatchingTag {
        /// The input.
        name: Label,
        /// The repository.
        url: String,
        /// The requirement.
        requirement: VersionReq,
        /// What to do.
        hint: String,
    },
    /// The URL's scheme cannot be fetched by eka.
    #[error(
        "Nix input `{name}`: cannot fetch `{url}`: only `file://` and `http://` URLs are supported"
    )]
    Scheme {
        /// The input.
        name: Label,
        /// The URL.
        url: String,
        /// What to do.
        hint: &'static str,
    },
    /// A git command failed (the error names the command and the URL).
    #[error("Nix input `{name}`: {error}")]
    Git {
        /// The input.
        name: Label,
        /// What failed.
        error: git::Error,
    },
    /// Downloading failed.
    #[error("Nix input `{name}`: cannot fetch `{url}`: {message}")]
    Fetch {
        /// The input.
        name: Label,
        /// The URL.
        url: String,
        /// Why.
        message: String,
    },
    /// The fetched content has no NAR hash Nix would agree with (submodules, export
    /// attributes, a malformed tarball...).
    #[error("Nix input `{name}` cannot be hashed")]
    Hash {
        /// The input.
        name: Label,
        /// The cause.
        #[source]
        source: crate::nar::Error,
    },
    /// The cache could not be opened, locked or repaired.
    #[error(transparent)]
    Store(#[from] atom::store::cache::Error),
    /// A cache repository could not be read.
    #[error("cannot use the cache `{}`: {message}", path.display())]
    Cache {
        /// The path.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

impl Classify for Error {
    /// An input eka cannot lock as written is the user's; git, the network or the cache
    /// failing is the environment.
    fn kind(&self) -> Kind {
        match self {
            Error::Offline { .. }
            | Error::NoSuchRef { .. }
            | Error::NoMatchingTag { .. }
            | Error::Scheme { .. }
            | Error::Hash { .. } => Kind::Input,
            Error::Git { .. } | Error::Fetch { .. } | Error::Cache { .. } => Kind::Environment,
            Error::Store(error) => error.kind(),
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Offline { hint, .. }
            | Error::NoSuchRef { hint, .. }
            | Error::Scheme { hint, .. } => Some((*hint).to_owned()),
            Error::NoMatchingTag { hint, .. } => Some(hint.clone()),
            Error::Hash { .. } => Some(
                "a git input with submodules or export attributes cannot be pinned by eka; \
                 use a `tar` input instead"
                    .to_owned(),
            ),
            Error::Git { error, .. } => error.hint(),
            Error::Store(error) => error.hint(),
            Error::Fetch { .. } | Error::Cache { .. } => None,
        }
    }
}

/// Which locked inputs to lock again even though their manifest entry did not change.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Relock {
    /// None: keep every locked input still described by the manifest.
    #[default]
    Nothing,
    /// All of them (`eka update`).
    All,
    /// These names (`eka update <name>…`).
    Names(Vec<Label>),
}

/// How to lock.
#[derive(Debug, Clone)]
pub struct Options {
    /// The eka cache directory (git inputs are fetched into `<cache>/v1/inputs.git`,
    /// downloads go through `<cache>/v1/downloads/`).
    pub cache: PathBuf,
    /// Refuse to touch the network.
    pub offline: bool,
    /// Which locked inputs to lock again.
    pub relock: Relock,
}

/// What [`lock_nix_inputs`] produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locked {
    /// The `[[nix]]` entries, sorted by name.
    pub inputs: Vec<LockedNixInput>,
    /// Damaged parts of the cache that were rebuilt, for the caller to print as warnings.
    pub warnings: Vec<String>,
}

/// Lock every input of `manifest`'s `[deps.direct.nix]`, keeping `old`'s entries that
/// still fit (see the module docs). Each input locked anew is one item of a `Locking`
/// step on `reporter`. The cache is opened only when something is locked anew.
pub fn lock_nix_inputs(
    manifest: &Manifest,
    old: &Lockfile,
    options: &Options,
    reporter: &dyn Reporter,
) -> Result<Locked, Error> {
    let mut inputs = Vec::new();
    let mut to_lock = Vec::new();
    for (name, input) in &manifest.deps.direct.nix {
        let relock = match &options.relock {
            Relock::Nothing => false,
            Relock::All => true,
            Relock::Names(names) => names.contains(name),
        };
        let previous = old
            .nix
            .iter()
            .find(|entry| &entry.name == name && still_fits(entry, input));
        match previous {
            Some(entry) if !relock || options.offline => inputs.push(entry.clone()),
            _ if options.offline => {
                return Err(Error::Offline {
                    name: name.clone(),
                    hint: "run the command without `--offline` (or `--frozen`) to lock it",
                });
            }
            _ => to_lock.push((name, input)),
        }
    }
    let mut warnings = Vec::new();
    if !to_lock.is_empty() {
        let cache = Cache::open(&options.cache)?;
        let step = Step::begin(reporter, "Locking", Some(to_lock.len() as u64));
        for (name, input) in to_lock {
            inputs.push(lock_one(name, input, &cache)?);
            step.advance(name.as_str());
        }
        warnings.extend(cache.take_repairs().iter().map(ToString::to_string));
    }
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Locked { inputs, warnings })
}

/// Whether the locked `entry` still describes the manifest's `input`.
pub fn still_fits(entry: &LockedNixInput, input: &NixInput) -> bool {
    if entry.kind.as_str() != input.fetch.kind()
        || entry.url != input.fetch.url()
        || entry.flake != input.flake
    {
        return false;
    }
    match &input.fetch {
        NixFetch::Git { selector, .. } => {
            entry.rev.is_some()
                && entry.nar_hash.is_some()
                && match selector {
                    GitSelector::Ref(reference) => entry.reference.as_deref().is_some_and(|r| {
                        r == reference
                            || r.strip_prefix("refs/heads/") == Some(reference)
                            || r.strip_prefix("refs/tags/") == Some(reference)
                    }),
                    GitSelector::Version(requirement) => entry
                        .version
                        .as_ref()
                        .is_some_and(|version| requirement.matches(version)),
                }
        }
        NixFetch::Tar(_) => entry.nar_hash.is_some(),
        NixFetch::Url(_) | NixFetch::Build(_) => entry.nar_hash.is_some() && entry.hash.is_some(),
    }
}

pub(crate) fn lock_one(
    name: &Label,
    input: &NixInput,
    cache: &Cache,
) -> Result<LockedNixInput, Error> {
    let url = input.fetch.url().to_owned();
    let mut locked = LockedNixInput {
        name: name.clone(),
        kind: NixKind::Url,
        url: url.clone(),
        reference: None,
        version: None,
        rev: None,
        nar_hash: None,
        hash: None,
        flake: input.flake,
    };
    match &input.fetch {
        NixFetch::Git { selector, .. } => {
            locked.kind = NixKind::Git;
            let git = InputsRepo::open(name, cache)?;
            // One writer of the inputs store at a time.
            let _lock = cache.lock()?;
            let (reference, version, commit) = match selector {
                GitSelector::Ref(reference) => {
                    let (full, commit) = resolve_ref(&git, name, &url, reference)?;
                    (full, None, commit)
                }
                GitSelector::Version(requirement) => {
                    let (full, version, commit) = resolve_version(&git, name, &url, requirement)?;
                    (full, Some(version), commit)
                }
            };
            let (commit, tree) = git.fetch(&url, &reference, &commit)?;
            let nar_hash = git.nar_hash(tree)?;
            locked.reference = Some(reference);
            locked.version = version;
            locked.rev = Some(parse_value(name, ObjectId::parse(&commit))?);
            locked.nar_hash = Some(parse_value(name, NarHash::parse(&nar_hash))?);
        }
        NixFetch::Tar(_) => {
            locked.kind = NixKind::Tar;
            let file = download(name, &url, cache)?;
            let hash = crate::nar::hash_tarball(&file).map_err(|source| Error::Hash {
                name: name.clone(),
                source,
            })?;
            locked.nar_hash = Some(parse_value(name, NarHash::parse(&hash.to_sri()))?);
        }
        NixFetch::Url(_) | NixFetch::Build(_) => {
            if matches!(input.fetch, NixFetch::Build(_)) {
                locked.kind = NixKind::Build;
            }
            let mut file = download(name, &url, cache)?;
            let io_error = |error: std::io::Error| Error::Fetch {
                name: name.clone(),
                url: url.clone(),
                message: error.to_string(),
            };
            let flat = crate::flat_hash(&file).map_err(io_error)?;
            let size = file.seek(std::io::SeekFrom::End(0)).map_err(io_error)?;
            file.rewind().map_err(io_error)?;
            let nar =
                crate::nar::hash_regular(&file, size, false).map_err(|source| Error::Hash {
                    name: name.clone(),
                    source,
                })?;
            locked.hash = Some(parse_value(name, FlatHash::parse(&flat.to_sri()))?);
            locked.nar_hash = Some(parse_value(name, NarHash::parse(&nar.to_sri()))?);
        }
    }
    Ok(locked)
}

fn parse_value<T>(name: &Label, value: Result<T, atom::lock::ValueError>) -> Result<T, Error> {
    value.map_err(|error| Error::Fetch {
        name: name.clone(),
        url: String::new(),
        message: error.to_string(),
    })
}

/// The commit a ref list gives `name`, peeling annotated tags.
fn commit_of(refs: &[(String, String)], name: &str) -> Option<String> {
    let peeled = format!("{name}^{{}}");
    refs.iter()
        .find(|(candidate, _)| *candidate == peeled)
        .or_else(|| refs.iter().find(|(candidate, _)| candidate == name))
        .map(|(_, id)| id.clone())
}

/// The full name of `reference` on `url` and the object it names (a tag is peeled
/// once fetched).
fn resolve_ref(
    git: &InputsRepo<'_>,
    name: &Label,
    url: &str,
    reference: &str,
) -> Result<(String, String), Error> {
    if reference == "HEAD" {
        return Ok((reference.to_owned(), git.fetch_head(url)?));
    }
    let candidates: Vec<String> = if reference.starts_with("refs/") {
        vec![reference.to_owned()]
    } else {
        vec![
            format!("refs/heads/{reference}"),
            format!("refs/tags/{reference}"),
        ]
    };
    let refs = git.ls_remote(url, &candidates)?;
    candidates
        .iter()
        .find_map(|candidate| commit_of(&refs, candidate).map(|id| (candidate.clone(), id)))
        .ok_or_else(|| Error::NoSuchRef {
            name: name.clone(),
            url: url.to_owned(),
            reference: reference.to_owned(),
            hint: "check the ref with `git ls-remote <url>`; a short name means a branch or a tag",
        })
}

fn resolve_version(
    git: &InputsRepo<'_>,
    name: &Label,
    url: &str,
    requirement: &VersionReq,
) -> Result<(String, Version, String), Error> {
    let refs = git.ls_remote(url, &["refs/tags/*".to_owned()])?;
    let mut best: Option<(Version, String)> = None;
    for (reference, _) in &refs {
        let Some(tag) = reference.strip_prefix("refs/tags/") else {
            continue;
        };
        if tag.ends_with("^{}") {
            continue;
        }
        let Ok(version) = tag.strip_prefix('v').unwrap_or(tag).parse::<Version>() else {
            continue;
        };
        if !requirement.matches(&version) {
            continue;
        }
        // The newest version wins; between `vX` and `X` tags, the smaller ref name.
        let better = match &best {
            None => true,
            Some((current, current_ref)) => {
                version > *current || (version == *current && reference < current_ref)
            }
        };
        if better {
            best = Some((version, reference.clone()));
        }
    }
    let (version, reference) = best.ok_or_else(|| Error::NoMatchingTag {
        name: name.clone(),
        url: url.to_owned(),
        requirement: requirement.clone(),
        hint: format!(
            "the tags are {}; loosen the requirement or lock a `ref`",
            describe_tags(&refs)
        ),
    })?;
    let commit = commit_of(&refs, &reference).ok_or_else(|| Error::NoSuchRef {
        name: name.clone(),
        url: url.to_owned(),
        reference: reference.clone(),
        hint: "the remote changed while it was read; run the command again",
    })?;
    Ok((reference, version, commit))
}

fn describe_tags(refs: &[(String, String)]) -> String {
    let tags: Vec<&str> = refs
        .iter()
        .filter_map(|(name, _)| name.strip_prefix("refs/tags/"))
        .filter(|tag| !tag.ends_with("^{}"))
        .collect();
    if tags.is_empty() {
        "none".to_owned()
    } else {
        tags.iter()
            .map(|tag| format!("`{tag}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Where fetched input objects are kept in the inputs store.
const INPUTS_NAMESPACE: &str = "refs/inputs/";

/// The cache's store of Nix git inputs (`<cache>/v1/inputs.git`), for one input.
struct InputsRepo<'a> {
    name: &'a Label,
    git: git::Repo,
}

impl<'a> InputsRepo<'a> {
    /// Open (creating or repairing) the cache's inputs store.
    fn open(name: &'a Label, cache: &Cache) -> Result<InputsRepo<'a>, Error> {
        Ok(InputsRepo {
            name,
            git: cache.inputs_repo()?,
        })
    }

    fn git_error(&self, error: git::Error) -> Error {
        Error::Git {
            name: self.name.clone(),
            error,
        }
    }

    /// The store read with gix (opened afresh, to see what git just wrote).
    fn read(&self) -> Result<gix::Repository, Error> {
        gix::open(self.git.path()).map_err(|error| Error::Cache {
            path: self.git.path().to_path_buf(),
            message: error.to_string(),
        })
    }

    /// The refs of `url` matching `patterns` (peeled tags are not listed: a tag is
    /// peeled to its commit once fetched, see [`InputsRepo::commit_with_tree`]).
    fn ls_remote(&self, url: &str, patterns: &[String]) -> Result<Vec<(String, String)>, Error> {
        let output = git::ls_remote(url, patterns).map_err(|error| self.git_error(error))?;
        Ok(String::from_utf8_lossy(&output)
            .lines()
            .filter_map(|line| line.split_once('\t'))
            .map(|(id, name)| (name.to_owned(), id.to_owned()))
            .collect())
    }

    /// The commit `id` names (a commit, or a tag peeled to one), when it is here with
    /// its tree.
    fn commit_with_tree(&self, id: &str) -> Result<Option<(String, gix::ObjectId)>, Error> {
        let repo = self.read()?;
        let Ok(id) = gix::ObjectId::from_hex(id.as_bytes()) else {
            return Ok(None);
        };
        let commit = repo
            .find_object(id)
            .ok()
            .and_then(|object| object.peel_to_kind(gix::object::Kind::Commit).ok())
            .and_then(|object| {
                let commit = object.id;
                let tree = object.try_into_commit().ok()?.tree_id().ok()?.detach();
                repo.has_object(tree).then_some((commit.to_string(), tree))
            });
        Ok(commit)
    }

    /// Fetch `id` (the tip of `reference` when it was listed) from `url` unless it is
    /// here; the commit it names and that commit's tree.
    fn fetch(
        &self,
        url: &str,
        reference: &str,
        id: &str,
    ) -> Result<(String, gix::ObjectId), Error> {
        if let Some(found) = self.commit_with_tree(id)? {
            return Ok(found);
        }
        let by_ref = FetchSpec {
            refspecs: vec![format!("+{reference}:{INPUTS_NAMESPACE}{id}")],
            depth: Depth::Incremental,
        };
        let fetched = self.git.fetch(url, &by_ref);
        if fetched.is_ok()
            && let Some(found) = self.commit_with_tree(id)?
        {
            return Ok(found);
        }
        // The ref moved since it was listed: ask for the object itself.
        let by_id = FetchSpec {
            refspecs: vec![format!("+{id}:{INPUTS_NAMESPACE}{id}")],
            depth: Depth::Incremental,
        };
        self.git
            .fetch(url, &by_id)
            .map_err(|error| self.git_error(error))?;
        self.commit_with_tree(id)?.ok_or_else(|| Error::Fetch {
            name: self.name.clone(),
            url: url.to_owned(),
            message: format!("the remote did not send `{id}`"),
        })
    }

    /// Fetch the remote's `HEAD` (never listed by ref name); the object it names.
    fn fetch_head(&self, url: &str) -> Result<String, Error> {
        let kept = format!("{INPUTS_NAMESPACE}HEAD");
        let spec = FetchSpec {
            refspecs: vec![format!("+HEAD:{kept}")],
            depth: Depth::Incremental,
        };
        self.git
            .fetch(url, &spec)
            .map_err(|error| self.git_error(error))?;
        let repo = self.read()?;
        let id = repo
            .find_reference(kept.as_str())
            .ok()
            .and_then(|reference| reference.try_id().map(|id| id.detach()))
            .ok_or_else(|| Error::NoSuchRef {
                name: self.name.clone(),
                url: url.to_owned(),
                reference: "HEAD".to_owned(),
                hint: "check the ref with `git ls-remote <url>`; a short name means a branch or a tag",
            })?;
        Ok(id.to_string())
    }

    /// The NAR hash (SRI) of `tree`, as `builtins.fetchGit` reports it.
    fn nar_hash(&self, tree: gix::ObjectId) -> Result<String, Error> {
        let repo = self.read()?;
        let hash = crate::nar::hash_git_tree(&repo, tree).map_err(|source| Error::Hash {
            name: self.name.clone(),
            source,
        })?;
        Ok(hash.to_sri())
    }
}

/// Download `url` into an anonymous temporary file in the cache, rewound.
fn download(name: &Label, url: &str, cache: &Cache) -> Result<std::fs::File, Error> {
    let fetch_error = |message: String| Error::Fetch {
        name: name.clone(),
        url: url.to_owned(),
        message,
    };
    let parsed = url::Url::parse(url).map_err(|error| fetch_error(error.to_string()))?;
    let mut reader: Box<dyn Read> = match parsed.scheme() {
        "file" => {
            let path = parsed
                .to_file_path()
                .map_err(|()| fetch_error("not a local path".to_owned()))?;
            Box::new(
                std::fs::File::open(&path)
                    .map_err(|error| fetch_error(format!("`{}`: {error}", path.display())))?,
            )
        }
        "http" => {
            let deadline = atom::store::git::network_timeout();
            let agent = ureq::AgentBuilder::new()
                .timeout_connect(deadline)
                .timeout_read(deadline)
                .build();
            let response = agent
                .get(url)
                .call()
                .map_err(|error| fetch_error(error.to_string()))?;
            response.into_reader()
        }
        _ => {
            return Err(Error::Scheme {
                name: name.clone(),
                url: url.to_owned(),
                hint: "lock it with Nix (`nix-prefetch-url`) and write the hash into `atom.lock`, \
                       or serve it over `http://`",
            });
        }
    };
    let directory = cache.downloads_dir();
    std::fs::create_dir_all(&directory).map_err(|error| Error::Cache {
        path: directory.clone(),
        message: error.to_string(),
    })?;
    let mut file = tempfile_in(&directory).map_err(|error| Error::Cache {
        path: directory.clone(),
        message: error.to_string(),
    })?;
    std::io::copy(&mut reader, &mut file).map_err(|error| fetch_error(error.to_string()))?;
    file.flush()
        .map_err(|error| fetch_error(error.to_string()))?;
    file.rewind()
        .map_err(|error| fetch_error(error.to_string()))?;
    Ok(file)
}

/// A read-write file in `directory` that is removed at once (so it vanishes with us).
fn tempfile_in(directory: &Path) -> std::io::Result<std::fs::File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let path = directory.join(format!(
        "download-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

/// A direct Nix input added, re-pinned or dropped, as shown in a change list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NixChange {
    /// The input's name.
    pub name: String,
    /// Its pin before (version, short commit or NAR hash; None when added).
    pub old: Option<String>,
    /// Its pin after (None when removed).
    pub new: Option<String>,
}

/// A short description of what pins `input`: the version, else the commit, else the hash.
pub fn pin_of(input: &LockedNixInput) -> String {
    if let Some(version) = &input.version {
        return version.to_string();
    }
    if let Some(rev) = &input.rev {
        return rev.as_str().chars().take(12).collect();
    }
    input
        .nar_hash
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// Compare two locks' `[[nix]]` entries by name.
pub fn diff(old: &[LockedNixInput], new: &[LockedNixInput]) -> Vec<NixChange> {
    let mut changes = Vec::new();
    for input in new {
        match old.iter().find(|before| before.name == input.name) {
            Some(before) if before == input => {}
            before => changes.push(NixChange {
                name: input.name.to_string(),
                old: before.map(pin_of),
                new: Some(pin_of(input)),
            }),
        }
    }
    for before in old {
        if !new.iter().any(|input| input.name == before.name) {
            changes.push(NixChange {
                name: before.name.to_string(),
                old: Some(pin_of(before)),
                new: None,
            });
        }
    }
    changes
}
