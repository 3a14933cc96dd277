//! NAR (Nix ARchive) serialisation and NAR hashes.
//!
//! A NAR is Nix's canonical serialisation of a file system object; its SHA-256 is the
//! `narHash` Nix records for a fetched input. The format (written here from its
//! definition, see `docs/nix-hashes.md`) is a sequence of *strings*, each a little-endian
//! `u64` length, the bytes, and zero padding to a multiple of 8:
//!
//! ```text
//! nar       = "nix-archive-1" node
//! node      = "(" "type" ( regular | symlink | directory ) ")"
//! regular   = "regular" [ "executable" "" ] "contents" <file bytes>
//! symlink   = "symlink" "target" <target bytes>
//! directory = "directory" { "entry" "(" "name" <name> "node" node ")" }
//! ```
//!
//! Directory entries are sorted by the bytes of their names. Nothing else is recorded:
//! no owner, no time, and of the permissions only whether the file is executable.
//!
//! The archive is streamed into the hasher (or any [`std::io::Write`]); it is never held
//! in memory. Three sources are supported:
//!
//! - a path on disk: [`hash_path`] / [`dump_path`] (what `nix-hash`, `nix hash path` and
//!   `nix-store --dump` see);
//! - a git tree: [`hash_git_tree`] (what `builtins.fetchGit` checks out);
//! - a tarball: [`hash_tarball`] (what `builtins.fetchTarball` unpacks).
//!
//! ```
//! use nix::nar;
//!
//! let hash = nar::hash_regular(&b"hi\n"[..], 3, false).unwrap();
//! assert_eq!(hash.to_sri(), "sha256-EFUdrtf6Rn0LWIJufrmg8q99aT3jGfLvd1//zaJEufY=");
//! ```

mod git;
mod tarball;

use std::{
    fs,
    io::{self, Read, Write},
    os::unix::{ffi::OsStrExt as _, fs::PermissionsExt as _},
    path::{Path, PathBuf},
};

use atom::error::{Classify, Kind};
use sha2::Digest as _;

pub use git::hash_git_tree;
pub use tarball::hash_tarball;

use super::hash::Sha256Hash;

/// Deepest directory nesting eka follows in a git tree or a tarball.
pub const MAX_DEPTH: usize = 512;

/// Why a NAR hash could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read.
    #[error("cannot read `{path}`")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
    /// A file changed size while it was being read.
    #[error("`{path}` changed while it was being hashed")]
    FileChanged {
        /// The file.
        path: PathBuf,
    },
    /// A file is neither a regular file, a directory nor a symlink.
    #[error("`{path}` is not a regular file, directory or symlink, so it has no NAR form")]
    UnsupportedFileType {
        /// The file.
        path: PathBuf,
    },
    /// An entry name cannot appear in a NAR (empty, `.`, `..`, or containing `/` or NUL).
    #[error("`{path}` has a name that cannot appear in a NAR")]
    InvalidName {
        /// The entry, with its parent's path.
        path: String,
    },
    /// Two entries of one directory share a name.
    #[error("`{path}` appears twice in its directory")]
    DuplicateName {
        /// The entry, with its parent's path.
        path: String,
    },
    /// Directories are nested deeper than [`MAX_DEPTH`].
    #[error("`{path}` is nested more than {MAX_DEPTH} directories deep")]
    TooDeep {
        /// The directory at which the walk stopped.
        path: String,
    },
    /// The sink the archive was written to failed.
    #[error("cannot write the NAR")]
    Write(#[source] io::Error),
    /// A git object could not be read.
    #[error("cannot read git object `{object_id}` at `{path}`")]
    GitObject {
        /// The object.
        object_id: gix::ObjectId,
        /// Where in the tree it is (`/` for the root).
        path: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A git tree contains a submodule (gitlink), which `builtins.fetchGit` would not fetch.
    #[error("`{path}` is a git submodule (gitlink `{commit_id}`), which eka does not lock")]
    Gitlink {
        /// The submodule's path.
        path: String,
        /// The commit it points to.
        commit_id: gix::ObjectId,
        /// What to do.
        hint: &'static str,
    },
    /// A git tree entry has a mode git never writes.
    #[error("`{path}` has git mode `{mode:o}`, which is not a file, symlink or directory")]
    GitMode {
        /// The entry.
        path: String,
        /// Its mode.
        mode: u16,
    },
    /// A `.gitattributes` file sets an attribute that makes `git archive` (and so
    /// `builtins.fetchGit`) change files, so the NAR Nix computes is not the tree's.
    #[error(
        "`{path}` sets the git attribute `{attribute}`, which changes what `builtins.fetchGit` checks out"
    )]
    GitAttribute {
        /// The `.gitattributes` file.
        path: String,
        /// The attribute.
        attribute: String,
        /// What to do.
        hint: &'static str,
    },
    /// The tarball could not be read or decompressed.
    #[error("cannot read the tarball")]
    Tarball(#[source] io::Error),
    /// The tarball is compressed in a way eka does not read.
    #[error("the tarball is compressed with {compression}, which eka does not read")]
    TarballCompression {
        /// The compression detected.
        compression: &'static str,
        /// What to do.
        hint: &'static str,
    },
    /// A tarball entry is not a file, directory, symlink or hard link.
    #[error("tarball entry `{path}` is a {kind}, which Nix cannot store")]
    TarballEntryType {
        /// The entry.
        path: String,
        /// Its kind.
        kind: String,
    },
    /// A tarball entry's path climbs out (`..`), passes through a symlink or a file, or
    /// points a hard link at something that is not a file.
    #[error("tarball entry `{path}` cannot be unpacked safely: {reason}")]
    TarballPath {
        /// The entry.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// The tarball does not unpack to exactly one top-level file or directory.
    #[error("the tarball unpacks to {count} top-level entries; Nix needs exactly one")]
    TarballTopLevel {
        /// How many there are.
        count: usize,
        /// What to do.
        hint: &'static str,
    },
}

impl Classify for Error {
    /// Content Nix cannot archive or eka will not pin (submodules, export attributes,
    /// a malformed or unsafe tarball) is the input's; a file, git object or sink that
    /// cannot be read or written is the environment.
    fn kind(&self) -> Kind {
        match self {
            Error::Io { .. }
            | Error::FileChanged { .. }
            | Error::Write(_)
            | Error::GitObject { .. } => Kind::Environment,
            Error::UnsupportedFileType { .. }
            | Error::InvalidName { .. }
            | Error::DuplicateName { .. }
            | Error::TooDeep { .. }
            | Error::Gitlink { .. }
            | Error::GitMode { .. }
            | Error::GitAttribute { .. }
            | Error::Tarball(_)
            | Error::TarballCompression { .. }
            | Error::TarballEntryType { .. }
            | Error::TarballPath { .. }
            | Error::TarballTopLevel { .. } => Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Gitlink { hint, .. }
            | Error::GitAttribute { hint, .. }
            | Error::TarballCompression { hint, .. }
            | Error::TarballTopLevel { hint, .. } => Some((*hint).to_owned()),
            _ => None,
        }
    }
}

/// NAR hash of a path on disk, as `nix-hash --type sha256 <path>` computes it.
///
/// A symlink at `path` itself is archived as a symlink (not followed). A regular file is
/// executable when its owner may execute it (`mode & 0o100`), as in Nix.
pub fn hash_path(path: &Path) -> Result<Sha256Hash, Error> {
    let mut hasher = sha2::Sha256::new();
    dump_path(path, &mut hasher)?;
    Ok(Sha256Hash::from_bytes(hasher.finalize().into()))
}

/// Write the NAR of a path on disk to `sink`, byte for byte what `nix-store --dump` writes.
pub fn dump_path(path: &Path, sink: impl Write) -> Result<(), Error> {
    let mut encoder = Encoder::new(sink)?;
    dump_fs_node(&mut encoder, path)
}

/// NAR hash of a single regular file of `size` bytes read from `reader`: the `narHash` of
/// a file fetched with `builtins.fetchurl` (not executable) or the `narHash` of any
/// single-file input.
pub fn hash_regular(reader: impl Read, size: u64, executable: bool) -> Result<Sha256Hash, Error> {
    let mut hasher = sha2::Sha256::new();
    let mut encoder = Encoder::new(&mut hasher)?;
    encoder.regular(executable, size, reader, Path::new("<input>"))?;
    Ok(Sha256Hash::from_bytes(hasher.finalize().into()))
}

fn dump_fs_node<W: Write>(encoder: &mut Encoder<W>, path: &Path) -> Result<(), Error> {
    let io_error = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let metadata = fs::symlink_metadata(path).map_err(io_error)?;
    let file_type = metadata.file_type();
    if file_type.is_symlink() {
        let target = fs::read_link(path).map_err(io_error)?;
        encoder.symlink(target.as_os_str().as_bytes())
    } else if file_type.is_file() {
        let executable = metadata.permissions().mode() & 0o100 != 0;
        let file = fs::File::open(path).map_err(io_error)?;
        encoder.regular(executable, metadata.len(), file, path)
    } else if file_type.is_dir() {
        let mut names = Vec::new();
        for entry in fs::read_dir(path).map_err(io_error)? {
            names.push(entry.map_err(io_error)?.file_name());
        }
        names.sort_by(|left, right| left.as_bytes().cmp(right.as_bytes()));
        encoder.directory_start()?;
        for name in names {
            let child = path.join(&name);
            encoder.entry_start(name.as_bytes(), || child.display().to_string())?;
            dump_fs_node(encoder, &child)?;
            encoder.entry_end()?;
        }
        encoder.directory_end()
    } else {
        Err(Error::UnsupportedFileType {
            path: path.to_owned(),
        })
    }
}

/// Streams NAR tokens into a writer. Callers emit nodes in order; the encoder checks
/// names and pads strings, nothing more.
pub(crate) struct Encoder<W: Write> {
    sink: W,
}

const PADDING: [u8; 8] = [0; 8];

impl<W: Write> Encoder<W> {
    /// Start an archive: writes the magic string.
    pub(crate) fn new(sink: W) -> Result<Self, Error> {
        let mut encoder = Encoder { sink };
        encoder.string(b"nix-archive-1")?;
        Ok(encoder)
    }

    fn raw(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.sink.write_all(bytes).map_err(Error::Write)
    }

    fn pad(&mut self, length: u64) -> Result<(), Error> {
        let remainder = (length % 8) as usize;
        if remainder == 0 {
            Ok(())
        } else {
            self.raw(&PADDING[remainder..])
        }
    }

    fn string(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let length = bytes.len() as u64;
        self.raw(&length.to_le_bytes())?;
        self.raw(bytes)?;
        self.pad(length)
    }

    /// A regular file whose `size` bytes come from `reader`; `path` names it in errors.
    pub(crate) fn regular(
        &mut self,
        executable: bool,
        size: u64,
        mut reader: impl Read,
        path: &Path,
    ) -> Result<(), Error> {
        self.string(b"(")?;
        self.string(b"type")?;
        self.string(b"regular")?;
        if executable {
            self.string(b"executable")?;
            self.string(b"")?;
        }
        self.string(b"contents")?;
        self.raw(&size.to_le_bytes())?;
        let mut buffer = vec![0u8; 64 * 1024];
        let mut remaining = size;
        let read_error = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        while remaining > 0 {
            let want = usize::try_from(remaining.min(buffer.len() as u64)).unwrap_or(buffer.len());
            let count = match reader.read(&mut buffer[..want]) {
                Ok(0) => {
                    return Err(Error::FileChanged {
                        path: path.to_owned(),
                    });
                }
                Ok(count) => count,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(read_error(error)),
            };
            self.raw(&buffer[..count])?;
            remaining -= count as u64;
        }
        // A file that grew while being read would give a NAR of a state that never was.
        let mut probe = [0u8; 1];
        if reader.read(&mut probe).map_err(read_error)? != 0 {
            return Err(Error::FileChanged {
                path: path.to_owned(),
            });
        }
        self.pad(size)?;
        self.string(b")")
    }

    /// A symlink pointing at `target` (raw bytes, not resolved).
    pub(crate) fn symlink(&mut self, target: &[u8]) -> Result<(), Error> {
        self.string(b"(")?;
        self.string(b"type")?;
        self.string(b"symlink")?;
        self.string(b"target")?;
        self.string(target)?;
        self.string(b")")
    }

    /// Open a directory; follow with entries in name order and [`Self::directory_end`].
    pub(crate) fn directory_start(&mut self) -> Result<(), Error> {
        self.string(b"(")?;
        self.string(b"type")?;
        self.string(b"directory")
    }

    /// Open a directory entry; follow with its node and [`Self::entry_end`]. `describe`
    /// names the entry in an error.
    pub(crate) fn entry_start(
        &mut self,
        name: &[u8],
        describe: impl FnOnce() -> String,
    ) -> Result<(), Error> {
        if !is_valid_name(name) {
            return Err(Error::InvalidName { path: describe() });
        }
        self.string(b"entry")?;
        self.string(b"(")?;
        self.string(b"name")?;
        self.string(name)?;
        self.string(b"node")
    }

    /// Close a directory entry.
    pub(crate) fn entry_end(&mut self) -> Result<(), Error> {
        self.string(b")")
    }

    /// Close a directory.
    pub(crate) fn directory_end(&mut self) -> Result<(), Error> {
        self.string(b")")
    }
}

/// Whether Nix accepts `name` as a directory entry in a NAR.
pub(crate) fn is_valid_name(name: &[u8]) -> bool {
    !name.is_empty() && name != b"." && name != b".." && !name.contains(&b'/') && !name.contains(&0)
}

/// Join a parent path (`""` for the root) and a child name for error messages.
pub(crate) fn join_display(parent: &str, name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name);
    if parent.is_empty() {
        name.into_owned()
    } else {
        format!("{parent}/{name}")
    }
}
