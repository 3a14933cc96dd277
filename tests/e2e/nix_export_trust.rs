//! `eka export --flake` checks every atom commit before pinning its tree: over a
//! `file://` mirror whose atom ref was force-moved to a commit with the same headers
//! but a hostile tree, and with a lock whose content hash was edited, the export is
//! refused naming the atom, its version, the mirror and what is wrong, and no
//! `flake.lock` is written (an existing one is left alone).

use std::{fs, path::Path};

use atom::lock::{ContentHash, Lockfile};

use eka_test_support::{Remote, Transport};

use crate::{
    common::{Run, Sandbox, snapshot},
    nix::{Published, consumer, publish_set},
    nix_common::{dot_git, escaping_symlink},
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

/// A clean export into `output`, then a refused one: the clean `flake.lock` is left
/// byte for byte. Then the same export with a fresh cache into a fresh directory,
/// which fetches from the mirror: refused for the same reason, no `flake.lock`
/// written. Returns that second refusal.
fn refused_after_clean(set: &Published, lock: &Lockfile) -> Run {
    let sandbox = Sandbox::new();
    let output = tempfile::tempdir().unwrap();
    let clean = set.atoms_only_consumer();
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
    let lock = set.lock_with_top(|atom| {
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
    let moved = set.force_move_top(|_, commit| commit.content.clone_from(&header));
    let lock = set.lock_with_top_at(&moved);
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
    let moved = set.force_move_top_adding(escaping_symlink);
    let lock = set.lock_with_top_at(&moved);
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

#[test]
fn a_hostile_tree_served_over_http_is_refused_naming_that_mirror() {
    let remote = Remote::start(Transport::Http);
    let set = publish_set(&[remote.url().to_owned()]);
    let moved = set.force_move_top_adding(escaping_symlink);
    set.repo.run([
        "push",
        "--force",
        remote.path().to_str().unwrap(),
        "refs/eka/*:refs/eka/*",
    ]);
    let lock = set.lock_with_top_at(&moved);
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
    let moved = set.force_move_top_adding(dot_git);
    let lock = set.lock_with_top_at(&moved);
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
