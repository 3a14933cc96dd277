//! `eka export --flake` checks every atom commit before pinning its tree: over a
//! `file://` mirror whose atom ref was force-moved to a commit with the same headers
//! but a hostile tree, and with a lock whose content hash was edited, the export is
//! refused naming the atom, its version, the mirror and what is wrong, and no
//! `flake.lock` is written (an existing one is left alone).

use std::{fs, path::Path};

use atom::{
    lock::{ContentHash, Lockfile, ObjectId},
    store::AtomCommit,
};
use gix::objs::tree::{Entry, EntryKind};

use eka_test_support::{Remote, Transport};

use crate::{
    common::{Run, Sandbox, snapshot},
    nix::{Published, consumer, publish_set},
};

/// `eka -C <app> export --flake --output <output>` in `sandbox`.
fn export(sandbox: &Sandbox, app: &Path, output: &Path) -> Run {
    let run = sandbox
        .command()
        .arg("-C")
        .arg(app)
        .args(["export", "--flake", "--output"])
        .arg(output)
        .output()
        .unwrap();
    Run::from_output(run)
}

/// The set's lock with `top` edited by `edit`.
fn lock_with_top(set: &Published, edit: impl Fn(&mut atom::lock::LockedAtom)) -> Lockfile {
    let mut atoms = set.atoms.clone();
    for atom in &mut atoms {
        if atom.label.as_str() == "top" {
            edit(atom);
        }
    }
    Lockfile {
        atoms,
        nix: vec![],
        follows: Vec::new(),
    }
}

/// Write a copy of `top`'s atom commit edited by `edit` into the mirror, force-move
/// `refs/eka/atoms/top/1.0.0` to it (git plumbing) and return it.
fn force_move_top(set: &Published, edit: impl Fn(&gix::Repository, &mut AtomCommit)) -> String {
    let repo = gix::open(set.repo.path()).unwrap();
    let locked = gix::ObjectId::from_hex(set.atom("top").commit.as_str().as_bytes()).unwrap();
    let object = repo.find_object(locked).unwrap().detach();
    let parsed = gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash()).unwrap();
    let mut commit = AtomCommit::decode(&parsed).unwrap();
    edit(&repo, &mut commit);
    let moved = commit.write(&repo).unwrap().to_string();
    set.repo.run([
        "update-ref",
        "refs/eka/atoms/top/1.0.0",
        moved.as_str(),
        set.atom("top").commit.as_str(),
    ]);
    assert_eq!(set.repo.rev_parse("refs/eka/atoms/top/1.0.0"), moved);
    moved
}

/// `top`'s atom commit with the same headers (set, label, version, origin, path and
/// content) but `entry` added to its tree, force-moved to in the mirror.
fn force_move_top_adding(set: &Published, entry: impl Fn(&gix::Repository) -> Entry) -> String {
    force_move_top(set, |repo, commit| {
        let mut tree: gix::objs::Tree = repo
            .find_tree(commit.tree)
            .unwrap()
            .decode()
            .unwrap()
            .into();
        tree.entries.push(entry(repo));
        tree.entries.sort();
        commit.tree = repo.write_object(&tree).unwrap().detach();
    })
}

/// A clean export into `output`, then a refused one: the clean `flake.lock` is left
/// byte for byte. Then the same export with a fresh cache into a fresh directory,
/// which fetches from the mirror: refused for the same reason, no `flake.lock`
/// written. Returns that second refusal.
fn refused_after_clean(set: &Published, lock: &Lockfile) -> Run {
    let sandbox = Sandbox::new();
    let output = tempfile::tempdir().unwrap();
    let clean = consumer(
        &set.url(),
        &Lockfile {
            atoms: set.atoms.clone(),
            nix: vec![],
            follows: Vec::new(),
        },
    );
    export(&sandbox, clean.path(), output.path()).success();
    let written = fs::read(output.path().join("flake.lock")).unwrap();
    let app = consumer(&set.url(), lock);
    let cached = export(&sandbox, app.path(), output.path()).refused();
    assert_eq!(fs::read(output.path().join("flake.lock")).unwrap(), written);
    let fresh = tempfile::tempdir().unwrap();
    let fetched = export(&Sandbox::new(), app.path(), fresh.path()).refused();
    assert!(!fresh.path().join("flake.lock").exists());
    let cause = |run: &Run| run.stderr.lines().skip(1).collect::<Vec<_>>().join("\n");
    assert_eq!(cause(&cached), cause(&fetched));
    assert!(
        fetched.stderr.contains(" from mirror `file://"),
        "{}",
        fetched.stderr
    );
    fetched
}

#[test]
fn an_edited_content_hash_is_refused_and_nothing_is_written() {
    let set = publish_set(&[]);
    let edited = format!("blake3:{}", "0".repeat(64));
    let lock = lock_with_top(&set, |atom| {
        atom.content = ContentHash::parse(&edited).unwrap();
    });
    let refused = refused_after_clean(&set, &lock);
    assert!(
        refused
            .stderr
            .contains("atom `top@1.0.0` from mirror `file://")
            && refused.stderr.contains(&edited)
            && refused.stderr.contains("in the lock")
            && refused
                .stderr
                .contains("hint: run `eka verify` to see which mirror changed it"),
        "{}",
        refused.stderr
    );
    snapshot!("export_edited_content_hash", refused.transcript());
}

#[test]
fn a_moved_ref_to_a_commit_whose_content_header_lies_is_refused() {
    let set = publish_set(&[]);
    let header = format!("blake3:{}", "1".repeat(64));
    let moved = force_move_top(&set, |_, commit| commit.content.clone_from(&header));
    let lock = lock_with_top(&set, |atom| {
        atom.commit = ObjectId::parse(&moved).unwrap();
    });
    let refused = refused_after_clean(&set, &lock);
    assert!(
        refused.stderr.contains(&header) && refused.stderr.contains("in the commit header"),
        "{}",
        refused.stderr
    );
    snapshot!("export_content_header", refused.transcript());
}

#[test]
fn a_moved_ref_to_an_escaping_symlink_is_refused() {
    let set = publish_set(&[]);
    let moved = force_move_top_adding(&set, escaping_symlink);
    let lock = lock_with_top(&set, |atom| {
        atom.commit = ObjectId::parse(&moved).unwrap();
    });
    let refused = refused_after_clean(&set, &lock);
    assert!(
        refused
            .stderr
            .contains("atom `top@1.0.0` from mirror `file://")
            && refused.stderr.contains("tree entry `escape` is refused")
            && refused.stderr.contains("out of the atom"),
        "{}",
        refused.stderr
    );
    snapshot!("export_escaping_symlink", refused.transcript());
}

/// A `.git` directory holding a `config` that runs a command on the next `git status`.
fn dot_git(repo: &gix::Repository) -> gix::ObjectId {
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
    repo.write_object(&tree).unwrap().detach()
}

/// An escaping symlink, added as `escape`.
fn escaping_symlink(repo: &gix::Repository) -> Entry {
    Entry {
        mode: EntryKind::Link.into(),
        filename: "escape".into(),
        oid: repo.write_blob("../../../etc/passwd").unwrap().detach(),
    }
}

#[test]
fn a_hostile_tree_served_over_http_is_refused_naming_that_mirror() {
    let remote = Remote::start(Transport::Http);
    let set = publish_set(&[remote.url().to_owned()]);
    let moved = force_move_top_adding(&set, escaping_symlink);
    set.repo.run([
        "push",
        "--force",
        remote.path().to_str().unwrap(),
        "refs/eka/*:refs/eka/*",
    ]);
    let lock = lock_with_top(&set, |atom| {
        atom.commit = ObjectId::parse(&moved).unwrap();
    });
    let app = consumer(&set.url(), &lock);
    let output = tempfile::tempdir().unwrap();
    let refused = export(&Sandbox::new(), app.path(), output.path()).refused();
    assert!(!output.path().join("flake.lock").exists());
    assert!(
        refused
            .stderr
            .contains(&format!("atom `top@1.0.0` from mirror `{}`", remote.url()))
            && refused.stderr.contains("tree entry `escape` is refused"),
        "{}",
        refused.stderr
    );
    snapshot!("export_escaping_symlink_http", refused.transcript());
}

#[test]
fn a_moved_ref_to_a_tree_holding_dot_git_is_refused() {
    let set = publish_set(&[]);
    let moved = force_move_top_adding(&set, |repo| Entry {
        mode: EntryKind::Tree.into(),
        filename: ".git".into(),
        oid: dot_git(repo),
    });
    let lock = lock_with_top(&set, |atom| {
        atom.commit = ObjectId::parse(&moved).unwrap();
    });
    let refused = refused_after_clean(&set, &lock);
    assert!(
        refused
            .stderr
            .contains("atom `top@1.0.0` from mirror `file://")
            && refused.stderr.contains("tree entry `.git` is refused"),
        "{}",
        refused.stderr
    );
    snapshot!("export_dot_git", refused.transcript());
}
