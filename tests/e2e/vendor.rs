//! `eka vendor [DIR] [--check]` and `eka verify --vendored DIR` over a set published to
//! a real git server: a three-atom graph is vendored, equals `git archive` of each atom
//! commit, passes `--check`, and every kind of drift fails the check naming the file;
//! re-vendoring after `eka remove` drops the atom directories; a directory eka did not
//! write is refused; a hostile tree is refused before anything is written.

use std::{
    collections::BTreeMap,
    fs,
    os::unix::fs::{PermissionsExt as _, symlink},
    path::Path,
};

use atom::lock::Lockfile;
use eka_test_support::Transport;

use crate::{
    common::{Run, Sandbox, snapshot},
    deps::{SetFixture, project},
    nix::{consumer, publish_set},
    nix_common::escaping_symlink,
};

/// One set on an HTTP server: `a` → `b` → `c`, where `c` holds an executable script
/// and a relative symlink.
fn three_atoms() -> SetFixture {
    let set = SetFixture::new(Transport::Http);
    set.repo.write("c/bin/run.sh", "#!/bin/sh\necho run\n");
    let script = set.repo.path().join("c/bin/run.sh");
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    symlink("data.txt", set.repo.path().join("c/link")).unwrap();
    set.atom("c", "1.0.0", "");
    let here = "[package.sets]\nhere = \"::\"\n[deps.from.here]\n";
    set.atom("b", "1.0.0", &format!("{here}c = \"^1\"\n"));
    set.atom("a", "1.0.0", &format!("{here}b = \"^1\"\n"));
    set.push();
    set
}

/// What a directory holds: relative path → (`file <mode> <bytes>`, `link <target>`
/// or `dir`).
fn listing(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            let kind = entry.file_type().unwrap();
            let shown = if kind.is_symlink() {
                format!("link {}", fs::read_link(&path).unwrap().display())
            } else if kind.is_dir() {
                walk(root, &path, out);
                "dir".to_owned()
            } else {
                let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
                let bytes = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
                format!("file {mode:o} {bytes:?}")
            };
            out.insert(relative, shown);
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// `git archive <commit>` of `repo`, extracted.
fn archived(repo: &Path, commit: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let tar = out.path().join("atom.tar");
    let status = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "tar.umask=022", "archive", "--output"])
        .arg(&tar)
        .arg(commit)
        .status()
        .unwrap();
    assert!(status.success());
    let tree = out.path().join("tree");
    fs::create_dir(&tree).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&tree)
        .status()
        .unwrap();
    assert!(status.success());
    out
}

/// Run `eka vendor --check` in the project and return its refusal's stderr.
fn check_fails(sandbox: &Sandbox) -> String {
    let run = sandbox.eka_in("app", &["vendor", "--check"]).refused();
    assert!(
        run.stderr.contains("does not match `atom.lock`"),
        "{}",
        run.stderr
    );
    run.stderr
}

#[test]
fn a_vendored_graph_matches_git_archive_and_every_drift_is_named() {
    let set = three_atoms();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox
        .eka_in("app", &["add", &format!("{}::a", set.url())])
        .success();
    let run = sandbox.eka_in("app", &["vendor"]).success();
    snapshot!("vendor_three_atoms", run.transcript());
    let vendor = sandbox.path("app/vendor");
    let record = fs::read_to_string(vendor.join("eka-vendor.toml")).unwrap();
    assert!(record.contains("\nversion = 1\n"), "{record}");
    let lock = Lockfile::read(sandbox.path("app/atom.lock")).unwrap();
    for atom in &lock.atoms {
        assert!(record.contains(&atom.commit.to_string()), "{record}");
        let archive = archived(set.repo.path(), &atom.commit.to_string());
        let expected = listing(&archive.path().join("tree"));
        assert_eq!(listing(&vendor.join(atom.label.as_str())), expected);
    }
    let c = listing(&vendor.join("c"));
    assert_eq!(c["bin/run.sh"], "file 755 \"#!/bin/sh\\necho run\\n\"");
    assert_eq!(c["link"], "link data.txt");
    assert_eq!(c["data.txt"], "file 644 \"1.0.0\"");

    let run = sandbox.eka_in("app", &["vendor", "--check"]).success();
    assert!(
        run.stderr.contains("3 atoms in `vendor` match"),
        "{}",
        run.stderr
    );
    sandbox
        .eka_in("app", &["verify", "--vendored", "vendor"])
        .success();

    // Each drift fails the check naming the file; `eka vendor` writes it back.
    type Tamper = fn(&Path);
    let cases: [(Tamper, &str); 7] = [
        (
            |v| fs::write(v.join("c/data.txt"), "2.0.0").unwrap(),
            "`c/data.txt` was edited",
        ),
        (
            |v| fs::write(v.join("b/new.txt"), "x").unwrap(),
            "`b/new.txt` was added",
        ),
        (
            |v| fs::remove_file(v.join("a/data.txt")).unwrap(),
            "`a/data.txt` was removed",
        ),
        (
            |v| {
                let script = v.join("c/bin/run.sh");
                fs::set_permissions(script, fs::Permissions::from_mode(0o644)).unwrap();
            },
            "`c/bin/run.sh` has mode 0644, the atom has 0755",
        ),
        (
            |v| {
                fs::remove_file(v.join("c/link")).unwrap();
                symlink("bin", v.join("c/link")).unwrap();
            },
            "symlink `c/link` points to `bin`, the atom's to `data.txt`",
        ),
        (
            |v| fs::remove_dir_all(v.join("b")).unwrap(),
            "atom `b` is missing: there is no `b/`",
        ),
        (
            |v| fs::create_dir(v.join("zzz")).unwrap(),
            "`zzz/` is not a locked atom",
        ),
    ];
    for (tamper, expected) in cases {
        tamper(&vendor);
        let stderr = check_fails(&sandbox);
        assert!(stderr.contains(expected), "{expected}\n{stderr}");
        let run = sandbox
            .eka_in("app", &["verify", "--vendored", "vendor"])
            .refused();
        assert!(run.stderr.contains(expected), "{}", run.stderr);
        sandbox.eka_in("app", &["vendor"]).success();
        sandbox.eka_in("app", &["vendor", "--check"]).success();
    }

    // A stale record; then the edited file's drift, as a whole transcript.
    let record_path = vendor.join("eka-vendor.toml");
    fs::write(&record_path, record.replace("1.0.0", "1.0.1")).unwrap();
    assert!(check_fails(&sandbox).contains("`eka-vendor.toml` does not match `atom.lock`"));
    sandbox.eka_in("app", &["vendor"]).success();
    fs::write(vendor.join("c/data.txt"), "edited").unwrap();
    let run = sandbox.eka_in("app", &["vendor", "--check"]).refused();
    snapshot!("vendor_check_edited", run.transcript());
    // Offline, the drift is named from the cache.
    let run = sandbox
        .eka_in("app", &["--offline", "vendor", "--check"])
        .refused();
    assert!(
        run.stderr.contains("`c/data.txt` was edited"),
        "{}",
        run.stderr
    );
    let json = sandbox
        .eka_in("app", &["vendor", "--check", "--json"])
        .refused();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["schema"], 1);
    assert_eq!(value["ok"], false);
    assert_eq!(value["drift"][0]["kind"], "edited");
    assert_eq!(value["drift"][0]["path"], "c/data.txt");

    sandbox.eka_in("app", &["--offline", "vendor"]).success();
    sandbox.eka_in("app", &["vendor", "--check"]).success();

    // Removing the dependency empties the vendor directory on the next vendor.
    sandbox.eka_in("app", &["remove", "a"]).success();
    let run = sandbox.eka_in("app", &["vendor"]).success();
    assert!(run.stderr.contains("Removed `a/`"), "{}", run.stderr);
    let names: Vec<String> = fs::read_dir(&vendor)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["eka-vendor.toml"]);
    sandbox.eka_in("app", &["vendor", "--check"]).success();
}

#[test]
fn a_directory_eka_did_not_write_is_refused_and_left_alone() {
    let set = publish_set(&[]);
    let app = set.atoms_only_consumer();
    fs::create_dir(app.path().join("vendor")).unwrap();
    fs::write(app.path().join("vendor/mine.txt"), "mine").unwrap();
    let sandbox = Sandbox::new();
    let run = sandbox.eka_at(app.path(), &["vendor"]).refused();
    assert!(
        run.stderr.contains("exists and is not a vendor directory")
            && run.stderr.contains("hint: "),
        "{}",
        run.stderr
    );
    assert_eq!(
        listing(&app.path().join("vendor"))
            .into_keys()
            .collect::<Vec<_>>(),
        ["mine.txt"]
    );
    let run = sandbox
        .eka_at(app.path(), &["vendor", "--check", "elsewhere"])
        .refused();
    assert!(
        run.stderr.contains("there is no vendor directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_hostile_tree_is_refused_before_anything_is_written() {
    let set = publish_set(&[]);
    let output = tempfile::tempdir().unwrap();
    let dir = output.path().join("vendor");
    let dir_arg = dir.to_str().unwrap();
    let clean = set.atoms_only_consumer();
    Sandbox::new()
        .eka_at(clean.path(), &["vendor", dir_arg])
        .success();
    let before = listing(&dir);
    assert!(before.contains_key("top/data.txt"), "{before:?}");

    let moved = set.force_move_top_adding(escaping_symlink);
    let hostile = consumer(&set.url(), &set.lock_with_top_at(&moved));
    let run: Run = Sandbox::new()
        .eka_at(hostile.path(), &["vendor", dir_arg])
        .refused();
    assert!(
        run.stderr.contains("atom `top@1.0.0` from mirror `file://")
            && run.stderr.contains("tree entry `escape` is refused"),
        "{}",
        run.stderr
    );
    assert_eq!(listing(&dir), before);
    let siblings: Vec<String> = fs::read_dir(output.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(siblings, ["vendor"]);
    snapshot!("vendor_hostile_tree", run.transcript());
}
