//! Fuzz targets: eka's parsers and validators fed arbitrary bytes.
//!
//! Each target is a function `fn(&[u8])` that must never panic, and checks a property
//! on top where one exists (a parsed lock renders to text that parses to the same
//! text; a decoded atom commit encodes back to the very bytes it was decoded from).
//! A panic or a broken property is a crash. The targets are driven two ways:
//!
//! - `fuzz/run.sh [SECONDS]` builds them with coverage instrumentation and runs each
//!   under libFuzzer (the crate in `fuzz/libfuzzer/`, on the stable toolchain) for a
//!   fixed time, starting from the seeds in `fuzz/corpus/<target>/`;
//! - `cargo test -p eka-fuzz` replays every seed and every past crash kept in
//!   `fuzz/regressions/<target>/` through the same functions, so a crash once found
//!   stays fixed.
//!
//! [`TARGETS`] lists them by name (the directory names under `fuzz/corpus/`).

// A fuzz target reports a bug by panicking: that is what the fuzzer watches for.
#![allow(clippy::panic)]

use std::{cell::RefCell, time::UNIX_EPOCH};

use atom::{
    config::{Config, FileSource, Sources},
    lock::Lockfile,
    manifest::Manifest,
    set::SetManifest,
    store::AtomCommit,
    uri::{Aliases, AtomUri, parse_set_url},
};
use verify::signature::{AllowedSigners, split_signed_commit, verify_commit_signature};

/// A fuzz target: arbitrary bytes in, a panic out on a bug.
pub type Target = fn(&[u8]);

/// Every target, by name.
pub const TARGETS: &[(&str, Target)] = &[
    ("manifest", manifest),
    ("lock", lock),
    ("set", set),
    ("config", config),
    ("uri", uri),
    ("tree", tree),
    ("atom_commit", atom_commit),
    ("signature", signature),
    ("allowed_signers", allowed_signers),
];

/// The target called `name`.
pub fn target(name: &str) -> Option<Target> {
    TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .map(|(_, function)| *function)
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// `atom.toml`: parsing never panics.
pub fn manifest(data: &[u8]) {
    if let Some(text) = text(data) {
        let _ = Manifest::from_str(text, "atom.toml");
    }
}

/// `atom.lock`: a lock that parses renders to text that parses again and renders to
/// the same text (the lock's bytes are deterministic).
pub fn lock(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let Ok(parsed) = Lockfile::from_str(text, "atom.lock") else {
        return;
    };
    let rendered = parsed.to_string();
    let again = match Lockfile::from_str(&rendered, "atom.lock") {
        Ok(again) => again,
        Err(error) => panic!("a rendered lock does not parse: {error}\n{rendered}"),
    };
    assert_eq!(again.to_string(), rendered, "rendering is not stable");
}

/// `ekala.toml`: parsing never panics.
pub fn set(data: &[u8]) {
    if let Some(text) = text(data) {
        let _ = SetManifest::from_str(text, "ekala.toml");
    }
}

thread_local! {
    /// A directory for the files the configuration target writes.
    static SCRATCH: Option<tempfile::TempDir> = tempfile::tempdir().ok();
}

/// `eka.toml`: loading never panics (the text is written to a file, as the loader
/// reads files; the environment is empty).
pub fn config(data: &[u8]) {
    SCRATCH.with(|scratch| {
        let Some(dir) = scratch else { return };
        let path = dir.path().join("eka.toml");
        if std::fs::write(&path, data).is_err() {
            return;
        }
        let env = |_: &str| None;
        let sources = Sources {
            user_file: None,
            project_file: Some(FileSource {
                path,
                required: true,
            }),
            default_cache: dir.path().join("cache"),
            home: Some(dir.path().to_path_buf()),
            env: &env,
        };
        let _ = Config::load_from(&sources);
    });
}

/// Atom URIs and set URLs: a URI that parses prints as a URI that parses to the same
/// printed form.
pub fn uri(data: &[u8]) {
    let Some(text) = text(data) else { return };
    let aliases = Aliases::builtin();
    if let Ok(parsed) = AtomUri::parse(text, &aliases) {
        let printed = parsed.to_string();
        match AtomUri::parse(&printed, &aliases) {
            Ok(again) => assert_eq!(again.to_string(), printed, "printing is not stable"),
            Err(error) => panic!("`{printed}` (printed from `{text}`) does not parse: {error}"),
        }
    }
    if let Ok(url) = parse_set_url(text) {
        let printed = url.to_string();
        match parse_set_url(&printed) {
            Ok(again) => assert_eq!(again.to_string(), printed, "printing is not stable"),
            Err(error) => panic!("set URL `{printed}` does not parse again: {error}"),
        }
    }
}

/// A scratch object store holding a few known objects a fuzzed tree can point at.
struct Store {
    _dir: tempfile::TempDir,
    repo: gix::Repository,
}

impl Store {
    fn new() -> Option<Store> {
        let dir = tempfile::tempdir().ok()?;
        let repo = gix::init_bare(dir.path()).ok()?;
        // `hello\n`, a symlink target leaving the tree, and a tree holding the first.
        let hello = repo.write_blob(b"hello\n").ok()?.detach();
        repo.write_blob(b"../outside").ok()?;
        let tree = gix::objs::Tree {
            entries: vec![gix::objs::tree::Entry {
                mode: gix::objs::tree::EntryKind::Blob.into(),
                filename: "hello".into(),
                oid: hello,
            }],
        };
        repo.write_object(&tree).ok()?;
        Some(Store { _dir: dir, repo })
    }
}

thread_local! {
    static STORE: RefCell<Option<Store>> = const { RefCell::new(None) };
}

/// The tree validator: the bytes are a raw git tree object (entries may point at the
/// store's known objects, or at nothing); validating and hashing never panic and agree
/// on whether the tree is acceptable.
pub fn tree(data: &[u8]) {
    STORE.with(|store| {
        let mut store = store.borrow_mut();
        if store.is_none() {
            *store = Store::new();
        }
        let Some(store) = store.as_ref() else { return };
        let Ok(id) = gix::objs::Write::write_buf(&store.repo.objects, gix::objs::Kind::Tree, data)
        else {
            return;
        };
        let options = verify::tree::Options {
            max_depth: 16,
            max_entries: 10_000,
            max_object_size: 1 << 20,
            max_total_bytes: 1 << 22,
            threads: std::num::NonZeroUsize::new(1),
        };
        let validated = verify::tree::validate_tree(&store.repo, id, &options);
        let hashed = verify::tree::hash_tree(&store.repo, id, &options);
        assert_eq!(
            validated.is_ok(),
            hashed.is_ok(),
            "validate and hash disagree: {validated:?} / {hashed:?}"
        );
    });
}

/// Atom commits: a commit that decodes as an atom commit encodes back to the exact
/// bytes it came from (one atom, one encoding, one id).
pub fn atom_commit(data: &[u8]) {
    let Ok(parsed) = gix::objs::CommitRef::from_bytes(data, gix::hash::Kind::Sha1) else {
        return;
    };
    let Ok(commit) = AtomCommit::decode(&parsed) else {
        return;
    };
    match commit.to_bytes() {
        Ok(bytes) => assert!(
            bytes == data,
            "an atom commit decoded from other bytes than it encodes to:\n{}\n---\n{}",
            String::from_utf8_lossy(data),
            String::from_utf8_lossy(&bytes)
        ),
        Err(error) => panic!("a decoded atom commit does not encode: {error}"),
    }
}

/// The key the signed seeds were made with; its private half was thrown away, so the
/// fuzzer cannot sign anything new.
const SIGNER: &str = "dev@example.org ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJqSW00dp/+RDxICEcYykWceQtsPOZQnQPHWvjCx0B0x";

/// The commits genuinely signed by [`SIGNER`]'s key.
const SIGNED_SEEDS: [&[u8]; 2] = [
    include_bytes!("../corpus/signature/signed-atom-commit"),
    include_bytes!("../corpus/signature/git-signed-commit"),
];

/// Commit signatures: splitting a raw commit and checking its `gpgsig` never panic,
/// and a signature is accepted only over the payload of a genuinely signed seed (the
/// fuzzer may reformat a signature, never forge one).
pub fn signature(data: &[u8]) {
    let Ok(allowed) = AllowedSigners::parse("allowed_signers", SIGNER) else {
        panic!("the allowed signers line of the signature target does not parse");
    };
    let Ok(split) = split_signed_commit(data) else {
        return;
    };
    let now = UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
    let verdict = verify_commit_signature(
        &split.payload,
        split
            .signature
            .as_ref()
            .map(|signature| signature.as_slice()),
        &allowed,
        now,
    );
    if verdict.is_ok() {
        let genuine = SIGNED_SEEDS
            .iter()
            .any(|seed| split_signed_commit(seed).is_ok_and(|seed| seed.payload == split.payload));
        assert!(genuine, "a signature over another payload was accepted");
    }
}

/// `allowed_signers` files: parsing never panics.
pub fn allowed_signers(data: &[u8]) {
    if let Some(text) = text(data) {
        let _ = AllowedSigners::parse("allowed_signers", text);
    }
}
