//! `eka mirror`: the air-gap flow (a set published to an origin, mirrored from a
//! consumer's lock to a fresh repository over smart HTTP, then a second consumer that
//! knows only the mirror adds, resolves and verifies from it alone), `--all-versions`,
//! immutability of the destination's refs, and re-running as a no-op.

use eka_test_support::{Git, Remote, TestRepo, Transport};

use crate::common::{Run, Sandbox, atom_toml, atom_toml_with, git, snapshot};

const HERE: &str = "[package.sets]\nhere = \"::\"\n";

/// A set published to `origin`: `base` 0.1.0, then `base` 0.2.0, `mid` 1.0.0
/// (→ `base ^0.2`) and `app` 1.0.0 (→ `mid ^1`); a consumer locked on `app`.
struct Fixture {
    sandbox: Sandbox,
    origin: Remote,
}

fn publish(sandbox: &Sandbox, repo: &TestRepo, url: &str) {
    sandbox
        .eka_at(repo.path(), &["publish", "--all", "--remote", url])
        .success();
}

impl Fixture {
    fn new() -> Fixture {
        let sandbox = Sandbox::new();
        let origin = Remote::start(Transport::Git);
        let url = origin.url().to_owned();
        let repo = TestRepo::init();
        repo.write("ekala.toml", "[set]\npackages = [\"base\"]\n")
            .write("base/atom.toml", atom_toml("base", "0.1.0"))
            .write("base/data.txt", "old data\n");
        repo.commit("base 0.1.0");
        publish(&sandbox, &repo, &url);
        repo.write(
            "ekala.toml",
            "[set]\npackages = [\"base\", \"mid\", \"app\"]\n",
        )
        .write("base/atom.toml", atom_toml("base", "0.2.0"))
        .write("base/data.txt", "data\n")
        .write(
            "mid/atom.toml",
            atom_toml_with(
                "mid",
                "1.0.0",
                &format!("{HERE}[deps.from.here]\nbase = \"^0.2\"\n"),
            ),
        )
        .write(
            "app/atom.toml",
            atom_toml_with(
                "app",
                "1.0.0",
                &format!("{HERE}[deps.from.here]\nmid = \"^1\"\n"),
            ),
        );
        repo.commit("base 0.2.0, mid, app");
        publish(&sandbox, &repo, &url);

        sandbox.write("consumer/atom.toml", &atom_toml("consumer", "0.1.0"));
        sandbox
            .eka_in("consumer", &["add", &format!("{url}::app")])
            .success();
        Fixture { sandbox, origin }
    }

    /// `eka args…` in the consumer.
    fn consumer(&self, args: &[&str]) -> Run {
        self.sandbox.eka_in("consumer", args)
    }
}

/// `refs/eka/*` of `url`, sorted, as `(name, id)`.
fn eka_refs(url: &str) -> Vec<(String, String)> {
    let mut refs: Vec<_> = Git::new()
        .ls_remote(url)
        .into_iter()
        .filter(|(name, _)| name.starts_with("refs/eka/"))
        .collect();
    refs.sort();
    refs
}

/// The lock's atoms as `(label, version, set, id, commit, content)`, without mirrors.
fn pins(lock: &str) -> Vec<(String, String, String, String, String, String)> {
    let lock = atom::lock::Lockfile::from_str(lock, "atom.lock").unwrap();
    let mut pins: Vec<_> = lock
        .atoms
        .iter()
        .map(|atom| {
            (
                atom.label.to_string(),
                atom.version.to_string(),
                atom.set.to_string(),
                atom.id.to_string(),
                atom.commit.to_string(),
                atom.content.to_string(),
            )
        })
        .collect();
    pins.sort();
    pins
}

#[test]
fn air_gap_flow_from_a_mirror_alone() {
    let fixture = Fixture::new();
    let mirror = Remote::start(Transport::Http);
    let url = mirror.url().to_owned();

    let run = fixture.consumer(&["mirror", &url]).success();
    snapshot!("mirror_pushed", run.transcript());
    // Every locked version's atom, manifest and origin refs, as the origin has them.
    let origin_refs = eka_refs(fixture.origin.url());
    let mirrored = eka_refs(&url);
    let names: Vec<&str> = mirrored.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "refs/eka/atoms/app/1.0.0",
            "refs/eka/atoms/base/0.2.0",
            "refs/eka/atoms/mid/1.0.0",
            "refs/eka/meta/app/1.0.0/manifest",
            "refs/eka/meta/app/1.0.0/origin",
            "refs/eka/meta/base/0.2.0/manifest",
            "refs/eka/meta/base/0.2.0/origin",
            "refs/eka/meta/mid/1.0.0/manifest",
            "refs/eka/meta/mid/1.0.0/origin",
        ]
    );
    for pair in &mirrored {
        assert!(origin_refs.contains(pair), "{pair:?} not on the origin");
    }

    // Again: nothing to push.
    let run = fixture.consumer(&["--json", "mirror", &url]).success();
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["schema"], 1);
    assert_eq!(value["pushed"].as_array().unwrap().len(), 0, "{value}");
    assert_eq!(value["skipped"].as_array().unwrap().len(), 9, "{value}");
    snapshot!("mirror_again_json", run.transcript());
    assert_eq!(eka_refs(&url), mirrored);

    // The origin goes away; a second consumer knows only the mirror.
    let original_lock = fixture.sandbox.read("consumer/atom.lock");
    let manifest = fixture.sandbox.read("consumer/atom.toml");
    let origin_url = fixture.origin.url().to_owned();
    assert!(manifest.contains(&origin_url), "{manifest}");
    drop(fixture.origin);
    let sandbox = fixture.sandbox;
    sandbox.write(
        "second/atom.toml",
        &atom_toml_with(
            "second",
            "0.1.0",
            &format!("[package.sets]\nlocal = \"{url}\"\n"),
        ),
    );
    let cache = tempfile::tempdir().unwrap();
    let second = |args: &[&str]| {
        let output = sandbox
            .command()
            .current_dir(sandbox.path("second"))
            .env("EKA_CACHE_DIR", cache.path())
            .args(args)
            .output()
            .unwrap();
        Run::from_output(output)
    };
    second(&["add", "local::app@^1"]).success();
    let lock = sandbox.read("second/atom.lock");
    assert!(!lock.contains(&origin_url), "{lock}");
    assert!(lock.contains(&url), "{lock}");
    assert_eq!(pins(&lock), pins(&original_lock));
    second(&["resolve"]).success();
    assert_eq!(sandbox.read("second/atom.lock"), lock);
    second(&["verify"]).success();
    second(&["--offline", "verify"]).success();

    // The first consumer's project, its set pointed at the mirror: the pins stay.
    sandbox.write("third/atom.toml", &manifest.replace(&origin_url, &url));
    sandbox.write("third/atom.lock", &original_lock);
    let output = sandbox
        .command()
        .current_dir(sandbox.path("third"))
        .env("EKA_CACHE_DIR", cache.path())
        .args(["resolve"])
        .output()
        .unwrap();
    Run::from_output(output).success();
    let lock = sandbox.read("third/atom.lock");
    assert!(!lock.contains(&origin_url), "{lock}");
    assert_eq!(pins(&lock), pins(&original_lock));
}

#[test]
fn all_versions_pushes_unlocked_versions() {
    let fixture = Fixture::new();
    let mirror = Remote::start(Transport::File);
    let url = mirror.url().to_owned();
    // An attestation of a mirrored version on the origin goes along.
    let blob = git(
        fixture.origin.path(),
        &["hash-object", "-w", "--stdin"],
        Some(b"attested\n"),
    );
    git(
        fixture.origin.path(),
        &[
            "update-ref",
            "refs/eka/attest/base/0.1.0/review",
            blob.trim(),
        ],
        None,
    );
    let run = fixture
        .consumer(&["mirror", &url, "--all-versions", "base"])
        .success();
    snapshot!("mirror_all_versions", run.transcript());
    let mirrored = eka_refs(&url);
    let origin_refs = eka_refs(fixture.origin.url());
    for name in [
        "refs/eka/atoms/base/0.1.0",
        "refs/eka/meta/base/0.1.0/manifest",
        "refs/eka/meta/base/0.1.0/origin",
        "refs/eka/atoms/base/0.2.0",
        "refs/eka/atoms/app/1.0.0",
        "refs/eka/attest/base/0.1.0/review",
    ] {
        let found = mirrored.iter().find(|(ref_name, _)| ref_name == name);
        let expected = origin_refs.iter().find(|(ref_name, _)| ref_name == name);
        assert!(found.is_some(), "{name} not mirrored: {mirrored:?}");
        assert_eq!(found, expected);
    }
    assert_eq!(mirrored.len(), 13, "{mirrored:?}");

    let run = fixture
        .consumer(&["mirror", &url, "--all-versions", "nope"])
        .refused();
    assert!(
        run.stderr.contains("`nope` is not a locked atom"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_moved_ref_on_the_destination_refuses_everything() {
    let fixture = Fixture::new();
    let mirror = Remote::start(Transport::Http);
    let url = mirror.url().to_owned();
    // The destination already holds another commit under a locked version's ref.
    let tree = git(
        mirror.path(),
        &["hash-object", "-t", "tree", "-w", "--stdin"],
        None,
    );
    let other = git(
        mirror.path(),
        &["commit-tree", tree.trim(), "-m", "not mid"],
        None,
    );
    git(
        mirror.path(),
        &["update-ref", "refs/eka/atoms/mid/1.0.0", other.trim()],
        None,
    );
    let before = eka_refs(&url);

    let run = fixture.consumer(&["mirror", &url]).refused();
    snapshot!("mirror_moved_ref_refused", run.transcript());
    assert!(
        run.stderr.contains("`refs/eka/atoms/mid/1.0.0`"),
        "{}",
        run.stderr
    );
    assert_eq!(eka_refs(&url), before, "nothing was pushed");
}

#[test]
fn an_unreachable_mirror_exits_2() {
    let fixture = Fixture::new();
    let run = fixture.consumer(&["mirror", "http://127.0.0.1:9/nothing.git"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot reach the mirror"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_atom_failing_its_check_is_never_pushed() {
    let fixture = Fixture::new();
    let mirror = Remote::start(Transport::File);
    let url = mirror.url().to_owned();
    // The lock pins `base` with `mid`'s content hash: its tree no longer matches.
    let lock_text = fixture.sandbox.read("consumer/atom.lock");
    let lock = atom::lock::Lockfile::from_str(&lock_text, "atom.lock").unwrap();
    let content_of = |label: &str| {
        lock.atoms
            .iter()
            .find(|atom| atom.label.as_str() == label)
            .unwrap()
            .content
            .to_string()
    };
    let edited = lock_text.replacen(&content_of("base"), &content_of("mid"), 1);
    assert_ne!(edited, lock_text);
    fixture.sandbox.write("consumer/atom.lock", &edited);

    let run = fixture.consumer(&["mirror", &url]).refused();
    assert!(
        run.stderr.contains("atom `base@0.2.0` from") && run.stderr.contains("is refused"),
        "{}",
        run.stderr
    );
    assert_eq!(eka_refs(&url), Vec::new(), "nothing was pushed");
}
