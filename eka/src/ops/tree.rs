//! `eka tree`: the locked dependency graph, read from `atom.lock` (no network).
//!
//! The roots are the atoms `atom.toml` requires directly (matched by label and set
//! URL; `"::"` sets match atoms locked without mirrors); every atom then lists its
//! locked dependencies. An atom reached again is shown once more without its children
//! and marked [`Node::repeated`].
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

/// The locked graph.
#[derive(Debug, Clone, Serialize)]
pub struct Tree {
    /// The project's label.
    pub label: String,
    /// The project's version.
    pub version: String,
    /// Depth-first, in lock order.
    pub nodes: Vec<Node>,
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
