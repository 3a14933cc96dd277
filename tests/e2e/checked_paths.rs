//! Every tree is checked wherever it is used. Before `eka add`, `resolve` or `update`
//! writes a lock, each atom it adds or changes is fetched with its tree and checked: a
//! tree holding `.git` or an escaping symlink, or an `atom.toml` that is not the
//! manifest the set published for that version, is refused with exit 1 and both files
//! are left byte for byte (also with `--dry-run`); `--offline` checks from the cache and
//! names a tree it lacks. `eka eval` fetches and checks every
//! locked atom before Nix runs (an edited content hash: exit 1, Nix never started) and
//! Nix reads the atoms from the cache's checked atom store, not from the mirrors (the
//! evaluation works with the mirror gone). `--override-atom` and `--override-input`
//! change what is evaluated, are warned about and never touch the lock; unknown names
//! are refused with the known ones in a hint.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use atom::lock::ContentHash;
use gix::objs::tree::Entry;

use eka_test_support::{Remote, TestRepo, Transport};

use crate::{
    common::{Run, Sandbox, atom_toml, snapshot},
    nix::{Nix, consumer, nix_inputs, publish_set},
    nix_common::{add_to_tree, atom_commit, dot_git, eka_with_nix, escaping_symlink},
};

/// A set (`base` and `evil`, 1.0.0) published over HTTP, and an empty consumer.
struct Fixture {
    remote: Remote,
    repo: TestRepo,
    sandbox: Sandbox,
}

impl Fixture {
    fn new() -> Fixture {
        let fixture = Fixture {
            remote: Remote::start(Transport::Http),
            repo: TestRepo::init(),
            sandbox: Sandbox::new(),
        };
        fixture
            .repo
            .write("ekala.toml", "[set]\npackages = [\"base\", \"evil\"]\n")
            .write("base/atom.toml", atom_toml("base", "1.0.0"))
            .write("evil/atom.toml", atom_toml("evil", "1.0.0"))
            .write("evil/data.txt", "data\n");
        fixture.repo.commit("base, evil 1.0.0");
        fixture.publish();
        fixture
            .sandbox
            .write("consumer/atom.toml", &atom_toml("consumer", "0.1.0"));
        fixture
    }

    fn publish(&self) {
        self.sandbox
            .eka_at(
                self.repo.path(),
                &["publish", "--all", "--remote", self.remote.url()],
            )
            .success();
    }

    fn eka(&self, args: &[&str]) -> Run {
        self.sandbox.eka_in("consumer", args)
    }

    /// The consumer's `atom.toml` and `atom.lock` (if any).
    fn files(&self) -> (String, Option<String>) {
        (
            self.sandbox.read("consumer/atom.toml"),
            fs::read_to_string(self.sandbox.path("consumer/atom.lock")).ok(),
        )
    }

    /// Force-move `refs/eka/atoms/<label>/<version>` (and its origin ref) in the remote
    /// to a copy of its atom commit, same headers, with `entry` added to its tree.
    fn force_move_adding(
        &self,
        label: &str,
        version: &str,
        entry: impl Fn(&gix::Repository) -> Entry,
    ) {
        let name = format!("refs/eka/atoms/{label}/{version}");
        let repo = gix::open(self.remote.path()).unwrap();
        let original = repo.find_reference(name.as_str()).unwrap().id().detach();
        let mut commit = atom_commit(&repo, original);
        add_to_tree(&repo, &mut commit, entry(&repo));
        let moved = commit.write(&repo).unwrap().to_string();
        let script = format!(
            "update {name} {moved}\nupdate refs/eka/meta/{label}/{version}/origin {moved}\n"
        );
        crate::common::git(
            self.remote.path(),
            &["update-ref", "--stdin"],
            Some(script.as_bytes()),
        );
    }

    /// Force-move `refs/eka/meta/<label>/<version>/manifest` to a blob holding `text`.
    fn forge_manifest(&self, label: &str, version: &str, text: &str) {
        let blob = crate::common::git(
            self.remote.path(),
            &["hash-object", "-w", "--stdin"],
            Some(text.as_bytes()),
        );
        crate::common::git(
            self.remote.path(),
            &[
                "update-ref",
                &format!("refs/eka/meta/{label}/{version}/manifest"),
                blob.trim(),
            ],
            None,
        );
    }

    /// `eka add <url>::<label>` (and with `--dry-run`) is refused naming the atom, its
    /// version and the mirror, and the consumer's files are untouched. Returns the run.
    #[track_caller]
    fn assert_add_refused(&self, label: &str, needles: &[&str]) -> Run {
        let before = self.files();
        let atom = format!("{}::{label}", self.remote.url());
        let dry = self.eka(&["add", "--dry-run", &atom]).refused();
        let run = self.eka(&["add", &atom]).refused();
        for run in [&dry, &run] {
            let named = format!("atom `{label}@1.0.0` from mirror `{}`", self.remote.url());
            for needle in [named.as_str()].iter().chain(needles) {
                assert!(run.stderr.contains(needle), "`{needle}` in\n{}", run.stderr);
            }
        }
        assert_eq!(self.files(), before);
        run
    }
}

#[test]
fn add_refuses_a_published_tree_holding_dot_git() {
    let fixture = Fixture::new();
    fixture.force_move_adding("evil", "1.0.0", dot_git);
    let run = fixture.assert_add_refused("evil", &["tree entry `.git` is refused"]);
    snapshot!("checked_add_dot_git", run.transcript());
}

#[test]
fn add_refuses_a_published_tree_with_an_escaping_symlink() {
    let fixture = Fixture::new();
    // A lock already holding `base`: it stays as it is.
    fixture
        .eka(&["add", &format!("{}::base", fixture.remote.url())])
        .success();
    fixture.force_move_adding("evil", "1.0.0", escaping_symlink);
    let run = fixture.assert_add_refused("evil", &["tree entry `escape` is refused"]);
    snapshot!("checked_add_escaping_symlink", run.transcript());
}

#[test]
fn add_refuses_a_published_manifest_that_is_not_the_trees_atom_toml() {
    let fixture = Fixture::new();
    let forged = format!("{}entry = \"default.nix\"\n", atom_toml("evil", "1.0.0"));
    fixture.forge_manifest("evil", "1.0.0", &forged);
    let run = fixture.assert_add_refused(
        "evil",
        &["is not the manifest published as `refs/eka/meta/evil/1.0.0/manifest`"],
    );
    snapshot!("checked_add_manifest", run.transcript());
}

#[test]
fn resolve_and_update_refuse_a_newly_published_hostile_version() {
    let fixture = Fixture::new();
    let url = fixture.remote.url().to_owned();
    fixture.eka(&["add", &format!("{url}::evil@^1")]).success();
    fixture
        .repo
        .write("evil/atom.toml", atom_toml("evil", "1.1.0"));
    fixture.repo.commit("evil 1.1.0");
    fixture.publish();
    fixture.force_move_adding("evil", "1.1.0", escaping_symlink);
    let before = fixture.files();
    let mut runs = Vec::new();
    for args in [
        &["update"][..],
        &["update", "evil"],
        &["update", "--dry-run"],
    ] {
        let run = fixture.eka(args).refused();
        assert!(
            run.stderr
                .contains(&format!("atom `evil@1.1.0` from mirror `{url}` is refused"))
                && run.stderr.contains("tree entry `escape` is refused"),
            "eka {args:?}:\n{}",
            run.stderr
        );
        assert_eq!(fixture.files(), before, "eka {args:?} wrote the files");
        runs.push(run);
    }
    // `resolve` keeps the locked 1.0.0 (still allowed): nothing new to check.
    fixture.eka(&["resolve"]).success();
    assert_eq!(fixture.files(), before);
    // A manifest requiring 1.1.0 makes `resolve` pick it: refused too.
    let (manifest, _) = fixture.files();
    fixture.sandbox.write(
        "consumer/atom.toml",
        &manifest.replace("evil = \"^1\"", "evil = \"^1.1\""),
    );
    let edited = fixture.files();
    let resolve = fixture.eka(&["resolve"]).refused();
    assert!(
        resolve
            .stderr
            .contains(&format!("atom `evil@1.1.0` from mirror `{url}` is refused")),
        "{}",
        resolve.stderr
    );
    assert_eq!(fixture.files(), edited);
    snapshot!("checked_update_hostile", runs.swap_remove(0).transcript());
}

#[test]
fn offline_checks_from_the_cache_and_names_a_tree_not_cached() {
    let fixture = Fixture::new();
    // A server that lets discovery fetch commits without their trees.
    fixture
        .remote
        .repo()
        .run(["config", "uploadpack.allowFilter", "true"]);
    let url = fixture.remote.url().to_owned();
    fixture.eka(&["add", &format!("{url}::evil@^1")]).success();
    fixture
        .repo
        .write("evil/atom.toml", atom_toml("evil", "1.1.0"));
    fixture.repo.commit("evil 1.1.0");
    fixture.publish();
    // Discovery alone (`eka show`) caches the 1.1.0 commit without its tree.
    fixture.eka(&["show", &format!("{url}::evil")]).success();
    let before = fixture.files();
    let offline = fixture.eka(&["--offline", "update"]).refused();
    assert!(
        offline
            .stderr
            .contains("of `evil` is not cached and could not be fetched (offline)")
            && offline
                .stderr
                .contains("hint: run again without `--offline` to fetch it from its mirrors"),
        "{}",
        offline.stderr
    );
    assert_eq!(fixture.files(), before);
    // Online, the tree is fetched and checked; then offline works from the cache.
    fixture.eka(&["update", "--dry-run"]).success();
    fixture.eka(&["--offline", "update"]).success();
    assert!(
        fixture
            .files()
            .1
            .is_some_and(|lock| lock.contains("version = \"1.1.0\"")),
        "{:?}",
        fixture.files()
    );
}

/// A directory holding a `nix-instantiate` that records each start in `started`, then
/// runs the real one.
fn recording_nix(dir: &Path) -> (PathBuf, PathBuf) {
    let real = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v nix-instantiate"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).unwrap();
    let started = dir.join("started");
    let script = bin.join("nix-instantiate");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\necho started >> '{}'\nexec '{}' \"$@\"\n",
            started.display(),
            real.trim()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    (bin, started)
}

/// Run eka on the atom at `dir` with Nix pointed at the private store and the
/// recording `nix-instantiate` first on `PATH`.
fn eka_nix(sandbox: &Sandbox, nix: &Nix, bin: &Path, dir: &Path, args: &[&str]) -> Run {
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = eka_with_nix(sandbox, nix, dir, args)
        .env("PATH", path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run::from_output(output)
}

fn starts(started: &Path) -> usize {
    fs::read_to_string(started)
        .map(|text| text.lines().count())
        .unwrap_or(0)
}

#[test]
fn nix_eval_refuses_an_edited_content_hash_before_nix_runs() {
    let set = publish_set(&[]);
    let edited = format!("blake3:{}", "0".repeat(64));
    let app = consumer(
        &set.url(),
        &set.lock_with_top(|atom| atom.content = ContentHash::parse(&edited).unwrap()),
    );
    let lock = fs::read(app.path().join("atom.lock")).unwrap();
    let tools = tempfile::tempdir().unwrap();
    let (bin, started) = recording_nix(tools.path());
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let refused = eka_nix(&sandbox, &nix, &bin, app.path(), &["eval", "data"]).refused();
    assert!(
        refused
            .stderr
            .contains("atom `top@1.0.0` from mirror `file://")
            && refused.stderr.contains(&edited),
        "{}",
        refused.stderr
    );
    assert_eq!(starts(&started), 0, "Nix ran on a refused atom");
    assert_eq!(fs::read(app.path().join("atom.lock")).unwrap(), lock);
    snapshot!("checked_eval_content_hash", refused.transcript());
    // The same lock, unedited, evaluates (through the recording `nix-instantiate`).
    let clean = set.atoms_only_consumer();
    let value = eka_nix(&sandbox, &nix, &bin, clean.path(), &["eval", "data"]).success();
    assert_eq!(value.stdout.trim(), "\"top data\\n\"");
    assert_eq!(starts(&started), 1);
}

#[test]
fn nix_eval_reads_the_checked_atom_store_not_the_mirror() {
    let set = publish_set(&[]);
    let app = set.atoms_only_consumer();
    let tools = tempfile::tempdir().unwrap();
    let (bin, _) = recording_nix(tools.path());
    let sandbox = Sandbox::new();
    let first = eka_nix(
        &sandbox,
        &Nix::new(),
        &bin,
        app.path(),
        &["eval", "greeting"],
    )
    .success();
    assert_eq!(first.stdout.trim(), "\"hello from mid via top\"");
    // The mirror is gone; a fresh Nix store, and Nix's fetcher cache emptied: only
    // eka's atom store holds the atoms.
    let mirror = set.repo.path().to_owned();
    fs::remove_dir_all(&mirror).unwrap();
    let _ = fs::remove_dir_all(sandbox.work().join("../cache/nix"));
    let again = eka_nix(
        &sandbox,
        &Nix::new(),
        &bin,
        app.path(),
        &["--offline", "eval", "greeting"],
    )
    .success();
    assert_eq!(again.stdout, first.stdout);
    // A fresh eka cache cannot fetch them: nothing is evaluated.
    let fresh = eka_nix(
        &Sandbox::new(),
        &Nix::new(),
        &bin,
        app.path(),
        &["eval", "n"],
    );
    assert_ne!(fresh.code, 0, "{}", fresh.stderr);
    assert!(
        fresh.stderr.contains("cannot fetch atom commits")
            || fresh.stderr.contains("is not cached"),
        "{}",
        fresh.stderr
    );
}

#[test]
fn nix_overrides_change_the_value_are_warned_about_and_leave_the_lock() {
    let set = publish_set(&[]);
    let inputs = nix_inputs();
    let lock = set.lock(inputs.locked());
    let app = consumer(&set.url(), &lock);
    let locked = fs::read(app.path().join("atom.lock")).unwrap();
    let manifest = fs::read(app.path().join("atom.toml")).unwrap();
    let local = tempfile::tempdir().unwrap();
    // A working copy of `top` with other data.
    let top = local.path().join("top");
    fs::create_dir_all(&top).unwrap();
    for file in ["atom.toml", "default.nix"] {
        fs::copy(set.repo.path().join("pkgs/top").join(file), top.join(file)).unwrap();
    }
    fs::write(top.join("data.txt"), "local data\n").unwrap();
    // A working copy of the `helper` input with another answer.
    let helper = local.path().join("helper");
    fs::create_dir_all(&helper).unwrap();
    fs::write(helper.join("lib.nix"), "{ answer = 7; }\n").unwrap();
    let tools = tempfile::tempdir().unwrap();
    let (bin, _) = recording_nix(tools.path());
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let eval = |args: &[&str]| eka_nix(&sandbox, &nix, &bin, app.path(), args);

    let plain = eval(&["eval", "data"]).success();
    assert_eq!(plain.stdout.trim(), "\"top data\\n\"");
    let top_override = format!("top={}", top.display());
    let data = eval(&["eval", "data", "--override-atom", &top_override]).success();
    assert_eq!(data.stdout.trim(), "\"local data\\n\"");
    assert!(
        data.stderr.contains(&format!(
            "warning: using atom `top` from `{}` (override; not locked)",
            top.display()
        )),
        "{}",
        data.stderr
    );
    // The rest of the graph still comes from the lock.
    let greeting = eval(&["eval", "greeting", "--override-atom", &top_override]).success();
    assert_eq!(greeting.stdout.trim(), "\"hello from mid via top\"");

    assert_eq!(eval(&["eval", "answer"]).success().stdout.trim(), "42");
    let helper_override = format!("helper={}", helper.display());
    let answer = eval(&["eval", "answer", "--override-input", &helper_override]).success();
    assert_eq!(answer.stdout.trim(), "7");
    assert!(
        answer
            .stderr
            .contains("warning: using Nix input `helper` from `"),
        "{}",
        answer.stderr
    );
    // A URL is locked anew the way the manifest says (`src` is a tarball).
    let tarball = local.path().join("other.tar.gz");
    fs::create_dir_all(local.path().join("pkg-2.0")).unwrap();
    fs::write(
        local.path().join("pkg-2.0/hello.txt"),
        "from another tarball\n",
    )
    .unwrap();
    let status = Command::new("tar")
        .arg("-C")
        .arg(local.path())
        .arg("-czf")
        .arg(&tarball)
        .arg("pkg-2.0")
        .status()
        .unwrap();
    assert!(status.success());
    let src_override = format!("src=file://{}", tarball.display());
    let tarball_value = eval(&["eval", "tarball", "--override-input", &src_override]).success();
    assert_eq!(tarball_value.stdout.trim(), "\"from another tarball\\n\"");
    assert_eq!(
        eval(&["eval", "tarball"]).success().stdout.trim(),
        "\"from a tarball\\n\""
    );
    assert_eq!(fs::read(app.path().join("atom.lock")).unwrap(), locked);
    assert_eq!(fs::read(app.path().join("atom.toml")).unwrap(), manifest);
}

#[test]
fn nix_unknown_override_names_are_refused_with_the_known_ones() {
    let set = publish_set(&[]);
    let inputs = nix_inputs();
    let lock = set.lock(vec![inputs.git.clone()]);
    let app = consumer(&set.url(), &lock);
    let tools = tempfile::tempdir().unwrap();
    let (bin, started) = recording_nix(tools.path());
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let atom = eka_nix(
        &sandbox,
        &nix,
        &bin,
        app.path(),
        &["eval", "--override-atom", "nope=."],
    )
    .refused();
    assert!(
        atom.stderr
            .contains("`--override-atom` names `nope`, which `atom.lock` does not lock")
            && atom
                .stderr
                .contains("hint: the lock has `base`, `mid`, `top`"),
        "{}",
        atom.stderr
    );
    let input = eka_nix(
        &sandbox,
        &nix,
        &bin,
        app.path(),
        &["eval", "--override-input", "nixpkgs=."],
    )
    .refused();
    assert!(
        input.stderr.contains("hint: the lock has `helper`"),
        "{}",
        input.stderr
    );
    assert_eq!(starts(&started), 0);
    snapshot!(
        "checked_unknown_overrides",
        format!("{}{}", atom.transcript(), input.transcript())
    );
}
