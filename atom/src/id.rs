//! Atom ids and set roots.
//!
//! A set is identified by its [`SetRoot`]: the id of the root commit reached from a
//! published commit by following first parents. An atom is identified by its [`AtomId`]:
//! a BLAKE3 digest of (set root, label), so the same label in two sets gives two ids and
//! every mirror of one set gives the same id.
//!
//! The derivation (frozen; changing it is a format bump, see `docs/format.md`):
//!
//! ```text
//! key = blake3::derive_key("eka 2026-11 atom id v1", raw bytes of the root commit id)
//! id  = blake3::keyed_hash(key, UTF-8 bytes of the NFKC-normalised label)
//! ```
//!
//! The raw bytes are the 20 bytes of a SHA-1 object id (not its 40 hex digits). Ids are
//! shown and stored as 64 lowercase hex digits.
//!
//! ```
//! use atom::{Label, id::{AtomId, SetRoot}};
//!
//! let root: SetRoot = "0000000000000000000000000000000000000001".parse().unwrap();
//! let id = AtomId::new(&root, &Label::parse("hello").unwrap());
//! assert_eq!(id.to_string().len(), 64);
//! assert_eq!(id.to_string().parse::<AtomId>().unwrap(), id);
//! ```

use std::{fmt, str::FromStr};

use crate::Label;

/// The BLAKE3 `derive_key` context string of atom ids, format 1.
pub const ATOM_ID_CONTEXT: &str = "eka 2026-11 atom id v1";

/// Why a set root or atom id could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not the expected number of lowercase hex digits.
    #[error("`{input}` is not a valid {what}: expected {expected} lowercase hex digits")]
    InvalidHex {
        /// The text as given.
        input: String,
        /// What was being parsed (`set root` or `atom id`).
        what: &'static str,
        /// How many hex digits were expected.
        expected: usize,
    },
}

/// The identity of a set: the id of its root commit.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SetRoot(gix::ObjectId);

impl SetRoot {
    /// Wrap the id of a set's root commit.
    pub fn new(commit_id: gix::ObjectId) -> Self {
        SetRoot(commit_id)
    }

    /// The root commit id.
    pub fn commit_id(&self) -> &gix::ObjectId {
        &self.0
    }

    /// The raw bytes of the root commit id (20 for SHA-1).
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl From<gix::ObjectId> for SetRoot {
    fn from(commit_id: gix::ObjectId) -> Self {
        SetRoot(commit_id)
    }
}

impl FromStr for SetRoot {
    type Err = Error;

    /// Parse 40 lowercase hex digits.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = || Error::InvalidHex {
            input: input.to_owned(),
            what: "set root",
            expected: 40,
        };
        if input.len() != 40 || !is_lower_hex(input) {
            return Err(invalid());
        }
        gix::ObjectId::from_hex(input.as_bytes())
            .map(SetRoot)
            .map_err(|_| invalid())
    }
}

impl fmt::Display for SetRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.to_hex())
    }
}

impl fmt::Debug for SetRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SetRoot({})", self.0.to_hex())
    }
}

impl serde::Serialize for SetRoot {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for SetRoot {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

/// An atom's identity: a BLAKE3 digest of its set root and label.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AtomId([u8; 32]);

impl AtomId {
    /// The id of the atom `label` in the set whose root commit is `set_root`.
    pub fn new(set_root: &SetRoot, label: &Label) -> Self {
        Self::from_raw_root(set_root.as_bytes(), label)
    }

    /// The id of `label` in the set whose root commit id has the raw bytes `set_root`.
    pub fn from_raw_root(set_root: &[u8], label: &Label) -> Self {
        let key = blake3::derive_key(ATOM_ID_CONTEXT, set_root);
        AtomId(*blake3::keyed_hash(&key, label.as_str().as_bytes()).as_bytes())
    }

    /// The 32 digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for AtomId {
    type Err = Error;

    /// Parse 64 lowercase hex digits.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = || Error::InvalidHex {
            input: input.to_owned(),
            what: "atom id",
            expected: 64,
        };
        if !is_lower_hex(input) {
            return Err(invalid());
        }
        let mut bytes = [0; 32];
        hex::decode_to_slice(input, &mut bytes).map_err(|_| invalid())?;
        Ok(AtomId(bytes))
    }
}

impl fmt::Display for AtomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for AtomId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AtomId({self})")
    }
}

impl serde::Serialize for AtomId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for AtomId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

fn is_lower_hex(input: &str) -> bool {
    input
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl crate::error::Classify for Error {
    /// An id that does not parse is the input being refused.
    fn kind(&self) -> crate::error::Kind {
        crate::error::Kind::Input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uppercase_hex_is_refused() {
        let upper = "ABCDEF0000000000000000000000000000000001";
        assert!(matches!(
            upper.parse::<SetRoot>(),
            Err(Error::InvalidHex { expected: 40, .. })
        ));
        assert!(
            "abcdef0000000000000000000000000000000001"
                .parse::<SetRoot>()
                .is_ok()
        );
    }

    #[test]
    fn wrong_length_is_refused() {
        assert!("abc".parse::<AtomId>().is_err());
        assert!("ab".repeat(33).parse::<AtomId>().is_err());
        assert!("ab".repeat(32).parse::<AtomId>().is_ok());
    }
}
