//! `eka export --flake`: the lock of an atom as a `flake.lock` (version 7) plus the
//! matching `inputs` declaration, so an existing flake consumes atoms resolved by eka
//! without re-locking.
//!
//! Every locked atom becomes a node named by its label (`<label>-<first 8 hex of its
//! set>` when two sets lock the same label) with `flake = false` and
//! `locked = { type = "git"; url = <first mirror>; ref = "refs/eka/atoms/<label>/<version>";
//! rev = <atom commit>; narHash; lastModified = 0; revCount = 1; }` (what Nix 2.8
//! records for a parentless commit dated 0, so `nix flake update` keeps the node). The
//! `narHash` is computed by eka from the atom
//! commit's tree ([`crate::nar::hash_git_tree`]) only after the commit is checked: its
//! bytes hash to its id, it is a canonical atom commit whose `set`, `label` and
//! `version` headers are the lock's, its tree passes the hostile-tree validator of
//! `eka verify`/`eka publish` ([`verify::tree::hash_tree`]) and the tree's BLAKE3
//! content hash equals both the lock's `content` and the commit's content header; any
//! other atom is [`Error::Refused`] (naming the mirror it came from, or the cache) and
//! nothing is written. The commits live in the cache's one
//! atom store (`<cache>/v1/atoms.git`, [`atom::store::cache`]); those missing, or
//! present without their tree (discovery fetches commits tree-less), are fetched with
//! their trees through [`atom::store::git::Repo::fetch`], ONE fetch per mirror URL for
//! all the commits it serves. Progress goes to the caller's
//! [`Reporter`]: a `Fetching` step (one item per mirror) and a
//! `Hashing` step (one item per atom). A damaged store is rebuilt and reported in
//! [`Outcome::warnings`]. Direct `git`
//! and `tar` inputs become `git` / `tarball` nodes pinned by `rev` and `narHash`
//! (`flake` as locked). Nix 2.8 has no `file` input type, so `url` and `build` inputs
//! are left out and reported in [`Outcome::skipped`].
//!
//! Each atom's own Nix inputs (the `[[nix]]` entries of the `atom.lock` inside its
//! checked tree, [`Checked::own_inputs`]) become root inputs named
//! `<atom node>.<input>` ([`own_input_name`]): a `follows` of the direct input's node
//! when the lock's `[[follows]]` replaces that input, else a node pinned as the atom's
//! own lock pins it (same rules as direct inputs; those that cannot be flake inputs are
//! left out with a warning in [`Outcome::warnings`]). The Nix library's
//! `fromFlakeInputs` maps them back to each atom's `nix` argument.
//!
//! An existing `flake.lock` is merged with ([`merged_flake_lock`]): the nodes eka did
//! not write (root inputs that are neither atom nodes, recognised by their
//! `refs/eka/atoms/` ref, nor `<atom node>.<input>`, nor the nodes of the direct inputs
//! locked now) are kept
//! verbatim with everything reachable from them; a kept node with a name eka needs is
//! [`Error::Clash`]. With [`Options::write_inputs`] the declaration is also spliced into
//! `flake.nix` between [`BEGIN_MARKER`] and [`END_MARKER`] ([`splice_inputs`]).
//!
//! [`flake_lock`] is the pure part (lock + [`Checked`] trees in, text out):
//!
//! ```
//! use atom::lock::Lockfile;
//! use nix::export::{Checked, flake_lock};
//!
//! let export = flake_lock(&Lockfile::default(), &Checked::default()).unwrap();
//! assert!(export.lock.contains("\"version\": 7"));
//! assert_eq!(export.inputs, "{\n}\n");
//! ```

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

use atom::{
    error::{Classify, Kind},
    lock::{AtomIdHex, LockedAtom, LockedNixInput, Lockfile, NixKind},
    progress::{Reporter, Step},
    store::cache::Cache,
};
use serde_json::{Map, Value, json};

use crate::eval::nix_string;

/// What to export.
#[derive(Debug, Clone)]
pub struct Options {
    /// The atom's directory (holding `atom.lock`).
    pub dir: PathBuf,
    /// Where to write `flake.lock`.
    pub output: PathBuf,
    /// eka's cache directory (`<cache>/v1/atoms.git` holds the fetched atom commits).
    pub cache: PathBuf,
    /// Never fetch: atom commits must already be cached.
    pub offline: bool,
    /// The consumer's `[mirrors]`: where missing atom commits are fetched from.
    pub mirrors: atom::config::Mirrors,
    /// Also write the inputs into `<output>/flake.nix`, between the
    /// [`BEGIN_MARKER`] and [`END_MARKER`] lines.
    pub write_inputs: bool,
}

/// The line opening the block of `flake.nix` that `--write-inputs` rewrites.
pub const BEGIN_MARKER: &str = "# eka:inputs:begin";
/// The line closing the block of `flake.nix` that `--write-inputs` rewrites.
pub const END_MARKER: &str = "# eka:inputs:end";

/// The prefix of the `ref` of every atom node's `original`: what marks a node as eka's.
const ATOM_REF_PREFIX: &str = "refs/eka/atoms/";

/// What was exported.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The `flake.lock` written.
    pub lock_path: PathBuf,
    /// Whether its content changed (an identical file is not rewritten).
    pub changed: bool,
    /// The `flake.nix` whose inputs block was rewritten (`--write-inputs`), and whether
    /// its content changed.
    pub flake_nix: Option<(PathBuf, bool)>,
    /// How many nodes of an existing `flake.lock` were not eka's and were kept.
    pub kept: usize,
    /// The `inputs = { … };` declaration matching it (flakes need a literal, so it is
    /// printed for the user to paste into `flake.nix`).
    pub inputs: String,
    /// Direct Nix inputs that cannot be flake inputs on Nix 2.8 (`url`, `build`).
    pub skipped: Vec<String>,
    /// Damaged parts of the cache that were rebuilt and the atoms' own Nix inputs left
    /// out of `flake.lock`, for the caller to print as warnings.
    pub warnings: Vec<String>,
}

/// The pure result of [`flake_lock`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// The `flake.lock` text.
    pub lock: String,
    /// The inputs declaration (a Nix attribute set).
    pub inputs: String,
    /// Skipped direct inputs.
    pub skipped: Vec<String>,
    /// The atoms' own Nix inputs left out, and why.
    pub warnings: Vec<String>,
    /// Each input's declaration (`{ type = …; flake = …; }`) by node name.
    pub declarations: BTreeMap<String, String>,
    /// How many nodes of the existing lock were not eka's and were kept.
    pub kept: usize,
}

/// Why the export failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The lock could not be read.
    #[error(transparent)]
    Lock(#[from] atom::lock::Error),
    /// A git input has no `narHash`, which a flake input needs to be pure.
    #[error("git input `{name}` in `atom.lock` has no `narHash`")]
    NoNarHash {
        /// The input.
        name: String,
    },
    /// An atom has no mirror.
    #[error("locked atom `{label}` has no mirrors")]
    NoMirror {
        /// The atom.
        label: String,
    },
    /// The cache could not be opened, locked or repaired.
    #[error(transparent)]
    Cache(#[from] atom::store::cache::Error),
    /// A locked atom could not be fetched, or was refused by the checks of
    /// [`verify::locked`].
    #[error(transparent)]
    Locked(Box<verify::locked::Error>),
    /// The NAR hash of an atom tree could not be computed.
    #[error("cannot compute the NAR hash of atom `{label}`")]
    Hash {
        /// The atom.
        label: String,
        /// The cause.
        #[source]
        source: crate::nar::Error,
    },
    /// The existing `flake.lock` cannot be merged with.
    #[error("cannot keep the inputs of `{}`: {reason}", path.display())]
    Existing {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A node of the existing `flake.lock` that eka did not write has the name eka needs.
    #[error(
        "the input `{name}` of `{}` was not written by eka, but {owner} needs that name",
        path.display()
    )]
    Clash {
        /// The node name.
        name: String,
        /// What eka writes under that name (atom `x` or direct Nix input `y`).
        owner: String,
        /// The file.
        path: PathBuf,
    },
    /// The `atom.lock` inside a locked atom's tree cannot be read.
    #[error("the `atom.lock` of atom `{atom}` cannot be read: {reason}")]
    OwnLock {
        /// The atom (`label@version`).
        atom: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `flake.nix` has no inputs block for `--write-inputs` to rewrite.
    #[error("`{}` {problem}", path.display())]
    Markers {
        /// The file.
        path: PathBuf,
        /// What is wrong (missing, or unbalanced markers).
        problem: String,
    },
    /// Reading an existing `flake.lock` or `flake.nix` failed.
    #[error(transparent)]
    Read(std::io::Error),
    /// Writing `flake.lock` failed.
    #[error("cannot write `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl From<verify::locked::Error> for Error {
    fn from(error: verify::locked::Error) -> Self {
        Error::Locked(Box::new(error))
    }
}

impl Classify for Error {
    /// A lock that cannot be parsed, a missing hash, mirror or commit is the user's data;
    /// a cache, hash or write failure is the environment.
    fn kind(&self) -> Kind {
        match self {
            Error::Lock(error) => error.kind(),
            Error::NoNarHash { .. }
            | Error::NoMirror { .. }
            | Error::Existing { .. }
            | Error::Clash { .. }
            | Error::OwnLock { .. }
            | Error::Markers { .. } => Kind::Input,
            Error::Read(_) => Kind::Environment,
            Error::Cache(error) => error.kind(),
            Error::Locked(error) => error.kind(),
            Error::Hash { .. } | Error::Write { .. } => Kind::Environment,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Lock(atom::lock::Error::Io(_)) => {
                Some("run `eka resolve` to write `atom.lock` first".into())
            }
            Error::NoNarHash { .. } => {
                Some("run `eka update <name>` to lock it again with its `narHash`".into())
            }
            Error::Existing { .. } => Some("move it away to export a fresh `flake.lock`".into()),
            Error::Clash { .. } => {
                Some("rename that input in `flake.nix` and run `nix flake lock` again".into())
            }
            Error::Markers { .. } => Some(format!(
                "put the lines `{BEGIN_MARKER}` and `{END_MARKER}` once each inside \
                 `inputs = {{ ... }};` of `flake.nix`"
            )),
            Error::Cache(error) => error.hint(),
            Error::Locked(error) => error.hint(),
            _ => None,
        }
    }
}

fn atom_ref(atom: &LockedAtom) -> String {
    format!("refs/eka/atoms/{}/{}", atom.label, atom.version)
}

/// Node names for the atoms: the label, or `<label>-<set prefix>` when ambiguous.
fn atom_names(lock: &Lockfile) -> BTreeMap<AtomIdHex, String> {
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for atom in &lock.atoms {
        *count.entry(atom.label.as_str()).or_default() += 1;
    }
    lock.atoms
        .iter()
        .map(|atom| {
            let label = atom.label.as_str();
            let name = if count.get(label).copied().unwrap_or(0) > 1 {
                format!("{label}-{}", atom.set.as_str().get(..8).unwrap_or(""))
            } else {
                label.to_owned()
            };
            (atom.id.clone(), name)
        })
        .collect()
}

fn declaration(entries: &Map<String, Value>, flake: bool) -> String {
    let mut out = String::from("{ ");
    for (key, value) in entries {
        if let Value::String(text) = value {
            out.push_str(&format!("{key} = {}; ", nix_string(text)));
        }
    }
    out.push_str(&format!("flake = {flake}; }}"));
    out
}

/// A flake lock node's attribute set (`original`, `locked`).
type Attributes = Map<String, Value>;

/// The `original` and `locked` attributes of a direct Nix input's node; `None` for the
/// kinds Nix 2.8 flakes cannot lock (`url`, `build`).
fn input_node(input: &LockedNixInput) -> Result<Option<(Attributes, Attributes)>, Error> {
    let mut original = Map::new();
    let mut locked;
    match input.kind {
        NixKind::Git => {
            let nar_hash = input.nar_hash.as_ref().ok_or_else(|| Error::NoNarHash {
                name: input.name.to_string(),
            })?;
            if let Some(reference) = &input.reference {
                original.insert("ref".into(), json!(reference));
            }
            original.insert("type".into(), json!("git"));
            original.insert("url".into(), json!(input.url));
            locked = original.clone();
            locked.insert("narHash".into(), json!(nar_hash.as_str()));
            if let Some(rev) = &input.rev {
                locked.insert("rev".into(), json!(rev.as_str()));
            }
        }
        NixKind::Tar => {
            original.insert("type".into(), json!("tarball"));
            original.insert("url".into(), json!(input.url));
            locked = original.clone();
            if let Some(nar_hash) = &input.nar_hash {
                locked.insert("narHash".into(), json!(nar_hash.as_str()));
            }
        }
        NixKind::Url | NixKind::Build => return Ok(None),
    }
    Ok(Some((original, locked)))
}

/// What eka learnt from each locked atom's checked tree: the NAR hash of the tree and
/// the Nix inputs the atom locked for itself (the `[[nix]]` entries of the `atom.lock`
/// inside its tree).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// The NAR hash (SRI) of each atom's tree, by atom id.
    pub nar_hashes: BTreeMap<AtomIdHex, String>,
    /// Each atom's own locked Nix inputs, by atom id (absent: no `atom.lock` in its tree).
    pub own_inputs: BTreeMap<AtomIdHex, Vec<LockedNixInput>>,
}

/// The value of a root input: a node, or a `follows` path.
#[derive(Debug, Clone)]
enum RootInput {
    /// The node of that name.
    Node(Value),
    /// Another root input (a flake `follows`).
    Follows(String),
}

/// The nodes eka writes for a lock: atom nodes, direct-input nodes and the nodes (or
/// follows) of each atom's own Nix inputs.
struct EkaNodes {
    /// Root input name → its node or follows.
    inputs: BTreeMap<String, RootInput>,
    /// The names of the atom nodes.
    atoms: BTreeSet<String>,
    /// Node name → what it pins (atom `x`, direct Nix input `y`), for clash errors.
    owners: BTreeMap<String, String>,
    /// Node name → inputs declaration.
    declarations: BTreeMap<String, String>,
    /// Skipped direct inputs.
    skipped: Vec<String>,
    /// Own inputs of atoms left out, and why.
    warnings: Vec<String>,
}

impl EkaNodes {
    /// The node `name`, if eka writes one under that name.
    fn node(&self, name: &str) -> Option<&Value> {
        match self.inputs.get(name) {
            Some(RootInput::Node(node)) => Some(node),
            _ => None,
        }
    }
}

/// The node of one locked atom. Atom commits are parentless and dated `0`, as the
/// checks of [`verify::locked`] make sure, so Nix 2.8 would lock them with
/// `lastModified = 0` and `revCount = 1`: writing the same keeps `nix flake update`
/// from rewriting the node.
fn atom_node(atom: &LockedAtom, nar_hash: String) -> Result<(Value, Attributes), Error> {
    let url = atom
        .mirrors
        .first()
        .ok_or_else(|| Error::NoMirror {
            label: atom.label.to_string(),
        })?
        .as_str()
        .to_owned();
    let mut original = Map::new();
    original.insert("ref".into(), json!(atom_ref(atom)));
    original.insert("type".into(), json!("git"));
    original.insert("url".into(), json!(url));
    let mut locked = original.clone();
    locked.insert("lastModified".into(), json!(0));
    locked.insert("narHash".into(), json!(nar_hash));
    locked.insert("rev".into(), json!(atom.commit.as_str()));
    locked.insert("revCount".into(), json!(1));
    let node = json!({ "flake": false, "locked": locked, "original": original });
    Ok((node, original))
}

/// The node of one locked Nix input and its declaration; `None` for the kinds Nix 2.8
/// flakes cannot lock (`url`, `build`).
fn nix_node(input: &LockedNixInput) -> Result<Option<(Value, String)>, Error> {
    let Some((original, locked)) = input_node(input)? else {
        return Ok(None);
    };
    let declaration = declaration(&original, input.flake);
    let mut node = Map::new();
    if !input.flake {
        node.insert("flake".into(), json!(false));
    }
    node.insert("locked".into(), Value::Object(locked));
    node.insert("original".into(), Value::Object(original));
    Ok(Some((Value::Object(node), declaration)))
}

/// The name of the root input holding atom node `atom`'s own Nix input `input`. Labels
/// and input names have no `.`, so these names never meet an atom's or a direct
/// input's.
pub fn own_input_name(atom: &str, input: &str) -> String {
    format!("{atom}.{input}")
}

/// The nodes eka writes for `lock`.
fn eka_nodes(lock: &Lockfile, checked: &Checked) -> Result<EkaNodes, Error> {
    let names = atom_names(lock);
    let mut eka = EkaNodes {
        inputs: BTreeMap::new(),
        atoms: BTreeSet::new(),
        owners: BTreeMap::new(),
        declarations: BTreeMap::new(),
        skipped: Vec::new(),
        warnings: Vec::new(),
    };
    for atom in &lock.atoms {
        let name = names.get(&atom.id).cloned().unwrap_or_default();
        let nar_hash = checked
            .nar_hashes
            .get(&atom.id)
            .cloned()
            .unwrap_or_default();
        let (node, original) = atom_node(atom, nar_hash)?;
        eka.declarations
            .insert(name.clone(), declaration(&original, false));
        eka.owners
            .insert(name.clone(), format!("atom `{}`", atom.label));
        eka.atoms.insert(name.clone());
        eka.inputs.insert(name, RootInput::Node(node));
    }
    let direct = direct_input_nodes(lock, &mut eka)?;
    for atom in &lock.atoms {
        let name = names.get(&atom.id).cloned().unwrap_or_default();
        let own = checked
            .own_inputs
            .get(&atom.id)
            .map_or(&[][..], Vec::as_slice);
        own_input_nodes(lock, atom, &name, own, &direct, &mut eka);
    }
    Ok(eka)
}

/// Add the nodes of the direct Nix inputs of `lock` to `eka`; the node name of each
/// input that has one, by input name.
fn direct_input_nodes(
    lock: &Lockfile,
    eka: &mut EkaNodes,
) -> Result<BTreeMap<String, String>, Error> {
    let mut direct = BTreeMap::new();
    for input in &lock.nix {
        let mut name = input.name.to_string();
        if eka.inputs.contains_key(&name) || name == "root" {
            name.push_str("-nix");
        }
        let Some((node, declaration)) = nix_node(input)? else {
            eka.skipped.push(input.name.to_string());
            continue;
        };
        eka.declarations.insert(name.clone(), declaration);
        eka.owners
            .insert(name.clone(), format!("direct Nix input `{}`", input.name));
        direct.insert(input.name.to_string(), name.clone());
        eka.inputs.insert(name, RootInput::Node(node));
    }
    Ok(direct)
}

/// Add the root inputs of `atom`'s own Nix inputs `own` (its node being `atom_name`)
/// to `eka`: a `follows` of the direct input's node for those the lock's `[[follows]]`
/// replaces, else a node pinned as the atom's own lock pins it. Inputs that cannot be
/// flake inputs are left out with a warning (the Nix library then fetches them itself).
fn own_input_nodes(
    lock: &Lockfile,
    atom: &LockedAtom,
    atom_name: &str,
    own: &[LockedNixInput],
    direct: &BTreeMap<String, String>,
    eka: &mut EkaNodes,
) {
    for input in own {
        let name = own_input_name(atom_name, input.name.as_str());
        let what = format!("the Nix input `{}` of atom `{}`", input.name, atom.label);
        let follows = lock
            .follows
            .iter()
            .find(|entry| entry.atom == atom.id && entry.input == input.name);
        let root_input = match follows {
            Some(entry) => match direct.get(entry.follows.as_str()) {
                Some(target) => {
                    eka.declarations.insert(
                        name.clone(),
                        format!("{{ follows = {}; }}", nix_string(target)),
                    );
                    RootInput::Follows(target.clone())
                }
                None => {
                    eka.warnings.push(format!(
                        "{what} follows `{}`, which is not in `flake.lock`; it is left out",
                        entry.follows
                    ));
                    continue;
                }
            },
            None => match nix_node(input) {
                Ok(Some((node, declaration))) => {
                    eka.declarations.insert(name.clone(), declaration);
                    RootInput::Node(node)
                }
                Ok(None) => {
                    eka.warnings.push(format!(
                        "{what} is a `url`/`build` input, which Nix 2.8 flakes cannot lock; \
                         it is not in `flake.lock`"
                    ));
                    continue;
                }
                Err(_) => {
                    eka.warnings.push(format!(
                        "{what} is locked without a `narHash`; it is not in `flake.lock`"
                    ));
                    continue;
                }
            },
        };
        eka.owners.insert(name.clone(), what);
        eka.inputs.insert(name, root_input);
    }
}

/// Whether `node` is an atom node: `flake = false` and an `original` git `ref` under
/// `refs/eka/atoms/`.
fn is_atom_node(node: &Value) -> bool {
    let original = &node["original"];
    node["flake"] == json!(false)
        && original["type"] == "git"
        && original["ref"]
            .as_str()
            .is_some_and(|reference| reference.starts_with(ATOM_REF_PREFIX))
}

/// Whether the existing node `name` is one eka writes: an atom node, or the node of a
/// direct input eka locks now, with the same `original`.
fn is_eka_node(name: &str, node: &Value, eka: &EkaNodes) -> bool {
    is_atom_node(node)
        || eka
            .node(name)
            .is_some_and(|ours| !is_atom_node(ours) && ours["original"] == node["original"])
}

/// The existing lock's nodes that are not eka's: the root inputs that are not eka's
/// nodes and every node reachable from them, verbatim.
struct UserNodes {
    /// Root input name → its value (a node name, or a `follows` path).
    root_inputs: Map<String, Value>,
    /// Node name → node.
    nodes: Map<String, Value>,
}

/// The user's nodes of the existing `flake.lock` text at `path`.
fn user_nodes(
    text: &str,
    path: &Path,
    eka: &EkaNodes,
    declared: &BTreeSet<String>,
) -> Result<UserNodes, Error> {
    let existing = |reason: &str| Error::Existing {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let document: Value = serde_json::from_str(text)
        .map_err(|error| existing(&format!("it is not JSON ({error})")))?;
    if document["version"] != 7 {
        return Err(existing("it is not a version 7 flake lock"));
    }
    let nodes = document["nodes"]
        .as_object()
        .ok_or_else(|| existing("it has no `nodes`"))?;
    let root_name = document["root"]
        .as_str()
        .ok_or_else(|| existing("it has no `root`"))?;
    let empty = Map::new();
    let root_inputs = nodes
        .get(root_name)
        .ok_or_else(|| existing("its `root` node is missing"))?["inputs"]
        .as_object()
        .unwrap_or(&empty);
    let mut user = UserNodes {
        root_inputs: Map::new(),
        nodes: Map::new(),
    };
    // The atom nodes of the existing lock: `<atom node>.<input>` root inputs are eka's.
    let atoms: BTreeSet<&str> = root_inputs
        .iter()
        .filter(|(_, value)| {
            value
                .as_str()
                .and_then(|target| nodes.get(target))
                .is_some_and(is_atom_node)
        })
        .map(|(name, _)| name.as_str())
        .collect();
    let mut pending = Vec::new();
    for (name, value) in root_inputs {
        let own_input = name
            .split_once('.')
            .is_some_and(|(atom, _)| atoms.contains(atom) || eka.atoms.contains(atom));
        let eka_node = value.as_str().is_some_and(|target| {
            nodes
                .get(target)
                .is_some_and(|node| is_eka_node(target, node, eka))
        });
        if own_input || eka_node || declared.contains(name) {
            continue;
        }
        user.root_inputs.insert(name.clone(), value.clone());
        if let Some(target) = value.as_str() {
            pending.push(target.to_owned());
        }
    }
    while let Some(name) = pending.pop() {
        if user.nodes.contains_key(&name) || name == root_name {
            continue;
        }
        let Some(node) = nodes.get(&name) else {
            return Err(existing(&format!("the node `{name}` is missing")));
        };
        if let Some(inputs) = node["inputs"].as_object() {
            pending.extend(inputs.values().filter_map(Value::as_str).map(str::to_owned));
        }
        user.nodes.insert(name, node.clone());
    }
    let taken = user.root_inputs.keys().chain(user.nodes.keys());
    for name in taken {
        if let Some(owner) = eka.owners.get(name) {
            return Err(Error::Clash {
                name: name.clone(),
                owner: owner.clone(),
                path: path.to_owned(),
            });
        }
    }
    Ok(user)
}

/// The `flake.lock` and inputs declaration for `lock`, given the NAR hash (SRI) of
/// each locked atom's tree by atom id.
pub fn flake_lock(lock: &Lockfile, checked: &Checked) -> Result<Export, Error> {
    merged_flake_lock(lock, checked, None, &BTreeSet::new())
}

/// Like [`flake_lock`], keeping the nodes of `existing` (the text of the `flake.lock`
/// at the given path) that eka did not write: every root input that is not an eka node
/// and every node reachable from it, byte for byte and under its name. eka's nodes
/// (atom nodes, and the nodes of the direct inputs it locks now) are rewritten, and
/// those of atoms no longer locked dropped. A kept node with a name eka needs is
/// [`Error::Clash`]. The root inputs named in `declared` (those of the eka block of
/// `flake.nix`, [`declared_inputs`]) are eka's too, so a direct input removed from
/// `atom.lock` leaves both files together.
pub fn merged_flake_lock(
    lock: &Lockfile,
    checked: &Checked,
    existing: Option<(&Path, &str)>,
    declared: &BTreeSet<String>,
) -> Result<Export, Error> {
    let eka = eka_nodes(lock, checked)?;
    let user = match existing {
        Some((path, text)) => user_nodes(text, path, &eka, declared)?,
        None => UserNodes {
            root_inputs: Map::new(),
            nodes: Map::new(),
        },
    };
    let kept = user.nodes.len();
    let mut root_inputs = user.root_inputs;
    let mut nodes = user.nodes;
    for (name, input) in eka.inputs {
        match input {
            RootInput::Node(node) => {
                root_inputs.insert(name.clone(), json!(name));
                nodes.insert(name, node);
            }
            RootInput::Follows(target) => {
                root_inputs.insert(name, json!([target]));
            }
        }
    }
    nodes.insert("root".into(), json!({ "inputs": root_inputs }));
    let document = json!({ "nodes": nodes, "root": "root", "version": 7 });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    let mut inputs = String::from("{\n");
    for (name, declaration) in &eka.declarations {
        inputs.push_str(&format!("  {} = {declaration};\n", nix_string(name)));
    }
    inputs.push_str("}\n");
    Ok(Export {
        lock: text,
        inputs,
        skipped: eka.skipped,
        warnings: eka.warnings,
        declarations: eka.declarations,
        kept,
    })
}

/// `flake_nix` (the text of the file at `path`) with the lines between its
/// [`BEGIN_MARKER`] and [`END_MARKER`] lines replaced by one `"name" = { … };` line
/// per declaration, indented as the begin marker; everything else is kept byte for
/// byte. Missing, repeated or reversed markers are [`Error::Markers`].
pub fn splice_inputs(
    flake_nix: &str,
    path: &Path,
    declarations: &BTreeMap<String, String>,
) -> Result<String, Error> {
    let lines: Vec<&str> = flake_nix.split_inclusive('\n').collect();
    let (begin, end) = block(&lines, path)?;
    let indent: String = lines
        .get(begin)
        .copied()
        .unwrap_or_default()
        .chars()
        .take_while(|character| *character == ' ' || *character == '\t')
        .collect();
    let mut out: String = lines.get(..=begin).unwrap_or_default().concat();
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for (name, declaration) in declarations {
        out.push_str(&format!("{indent}{} = {declaration};\n", nix_string(name)));
    }
    out.push_str(&lines.get(end..).unwrap_or_default().concat());
    Ok(out)
}

/// The names of the inputs declared between the markers of `flake_nix` (the text of
/// the file at `path`): the attribute name at the start of each line, quoted or not.
pub fn declared_inputs(flake_nix: &str, path: &Path) -> Result<BTreeSet<String>, Error> {
    let lines: Vec<&str> = flake_nix.split_inclusive('\n').collect();
    let (begin, end) = block(&lines, path)?;
    let inside = lines.get(begin + 1..end).unwrap_or_default();
    Ok(inside
        .iter()
        .filter_map(|line| attribute_name(line))
        .collect())
}

/// The attribute name a binding line starts with (`"a-b" = …` or `a.url = …`).
fn attribute_name(line: &str) -> Option<String> {
    let line = line.trim_start();
    if let Some(quoted) = line.strip_prefix('"') {
        let name = quoted.split('"').next()?;
        return (!name.is_empty() && !name.contains('\\')).then(|| name.to_owned());
    }
    let name: String = line
        .chars()
        .take_while(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '_' | '-' | '\'')
        })
        .collect();
    (!name.is_empty() && !line.starts_with('#')).then_some(name)
}

/// The line indexes of the begin and end markers of `lines` (of the file at `path`).
fn block(lines: &[&str], path: &Path) -> Result<(usize, usize), Error> {
    let find = |marker: &str| -> Vec<usize> {
        lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.trim() == marker)
            .map(|(index, _)| index)
            .collect()
    };
    let (begins, ends) = (find(BEGIN_MARKER), find(END_MARKER));
    let problem = match (begins.as_slice(), ends.as_slice()) {
        ([], []) => Some(format!("has no `{BEGIN_MARKER}` and `{END_MARKER}` lines")),
        ([begin], [end]) if begin < end => None,
        _ => Some(format!(
            "has unbalanced `{BEGIN_MARKER}` / `{END_MARKER}` lines ({} and {})",
            begins.len(),
            ends.len()
        )),
    };
    match (begins.first(), ends.first(), problem) {
        (Some(&begin), Some(&end), None) => Ok((begin, end)),
        (_, _, problem) => Err(Error::Markers {
            path: path.to_owned(),
            problem: problem.unwrap_or_default(),
        }),
    }
}

/// The NAR hash (SRI) of each locked atom's tree and the Nix inputs it locked for
/// itself, fetching the atom commits missing from the cache's atom store (with their
/// trees) from their mirrors. Each atom commit is checked first
/// ([`verify::locked::Fetched::check`]): the first refused atom stops the export.
pub fn check_atoms(
    lock: &Lockfile,
    cache: &Cache,
    offline: bool,
    reporter: &dyn Reporter,
) -> Result<Checked, Error> {
    let mut fetched = verify::locked::fetch(lock, cache, offline, reporter)?;
    let step = Step::begin(reporter, "Hashing", Some(fetched.len() as u64));
    let mut checked = Checked::default();
    for index in 0..fetched.len() {
        let tree = fetched.check(index)?;
        let atom = fetched.atom(index);
        let hash =
            crate::nar::hash_git_tree(fetched.repo(), tree).map_err(|source| Error::Hash {
                label: atom.label.to_string(),
                source,
            })?;
        if let Some(own) = own_lock(fetched.repo(), tree, atom)? {
            checked.own_inputs.insert(atom.id.clone(), own.nix);
        }
        step.advance(atom.label.as_str());
        checked.nar_hashes.insert(atom.id.clone(), hash.to_sri());
    }
    Ok(checked)
}

/// The `atom.lock` in `tree` (the checked tree of `atom`), if it has one.
fn own_lock(
    repo: &gix::Repository,
    tree: gix::ObjectId,
    atom: &LockedAtom,
) -> Result<Option<Lockfile>, Error> {
    let display = format!("{}@{}/{}", atom.label, atom.version, atom::lock::FILE_NAME);
    let unreadable = |reason: String| Error::OwnLock {
        atom: format!("{}@{}", atom.label, atom.version),
        reason,
    };
    let entry = repo
        .find_object(tree)
        .ok()
        .and_then(|object| object.try_into_tree().ok())
        .and_then(|tree| {
            tree.find_entry(atom::lock::FILE_NAME)
                .map(|entry| entry.object_id())
        });
    let Some(blob) = entry else {
        return Ok(None);
    };
    let data = repo
        .find_object(blob)
        .map_err(|error| unreadable(error.to_string()))?
        .detach()
        .data;
    let text = String::from_utf8(data).map_err(|_| unreadable("it is not UTF-8".into()))?;
    Lockfile::from_str(&text, &display)
        .map(Some)
        .map_err(|error| unreadable(error.to_string()))
}

/// The text of `path`, or `None` when it does not exist.
fn read_if_exists(path: &Path) -> Result<Option<String>, Error> {
    match fs_err::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(Error::Read(error)),
    }
}

/// Write `text` to `path` unless it already holds it; whether it changed.
fn write(path: &Path, text: &str) -> Result<bool, Error> {
    let outcome = atom::fs::write_atomic(path, text.as_bytes()).map_err(|error| Error::Write {
        path: path.to_owned(),
        source: Box::new(error),
    })?;
    Ok(!matches!(outcome, atom::fs::Outcome::Unchanged))
}

/// The `flake.nix` that `--write-inputs` rewrites.
fn read_flake_nix(path: &Path) -> Result<String, Error> {
    read_if_exists(path)?.ok_or_else(|| Error::Markers {
        path: path.to_owned(),
        problem: "does not exist".into(),
    })
}

/// Export `<dir>/atom.lock` as `<output>/flake.lock`, keeping the nodes of an existing
/// one that eka did not write ([`merged_flake_lock`]) and, with
/// [`Options::write_inputs`], the inputs block of `<output>/flake.nix`; the fetches and
/// hashing are reported to `reporter`. A refusal writes nothing.
pub fn run(options: &Options, reporter: &dyn Reporter) -> Result<Outcome, Error> {
    let lock = Lockfile::read(options.dir.join(atom::lock::FILE_NAME))?;
    let lock_path = options.output.join("flake.lock");
    let existing = read_if_exists(&lock_path)?;
    let flake_nix_path = options.output.join("flake.nix");
    let old_flake_nix = if options.write_inputs {
        Some(read_flake_nix(&flake_nix_path)?)
    } else {
        None
    };
    let declared = match &old_flake_nix {
        Some(text) => declared_inputs(text, &flake_nix_path)?,
        None => BTreeSet::new(),
    };
    // Refuse a clashing lock or a `flake.nix` without markers before fetching anything
    // (the declarations do not depend on the hashes).
    let preview = merged_flake_lock(
        &lock,
        &Checked::default(),
        existing.as_deref().map(|text| (lock_path.as_path(), text)),
        &declared,
    )?;
    if let Some(text) = &old_flake_nix {
        splice_inputs(text, &flake_nix_path, &preview.declarations)?;
    }
    let cache = Cache::open(&options.cache)?;
    // Fetch through `[mirrors]`; `flake.lock` keeps the URLs the lock names.
    let fetched = options.mirrors.redirect_lock(&lock);
    let checked = check_atoms(&fetched, &cache, options.offline, reporter)?;
    let export = merged_flake_lock(
        &lock,
        &checked,
        existing.as_deref().map(|text| (lock_path.as_path(), text)),
        &declared,
    )?;
    // The atoms' own inputs are known only now: the block is spliced from the result.
    let flake_nix = match &old_flake_nix {
        Some(text) => Some(splice_inputs(text, &flake_nix_path, &export.declarations)?),
        None => None,
    };
    fs_err::create_dir_all(&options.output).map_err(|source| Error::Write {
        path: options.output.clone(),
        source: Box::new(source),
    })?;
    let changed = write(&lock_path, &export.lock)?;
    let flake_nix = match flake_nix {
        Some(text) => Some((flake_nix_path.clone(), write(&flake_nix_path, &text)?)),
        None => None,
    };
    Ok(Outcome {
        lock_path,
        changed,
        flake_nix,
        kept: export.kept,
        inputs: export.inputs,
        skipped: export.skipped,
        warnings: cache
            .take_repairs()
            .iter()
            .map(ToString::to_string)
            .chain(export.warnings)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use atom::{
        Label,
        lock::{ContentHash, LockedFollows, NarHash, ObjectId},
    };

    use std::collections::BTreeSet;

    use super::*;

    const NAR: &str = "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";

    fn atom(label: &str, set: char, id: char) -> LockedAtom {
        LockedAtom {
            label: Label::parse(label).unwrap(),
            version: semver::Version::new(1, 0, 0),
            set: ObjectId::parse(&set.to_string().repeat(40)).unwrap(),
            id: AtomIdHex::parse(&id.to_string().repeat(64)).unwrap(),
            commit: ObjectId::parse(&"c".repeat(40)).unwrap(),
            content: ContentHash::parse(&format!("blake3:{}", "d".repeat(64))).unwrap(),
            mirrors: vec![atom::uri::parse_set_url("https://h/x.git").unwrap()],
            deps: BTreeSet::new(),
        }
    }

    fn hashed(lock: &Lockfile) -> Checked {
        Checked {
            nar_hashes: lock
                .atoms
                .iter()
                .map(|atom| (atom.id.clone(), NAR.to_owned()))
                .collect(),
            own_inputs: BTreeMap::new(),
        }
    }

    fn input(name: &str, kind: NixKind, nar_hash: Option<&str>) -> LockedNixInput {
        LockedNixInput {
            name: Label::parse(name).unwrap(),
            kind,
            url: "https://h/i".into(),
            reference: None,
            version: None,
            rev: (kind == NixKind::Git).then(|| ObjectId::parse(&"e".repeat(40)).unwrap()),
            nar_hash: nar_hash.map(|hash| NarHash::parse(hash).unwrap()),
            hash: None,
            flake: kind == NixKind::Git,
        }
    }

    #[test]
    fn ambiguous_labels_get_their_set_and_file_inputs_are_skipped() {
        let lock = Lockfile {
            atoms: vec![
                atom("a", '1', '1'),
                atom("a", '2', '2'),
                atom("b", '1', '3'),
            ],
            nix: vec![
                input("b", NixKind::Git, Some(NAR)),
                input("file", NixKind::Url, Some(NAR)),
            ],
            follows: Vec::new(),
        };
        let hashes = hashed(&lock);
        let export = flake_lock(&lock, &hashes).unwrap();
        let parsed: Value = serde_json::from_str(&export.lock).unwrap();
        let root: Vec<&String> = parsed["nodes"]["root"]["inputs"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(root, ["a-11111111", "a-22222222", "b", "b-nix"]);
        assert_eq!(parsed["nodes"]["b-nix"]["locked"]["rev"], "e".repeat(40));
        assert!(parsed["nodes"]["b-nix"].get("flake").is_none());
        assert_eq!(export.skipped, ["file"]);
        assert!(
            export
                .inputs
                .contains("\"b-nix\" = { type = \"git\"; url = \"https://h/i\"; flake = true; };"),
            "{}",
            export.inputs
        );
        // Deterministic.
        assert_eq!(flake_lock(&lock, &hashes).unwrap(), export);
    }

    #[test]
    fn a_git_input_without_nar_hash_is_refused() {
        let lock = Lockfile {
            atoms: vec![],
            nix: vec![input("g", NixKind::Git, None)],
            follows: Vec::new(),
        };
        let error = flake_lock(&lock, &Checked::default()).unwrap_err();
        assert!(
            error.kind() == Kind::Input && error.hint().is_some(),
            "{error}"
        );
    }

    #[test]
    fn own_inputs_are_pinned_or_follow_the_root_and_survive_a_merge() {
        let tool = atom("tool", '1', '1');
        let mut own = input("helper", NixKind::Git, Some(NAR));
        own.url = "https://h/own".into();
        let lock = |follows: bool| Lockfile {
            atoms: vec![tool.clone()],
            nix: vec![input("helper", NixKind::Git, Some(NAR))],
            follows: if follows {
                vec![LockedFollows {
                    atom: tool.id.clone(),
                    input: Label::parse("helper").unwrap(),
                    follows: Label::parse("helper").unwrap(),
                }]
            } else {
                Vec::new()
            },
        };
        let mut checked = hashed(&lock(false));
        checked.own_inputs.insert(
            tool.id.clone(),
            vec![
                own.clone(),
                input("file", NixKind::Url, Some(NAR)),
                input("bare", NixKind::Git, None),
            ],
        );
        let pinned = flake_lock(&lock(false), &checked).unwrap();
        let parsed: Value = serde_json::from_str(&pinned.lock).unwrap();
        assert_eq!(
            parsed["nodes"]["root"]["inputs"]["tool.helper"],
            "tool.helper"
        );
        assert_eq!(
            parsed["nodes"]["tool.helper"]["locked"]["url"],
            "https://h/own"
        );
        assert!(
            parsed["nodes"].get("tool.file").is_none(),
            "{}",
            pinned.lock
        );
        assert!(
            parsed["nodes"].get("tool.bare").is_none(),
            "{}",
            pinned.lock
        );
        assert_eq!(pinned.warnings.len(), 2, "{:?}", pinned.warnings);
        assert!(
            pinned.warnings[0].contains("`file` of atom `tool` is a `url`/`build` input")
                && pinned.warnings[1].contains("`bare` of atom `tool` is locked without"),
            "{:?}",
            pinned.warnings
        );

        let followed = flake_lock(&lock(true), &checked).unwrap();
        let parsed: Value = serde_json::from_str(&followed.lock).unwrap();
        assert_eq!(
            parsed["nodes"]["root"]["inputs"]["tool.helper"],
            json!(["helper"])
        );
        assert!(parsed["nodes"].get("tool.helper").is_none());
        assert!(
            followed
                .inputs
                .contains("\"tool.helper\" = { follows = \"helper\"; };"),
            "{}",
            followed.inputs
        );
        // Each form replaces the other in a merge, and a merge with itself is a fixed
        // point; with the atom gone, its own inputs go too.
        let path = Path::new("/f/flake.lock");
        let none = BTreeSet::new();
        for (from, to, follows) in [(&pinned, &followed, true), (&followed, &pinned, false)] {
            let merged =
                merged_flake_lock(&lock(follows), &checked, Some((path, &from.lock)), &none)
                    .unwrap();
            assert_eq!(merged.lock, to.lock);
            assert_eq!(merged.kept, 0);
        }
        let without = Lockfile {
            atoms: vec![],
            ..lock(false)
        };
        let merged =
            merged_flake_lock(&without, &checked, Some((path, &followed.lock)), &none).unwrap();
        assert!(!merged.lock.contains("tool"), "{}", merged.lock);
        // A dotted user input whose prefix is no atom node is the user's.
        let user = user_lock().replace("\"nixpkgs\"", "\"other.helper\"");
        let merged = merged_flake_lock(&lock(false), &checked, Some((path, &user)), &none).unwrap();
        assert!(merged.lock.contains("\"other.helper\""), "{}", merged.lock);
    }

    /// A user lock: `nixpkgs` (with a transitive `nixpkgs_2`), an atom node `old` no
    /// longer locked, and a stale `a` atom node.
    fn user_lock() -> String {
        let mut export = flake_lock(
            &Lockfile {
                atoms: vec![atom("a", '1', '1'), atom("old", '1', '2')],
                nix: vec![],
                follows: Vec::new(),
            },
            &Checked::default(),
        )
        .unwrap()
        .lock;
        let mut document: Value = serde_json::from_str(&export).unwrap();
        let nodes = document["nodes"].as_object_mut().unwrap();
        nodes.insert(
            "nixpkgs".into(),
            json!({ "inputs": { "nixpkgs": "nixpkgs_2" }, "locked": { "type": "path", "path": "/p", "narHash": NAR, "lastModified": 5 }, "original": { "type": "path", "path": "/p" } }),
        );
        nodes.insert(
            "nixpkgs_2".into(),
            json!({ "locked": { "type": "path", "path": "/q", "narHash": NAR }, "original": { "type": "path", "path": "/q" } }),
        );
        nodes.insert(
            "unreachable".into(),
            json!({ "locked": {}, "original": {} }),
        );
        document["nodes"]["root"]["inputs"]["nixpkgs"] = json!("nixpkgs");
        export = serde_json::to_string_pretty(&document).unwrap();
        export
    }

    #[test]
    fn a_merge_keeps_the_user_nodes_and_rewrites_only_ekas() {
        let lock = Lockfile {
            atoms: vec![atom("a", '1', '1'), atom("b", '1', '3')],
            nix: vec![],
            follows: Vec::new(),
        };
        let hashes = hashed(&lock);
        let existing = user_lock();
        let path = Path::new("/f/flake.lock");
        let export =
            merged_flake_lock(&lock, &hashes, Some((path, &existing)), &BTreeSet::new()).unwrap();
        let parsed: Value = serde_json::from_str(&export.lock).unwrap();
        let before: Value = serde_json::from_str(&existing).unwrap();
        let nodes: Vec<&String> = parsed["nodes"].as_object().unwrap().keys().collect();
        assert_eq!(nodes, ["a", "b", "nixpkgs", "nixpkgs_2", "root"]);
        assert_eq!(parsed["nodes"]["nixpkgs"], before["nodes"]["nixpkgs"]);
        assert_eq!(parsed["nodes"]["nixpkgs_2"], before["nodes"]["nixpkgs_2"]);
        assert_eq!(parsed["nodes"]["a"]["locked"]["narHash"], NAR);
        assert_eq!(parsed["nodes"]["a"]["locked"]["lastModified"], 0);
        assert_eq!(parsed["nodes"]["a"]["locked"]["revCount"], 1);
        assert_eq!(export.kept, 2);
        // A root input declared in the eka block of `flake.nix` is eka's: dropped.
        let declared = BTreeSet::from(["nixpkgs".to_owned()]);
        let dropped =
            merged_flake_lock(&lock, &hashes, Some((path, &existing)), &declared).unwrap();
        assert_eq!(dropped.kept, 0);
        assert!(!dropped.lock.contains("nixpkgs"), "{}", dropped.lock);
        assert!(!export.inputs.contains("nixpkgs"), "{}", export.inputs);
        // Deterministic, and merging with its own output is a fixed point.
        let again = merged_flake_lock(&lock, &hashes, Some((path, &export.lock)), &BTreeSet::new())
            .unwrap();
        assert_eq!(again, export);
    }

    #[test]
    fn a_user_node_with_an_atoms_name_is_a_clash_naming_both() {
        let lock = Lockfile {
            atoms: vec![atom("nixpkgs_2", '1', '1')],
            nix: vec![],
            follows: Vec::new(),
        };
        let path = Path::new("/f/flake.lock");
        let error = merged_flake_lock(
            &lock,
            &Checked::default(),
            Some((path, &user_lock())),
            &BTreeSet::new(),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the input `nixpkgs_2` of `/f/flake.lock` was not written by eka, but atom \
             `nixpkgs_2` needs that name"
        );
        assert_eq!(error.kind(), Kind::Input);
        let error = merged_flake_lock(
            &lock,
            &Checked::default(),
            Some((path, "{\"version\": 5}")),
            &BTreeSet::new(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("not a version 7"), "{error}");
    }

    #[test]
    fn inputs_are_spliced_between_the_markers_only() {
        let declarations: BTreeMap<String, String> =
            [("a".to_owned(), "{ flake = false; }".to_owned())].into();
        let path = Path::new("/f/flake.nix");
        let text = "{\n  inputs = {\n    # eka:inputs:begin\n    old = 1;\n    # eka:inputs:end\n    x.url = \"y\";\n  };\n}";
        let spliced = splice_inputs(text, path, &declarations).unwrap();
        assert_eq!(
            spliced,
            "{\n  inputs = {\n    # eka:inputs:begin\n    \"a\" = { flake = false; };\n    # eka:inputs:end\n    x.url = \"y\";\n  };\n}"
        );
        assert_eq!(
            splice_inputs(&spliced, path, &declarations).unwrap(),
            spliced
        );
        for broken in [
            "{ }",
            "# eka:inputs:begin\n",
            "# eka:inputs:end\n# eka:inputs:begin\n",
            "# eka:inputs:begin\n# eka:inputs:begin\n# eka:inputs:end\n",
        ] {
            let error = splice_inputs(broken, path, &declarations).unwrap_err();
            assert!(
                error.to_string().starts_with("`/f/flake.nix` has ") && error.hint().is_some(),
                "{error}"
            );
        }
    }
}
