//! Frozen test vectors of atom ids (also listed in `docs/format.md`).
//!
//! The expected ids were computed outside this crate with `b3sum` 1.2:
//! `key = b3sum --derive-key "eka 2026-11 atom id v1" --raw < root-bytes`,
//! `id = b3sum --keyed label-file < key`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use atom::{
    Label,
    id::{AtomId, SetRoot},
};

/// (set root hex, label as typed, expected atom id hex).
const VECTORS: [(&str, &str, &str); 8] = [
    (
        "0000000000000000000000000000000000000001",
        "hello",
        "9bad0da1a11afb5f30a7515feb9bcd24ce3b037d1af4aea0f7e150664a32443e",
    ),
    (
        "0000000000000000000000000000000000000001",
        "world",
        "0a73176de43bdeb800689e885bf524e9c762c737fdcf1fcbd0fb6ec333085de3",
    ),
    (
        "0123456789abcdef0123456789abcdef01234567",
        "hello",
        "70c14cd2850ab7fae2a354c7da8fd6777987730e3ebf0af512105cec5d79da00",
    ),
    (
        "0123456789abcdef0123456789abcdef01234567",
        "file",
        "19be74ccf65bee676af800f1ede52c64aaee5879c71a0647c0825c6374bf3e93",
    ),
    (
        "ffffffffffffffffffffffffffffffffffffffff",
        "\u{3bb}\u{3cc}\u{3b3}\u{3bf}\u{3c2}",
        "fd2e79fd11bc47d898ff559ce9e42c48e82538f63848be70b2b7cca13f03853f",
    ),
    (
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "\u{d55c}\u{ad6d}\u{c5b4}",
        "6bfa616b9610de11c0328ad7c3eb9da016f96c5441beb14f91dafe120c16594b",
    ),
    (
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "my-atom_2",
        "863ba437439ca868e9fb91015cf93ca77df72f967514c3a0dcdf356e3af6caf5",
    ),
    (
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        // 128 × `a`: the longest label.
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "0fd0c0436a2d68153385b64fc194445440ef403af76e157633b8abf1c9dfee30",
    ),
];

fn id(root: &str, label: &str) -> AtomId {
    let root: SetRoot = root.parse().unwrap();
    AtomId::new(&root, &Label::parse(label).unwrap())
}

#[test]
fn vectors_match() {
    for (root, label, expected) in VECTORS {
        assert_eq!(id(root, label).to_string(), expected, "{root} {label}");
        assert_eq!(expected.parse::<AtomId>().unwrap(), id(root, label));
    }
}

#[test]
fn same_label_in_two_sets_gives_two_ids() {
    assert_ne!(
        id("0000000000000000000000000000000000000001", "hello"),
        id("0123456789abcdef0123456789abcdef01234567", "hello")
    );
}

#[test]
fn nfkc_equal_labels_give_equal_ids() {
    let root = "0123456789abcdef0123456789abcdef01234567";
    // U+FB01 LATIN SMALL LIGATURE FI folds to `fi`.
    assert_eq!(id(root, "\u{fb01}le"), id(root, "file"));
    // Fullwidth letters fold to ASCII.
    assert_eq!(
        id(root, "\u{ff46}\u{ff49}\u{ff4c}\u{ff45}"),
        id(root, "file")
    );
    // Decomposed Hangul jamo compose to the syllables.
    assert_eq!(
        id(
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "\u{1112}\u{1161}\u{11ab}\u{1100}\u{116e}\u{11a8}\u{110b}\u{1165}"
        ),
        id(
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
            "\u{d55c}\u{ad6d}\u{c5b4}"
        )
    );
}

#[test]
fn raw_root_constructor_agrees() {
    let root: SetRoot = "0000000000000000000000000000000000000001".parse().unwrap();
    let label = Label::parse("hello").unwrap();
    assert_eq!(
        AtomId::from_raw_root(root.as_bytes(), &label),
        AtomId::new(&root, &label)
    );
    assert_eq!(root.as_bytes().len(), 20);
}

#[test]
fn serde_uses_hex_strings() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Entry {
        root: SetRoot,
        id: AtomId,
    }
    let entry = Entry {
        root: "0000000000000000000000000000000000000001".parse().unwrap(),
        id: id("0000000000000000000000000000000000000001", "hello"),
    };
    let text = toml::to_string(&entry).unwrap();
    assert_eq!(
        text,
        "root = \"0000000000000000000000000000000000000001\"\nid = \"9bad0da1a11afb5f30a7515feb9bcd24ce3b037d1af4aea0f7e150664a32443e\"\n"
    );
    assert_eq!(toml::from_str::<Entry>(&text).unwrap(), entry);
    let bad = text.replace("9bad", "9BAD");
    assert!(toml::from_str::<Entry>(&bad).is_err());
}

#[test]
fn bad_hex_is_refused() {
    for bad in [
        "",
        "0",
        "g".repeat(40).as_str(),
        &"0".repeat(41),
        &"0".repeat(64),
    ] {
        assert!(bad.parse::<SetRoot>().is_err(), "{bad}");
    }
    for bad in [
        "",
        &"0".repeat(63),
        &"0".repeat(65),
        &"z".repeat(64),
        &"A".repeat(64),
    ] {
        assert!(bad.parse::<AtomId>().is_err(), "{bad}");
    }
}
