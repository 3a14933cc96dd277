//! Atom commits: the immutable, reproducible commit a published atom version points to.
//!
//! An atom commit's tree is the atom directory's existing tree object; it has no
//! parents, a fixed author and committer (`eka <eka@eka.invalid>` at time `0 +0000`), a
//! fixed message (`eka atom <label>@<version>\n`) and these extra headers, in this order:
//!
//! | header | value |
//! | --- | --- |
//! | `eka-format` | `1` |
//! | `eka-set` | the set's root commit id (hex) |
//! | `eka-label` | the label (normalised) |
//! | `eka-version` | the version (canonical semver) |
//! | `eka-origin` | the source commit id (hex) |
//! | `eka-path` | the atom's directory inside the repository (`.` for the root) |
//! | `eka-content` | the atom's content hash |
//!
//! The same inputs give the same commit id on any machine at any time. A signature, if
//! any, is a standard `gpgsig` header placed after all the others (as git places it);
//! it is not part of what is signed.
//!
//! ```
//! use atom::store::AtomCommit;
//! use gix::ObjectId;
//!
//! let tree = ObjectId::empty_tree(gix::hash::Kind::Sha1);
//! let set_root = ObjectId::from_hex(b"1111111111111111111111111111111111111111").unwrap();
//! let version = semver::Version::new(1, 0, 0);
//! let commit = AtomCommit::new(tree, set_root, "hello", &version, set_root, "hello", "b3:00")
//!     .unwrap();
//! let bytes = commit.to_bytes().unwrap();
//! let parsed = gix::objs::CommitRef::from_bytes(&bytes, gix::hash::Kind::Sha1).unwrap();
//! let decoded = AtomCommit::decode(&parsed).unwrap();
//! assert_eq!(decoded, commit);
//! assert_eq!(commit.id().unwrap(), decoded.id().unwrap());
//! ```

use gix::{
    ObjectId,
    bstr::{BString, ByteSlice},
    objs::{CommitRef, WriteTo},
};
use semver::Version;

use crate::{Label, label, store::refs::parse_version};

/// The format this module writes and reads.
pub const FORMAT: &str = "1";
/// The fixed author and committer name.
pub const AUTHOR_NAME: &str = "eka";
/// The fixed author and committer email.
pub const AUTHOR_EMAIL: &str = "eka@eka.invalid";
/// The raw author and committer line value (`name <email> time offset`).
pub const AUTHOR_LINE: &str = "eka <eka@eka.invalid> 0 +0000";

/// Header names, in the order they are written.
pub mod header {
    /// The format version.
    pub const FORMAT: &str = "eka-format";
    /// The set's root commit id.
    pub const SET: &str = "eka-set";
    /// The atom's label.
    pub const LABEL: &str = "eka-label";
    /// The atom's version.
    pub const VERSION: &str = "eka-version";
    /// The source commit id.
    pub const ORIGIN: &str = "eka-origin";
    /// The atom's directory inside the repository.
    pub const PATH: &str = "eka-path";
    /// The atom's content hash.
    pub const CONTENT: &str = "eka-content";
    /// A standard git commit signature.
    pub const SIGNATURE: &str = "gpgsig";
    /// Every `eka-*` header, in the order they are written.
    pub const ALL: [&str; 7] = [FORMAT, SET, LABEL, VERSION, ORIGIN, PATH, CONTENT];
}

/// Why an atom commit cannot be built or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The label is invalid.
    #[error("invalid atom label")]
    Label(#[from] label::Error),
    /// The path is not a clean relative path.
    #[error("atom path `{path}` is not a clean relative path ({reason})")]
    Path {
        /// The offending path.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The content hash is empty or contains whitespace.
    #[error("content hash `{content}` is empty or contains whitespace")]
    Content {
        /// The offending content hash.
        content: String,
    },
    /// A required header is missing from a commit.
    #[error("atom commit has no `{name}` header")]
    MissingHeader {
        /// The header name.
        name: &'static str,
    },
    /// A header appears more than once.
    #[error("atom commit has more than one `{name}` header")]
    DuplicateHeader {
        /// The header name.
        name: String,
    },
    /// An extra header this format does not know.
    #[error("atom commit has an unknown header `{name}`")]
    UnknownHeader {
        /// The header name.
        name: String,
    },
    /// Headers are not in the order they are written in.
    #[error("atom commit headers are out of order: `{name}` is not where format {FORMAT} puts it")]
    HeaderOrder {
        /// The first misplaced header.
        name: String,
    },
    /// The format header names another format.
    #[error("atom commit has format `{found}`, this eka reads format `{FORMAT}`")]
    Format {
        /// The format found.
        found: String,
    },
    /// A header value is malformed.
    #[error("atom commit header `{name}` has an invalid value `{value}`")]
    HeaderValue {
        /// The header name.
        name: &'static str,
        /// The raw value.
        value: String,
    },
    /// The commit deviates from the fixed shape (parents, author, committer, encoding or
    /// message).
    #[error("atom commit is not canonical: {what}")]
    NotCanonical {
        /// What deviates.
        what: &'static str,
    },
    /// The commit could not be encoded or hashed.
    #[error("cannot encode the atom commit")]
    Encode(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The commit could not be written to the object database.
    #[error("cannot write the atom commit to `{path}`")]
    Write {
        /// The repository's git dir.
        path: std::path::PathBuf,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// The data of an atom commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomCommit {
    /// The atom directory's tree.
    pub tree: ObjectId,
    /// The set's root commit.
    pub set_root: ObjectId,
    /// The atom's label.
    pub label: Label,
    /// The atom's version.
    pub version: Version,
    /// The source commit the atom was cut from.
    pub origin: ObjectId,
    /// The atom's directory inside the repository (`.` for the root).
    pub path: String,
    /// The atom's content hash.
    pub content: String,
    /// The raw `gpgsig` header value, if the commit is signed: the armored signature,
    /// ending with a newline (as git stores it).
    pub signature: Option<BString>,
}

impl AtomCommit {
    /// Validate the inputs of an unsigned atom commit.
    pub fn new(
        tree: ObjectId,
        set_root: ObjectId,
        label: &str,
        version: &Version,
        origin: ObjectId,
        path: &str,
        content: &str,
    ) -> Result<Self, Error> {
        let label = Label::parse(label)?;
        validate_path(path)?;
        validate_content(content)?;
        Ok(Self {
            tree,
            set_root,
            label,
            version: version.clone(),
            origin,
            path: path.to_owned(),
            content: content.to_owned(),
            signature: None,
        })
    }

    /// The message every atom commit of this label and version carries.
    pub fn message(&self) -> String {
        format!("eka atom {}@{}\n", self.label, self.version)
    }

    /// The commit object, ready to hash or write.
    pub fn to_commit(&self) -> gix::objs::Commit {
        let signature = gix::actor::Signature {
            name: AUTHOR_NAME.into(),
            email: AUTHOR_EMAIL.into(),
            time: gix::date::Time {
                seconds: 0,
                offset: 0,
            },
        };
        let mut extra_headers: Vec<(BString, BString)> = [
            (header::FORMAT, FORMAT.to_owned()),
            (header::SET, self.set_root.to_hex().to_string()),
            (header::LABEL, self.label.as_str().to_owned()),
            (header::VERSION, self.version.to_string()),
            (header::ORIGIN, self.origin.to_hex().to_string()),
            (header::PATH, self.path.clone()),
            (header::CONTENT, self.content.clone()),
        ]
        .into_iter()
        .map(|(name, value)| (name.into(), value.into()))
        .collect();
        if let Some(signature) = &self.signature {
            extra_headers.push((header::SIGNATURE.into(), signature.clone()));
        }
        gix::objs::Commit {
            tree: self.tree,
            parents: Default::default(),
            author: signature.clone(),
            committer: signature,
            encoding: None,
            message: self.message().into(),
            extra_headers,
        }
    }

    /// The commit's bytes as git stores them (without the object header).
    pub fn to_bytes(&self) -> Result<Vec<u8>, Error> {
        let mut bytes = Vec::new();
        self.to_commit()
            .write_to(&mut bytes)
            .map_err(|error| Error::Encode(error.into()))?;
        Ok(bytes)
    }

    /// The commit's id (SHA-1), without writing it anywhere.
    pub fn id(&self) -> Result<ObjectId, Error> {
        let bytes = self.to_bytes()?;
        gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Commit, &bytes)
            .map_err(|error| Error::Encode(error.into()))
    }

    /// Write the commit into `repo`'s object database and return its id.
    pub fn write(&self, repo: &gix::Repository) -> Result<ObjectId, Error> {
        repo.write_object(self.to_commit())
            .map(|id| id.detach())
            .map_err(|source| Error::Write {
                path: repo.git_dir().to_owned(),
                source: source.into(),
            })
    }

    /// Read an atom commit back, refusing anything this format would not have written:
    /// missing, duplicate, unknown or reordered headers, parents, another author,
    /// committer, encoding or message.
    pub fn decode(commit: &CommitRef<'_>) -> Result<Self, Error> {
        check_fixed_fields(commit)?;
        let headers = read_headers(commit)?;
        let mut decoded = Self::from_header_values(commit.tree(), headers.values)?;
        if commit.message.as_bytes() != decoded.message().as_bytes() {
            return Err(Error::NotCanonical {
                what: "its message is not `eka atom <label>@<version>`",
            });
        }
        decoded.signature = headers.signature;
        Ok(decoded)
    }

    /// Build the unsigned atom commit from its `eka-*` header values (in
    /// [`header::ALL`] order), refusing a missing header, another format, or a value
    /// that is not spelled the one way eka writes it.
    fn from_header_values(tree: ObjectId, values: [Option<String>; 7]) -> Result<Self, Error> {
        let [format, set, label, version, origin, path, content] = values;
        let require =
            |value: Option<String>, name: &'static str| value.ok_or(Error::MissingHeader { name });
        let format = require(format, header::FORMAT)?;
        if format != FORMAT {
            return Err(Error::Format { found: format });
        }
        let set_root = parse_id(require(set, header::SET)?, header::SET)?;
        let label_value = require(label, header::LABEL)?;
        let parsed_label = Label::parse(&label_value)?;
        if parsed_label.as_str() != label_value {
            return Err(Error::HeaderValue {
                name: header::LABEL,
                value: label_value,
            });
        }
        let version_value = require(version, header::VERSION)?;
        let version = parse_version(&version_value).ok_or(Error::HeaderValue {
            name: header::VERSION,
            value: version_value,
        })?;
        let origin = parse_id(require(origin, header::ORIGIN)?, header::ORIGIN)?;
        let path = require(path, header::PATH)?;
        let content = require(content, header::CONTENT)?;
        Self::new(
            tree,
            set_root,
            parsed_label.as_str(),
            &version,
            origin,
            &path,
            &content,
        )
    }
}

/// The extra headers of an atom commit, as read before their values are checked.
struct Headers {
    /// The `eka-*` header values, in [`header::ALL`] order.
    values: [Option<String>; 7],
    /// The raw `gpgsig` header value, if any.
    signature: Option<BString>,
}

/// Refuse a commit whose fixed fields (tree spelling, parents, author, committer,
/// encoding) are not the ones eka writes, since any other would be another commit id
/// for the same atom.
fn check_fixed_fields(commit: &CommitRef<'_>) -> Result<(), Error> {
    // git parses the tree line's hex in either case; only lowercase is what eka
    // writes, and another spelling would be another commit id for the same atom.
    if !is_canonical_hex(commit.tree.as_ref()) {
        return Err(Error::NotCanonical {
            what: "its tree id is not lowercase hex",
        });
    }
    if !commit.parents.is_empty() {
        return Err(Error::NotCanonical {
            what: "it has parents",
        });
    }
    if commit.author.as_bytes() != AUTHOR_LINE.as_bytes() {
        return Err(Error::NotCanonical {
            what: "its author is not `eka <eka@eka.invalid> 0 +0000`",
        });
    }
    if commit.committer.as_bytes() != AUTHOR_LINE.as_bytes() {
        return Err(Error::NotCanonical {
            what: "its committer is not `eka <eka@eka.invalid> 0 +0000`",
        });
    }
    if commit.encoding.is_some() {
        return Err(Error::NotCanonical {
            what: "it names an encoding",
        });
    }
    Ok(())
}

/// Collect the commit's extra headers, refusing unknown, duplicate or reordered ones
/// (the signature must come last) and values that are not UTF-8, so that only the
/// header sequence eka writes is accepted.
fn read_headers(commit: &CommitRef<'_>) -> Result<Headers, Error> {
    let mut values: [Option<String>; 7] = Default::default();
    let mut signature: Option<BString> = None;
    let mut next_position = 0;
    for (name, value) in &commit.extra_headers {
        let name_str = name.to_str_lossy().into_owned();
        if name_str == header::SIGNATURE {
            if signature.is_some() {
                return Err(Error::DuplicateHeader { name: name_str });
            }
            signature = Some(value.as_ref().to_owned());
            continue;
        }
        let Some(position) = header::ALL.iter().position(|known| *known == name_str) else {
            return Err(Error::UnknownHeader { name: name_str });
        };
        if values[position].is_some() {
            return Err(Error::DuplicateHeader { name: name_str });
        }
        if position < next_position || signature.is_some() {
            return Err(Error::HeaderOrder { name: name_str });
        }
        next_position = position + 1;
        let value = value
            .to_str()
            .map_err(|_| Error::HeaderValue {
                name: header::ALL[position],
                value: value.to_str_lossy().into_owned(),
            })?
            .to_owned();
        values[position] = Some(value);
    }
    Ok(Headers { values, signature })
}

/// Whether `hex` is a full-length object id in lowercase hex, the only spelling eka
/// writes.
fn is_canonical_hex(hex: &[u8]) -> bool {
    hex.len() == 40
        && hex
            .iter()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(byte))
}

fn parse_id(value: String, name: &'static str) -> Result<ObjectId, Error> {
    let canonical = is_canonical_hex(value.as_bytes());
    match ObjectId::from_hex(value.as_bytes()) {
        Ok(id) if canonical => Ok(id),
        _ => Err(Error::HeaderValue { name, value }),
    }
}

/// `.` or a `/`-separated relative path without empty, `.` or `..` components.
fn validate_path(path: &str) -> Result<(), Error> {
    let fail = |reason| {
        Err(Error::Path {
            path: path.to_owned(),
            reason,
        })
    };
    if path == "." {
        return Ok(());
    }
    if path.is_empty() {
        return fail("it is empty; use `.` for the repository root");
    }
    if path.chars().any(|c| c.is_control()) {
        return fail("it contains a control character");
    }
    if path.starts_with('/') {
        return fail("it is absolute");
    }
    for component in path.split('/') {
        match component {
            "" => return fail("it has an empty component"),
            "." | ".." => return fail("it has a `.` or `..` component"),
            _ => {}
        }
    }
    Ok(())
}

fn validate_content(content: &str) -> Result<(), Error> {
    if content.is_empty() || content.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Content {
            content: content.to_owned(),
        });
    }
    Ok(())
}
