//! Paths inside a repository, as written in `atom.toml` and `ekala.toml`.
//!
//! A [`RelativePath`] is `/`-separated and normalised: `.` components, repeated and
//! trailing slashes are dropped and `..` is resolved lexically. A path that is absolute,
//! empty, escapes the repository, contains a backslash or a control character, or walks
//! into a `.git` directory is refused. The repository root itself is `.`.
//!
//! ```
//! use atom::manifest::RelativePath;
//!
//! assert_eq!(RelativePath::parse("./pkgs//hello/").unwrap().as_str(), "pkgs/hello");
//! assert_eq!(RelativePath::parse("pkgs/../hello").unwrap().as_str(), "hello");
//! assert!(RelativePath::parse("../outside").is_err());
//! assert!(RelativePath::parse("/etc/passwd").is_err());
//! ```

use std::{fmt, path::PathBuf};

/// A normalised, `/`-separated path inside a repository.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelativePath(String);

/// Why a string is not a path inside the repository.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The path is empty.
    #[error("path is empty")]
    Empty,
    /// The path is absolute.
    #[error("path `{path}` is absolute; paths are relative to the repository")]
    Absolute {
        /// The path as written.
        path: String,
    },
    /// The path leaves the repository through `..`.
    #[error("path `{path}` escapes the repository")]
    Escapes {
        /// The path as written.
        path: String,
    },
    /// The path has a `..` component where none is allowed.
    #[error("path `{path}` contains `..`")]
    Parent {
        /// The path as written.
        path: String,
    },
    /// The path contains a backslash, a control character or NUL.
    #[error("path `{path}` contains a backslash or a control character")]
    BadCharacter {
        /// The path as written.
        path: String,
    },
    /// The path walks into a `.git` directory.
    #[error("path `{path}` points into a `.git` directory")]
    GitDirectory {
        /// The path as written.
        path: String,
    },
}

impl RelativePath {
    /// Validate and normalise `input`.
    pub fn parse(input: &str) -> Result<Self, PathError> {
        let owned = || input.to_owned();
        if input.is_empty() {
            return Err(PathError::Empty);
        }
        if input.chars().any(|c| c == '\\' || c.is_control()) {
            return Err(PathError::BadCharacter { path: owned() });
        }
        let bytes = input.as_bytes();
        let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
        if input.starts_with('/') || input.starts_with('~') || drive {
            return Err(PathError::Absolute { path: owned() });
        }
        let mut parts: Vec<&str> = Vec::new();
        for part in input.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    if parts.pop().is_none() {
                        return Err(PathError::Escapes { path: owned() });
                    }
                }
                _ if part.eq_ignore_ascii_case(".git") => {
                    return Err(PathError::GitDirectory { path: owned() });
                }
                _ => parts.push(part),
            }
        }
        if parts.is_empty() {
            return Ok(RelativePath(".".to_owned()));
        }
        Ok(RelativePath(parts.join("/")))
    }

    /// Like [`RelativePath::parse`], but refuse any `..` component and the root itself.
    pub fn parse_strict(input: &str) -> Result<Self, PathError> {
        if input.split('/').any(|part| part == "..") {
            return Err(PathError::Parent {
                path: input.to_owned(),
            });
        }
        let path = RelativePath::parse(input)?;
        if path.is_root() {
            return Err(PathError::Empty);
        }
        Ok(path)
    }

    /// The normalised path (`.` for the root).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is the repository root.
    pub fn is_root(&self) -> bool {
        self.0 == "."
    }

    /// The path of `name` inside this directory, as a relative [`PathBuf`].
    pub fn join(&self, name: &str) -> PathBuf {
        if self.is_root() {
            PathBuf::from(name)
        } else {
            PathBuf::from(&self.0).join(name)
        }
    }
}

impl fmt::Display for RelativePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RelativePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RelativePath({:?})", self.0)
    }
}

impl serde::Serialize for RelativePath {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for RelativePath {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        RelativePath::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl crate::error::Classify for PathError {
    /// A path outside the repository is the input being refused.
    fn kind(&self) -> crate::error::Kind {
        crate::error::Kind::Input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_hostile_paths() {
        for bad in [
            "", "/abs", "..", "a/../..", "a\\b", "a/.git/x", ".GIT", "C:/x", "~/x", "a\nb",
        ] {
            assert!(RelativePath::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(RelativePath::parse("./").map(|p| p.is_root()), Ok(true));
        assert!(RelativePath::parse_strict("a/../b").is_err());
        assert!(RelativePath::parse_strict(".").is_err());
        assert_eq!(
            RelativePath::parse_strict("./nix/default.nix").map(|p| p.0),
            Ok("nix/default.nix".to_owned())
        );
    }
}
