//! The verify walk against real atoms: trees built by real git, atom commits built by
//! `AtomCommit`, hashed by `hash_tree`, signed by `sign_atom_commit` with keys made by
//! `ssh-keygen`, and lockfiles written by hand. One honest graph verifies; every kind
//! of tampering is caught with the right kind, on the right atom only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
    process::Command,
    time::SystemTime,
};

use atom::{
    Label,
    id::{AtomId, SetRoot},
    lock::{AtomIdHex, ContentHash, LockedAtom, Lockfile, ObjectId as LockId},
    store::AtomCommit,
    uri::parse_set_url,
};
use common::{Repo, id};
use gix::ObjectId;
use semver::Version;
use verify::{
    signature::{AllowedSigners, PrivateKey, load_private_key, sign_atom_commit},
    tree::{Options, hash_tree},
    walk::{Against, AtomReport, Failure, Kind, Policy, Report, verify_lock},
};

const MIRROR_A: &str = "https://a.example/set.git";
const MIRROR_B: &str = "https://b.example/set.git";

fn keygen(dir: &Path, name: &str) -> PrivateKey {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .env("HOME", dir)
        .status()
        .unwrap();
    assert!(status.success());
    load_private_key(&path).unwrap()
}

/// One atom as published: its commit (as written) and the inputs to rebuild variants.
#[derive(Clone)]
struct Published {
    commit: AtomCommit,
    commit_id: ObjectId,
}

/// A store repository holding two sets' atoms, two signing keys and a policy.
struct Lab {
    repo: Repo,
    _keys: tempfile::TempDir,
    set_a: ObjectId,
    set_b: ObjectId,
    trusted: PrivateKey,
    stranger: PrivateKey,
    allowed: AllowedSigners,
}

impl Lab {
    fn new() -> Self {
        let repo = Repo::new();
        let empty = repo.tree(&[]);
        let set_a = id(&repo.git(&["commit-tree", &empty, "-m", "set a"], b""));
        let set_b = id(&repo.git(&["commit-tree", &empty, "-m", "set b"], b""));
        let keys = tempfile::tempdir().unwrap();
        let trusted = keygen(keys.path(), "trusted");
        let stranger = keygen(keys.path(), "stranger");
        let public = trusted.public_key().to_openssh().unwrap();
        let allowed =
            AllowedSigners::parse("allowed_signers", &format!("dev@example.org {public}\n"))
                .unwrap();
        Self {
            repo,
            _keys: keys,
            set_a,
            set_b,
            trusted,
            stranger,
            allowed,
        }
    }

    fn blob(&self, bytes: &[u8]) -> String {
        self.repo.blob(bytes)
    }

    /// An atom tree: `atom.toml`, a `README`, an executable `build.sh`, a symlink
    /// `link -> README` and `src/main.nix`; `edit` may change the entries first.
    fn tree(
        &self,
        manifest: &str,
        edit: impl FnOnce(&mut Vec<(String, Vec<u8>, String)>),
    ) -> ObjectId {
        let src = self
            .repo
            .tree(&[("100644", b"main.nix", &self.blob(b"{ }\n"))]);
        let mut entries: Vec<(String, Vec<u8>, String)> = vec![
            (
                "100644".into(),
                b"atom.toml".to_vec(),
                self.blob(manifest.as_bytes()),
            ),
            ("100644".into(), b"README".to_vec(), self.blob(b"hello\n")),
            (
                "100755".into(),
                b"build.sh".to_vec(),
                self.blob(b"#!/bin/sh\n"),
            ),
            ("120000".into(), b"link".to_vec(), self.blob(b"README")),
            ("040000".into(), b"src".to_vec(), src),
        ];
        edit(&mut entries);
        let borrowed: Vec<(&str, &[u8], &str)> = entries
            .iter()
            .map(|(mode, name, id)| (mode.as_str(), name.as_slice(), id.as_str()))
            .collect();
        id(&self.repo.tree(&borrowed))
    }

    fn content(&self, tree: ObjectId) -> String {
        hash_tree(&self.repo.open(), tree, &Options::default())
            .unwrap()
            .hash
            .to_string()
    }

    /// Write an atom commit (signed by `key`, if any) and return it.
    fn publish(
        &self,
        set: ObjectId,
        label: &str,
        version: &str,
        tree: ObjectId,
        key: Option<&PrivateKey>,
    ) -> Published {
        let content = self.content(tree);
        let mut commit = AtomCommit::new(
            tree,
            set,
            label,
            &Version::parse(version).unwrap(),
            set,
            label,
            &content,
        )
        .unwrap();
        if let Some(key) = key {
            sign_atom_commit(&mut commit, key).unwrap();
        }
        self.write(commit)
    }

    fn write(&self, commit: AtomCommit) -> Published {
        let commit_id = commit.write(&self.repo.open()).unwrap();
        Published { commit, commit_id }
    }

    fn mirror(&self, set: ObjectId) -> &'static str {
        if set == self.set_a {
            MIRROR_A
        } else {
            MIRROR_B
        }
    }

    /// The lock entry an honest resolver writes for `atom`.
    fn locked(&self, atom: &Published, deps: &[&LockedAtom]) -> LockedAtom {
        let commit = &atom.commit;
        LockedAtom {
            label: commit.label.clone(),
            version: commit.version.clone(),
            set: LockId::parse(&commit.set_root.to_string()).unwrap(),
            id: id_of(commit.set_root, commit.label.as_str()),
            commit: LockId::parse(&atom.commit_id.to_string()).unwrap(),
            content: ContentHash::parse(&commit.content).unwrap(),
            mirrors: vec![parse_set_url(self.mirror(commit.set_root)).unwrap()],
            deps: deps.iter().map(|dep| dep.id.clone()).collect(),
        }
    }

    fn policy(&self) -> Policy<'_> {
        let mut policy = Policy::new(SystemTime::now());
        policy.signers = BTreeMap::from([
            (SetRoot::new(self.set_a), &self.allowed),
            (SetRoot::new(self.set_b), &self.allowed),
        ]);
        policy
    }

    fn verify(&self, lock: &Lockfile, policy: &Policy<'_>) -> Report {
        verify_lock(&self.repo.open(), lock, policy, &atom::progress::Silent).unwrap()
    }
}

fn id_of(set: ObjectId, label: &str) -> AtomIdHex {
    let id = AtomId::new(&SetRoot::new(set), &Label::parse(label).unwrap());
    AtomIdHex::parse(&id.to_string()).unwrap()
}

fn manifest(label: &str, version: &str, deps: &str) -> String {
    format!(
        "[package]\nlabel = \"{label}\"\nversion = \"{version}\"\n\n\
         [package.sets]\nhere = \"::\"\nother = \"{MIRROR_B}\"\n\n{deps}"
    )
}

/// The honest graph: `app` (set a) → `lib` (set a) → `base` (set a), and `app` →
/// `util` (set b, named by URL). Everything signed by the trusted key.
struct Graph {
    lab: Lab,
    app: Published,
    lib: Published,
    base: Published,
    util: Published,
}

const APP_DEPS: &str = "[deps.from.here]\nlib = \"^1\"\n\n[deps.from.other]\nutil = \"^2.1\"\n";
const LIB_DEPS: &str = "[deps.from.here]\nbase = \"~0.3\"\n";

impl Graph {
    fn new() -> Self {
        let lab = Lab::new();
        let key = Some(&lab.trusted);
        let (a, b) = (lab.set_a, lab.set_b);
        let base = lab.publish(
            a,
            "base",
            "0.3.0",
            lab.tree(&manifest("base", "0.3.0", ""), |_| {}),
            key,
        );
        let util = lab.publish(
            b,
            "util",
            "2.1.0",
            lab.tree(&manifest("util", "2.1.0", ""), |_| {}),
            key,
        );
        let lib = lab.publish(
            a,
            "lib",
            "1.2.0",
            lab.tree(&manifest("lib", "1.2.0", LIB_DEPS), |_| {}),
            key,
        );
        let app = lab.publish(
            a,
            "app",
            "1.0.0",
            lab.tree(&manifest("app", "1.0.0", APP_DEPS), |_| {}),
            key,
        );
        Self {
            lab,
            app,
            lib,
            base,
            util,
        }
    }

    /// The honest lock, with `base` replaced by `base` (a variant) when given.
    fn lock_with(&self, base: &Published) -> Lockfile {
        let lab = &self.lab;
        let base = lab.locked(base, &[]);
        let util = lab.locked(&self.util, &[]);
        let lib = lab.locked(&self.lib, &[&base]);
        let app = lab.locked(&self.app, &[&lib, &util]);
        let mut lock = Lockfile {
            atoms: vec![app, lib, base, util],
            nix: Vec::new(),
            follows: Vec::new(),
        };
        lock.sort();
        lock
    }

    fn lock(&self) -> Lockfile {
        self.lock_with(&self.base)
    }

    fn verify(&self, lock: &Lockfile) -> Report {
        self.lab.verify(lock, &self.lab.policy())
    }

    /// A `base` commit with the honest headers (content header included) over
    /// another tree.
    fn base_over(&self, edit: impl FnOnce(&mut Vec<(String, Vec<u8>, String)>)) -> Published {
        let tree = self.lab.tree(&manifest("base", "0.3.0", ""), edit);
        let mut commit = self.base.commit.clone();
        commit.tree = tree;
        sign_atom_commit(&mut commit, &self.lab.trusted).unwrap();
        self.lab.write(commit)
    }
}

fn entry_mut<'a>(
    entries: &'a mut [(String, Vec<u8>, String)],
    name: &str,
) -> &'a mut (String, Vec<u8>, String) {
    entries
        .iter_mut()
        .find(|(_, entry, _)| entry == name.as_bytes())
        .unwrap()
}

/// The index of `label`'s entry in `lock`.
fn position(lock: &Lockfile, label: &str) -> usize {
    lock.atoms
        .iter()
        .position(|atom| atom.label.as_str() == label)
        .unwrap()
}

/// `label`'s entry in `lock`.
fn locked<'a>(lock: &'a Lockfile, label: &str) -> &'a LockedAtom {
    &lock.atoms[position(lock, label)]
}

/// `label`'s entry in `lock`, to edit.
fn locked_mut<'a>(lock: &'a mut Lockfile, label: &str) -> &'a mut LockedAtom {
    let index = position(lock, label);
    &mut lock.atoms[index]
}

/// What the walk found of `label`.
fn atom_report<'a>(report: &'a Report, label: &str) -> &'a AtomReport {
    report
        .atoms
        .iter()
        .find(|atom| atom.label == label)
        .unwrap()
}

/// The kinds of failure per label; atoms that verified are absent.
fn failures(report: &Report) -> BTreeMap<String, Vec<Kind>> {
    report
        .failed()
        .map(|atom| (atom.label.clone(), atom.kinds()))
        .collect()
}

fn only(label: &str, kinds: &[Kind]) -> BTreeMap<String, Vec<Kind>> {
    BTreeMap::from([(label.to_owned(), kinds.to_vec())])
}

#[test]
fn honest_graph_verifies_on_every_run() {
    let graph = Graph::new();
    let lock = graph.lock();
    // Through the text form, as `eka verify` reads it.
    let lock = Lockfile::from_str(&lock.to_string(), "atom.lock").unwrap();
    for _ in 0..5 {
        let report = graph.verify(&lock);
        assert!(report.is_ok(), "{:#?}", failures(&report));
        assert_eq!(report.atoms.len(), 4);
        for atom in &report.atoms {
            let signed = atom.signed.as_ref().unwrap();
            assert_eq!(signed.principal.as_deref(), Some("dev@example.org"));
        }
    }
    // Also with signatures required, and with no policy at all.
    let mut policy = graph.lab.policy();
    policy.require_signed = true;
    assert!(graph.lab.verify(&lock, &policy).is_ok());
    let report = graph.lab.verify(&lock, &Policy::new(SystemTime::now()));
    assert!(report.is_ok());
    assert!(
        report
            .atoms
            .iter()
            .all(|atom| atom.signed.as_ref().unwrap().principal.is_none())
    );
}

#[test]
fn tree_tampering_is_a_content_mismatch_of_that_atom_only() {
    let graph = Graph::new();
    let lab = &graph.lab;
    let flipped = lab.blob(b"hellp\n");
    let other = lab.blob(b"new\n");
    type Edit = Box<dyn FnOnce(&mut Vec<(String, Vec<u8>, String)>)>;
    let edits: Vec<(&str, Edit)> = vec![
        (
            "byte flipped",
            Box::new(move |e| entry_mut(e, "README").2 = flipped),
        ),
        (
            "file added",
            Box::new(move |e| e.push(("100644".into(), b"extra".to_vec(), other))),
        ),
        (
            "file removed",
            Box::new(|e| e.retain(|(_, name, _)| name != b"README")),
        ),
        (
            "exec bit flipped",
            Box::new(|e| entry_mut(e, "build.sh").0 = "100644".into()),
        ),
        (
            "symlink retargeted",
            Box::new({
                let target = lab.blob(b"build.sh");
                move |e| entry_mut(e, "link").2 = target
            }),
        ),
        (
            "file swapped for a symlink",
            Box::new(|e| entry_mut(e, "README").0 = "120000".into()),
        ),
        (
            "renamed",
            Box::new(|e| entry_mut(e, "README").1 = b"README.md".to_vec()),
        ),
    ];
    for (what, edit) in edits {
        let tampered = graph.base_over(edit);
        assert_ne!(tampered.commit.tree, graph.base.commit.tree, "{what}");
        let report = graph.verify(&graph.lock_with(&tampered));
        assert_eq!(
            failures(&report),
            only("base", &[Kind::ContentMismatch, Kind::ContentMismatch]),
            "{what}"
        );
        let base = report
            .atoms
            .iter()
            .find(|atom| atom.label == "base")
            .unwrap();
        let against: Vec<Against> = base
            .failures
            .iter()
            .map(|failure| match failure {
                Failure::ContentMismatch {
                    against, expected, ..
                } => {
                    assert_eq!(expected, &graph.base.commit.content);
                    *against
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(against, [Against::Lock, Against::Header], "{what}");
    }
}

#[test]
fn hostile_tree_is_refused_before_hashing() {
    let graph = Graph::new();
    let lab = &graph.lab;
    let manifest_blob = lab.blob(manifest("base", "0.3.0", "").as_bytes());
    let readme = lab.blob(b"hello\n");
    let tree = id(&lab.repo.raw_tree(&[
        (b"100644", b".git", &readme),
        (b"100644", b"atom.toml", &manifest_blob),
    ]));
    let mut commit = graph.base.commit.clone();
    commit.tree = tree;
    sign_atom_commit(&mut commit, &lab.trusted).unwrap();
    let hostile = lab.write(commit);
    let report = graph.verify(&graph.lock_with(&hostile));
    assert_eq!(failures(&report), only("base", &[Kind::HostileTree]));
}

#[test]
fn lock_edits_are_caught() {
    let graph = Graph::new();

    // The commit of an atom edited to one that does not exist.
    let mut lock = graph.lock();
    let base = position(&lock, "base");
    lock.atoms[base].commit = LockId::parse(&"0123456789".repeat(4)).unwrap();
    assert_eq!(
        failures(&graph.verify(&lock)),
        only("base", &[Kind::MissingCommit])
    );

    // The commit of an atom edited to another atom's commit.
    let mut lock = graph.lock();
    let base = position(&lock, "base");
    lock.atoms[base].commit = LockId::parse(&graph.util.commit_id.to_string()).unwrap();
    let report = failures(&graph.verify(&lock));
    assert_eq!(report.len(), 1);
    let kinds = &report["base"];
    assert!(kinds.contains(&Kind::HeaderMismatch), "{kinds:?}");
    assert!(kinds.contains(&Kind::ContentMismatch), "{kinds:?}");

    // The commit edited to an object that is not an atom commit.
    let mut lock = graph.lock();
    let base = position(&lock, "base");
    lock.atoms[base].commit = LockId::parse(&graph.lab.set_a.to_string()).unwrap();
    assert_eq!(
        failures(&graph.verify(&lock)),
        only("base", &[Kind::NotAtomCommit])
    );
    lock.atoms[base].commit = LockId::parse(&graph.lab.blob(b"hello\n")).unwrap();
    assert_eq!(
        failures(&graph.verify(&lock)),
        only("base", &[Kind::NotAtomCommit])
    );

    // The content hash edited.
    let mut lock = graph.lock();
    let base = position(&lock, "base");
    lock.atoms[base].content = ContentHash::parse(&format!("blake3:{}", "0".repeat(64))).unwrap();
    let report = graph.verify(&lock);
    assert_eq!(failures(&report), only("base", &[Kind::ContentMismatch]));
    let failure = &atom_report(&report, "base").failures[0];
    assert!(matches!(
        failure,
        Failure::ContentMismatch {
            against: Against::Lock,
            ..
        }
    ));

    // The id of the root atom edited.
    let mut lock = graph.lock();
    let app = position(&lock, "app");
    lock.atoms[app].id = AtomIdHex::parse(&"ab".repeat(32)).unwrap();
    assert_eq!(
        failures(&graph.verify(&lock)),
        only("app", &[Kind::IdMismatch])
    );

    // A transitive atom's version edited: its commit and manifest disagree.
    let mut lock = graph.lock();
    let base = position(&lock, "base");
    lock.atoms[base].version = Version::new(0, 3, 1);
    assert_eq!(
        failures(&graph.verify(&lock)),
        only("base", &[Kind::HeaderMismatch, Kind::HeaderMismatch])
    );

    // A transitive atom's label edited (its id follows, as a careful forger would).
    let mut lock = graph.lock();
    let base = position(&lock, "base");
    let forged = id_of(graph.lab.set_a, "basis");
    let old = lock.atoms[base].id.clone();
    lock.atoms[base].label = Label::parse("basis").unwrap();
    lock.atoms[base].id = forged.clone();
    let lib = position(&lock, "lib");
    lock.atoms[lib].deps = BTreeSet::from([forged]);
    assert!(!lock.atoms.iter().any(|atom| atom.id == old));
    let report = failures(&graph.verify(&lock));
    assert_eq!(
        report["basis"],
        [Kind::HeaderMismatch, Kind::HeaderMismatch]
    );
    assert_eq!(report["lib"], [Kind::ClosureBroken, Kind::ClosureBroken]);
    assert_eq!(report.len(), 2);
}

#[test]
fn rewritten_history_and_other_metadata_are_caught() {
    let graph = Graph::new();
    let lab = &graph.lab;

    // History rewritten: the same atom published from another root.
    let empty = lab.repo.tree(&[]);
    let forged_root = id(&lab
        .repo
        .git(&["commit-tree", &empty, "-m", "rewritten"], b""));
    let mut commit = graph.base.commit.clone();
    commit.set_root = forged_root;
    sign_atom_commit(&mut commit, &lab.trusted).unwrap();
    let rewritten = lab.write(commit);
    let mut lock = graph.lock();
    let base = locked_mut(&mut lock, "base");
    base.commit = LockId::parse(&rewritten.commit_id.to_string()).unwrap();
    let report = graph.verify(&lock);
    assert_eq!(failures(&report), only("base", &[Kind::HeaderMismatch]));
    let base = atom_report(&report, "base");
    assert!(matches!(
        &base.failures[0],
        Failure::HeaderMismatch { field: "set", .. }
    ));

    // ... and the lock's set moved along, but not its id: the id and the closure break.
    let base = locked_mut(&mut lock, "base");
    base.set = LockId::parse(&forged_root.to_string()).unwrap();
    let report = failures(&graph.verify(&lock));
    assert_eq!(report["base"], [Kind::IdMismatch]);
    assert_eq!(report["lib"], [Kind::ClosureBroken, Kind::ClosureBroken]);

    // ... and a lock entry forged consistently from the rewritten commit: `lib` wants
    // `base` from its own set (`::`), which the forged entry is not.
    let report = failures(&graph.verify(&graph.lock_with(&rewritten)));
    assert_eq!(
        report,
        only("lib", &[Kind::ClosureBroken, Kind::ClosureBroken])
    );

    // The same tree under other headers: another version.
    let mut commit = graph.base.commit.clone();
    commit.version = Version::new(0, 3, 9);
    sign_atom_commit(&mut commit, &lab.trusted).unwrap();
    let relabelled = lab.write(commit);
    let report = graph.verify(&graph.lock_with(&relabelled));
    // The lock's entry is rebuilt from the commit: its version now disagrees with the
    // manifest inside the tree.
    assert_eq!(failures(&report), only("base", &[Kind::HeaderMismatch]));
    let mut lock = graph.lock_with(&relabelled);
    let base = locked_mut(&mut lock, "base");
    base.version = Version::new(0, 3, 0);
    let report = failures(&graph.verify(&lock));
    assert_eq!(report, only("base", &[Kind::HeaderMismatch]));

    // Another origin over the same tree and content is the same atom: not a failure.
    let mut commit = graph.base.commit.clone();
    commit.origin = lab.set_b;
    sign_atom_commit(&mut commit, &lab.trusted).unwrap();
    let moved = lab.write(commit);
    assert_ne!(moved.commit_id, graph.base.commit_id);
    assert!(graph.verify(&graph.lock_with(&moved)).is_ok());
}

#[test]
fn broken_closures_are_caught() {
    let graph = Graph::new();
    let lab = &graph.lab;

    // The manifest requires `lib ^2`, the lock gives 1.2.0.
    let deps = APP_DEPS.replace("lib = \"^1\"", "lib = \"^2\"");
    let app2 = lab.publish(
        lab.set_a,
        "app",
        "1.0.0",
        lab.tree(&manifest("app", "1.0.0", &deps), |_| {}),
        Some(&lab.trusted),
    );
    let mut lock = graph.lock();
    let app = locked_mut(&mut lock, "app");
    app.commit = LockId::parse(&app2.commit_id.to_string()).unwrap();
    app.content = ContentHash::parse(&app2.commit.content).unwrap();
    let report = graph.verify(&lock);
    assert_eq!(failures(&report), only("app", &[Kind::ClosureBroken]));
    let app = atom_report(&report, "app");
    let Failure::ClosureBroken { reason } = &app.failures[0] else {
        panic!()
    };
    assert!(
        reason.contains("here::lib@^2") && reason.contains("1.2.0"),
        "{reason}"
    );

    // A required dependency dropped from the lock entry, and an unrequired one added.
    let mut lock = graph.lock();
    let util_id = locked(&lock, "util").id.clone();
    let base_id = locked(&lock, "base").id.clone();
    let app = locked_mut(&mut lock, "app");
    app.deps.remove(&util_id);
    app.deps.insert(base_id);
    assert_eq!(
        failures(&graph.verify(&lock)),
        only("app", &[Kind::ClosureBroken, Kind::ClosureBroken])
    );

    // A dependency id that is not locked (the parser refuses it; a lock built in memory
    // may still carry it).
    let mut lock = graph.lock();
    let lib = locked_mut(&mut lock, "lib");
    lib.deps.insert(AtomIdHex::parse(&"cd".repeat(32)).unwrap());
    assert_eq!(
        failures(&graph.verify(&lock)),
        only("lib", &[Kind::ClosureBroken])
    );
}

#[test]
fn signature_policy_is_enforced() {
    let graph = Graph::new();
    let lab = &graph.lab;
    let mut required = lab.policy();
    required.require_signed = true;

    // Unsigned, with signatures required (and not, without).
    let mut commit = graph.base.commit.clone();
    commit.signature = None;
    let unsigned = lab.write(commit);
    let lock = graph.lock_with(&unsigned);
    assert_eq!(
        failures(&lab.verify(&lock, &required)),
        only("base", &[Kind::Unsigned])
    );
    assert!(graph.verify(&lock).is_ok());

    // Signed by a key the set's allowed signers do not know.
    let mut commit = graph.base.commit.clone();
    sign_atom_commit(&mut commit, &lab.stranger).unwrap();
    let stranger = lab.write(commit);
    let lock = graph.lock_with(&stranger);
    assert_eq!(
        failures(&graph.verify(&lock)),
        only("base", &[Kind::UntrustedSigner])
    );
    // With no allowed signers at all, the signature is recorded, and only a
    // requirement makes it a failure.
    assert!(lab.verify(&lock, &Policy::new(SystemTime::now())).is_ok());
    let mut bare = Policy::new(SystemTime::now());
    bare.require_signed = true;
    let report = lab.verify(&lock, &bare);
    assert_eq!(report.failed().count(), 4);
    assert!(
        report
            .atoms
            .iter()
            .all(|atom| atom.kinds() == [Kind::UntrustedSigner])
    );

    // A signature that does not match its commit: made for the honest commit, then
    // the origin header changed under it.
    let mut commit = graph.base.commit.clone();
    commit.origin = lab.set_b;
    let forged = lab.write(commit);
    let lock = graph.lock_with(&forged);
    assert_eq!(
        failures(&graph.verify(&lock)),
        only("base", &[Kind::BadSignature])
    );
    // Whatever the policy.
    let report = lab.verify(&lock, &Policy::new(SystemTime::now()));
    assert_eq!(failures(&report), only("base", &[Kind::BadSignature]));
}

#[test]
fn json_names_the_atom_and_the_kind() {
    let graph = Graph::new();
    let mut lock = graph.lock();
    let base = locked_mut(&mut lock, "base");
    base.content = ContentHash::parse(&format!("blake3:{}", "0".repeat(64))).unwrap();
    let report = graph.verify(&lock);
    let json = serde_json::to_value(&report).unwrap();
    let failed: Vec<&serde_json::Value> = json["atoms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|atom| !atom["failures"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["label"], "base");
    assert_eq!(failed[0]["failures"][0]["kind"], "content-mismatch");
    assert_eq!(failed[0]["failures"][0]["against"], "lock");
    // Every kind's name is the serde tag.
    let moved = Failure::RefMoved {
        expected: "a".into(),
        found: "b".into(),
        mirror: MIRROR_A.into(),
    };
    assert_eq!(
        serde_json::to_value(&moved).unwrap()["kind"],
        moved.kind().as_str()
    );
    let unreachable = Failure::Unreachable {
        mirrors: vec![MIRROR_A.into()],
    };
    assert_eq!(
        serde_json::to_value(&unreachable).unwrap()["kind"],
        "unreachable"
    );
    assert_eq!(
        serde_json::to_value(Failure::Unsigned).unwrap()["kind"],
        "unsigned"
    );
}
