//! Hostile trees, written literally with real git, each refused with the right error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Repo, id};
use verify::tree::{Error, Options, Violation, hash_tree, validate_tree};

/// Validate and hash `tree` with `options`; both must refuse it the same way.
fn refusal(repo: &Repo, tree: &str, options: &Options) -> (String, Violation) {
    let gix_repo = repo.open();
    let validated = validate_tree(&gix_repo, id(tree), options).unwrap_err();
    let hashed = hash_tree(&gix_repo, id(tree), options).unwrap_err();
    assert_eq!(validated.to_string(), hashed.to_string());
    match validated {
        Error::Refused { path, violation } => (path.to_string(), violation),
        other => panic!("expected a refusal, got {other}"),
    }
}

fn refused(repo: &Repo, tree: &str) -> (String, Violation) {
    refusal(repo, tree, &Options::default())
}

/// A repository with one blob `x`; returns (repo, blob id).
fn setup() -> (Repo, String) {
    let repo = Repo::new();
    let blob = repo.blob(b"x\n");
    (repo, blob)
}

/// Wrap `tree` as `a/b/<tree>` to check that paths name nested entries.
fn nest(repo: &Repo, tree: &str) -> String {
    let b = repo.raw_tree(&[(b"40000", b"b", tree)]);
    repo.raw_tree(&[(b"40000", b"a", &b)])
}

#[test]
fn dot_names() {
    let (repo, blob) = setup();
    let dot = repo.raw_tree(&[(b"100644", b".", &blob)]);
    assert_eq!(refused(&repo, &dot), (".".into(), Violation::DotName));
    let dot_dot = repo.raw_tree(&[(b"40000", b"..", &repo.tree(&[]))]);
    assert_eq!(
        refused(&repo, &nest(&repo, &dot_dot)),
        ("a/b/..".into(), Violation::DotName)
    );
}

#[test]
fn empty_name() {
    let (repo, blob) = setup();
    let tree = repo.raw_tree(&[(b"100644", b"", &blob)]);
    assert_eq!(refused(&repo, &nest(&repo, &tree)).1, Violation::EmptyName);
}

#[test]
fn git_directory_in_any_disguise() {
    let (repo, blob) = setup();
    let names: [&[u8]; 7] = [
        b".git",
        b".GIT",
        b".Git",
        b".git.",
        b"git~1",
        b".git::$INDEX_ALLOCATION",
        ".g\u{200d}it".as_bytes(),
    ];
    for name in names {
        let tree = repo.raw_tree(&[(b"40000", name, &repo.tree(&[("100644", b"config", &blob)]))]);
        let (path, violation) = refused(&repo, &nest(&repo, &tree));
        assert_eq!(violation, Violation::GitDirName, "{path}");
        assert_eq!(path.as_bytes(), [b"a/b/", name].concat());
    }
}

#[test]
fn separators_in_names() {
    let (repo, blob) = setup();
    let slash = repo.raw_tree(&[(b"100644", b"etc/passwd", &blob)]);
    assert_eq!(
        refused(&repo, &slash),
        ("etc/passwd".into(), Violation::SlashInName)
    );
    let backslash = repo.raw_tree(&[(b"100644", b"..\\evil", &blob)]);
    assert_eq!(refused(&repo, &backslash).1, Violation::BackslashInName);
}

#[test]
fn duplicate_names() {
    let (repo, blob) = setup();
    let twice = repo.raw_tree(&[(b"100644", b"a", &blob), (b"100644", b"a", &blob)]);
    assert_eq!(
        refused(&repo, &twice),
        ("a".into(), Violation::DuplicateName)
    );
    // A file `a` and a directory `a` sort apart (`a` < `a-b` < `a/`) yet still clash.
    let apart = repo.raw_tree(&[
        (b"100644", b"a", &blob),
        (b"100644", b"a-b", &blob),
        (b"40000", b"a", &repo.tree(&[])),
    ]);
    assert_eq!(
        refused(&repo, &apart),
        ("a".into(), Violation::DuplicateName)
    );
}

#[test]
fn entries_out_of_order() {
    let (repo, blob) = setup();
    let tree = repo.raw_tree(&[(b"100644", b"b", &blob), (b"100644", b"a", &blob)]);
    assert_eq!(refused(&repo, &tree), ("a".into(), Violation::OutOfOrder));
    // A directory `a` sorts as `a/`, after `a-b`.
    let directory_first = repo.raw_tree(&[
        (b"40000", b"a", &repo.tree(&[])),
        (b"100644", b"a-b", &blob),
    ]);
    assert_eq!(
        refused(&repo, &directory_first),
        ("a-b".into(), Violation::OutOfOrder)
    );
}

#[test]
fn bad_and_zero_padded_modes() {
    let (repo, blob) = setup();
    let padded = repo.raw_tree(&[(b"040000", b"dir", &repo.tree(&[]))]);
    assert_eq!(
        refused(&repo, &padded),
        (
            "dir".into(),
            Violation::BadMode {
                mode: "040000".into()
            }
        )
    );
    for mode in [
        &b"100664"[..],
        b"0100644",
        b"10644",
        b"644",
        b"1006444",
        b"x",
    ] {
        let tree = repo.raw_tree(&[(mode, b"file", &blob)]);
        let (_, violation) = refused(&repo, &tree);
        assert!(
            matches!(violation, Violation::BadMode { .. }),
            "{mode:?}: {violation:?}"
        );
    }
}

#[test]
fn gitlinks() {
    let (repo, _) = setup();
    let commit = "1111111111111111111111111111111111111111";
    let tree = repo.raw_tree(&[(b"160000", b"submodule", commit)]);
    assert_eq!(
        refused(&repo, &nest(&repo, &tree)),
        ("a/b/submodule".into(), Violation::Gitlink)
    );
}

#[test]
fn absolute_symlinks() {
    let (repo, _) = setup();
    let tree = repo.raw_tree(&[(b"120000", b"passwd", &repo.blob(b"/etc/passwd"))]);
    assert_eq!(
        refused(&repo, &tree),
        ("passwd".into(), Violation::SymlinkAbsolute)
    );
}

#[test]
fn symlinks_escaping_the_atom() {
    let (repo, _) = setup();
    let up = repo.blob(b"../outside");
    let at_root = repo.raw_tree(&[(b"120000", b"up", &up)]);
    assert_eq!(
        refused(&repo, &at_root),
        (
            "up".into(),
            Violation::SymlinkEscapes { climb: 1, depth: 0 }
        )
    );
    // `sub/up2 -> ../../x` climbs two levels from depth 1.
    let sub = repo.raw_tree(&[(b"120000", b"up2", &repo.blob(b"../../x"))]);
    let tree = repo.raw_tree(&[(b"40000", b"sub", &sub)]);
    assert_eq!(
        refused(&repo, &tree),
        (
            "sub/up2".into(),
            Violation::SymlinkEscapes { climb: 2, depth: 1 }
        )
    );
    // The same subtree is fine two levels down but escapes one level down; the walk
    // reads it once and must still judge each place it appears.
    let deep = nest(&repo, &sub);
    let tree = repo.raw_tree(&[(b"40000", b"a", &deep), (b"40000", b"z", &sub)]);
    let gix_repo = repo.open();
    assert!(validate_tree(&gix_repo, id(&deep), &Options::default()).is_ok());
    assert_eq!(
        refused(&repo, &tree),
        (
            "z/up2".into(),
            Violation::SymlinkEscapes { climb: 2, depth: 1 }
        )
    );
}

#[test]
fn symlinks_climbing_after_a_name() {
    let (repo, _) = setup();
    let tree = repo.raw_tree(&[(b"120000", b"sneaky", &repo.blob(b"dir/../../x"))]);
    let (path, violation) = refused(&repo, &nest(&repo, &tree));
    assert_eq!(path, "a/b/sneaky");
    assert!(
        matches!(violation, Violation::SymlinkMalformed { .. }),
        "{violation:?}"
    );
}

#[test]
fn symlinks_with_unusable_targets() {
    let (repo, _) = setup();
    for target in [&b""[..], b"a\0b", b"..\\..\\x"] {
        let tree = repo.raw_tree(&[(b"120000", b"link", &repo.blob(target))]);
        let (_, violation) = refused(&repo, &tree);
        assert!(
            matches!(violation, Violation::SymlinkMalformed { .. }),
            "{target:?}"
        );
    }
    let long = repo.blob(&vec![b'a'; 5000]);
    let tree = repo.raw_tree(&[(b"120000", b"link", &long)]);
    assert_eq!(
        refused(&repo, &tree).1,
        Violation::SymlinkTooLong { size: 5000 }
    );
}

#[test]
fn too_deep() {
    let (repo, blob) = setup();
    let mut tree = repo.tree(&[("100644", b"f", &blob)]);
    for _ in 0..10 {
        tree = repo.tree(&[("040000", b"d", &tree)]);
    }
    let options = Options {
        max_depth: 9,
        ..Options::default()
    };
    let (path, violation) = refusal(&repo, &tree, &options);
    assert_eq!(violation, Violation::TooDeep { limit: 9 });
    assert_eq!(path, ["d"; 10].join("/"));
    let enough = Options {
        max_depth: 10,
        ..Options::default()
    };
    assert_eq!(
        validate_tree(&repo.open(), id(&tree), &enough)
            .unwrap()
            .depth,
        10
    );
}

#[test]
fn expansion_bombs_are_refused_without_being_walked() {
    // 64 levels of `l` and `r` pointing to the same subtree: 64 distinct trees that a
    // checkout would expand into 2^64 files.
    let (repo, blob) = setup();
    let mut tree = repo.tree(&[("100644", b"f", &blob)]);
    for _ in 0..64 {
        tree = repo.tree(&[("040000", b"l", &tree), ("040000", b"r", &tree)]);
    }
    let (_, violation) = refused(&repo, &tree);
    assert_eq!(violation, Violation::TooManyEntries { limit: 1_000_000 });
}

#[test]
fn too_many_entries() {
    let (repo, blob) = setup();
    let names: Vec<String> = (0..11).map(|index| format!("f{index:02}")).collect();
    let entries: Vec<(&str, &[u8], &str)> = names
        .iter()
        .map(|name| ("100644", name.as_bytes(), blob.as_str()))
        .collect();
    let tree = repo.tree(&entries);
    let options = Options {
        max_entries: 10,
        ..Options::default()
    };
    assert_eq!(
        refusal(&repo, &tree, &options),
        ("f10".into(), Violation::TooManyEntries { limit: 10 })
    );
}

#[test]
fn objects_too_large() {
    let (repo, _) = setup();
    let big = repo.blob(&vec![7u8; 2048]);
    let tree = repo.tree(&[("100644", b"big", &big)]);
    let options = Options {
        max_object_size: 1024,
        ..Options::default()
    };
    assert_eq!(
        refusal(&repo, &tree, &options),
        (
            "big".into(),
            Violation::ObjectTooLarge {
                size: 2048,
                limit: 1024
            }
        )
    );
}

#[test]
fn too_many_bytes_in_total() {
    let (repo, _) = setup();
    let part = repo.blob(&vec![7u8; 600]);
    let tree = repo.tree(&[("100644", b"one", &part), ("100644", b"two", &part)]);
    let options = Options {
        max_total_bytes: 1000,
        ..Options::default()
    };
    assert_eq!(
        refusal(&repo, &tree, &options),
        ("two".into(), Violation::TooManyBytes { limit: 1000 })
    );
}

#[test]
fn missing_objects_and_wrong_kinds() {
    let (repo, blob) = setup();
    let missing = "2222222222222222222222222222222222222222";
    let tree = repo.raw_tree(&[(b"100644", b"gone", missing)]);
    assert_eq!(
        refused(&repo, &tree),
        ("gone".into(), Violation::MissingObject { id: id(missing) })
    );
    let tree = repo.raw_tree(&[(b"40000", b"dir", &blob)]);
    assert_eq!(
        refused(&repo, &tree),
        (
            "dir".into(),
            Violation::WrongObjectKind {
                expected: "tree",
                actual: "blob".into()
            }
        )
    );
    // The root itself must be a tree.
    assert_eq!(refused(&repo, &blob).0, ".");
}

#[test]
fn malformed_tree_objects() {
    let (repo, _) = setup();
    for data in [&b"100644 name\0short"[..], b"100644 no-nul", b"no-space"] {
        let tree = repo.raw_object("tree", data);
        let (path, violation) = refused(&repo, &tree);
        assert_eq!(path, ".");
        assert!(
            matches!(violation, Violation::MalformedTree { .. }),
            "{violation:?}"
        );
    }
}

#[test]
fn errors_name_the_path_and_the_kind() {
    let (repo, blob) = setup();
    let dot_dot = repo.raw_tree(&[(b"100644", b"..", &blob)]);
    let error = validate_tree(
        &repo.open(),
        id(&nest(&repo, &dot_dot)),
        &Options::default(),
    )
    .unwrap_err();
    assert_eq!(error.path(), "a/b/..");
    assert_eq!(
        error.to_string(),
        "tree entry `a/b/..` is refused: the names `.` and `..` are reserved"
    );
    let gitlink = Violation::Gitlink;
    assert!(gitlink.hint().is_some());
}
