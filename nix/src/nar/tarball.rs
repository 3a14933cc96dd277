//! NAR of a tarball, as `builtins.fetchTarball` unpacks it.
//!
//! Nix 2.8 extracts the archive with libarchive into an empty directory (keeping
//! permissions, refusing `..` and paths through symlinks), then requires that directory
//! to hold exactly one entry and stores *that* entry: the single top-level directory is
//! stripped, whatever its name. This module replays the extraction into an in-memory
//! tree (file contents are held in memory; the NAR itself is streamed) and archives the
//! single top-level entry. Entries appear in any order; later duplicates replace earlier
//! ones, as extraction would. Plain tar and gzip are read; other compressions are refused.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Read, Write},
    path::Path,
};

use sha2::Digest as _;
use tar::EntryType;

use super::{Encoder, Error, MAX_DEPTH, join_display};
use crate::hash::Sha256Hash;

enum Node {
    Regular { executable: bool, contents: Vec<u8> },
    Symlink(Vec<u8>),
    Directory(BTreeMap<Vec<u8>, Node>),
}

/// NAR hash of the single top-level entry of a tar or tar.gz archive, equal to the
/// `narHash` of `builtins.fetchTarball` (and its `sha256` argument).
pub fn hash_tarball(reader: impl Read) -> Result<Sha256Hash, Error> {
    let mut reader = BufReader::new(reader);
    let magic = reader.fill_buf().map_err(Error::Tarball)?;
    let root = if magic.starts_with(&[0x1f, 0x8b]) {
        unpack(flate2::bufread::MultiGzDecoder::new(reader))?
    } else if let Some(compression) = detect_unsupported(magic) {
        return Err(Error::TarballCompression {
            compression,
            hint: "recompress the tarball with gzip or lock it by a `narHash` computed by Nix",
        });
    } else {
        unpack(reader)?
    };
    let Node::Directory(mut children) = root else {
        return Err(Error::TarballTopLevel {
            count: 0,
            hint: "make the tarball hold one top-level directory",
        });
    };
    if children.len() != 1 {
        return Err(Error::TarballTopLevel {
            count: children.len(),
            hint: "make the tarball hold one top-level directory",
        });
    }
    let Some((name, top)) = children.pop_first() else {
        return Err(Error::TarballTopLevel {
            count: 0,
            hint: "make the tarball hold one top-level directory",
        });
    };
    let mut hasher = sha2::Sha256::new();
    let mut encoder = Encoder::new(&mut hasher)?;
    dump_node(&mut encoder, &top, &String::from_utf8_lossy(&name))?;
    Ok(Sha256Hash::from_bytes(hasher.finalize().into()))
}

fn detect_unsupported(magic: &[u8]) -> Option<&'static str> {
    if magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else if magic.starts_with(b"BZh") {
        Some("bzip2")
    } else if magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else {
        None
    }
}

fn unpack(reader: impl Read) -> Result<Node, Error> {
    let mut archive = tar::Archive::new(reader);
    let mut root = Node::Directory(BTreeMap::new());
    for entry in archive.entries().map_err(Error::Tarball)? {
        let mut entry = entry.map_err(Error::Tarball)?;
        let raw_path = entry.path_bytes().into_owned();
        let display = String::from_utf8_lossy(&raw_path).into_owned();
        let entry_type = entry.header().entry_type();
        let node = match entry_type {
            EntryType::XGlobalHeader | EntryType::XHeader => continue,
            EntryType::GNULongName | EntryType::GNULongLink => continue,
            EntryType::Directory => Node::Directory(BTreeMap::new()),
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let mode = entry.header().mode().map_err(Error::Tarball)?;
                let mut contents = Vec::new();
                entry.read_to_end(&mut contents).map_err(Error::Tarball)?;
                Node::Regular {
                    executable: mode & 0o100 != 0,
                    contents,
                }
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|target| target.into_owned())
                    .unwrap_or_default();
                Node::Symlink(target)
            }
            EntryType::Link => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                let components = split_path(&target, &display)?;
                match lookup(&root, &components) {
                    Some(Node::Regular {
                        executable,
                        contents,
                    }) => Node::Regular {
                        executable: *executable,
                        contents: contents.clone(),
                    },
                    _ => {
                        return Err(Error::TarballPath {
                            path: display,
                            reason: "it is a hard link to something that is not an earlier file",
                        });
                    }
                }
            }
            other => {
                return Err(Error::TarballEntryType {
                    path: display,
                    kind: format!("{other:?}").to_lowercase(),
                });
            }
        };
        let components = split_path(&raw_path, &display)?;
        insert(&mut root, &components, node, &display)?;
    }
    Ok(root)
}

/// Split an entry path into names, dropping empty and `.` components (extraction joins
/// the path onto the destination) and refusing `..`.
fn split_path<'a>(path: &'a [u8], display: &str) -> Result<Vec<&'a [u8]>, Error> {
    let mut components = Vec::new();
    for component in path.split(|&byte| byte == b'/') {
        match component {
            b"" | b"." => {}
            b".." => {
                return Err(Error::TarballPath {
                    path: display.to_owned(),
                    reason: "it contains `..`",
                });
            }
            name => components.push(name),
        }
    }
    if components.len() > MAX_DEPTH {
        return Err(Error::TooDeep {
            path: display.to_owned(),
        });
    }
    Ok(components)
}

fn lookup<'a>(root: &'a Node, components: &[&[u8]]) -> Option<&'a Node> {
    let mut current = root;
    for name in components {
        match current {
            Node::Directory(children) => current = children.get(*name)?,
            _ => return None,
        }
    }
    Some(current)
}

fn insert(root: &mut Node, components: &[&[u8]], node: Node, display: &str) -> Result<(), Error> {
    let Some((last, parents)) = components.split_last() else {
        // The destination itself (`./`): only a directory entry may name it.
        return match node {
            Node::Directory(_) => Ok(()),
            _ => Err(Error::TarballPath {
                path: display.to_owned(),
                reason: "it names the extraction directory itself",
            }),
        };
    };
    let mut current = root;
    for name in parents {
        let Node::Directory(children) = current else {
            return Err(Error::TarballPath {
                path: display.to_owned(),
                reason: "a parent is not a directory",
            });
        };
        current = children
            .entry(name.to_vec())
            .or_insert_with(|| Node::Directory(BTreeMap::new()));
        match current {
            Node::Directory(_) => {}
            Node::Symlink(_) => {
                return Err(Error::TarballPath {
                    path: display.to_owned(),
                    reason: "it passes through a symlink",
                });
            }
            Node::Regular { .. } => {
                return Err(Error::TarballPath {
                    path: display.to_owned(),
                    reason: "a parent is a file",
                });
            }
        }
    }
    let Node::Directory(children) = current else {
        return Err(Error::TarballPath {
            path: display.to_owned(),
            reason: "a parent is not a directory",
        });
    };
    match (children.get(*last), &node) {
        // A directory entry for a directory that exists keeps its contents.
        (Some(Node::Directory(_)), Node::Directory(_)) => Ok(()),
        (Some(Node::Directory(existing)), _) if !existing.is_empty() => Err(Error::TarballPath {
            path: display.to_owned(),
            reason: "it replaces a directory that is not empty",
        }),
        _ => {
            children.insert(last.to_vec(), node);
            Ok(())
        }
    }
}

fn dump_node<W: Write>(encoder: &mut Encoder<W>, node: &Node, path: &str) -> Result<(), Error> {
    match node {
        Node::Regular {
            executable,
            contents,
        } => encoder.regular(
            *executable,
            contents.len() as u64,
            contents.as_slice(),
            Path::new(path),
        ),
        Node::Symlink(target) => encoder.symlink(target),
        Node::Directory(children) => {
            encoder.directory_start()?;
            for (name, child) in children {
                let child_path = join_display(path, name);
                encoder.entry_start(name, || child_path.clone())?;
                dump_node(encoder, child, &child_path)?;
                encoder.entry_end()?;
            }
            encoder.directory_end()
        }
    }
}
