//! Setup shared by the tests over the published three-level set of [`crate::nix`]
//! ([`Published`]): its locks and consumers, hostile trees force-moved into a mirror,
//! and `eka` run with its Nix pointed at the private store of a [`Nix`].

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use atom::{
    lock::{LockedAtom, LockedNixInput, Lockfile, ObjectId},
    store::AtomCommit,
};
use gix::objs::tree::{Entry, EntryKind};
use tempfile::TempDir;

use crate::{
    common::Sandbox,
    nix::{Inputs, Nix, Published, consumer},
};

impl Published {
    /// A lock of every atom of the set, with the Nix inputs `nix`.
    pub fn lock(&self, nix: Vec<LockedNixInput>) -> Lockfile {
        Lockfile {
            atoms: self.atoms.clone(),
            nix,
            follows: Vec::new(),
        }
    }

    /// The set's lock (no Nix input) with `top` edited by `edit`.
    pub fn lock_with_top(&self, edit: impl Fn(&mut LockedAtom)) -> Lockfile {
        let mut lock = self.lock(Vec::new());
        for atom in &mut lock.atoms {
            if atom.label.as_str() == "top" {
                edit(atom);
            }
        }
        lock
    }

    /// The set's lock (no Nix input) with `top` locked at the atom commit `commit`.
    pub fn lock_with_top_at(&self, commit: &str) -> Lockfile {
        self.lock_with_top(|atom| atom.commit = ObjectId::parse(commit).unwrap())
    }

    /// A consumer locking every atom of the set and no Nix input.
    pub fn atoms_only_consumer(&self) -> TempDir {
        consumer(&self.url(), &self.lock(Vec::new()))
    }

    /// Write a copy of `top`'s atom commit edited by `edit` into the mirror, force-move
    /// `refs/eka/atoms/top/1.0.0` to it (git plumbing) and return it.
    pub fn force_move_top(&self, edit: impl Fn(&gix::Repository, &mut AtomCommit)) -> String {
        let repo = gix::open(self.repo.path()).unwrap();
        let locked = gix::ObjectId::from_hex(self.atom("top").commit.as_str().as_bytes()).unwrap();
        let mut commit = atom_commit(&repo, locked);
        edit(&repo, &mut commit);
        let moved = commit.write(&repo).unwrap().to_string();
        self.repo.run([
            "update-ref",
            "refs/eka/atoms/top/1.0.0",
            moved.as_str(),
            self.atom("top").commit.as_str(),
        ]);
        assert_eq!(self.repo.rev_parse("refs/eka/atoms/top/1.0.0"), moved);
        moved
    }

    /// `top`'s atom commit with the same headers (set, label, version, origin, path and
    /// content) but `entry` added to its tree, force-moved to in the mirror.
    pub fn force_move_top_adding(&self, entry: impl Fn(&gix::Repository) -> Entry) -> String {
        self.force_move_top(|repo, commit| add_to_tree(repo, commit, entry(repo)))
    }
}

impl Inputs {
    /// The git input and the tarball, as the lock holds them.
    pub fn locked(&self) -> Vec<LockedNixInput> {
        vec![self.git.clone(), self.tar.clone()]
    }
}

/// `dir/pkg.tar.gz`, made by `tar`, holding `pkg-1.0/hello.txt` (`from a tarball`).
pub fn hello_tarball(dir: &Path) -> PathBuf {
    fs::create_dir_all(dir.join("pkg-1.0")).unwrap();
    fs::write(dir.join("pkg-1.0/hello.txt"), "from a tarball\n").unwrap();
    let tarball = dir.join("pkg.tar.gz");
    let status = Command::new("tar")
        .arg("-C")
        .arg(dir)
        .arg("-czf")
        .arg(&tarball)
        .arg("pkg-1.0")
        .status()
        .unwrap();
    assert!(status.success());
    tarball
}

/// The atom commit `id` of `repo`, decoded.
pub fn atom_commit(repo: &gix::Repository, id: gix::ObjectId) -> AtomCommit {
    let object = repo.find_object(id).unwrap().detach();
    let parsed = gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash()).unwrap();
    AtomCommit::decode(&parsed).unwrap()
}

/// Point `commit` at a copy of its tree (written to `repo`) with `entry` added.
pub fn add_to_tree(repo: &gix::Repository, commit: &mut AtomCommit, entry: Entry) {
    let mut tree: gix::objs::Tree = repo
        .find_tree(commit.tree)
        .unwrap()
        .decode()
        .unwrap()
        .into();
    tree.entries.push(entry);
    tree.entries.sort();
    commit.tree = repo.write_object(&tree).unwrap().detach();
}

/// A `.git` directory holding a `config` that runs a command on the next `git status`.
pub fn dot_git(repo: &gix::Repository) -> Entry {
    let config = repo
        .write_blob("[core]\n\tfsmonitor = touch /tmp/pwned\n")
        .unwrap()
        .detach();
    let tree = gix::objs::Tree {
        entries: vec![Entry {
            mode: EntryKind::Blob.into(),
            filename: "config".into(),
            oid: config,
        }],
    };
    Entry {
        mode: EntryKind::Tree.into(),
        filename: ".git".into(),
        oid: repo.write_object(&tree).unwrap().detach(),
    }
}

/// A symlink escaping the atom, as `escape`.
pub fn escaping_symlink(repo: &gix::Repository) -> Entry {
    Entry {
        mode: EntryKind::Link.into(),
        filename: "escape".into(),
        oid: repo.write_blob("../../../etc/passwd").unwrap().detach(),
    }
}

/// The `NIX_CONFIG` that points eka's Nix at the private store of `nix`, offline.
fn nix_config(nix: &Nix) -> String {
    format!(
        "substituters =\nflake-registry =\nexperimental-features = nix-command flakes\n\
         sandbox = false\nbuild-users-group =\nstore = {}\n",
        nix.store().display()
    )
}

/// `eka -C <dir> <args>` in `sandbox`, with Nix pointed at the private store of `nix`
/// and none of the host's Nix variables; not yet run.
pub fn eka_with_nix(sandbox: &Sandbox, nix: &Nix, dir: &Path, args: &[&str]) -> Command {
    let mut command = sandbox.command();
    eka_test_support::nix::remove_host_variables(&mut command);
    command
        .env("NIX_CONFIG", nix_config(nix))
        .arg("-C")
        .arg(dir)
        .args(args);
    command
}
