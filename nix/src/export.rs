//! `eka export --flake`: the lock of an atom as a `flake.lock` (version 7) plus the
//! matching `inputs` declaration, so an existing flake consumes atoms resolved by eka
//! without re-locking.
//!
//! Every locked atom becomes a node named by its label (`<label>-<first 8 hex of its
//! set>` when two sets lock the same label) with `flake = false` and
//! `locked = { type = "git"; url = <first mirror>; ref = "refs/eka/atoms/<label>/<version>";
//! rev = <atom commit>; narHash; }`. The `narHash` is computed by eka from the atom
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
//! [`flake_lock`] is the pure part (lock + hashes in, text out):
//!
//! ```
//! use std::collections::BTreeMap;
//! use atom::lock::Lockfile;
//! use nix::export::flake_lock;
//!
//! let export = flake_lock(&Lockfile::default(), &BTreeMap::new()).unwrap();
//! assert!(export.lock.contains("\"version\": 7"));
//! assert_eq!(export.inputs, "{\n}\n");
//! ```

use std::{collections::BTreeMap, path::PathBuf};

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
}

/// What was exported.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The `flake.lock` written.
    pub lock_path: PathBuf,
    /// Whether its content changed (an identical file is not rewritten).
    pub changed: bool,
    /// The `inputs = { … };` declaration matching it (flakes need a literal, so it is
    /// printed for the user to paste into `flake.nix`).
    pub inputs: String,
    /// Direct Nix inputs that cannot be flake inputs on Nix 2.8 (`url`, `build`).
    pub skipped: Vec<String>,
    /// Damaged parts of the cache that were rebuilt, for the caller to print as warnings.
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
            Error::NoNarHash { .. } | Error::NoMirror { .. } => Kind::Input,
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

/// The `flake.lock` and inputs declaration for `lock`, given the NAR hash (SRI) of
/// each locked atom's tree by atom id.
pub fn flake_lock(
    lock: &Lockfile,
    nar_hashes: &BTreeMap<AtomIdHex, String>,
) -> Result<Export, Error> {
    let names = atom_names(lock);
    let mut nodes = Map::new();
    let mut root_inputs = Map::new();
    let mut declarations: BTreeMap<String, String> = BTreeMap::new();
    let mut skipped = Vec::new();
    for atom in &lock.atoms {
        let name = names.get(&atom.id).cloned().unwrap_or_default();
        let url = atom
            .mirrors
            .first()
            .ok_or_else(|| Error::NoMirror {
                label: atom.label.to_string(),
            })?
            .as_str()
            .to_owned();
        let nar_hash = nar_hashes.get(&atom.id).cloned().unwrap_or_default();
        let mut original = Map::new();
        original.insert("ref".into(), json!(atom_ref(atom)));
        original.insert("type".into(), json!("git"));
        original.insert("url".into(), json!(url));
        let mut locked = original.clone();
        locked.insert("narHash".into(), json!(nar_hash));
        locked.insert("rev".into(), json!(atom.commit.as_str()));
        declarations.insert(name.clone(), declaration(&original, false));
        nodes.insert(
            name.clone(),
            json!({ "flake": false, "locked": locked, "original": original }),
        );
        root_inputs.insert(name.clone(), json!(name));
    }
    for input in &lock.nix {
        let mut name = input.name.to_string();
        if nodes.contains_key(&name) || name == "root" {
            name.push_str("-nix");
        }
        let Some((original, locked)) = input_node(input)? else {
            skipped.push(input.name.to_string());
            continue;
        };
        declarations.insert(name.clone(), declaration(&original, input.flake));
        let mut node = Map::new();
        if !input.flake {
            node.insert("flake".into(), json!(false));
        }
        node.insert("locked".into(), Value::Object(locked));
        node.insert("original".into(), Value::Object(original));
        nodes.insert(name.clone(), Value::Object(node));
        root_inputs.insert(name.clone(), json!(name));
    }
    nodes.insert("root".into(), json!({ "inputs": root_inputs }));
    let document = json!({ "nodes": nodes, "root": "root", "version": 7 });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    let mut inputs = String::from("{\n");
    for (name, declaration) in &declarations {
        inputs.push_str(&format!("  {} = {declaration};\n", nix_string(name)));
    }
    inputs.push_str("}\n");
    Ok(Export {
        lock: text,
        inputs,
        skipped,
    })
}

/// The NAR hash (SRI) of each locked atom's tree, fetching the atom commits missing
/// from the cache's atom store (with their trees) from their mirrors. Each atom commit
/// is checked first ([`verify::locked::Fetched::check`]): the first refused atom stops
/// the export.
pub fn atom_nar_hashes(
    lock: &Lockfile,
    cache: &Cache,
    offline: bool,
    reporter: &dyn Reporter,
) -> Result<BTreeMap<AtomIdHex, String>, Error> {
    let mut fetched = verify::locked::fetch(lock, cache, offline, reporter)?;
    let step = Step::begin(reporter, "Hashing", Some(fetched.len() as u64));
    let mut hashes = BTreeMap::new();
    for index in 0..fetched.len() {
        let tree = fetched.check(index)?;
        let atom = fetched.atom(index);
        let hash =
            crate::nar::hash_git_tree(fetched.repo(), tree).map_err(|source| Error::Hash {
                label: atom.label.to_string(),
                source,
            })?;
        step.advance(atom.label.as_str());
        hashes.insert(atom.id.clone(), hash.to_sri());
    }
    Ok(hashes)
}

/// Export `<dir>/atom.lock` as `<output>/flake.lock`, reporting the fetches and hashing
/// to `reporter`.
pub fn run(options: &Options, reporter: &dyn Reporter) -> Result<Outcome, Error> {
    let lock = Lockfile::read(options.dir.join(atom::lock::FILE_NAME))?;
    let cache = Cache::open(&options.cache)?;
    // Fetch through `[mirrors]`; `flake.lock` keeps the URLs the lock names.
    let fetched = options.mirrors.redirect_lock(&lock);
    let hashes = atom_nar_hashes(&fetched, &cache, options.offline, reporter)?;
    let export = flake_lock(&lock, &hashes)?;
    let lock_path = options.output.join("flake.lock");
    fs_err::create_dir_all(&options.output).map_err(|source| Error::Write {
        path: options.output.clone(),
        source: Box::new(source),
    })?;
    let changed = atom::fs::write_atomic(&lock_path, export.lock.as_bytes()).map_err(|error| {
        Error::Write {
            path: lock_path.clone(),
            source: Box::new(error),
        }
    })?;
    Ok(Outcome {
        lock_path,
        changed: !matches!(changed, atom::fs::Outcome::Unchanged),
        inputs: export.inputs,
        skipped: export.skipped,
        warnings: cache
            .take_repairs()
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use atom::{
        Label,
        lock::{ContentHash, NarHash, ObjectId},
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
        let hashes = lock
            .atoms
            .iter()
            .map(|atom| (atom.id.clone(), NAR.to_owned()))
            .collect();
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
        let error = flake_lock(&lock, &BTreeMap::new()).unwrap_err();
        assert!(
            error.kind() == Kind::Input && error.hint().is_some(),
            "{error}"
        );
    }
}
