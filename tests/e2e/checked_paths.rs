//! Every tree is checked wherever it is used. Before `eka add`, `resolve` or `update`
//! writes a lock, each atom it adds or changes is fetched with its tree and checked: a
//! tree holding `.git` or an escaping symlink, or an `atom.toml` that is not the
//! manifest the set published for that version, is refused with exit 1 and both files
//! are left byte for byte (also with `--dry-run`).

use std::fs;

use atom::store::AtomCommit;
use gix::objs::tree::{Entry, EntryKind};

use eka_test_support::{Remote, TestRepo, Transport};

use crate::common::{Run, Sandbox, snapshot};

fn atom_toml(label: &str, version: &str) -> String {
    format!("[package]\nlabel = \"{label}\"\nversion = \"{version}\"\n")
}

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
        let output = self
            .sandbox
            .command()
            .current_dir(self.repo.path())
            .args(["publish", "--all", "--remote", self.remote.url()])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
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
        let object = repo.find_object(original).unwrap().detach();
        let parsed = gix::objs::CommitRef::from_bytes(&object.data, repo.object_hash()).unwrap();
        let mut commit = AtomCommit::decode(&parsed).unwrap();
        let mut tree: gix::objs::Tree = repo
            .find_tree(commit.tree)
            .unwrap()
            .decode()
            .unwrap()
            .into();
        tree.entries.push(entry(&repo));
        tree.entries.sort();
        commit.tree = repo.write_object(&tree).unwrap().detach();
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

/// A `.git` directory holding a `config` that runs a command on the next `git status`.
fn dot_git(repo: &gix::Repository) -> Entry {
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
fn escaping_symlink(repo: &gix::Repository) -> Entry {
    Entry {
        mode: EntryKind::Link.into(),
        filename: "escape".into(),
        oid: repo.write_blob("../../../etc/passwd").unwrap().detach(),
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
