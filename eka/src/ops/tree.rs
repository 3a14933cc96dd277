//! `eka tree`: the locked dependency graph, read from `atom.lock`, with the Nix inputs
//! of every atom.
//!
//! The roots are the atoms `atom.toml` requires directly (matched by label and set
//! URL; `"::"` sets match atoms locked without mirrors); every atom then lists its
//! locked dependencies. An atom reached again is shown once more without its children
//! and marked [`Node::repeated`]. The project's direct Nix inputs (the `[[nix]]`
//! entries of `atom.lock`) are listed under it as [`NixNode`]s.
//!
//! A locked atom's own Nix inputs live in the `atom.lock` inside its published tree,
//! which the project's lock does not copy. [`run`] reads them from CHECKED trees only:
//! the atom commits are fetched into the cache's atom store through `[mirrors]` (one
//! fetch per mirror, nothing when all are cached) and each is checked by
//! [`verify::locked::Fetched::check`] (commit bytes, headers, hostile tree, content
//! hash) before its `atom.lock` is read. An input the project's `[[follows]]` replaces
//! is shown as the project's input it follows ([`NixNode::follows`]). With
//! [`Options::offline`] only cached atoms are read; the others are marked
//! [`Node::inputs_unknown`] with a warning. An atom of the project's own set (locked
//! without mirrors) is read from the set's work tree instead. A tree without
//! `atom.lock` has no inputs; an `atom.lock` that is not a valid lockfile is an error
//! naming the atom.
//!
//! ```no_run
//! let options = eka::ops::tree::Options::new(".".into(), "/home/me/.cache/eka".into());
//! let tree = eka::ops::tree::run(&options)?;
//! for node in &tree.nodes {
//!     println!("{}{} {}", "  ".repeat(node.depth), node.label, node.version);
//! }
//! # Ok::<(), eka::ops::tree::Error>(())
//! ```

use std::{
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
    sync::Arc,
};

use atom::{
    lock::{AtomIdHex, LockedAtom, LockedNixInput, Lockfile},
    manifest::{Manifest, SetSource},
    progress::{Reporter, Silent, Step},
    store::cache::Cache,
};
use serde::Serialize;

/// What `eka tree` reads and where it may fetch from.
#[derive(Clone)]
pub struct Options {
    /// The project directory (holding `atom.toml` and `atom.lock`).
    pub dir: PathBuf,
    /// The cache directory (its atom store holds the atoms' trees).
    pub cache: PathBuf,
    /// The consumer's `[mirrors]`: where missing atom commits are fetched from.
    pub mirrors: atom::config::Mirrors,
    /// Use only the cache: atoms not cached are shown with their inputs unknown.
    pub offline: bool,
    /// Where the fetches and checks are reported.
    pub reporter: Arc<dyn Reporter>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("dir", &self.dir)
            .field("cache", &self.cache)
            .field("offline", &self.offline)
            .finish_non_exhaustive()
    }
}

impl Options {
    /// The tree of the project in `dir`, online, no `[mirrors]`, no progress shown.
    pub fn new(dir: PathBuf, cache: PathBuf) -> Self {
        Options {
            dir,
            cache,
            mirrors: atom::config::Mirrors::default(),
            offline: false,
            reporter: Silent::shared(),
        }
    }
}

/// Why the tree could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `atom.toml` is invalid or missing.
    #[error(transparent)]
    Manifest(#[from] atom::manifest::Error),
    /// `atom.lock` is invalid or missing.
    #[error(transparent)]
    Lockfile(#[from] atom::lock::Error),
    /// The cache could not be opened.
    #[error(transparent)]
    Cache(#[from] atom::store::cache::Error),
    /// A locked atom could not be fetched, or was refused by the checks.
    #[error(transparent)]
    Atoms(#[from] Box<verify::locked::Error>),
    /// The `atom.lock` in a locked atom's checked tree is not a valid lockfile.
    #[error("the `atom.lock` in the tree of atom `{label}@{version}` is invalid")]
    AtomLockInvalid {
        /// The atom.
        label: String,
        /// Its locked version.
        version: String,
        /// Why (located in `<label>@<version>/atom.lock`).
        #[source]
        source: Box<atom::lock::Error>,
    },
    /// The `atom.lock` in a locked atom's checked tree is not a UTF-8 file.
    #[error("the `atom.lock` in the tree of atom `{label}@{version}` is invalid: {reason}")]
    AtomLockNotText {
        /// The atom.
        label: String,
        /// Its locked version.
        version: String,
        /// What it is instead.
        reason: String,
    },
    /// The project's own set (for atoms locked from its work tree) could not be read.
    #[error(transparent)]
    LocalSet(#[from] Box<resolver::catalog::Error>),
    /// The `atom.lock` of an atom of the project's own set could not be read.
    #[error(transparent)]
    Read(#[from] std::io::Error),
    /// An object of a locked atom's checked tree could not be read from the atom store.
    #[error("cannot read the `atom.lock` in the tree of atom `{label}@{version}`: {message}")]
    AtomLockRead {
        /// The atom.
        label: String,
        /// Its locked version.
        version: String,
        /// What the object database said.
        message: String,
    },
}

impl From<verify::locked::Error> for Error {
    fn from(error: verify::locked::Error) -> Self {
        Error::Atoms(Box::new(error))
    }
}

/// One line of the tree.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// How deep (0: a direct dependency).
    pub depth: usize,
    /// The label.
    pub label: String,
    /// The version.
    pub version: String,
    /// The set root.
    pub set: String,
    /// The atom id.
    pub id: String,
    /// The atom commit.
    pub commit: String,
    /// Whether it was shown before (children and Nix inputs omitted).
    pub repeated: bool,
    /// The atom's own Nix inputs, by name, from the `atom.lock` in its tree (absent from
    /// JSON when there are none, and on a repeated atom).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nix: Vec<NixNode>,
    /// Whether the atom's tree was not available (`--offline`, not cached), so its Nix
    /// inputs are unknown (absent from JSON when they are known).
    #[serde(rename = "inputsUnknown", skip_serializing_if = "std::ops::Not::not")]
    pub inputs_unknown: bool,
}

/// One Nix input, as locked: a direct input of the project, or one of an atom's own.
#[derive(Debug, Clone, Serialize)]
pub struct NixNode {
    /// Its name in `[deps.direct.nix]`.
    pub name: String,
    /// `git`, `url`, `tar` or `build`.
    pub kind: String,
    /// Where it is fetched from.
    pub url: String,
    /// What pins it, in short: the version, else the commit (12 digits), else the NAR
    /// hash.
    pub pin: String,
    /// The full ref of a git input.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The version of a git input locked by a requirement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The commit of a git input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rev: Option<String>,
    /// The NAR hash (SRI).
    #[serde(rename = "narHash", skip_serializing_if = "Option::is_none")]
    pub nar_hash: Option<String>,
    /// The flat hash of a `url`/`build` file (SRI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// Whether it is a flake.
    pub flake: bool,
    /// For an atom's input the project's `[[follows]]` replaces: the name of the
    /// project's input it follows. The other fields are then that input's, what the
    /// atom sees.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follows: Option<String>,
}

impl NixNode {
    fn new(input: &LockedNixInput) -> Self {
        NixNode {
            name: input.name.to_string(),
            kind: input.kind.as_str().to_owned(),
            url: input.url.clone(),
            pin: ::nix::input::pin_of(input),
            reference: input.reference.clone(),
            version: input.version.as_ref().map(ToString::to_string),
            rev: input.rev.as_ref().map(ToString::to_string),
            nar_hash: input.nar_hash.as_ref().map(ToString::to_string),
            hash: input.hash.as_ref().map(ToString::to_string),
            flake: input.flake,
            follows: None,
        }
    }

    /// An atom's input `name`, replaced by the project's input `root`.
    fn following(name: &atom::Label, root: &LockedNixInput) -> Self {
        NixNode {
            name: name.to_string(),
            follows: Some(root.name.to_string()),
            ..NixNode::new(root)
        }
    }
}

/// The locked graph.
#[derive(Debug, Clone, Serialize)]
pub struct Tree {
    /// The project's label.
    pub label: String,
    /// The project's version.
    pub version: String,
    /// Depth-first, in lock order.
    pub nodes: Vec<Node>,
    /// The project's direct Nix inputs, by name (absent from JSON when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nix: Vec<NixNode>,
    /// What the run could not show (atoms not cached with `--offline`) and the cache
    /// repairs it made (absent from JSON when there are none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The Nix inputs of each locked atom, by atom id: `None` when its tree is not cached
/// and the run is offline.
type AtomInputs = BTreeMap<AtomIdHex, Option<Vec<NixNode>>>;

/// Read `atom.toml` and `atom.lock` in [`Options::dir`], fetch and check the locked
/// atoms' trees, and build the tree.
pub fn run(options: &Options) -> Result<Tree, Error> {
    let manifest = Manifest::read(options.dir.join("atom.toml"))?;
    let lock = Lockfile::read(options.dir.join(atom::lock::FILE_NAME))?;
    let roots = roots(&manifest, &lock);
    let (inputs, warnings) = atom_inputs(options, &lock)?;
    let mut tree = Tree {
        label: manifest.package.label.to_string(),
        version: manifest.package.version.to_string(),
        nodes: Vec::new(),
        nix: lock.nix.iter().map(NixNode::new).collect(),
        warnings,
    };
    let mut walk = Walk {
        lock: &lock,
        inputs: &inputs,
        shown: BTreeSet::new(),
        nodes: &mut tree.nodes,
    };
    for root in &roots {
        walk.visit(root, 0);
    }
    Ok(tree)
}

/// The atoms `atom.toml` requires directly, in manifest order.
fn roots(manifest: &Manifest, lock: &Lockfile) -> Vec<AtomIdHex> {
    let mut roots: Vec<AtomIdHex> = Vec::new();
    for (set_name, labels) in &manifest.deps.from {
        let source = manifest.package.sets.get(set_name);
        for label in labels.keys() {
            let found = lock.atoms.iter().find(|atom| {
                &atom.label == label
                    && match source {
                        Some(SetSource::Here) | None => atom.mirrors.is_empty(),
                        Some(source) => source.urls().iter().any(|url| atom.mirrors.contains(url)),
                    }
            });
            if let Some(atom) =
                found.or_else(|| lock.atoms.iter().find(|atom| &atom.label == label))
                && !roots.contains(&atom.id)
            {
                roots.push(atom.id.clone());
            }
        }
    }
    roots
}

/// Fetch (unless offline) and check every locked atom, and read the Nix inputs in its
/// tree's `atom.lock`; returns them with the run's warnings.
fn atom_inputs(options: &Options, lock: &Lockfile) -> Result<(AtomInputs, Vec<String>), Error> {
    let mut inputs = AtomInputs::new();
    if lock.atoms.is_empty() {
        return Ok((inputs, Vec::new()));
    }
    // Fetch through `[mirrors]`; the ids are the lock's.
    let redirected = options.mirrors.redirect_lock(lock);
    // Atoms locked without mirrors are the project's own set's, read from its work tree.
    let (local, all): (Vec<&LockedAtom>, Vec<&LockedAtom>) = redirected
        .atoms
        .iter()
        .partition(|atom| atom.mirrors.is_empty());
    let mut warnings = local_inputs(options, lock, &local, &mut inputs)?;
    if all.is_empty() {
        return Ok((inputs, warnings));
    }
    let cache = Cache::open(&options.cache)?;
    let wanted: Vec<&LockedAtom> = if options.offline {
        let cached = verify::locked::cached(&all, &cache)?;
        all.iter()
            .zip(cached)
            .filter_map(|(atom, cached)| cached.then_some(*atom))
            .collect()
    } else {
        all.clone()
    };
    let reporter = &*options.reporter;
    let mut fetched = verify::locked::fetch_atoms(&wanted, &cache, options.offline, reporter)?;
    let step = Step::begin(reporter, "Checking", Some(fetched.len() as u64));
    for index in 0..fetched.len() {
        let tree = fetched.check(index)?;
        let atom = fetched.atom(index);
        let own = own_lock(fetched.repo(), atom, tree)?;
        inputs.insert(atom.id.clone(), Some(nix_nodes(lock, &atom.id, own)));
        step.advance(atom.label.as_str());
    }
    warnings.extend(cache.take_repairs().iter().map(ToString::to_string));
    for atom in all {
        if !inputs.contains_key(&atom.id) {
            warnings.push(format!(
                "atom `{}@{}` is not cached and `--offline` forbids fetching it: its Nix \
                 inputs are unknown",
                atom.label, atom.version
            ));
            inputs.insert(atom.id.clone(), None);
        }
    }
    Ok((inputs, warnings))
}

/// Read the Nix inputs of `local`, atoms locked from the project's own set (no mirrors):
/// from `<set>/<path>/atom.lock` in its work tree, the user's own files as the lock
/// transaction takes them. An atom the work tree no longer holds at its locked version
/// is marked unknown; returns the warnings saying so.
fn local_inputs(
    options: &Options,
    lock: &Lockfile,
    local: &[&LockedAtom],
    inputs: &mut AtomInputs,
) -> Result<Vec<String>, Error> {
    let mut warnings = Vec::new();
    if local.is_empty() {
        return Ok(warnings);
    }
    let set = resolver::catalog::LocalSet::find(&options.dir).map_err(Box::new)?;
    for atom in local {
        let found = set.as_ref().and_then(|set| {
            set.set
                .atom(&atom.label)
                .filter(|found| found.manifest.package.version == atom.version)
                .map(|found| set.dir.join(found.path.to_string()))
        });
        let Some(dir) = found else {
            warnings.push(format!(
                "atom `{}@{}` is locked from the project's own set, whose work tree does not \
                 hold it at that version: its Nix inputs are unknown",
                atom.label, atom.version
            ));
            inputs.insert(atom.id.clone(), None);
            continue;
        };
        let path = dir.join(atom::lock::FILE_NAME);
        let own =
            match fs_err::read_to_string(&path) {
                Ok(text) => Some(Lockfile::from_str(&text, &path).map_err(|source| {
                    Error::AtomLockInvalid {
                        label: atom.label.to_string(),
                        version: atom.version.to_string(),
                        source: Box::new(without_hint(source)),
                    }
                })?),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                Err(error) => return Err(error.into()),
            };
        inputs.insert(atom.id.clone(), Some(nix_nodes(lock, &atom.id, own)));
    }
    Ok(warnings)
}

/// The lockfile at the root of `atom`'s checked tree `tree`, if it has one.
fn own_lock(
    repo: &gix::Repository,
    atom: &LockedAtom,
    tree: gix::ObjectId,
) -> Result<Option<Lockfile>, Error> {
    let unreadable = |message: String| Error::AtomLockRead {
        label: atom.label.to_string(),
        version: atom.version.to_string(),
        message,
    };
    let not_text = |reason: &str| Error::AtomLockNotText {
        label: atom.label.to_string(),
        version: atom.version.to_string(),
        reason: reason.to_owned(),
    };
    let tree = repo
        .find_object(tree)
        .map_err(|error| unreadable(error.to_string()))?
        .try_into_tree()
        .map_err(|error| unreadable(error.to_string()))?;
    let Some(entry) = tree.find_entry(atom::lock::FILE_NAME) else {
        return Ok(None);
    };
    if !entry.mode().is_blob() {
        return Err(not_text("it is not a regular file"));
    }
    let data = repo
        .find_object(entry.object_id())
        .map_err(|error| unreadable(error.to_string()))?
        .detach()
        .data;
    let text = std::str::from_utf8(&data).map_err(|_| not_text("it is not UTF-8"))?;
    let display = format!("{}@{}/{}", atom.label, atom.version, atom::lock::FILE_NAME);
    Lockfile::from_str(text, &display)
        .map(Some)
        .map_err(|source| Error::AtomLockInvalid {
            label: atom.label.to_string(),
            version: atom.version.to_string(),
            source: Box::new(without_hint(source)),
        })
}

/// The Nix inputs the atom `id` sees, by name: those of its own lock `own`, each
/// replaced by the project's input when the project's `[[follows]]` says so (an input
/// followed but missing from `own` is added, as Nix adds it).
fn nix_nodes(lock: &Lockfile, id: &AtomIdHex, own: Option<Lockfile>) -> Vec<NixNode> {
    let own = own.map(|own| own.nix).unwrap_or_default();
    let followed = |name: &atom::Label| {
        lock.follows
            .iter()
            .filter(|entry| &entry.atom == id && &entry.input == name)
            .find_map(|entry| lock.nix_input(&entry.follows))
    };
    let mut nodes: Vec<NixNode> = own
        .iter()
        .map(|input| match followed(&input.name) {
            Some(root) => NixNode::following(&input.name, root),
            None => NixNode::new(input),
        })
        .collect();
    for entry in lock.follows.iter().filter(|entry| &entry.atom == id) {
        if own.iter().any(|input| input.name == entry.input) {
            continue;
        }
        if let Some(root) = lock.nix_input(&entry.follows) {
            nodes.push(NixNode::following(&entry.input, root));
        }
    }
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    nodes
}

/// A dependency's own lock refused, without the parser's hint: that hint (`run \`eka
/// resolve\``) is advice for the project's lock, not for a file inside a published tree.
fn without_hint(error: atom::lock::Error) -> atom::lock::Error {
    match error {
        atom::lock::Error::Invalid(mut located) => {
            located.hint = None;
            atom::lock::Error::Invalid(located)
        }
        other => other,
    }
}

/// The depth-first walk from the roots.
struct Walk<'a> {
    lock: &'a Lockfile,
    inputs: &'a AtomInputs,
    shown: BTreeSet<AtomIdHex>,
    nodes: &'a mut Vec<Node>,
}

impl Walk<'_> {
    fn visit(&mut self, id: &AtomIdHex, depth: usize) {
        let Some(atom) = self.lock.atom(id) else {
            return;
        };
        let repeated = !self.shown.insert(id.clone());
        let (nix, inputs_unknown) = match self.inputs.get(id) {
            Some(Some(nix)) => (nix.clone(), false),
            Some(None) => (Vec::new(), true),
            None => (Vec::new(), false),
        };
        let has_children = !atom.deps.is_empty() || !nix.is_empty();
        self.nodes.push(Node {
            depth,
            label: atom.label.to_string(),
            version: atom.version.to_string(),
            set: atom.set.to_string(),
            id: atom.id.to_string(),
            commit: atom.commit.to_string(),
            repeated: repeated && has_children,
            nix: if repeated { Vec::new() } else { nix },
            inputs_unknown,
        });
        if repeated {
            return;
        }
        for dep in &atom.deps {
            self.visit(dep, depth + 1);
        }
    }
}

impl atom::error::Classify for Error {
    /// A missing or invalid `atom.toml`, `atom.lock` or atom's own `atom.lock` is the
    /// project's or a publisher's data refused (exit 1, whatever the cause); a fetch,
    /// cache or read failure is the environment.
    fn kind(&self) -> atom::error::Kind {
        match self {
            Error::Manifest(_)
            | Error::Lockfile(_)
            | Error::AtomLockInvalid { .. }
            | Error::AtomLockNotText { .. } => atom::error::Kind::Input,
            Error::Cache(error) => error.kind(),
            Error::Atoms(error) => error.kind(),
            Error::LocalSet(error) => error.kind(),
            Error::AtomLockRead { .. } | Error::Read(_) => atom::error::Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Manifest(error) => atom::error::Classify::hint(error),
            Error::Lockfile(error) => atom::error::Classify::hint(error),
            Error::Cache(error) => error.hint(),
            Error::Atoms(error) => error.hint(),
            Error::LocalSet(error) => error.hint(),
            Error::AtomLockInvalid { .. } | Error::AtomLockNotText { .. } => Some(
                "the set's publisher must republish the atom with a valid `atom.lock`; ask \
                 them, or require another version"
                    .into(),
            ),
            Error::AtomLockRead { .. } | Error::Read(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use atom::{
        Label,
        lock::{LockedFollows, NixKind, ObjectId},
    };

    fn git_input(name: &str, rev: char) -> LockedNixInput {
        LockedNixInput {
            name: Label::parse(name).unwrap(),
            kind: NixKind::Git,
            url: format!("https://h/{name}.git"),
            reference: Some("refs/heads/main".into()),
            version: None,
            rev: Some(ObjectId::parse(&rev.to_string().repeat(40)).unwrap()),
            nar_hash: None,
            hash: None,
            flake: false,
        }
    }

    fn follows(atom: &AtomIdHex, input: &str, root: &str) -> LockedFollows {
        LockedFollows {
            atom: atom.clone(),
            input: Label::parse(input).unwrap(),
            follows: Label::parse(root).unwrap(),
        }
    }

    #[test]
    fn an_atom_sees_its_own_pins_except_those_the_root_follows() {
        let tool = AtomIdHex::parse(&"a".repeat(64)).unwrap();
        let other = AtomIdHex::parse(&"b".repeat(64)).unwrap();
        let lock = Lockfile {
            nix: vec![git_input("nixpkgs", 'c')],
            follows: vec![
                follows(&tool, "helper", "nixpkgs"),
                follows(&tool, "extra", "nixpkgs"),
                follows(&other, "lib", "nixpkgs"),
            ],
            ..Lockfile::default()
        };
        let own = Lockfile {
            nix: vec![git_input("lib", 'd'), git_input("helper", 'e')],
            ..Lockfile::default()
        };
        let nodes = nix_nodes(&lock, &tool, Some(own));
        let shown: Vec<(&str, &str, Option<&str>)> = nodes
            .iter()
            .map(|node| {
                (
                    node.name.as_str(),
                    node.pin.as_str(),
                    node.follows.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("extra", "cccccccccccc", Some("nixpkgs")),
                ("helper", "cccccccccccc", Some("nixpkgs")),
                ("lib", "dddddddddddd", None),
            ]
        );
        assert!(nix_nodes(&lock, &other, None)[0].follows.is_some());
        assert!(nix_nodes(&Lockfile::default(), &tool, None).is_empty());
    }
}
