//! `eka add`, `resolve`, `update`, `remove`, `tree`, `list`, `show` against real remotes.
//!
//! Published atoms are made with the store primitives (`publish_fixture`), not with
//! `eka publish`, so these tests only depend on the resolution side.

use std::process::Command;

use eka_test_support::{Remote, TestRepo, Transport};

use crate::common::{Sandbox, isolate, snapshot};

/// Publish the atom at `path` of `repo`'s `HEAD` as `label` `version` into `repo`'s own
/// refs (push them with [`SetFixture::push`]); returns the atom commit id.
pub(crate) fn publish_fixture(repo: &TestRepo, path: &str, label: &str, version: &str) -> String {
    let head = gix::ObjectId::from_hex(repo.head().trim().as_bytes()).unwrap();
    let tree =
        gix::ObjectId::from_hex(repo.rev_parse(&format!("HEAD:{path}")).trim().as_bytes()).unwrap();
    let root_hex = repo.run(["rev-list", "--max-parents=0", "HEAD"]);
    let root = gix::ObjectId::from_hex(root_hex.trim().as_bytes()).unwrap();
    let git = gix::open(repo.path()).unwrap();
    let content = verify::tree::hash_tree(&git, tree, &verify::tree::Options::default())
        .unwrap()
        .hash
        .to_string();
    let version = semver::Version::parse(version).unwrap();
    let commit =
        atom::store::AtomCommit::new(tree, root, label, &version, head, path, &content).unwrap();
    let id = commit.write(&git).unwrap().to_string();
    let manifest = repo.rev_parse(&format!("HEAD:{path}/atom.toml"));
    repo.run([
        "update-ref",
        &format!("refs/eka/atoms/{label}/{version}"),
        id.as_str(),
    ]);
    repo.run([
        "update-ref",
        &format!("refs/eka/meta/{label}/{version}/manifest"),
        manifest.trim(),
    ]);
    repo.run([
        "update-ref",
        &format!("refs/eka/meta/{label}/{version}/origin"),
        head.to_string().as_str(),
    ]);
    id
}

/// A set's source repository and a remote it is published to.
pub(crate) struct SetFixture {
    pub(crate) repo: TestRepo,
    pub(crate) remote: Remote,
}

impl SetFixture {
    pub(crate) fn new(transport: Transport) -> Self {
        let repo = TestRepo::init();
        repo.write("ekala.toml", "[set]\npackages = []\n");
        // Two fixtures must not share a root commit (that would make them one set).
        // The content is a per-test counter, not a temporary path, so set roots (and with
        // them every message that orders atoms by set) are the same on every run.
        thread_local!(static FIXTURES: std::cell::Cell<u32> = const { std::cell::Cell::new(0) });
        let index = FIXTURES.with(|count| {
            count.set(count.get() + 1);
            count.get()
        });
        repo.write("README", format!("fixture set {index}\n"));
        repo.commit("root");
        let remote = Remote::start(transport);
        remote
            .repo()
            .run(["config", "uploadpack.allowFilter", "true"]);
        SetFixture { repo, remote }
    }

    pub(crate) fn url(&self) -> String {
        self.remote.url().to_owned()
    }

    /// Write `label/atom.toml` at `version` with `extra` TOML, commit, publish locally.
    pub(crate) fn atom(&self, label: &str, version: &str, extra: &str) -> String {
        self.repo.write(
            &format!("{label}/atom.toml"),
            format!("[package]\nlabel = \"{label}\"\nversion = \"{version}\"\n{extra}"),
        );
        self.repo.write(&format!("{label}/data.txt"), version);
        self.repo.commit(&format!("{label} {version}"));
        publish_fixture(&self.repo, label, label, version)
    }

    /// Push every eka ref to the remote.
    pub(crate) fn push(&self) {
        self.push_to(&self.url());
    }

    pub(crate) fn push_to(&self, url: &str) {
        self.repo
            .run(["push", "--quiet", "--force", url, "refs/eka/*:refs/eka/*"]);
    }
}

pub(crate) fn project(sandbox: &Sandbox, extra: &str) {
    sandbox.write(
        "app/atom.toml",
        &format!("[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n{extra}"),
    );
}

pub(crate) fn lock_versions(sandbox: &Sandbox) -> Vec<(String, String)> {
    let lock = atom::lock::Lockfile::read(sandbox.path("app/atom.lock")).unwrap();
    let mut versions: Vec<(String, String)> = lock
        .atoms
        .iter()
        .map(|atom| (atom.label.to_string(), atom.version.to_string()))
        .collect();
    versions.sort();
    versions
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// Set B: `c` 1.0.0, 2.0.0, 2.1.0-beta.1. Set A: `b` 1.0.0, `b` 1.1.0 (→ B's `c ^2`),
/// `a` 1.0.0 (→ `::b ^1.1`), `d` 1.0.0 (→ B's `c ^1`).
fn two_sets(transport: Transport) -> (SetFixture, SetFixture) {
    let set_b = SetFixture::new(transport);
    set_b.atom("c", "1.0.0", "");
    set_b.atom("c", "2.0.0", "");
    set_b.atom("c", "2.1.0-beta.1", "");
    set_b.push();
    let set_a = SetFixture::new(transport);
    let other = format!("[package.sets]\nother = \"{}\"\n", set_b.url());
    set_a.atom("b", "1.0.0", "");
    set_a.atom(
        "b",
        "1.1.0",
        &format!("{other}[deps.from.other]\nc = \"^2\"\n"),
    );
    set_a.atom(
        "a",
        "1.0.0",
        "[package.sets]\nhere = \"::\"\n[deps.from.here]\nb = \"^1.1\"\n",
    );
    set_a.atom(
        "d",
        "1.0.0",
        &format!("{other}[deps.from.other]\nc = \"^1\"\n"),
    );
    set_a.push();
    (set_a, set_b)
}

#[test]
fn add_resolves_three_levels_across_two_sets_then_update_and_locked_drift() {
    let (set_a, _set_b) = two_sets(Transport::File);
    let sandbox = Sandbox::new();
    project(&sandbox, "# my comment\n");
    let run = sandbox
        .eka_in("app", &["add", &format!("{}::a", set_a.url())])
        .success();
    snapshot!("add_three_levels", run.transcript());
    let manifest = sandbox.read("app/atom.toml");
    assert!(manifest.contains("# my comment"), "{manifest}");
    assert!(manifest.contains("a = \"^1.0.0\""), "{manifest}");
    assert_eq!(
        lock_versions(&sandbox),
        pairs(&[("a", "1.0.0"), ("b", "1.1.0"), ("c", "2.0.0")])
    );
    let lock = atom::lock::Lockfile::read(sandbox.path("app/atom.lock")).unwrap();
    assert_eq!(
        lock.atoms
            .iter()
            .map(|atom| atom.set.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        2
    );

    let tree = sandbox.eka_in("app", &["tree"]).success();
    assert_eq!(
        tree.stdout,
        "app 0.1.0\n    a 1.0.0\n        b 1.1.0\n            c 2.0.0\n"
    );
    let json = sandbox.eka_in("app", &["tree", "--json"]).success();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["nodes"].as_array().unwrap().len(), 3);

    // Nothing to do: nothing written, `--locked` passes.
    let before = sandbox.read("app/atom.lock");
    let run = sandbox.eka_in("app", &["resolve"]).success();
    snapshot!("resolve_unchanged", run.transcript());
    sandbox.eka_in("app", &["--locked", "resolve"]).success();
    assert_eq!(sandbox.read("app/atom.lock"), before);

    // A new version: `update --locked` refuses, `update` moves.
    set_a.atom("b", "1.2.0", "");
    set_a.push();
    // The would-be changes, then the refusal naming `--locked`.
    let run = sandbox.eka_in("app", &["--locked", "update"]).refused();
    snapshot!("update_locked_refused", run.transcript());
    assert_eq!(sandbox.read("app/atom.lock"), before);
    let run = sandbox.eka_in("app", &["update"]).success();
    snapshot!("update_moves_and_removes", run.transcript());
    assert_eq!(
        lock_versions(&sandbox),
        pairs(&[("a", "1.0.0"), ("b", "1.2.0")])
    );

    // Remove drops the whole closure.
    sandbox.eka_in("app", &["remove", "a"]).success();
    assert!(lock_versions(&sandbox).is_empty());
    assert!(!sandbox.read("app/atom.toml").contains("a = "));
}

#[test]
fn add_works_over_every_transport_and_uri_form() {
    for transport in Transport::ALL {
        let (set_a, set_b) = two_sets(transport);
        let sandbox = Sandbox::new();
        project(&sandbox, "");
        sandbox
            .eka_in("app", &["add", &format!("{}::a@^1", set_a.url())])
            .success();
        // The set is now declared by name; add through the name.
        let manifest = sandbox.read("app/atom.toml");
        assert!(
            manifest.contains("[package.sets]"),
            "{transport}: {manifest}"
        );
        let name = manifest
            .lines()
            .find(|line| line.contains(&set_a.url()))
            .and_then(|line| line.split(" =").next())
            .unwrap()
            .to_owned();
        sandbox
            .eka_in("app", &["add", &format!("{name}::b@~1.1")])
            .success();
        assert_eq!(
            lock_versions(&sandbox),
            pairs(&[("a", "1.0.0"), ("b", "1.1.0"), ("c", "2.0.0")]),
            "{transport}"
        );
        // A pre-release is chosen only when asked for.
        sandbox
            .eka_in(
                "app",
                &["add", &format!("{}::c@>=2.1.0-beta.1", set_b.url())],
            )
            .refused();
        let list = sandbox.eka(&["list", &set_b.url()]).success();
        assert_eq!(list.stdout, "c 1.0.0, 2.0.0, 2.1.0-beta.1\n", "{transport}");
        let show = sandbox
            .eka(&["show", "--json", &format!("{}::b@^1.1", set_a.url())])
            .success();
        let value: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
        assert_eq!(value["atoms"][0]["versions"].as_array().unwrap().len(), 1);
    }
}

#[test]
fn prereleases_are_picked_only_when_required() {
    let (_set_a, set_b) = two_sets(Transport::File);
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox
        .eka_in(
            "app",
            &["add", &format!("{}::c@>=2.1.0-beta.1", set_b.url())],
        )
        .success();
    assert_eq!(lock_versions(&sandbox), pairs(&[("c", "2.1.0-beta.1")]));
}

#[test]
fn a_conflict_is_explained_and_nothing_is_written() {
    // The explanation lists atoms by label and the fixtures' set roots are the same on
    // every run (see `SetFixture::new`), so the message is stable.
    let (set_a, _set_b) = two_sets(Transport::File);
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    let before = sandbox.read("app/atom.toml");
    let run = sandbox
        .eka_in(
            "app",
            &[
                "add",
                &format!("{}::a", set_a.url()),
                &format!("{}::d", set_a.url()),
            ],
        )
        .refused();
    assert_eq!(sandbox.read("app/atom.toml"), before);
    assert!(!sandbox.path("app/atom.lock").exists());
    let stderr = run.stderr.replace(&set_a.url(), "<set-a>");
    insta::assert_snapshot!(stderr);
}

#[test]
fn a_diamond_locks_one_version() {
    let set = SetFixture::new(Transport::File);
    set.atom("base", "1.0.0", "");
    set.atom("base", "1.5.0", "");
    let here = "[package.sets]\nhere = \"::\"\n[deps.from.here]\n";
    set.atom("left", "1.0.0", &format!("{here}base = \"^1.0\"\n"));
    set.atom("right", "1.0.0", &format!("{here}base = \">=1.2, <2\"\n"));
    set.push();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox
        .eka_in(
            "app",
            &[
                "add",
                &format!("{}::left", set.url()),
                &format!("{}::right", set.url()),
            ],
        )
        .success();
    assert_eq!(
        lock_versions(&sandbox),
        pairs(&[("base", "1.5.0"), ("left", "1.0.0"), ("right", "1.0.0")])
    );
    let tree = sandbox.eka_in("app", &["tree"]).success();
    assert_eq!(
        tree.stdout.matches("base 1.5.0").count(),
        2,
        "{}",
        tree.stdout
    );
}

#[test]
fn offline_uses_a_warm_cache_and_names_what_a_cold_one_lacks() {
    let (set_a, _set_b) = two_sets(Transport::File);
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox
        .eka_in("app", &["add", &format!("{}::a", set_a.url())])
        .success();
    let lock = sandbox.read("app/atom.lock");
    std::fs::remove_file(sandbox.path("app/atom.lock")).unwrap();
    sandbox.eka_in("app", &["--offline", "resolve"]).success();
    assert_eq!(sandbox.read("app/atom.lock"), lock);
    sandbox.eka_in("app", &["--frozen", "resolve"]).success();

    let cold = Sandbox::new();
    project(&cold, "");
    let run = cold
        .eka_in("app", &["--offline", "add", &format!("{}::a", set_a.url())])
        .refused();
    snapshot!("offline_cold_cache", run.transcript());
}

#[test]
fn a_lying_mirror_is_refused_and_a_dead_one_skipped() {
    let set = SetFixture::new(Transport::File);
    set.atom("a", "1.0.0", "");
    set.push();
    let liar = Remote::start(Transport::File);
    let other = SetFixture::new(Transport::File);
    other.atom("a", "1.0.0", "");
    other.push_to(liar.url());

    let sandbox = Sandbox::new();
    project(
        &sandbox,
        &format!(
            "[package.sets]\nmain = [\"{}\", \"{}\"]\n[deps.from.main]\na = \"^1\"\n",
            set.url(),
            liar.url()
        ),
    );
    let run = sandbox.eka_in("app", &["resolve"]).refused();
    assert!(run.stderr.contains("possible tampering"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&set.url()) && run.stderr.contains(liar.url()),
        "{}",
        run.stderr
    );

    let dead = "file:///nonexistent/eka/dead.git";
    project(
        &sandbox,
        &format!(
            "[package.sets]\nmain = [\"{dead}\", \"{}\"]\n[deps.from.main]\na = \"^1\"\n",
            set.url()
        ),
    );
    let run = sandbox.eka_in("app", &["resolve"]).success();
    assert!(
        run.stderr.contains("warning: skipped mirror") && run.stderr.contains(dead),
        "{}",
        run.stderr
    );
    assert_eq!(lock_versions(&sandbox), pairs(&[("a", "1.0.0")]));
}

#[test]
fn concurrent_adds_all_land_in_the_lock() {
    const PROCESSES: usize = 8;
    const ADDS: usize = 5;
    let set = SetFixture::new(Transport::File);
    for n in 0..PROCESSES * ADDS {
        set.atom(&format!("atom{n}"), "1.0.0", "");
    }
    set.push();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    // Warm the cache index directory once so processes race on the project only.
    sandbox.eka_in("app", &["resolve"]).success();
    let url = set.url();
    let children: Vec<_> = (0..PROCESSES)
        .map(|process| {
            let url = url.clone();
            let mut command = Command::new(env!("CARGO_BIN_EXE_eka"));
            isolate(&mut command, sandbox.dir.path());
            let script: Vec<String> = (0..ADDS)
                .map(|add| format!("{url}::atom{}", process * ADDS + add))
                .collect();
            (command, script)
        })
        .map(|(mut command, script)| {
            std::thread::spawn({
                let dir = sandbox.path("app");
                move || {
                    for uri in script {
                        let status = command
                            .current_dir(&dir)
                            .args(["add", uri.as_str()])
                            .status()
                            .unwrap();
                        assert!(status.success(), "{uri}");
                        command = Command::new(env!("CARGO_BIN_EXE_eka"));
                        isolate(&mut command, dir.parent().unwrap().parent().unwrap());
                    }
                }
            })
        })
        .collect();
    for child in children {
        child.join().unwrap();
    }
    assert_eq!(lock_versions(&sandbox).len(), PROCESSES * ADDS);
    let manifest = atom::manifest::Manifest::read(sandbox.path("app/atom.toml")).unwrap();
    assert_eq!(
        manifest
            .deps
            .from
            .values()
            .map(|deps| deps.len())
            .sum::<usize>(),
        PROCESSES * ADDS
    );
}

#[test]
fn an_alias_from_the_project_config_is_expanded_before_anything_is_written() {
    let (set_a, _set_b) = two_sets(Transport::File);
    let url = set_a.url();
    let (base, repo) = url.rsplit_once('/').unwrap();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    // `eka.toml` beside the project: `loc:` expands to the remotes' directory.
    sandbox.write("app/eka.toml", &format!("[aliases]\nloc = \"{base}/\"\n"));
    sandbox
        .eka_in("app", &["add", &format!("loc:{repo}::a@^1")])
        .success();
    let manifest = sandbox.read("app/atom.toml");
    assert!(
        manifest.contains(&format!("\"{url}\"")),
        "the expanded URL is written: {manifest}"
    );
    assert!(
        !manifest.contains("loc:"),
        "no alias in the manifest: {manifest}"
    );
    assert_eq!(
        lock_versions(&sandbox),
        pairs(&[("a", "1.0.0"), ("b", "1.1.0"), ("c", "2.0.0")])
    );
    // An unknown alias is refused and nothing changes.
    let run = sandbox.eka_in("app", &["add", "nope:x.git::a"]).refused();
    snapshot!("unknown_alias", run.transcript());
    assert_eq!(sandbox.read("app/atom.toml"), manifest);
}
