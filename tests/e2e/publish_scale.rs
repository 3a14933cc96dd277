//! `eka publish` into remotes that already hold many refs of the set, and what the
//! push leaves in the repository (nothing): real repositories and servers.

use std::path::Path;

use eka_test_support::{Hook, Remote, TestRepo, Transport};

use crate::common::{Sandbox, atom_toml, git};

/// A set of three atoms in a fresh repository, committed.
fn three_atoms() -> TestRepo {
    let repo = TestRepo::init();
    repo.write(
        "ekala.toml",
        "[set]\npackages = [\"hello\", \"world\", \"util\"]\n",
    )
    .write("hello/atom.toml", atom_toml("hello", "0.1.0"))
    .write("world/atom.toml", atom_toml("world", "1.0.0"))
    .write("util/atom.toml", atom_toml("util", "2.3.4"));
    repo.commit("three atoms");
    repo
}

/// The staging directories left in the repository's git directory.
fn staging_leftovers(repo: &TestRepo) -> Vec<String> {
    std::fs::read_dir(repo.git_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(atom::store::push::STAGING_DIRECTORY_PREFIX))
        .collect()
}

fn eka_refs(remote: &Remote) -> Vec<(String, String)> {
    remote
        .repo()
        .refs()
        .into_iter()
        .filter(|(name, _)| name.starts_with("refs/eka/"))
        .collect()
}

/// Give `remote` `count` more published versions of `hello` (all at its atom commit,
/// with their meta refs), as a long-lived registry would hold.
fn fill(remote: &Remote, count: usize) {
    let refs = eka_refs(remote);
    let id = |name: &str| {
        refs.iter()
            .find(|(found, _)| found == name)
            .map(|(_, id)| id.clone())
            .unwrap()
    };
    let (atom, manifest, origin) = (
        id("refs/eka/atoms/hello/0.1.0"),
        id("refs/eka/meta/hello/0.1.0/manifest"),
        id("refs/eka/meta/hello/0.1.0/origin"),
    );
    let mut input = String::new();
    for patch in 0..count {
        let version = format!("0.0.{patch}");
        input.push_str(&format!("create refs/eka/atoms/hello/{version} {atom}\n"));
        input.push_str(&format!(
            "create refs/eka/meta/hello/{version}/manifest {manifest}\n"
        ));
        input.push_str(&format!(
            "create refs/eka/meta/hello/{version}/origin {origin}\n"
        ));
    }
    git(
        remote.path(),
        &["update-ref", "--stdin"],
        Some(input.as_bytes()),
    );
    git(remote.path(), &["pack-refs", "--all"], None);
}

fn publish(dir: &Path, args: &[&str]) -> crate::common::Run {
    let sandbox = Sandbox::new();
    sandbox.eka_at(dir, &[&["publish"], args].concat())
}

#[test]
fn a_remote_holding_many_refs_gets_exactly_the_new_ones_and_nothing_is_left() {
    for transport in Transport::ALL {
        let repo = three_atoms();
        let remote = Remote::start(transport);
        publish(repo.path(), &["hello", "--remote", remote.url()]).success();
        fill(&remote, 100);
        let before = eka_refs(&remote);
        assert_eq!(before.len(), 303, "{transport}");
        let local_refs = repo.run(["for-each-ref"]);

        let run = publish(repo.path(), &["--all", "--remote", remote.url()]).success();
        assert!(
            run.stderr.contains("2 published, 1 skipped, 0 refused"),
            "{transport}: {}",
            run.stderr
        );
        let after = eka_refs(&remote);
        let created: Vec<&str> = after
            .iter()
            .filter(|entry| !before.contains(entry))
            .map(|(name, _)| name.as_str())
            .collect();
        assert_eq!(
            created,
            [
                "refs/eka/atoms/util/2.3.4",
                "refs/eka/atoms/world/1.0.0",
                "refs/eka/meta/util/2.3.4/manifest",
                "refs/eka/meta/util/2.3.4/origin",
                "refs/eka/meta/world/1.0.0/manifest",
                "refs/eka/meta/world/1.0.0/origin",
            ],
            "{transport}"
        );
        assert!(
            before.iter().all(|entry| after.contains(entry)),
            "{transport}"
        );
        assert_eq!(
            staging_leftovers(&repo),
            Vec::<String>::new(),
            "{transport}"
        );
        assert_eq!(repo.run(["for-each-ref"]), local_refs, "{transport}");
    }
}

#[test]
fn a_refused_push_leaves_nothing_either() {
    let repo = three_atoms();
    let remote = Remote::start(Transport::File);
    remote.reject_ref(Hook::PreReceive, "refs/eka/atoms/world/1.0.0");
    let run = publish(repo.path(), &["--all", "--remote", remote.url()]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("nothing was published"),
        "{}",
        run.stderr
    );
    assert_eq!(eka_refs(&remote), []);
    assert_eq!(staging_leftovers(&repo), Vec::<String>::new());
}
