//! The git store against real git: atom commits, set roots, ref names, remote listing
//! and atomic pushes over `file://`, `git://` and `http://`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use atom::{
    Label,
    store::{
        AtomCommit, AtomRef, RefKind, RefStatus, RefUpdate, commit, find_set_root, list_atom_refs,
        push_refs, refs, remote, root,
    },
};
use eka_test_support::{Hook, Remote, TestRepo, Transport};
use gix::{ObjectId, bstr::ByteSlice};
use semver::Version;

fn open(path: &std::path::Path) -> gix::Repository {
    gix::open_opts(path, gix::open::Options::isolated()).unwrap()
}

fn id(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.as_bytes()).unwrap()
}

/// A set with one atom `hello` at `hello/`, and its atom commit for 1.0.0.
struct Fixture {
    repo: TestRepo,
    atom: AtomCommit,
    atom_id: ObjectId,
    manifest_id: ObjectId,
    origin: ObjectId,
}

fn fixture() -> Fixture {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"hello\"]\n");
    let root = repo.commit("init");
    repo.write(
        "hello/atom.toml",
        "[package]\nlabel = \"hello\"\nversion = \"1.0.0\"\n",
    )
    .write("hello/src/lib.nix", "{ }\n");
    let origin = repo.commit("add hello");
    let tree = id(&repo.rev_parse("HEAD:hello"));
    let manifest_id = id(&repo.rev_parse("HEAD:hello/atom.toml"));
    let atom = AtomCommit::new(
        tree,
        id(&root),
        "hello",
        &Version::new(1, 0, 0),
        id(&origin),
        "hello",
        "blake3:0123abcd",
    )
    .unwrap();
    let atom_id = atom.write(&open(repo.path())).unwrap();
    Fixture {
        repo,
        atom,
        atom_id,
        manifest_id,
        origin: id(&origin),
    }
}

fn updates(fixture: &Fixture) -> Vec<RefUpdate> {
    let label = Label::parse("hello").unwrap();
    let version = Version::new(1, 0, 0);
    vec![
        RefUpdate {
            name: refs::atom_ref(&label, &version),
            new_id: fixture.atom_id,
            expected_old: None,
        },
        RefUpdate {
            name: refs::manifest_ref(&label, &version),
            new_id: fixture.manifest_id,
            expected_old: None,
        },
        RefUpdate {
            name: refs::origin_ref(&label, &version),
            new_id: fixture.origin,
            expected_old: None,
        },
    ]
}

// --- atom commits -------------------------------------------------------------------

#[test]
fn atom_commit_is_reproducible_across_repositories() {
    let first = fixture();
    let second = fixture();
    assert_eq!(first.atom_id, second.atom_id);
    assert_eq!(
        first.atom.id().unwrap(),
        first.atom_id,
        "hash without writing"
    );
    assert_eq!(
        first
            .repo
            .run(["cat-file", "-t", &first.atom_id.to_string()]),
        "commit"
    );
}

#[test]
fn atom_commit_passes_strict_fsck_and_shows_its_headers() {
    let fixture = fixture();
    fixture.repo.run(["fsck", "--strict", "--no-dangling"]);
    let shown = fixture
        .repo
        .run(["cat-file", "-p", &fixture.atom_id.to_string()]);
    let tree = fixture.atom.tree;
    let set = fixture.atom.set_root;
    let origin = fixture.origin;
    let expected = format!(
        "tree {tree}\nauthor eka <eka@eka.invalid> 0 +0000\ncommitter eka <eka@eka.invalid> 0 +0000\n\
         eka-format 1\neka-set {set}\neka-label hello\neka-version 1.0.0\neka-origin {origin}\n\
         eka-path hello\neka-content blake3:0123abcd\n\neka atom hello@1.0.0"
    );
    assert_eq!(shown, expected);
}

#[test]
fn atom_commit_decodes_from_the_object_database() {
    let fixture = fixture();
    let repo = open(fixture.repo.path());
    let object = repo.find_commit(fixture.atom_id).unwrap();
    let decoded = AtomCommit::decode(&object.decode().unwrap()).unwrap();
    assert_eq!(decoded, fixture.atom);
    assert_eq!(decoded.signature, None);
}

#[test]
fn atom_commit_round_trips_a_signature_header() {
    let mut atom = fixture().atom;
    let unsigned = atom.id().unwrap();
    atom.signature =
        Some("-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n".into());
    let bytes = atom.to_bytes().unwrap();
    let text = bytes.to_str_lossy();
    assert!(
        text.contains("eka-content blake3:0123abcd\ngpgsig -----BEGIN SSH SIGNATURE-----\n AAAA\n"),
        "{text}"
    );
    let parsed = gix::objs::CommitRef::from_bytes(&bytes, gix::hash::Kind::Sha1).unwrap();
    let decoded = AtomCommit::decode(&parsed).unwrap();
    assert_eq!(decoded, atom);
    assert_ne!(atom.id().unwrap(), unsigned);
}

fn decode_with(edit: impl FnOnce(&mut gix::objs::Commit)) -> Result<AtomCommit, commit::Error> {
    let mut object = fixture().atom.to_commit();
    edit(&mut object);
    let mut bytes = Vec::new();
    gix::objs::WriteTo::write_to(&object, &mut bytes).unwrap();
    let parsed = gix::objs::CommitRef::from_bytes(&bytes, gix::hash::Kind::Sha1).unwrap();
    AtomCommit::decode(&parsed)
}

#[test]
fn decode_refuses_commits_eka_would_not_write() {
    let missing = decode_with(|c| c.extra_headers.retain(|(name, _)| name != "eka-set"));
    assert!(
        matches!(
            missing,
            Err(commit::Error::MissingHeader { name: "eka-set" })
        ),
        "{missing:?}"
    );

    let duplicate = decode_with(|c| {
        let label = c.extra_headers[2].clone();
        c.extra_headers.insert(3, label);
    });
    assert!(
        matches!(&duplicate, Err(commit::Error::DuplicateHeader { name }) if name == "eka-label"),
        "{duplicate:?}"
    );

    let unknown = decode_with(|c| c.extra_headers.push(("eka-extra".into(), "x".into())));
    assert!(
        matches!(unknown, Err(commit::Error::UnknownHeader { .. })),
        "{unknown:?}"
    );

    // Found by the `atom_commit` fuzz target: git reads an uppercase tree id, but it
    // is not the bytes eka writes, so it would be a second id for one atom.
    let mut bytes = Vec::new();
    gix::objs::WriteTo::write_to(&fixture().atom.to_commit(), &mut bytes).unwrap();
    let upper = bytes.to_str_lossy().replacen(
        &fixture().atom.tree.to_string(),
        &fixture().atom.tree.to_string().to_uppercase(),
        1,
    );
    let parsed = gix::objs::CommitRef::from_bytes(upper.as_bytes(), gix::hash::Kind::Sha1).unwrap();
    let uppercase = AtomCommit::decode(&parsed);
    assert!(
        matches!(uppercase, Err(commit::Error::NotCanonical { .. })),
        "{uppercase:?}"
    );

    let reordered = decode_with(|c| c.extra_headers.swap(0, 1));
    assert!(
        matches!(reordered, Err(commit::Error::HeaderOrder { .. })),
        "{reordered:?}"
    );

    let format = decode_with(|c| c.extra_headers[0].1 = "2".into());
    assert!(
        matches!(format, Err(commit::Error::Format { .. })),
        "{format:?}"
    );

    let version = decode_with(|c| c.extra_headers[3].1 = "v1.0.0".into());
    assert!(matches!(
        version,
        Err(commit::Error::HeaderValue {
            name: "eka-version",
            ..
        })
    ));

    let set = decode_with(|c| c.extra_headers[1].1 = "ABC".into());
    assert!(matches!(
        set,
        Err(commit::Error::HeaderValue {
            name: "eka-set",
            ..
        })
    ));

    let parent = decode_with(|c| c.parents.push(c.tree));
    assert!(
        matches!(parent, Err(commit::Error::NotCanonical { .. })),
        "{parent:?}"
    );

    let message = decode_with(|c| c.message = "other\n".into());
    assert!(
        matches!(message, Err(commit::Error::NotCanonical { .. })),
        "{message:?}"
    );

    let author = decode_with(|c| c.author.time.seconds = 1);
    assert!(
        matches!(author, Err(commit::Error::NotCanonical { .. })),
        "{author:?}"
    );
}

#[test]
fn atom_commit_validates_its_inputs() {
    let tree = ObjectId::empty_tree(gix::hash::Kind::Sha1);
    let version = Version::new(1, 0, 0);
    let new = |label: &str, path: &str, content: &str| {
        AtomCommit::new(tree, tree, label, &version, tree, path, content)
    };
    assert!(new("hello", ".", "h").is_ok());
    assert!(matches!(
        new("-bad", "a", "h"),
        Err(commit::Error::Label(_))
    ));
    for path in ["", "/abs", "a//b", "a/../b", "./a", "a\nb"] {
        assert!(
            matches!(new("a", path, "h"), Err(commit::Error::Path { .. })),
            "{path:?}"
        );
    }
    for content in ["", "a b", "a\n"] {
        assert!(matches!(
            new("a", "a", content),
            Err(commit::Error::Content { .. })
        ));
    }
}

// --- set roots ------------------------------------------------------------------------

#[test]
fn set_root_follows_first_parents_not_timestamps() {
    let repo = TestRepo::init();
    repo.write("a", "1");
    let root = repo.commit("root");
    repo.write("a", "2");
    repo.commit("second");
    // An unrelated history merged in as a second parent: its root must not win.
    repo.run(["checkout", "--quiet", "--orphan", "other"]);
    repo.run(["rm", "-rf", "--quiet", "."]);
    repo.write("b", "other");
    let other_root = repo.commit("other root");
    repo.run(["checkout", "--quiet", "main"]);
    repo.run([
        "merge",
        "--quiet",
        "--allow-unrelated-histories",
        "-m",
        "merge",
        "other",
    ]);
    let head = repo.head();
    let found = find_set_root(&open(repo.path()), id(&head)).unwrap();
    assert_eq!(found, id(&root));
    assert_ne!(found, id(&other_root));
    let of_root = find_set_root(&open(repo.path()), id(&root)).unwrap();
    assert_eq!(of_root, id(&root));
}

#[test]
fn set_root_refuses_a_shallow_repository() {
    let source = TestRepo::init();
    source.write("a", "1");
    source.commit("one");
    source.write("a", "2");
    source.commit("two");
    let clone_dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", source.path().display());
    source.git().run(
        clone_dir.path(),
        ["clone", "--quiet", "--depth", "1", &url, "shallow"],
    );
    let shallow = open(&clone_dir.path().join("shallow"));
    let head = shallow.head_id().unwrap().detach();
    let error = find_set_root(&shallow, head).unwrap_err();
    assert!(matches!(error, root::Error::Shallow { .. }), "{error:?}");
    assert!(error.to_string().contains("shallow"));
}

// --- ref names -----------------------------------------------------------------------

#[test]
fn ref_names_round_trip() {
    let label = Label::parse("hello-world").unwrap();
    let version = Version::parse("2.0.0-rc.1+build.5").unwrap();
    for (name, kind) in [
        (refs::atom_ref(&label, &version), RefKind::Atom),
        (refs::manifest_ref(&label, &version), RefKind::Manifest),
        (refs::origin_ref(&label, &version), RefKind::Origin),
    ] {
        let parsed = AtomRef::parse(&name).unwrap();
        assert_eq!(parsed.kind, kind);
        assert_eq!(parsed.label, label);
        assert_eq!(parsed.version, version);
        assert_eq!(parsed.to_ref_name(), name);
        assert!(
            gix::validate::reference::name(name.as_bytes().into()).is_ok(),
            "{name}"
        );
    }
    assert_eq!(refs::atom_prefix(&label), "refs/eka/atoms/hello-world/");
}

#[test]
fn ref_names_refuse_bad_labels_versions_and_shapes() {
    for name in [
        "refs/heads/main",
        "refs/eka/atoms/hello",
        "refs/eka/atoms/hello/1.0.0/extra",
        "refs/eka/meta/hello/1.0.0",
        "refs/eka/meta/hello/1.0.0/other",
        "refs/eka/atoms/-bad/1.0.0",
        "refs/eka/atoms/\u{FB01}le/1.0.0",
        "refs/eka/atoms/hello/v1.0.0",
        "refs/eka/atoms/hello/1.0",
        "refs/eka/atoms/hello/01.0.0",
        "refs/eka/meta/hello/1.0.0.0/origin",
    ] {
        assert!(AtomRef::parse(name).is_err(), "{name} should be refused");
    }
}

// --- remote listing --------------------------------------------------------------------

#[test]
fn list_atom_refs_filters_by_label_over_every_transport() {
    let fixture = fixture();
    let head = fixture.repo.head();
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        fixture.repo.run([
            "push",
            "--quiet",
            remote.url(),
            "HEAD:refs/heads/main",
            "HEAD:refs/eka/atoms/hello/1.0.0",
            "HEAD:refs/eka/atoms/hello/1.1.0",
            "HEAD:refs/eka/atoms/hello-world/1.0.0",
            "HEAD:refs/eka/atoms/world/3.0.0",
            "HEAD:refs/eka/meta/hello/1.0.0/origin",
        ]);
        let hello = Label::parse("hello").unwrap();
        let world = Label::parse("world").unwrap();
        let only_hello = list_atom_refs(remote.url(), Some(std::slice::from_ref(&hello))).unwrap();
        let names: Vec<_> = only_hello.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            ["refs/eka/atoms/hello/1.0.0", "refs/eka/atoms/hello/1.1.0"],
            "{transport}"
        );
        assert!(only_hello.iter().all(|(_, object)| *object == id(&head)));

        let both = list_atom_refs(remote.url(), Some(&[world, hello])).unwrap();
        assert_eq!(both.len(), 3, "{transport}: {both:?}");

        let all = list_atom_refs(remote.url(), None).unwrap();
        assert_eq!(all.len(), 4, "{transport}: {all:?}");
        assert!(
            all.iter()
                .all(|(name, _)| name.starts_with("refs/eka/atoms/"))
        );

        assert!(list_atom_refs(remote.url(), Some(&[])).unwrap().is_empty());
    }
}

#[test]
fn list_atom_refs_of_an_empty_remote_is_empty() {
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        assert_eq!(
            list_atom_refs(remote.url(), None).unwrap(),
            vec![],
            "{transport}"
        );
    }
}

#[test]
fn list_atom_refs_refuses_a_local_reftable_repository() {
    let remote = Remote::start_with(Transport::File, &["--ref-format=reftable"]);
    let error = list_atom_refs(remote.url(), None).unwrap_err();
    assert!(matches!(error, remote::Error::Reftable { .. }), "{error:?}");
    assert!(error.to_string().contains("reftable"));
}

#[test]
fn list_atom_refs_reports_an_unreachable_remote() {
    let missing = tempfile::tempdir().unwrap();
    let url = format!("file://{}/nothing.git", missing.path().display());
    assert!(list_atom_refs(&url, None).is_err());
}

// --- pushing ---------------------------------------------------------------------------

#[test]
fn push_creates_then_reports_up_to_date_over_every_transport() {
    let fixture = fixture();
    let updates = updates(&fixture);
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        let outcome = push_refs(fixture.repo.path(), remote.url(), &updates).unwrap();
        assert!(outcome.is_success(), "{transport}: {outcome:?}");
        assert_eq!(outcome.created().count(), 3, "{transport}: {outcome:?}");
        let on_server = remote.repo().refs();
        assert_eq!(on_server.len(), 3);
        for update in &updates {
            assert!(
                on_server.contains(&(update.name.clone(), update.new_id.to_string())),
                "{transport}: {} missing from {on_server:?}",
                update.name
            );
        }
        // The server now holds a valid, decodable atom commit.
        let served = open(remote.path());
        let object = served.find_commit(fixture.atom_id).unwrap();
        assert_eq!(
            AtomCommit::decode(&object.decode().unwrap()).unwrap(),
            fixture.atom
        );

        let again = push_refs(fixture.repo.path(), remote.url(), &updates).unwrap();
        assert_eq!(again.up_to_date().count(), 3, "{transport}: {again:?}");
        assert!(again.is_success());
    }
}

#[test]
fn push_refuses_to_overwrite_and_leaves_the_remote_unchanged() {
    let fixture = fixture();
    let updates = updates(&fixture);
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        push_refs(fixture.repo.path(), remote.url(), &updates[..1]).unwrap();
        let before = remote.repo().refs();
        // Same ref, other object, "must not exist": refused, and the new ref with it.
        let changed = vec![
            RefUpdate {
                name: updates[0].name.clone(),
                new_id: fixture.origin,
                expected_old: None,
            },
            updates[1].clone(),
        ];
        let outcome = push_refs(fixture.repo.path(), remote.url(), &changed).unwrap();
        assert!(!outcome.is_success(), "{transport}: {outcome:?}");
        assert_eq!(outcome.rejected().count(), 2, "{transport}: {outcome:?}");
        let (_, reason) = outcome.rejected().next().unwrap();
        assert!(reason.contains("stale info"), "{transport}: {reason}");
        assert_eq!(remote.repo().refs(), before, "{transport}");

        // Naming the current value moves it.
        let lease = vec![RefUpdate {
            name: updates[0].name.clone(),
            new_id: fixture.origin,
            expected_old: Some(fixture.atom_id),
        }];
        let moved = push_refs(fixture.repo.path(), remote.url(), &lease).unwrap();
        assert_eq!(
            moved.refs,
            vec![(updates[0].name.clone(), RefStatus::Updated)]
        );
    }
}

#[test]
fn push_is_atomic_when_the_server_rejects_one_ref() {
    let fixture = fixture();
    let updates = updates(&fixture);
    for hook in [Hook::Update, Hook::PreReceive] {
        for transport in Transport::ALL {
            let remote = Remote::start(transport);
            remote.reject_ref(hook, &updates[1].name);
            let outcome = push_refs(fixture.repo.path(), remote.url(), &updates).unwrap();
            assert!(!outcome.is_success(), "{hook:?} {transport}: {outcome:?}");
            assert_eq!(
                outcome.created().count(),
                0,
                "{hook:?} {transport}: {outcome:?}"
            );
            assert_eq!(
                outcome.rejected().count(),
                3,
                "{hook:?} {transport}: {outcome:?}"
            );
            let reason = outcome
                .rejected()
                .find(|(name, _)| *name == updates[1].name)
                .map(|(_, reason)| reason.to_owned())
                .unwrap();
            assert!(
                reason.contains("hook declined"),
                "{hook:?} {transport}: {reason}"
            );
            assert!(
                remote.repo().refs().is_empty(),
                "{hook:?} {transport}: refs were left"
            );
        }
    }
}

#[test]
fn push_validates_its_input() {
    let fixture = fixture();
    let mut bad = updates(&fixture);
    bad[0].name = "refs/eka/atoms/hello/1.0.0..".into();
    let remote = Remote::start(Transport::File);
    assert!(matches!(
        push_refs(fixture.repo.path(), remote.url(), &bad),
        Err(atom::store::push::Error::RefName { .. })
    ));
    let mut twice = updates(&fixture);
    twice[1] = twice[0].clone();
    assert!(matches!(
        push_refs(fixture.repo.path(), remote.url(), &twice),
        Err(atom::store::push::Error::DuplicateRef { .. })
    ));
    assert!(
        push_refs(fixture.repo.path(), remote.url(), &[])
            .unwrap()
            .refs
            .is_empty()
    );
}

#[test]
fn push_to_an_unreachable_remote_is_an_error() {
    let fixture = fixture();
    let missing = tempfile::tempdir().unwrap();
    let url = format!("file://{}/nothing.git", missing.path().display());
    let error = push_refs(fixture.repo.path(), &url, &updates(&fixture)).unwrap_err();
    assert!(
        matches!(error, atom::store::push::Error::Failed { .. }),
        "{error:?}"
    );
}

/// A loopback server that accepts connections and never answers; its URL with `scheme`.
fn silent_server(scheme: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    format!("{scheme}://127.0.0.1:{port}/set.git")
}

#[test]
fn a_fetch_from_a_silent_server_times_out_naming_the_url() {
    use atom::error::{Classify, Kind};
    use atom::store::git::{Depth, Error, FetchSpec, Repo};
    let dir = tempfile::tempdir().unwrap();
    let repo = Repo::init_bare(&dir.path().join("cache.git"))
        .unwrap()
        .with_deadline(std::time::Duration::from_secs(2));
    let wanted = id("1111111111111111111111111111111111111111");
    for scheme in ["git", "http"] {
        let url = silent_server(scheme);
        let spec = FetchSpec::objects(&[wanted], "refs/cache/", Depth::TreeLess);
        let error = repo.fetch(&url, &spec).unwrap_err();
        let Error::Timeout {
            url: named,
            seconds,
            ..
        } = &error
        else {
            panic!("{scheme}: expected a timeout, got {error:?}");
        };
        assert_eq!(*named, url);
        assert_eq!(*seconds, 2);
        assert_eq!(error.kind(), Kind::Environment);
        assert!(error.to_string().contains(&url), "{error}");
        assert!(error.hint().unwrap().contains("EKA_NET_TIMEOUT"));
    }
}

#[test]
fn a_full_fetch_brings_the_trees_of_commits_fetched_tree_less() {
    use atom::store::git::{Depth, FetchSpec, Repo};
    let source = TestRepo::init();
    source.run(["config", "uploadpack.allowFilter", "true"]);
    source.write("d/a.txt", "hello\n");
    let commit = id(&source.commit("one"));
    let tree = id(&source.rev_parse("HEAD^{tree}"));
    let url = format!("file://{}", source.path().display());
    let dir = tempfile::tempdir().unwrap();
    let store = Repo::init_bare(&dir.path().join("store.git")).unwrap();

    let tree_less = FetchSpec::objects(&[commit], "refs/cache/", Depth::TreeLess);
    store.fetch(&url, &tree_less).unwrap();
    let repo = open(store.path());
    assert!(repo.has_object(commit));
    assert!(!repo.has_object(tree), "a tree-less fetch brought the tree");

    let full = FetchSpec::objects(&[commit], "refs/cache/", Depth::Full);
    store.fetch(&url, &full).unwrap();
    let repo = open(store.path());
    assert!(repo.has_object(tree), "the full fetch brought no tree");
    let subtree = id(&source.rev_parse("HEAD:d"));
    let file = id(&source.rev_parse("HEAD:d/a.txt"));
    assert!(repo.has_object(subtree) && repo.has_object(file));
}
