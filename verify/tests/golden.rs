//! Golden vectors of the content hash (format v1), built by real git.
//!
//! The expected values are frozen: if one changes, the format changed, which needs a
//! format bump and an ADR, not an update of this table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::num::NonZeroUsize;

use common::{Repo, deterministic_bytes, id};
use verify::tree::{Counts, Options, hash_tree, validate_tree};

/// Build every golden tree in `repo`, returning (name, tree id) pairs.
fn build(repo: &Repo) -> Vec<(&'static str, String)> {
    let mut trees = Vec::new();
    let empty = repo.tree(&[]);
    let hello = repo.blob(b"hello\n");
    let empty_blob = repo.blob(b"");
    let target = repo.blob(b"hello");

    trees.push(("empty tree", empty.clone()));
    trees.push((
        "empty file",
        repo.tree(&[("100644", b"empty", &empty_blob)]),
    ));
    trees.push(("one file", repo.tree(&[("100644", b"hello", &hello)])));
    trees.push((
        "same file, other name",
        repo.tree(&[("100644", b"hallo", &hello)]),
    ));
    trees.push((
        "executable file",
        repo.tree(&[("100755", b"hello", &hello)]),
    ));
    trees.push(("symlink", repo.tree(&[("120000", b"link", &target)])));
    trees.push((
        "file with the symlink's bytes",
        repo.tree(&[("100644", b"link", &target)]),
    ));
    trees.push((
        "unicode name NFC",
        repo.tree(&[("100644", "caf\u{e9}".as_bytes(), &hello)]),
    ));
    trees.push((
        "unicode name NFD",
        repo.tree(&[("100644", "cafe\u{301}".as_bytes(), &hello)]),
    ));
    trees.push((
        "same content under two names",
        repo.tree(&[("100644", b"a", &hello), ("100644", b"b", &hello)]),
    ));
    trees.push(("empty directory", repo.tree(&[("040000", b"dir", &empty)])));

    let c = repo.tree(&[("100644", b"file", &hello)]);
    let b = repo.tree(&[("040000", b"c", &c), ("100644", b"b.txt", &empty_blob)]);
    let a = repo.tree(&[("040000", b"b", &b)]);
    trees.push((
        "nested directories",
        repo.tree(&[("040000", b"a", &a), ("100644", b"README", &hello)]),
    ));

    let mut deep = repo.tree(&[("100644", b"bottom", &hello)]);
    for _ in 0..50 {
        deep = repo.tree(&[("040000", b"d", &deep)]);
    }
    trees.push(("50 levels deep", deep));

    let large = repo.blob(&deterministic_bytes(4 << 20, 0x5eed));
    let parts: Vec<String> = (0..4u64)
        .map(|seed| repo.blob(&deterministic_bytes(512 << 10, seed)))
        .collect();
    trees.push((
        "four 512 KiB files (hashed on several threads)",
        repo.tree(&[
            ("100644", b"part0", &parts[0]),
            ("100644", b"part1", &parts[1]),
            ("100755", b"part2", &parts[2]),
            ("100644", b"part3", &parts[3]),
        ]),
    ));
    trees.push(("4 MiB file", repo.tree(&[("100644", b"large.bin", &large)])));

    let all_bytes: Vec<u8> = (0..=255u8).collect();
    let binary = repo.blob(&all_bytes);
    trees.push((
        "all byte values",
        repo.tree(&[("100644", b"bytes", &binary)]),
    ));

    let names: Vec<String> = (0..5000).map(|index| format!("f{index:05}")).collect();
    let blobs: Vec<String> = {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = Vec::new();
        for name in &names {
            let path = dir.path().join(name);
            std::fs::write(&path, format!("content of {name}\n")).unwrap();
            paths.push(path.to_str().unwrap().to_owned());
        }
        let list = paths.join("\n") + "\n";
        repo.git(&["hash-object", "-w", "--stdin-paths"], list.as_bytes())
            .lines()
            .map(str::to_owned)
            .collect()
    };
    let many: Vec<(&str, &[u8], &str)> = names
        .iter()
        .zip(&blobs)
        .map(|(name, blob)| ("100644", name.as_bytes(), blob.as_str()))
        .collect();
    trees.push(("5000 files", repo.tree(&many)));

    trees.push((
        "git order: file, dash, directory",
        repo.tree(&[
            ("100644", b"foo", &hello),
            ("100644", b"foo-bar", &hello),
            ("040000", b"foo.d", &c),
            ("100644", b"foo.c", &hello),
        ]),
    ));
    let sub = repo.tree(&[("120000", b"up", &repo.blob(b"../hello"))]);
    trees.push((
        "symlink climbing from a subdirectory",
        repo.tree(&[("040000", b"sub", &sub), ("100644", b"hello", &hello)]),
    ));
    trees.push((
        "same subtree twice",
        repo.tree(&[("040000", b"x", &c), ("040000", b"y", &c)]),
    ));
    let script = repo.blob(b"#!/bin/sh\necho hi\n");
    trees.push((
        "mixed kinds",
        repo.tree(&[
            ("100644", b"a b", &hello),
            ("100755", b"run", &script),
            ("120000", b"link", &repo.blob(b"a b")),
            ("040000", b"lib", &c),
            ("100644", b"c:d 'e\" \xe2\x98\x83", &empty_blob),
        ]),
    ));
    trees
}

/// The frozen vectors: tree name, content hash, (entries, bytes, depth).
const GOLDEN: &[(&str, &str, (u64, u64, u32))] = &[
    (
        "empty tree",
        "blake3:ca913b36c87c35115167ea8ab183d5130bf8282b6333b9cf1cda1a4a3c088d27",
        (0, 0, 0),
    ),
    (
        "empty file",
        "blake3:321a6ed7719d8dc7d5303fe6b3344dec7f88e446b61e319ef760c380a1a0bf60",
        (1, 0, 0),
    ),
    (
        "one file",
        "blake3:bf2e4af03ba85405005f4354ccea71cdecbc8b2ff8b355826af9c5738ea4cc13",
        (1, 6, 0),
    ),
    (
        "same file, other name",
        "blake3:65ef896af047075518c2ca31820355cd1d7b91d9e95ebef5b6e23823e5c68a30",
        (1, 6, 0),
    ),
    (
        "executable file",
        "blake3:4976d8826445db5a980a877a872d7d5e82e73a709e5a44214f50b62b7bf6786f",
        (1, 6, 0),
    ),
    (
        "symlink",
        "blake3:c27c69948887a0b8a4af75dd0299cba6116362e2a3da6124562bc18c70066d9a",
        (1, 5, 0),
    ),
    (
        "file with the symlink's bytes",
        "blake3:7e095d13d3f9ed149ed2d234c3644b576ee3248f38446de7164757a22fb7f8a1",
        (1, 5, 0),
    ),
    (
        "unicode name NFC",
        "blake3:97ce5b4d221b22e8e67ec88c57f2fbdb2dbc67e6306743107bf97b45b1d2502c",
        (1, 6, 0),
    ),
    (
        "unicode name NFD",
        "blake3:450794a02e8479600dc183d1efda9bbcd1df89e1215b3316a975c5c4d7d12155",
        (1, 6, 0),
    ),
    (
        "same content under two names",
        "blake3:abc08f9d499e998ad9e14e23a3c7b4fa3a3218e1b03ae4bfba65cf7b45f66a01",
        (2, 12, 0),
    ),
    (
        "empty directory",
        "blake3:79b0ab45c63fb1f0b12dc3b348352ba9b353190971c35a3c63e0592c183c4ce7",
        (1, 0, 1),
    ),
    (
        "nested directories",
        "blake3:d7c5479516f0c93142047f9211dc74df7f27ca0f6a44ccfe0d02dfd87ddf5174",
        (6, 12, 3),
    ),
    (
        "50 levels deep",
        "blake3:89aaf75471902d6ead9bf3378ffe06f3b0c4f6d3ae594214fe9158c22b0b0de1",
        (51, 6, 50),
    ),
    (
        "four 512 KiB files (hashed on several threads)",
        "blake3:07b846344a0fffe4e6bffd890fc4ec49746e91fa115cdff57d06bd1569647ac6",
        (4, 2097152, 0),
    ),
    (
        "4 MiB file",
        "blake3:44315f4a4d2ffcdca35cdedf9b76e98efe35ffbbbe4975afa8ad9bf8ab2e51e7",
        (1, 4194304, 0),
    ),
    (
        "all byte values",
        "blake3:f615508dc663e2975174b961829014fadd92e580c471e0e7979b204b8fd2323f",
        (1, 256, 0),
    ),
    (
        "5000 files",
        "blake3:5602674b1926239fd742d1cd11ad3fa50956061ae7935df204e0f6acd3d80ca1",
        (5000, 90000, 0),
    ),
    (
        "git order: file, dash, directory",
        "blake3:7d6984e1eb69ca0f382e163b7e88c98e93b36621a2a7dce76222eb6a35342f79",
        (5, 24, 1),
    ),
    (
        "symlink climbing from a subdirectory",
        "blake3:aab15dcc6fa0fea88f70e726b16a4288155fe340fd5a4f95e6ae20267b32c329",
        (3, 14, 1),
    ),
    (
        "same subtree twice",
        "blake3:6651a7202f89163a4068c0968103a1621e723e793d891d77665a11322602773a",
        (4, 12, 1),
    ),
    (
        "mixed kinds",
        "blake3:96d8cc1ef29bba5724b5cff5593687379a03e5ef6d5e5ea79e713ea01a58b671",
        (6, 33, 1),
    ),
];

#[test]
fn golden_vectors() {
    let repo = Repo::new();
    let trees = build(&repo);
    assert!(trees.len() >= 20);
    let gix_repo = repo.open();
    let mut actual = Vec::new();
    for (name, tree) in &trees {
        let outcome = hash_tree(&gix_repo, id(tree), &Options::default()).unwrap();
        let Counts {
            entries,
            bytes,
            depth,
        } = outcome.counts;
        actual.push(format!(
            "    (\"{name}\", \"{}\", ({entries}, {bytes}, {depth})),",
            outcome.hash
        ));
    }
    let expected: Vec<String> = GOLDEN
        .iter()
        .map(|(name, hash, (entries, bytes, depth))| {
            format!("    (\"{name}\", \"{hash}\", ({entries}, {bytes}, {depth})),")
        })
        .collect();
    assert_eq!(
        expected.join("\n"),
        actual.join("\n"),
        "\nactual:\n{}\n",
        actual.join("\n")
    );
}

#[test]
fn all_golden_hashes_differ() {
    let mut hashes: Vec<&str> = GOLDEN.iter().map(|(_, hash, _)| *hash).collect();
    hashes.sort_unstable();
    hashes.dedup();
    assert_eq!(hashes.len(), GOLDEN.len());
}

#[test]
fn independent_repositories_agree() {
    let loose = Repo::new();
    let packed = Repo::new();
    let loose_trees = build(&loose);
    let packed_trees = build(&packed);
    packed.repack();
    let (loose_repo, packed_repo) = (loose.open(), packed.open());
    let one_thread = Options {
        threads: NonZeroUsize::new(1),
        ..Options::default()
    };
    let two_threads = Options {
        threads: NonZeroUsize::new(2),
        ..Options::default()
    };
    for ((name, left), (_, right)) in loose_trees.iter().zip(&packed_trees) {
        let first = hash_tree(&loose_repo, id(left), &one_thread).unwrap();
        let second = hash_tree(&packed_repo, id(right), &two_threads).unwrap();
        assert_eq!(first, second, "{name}");
        let counts = validate_tree(&packed_repo, id(right), &Options::default()).unwrap();
        assert_eq!(counts, first.counts, "{name}");
    }
}

/// An independent implementation of docs/format.md ("Content hash"), reading trees
/// with `git ls-tree` and blobs with `git cat-file`.
fn reference_hash(
    repo: &Repo,
    objects: &HashMap<String, (String, Vec<u8>)>,
    tree: &str,
) -> [u8; 32] {
    let listing = repo.git(&["ls-tree", "-z", tree], b"");
    let entries: Vec<&str> = listing
        .split('\0')
        .filter(|line| !line.is_empty())
        .collect();
    let mut hasher = blake3::Hasher::new_derive_key("eka 2026-11 content hash v1 tree");
    hasher.update(&(entries.len() as u64).to_le_bytes());
    for entry in entries {
        let (meta, name) = entry.split_once('\t').unwrap();
        let fields: Vec<&str> = meta.split(' ').collect();
        let (tag, child) = match fields[0] {
            "100644" | "100755" => {
                let bytes = &objects[fields[2]].1;
                let tag = if fields[0] == "100644" { 1u8 } else { 2 };
                let mut blob = blake3::Hasher::new_derive_key("eka 2026-11 content hash v1 blob");
                blob.update(bytes);
                (tag, *blob.finalize().as_bytes())
            }
            "120000" => {
                let bytes = &objects[fields[2]].1;
                let mut link =
                    blake3::Hasher::new_derive_key("eka 2026-11 content hash v1 symlink");
                link.update(bytes);
                (3u8, *link.finalize().as_bytes())
            }
            "040000" => (4u8, reference_hash(repo, objects, fields[2])),
            other => panic!("unexpected mode {other}"),
        };
        hasher.update(&[tag]);
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(&child);
    }
    *hasher.finalize().as_bytes()
}

#[test]
fn matches_an_independent_implementation_of_the_spec() {
    let repo = Repo::new();
    let trees = build(&repo);
    let objects = repo.all_objects();
    let gix_repo = repo.open();
    for (name, tree) in &trees {
        let outcome = hash_tree(&gix_repo, id(tree), &Options::default()).unwrap();
        let expected = reference_hash(&repo, &objects, tree);
        assert_eq!(outcome.hash.as_bytes(), &expected, "{name}");
    }
}
