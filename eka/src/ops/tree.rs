//! `eka tree`: the locked dependency graph, read from `atom.lock` (no network).
//!
//! The roots are the atoms `atom.toml` requires directly (matched by label and set
//! URL; `"::"` sets match atoms locked without mirrors); every atom then lists its
//! locked dependencies. An atom reached again is shown once more without its children
//! and marked [`Node::repeated`]. The project's direct Nix inputs (the `[[nix]]`
//! entries of `atom.lock`) are listed under it as [`NixNode`]s. A published atom's own
//! inputs live in the `atom.lock` inside its tree, which the project's lock does not
//! copy: none are listed under the atoms.
//!
//! ```no_run
//! let tree = eka::ops::tree::run(".".as_ref())?;
//! for node in &tree.nodes {
//!     println!("{}{} {}", "  ".repeat(node.depth), node.label, node.version);
//! }
//! # Ok::<(), eka::ops::tree::Error>(())
//! ```

use std::{collections::BTreeSet, path::Path};

use atom::{
    lock::{AtomIdHex, Lockfile},
    manifest::{Manifest, SetSource},
};
use serde::Serialize;

/// Why the tree could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `atom.toml` is invalid or missing.
    #[error(transparent)]
    Manifest(#[from] atom::manifest::Error),
    /// `atom.lock` is invalid or missing.
    #[error(transparent)]
    Lockfile(#[from] atom::lock::Error),
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
    /// Whether it was shown before (children omitted).
    pub repeated: bool,
}

/// One direct Nix input of the project, as locked.
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
}

impl NixNode {
    fn new(input: &atom::lock::LockedNixInput) -> Self {
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
}

/// Read `atom.toml` and `atom.lock` in `dir` and build the tree.
pub fn run(dir: &Path) -> Result<Tree, Error> {
    let manifest = Manifest::read(dir.join("atom.toml"))?;
    let lock = Lockfile::read(dir.join(atom::lock::FILE_NAME))?;
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
    let mut tree = Tree {
        label: manifest.package.label.to_string(),
        version: manifest.package.version.to_string(),
        nodes: Vec::new(),
        nix: lock.nix.iter().map(NixNode::new).collect(),
    };
    let mut shown = BTreeSet::new();
    for root in &roots {
        walk(&lock, root, 0, &mut shown, &mut tree.nodes);
    }
    Ok(tree)
}

fn walk(
    lock: &Lockfile,
    id: &AtomIdHex,
    depth: usize,
    shown: &mut BTreeSet<AtomIdHex>,
    nodes: &mut Vec<Node>,
) {
    let Some(atom) = lock.atom(id) else {
        return;
    };
    let repeated = !shown.insert(id.clone());
    nodes.push(Node {
        depth,
        label: atom.label.to_string(),
        version: atom.version.to_string(),
        set: atom.set.to_string(),
        id: atom.id.to_string(),
        commit: atom.commit.to_string(),
        repeated: repeated && !atom.deps.is_empty(),
    });
    if repeated {
        return;
    }
    for dep in &atom.deps {
        walk(lock, dep, depth + 1, shown, nodes);
    }
}

impl atom::error::Classify for Error {
    /// A missing or invalid `atom.toml` or `atom.lock` is the project refused (exit 1,
    /// whatever the cause).
    fn kind(&self) -> atom::error::Kind {
        atom::error::Kind::Input
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Manifest(error) => atom::error::Classify::hint(error),
            Error::Lockfile(error) => atom::error::Classify::hint(error),
        }
    }
}
