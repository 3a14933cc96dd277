//! What the solver asks about atoms: the [`Registry`] trait and an in-memory
//! [`MemoryRegistry`].
//!
//! The solver never touches git or the network. The caller first gathers what it knows
//! about every atom it may need (its published versions and, per version, its
//! requirements) and answers the solver's questions through [`Registry`]. Tests and
//! benches use [`MemoryRegistry`].
//!
//! ```
//! use resolver::{AtomKey, MemoryRegistry, Registry, Requirement};
//!
//! let set = "0123456789abcdef0123456789abcdef01234567";
//! let key = AtomKey::new(set, "hello".parse()?);
//! let mut registry = MemoryRegistry::new();
//! registry.add(key.clone(), "1.0.0".parse()?, vec![]);
//! registry.add(key.clone(), "1.1.0".parse()?, vec![Requirement::new(
//!     AtomKey::new(set, "world".parse()?),
//!     "^2".parse()?,
//! )]);
//! assert_eq!(registry.versions(&key)?.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{collections::BTreeMap, fmt};

use atom::Label;
use semver::{Version, VersionReq};

/// How many hex digits of a set's root commit name the set in messages.
pub const SET_SHORT_LEN: usize = 12;

/// One atom: a label within a set, the set named by the hex id of its root commit.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AtomKey {
    /// The set's root commit, in hex.
    pub set: String,
    /// The atom's label within the set.
    pub label: Label,
}

impl AtomKey {
    /// The atom `label` of the set whose root commit is `set` (hex).
    pub fn new(set: impl Into<String>, label: Label) -> Self {
        Self {
            set: set.into(),
            label,
        }
    }

    /// The first [`SET_SHORT_LEN`] characters of the set's root commit.
    pub fn set_short(&self) -> &str {
        let end = self
            .set
            .char_indices()
            .nth(SET_SHORT_LEN)
            .map_or(self.set.len(), |(index, _)| index);
        &self.set[..end]
    }
}

/// `set-short::label`, e.g. `0123456789ab::hello`.
impl fmt::Display for AtomKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.set_short(), self.label)
    }
}

impl fmt::Debug for AtomKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.set, self.label)
    }
}

/// A dependency: the atom `key` at a version matching `req`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Requirement {
    /// The atom required.
    pub key: AtomKey,
    /// The versions accepted, with `semver`'s rules (pre-releases included).
    pub req: VersionReq,
}

impl Requirement {
    /// `key` at a version matching `req`.
    pub fn new(key: AtomKey, req: VersionReq) -> Self {
        Self { key, req }
    }
}

/// A failure of the caller's [`Registry`], e.g. a manifest that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct RegistryError {
    /// What went wrong, a lowercase phrase.
    pub message: String,
    /// The underlying error, if any.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl atom::error::Classify for RegistryError {
    /// The caller's registry failed to read: the environment.
    fn kind(&self) -> atom::error::Kind {
        atom::error::Kind::Environment
    }
}

impl RegistryError {
    /// An error with a message and no underlying cause.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error caused by `source`.
    pub fn with_source(
        message: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(Box::new(source)),
        }
    }
}

/// What the solver needs to know about atoms; implemented by the caller.
///
/// Answers must be stable during one resolution: the solver caches them.
pub trait Registry {
    /// Every published version of `key`, in any order. An atom nobody published has no
    /// versions (`Ok` of an empty list); `Err` is for failures to find out.
    fn versions(&self, key: &AtomKey) -> Result<Vec<Version>, RegistryError>;

    /// The requirements of `key` at `version` (a version listed by
    /// [`versions`](Registry::versions)).
    fn dependencies(
        &self,
        key: &AtomKey,
        version: &Version,
    ) -> Result<Vec<Requirement>, RegistryError>;
}

/// A [`Registry`] held in memory.
#[derive(Clone, Debug, Default)]
pub struct MemoryRegistry {
    atoms: BTreeMap<AtomKey, BTreeMap<Version, Vec<Requirement>>>,
}

impl MemoryRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publish `key` at `version` with `dependencies`, replacing any earlier entry.
    pub fn add(&mut self, key: AtomKey, version: Version, dependencies: Vec<Requirement>) {
        self.atoms
            .entry(key)
            .or_default()
            .insert(version, dependencies);
    }

    /// Every atom and version held, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&AtomKey, &Version, &[Requirement])> {
        self.atoms.iter().flat_map(|(key, versions)| {
            versions
                .iter()
                .map(move |(version, deps)| (key, version, deps.as_slice()))
        })
    }
}

impl Registry for MemoryRegistry {
    fn versions(&self, key: &AtomKey) -> Result<Vec<Version>, RegistryError> {
        Ok(self
            .atoms
            .get(key)
            .map(|versions| versions.keys().cloned().collect())
            .unwrap_or_default())
    }

    fn dependencies(
        &self,
        key: &AtomKey,
        version: &Version,
    ) -> Result<Vec<Requirement>, RegistryError> {
        self.atoms
            .get(key)
            .and_then(|versions| versions.get(version))
            .cloned()
            .ok_or_else(|| RegistryError::new(format!("`{key}` has no version `{version}`")))
    }
}
