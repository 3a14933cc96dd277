//! `eka publish`: a version is identified by its content (not by the commit it was cut
//! from), and every bad atom of a run is reported before anything is pushed.

use std::path::Path;

use eka_test_support::{Remote, TestRepo, Transport};

use crate::common::{Run, Sandbox, atom_toml, snapshot};

fn publish(dir: &Path, args: &[&str]) -> Run {
    let sandbox = Sandbox::new();
    let output = sandbox
        .command()
        .current_dir(dir)
        .arg("publish")
        .args(args)
        .output()
        .unwrap();
    Run::from_output(output)
}

/// The `refs/eka/…` names `git ls-remote` shows on `url`, sorted.
fn eka_ref_names(repo: &TestRepo, url: &str) -> Vec<String> {
    let mut names: Vec<String> = repo
        .git()
        .ls_remote(url)
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with("refs/eka/"))
        .collect();
    names.sort();
    names
}

#[test]
fn an_unchanged_atom_cut_from_a_later_commit_is_skipped() {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"hello\", \"world\"]\n")
        .write("hello/atom.toml", atom_toml("hello", "0.1.0"))
        .write("hello/main.sh", "echo hello\n")
        .write("world/atom.toml", atom_toml("world", "1.0.0"))
        .write("world/README", "world\n");
    repo.commit("two atoms");
    let remote = Remote::start(Transport::Http);
    let url = remote.url();
    publish(repo.path(), &["--all", "--remote", url]).success();
    let published = remote.repo().refs();

    // An unrelated commit: every atom is cut again with another origin header, so its
    // atom commit differs, but its content and manifest do not.
    repo.write("NOTES", "unrelated\n");
    repo.commit("unrelated change");
    let run = publish(repo.path(), &["--all", "--remote", url]).success();
    snapshot!("unchanged_after_unrelated_commit", run.transcript());
    assert!(run.stdout.contains("hello@0.1.0"), "{}", run.stdout);
    assert_eq!(remote.repo().refs(), published);
    // The reported commit is the one the remote has.
    let json = publish(repo.path(), &["--all", "--json", "--remote", url]).success();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["summary"]["skipped"], 2, "{value}");
    let remote_hello = remote
        .repo()
        .run(["rev-parse", "refs/eka/atoms/hello/0.1.0"]);
    assert_eq!(value["atoms"][0]["commit"], remote_hello.trim(), "{value}");

    // A changed file under the same version is refused, as is a changed manifest.
    repo.write("hello/main.sh", "echo changed\n");
    repo.commit("change hello without a bump");
    let run = publish(repo.path(), &["--all", "--remote", url]).refused();
    snapshot!("changed_content_refused", run.transcript());
    assert!(run.stderr.contains("Skipped world@1.0.0"), "{}", run.stderr);
    repo.write("hello/main.sh", "echo hello\n").write(
        "hello/atom.toml",
        format!("{}description = \"new\"\n", atom_toml("hello", "0.1.0")),
    );
    repo.commit("change hello's manifest without a bump");
    let run = publish(repo.path(), &["hello", "--remote", url]).refused();
    assert!(
        run.stderr
            .contains("`hello@0.1.0` is already published with other content"),
        "{}",
        run.stderr
    );
    assert_eq!(remote.repo().refs(), published);
}

/// A set of four atoms, two of them bad: `evil` holds a symlink escaping the atom,
/// `broken` has an invalid version.
fn two_bad_atoms() -> TestRepo {
    let repo = TestRepo::init();
    repo.write(
        "ekala.toml",
        "[set]\npackages = [\"good\", \"evil\", \"broken\", \"libs/fine\"]\n",
    )
    .write("good/atom.toml", atom_toml("good", "1.0.0"))
    .write("evil/atom.toml", atom_toml("evil", "0.1.0"))
    .write("broken/atom.toml", atom_toml("broken", "not-a-version"))
    .write("libs/fine/atom.toml", atom_toml("fine", "2.0.0"));
    std::os::unix::fs::symlink("../../outside", repo.path().join("evil/link")).unwrap();
    repo.commit("two good atoms, two bad");
    repo
}

#[test]
fn every_bad_atom_is_named_and_nothing_is_pushed() {
    let repo = two_bad_atoms();
    let remote = Remote::start(Transport::Http);
    let url = remote.url();

    let run = publish(repo.path(), &["--all", "--remote", url]).refused();
    snapshot!("two_bad_atoms", run.transcript());
    for named in [
        "directory `evil`",
        "out of the atom",
        "atom directory `broken`",
    ] {
        assert!(run.stderr.contains(named), "{named}: {}", run.stderr);
    }
    assert!(eka_ref_names(&repo, url).is_empty());

    let run = publish(repo.path(), &["--all", "--dry-run", "--remote", url]).refused();
    snapshot!("two_bad_atoms_dry_run", run.transcript());
    let run = publish(repo.path(), &["--all", "--json", "--remote", url]).refused();
    let value: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(value["summary"]["invalid"], 2, "{value}");
    assert_eq!(value["invalid"][0]["path"], "evil", "{value}");
    assert_eq!(value["invalid"][1]["path"], "broken", "{value}");
    assert!(eka_ref_names(&repo, url).is_empty());

    let run = publish(repo.path(), &["--all", "--keep-going", "--remote", url]).refused();
    snapshot!("two_bad_atoms_keep_going", run.transcript());
    assert_eq!(
        eka_ref_names(&repo, url),
        [
            "refs/eka/atoms/fine/2.0.0",
            "refs/eka/atoms/good/1.0.0",
            "refs/eka/meta/fine/2.0.0/manifest",
            "refs/eka/meta/fine/2.0.0/origin",
            "refs/eka/meta/good/1.0.0/manifest",
            "refs/eka/meta/good/1.0.0/origin",
        ]
    );
}

#[test]
fn a_label_clash_and_a_missing_manifest_are_both_named() {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"a\", \"b\", \"c\"]\n")
        .write("a/atom.toml", atom_toml("same", "1.0.0"))
        .write("b/atom.toml", atom_toml("same", "2.0.0"))
        .write("c/README", "no manifest\n");
    repo.commit("a clash and a missing manifest");
    let remote = Remote::start(Transport::File);
    let run = publish(repo.path(), &["--all", "--remote", remote.url()]).refused();
    snapshot!("label_clash_and_missing_manifest", run.transcript());
    assert!(run.stderr.contains("atom directory `b`"), "{}", run.stderr);
    assert!(run.stderr.contains("atom directory `c`"), "{}", run.stderr);
    assert!(eka_ref_names(&repo, remote.url()).is_empty());
}
