//! `eka publish`: cut atoms from a commit and push them to a set's remote, atomically.
//!
//! [`run`] reads `ekala.toml` and every `atom.toml` from the object database at one
//! commit (never the working tree), validates each selected atom's tree, cuts its
//! reproducible atom commit ([`atom::store::cut_atom`], hashing with [`content_hash`]),
//! compares it with what the remote already has and pushes every new ref of the run in
//! one atomic push. Main types: [`Options`], [`Outcome`] (one [`Published`] per valid
//! atom, with its [`Status`], and one [`Invalid`] per bad one) and [`Error`]. Progress goes to [`Options::reporter`]: a
//! `Hashing` step advancing per atom tree validated and a `Publishing` step per atom cut
//! (hashed and built), then a `Pushing` step without a total.
//!
//! Every selected atom is checked first (its tree against hostile content, its
//! manifest, its label unique among the selected atoms): each bad one becomes an
//! [`Invalid`] naming its directory and what is wrong. With any of them nothing is
//! pushed, unless [`Options::keep_going`] publishes the good atoms anyway.
//!
//! A version is identified by its content: one already published with the same content
//! hash and the same `atom.toml` blob is skipped, whatever source commit it was cut
//! from; one published with other content (or another manifest) is refused (never
//! forced) and reported in the outcome while the other atoms of the run are still
//! published. A remote whose atoms belong to another set is refused as a whole.
//!
//! ```no_run
//! use eka::ops::publish;
//!
//! let outcome = publish::run(&publish::Options {
//!     cwd: "my-set".into(),
//!     paths: Vec::new(),
//!     all: true,
//!     remote: None,
//!     revision: "HEAD".into(),
//!     dry_run: true,
//!     keep_going: false,
//!     signer: None,
//!     reporter: atom::progress::Silent::shared(),
//! })?;
//! for atom in &outcome.atoms {
//!     println!("{}@{}: {:?}", atom.label, atom.version, atom.status);
//! }
//! # Ok::<(), eka::ops::publish::Error>(())
//! ```

use atom::error::{Classify, Kind};
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Component, Path, PathBuf},
};

use atom::{
    Label,
    manifest::RelativePath,
    progress::Step,
    set::{self, Set, SetManifest},
    store::{
        AtomCommit, RefUpdate, TreeSource, commit,
        cut::{self, Cut, cut_atom},
        push, refs, remote, root,
        tree_source::{self, Entry},
    },
};
use gix::{ObjectId, bstr::ByteSlice, objs::tree::EntryKind};
use semver::Version;

/// The remote used when none is named.
pub const DEFAULT_REMOTE: &str = "origin";

/// What to publish, from where, to where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The directory eka runs in; the repository is discovered from it and `paths` are
    /// relative to it.
    pub cwd: PathBuf,
    /// Directories of the atoms to publish (relative to `cwd`).
    pub paths: Vec<PathBuf>,
    /// Publish every atom of the set.
    pub all: bool,
    /// A remote name from the git config, or a URL (default: [`DEFAULT_REMOTE`]).
    pub remote: Option<String>,
    /// The revision to publish from (usually `HEAD`).
    pub revision: String,
    /// Do everything but writing objects and pushing.
    pub dry_run: bool,
    /// Publish the good atoms even when some selected atoms are invalid.
    pub keep_going: bool,
    /// Sign every atom commit with this signer.
    pub signer: Option<verify::signature::Signer>,
    /// Where the run reports its progress.
    pub reporter: std::sync::Arc<dyn atom::progress::Reporter>,
}

/// What happened to one atom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Its refs were pushed.
    Published,
    /// Its refs would be pushed (dry run).
    WouldPublish,
    /// The remote already has this version with the same content and manifest.
    Skipped,
    /// The remote has this version with another atom commit.
    Refused {
        /// The atom commit the remote has.
        existing: ObjectId,
    },
}

impl Status {
    /// A short lowercase name (`published`, `would-publish`, `skipped`, `refused`).
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Published => "published",
            Status::WouldPublish => "would-publish",
            Status::Skipped => "skipped",
            Status::Refused { .. } => "refused",
        }
    }
}

/// One atom of the run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The atom's label.
    pub label: Label,
    /// The atom's version.
    pub version: Version,
    /// Its directory inside the repository (`.` for the root).
    pub path: String,
    /// The atom commit (the remote's when the version was already published).
    pub commit: ObjectId,
    /// The atom's content hash.
    pub content: String,
    /// The `atom.toml` blob.
    pub manifest: ObjectId,
    /// What happened.
    pub status: Status,
}

/// What `publish` did.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The URL pushed to.
    pub remote_url: String,
    /// The source commit.
    pub origin: ObjectId,
    /// The set's root commit.
    pub set_root: ObjectId,
    /// Whether nothing was written or pushed.
    pub dry_run: bool,
    /// Every valid selected atom, in the order `ekala.toml` lists them (none when
    /// some are invalid and the run does not keep going).
    pub atoms: Vec<Published>,
    /// Every selected atom that cannot be published, in the order `ekala.toml` lists
    /// them.
    pub invalid: Vec<Invalid>,
}

/// A selected atom that cannot be published, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Its directory inside the repository (`.` for the root).
    pub path: String,
    /// What is wrong, naming the directory, followed by each cause on a
    /// `  caused by: ` line.
    pub reason: String,
    /// How to fix it, if there is something to say that the reason does not.
    pub hint: Option<String>,
}

impl Outcome {
    /// How many atoms have `status` (compared by [`Status::as_str`]).
    pub fn count(&self, status: &str) -> usize {
        self.atoms
            .iter()
            .filter(|atom| atom.status.as_str() == status)
            .count()
    }
}

/// Why `publish` failed as a whole (nothing was pushed).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No git repository contains the directory.
    #[error("`{}` is not inside a git repository", path.display())]
    NoRepository {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The revision does not name a commit.
    #[error("revision `{revision}` does not name a commit")]
    Revision {
        /// The revision.
        revision: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The set at the revision could not be loaded.
    #[error("cannot load the set at `{revision}`")]
    Set {
        /// The revision.
        revision: String,
        /// The cause.
        #[source]
        source: Box<set::Error>,
    },
    /// A path on the command line is outside the repository.
    #[error("`{}` is outside the repository `{}`", path.display(), repository.display())]
    OutsideRepository {
        /// The path.
        path: PathBuf,
        /// The repository's working directory.
        repository: PathBuf,
    },
    /// A path on the command line is not an atom directory of the set.
    #[error("`{path}` is not an atom of the set at `{revision}`")]
    NotAnAtom {
        /// The path inside the repository.
        path: String,
        /// The revision.
        revision: String,
    },
    /// No path and no `--all`, and the current directory is in no atom.
    #[error("`{}` is not inside an atom of the set at `{revision}`", cwd.display())]
    NoAtomHere {
        /// The current directory.
        cwd: PathBuf,
        /// The revision.
        revision: String,
    },
    /// An atom's directory could not be found in the commit's tree.
    #[error("cannot find the tree of atom directory `{path}`")]
    AtomTree {
        /// The atom's directory.
        path: String,
        /// The cause.
        #[source]
        source: tree_source::Error,
    },
    /// An atom directory is not a directory in the commit.
    #[error("atom directory `{path}` is not a directory at `{revision}`")]
    NotADirectory {
        /// The atom's directory.
        path: String,
        /// The revision.
        revision: String,
    },
    /// An atom directory has no `atom.toml`.
    #[error(
        "atom directory `{path}` has no `{}` at `{revision}`",
        atom::manifest::FILE_NAME
    )]
    NoManifest {
        /// The atom's directory.
        path: String,
        /// The revision.
        revision: String,
    },
    /// An atom's `atom.toml` is not UTF-8.
    #[error("the manifest of atom directory `{path}` is not valid UTF-8")]
    ManifestText {
        /// The atom's directory.
        path: String,
    },
    /// An atom's `atom.toml` is invalid.
    #[error("the manifest of atom directory `{path}` is invalid")]
    Manifest {
        /// The atom's directory.
        path: String,
        /// The cause, pointing into the file.
        #[source]
        source: Box<atom::manifest::Error>,
    },
    /// Two selected atoms have one label.
    #[error(
        "atom directory `{path}` has label `{label}`, already used by atom directory `{first}`"
    )]
    LabelClash {
        /// The atom's directory.
        path: String,
        /// The label.
        label: String,
        /// The directory of the first atom with that label.
        first: String,
    },
    /// An atom's tree is refused (hostile or unreadable).
    #[error("atom `{label}` (directory `{path}`) cannot be published")]
    Tree {
        /// The atom's label, or its directory if its manifest could not be read.
        label: String,
        /// The atom's directory.
        path: String,
        /// The cause, naming the entry.
        #[source]
        source: Box<verify::tree::Error>,
    },
    /// The set root could not be found.
    #[error(transparent)]
    SetRoot(Box<root::Error>),
    /// An atom commit could not be built or written.
    #[error("cannot build the atom commit of `{label}@{version}`")]
    Commit {
        /// The label.
        label: String,
        /// The version.
        version: Version,
        /// The cause.
        #[source]
        source: Box<commit::Error>,
    },
    /// An atom commit could not be signed.
    #[error("cannot sign the atom commit of `{label}@{version}`")]
    Sign {
        /// The label.
        label: String,
        /// The version.
        version: Version,
        /// The cause.
        #[source]
        source: Box<verify::signature::Error>,
    },
    /// The remote is neither a configured remote nor a URL.
    #[error("no remote named `{name}`")]
    NoRemote {
        /// The name given (or the default).
        name: String,
    },
    /// The remote's URL carries a password (shown redacted, never echoed).
    #[error("remote URL `{url}` contains a password")]
    Credentials {
        /// The URL with its password replaced by `***`.
        url: String,
    },
    /// The remote's refs could not be listed.
    #[error(transparent)]
    List(Box<remote::Error>),
    /// Fetching one of the remote's atom commits failed.
    #[error("cannot fetch `{reference}` from `{url}`: {stderr}")]
    Fetch {
        /// The URL.
        url: String,
        /// The ref.
        reference: String,
        /// What git printed.
        stderr: String,
    },
    /// The remote's atom commit does not decode.
    #[error("`{reference}` on `{url}` is not an atom commit")]
    RemoteAtom {
        /// The URL.
        url: String,
        /// The ref.
        reference: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The remote serves atoms of another set.
    #[error(
        "remote `{url}` serves another set: its atoms have set root `{remote_root}`, this repository's is `{local_root}`"
    )]
    OtherSet {
        /// The URL.
        url: String,
        /// The root named by the remote's atoms.
        remote_root: ObjectId,
        /// This repository's root at the revision.
        local_root: ObjectId,
    },
    /// The push could not be carried out.
    #[error(transparent)]
    Push(Box<push::Error>),
    /// The server rejected the push; none of its refs were kept.
    #[error("`{url}` rejected the publish, nothing was published: {}", rejected_list(.rejected))]
    Rejected {
        /// The URL.
        url: String,
        /// The rejected refs and the server's reasons.
        rejected: Vec<(String, String)>,
    },
}

fn rejected_list(rejected: &[(String, String)]) -> String {
    rejected
        .iter()
        .map(|(name, reason)| format!("`{name}` ({reason})"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Classify for Error {
    /// The user's input or the remote's state refused is [`Kind::Input`]; something
    /// failing unexpectedly is [`Kind::Environment`].
    fn kind(&self) -> Kind {
        let refused = match self {
            Error::Revision { .. }
            | Error::OutsideRepository { .. }
            | Error::NotAnAtom { .. }
            | Error::NoAtomHere { .. }
            | Error::NotADirectory { .. }
            | Error::NoManifest { .. }
            | Error::ManifestText { .. }
            | Error::LabelClash { .. }
            | Error::NoRemote { .. }
            | Error::Credentials { .. }
            | Error::OtherSet { .. }
            | Error::Rejected { .. }
            | Error::NoRepository { .. } => true,
            Error::Set { source, .. } => return source.kind(),
            Error::Tree { source, .. } => return source.kind(),
            Error::Manifest { source, .. } => return source.kind(),
            Error::SetRoot(error) => return error.kind(),
            Error::Sign { source, .. } => return source.kind(),
            _ => false,
        };
        if refused {
            Kind::Input
        } else {
            Kind::Environment
        }
    }

    /// How to fix the problem, if there is something to say.
    fn hint(&self) -> Option<String> {
        Some(match self {
            Error::NoRepository { .. } => {
                "run eka inside a set's git repository, or pass `-C <dir>`".into()
            }
            Error::Revision { .. } => "pass a branch, tag or commit id to `--rev`".into(),
            // A `Located` error shows its hint in its own message.
            Error::Set { source, .. } => match &**source {
                set::Error::Missing { .. } | set::Error::Uneditable { .. } => {
                    return source.hint();
                }
                _ => return None,
            },
            Error::NotAnAtom { .. } => {
                "list the atom's directory in `ekala.toml` and commit it, or check the path".into()
            }
            Error::NoAtomHere { .. } => {
                "pass the atoms' directories, or `--all` to publish every atom of the set".into()
            }
            Error::NoManifest { .. } => {
                "create the atom with `eka new`, or remove its entry from `ekala.toml`".into()
            }
            Error::ManifestText { .. } => "save `atom.toml` as UTF-8".into(),
            Error::Manifest { source, .. } => return source.hint(),
            Error::LabelClash { .. } => {
                "labels are unique within a set: rename one of the atoms".into()
            }
            Error::NotADirectory { .. } | Error::OutsideRepository { .. } => {
                "pass directories of atoms inside the repository".into()
            }
            Error::Tree { source, .. } => {
                return source
                    .violation()
                    .and_then(|violation| violation.hint())
                    .map(str::to_owned);
            }
            Error::SetRoot(error) => match &**error {
                root::Error::Shallow { hint, .. } => (*hint).into(),
                _ => return None,
            },
            Error::Sign { source, .. } => return source.hint(),
            Error::List(error) => return error.hint(),
            Error::NoRemote { .. } => {
                "add it with `git remote add <name> <url>`, or pass `--remote <url>`".into()
            }
            Error::OtherSet { .. } => {
                "publish to a remote of this set, or to an empty repository".into()
            }
            Error::Credentials { .. } => {
                "remove the password from the URL; use a git credential helper or an ssh key".into()
            }
            Error::Rejected { .. } => {
                "see the server's reason above; nothing was published, so retry once it is fixed"
                    .into()
            }
            _ => return None,
        })
    }
}

/// One atom selected for the run, before comparing with the remote.
struct Candidate {
    published: Published,
    origin: ObjectId,
    object: Option<AtomCommit>,
}

/// The source commit of a run, read from the object database.
struct Origin {
    repo: gix::Repository,
    /// The source commit.
    commit: ObjectId,
    /// Its tree, as a file source.
    source: TreeSource,
}

/// Publish the selected atoms at `options.revision` to the remote.
pub fn run(options: &Options) -> Result<Outcome, Error> {
    let origin = open_origin(options)?;
    let revision = options.revision.as_str();
    // The index first: selection works on directories, and hostile atom trees are
    // refused by `verify` before anything reads inside them.
    let index = read_index(&origin.source).map_err(|error| set_error(revision, error))?;
    let selected = select(&origin.repo, options, &index)?;
    let (checked, invalid) = check_atoms(&origin, &selected, options)?;
    if invalid.is_empty() {
        // The set's own checks (nested atoms, labels of atoms not selected).
        Set::load(&origin.source).map_err(|error| set_error(revision, error))?;
    }
    let set_root = root::find_set_root(&origin.repo, origin.commit)
        .map_err(|error| Error::SetRoot(Box::new(error)))?;
    let remote_url = remote_url(&origin.repo, options)?;
    if !invalid.is_empty() && !options.keep_going {
        return Ok(Outcome {
            remote_url,
            origin: origin.commit,
            set_root,
            dry_run: options.dry_run,
            atoms: Vec::new(),
            invalid,
        });
    }
    let mut candidates = cut_candidates(&origin, &checked, set_root, options)?;

    let existing = RemoteRefs::list(&remote_url)?;
    check_same_set(
        &origin.repo,
        &remote_url,
        &existing.atoms,
        &candidates,
        set_root,
    )?;
    let same = same_content(&origin.repo, &remote_url, &existing, &candidates)?;
    let updates = plan_updates(&mut candidates, &existing.atoms, &same, options.dry_run);
    if !options.dry_run && !updates.is_empty() {
        write_atom_commits(&origin.repo, &candidates)?;
        push_atomically(&origin.repo, &remote_url, &updates, &*options.reporter)?;
    }

    Ok(Outcome {
        remote_url,
        origin: origin.commit,
        set_root,
        dry_run: options.dry_run,
        atoms: candidates
            .into_iter()
            .map(|candidate| candidate.published)
            .collect(),
        invalid,
    })
}

/// The eka refs a remote already has.
struct RemoteRefs {
    /// `refs/eka/atoms/…`.
    atoms: BTreeMap<String, ObjectId>,
    /// `refs/eka/meta/…`.
    meta: BTreeMap<String, ObjectId>,
}

impl RemoteRefs {
    fn list(url: &str) -> Result<RemoteRefs, Error> {
        let prefixes = [refs::ATOMS_PREFIX.to_owned(), refs::META_PREFIX.to_owned()];
        let (atoms, meta) = remote::list_refs(url, &prefixes)
            .map_err(|error| Error::List(Box::new(error)))?
            .into_iter()
            .partition(|(name, _)| name.starts_with(refs::ATOMS_PREFIX));
        Ok(RemoteRefs { atoms, meta })
    }
}

/// The atom refs of the candidates that the remote has with another atom commit but
/// the same content hash and the same `atom.toml` blob: the same atom, cut from
/// another source commit. Only those atom commits are fetched (objects only).
fn same_content(
    repo: &gix::Repository,
    url: &str,
    existing: &RemoteRefs,
    candidates: &[Candidate],
) -> Result<BTreeSet<String>, Error> {
    let mut compared = Vec::new();
    for candidate in candidates {
        let atom = &candidate.published;
        let name = refs::atom_ref(&atom.label, &atom.version);
        let manifest = existing
            .meta
            .get(&refs::manifest_ref(&atom.label, &atom.version));
        if let Some(id) = existing.atoms.get(&name)
            && *id != atom.commit
            && manifest == Some(&atom.manifest)
        {
            compared.push((name, *id, atom.content.as_str()));
        }
    }
    let missing: Vec<String> = compared
        .iter()
        .filter(|(_, id, _)| repo.find_object(*id).is_err())
        .map(|(name, _, _)| name.clone())
        .collect();
    fetch_refs(repo, url, &missing)?;
    let mut same = BTreeSet::new();
    for (name, id, content) in compared {
        if read_remote_atom(repo, url, &name, id)?.content == content {
            same.insert(name);
        }
    }
    Ok(same)
}

/// Fetch the objects of `references` from `url` (no ref is written).
fn fetch_refs(repo: &gix::Repository, url: &str, references: &[String]) -> Result<(), Error> {
    if references.is_empty() {
        return Ok(());
    }
    let spec = atom::store::git::FetchSpec {
        refspecs: references.to_vec(),
        depth: atom::store::git::Depth::Incremental,
    };
    atom::store::git::Repo::open(repo.git_dir())
        .fetch(url, &spec)
        .map_err(|error| Error::Fetch {
            url: url.to_owned(),
            reference: references.join(", "),
            stderr: error.detail(),
        })
}

/// Decode the remote's atom commit `id` (named by `reference`), already fetched.
fn read_remote_atom(
    repo: &gix::Repository,
    url: &str,
    reference: &str,
    id: ObjectId,
) -> Result<AtomCommit, Error> {
    let remote_atom = |source: Box<dyn std::error::Error + Send + Sync>| Error::RemoteAtom {
        url: url.to_owned(),
        reference: reference.to_owned(),
        source,
    };
    let object = repo
        .find_object(id)
        .map_err(|error| remote_atom(error.into()))?;
    let commit = gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash())
        .map_err(|error| remote_atom(error.into()))?;
    AtomCommit::decode(&commit).map_err(|error| remote_atom(error.into()))
}

/// The content hash of an atom's tree, after validating it against hostile content
/// (`verify::tree::hash_tree` with the default limits): the hasher every atom is cut
/// with, by `publish` and by local locking alike.
pub fn content_hash(repo: &gix::Repository, tree: ObjectId) -> Result<String, verify::tree::Error> {
    verify::tree::hash_tree(repo, tree, &verify::tree::Options::default())
        .map(|outcome| outcome.hash.to_string())
}

fn set_error(revision: &str, source: set::Error) -> Error {
    Error::Set {
        revision: revision.to_owned(),
        source: Box::new(source),
    }
}

/// Discover the repository and read the commit `options.revision` names.
fn open_origin(options: &Options) -> Result<Origin, Error> {
    let repo = gix::discover(&options.cwd).map_err(|source| Error::NoRepository {
        path: options.cwd.clone(),
        source: source.into(),
    })?;
    let revision = options.revision.as_str();
    let commit = resolve_commit(&repo, revision)?;
    let root_tree = repo
        .find_commit(commit)
        .and_then(|commit| commit.tree_id())
        .map_err(|source| Error::Revision {
            revision: revision.to_owned(),
            source: source.into(),
        })?
        .detach();
    let source = TreeSource::new(repo.clone(), root_tree, revision);
    Ok(Origin {
        repo,
        commit,
        source,
    })
}

/// A selected atom that passed every check.
struct Checked {
    /// Its directory.
    path: RelativePath,
    /// Its manifest.
    manifest: atom::manifest::Manifest,
    /// Its tree at the source commit.
    tree: ObjectId,
    /// The content hash of that tree, computed while validating it.
    content: String,
}

/// Check every selected atom, in index order: its directory is a tree without hostile
/// content (validated before any file inside it is read), its `atom.toml` is valid,
/// and its label is not taken by an atom checked before it. The bad ones are
/// returned as [`Invalid`]; an environment failure stops the run.
fn check_atoms(
    origin: &Origin,
    selected: &[RelativePath],
    options: &Options,
) -> Result<(Vec<Checked>, Vec<Invalid>), Error> {
    let hashing = Step::begin(&*options.reporter, "Hashing", Some(selected.len() as u64));
    let mut checked: Vec<Checked> = Vec::new();
    let mut invalid = Vec::new();
    for path in selected {
        let result = check_atom(origin, path, options.revision.as_str()).and_then(|atom| {
            let label = &atom.manifest.package.label;
            match checked
                .iter()
                .find(|atom| &atom.manifest.package.label == label)
            {
                Some(first) => Err(Error::LabelClash {
                    path: path.as_str().to_owned(),
                    label: label.to_string(),
                    first: first.path.as_str().to_owned(),
                }),
                None => Ok(atom),
            }
        });
        match result {
            Ok(atom) => checked.push(atom),
            Err(error) if error.kind() == Kind::Input => {
                invalid.push(invalid_atom(path, &error));
            }
            Err(error) => return Err(error),
        }
        hashing.advance(path.as_str());
    }
    Ok((checked, invalid))
}

/// Check one atom directory: a tree, without hostile content (validated and hashed in
/// one walk, [`content_hash`]), with a valid manifest.
fn check_atom(origin: &Origin, path: &RelativePath, revision: &str) -> Result<Checked, Error> {
    use atom::set::FileSource as _;
    let tree = atom_tree(&origin.source, path, revision)?;
    let content = content_hash(&origin.repo, tree).map_err(|error| Error::Tree {
        label: path.as_str().to_owned(),
        path: path.as_str().to_owned(),
        source: Box::new(error),
    })?;
    let relative = path.join(atom::manifest::FILE_NAME);
    let shown = origin.source.display_path(&relative);
    let bytes = match origin.source.read(&relative) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            return Err(Error::NoManifest {
                path: path.as_str().to_owned(),
                revision: revision.to_owned(),
            });
        }
        Err(error) => {
            return Err(set_error(
                revision,
                set::Error::Io(atom::fs::read_failed(&shown, error)),
            ));
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| Error::ManifestText {
        path: path.as_str().to_owned(),
    })?;
    let manifest =
        atom::manifest::Manifest::from_str(&text, &shown).map_err(|error| Error::Manifest {
            path: path.as_str().to_owned(),
            source: Box::new(error),
        })?;
    Ok(Checked {
        path: path.clone(),
        manifest,
        tree,
        content,
    })
}

/// An atom refused by `error`: the error and its causes, and its hint unless the
/// message already ends with it.
fn invalid_atom(path: &RelativePath, error: &Error) -> Invalid {
    let mut reason = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(current) = cause {
        reason.push_str("\n  caused by: ");
        reason.push_str(&current.to_string());
        cause = current.source();
    }
    let hint = error
        .hint()
        .filter(|hint| !reason.contains(&format!("hint: {hint}")));
    Invalid {
        path: path.as_str().to_owned(),
        reason,
        hint,
    }
}

/// Cut every checked atom, in the set's order.
fn cut_candidates(
    origin: &Origin,
    checked: &[Checked],
    set_root: ObjectId,
    options: &Options,
) -> Result<Vec<Candidate>, Error> {
    let publishing = Step::begin(&*options.reporter, "Publishing", Some(checked.len() as u64));
    let mut candidates = Vec::new();
    for atom in checked {
        candidates.push(cut_candidate(origin, atom, set_root, options)?);
        publishing.advance(atom.manifest.package.label.as_str());
    }
    Ok(candidates)
}

/// Cut one atom of the set at the source commit (and sign it when asked).
fn cut_candidate(
    origin: &Origin,
    atom: &Checked,
    set_root: ObjectId,
    options: &Options,
) -> Result<Candidate, Error> {
    let path = atom.path.as_str();
    let revision = options.revision.as_str();
    let manifest = origin
        .source
        .entry(&Path::new(path).join(atom::manifest::FILE_NAME))
        .map_err(|error| Error::AtomTree {
            path: path.to_owned(),
            source: error,
        })?
        .map(|entry| entry.id)
        .ok_or_else(|| Error::NotAnAtom {
            path: path.to_owned(),
            revision: revision.to_owned(),
        })?;
    let label = &atom.manifest.package.label;
    let version = &atom.manifest.package.version;
    let cut = Cut {
        set_root,
        origin: origin.commit,
        revision,
        path,
        label,
        version,
    };
    // The tree was hashed while it was checked; another tree (never expected) is hashed.
    let hash = |repo: &gix::Repository, tree: ObjectId| {
        if tree == atom.tree {
            Ok(atom.content.clone())
        } else {
            content_hash(repo, tree)
        }
    };
    let mut object = cut_atom(&origin.repo, &cut, hash).map_err(|error| cut_error(&cut, error))?;
    if let Some(signer) = &options.signer {
        verify::signature::sign_atom_commit_with(&mut object, signer).map_err(|source| {
            Error::Sign {
                label: label.to_string(),
                version: version.clone(),
                source: Box::new(source),
            }
        })?;
    }
    let commit = object
        .id()
        .map_err(|error| cut_error(&cut, cut::Error::Commit(error)))?;
    Ok(Candidate {
        published: Published {
            label: label.clone(),
            version: version.clone(),
            path: path.to_owned(),
            commit,
            content: object.content.clone(),
            manifest,
            status: Status::WouldPublish,
        },
        origin: origin.commit,
        object: Some(object),
    })
}

fn cut_error(cut: &Cut<'_>, error: cut::Error<verify::tree::Error>) -> Error {
    match error {
        cut::Error::Hash(source) => Error::Tree {
            label: cut.label.to_string(),
            path: cut.path.to_owned(),
            source: Box::new(source),
        },
        cut::Error::Commit(source) => Error::Commit {
            label: cut.label.to_string(),
            version: cut.version.clone(),
            source: Box::new(source),
        },
        cut::Error::NotFound { path, revision } => Error::NotAnAtom { path, revision },
        cut::Error::NotADirectory { path, revision } => Error::NotADirectory { path, revision },
        cut::Error::Origin { source, .. } => Error::Revision {
            revision: cut.revision.to_owned(),
            source,
        },
    }
}

/// Decide each candidate's status against the remote's refs and return the ref
/// updates of the atoms to publish.
fn plan_updates(
    candidates: &mut [Candidate],
    existing: &BTreeMap<String, ObjectId>,
    same_content: &BTreeSet<String>,
    dry_run: bool,
) -> Vec<RefUpdate> {
    let mut updates = Vec::new();
    for candidate in candidates {
        let atom = &mut candidate.published;
        let name = refs::atom_ref(&atom.label, &atom.version);
        match existing.get(&name) {
            Some(id) if *id == atom.commit || same_content.contains(&name) => {
                atom.commit = *id;
                atom.status = Status::Skipped;
            }
            Some(id) => atom.status = Status::Refused { existing: *id },
            None => {
                atom.status = if dry_run {
                    Status::WouldPublish
                } else {
                    Status::Published
                };
                for (name, new_id) in [
                    (name, atom.commit),
                    (
                        refs::manifest_ref(&atom.label, &atom.version),
                        atom.manifest,
                    ),
                    (
                        refs::origin_ref(&atom.label, &atom.version),
                        candidate.origin,
                    ),
                ] {
                    updates.push(RefUpdate {
                        name,
                        new_id,
                        expected_old: None,
                    });
                }
            }
        }
    }
    updates
}

/// Write the atom commits about to be published into the repository.
fn write_atom_commits(repo: &gix::Repository, candidates: &[Candidate]) -> Result<(), Error> {
    for candidate in candidates {
        if candidate.published.status == Status::Published
            && let Some(object) = &candidate.object
        {
            object.write(repo).map_err(|source| Error::Commit {
                label: candidate.published.label.to_string(),
                version: candidate.published.version.clone(),
                source: Box::new(source),
            })?;
        }
    }
    Ok(())
}

/// Push every ref update in one atomic push; a rejection keeps none of them.
fn push_atomically(
    repo: &gix::Repository,
    remote_url: &str,
    updates: &[RefUpdate],
    reporter: &dyn atom::progress::Reporter,
) -> Result<(), Error> {
    let pushing = Step::begin(reporter, "Pushing", None);
    let outcome = push::push_refs(repo.git_dir(), remote_url, updates)
        .map_err(|error| Error::Push(Box::new(error)))?;
    drop(pushing);
    if outcome.is_success() {
        return Ok(());
    }
    let mut rejected: Vec<(String, String)> = outcome
        .rejected()
        .map(|(name, reason)| (name.to_owned(), reason.to_owned()))
        .collect();
    // The refs the server refused for themselves first; `atomic push failed` is only
    // the consequence for the others.
    rejected.sort_by_key(|(_, reason)| reason.contains("atomic"));
    Err(Error::Rejected {
        url: remote_url.to_owned(),
        rejected,
    })
}

fn resolve_commit(repo: &gix::Repository, revision: &str) -> Result<ObjectId, Error> {
    let error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Revision {
        revision: revision.to_owned(),
        source,
    };
    let object = repo
        .rev_parse_single(revision)
        .map_err(|source| error(source.into()))?
        .object()
        .map_err(|source| error(source.into()))?;
    let commit = object
        .peel_to_commit()
        .map_err(|source| error(source.into()))?;
    Ok(commit.id)
}

fn read_index(source: &TreeSource) -> Result<SetManifest, set::Error> {
    use atom::set::FileSource as _;
    let path = Path::new(set::FILE_NAME);
    let shown = source.display_path(path);
    match source.read(path) {
        Ok(Some(bytes)) => {
            let text = String::from_utf8(bytes).map_err(|error| {
                let error = std::io::Error::new(std::io::ErrorKind::InvalidData, error);
                set::Error::Io(atom::fs::read_failed(&shown, error))
            })?;
            SetManifest::from_str(&text, &shown)
        }
        Ok(None) => Err(set::Error::Missing { path: shown }),
        Err(error) => Err(set::Error::Io(atom::fs::read_failed(&shown, error))),
    }
}

/// The atom directories to publish, in index order.
fn select(
    repo: &gix::Repository,
    options: &Options,
    index: &SetManifest,
) -> Result<Vec<RelativePath>, Error> {
    if options.all {
        return Ok(index.packages.clone());
    }
    let paths = RepoPaths {
        workdir: repo.workdir().map(canonical),
        cwd: canonical(&options.cwd),
    };
    if options.paths.is_empty() {
        return atom_here(&paths, options, index).map(|package| vec![package]);
    }
    let mut wanted = BTreeSet::new();
    for path in &options.paths {
        wanted.insert(named_atom(&paths, path, options, index)?);
    }
    Ok(index
        .packages
        .iter()
        .filter(|package| wanted.contains(*package))
        .cloned()
        .collect())
}

/// Where command-line paths are resolved: the repository's working directory (none
/// for a bare repository) and the current directory.
struct RepoPaths {
    workdir: Option<PathBuf>,
    cwd: PathBuf,
}

impl RepoPaths {
    /// `path` (relative to the current directory) as a `/`-separated repository path.
    fn to_repo_path(&self, path: &Path) -> Result<String, Error> {
        let absolute = normalise(&self.cwd.join(path));
        match &self.workdir {
            Some(workdir) => match absolute.strip_prefix(workdir) {
                Ok(relative) => Ok(slash_path(relative)),
                Err(_) => Err(Error::OutsideRepository {
                    path: path.to_owned(),
                    repository: workdir.clone(),
                }),
            },
            // A bare repository: paths are repository paths.
            None => Ok(slash_path(&normalise(path))),
        }
    }
}

/// The deepest atom directory containing the current directory.
fn atom_here(
    paths: &RepoPaths,
    options: &Options,
    index: &SetManifest,
) -> Result<RelativePath, Error> {
    let here = match &paths.workdir {
        Some(_) => paths.to_repo_path(Path::new("."))?,
        None => String::new(),
    };
    let within = |package: &RelativePath| {
        package.is_root()
            || here == package.as_str()
            || here.starts_with(&format!("{}/", package.as_str()))
    };
    index
        .packages
        .iter()
        .filter(|package| paths.workdir.is_some() && within(package))
        .max_by_key(|package| {
            if package.is_root() {
                0
            } else {
                package.as_str().len() + 1
            }
        })
        .cloned()
        .ok_or_else(|| Error::NoAtomHere {
            cwd: options.cwd.clone(),
            revision: options.revision.clone(),
        })
}

/// The atom directory of the set that `path` names.
fn named_atom(
    paths: &RepoPaths,
    path: &Path,
    options: &Options,
    index: &SetManifest,
) -> Result<RelativePath, Error> {
    let relative = paths.to_repo_path(path)?;
    let found = index.packages.iter().find(|package| {
        if package.is_root() {
            relative.is_empty() || relative == "."
        } else {
            package.as_str() == relative
        }
    });
    found.cloned().ok_or_else(|| Error::NotAnAtom {
        path: if relative.is_empty() {
            ".".into()
        } else {
            relative
        },
        revision: options.revision.clone(),
    })
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| normalise(path))
}

/// Remove `.` and resolve `..` lexically.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn slash_path(path: &Path) -> String {
    path.components()
        .filter_map(|component| match component {
            Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn atom_tree(source: &TreeSource, path: &RelativePath, revision: &str) -> Result<ObjectId, Error> {
    let entry = source
        .entry(Path::new(path.as_str()))
        .map_err(|error| Error::AtomTree {
            path: path.as_str().to_owned(),
            source: error,
        })?;
    match entry {
        Some(Entry {
            id,
            kind: EntryKind::Tree,
        }) => Ok(id),
        Some(_) => Err(Error::NotADirectory {
            path: path.as_str().to_owned(),
            revision: revision.to_owned(),
        }),
        None => Err(Error::NotAnAtom {
            path: path.as_str().to_owned(),
            revision: revision.to_owned(),
        }),
    }
}

/// The URL of `options.remote`: a configured remote's push URL, or the argument itself
/// when it is a URL or an existing directory.
/// The URL to publish to; one carrying a password is refused before any network use
/// (eka never prints or stores credentials: git's credential helpers or an ssh agent
/// provide them).
fn remote_url(repo: &gix::Repository, options: &Options) -> Result<String, Error> {
    let url = find_remote_url(repo, options)?;
    let redacted = atom::uri::redact_credentials(&url);
    if redacted != url {
        return Err(Error::Credentials { url: redacted });
    }
    Ok(url)
}

fn find_remote_url(repo: &gix::Repository, options: &Options) -> Result<String, Error> {
    let name = options.remote.as_deref().unwrap_or(DEFAULT_REMOTE);
    if !name.contains("://")
        && let Ok(remote) = repo.find_remote(name)
        && let Some(url) = remote
            .url(gix::remote::Direction::Push)
            .or_else(|| remote.url(gix::remote::Direction::Fetch))
    {
        let url = url.to_bstring().to_str_lossy().into_owned();
        // A relative path is relative to the repository's working directory.
        if !url.contains("://") && !url.starts_with('/') && !looks_like_scp(&url) {
            let base = repo.workdir().unwrap_or_else(|| repo.git_dir());
            return Ok(normalise(&base.join(&url)).to_string_lossy().into_owned());
        }
        return Ok(url);
    }
    if options.remote.is_some() {
        if name.contains("://") || looks_like_scp(name) {
            return Ok(name.to_owned());
        }
        let path = options.cwd.join(name);
        if path.is_dir() {
            return Ok(canonical(&path).to_string_lossy().into_owned());
        }
    }
    Err(Error::NoRemote {
        name: name.to_owned(),
    })
}

/// `user@host:path` (scp-like ssh syntax).
fn looks_like_scp(url: &str) -> bool {
    match url.split_once(':') {
        Some((host, _)) => host.contains('@') && !host.contains('/'),
        None => false,
    }
}

/// Refuse a remote whose atoms belong to another set.
///
/// An atom commit id covers its `eka-set` header, so if the remote already has one of
/// this run's atom commits, it serves this set. Otherwise one of its atom commits is
/// fetched (objects only, no ref written) and its `eka-set` header compared.
fn check_same_set(
    repo: &gix::Repository,
    url: &str,
    existing: &BTreeMap<String, ObjectId>,
    candidates: &[Candidate],
    set_root: ObjectId,
) -> Result<(), Error> {
    let Some((reference, id)) = existing.iter().next() else {
        return Ok(());
    };
    let ours: BTreeSet<ObjectId> = candidates
        .iter()
        .map(|candidate| candidate.published.commit)
        .collect();
    if existing.values().any(|id| ours.contains(id)) {
        return Ok(());
    }
    if repo.find_object(*id).is_err() {
        fetch_refs(repo, url, std::slice::from_ref(reference))?;
    }
    let decoded = read_remote_atom(repo, url, reference, *id)?;
    if decoded.set_root != set_root {
        return Err(Error::OtherSet {
            url: url.to_owned(),
            remote_root: decoded.set_root,
            local_root: set_root,
        });
    }
    Ok(())
}
