//! NAR of a git tree, as `builtins.fetchGit` (without submodules) checks it out.
//!
//! Nix 2.8 runs `git archive <rev>` and unpacks the tar, so a tree entry becomes: mode
//! `40000` a directory, `100644` a file, `100755` (any mode with `0o100` set, as git
//! canonicalises it) an executable file, `120000` a symlink whose target is the blob.
//! Gitlinks (submodules) are refused: `git archive` would write an empty directory.
//! `git archive` also applies `.gitattributes` (`export-ignore`, `export-subst`,
//! `eol=crlf`, `ident`, `filter`, ...), which change the checkout; trees whose
//! `.gitattributes` set those are refused rather than hashed wrongly.

use std::io::Write;

use gix::ObjectId;
use sha2::Digest as _;

use super::{Encoder, Error, MAX_DEPTH, join_display};
use crate::hash::Sha256Hash;

/// Attributes that make `git archive` write something other than the blob's bytes, or
/// leave files out.
const CHANGING_ATTRIBUTES: &[&str] = &[
    "export-ignore",
    "export-subst",
    "ident",
    "filter",
    "working-tree-encoding",
];

const ATTRIBUTE_HINT: &str = "remove the attribute from `.gitattributes` or lock the input as a tarball with a `narHash` computed by Nix";

/// NAR hash of the git tree `tree_id` in `repo`, equal to the `narHash` Nix reports for
/// `builtins.fetchGit` of a commit with this tree.
pub fn hash_git_tree(repo: &gix::Repository, tree_id: ObjectId) -> Result<Sha256Hash, Error> {
    let mut hasher = sha2::Sha256::new();
    let mut encoder = Encoder::new(&mut hasher)?;
    dump_tree(repo, &mut encoder, tree_id, "", 0)?;
    Ok(Sha256Hash::from_bytes(hasher.finalize().into()))
}

struct Entry {
    name: Vec<u8>,
    mode: u16,
    object_id: ObjectId,
}

fn object_error(
    object_id: ObjectId,
    path: &str,
) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> Error + '_ {
    move |source| Error::GitObject {
        object_id,
        path: if path.is_empty() {
            "/".to_owned()
        } else {
            path.to_owned()
        },
        source,
    }
}

fn dump_tree<W: Write>(
    repo: &gix::Repository,
    encoder: &mut Encoder<W>,
    tree_id: ObjectId,
    path: &str,
    depth: usize,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(Error::TooDeep {
            path: path.to_owned(),
        });
    }
    let tree = repo
        .find_tree(tree_id)
        .map_err(|source| object_error(tree_id, path)(source.into()))?;
    let decoded = tree
        .decode()
        .map_err(|source| object_error(tree_id, path)(source.into()))?;
    let mut entries: Vec<Entry> = decoded
        .entries
        .iter()
        .map(|entry| Entry {
            name: entry.filename.to_vec(),
            mode: entry.mode.value(),
            object_id: entry.oid.to_owned(),
        })
        .collect();
    drop(decoded);
    // Git orders a directory `a` as `a/`; a NAR orders by the name's bytes alone.
    entries.sort_by(|left, right| left.name.cmp(&right.name));
    for pair in entries.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(Error::DuplicateName {
                path: join_display(path, &pair[0].name),
            });
        }
    }
    encoder.directory_start()?;
    for entry in &entries {
        let child_path = join_display(path, &entry.name);
        encoder.entry_start(&entry.name, || child_path.clone())?;
        match entry.mode {
            0o040000 => dump_tree(repo, encoder, entry.object_id, &child_path, depth + 1)?,
            0o120000 => {
                let blob = find_blob(repo, entry.object_id, &child_path)?;
                encoder.symlink(&blob)?;
            }
            0o160000 => {
                return Err(Error::Gitlink {
                    path: child_path,
                    commit_id: entry.object_id,
                    hint: "vendor the submodule's files or lock it as its own `git` input",
                });
            }
            mode if mode & 0o170000 == 0o100000 => {
                let blob = find_blob(repo, entry.object_id, &child_path)?;
                if entry.name == b".gitattributes" {
                    check_attributes(&blob, &child_path)?;
                }
                let executable = mode & 0o100 != 0;
                encoder.regular(
                    executable,
                    blob.len() as u64,
                    blob.as_slice(),
                    std::path::Path::new(&child_path),
                )?;
            }
            mode => {
                return Err(Error::GitMode {
                    path: child_path,
                    mode,
                });
            }
        }
        encoder.entry_end()?;
    }
    encoder.directory_end()
}

fn find_blob(repo: &gix::Repository, object_id: ObjectId, path: &str) -> Result<Vec<u8>, Error> {
    let mut blob = repo
        .find_blob(object_id)
        .map_err(|source| object_error(object_id, path)(source.into()))?;
    Ok(blob.take_data())
}

/// Refuse a `.gitattributes` that sets (not unsets) an attribute `git archive` acts on.
/// Conservative: a pattern that matches no file is refused too.
fn check_attributes(contents: &[u8], path: &str) -> Result<(), Error> {
    for line in contents.split(|&byte| byte == b'\n') {
        let line = String::from_utf8_lossy(line);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The first token is the pattern (or `[attr]name` for a macro definition).
        for token in line.split_whitespace().skip(1) {
            if token.starts_with('-') || token.starts_with('!') {
                continue;
            }
            let (name, value) = token.split_once('=').unwrap_or((token, ""));
            let changes = CHANGING_ATTRIBUTES.contains(&name) || (name == "eol" && value == "crlf");
            if changes {
                return Err(Error::GitAttribute {
                    path: path.to_owned(),
                    attribute: token.to_owned(),
                    hint: ATTRIBUTE_HINT,
                });
            }
        }
    }
    Ok(())
}
