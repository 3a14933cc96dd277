//! Names of the refs a published atom occupies (format 1).
//!
//! | ref | points to |
//! | --- | --- |
//! | `refs/eka/atoms/<label>/<version>` | the atom commit |
//! | `refs/eka/meta/<label>/<version>/manifest` | the `atom.toml` blob |
//! | `refs/eka/meta/<label>/<version>/origin` | the source commit |
//!
//! Labels are validated by [`Label`]; versions must be strict semver in their canonical
//! spelling (`1.0.0`, not `v1.0.0` or `01.0.0`), so one version has exactly one ref.
//!
//! ```
//! use atom::store::refs::{AtomRef, RefKind};
//!
//! let parsed = AtomRef::parse("refs/eka/meta/hello/1.0.0-rc.1/manifest").unwrap();
//! assert_eq!(parsed.kind, RefKind::Manifest);
//! assert_eq!(parsed.label.as_str(), "hello");
//! assert_eq!(parsed.version.to_string(), "1.0.0-rc.1");
//! assert!(AtomRef::parse("refs/eka/atoms/hello/v1").is_err());
//! ```

use std::fmt;

use semver::Version;

use crate::{Label, label};

/// Prefix of every atom commit ref.
pub const ATOMS_PREFIX: &str = "refs/eka/atoms/";
/// Prefix of every metadata ref.
pub const META_PREFIX: &str = "refs/eka/meta/";

/// Why a ref name is not an eka ref.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The ref is not under `refs/eka/atoms/` or `refs/eka/meta/`.
    #[error("ref `{name}` is not under `{ATOMS_PREFIX}` or `{META_PREFIX}`")]
    NotEka {
        /// The ref name.
        name: String,
    },
    /// The ref has the wrong number of components for its kind.
    #[error("ref `{name}` does not have the shape `{expected}`")]
    Shape {
        /// The ref name.
        name: String,
        /// The expected shape.
        expected: &'static str,
    },
    /// The label component is not a valid label.
    #[error("ref `{name}` has an invalid label")]
    Label {
        /// The ref name.
        name: String,
        /// Why the label is invalid.
        #[source]
        source: label::Error,
    },
    /// The label component is valid but not in normalised form.
    #[error("ref `{name}` spells label `{label}` in a non-normalised form")]
    LabelNotNormalised {
        /// The ref name.
        name: String,
        /// The normalised label.
        label: String,
    },
    /// The version component is not strict, canonical semver.
    #[error("ref `{name}` has version `{version}`, which is not a canonical semver version")]
    Version {
        /// The ref name.
        name: String,
        /// The version component.
        version: String,
    },
}

/// Which of an atom's three refs a name denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RefKind {
    /// `refs/eka/atoms/<label>/<version>`: the atom commit.
    Atom,
    /// `refs/eka/meta/<label>/<version>/manifest`: the `atom.toml` blob.
    Manifest,
    /// `refs/eka/meta/<label>/<version>/origin`: the source commit.
    Origin,
}

/// A parsed eka ref name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AtomRef {
    /// Which ref of the atom.
    pub kind: RefKind,
    /// The atom's label.
    pub label: Label,
    /// The atom's version.
    pub version: Version,
}

impl AtomRef {
    /// Parse a full ref name; refuses anything that is not exactly one of the three shapes.
    pub fn parse(name: &str) -> Result<Self, Error> {
        let (rest, kind, expected) = if let Some(rest) = name.strip_prefix(ATOMS_PREFIX) {
            (rest, RefKind::Atom, "refs/eka/atoms/<label>/<version>")
        } else if let Some(rest) = name.strip_prefix(META_PREFIX) {
            if let Some(rest) = rest.strip_suffix("/manifest") {
                (
                    rest,
                    RefKind::Manifest,
                    "refs/eka/meta/<label>/<version>/manifest",
                )
            } else if let Some(rest) = rest.strip_suffix("/origin") {
                (
                    rest,
                    RefKind::Origin,
                    "refs/eka/meta/<label>/<version>/origin",
                )
            } else {
                return Err(Error::Shape {
                    name: name.to_owned(),
                    expected: "refs/eka/meta/<label>/<version>/(manifest|origin)",
                });
            }
        } else {
            return Err(Error::NotEka {
                name: name.to_owned(),
            });
        };
        let shape = || Error::Shape {
            name: name.to_owned(),
            expected,
        };
        let (label, version) = rest.split_once('/').ok_or_else(shape)?;
        if version.contains('/') {
            return Err(shape());
        }
        let parsed_label = Label::parse(label).map_err(|source| Error::Label {
            name: name.to_owned(),
            source,
        })?;
        if parsed_label.as_str() != label {
            return Err(Error::LabelNotNormalised {
                name: name.to_owned(),
                label: parsed_label.as_str().to_owned(),
            });
        }
        let version = parse_version(version).ok_or_else(|| Error::Version {
            name: name.to_owned(),
            version: version.to_owned(),
        })?;
        Ok(Self {
            kind,
            label: parsed_label,
            version,
        })
    }

    /// The full ref name.
    pub fn to_ref_name(&self) -> String {
        match self.kind {
            RefKind::Atom => atom_ref(&self.label, &self.version),
            RefKind::Manifest => manifest_ref(&self.label, &self.version),
            RefKind::Origin => origin_ref(&self.label, &self.version),
        }
    }
}

impl fmt::Display for AtomRef {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_ref_name())
    }
}

/// Parse a strict, canonical semver version (its display must give back the input).
pub fn parse_version(input: &str) -> Option<Version> {
    Version::parse(input)
        .ok()
        .filter(|version| version.to_string() == input)
}

/// `refs/eka/atoms/<label>/<version>`.
pub fn atom_ref(label: &Label, version: &Version) -> String {
    format!("{ATOMS_PREFIX}{label}/{version}")
}

/// `refs/eka/meta/<label>/<version>/manifest`.
pub fn manifest_ref(label: &Label, version: &Version) -> String {
    format!("{META_PREFIX}{label}/{version}/manifest")
}

/// `refs/eka/meta/<label>/<version>/origin`.
pub fn origin_ref(label: &Label, version: &Version) -> String {
    format!("{META_PREFIX}{label}/{version}/origin")
}

/// `refs/eka/atoms/<label>/`: the prefix of every version of one atom.
pub fn atom_prefix(label: &Label) -> String {
    format!("{ATOMS_PREFIX}{label}/")
}

/// `refs/eka/meta/<label>/`: the prefix of every metadata ref of one atom.
pub fn meta_prefix(label: &Label) -> String {
    format!("{META_PREFIX}{label}/")
}
