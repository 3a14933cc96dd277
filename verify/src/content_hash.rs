//! The [`ContentHash`] type and the byte encoding it is computed over.
//!
//! A content hash is a 32-byte BLAKE3 digest written as `blake3:<64 lowercase hex>`.
//! This module owns the textual form (parsing and printing, serde as a string) and
//! the three hashing primitives of format v1: [`hash_blob`], [`hash_symlink`] and the
//! [`TreeHasher`] that folds a tree's entries together. Walking a git tree and
//! validating it is the business of [`crate::tree`].
//!
//! The exact encoding is specified in `docs/format.md` ("Content hash") so that
//! another implementation can reproduce it byte for byte.
//!
//! ```
//! use verify::content_hash::{ContentHash, EntryKind, TreeHasher, hash_blob};
//!
//! // A tree holding one regular file `hello` with content `hi\n`.
//! let mut tree = TreeHasher::new(1);
//! tree.entry(EntryKind::File, b"hello", &hash_blob(b"hi\n"));
//! let hash: ContentHash = tree.finish();
//!
//! let text = hash.to_string();
//! assert!(text.starts_with("blake3:"));
//! assert_eq!(text.parse::<ContentHash>().unwrap(), hash);
//! ```

use std::fmt;
use std::str::FromStr;

/// Key-derivation context for regular and executable file contents (format v1).
pub const BLOB_CONTEXT: &str = "eka 2026-11 content hash v1 blob";
/// Key-derivation context for symbolic link targets (format v1).
pub const SYMLINK_CONTEXT: &str = "eka 2026-11 content hash v1 symlink";
/// Key-derivation context for trees (format v1).
pub const TREE_CONTEXT: &str = "eka 2026-11 content hash v1 tree";

/// The prefix of the textual form.
const PREFIX: &str = "blake3:";

/// A BLAKE3 content hash of a file, symlink or tree (format v1).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ContentHash([u8; 32]);

impl ContentHash {
    /// Wrap 32 raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}", hex::encode(self.0))
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({self})")
    }
}

/// Why a string is not a content hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The string does not start with `blake3:`.
    #[error("content hash `{text}` does not start with `blake3:`")]
    MissingPrefix {
        /// The offending text.
        text: String,
    },
    /// The digest is not exactly 64 lowercase hexadecimal digits.
    #[error("content hash `{text}` must be `blake3:` followed by 64 lowercase hex digits")]
    BadDigest {
        /// The offending text.
        text: String,
    },
}

impl FromStr for ContentHash {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let digest = text
            .strip_prefix(PREFIX)
            .ok_or_else(|| ParseError::MissingPrefix {
                text: text.to_owned(),
            })?;
        let well_formed = digest.len() == 64
            && digest
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        let mut bytes = [0u8; 32];
        if !well_formed || hex::decode_to_slice(digest, &mut bytes).is_err() {
            return Err(ParseError::BadDigest {
                text: text.to_owned(),
            });
        }
        Ok(Self(bytes))
    }
}

impl serde::Serialize for ContentHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for ContentHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ContentHash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a content hash `blake3:<64 lowercase hex>`")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<ContentHash, E> {
                text.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// The kind of a tree entry, as far as the content hash is concerned.
///
/// The discriminant is the tag byte written into the tree encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EntryKind {
    /// A regular file, git mode `100644`.
    File = 1,
    /// An executable file, git mode `100755`.
    Executable = 2,
    /// A symbolic link, git mode `120000`.
    Symlink = 3,
    /// A directory, git mode `40000`.
    Tree = 4,
}

impl EntryKind {
    /// The tag byte of this kind in the tree encoding.
    pub const fn tag(self) -> u8 {
        self as u8
    }
}

/// Hash the bytes of a regular or executable file.
pub fn hash_blob(bytes: &[u8]) -> ContentHash {
    let mut hasher = blake3::Hasher::new_derive_key(BLOB_CONTEXT);
    hasher.update(bytes);
    ContentHash(*hasher.finalize().as_bytes())
}

/// Hash the target of a symbolic link (in a domain distinct from file contents).
pub fn hash_symlink(target: &[u8]) -> ContentHash {
    let mut hasher = blake3::Hasher::new_derive_key(SYMLINK_CONTEXT);
    hasher.update(target);
    ContentHash(*hasher.finalize().as_bytes())
}

/// Folds a tree's entries, in git's canonical order, into the tree's hash.
///
/// The caller is responsible for feeding exactly the announced number of entries in
/// git's order; [`crate::tree::hash_tree`] does so for trees it has validated.
pub struct TreeHasher {
    hasher: blake3::Hasher,
}

impl TreeHasher {
    /// Start a tree of `entry_count` entries.
    pub fn new(entry_count: u64) -> Self {
        let mut hasher = blake3::Hasher::new_derive_key(TREE_CONTEXT);
        hasher.update(&entry_count.to_le_bytes());
        Self { hasher }
    }

    /// Add one entry: its kind, its name and the hash of what it points to.
    pub fn entry(&mut self, kind: EntryKind, name: &[u8], child: &ContentHash) {
        self.hasher.update(&[kind.tag()]);
        self.hasher.update(&(name.len() as u64).to_le_bytes());
        self.hasher.update(name);
        self.hasher.update(child.as_bytes());
    }

    /// The tree's hash.
    pub fn finish(self) -> ContentHash {
        ContentHash(*self.hasher.finalize().as_bytes())
    }
}

impl atom::error::Classify for ParseError {
    /// A malformed content hash is the input (a lockfile, an argument) being refused.
    fn kind(&self) -> atom::error::Kind {
        atom::error::Kind::Input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        let hash = hash_blob(b"");
        let text = hash.to_string();
        assert_eq!(text.len(), 7 + 64);
        assert_eq!(text.parse::<ContentHash>(), Ok(hash));
    }

    #[test]
    fn text_is_strict() {
        let digest = "ab".repeat(32);
        assert!(format!("blake3:{digest}").parse::<ContentHash>().is_ok());
        for bad in [
            digest.clone(),
            format!("BLAKE3:{digest}"),
            format!("blake3:{}", digest.to_uppercase()),
            format!("blake3:{}", &digest[..62]),
            format!("blake3:{digest}00"),
            format!("blake3: {}", &digest[..63]),
            format!("blake3:{}+g", &digest[..62]),
        ] {
            assert!(bad.parse::<ContentHash>().is_err(), "{bad}");
        }
    }

    /// The primitive vectors of docs/format.md, reproducible with `b3sum --derive-key`.
    #[test]
    fn primitive_vectors() {
        let hex = |hash: ContentHash| hex::encode(hash.as_bytes());
        assert_eq!(
            hex(hash_blob(b"")),
            "c375a17d19faf77060d7b9ba28897bce84ee63e4b86490e9bce85f543a1c26be"
        );
        assert_eq!(
            hex(hash_blob(b"hello\n")),
            "c3e374bedb2ea10451255f81bec812bf24613edb404641c12cf1c9157fe9f1d7"
        );
        assert_eq!(
            hex(hash_symlink(b"hello")),
            "2d8f567635424693505d6aa5c60f91e109df90fc29531e389f7a40a41289058b"
        );
        assert_eq!(
            hex(TreeHasher::new(0).finish()),
            "ca913b36c87c35115167ea8ab183d5130bf8282b6333b9cf1cda1a4a3c088d27"
        );
        let mut tree = TreeHasher::new(1);
        tree.entry(EntryKind::File, b"hello", &hash_blob(b"hello\n"));
        assert_eq!(
            hex(tree.finish()),
            "bf2e4af03ba85405005f4354ccea71cdecbc8b2ff8b355826af9c5738ea4cc13"
        );
    }

    #[test]
    fn domains_are_separate() {
        assert_ne!(hash_blob(b"target"), hash_symlink(b"target"));
        assert_ne!(hash_blob(b""), TreeHasher::new(0).finish());
    }

    #[test]
    fn serde_uses_the_text_form() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error as ValueError, StrDeserializer};
        let hash = hash_symlink(b"x");
        let text = hash.to_string();
        let deserializer: StrDeserializer<'_, ValueError> = text.as_str().into_deserializer();
        let parsed: ContentHash = serde::Deserialize::deserialize(deserializer).unwrap();
        assert_eq!(parsed, hash);
    }
}
