//! Atomic pushes against real servers (`file://`, `git://`, `http://`) when the remote
//! changed between eka's listing and its push: refs taken behind eka's back refuse the
//! whole push, and the staging git directory never outlives a push.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use atom::{
    Label,
    store::{
        AtomCommit, RefStatus, RefUpdate,
        push::{self, STAGING_DIRECTORY_PREFIX},
        push_refs, refs,
    },
};
use eka_test_support::{Remote, TestRepo, Transport};
use gix::ObjectId;
use semver::Version;

fn id(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.trim().as_bytes()).unwrap()
}

/// A set with one atom `hello` (two commits: the root and the origin), and the three
/// ref updates publishing `hello@1.0.0`, planned against an empty remote.
struct Fixture {
    repo: TestRepo,
    root: ObjectId,
    updates: Vec<RefUpdate>,
}

fn fixture() -> Fixture {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"hello\"]\n");
    let root = id(&repo.commit("init"));
    repo.write(
        "hello/atom.toml",
        "[package]\nlabel = \"hello\"\nversion = \"1.0.0\"\n",
    )
    .write("hello/src/lib.nix", "{ }\n");
    let origin = id(&repo.commit("add hello"));
    let version = Version::new(1, 0, 0);
    let atom = AtomCommit::new(
        id(&repo.rev_parse("HEAD:hello")),
        root,
        "hello",
        &version,
        origin,
        "hello",
        "blake3:0123abcd",
    )
    .unwrap();
    let atom_id = atom
        .write(&gix::open_opts(repo.path(), gix::open::Options::isolated()).unwrap())
        .unwrap();
    let label = Label::parse("hello").unwrap();
    let update = |name: String, new_id: ObjectId| RefUpdate {
        name,
        new_id,
        expected_old: None,
    };
    let updates = vec![
        update(refs::atom_ref(&label, &version), atom_id),
        update(
            refs::manifest_ref(&label, &version),
            id(&repo.rev_parse("HEAD:hello/atom.toml")),
        ),
        update(refs::origin_ref(&label, &version), origin),
    ];
    Fixture {
        repo,
        root,
        updates,
    }
}

/// Set `name` on the remote directly, as another publisher would have.
fn take_behind_our_back(remote: &Remote, name: &str, object: &str) {
    remote.repo().run(["update-ref", name, object]);
}

/// A commit that exists only on the remote.
fn foreign_commit(remote: &Remote) -> String {
    let tree = remote.repo().run(["mktree"]);
    remote
        .repo()
        .run(["commit-tree", "-m", "someone else's atom", tree.trim()])
}

/// A blob that exists only on the remote.
fn foreign_blob(remote: &Remote) -> String {
    let blob = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        blob.path(),
        "[package]\nlabel = \"hello\"\nversion = \"1.0.0\"\n# other\n",
    )
    .unwrap();
    remote
        .repo()
        .run(["hash-object", "-w", &blob.path().display().to_string()])
}

/// The staging directories left in the source's git directory.
fn leftovers(fixture: &Fixture) -> Vec<String> {
    std::fs::read_dir(fixture.repo.git_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(STAGING_DIRECTORY_PREFIX))
        .collect()
}

/// The whole push was refused because of `taken`: it is rejected with `stale info`,
/// every other ref with `atomic push failed`, and the remote still holds only `before`.
fn assert_refused_whole(
    outcome: &push::PushOutcome,
    taken: &str,
    remote: &Remote,
    before: &[(String, String)],
    context: &str,
) {
    assert!(!outcome.is_success(), "{context}: {outcome:?}");
    assert_eq!(outcome.created().count(), 0, "{context}: {outcome:?}");
    assert_eq!(outcome.rejected().count(), 3, "{context}: {outcome:?}");
    for (name, reason) in outcome.rejected() {
        if name == taken {
            assert!(reason.contains("stale info"), "{context}: {name}: {reason}");
        } else {
            assert!(reason.contains("atomic"), "{context}: {name}: {reason}");
        }
    }
    assert_eq!(
        remote.repo().refs(),
        before,
        "{context}: the remote changed"
    );
}

#[test]
fn an_atom_ref_taken_by_another_commit_refuses_the_whole_push() {
    let fixture = fixture();
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        let taken = &fixture.updates[0].name;
        take_behind_our_back(&remote, taken, &foreign_commit(&remote));
        let before = remote.repo().refs();
        let outcome = push_refs(fixture.repo.path(), remote.url(), &fixture.updates).unwrap();
        assert_refused_whole(&outcome, taken, &remote, &before, &transport.to_string());
    }
}

#[test]
fn a_manifest_ref_taken_by_another_blob_refuses_the_whole_push() {
    let fixture = fixture();
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        let taken = &fixture.updates[1].name;
        take_behind_our_back(&remote, taken, &foreign_blob(&remote));
        let before = remote.repo().refs();
        let outcome = push_refs(fixture.repo.path(), remote.url(), &fixture.updates).unwrap();
        assert_refused_whole(&outcome, taken, &remote, &before, &transport.to_string());
    }
}

#[test]
fn a_ref_at_an_ancestor_is_not_fast_forwarded() {
    // The origin ref is a normal commit with history: a plain (unleased) push would
    // fast-forward a ref sitting at its parent.
    let fixture = fixture();
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        push_refs(
            fixture.repo.path(),
            remote.url(),
            &[RefUpdate {
                name: "refs/heads/main".into(),
                new_id: fixture.root,
                expected_old: None,
            }],
        )
        .unwrap();
        let taken = &fixture.updates[2].name;
        take_behind_our_back(&remote, taken, &fixture.root.to_string());
        let before = remote.repo().refs();
        let outcome = push_refs(fixture.repo.path(), remote.url(), &fixture.updates).unwrap();
        assert_refused_whole(&outcome, taken, &remote, &before, &transport.to_string());
    }
}

#[test]
fn a_ref_already_at_the_wanted_id_is_up_to_date_and_the_rest_created() {
    let fixture = fixture();
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        push_refs(fixture.repo.path(), remote.url(), &fixture.updates[1..2]).unwrap();
        let outcome = push_refs(fixture.repo.path(), remote.url(), &fixture.updates).unwrap();
        let statuses: Vec<&RefStatus> = outcome.refs.iter().map(|(_, status)| status).collect();
        assert_eq!(
            statuses,
            [
                &RefStatus::Created,
                &RefStatus::UpToDate,
                &RefStatus::Created
            ],
            "{transport}"
        );
        assert_eq!(remote.repo().refs().len(), 3, "{transport}");
    }
}

#[test]
fn a_remote_holding_many_refs_gets_exactly_the_new_ones() {
    let fixture = fixture();
    let remote = Remote::start(Transport::File);
    let other = foreign_commit(&remote);
    let existing: String = (0..500)
        .map(|index| {
            format!(
                "create refs/eka/atoms/other{index}/1.0.0 {}\n",
                other.trim()
            )
        })
        .collect();
    let input = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(input.path(), existing).unwrap();
    let mut command = fixture.repo.git().command(remote.path());
    command.args(["update-ref", "--stdin"]);
    command.stdin(std::fs::File::open(input.path()).unwrap());
    assert!(command.status().unwrap().success());
    let before = remote.repo().refs();
    assert_eq!(before.len(), 500);

    let outcome = push_refs(fixture.repo.path(), remote.url(), &fixture.updates).unwrap();
    assert_eq!(outcome.created().count(), 3, "{outcome:?}");
    let after = remote.repo().refs();
    assert_eq!(after.len(), 503);
    for update in &fixture.updates {
        assert!(after.contains(&(update.name.clone(), update.new_id.to_string())));
    }
}

#[test]
fn staging_leaves_nothing_behind_after_success_or_failure() {
    let fixture = fixture();
    let refs_before = fixture.repo.run(["for-each-ref"]);
    let remote = Remote::start(Transport::File);

    let created = push_refs(fixture.repo.path(), remote.url(), &fixture.updates).unwrap();
    assert!(created.is_success());
    assert_eq!(leftovers(&fixture), Vec::<String>::new(), "after success");

    let mut changed = fixture.updates.clone();
    changed[0].new_id = fixture.root;
    let refused = push_refs(fixture.repo.path(), remote.url(), &changed).unwrap();
    assert!(!refused.is_success());
    assert_eq!(leftovers(&fixture), Vec::<String>::new(), "after a refusal");

    let missing = tempfile::tempdir().unwrap();
    let url = format!("file://{}/nothing.git", missing.path().display());
    assert!(push_refs(fixture.repo.path(), &url, &fixture.updates).is_err());
    assert_eq!(leftovers(&fixture), Vec::<String>::new(), "after an error");

    assert_eq!(
        fixture.repo.run(["for-each-ref"]),
        refs_before,
        "the source's refs are untouched"
    );
}

#[test]
fn a_linked_worktree_pushes_the_objects_of_its_repository() {
    let fixture = fixture();
    let worktree = tempfile::tempdir().unwrap();
    let path = worktree.path().join("linked");
    fixture
        .repo
        .run(["worktree", "add", "--detach", &path.display().to_string()]);
    let remote = Remote::start(Transport::File);
    let outcome = push_refs(&path, remote.url(), &fixture.updates).unwrap();
    assert_eq!(outcome.created().count(), 3, "{outcome:?}");
}
