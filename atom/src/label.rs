//! Atom labels: an atom's name within its set.
//!
//! A label is NFKC-normalised; its first character is `XID_Start`, every other one is
//! `XID_Continue` or `-`; it is at most [`MAX_LEN`] bytes long (after normalisation).
//! Labels are compared after normalisation, so `ﬁle` (U+FB01) and `file` are the same label.
//!
//! Invisible characters are refused even where `XID_Continue` has them: every
//! `Default_Ignorable_Code_Point` (zero-width joiner and non-joiner, variation selectors,
//! the combining grapheme joiner, Hangul fillers, ...), so two labels that look the same
//! cannot differ by an invisible character.

use std::{fmt, str::FromStr};

use unicode_normalization::UnicodeNormalization;

/// The longest label, in bytes of its NFKC-normalised UTF-8 form.
pub const MAX_LEN: usize = 128;

/// A valid, normalised atom label.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label(String);

/// Why a string is not a valid label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The label is empty.
    #[error("label is empty")]
    Empty,
    /// The label is longer than [`MAX_LEN`] bytes.
    #[error("label `{label}` is {len} bytes long, the limit is {MAX_LEN}")]
    TooLong {
        /// The offending label (normalised).
        label: String,
        /// Its length in bytes.
        len: usize,
    },
    /// The first character may not start a label.
    #[error(
        "label `{label}` starts with {found:?}, which cannot start a label (it must be a letter)"
    )]
    InvalidStart {
        /// The offending label (normalised).
        label: String,
        /// The first character.
        found: char,
    },
    /// A character after the first is not allowed.
    #[error(
        "label `{label}` contains {found:?} (U+{code:04X}) at byte {index}; only letters, digits, `_` and `-` are allowed"
    )]
    InvalidChar {
        /// The offending label (normalised).
        label: String,
        /// The character.
        found: char,
        /// Its code point.
        code: u32,
        /// Its byte offset in the normalised label.
        index: usize,
    },
}

impl Label {
    /// Validate and normalise `input` into a label.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let normalised: String = input.nfkc().collect();
        let mut chars = normalised.char_indices();
        let Some((_, first)) = chars.next() else {
            return Err(Error::Empty);
        };
        if normalised.len() > MAX_LEN {
            let len = normalised.len();
            return Err(Error::TooLong {
                label: normalised,
                len,
            });
        }
        if !unicode_ident::is_xid_start(first) || is_default_ignorable(first) {
            return Err(Error::InvalidStart {
                label: normalised,
                found: first,
            });
        }
        if let Some((index, found)) = chars.find(|&(_, c)| {
            !(c == '-' || unicode_ident::is_xid_continue(c)) || is_default_ignorable(c)
        }) {
            return Err(Error::InvalidChar {
                found,
                code: found as u32,
                index,
                label: normalised,
            });
        }
        Ok(Label(normalised))
    }

    /// The normalised label.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt, Unicode 16):
/// characters that render as nothing.
fn is_default_ignorable(c: char) -> bool {
    matches!(
        c as u32,
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

impl FromStr for Label {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Label::parse(s)
    }
}

impl TryFrom<String> for Label {
    type Error = Error;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Label::parse(&value)
    }
}

impl From<Label> for String {
    fn from(label: Label) -> Self {
        label.0
    }
}

impl AsRef<str> for Label {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Label({:?})", self.0)
    }
}

impl serde::Serialize for Label {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Label {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Label::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl crate::error::Classify for Error {
    /// A label that is not valid is the user's input being refused.
    fn kind(&self) -> crate::error::Kind {
        crate::error::Kind::Input
    }
}
