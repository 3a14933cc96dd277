//! `eka verify`: a three-level graph published with `eka publish` on real servers, a
//! consumer locked with `eka add`, then a tamper matrix: each kind of tampering of the
//! mirror or of the lock must exit 1 and be named in `--json`.

use std::path::{Path, PathBuf};

use eka_test_support::{Remote, TestRepo, Transport};

use crate::common::{Run, Sandbox, atom_toml, atom_toml_with, git, snapshot};

const HERE: &str = "[package.sets]\nhere = \"::\"\n";

/// The set: `base` 0.1.0 then 0.2.0 (files, an executable, a symlink), `mid` 1.0.0
/// (→ `base ^0.2`), `app` 1.0.0 (→ `mid ^1`); a consumer locked on `app`.
struct Fixture {
    remote: Remote,
    sandbox: Sandbox,
    /// `refs/eka/*` of the remote as published.
    refs: Vec<(String, String)>,
    /// The consumer's `atom.lock` as written by `eka add`.
    lock: String,
}

fn publish(sandbox: &Sandbox, repo: &TestRepo, url: &str, extra: &[&str]) {
    let output = sandbox
        .command()
        .current_dir(repo.path())
        .args(["publish", "--all", "--remote", url])
        .args(extra)
        .env("SSH_AUTH_SOCK", "/nonexistent")
        .output()
        .unwrap();
    Run::from_output(output).success();
}

impl Fixture {
    fn new(transport: Transport, sign_key: Option<&Path>) -> Fixture {
        let sandbox = Sandbox::new();
        let remote = Remote::start(transport);
        let url = remote.url().to_owned();
        let sign: Vec<&str> = match sign_key {
            Some(key) => vec!["--sign", "--key", key.to_str().unwrap()],
            None => Vec::new(),
        };
        let repo = TestRepo::init();
        repo.write("ekala.toml", "[set]\npackages = [\"base\"]\n")
            .write("base/atom.toml", atom_toml("base", "0.1.0"))
            .write("base/data.txt", "old data\n");
        repo.commit("base 0.1.0");
        publish(&sandbox, &repo, &url, &sign);
        repo.write(
            "ekala.toml",
            "[set]\npackages = [\"base\", \"mid\", \"app\"]\n",
        )
        .write("base/atom.toml", atom_toml("base", "0.2.0"))
        .write("base/data.txt", "data\n")
        .write("base/run.sh", "echo run\n")
        .write(
            "mid/atom.toml",
            atom_toml_with(
                "mid",
                "1.0.0",
                &format!("{HERE}[deps.from.here]\nbase = \"^0.2\"\n"),
            ),
        )
        .write("mid/lib.nix", "{ }\n")
        .write(
            "app/atom.toml",
            atom_toml_with(
                "app",
                "1.0.0",
                &format!("{HERE}[deps.from.here]\nmid = \"^1\"\n"),
            ),
        )
        .write("app/main.nix", "{ }\n");
        std::os::unix::fs::symlink("data.txt", repo.path().join("base/link")).unwrap();
        let mode: std::fs::Permissions = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(repo.path().join("base/run.sh"), mode).unwrap();
        repo.commit("base 0.2.0, mid, app");
        publish(&sandbox, &repo, &url, &sign);

        sandbox.write("consumer/atom.toml", &atom_toml("consumer", "0.1.0"));
        sandbox
            .eka_in("consumer", &["add", &format!("{url}::app")])
            .success();
        let lock = sandbox.read("consumer/atom.lock");
        let refs = eka_refs(remote.path());
        Fixture {
            remote,
            sandbox,
            refs,
            lock,
        }
    }

    /// Put the remote's refs and the consumer's lock back as published.
    fn restore(&self) {
        let current = eka_refs(self.remote.path());
        let mut script = String::new();
        for (name, _) in &current {
            script.push_str(&format!("delete {name}\n"));
        }
        git(
            self.remote.path(),
            &["update-ref", "--stdin"],
            Some(script.as_bytes()),
        );
        let mut script = String::new();
        for (name, id) in &self.refs {
            script.push_str(&format!("create {name} {id}\n"));
        }
        git(
            self.remote.path(),
            &["update-ref", "--stdin"],
            Some(script.as_bytes()),
        );
        assert_eq!(eka_refs(self.remote.path()), self.refs);
        self.sandbox.write("consumer/atom.lock", &self.lock);
    }

    /// `eka verify --json args…` with a fresh cache directory.
    fn verify(&self, args: &[&str]) -> (Run, serde_json::Value) {
        let cache = tempfile::tempdir().unwrap();
        let output = self
            .sandbox
            .command()
            .current_dir(self.sandbox.path("consumer"))
            .env("EKA_CACHE_DIR", cache.path())
            .args(["--json", "verify"])
            .args(args)
            .output()
            .unwrap();
        let run = Run::from_output(output);
        let value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr));
        (run, value)
    }

    fn remote_git(&self, args: &[&str], stdin: Option<&[u8]>) -> String {
        git(self.remote.path(), args, stdin)
    }

    fn atom_commit(&self, label: &str, version: &str) -> String {
        self.remote_git(
            &["rev-parse", &format!("refs/eka/atoms/{label}/{version}")],
            None,
        )
    }

    /// A new commit: `base@0.2.0`'s commit bytes with its tree replaced by `tree` and
    /// `edit` applied to the text; written into the remote.
    fn forge(&self, tree: Option<&str>, edit: &dyn Fn(String) -> String) -> String {
        let original = self.atom_commit("base", "0.2.0");
        let text = self.remote_git(&["cat-file", "commit", &original], None);
        let mut text = text + "\n";
        if let Some(tree) = tree {
            let first = text.lines().next().unwrap().to_owned();
            text = text.replacen(&first, &format!("tree {tree}"), 1);
        }
        let text = edit(text);
        self.remote_git(
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            Some(text.as_bytes()),
        )
    }

    /// `base@0.2.0`'s tree with its top-level entries edited (`git mktree`).
    fn tree(&self, edit: &dyn Fn(&Self, Vec<String>) -> Vec<String>) -> String {
        let original = self.atom_commit("base", "0.2.0");
        let listing = self.remote_git(&["ls-tree", &format!("{original}^{{tree}}")], None);
        let lines = edit(self, listing.lines().map(str::to_owned).collect());
        self.remote_git(&["mktree"], Some((lines.join("\n") + "\n").as_bytes()))
    }

    fn blob(&self, content: &str) -> String {
        self.remote_git(&["hash-object", "-w", "--stdin"], Some(content.as_bytes()))
    }

    fn move_ref(&self, label: &str, version: &str, commit: &str) {
        self.remote_git(
            &[
                "update-ref",
                &format!("refs/eka/atoms/{label}/{version}"),
                commit,
            ],
            None,
        );
    }

    /// Edit the consumer's lock: replace `from` by `to` (exactly once present).
    fn edit_lock(&self, from: &str, to: &str) {
        self.sandbox.replace_once("consumer/atom.lock", from, to);
    }

    fn locked(&self, label: &str) -> atom::lock::LockedAtom {
        let lock = atom::lock::Lockfile::from_str(&self.lock, "atom.lock").unwrap();
        lock.atoms
            .into_iter()
            .find(|atom| atom.label.as_str() == label)
            .unwrap()
    }
}

fn eka_refs(bare: &Path) -> Vec<(String, String)> {
    let listing = git(
        bare,
        &[
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/eka/",
        ],
        None,
    );
    let mut refs: Vec<(String, String)> = listing
        .lines()
        .filter_map(|line| line.split_once(' '))
        .map(|(name, id)| (name.to_owned(), id.to_owned()))
        .collect();
    refs.sort();
    refs
}

/// The failure kinds `--json` reports for `label`.
fn kinds(value: &serde_json::Value, label: &str) -> Vec<String> {
    value["atoms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|atom| atom["label"] == label)
        .flat_map(|atom| atom["failures"].as_array().unwrap().clone())
        .map(|failure| failure["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[track_caller]
fn assert_clean(fixture: &Fixture, args: &[&str]) {
    let (run, value) = fixture.verify(args);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(value["ok"], true);
    let atoms = value["atoms"].as_array().unwrap();
    assert_eq!(atoms.len(), 3, "{value}");
    for atom in atoms {
        assert_eq!(atom["verdict"], "ok", "{atom}");
        assert!(atom["failures"].as_array().unwrap().is_empty(), "{atom}");
    }
}

type Tamper = fn(&Fixture);

/// Replace `base@0.2.0` on the mirror by a commit with `tree`; with `relock`, the lock
/// points at the forged commit too (its lock entry otherwise unchanged).
fn swap_tree(fixture: &Fixture, tree: &str, relock: bool) {
    let forged = fixture.forge(Some(tree), &|text| text);
    fixture.move_ref("base", "0.2.0", &forged);
    if relock {
        let old = fixture.locked("base").commit.to_string();
        fixture.edit_lock(&old, &forged);
    }
}

fn replace_line(lines: Vec<String>, name: &str, line: Option<String>) -> Vec<String> {
    let mut lines: Vec<String> = lines
        .into_iter()
        .filter(|entry| !entry.ends_with(&format!("\t{name}")))
        .collect();
    lines.extend(line);
    lines
}

fn entry_of(lines: &[String], name: &str) -> (String, String) {
    let line = lines
        .iter()
        .find(|entry| entry.ends_with(&format!("\t{name}")))
        .unwrap();
    let fields: Vec<&str> = line.split_whitespace().collect();
    (fields[0].to_owned(), fields[2].to_owned())
}

fn flipped_byte(fixture: &Fixture) -> String {
    fixture.tree(&|fixture, lines| {
        let blob = fixture.blob("data\x01");
        replace_line(
            lines,
            "data.txt",
            Some(format!("100644 blob {blob}\tdata.txt")),
        )
    })
}

fn added_file(fixture: &Fixture) -> String {
    fixture.tree(&|fixture, lines| {
        let blob = fixture.blob("extra\n");
        replace_line(
            lines,
            "extra.txt",
            Some(format!("100644 blob {blob}\textra.txt")),
        )
    })
}

fn removed_file(fixture: &Fixture) -> String {
    fixture.tree(&|_, lines| replace_line(lines, "data.txt", None))
}

fn exec_bit(fixture: &Fixture) -> String {
    fixture.tree(&|_, lines| {
        let (_, blob) = entry_of(&lines, "run.sh");
        replace_line(lines, "run.sh", Some(format!("100644 blob {blob}\trun.sh")))
    })
}

fn symlink_target(fixture: &Fixture) -> String {
    fixture.tree(&|fixture, lines| {
        let (mode, _) = entry_of(&lines, "link");
        assert_eq!(mode, "120000");
        let blob = fixture.blob("run.sh");
        replace_line(lines, "link", Some(format!("120000 blob {blob}\tlink")))
    })
}

fn file_to_symlink(fixture: &Fixture) -> String {
    fixture.tree(&|fixture, lines| {
        let blob = fixture.blob("atom.toml");
        replace_line(
            lines,
            "data.txt",
            Some(format!("120000 blob {blob}\tdata.txt")),
        )
    })
}

fn renamed(fixture: &Fixture) -> String {
    fixture.tree(&|_, lines| {
        let (_, blob) = entry_of(&lines, "data.txt");
        replace_line(
            lines,
            "data.txt",
            Some(format!("100644 blob {blob}\tdata.dat")),
        )
    })
}

/// The tamper matrix: (name, tamper, atom, expected kind).
fn cases() -> Vec<(&'static str, Tamper, &'static str, &'static str)> {
    vec![
        (
            "ref moved to another commit",
            |f| {
                let other = f.atom_commit("mid", "1.0.0");
                f.move_ref("base", "0.2.0", &other);
            },
            "base",
            "ref-moved",
        ),
        (
            "same tree, other metadata under the ref",
            |f| {
                let forged = f.forge(None, &|text| {
                    let origin = text
                        .lines()
                        .find(|line| line.starts_with("eka-origin "))
                        .unwrap()
                        .to_owned();
                    text.replacen(&origin, &format!("eka-origin {}", "1".repeat(40)), 1)
                });
                f.move_ref("base", "0.2.0", &forged);
            },
            "base",
            "ref-moved",
        ),
        (
            "byte flipped (mirror)",
            |f| swap_tree(f, &flipped_byte(f), false),
            "base",
            "ref-moved",
        ),
        (
            "byte flipped (locked)",
            |f| swap_tree(f, &flipped_byte(f), true),
            "base",
            "content-mismatch",
        ),
        (
            "file added (mirror)",
            |f| swap_tree(f, &added_file(f), false),
            "base",
            "ref-moved",
        ),
        (
            "file added (locked)",
            |f| swap_tree(f, &added_file(f), true),
            "base",
            "content-mismatch",
        ),
        (
            "file removed",
            |f| swap_tree(f, &removed_file(f), true),
            "base",
            "content-mismatch",
        ),
        (
            "exec bit flipped",
            |f| swap_tree(f, &exec_bit(f), true),
            "base",
            "content-mismatch",
        ),
        (
            "symlink target changed",
            |f| swap_tree(f, &symlink_target(f), true),
            "base",
            "content-mismatch",
        ),
        (
            "file swapped for a symlink",
            |f| swap_tree(f, &file_to_symlink(f), true),
            "base",
            "content-mismatch",
        ),
        (
            "file renamed",
            |f| swap_tree(f, &renamed(f), true),
            "base",
            "content-mismatch",
        ),
        (
            "rename (mirror)",
            |f| swap_tree(f, &renamed(f), false),
            "base",
            "ref-moved",
        ),
        (
            "lock commit edited",
            |f| {
                let old = f.locked("base").commit.to_string();
                let other = f.atom_commit("base", "0.1.0");
                f.edit_lock(&old, &other);
            },
            "base",
            "header-mismatch",
        ),
        (
            "lock commit edited to a non-atom commit",
            |f| {
                let old = f.locked("base").commit.to_string();
                let origin = f.remote_git(&["rev-parse", "refs/eka/meta/base/0.2.0/origin"], None);
                f.edit_lock(&old, &origin);
            },
            "base",
            "not-atom-commit",
        ),
        (
            "lock commit edited to a commit nowhere",
            |f| {
                let old = f.locked("base").commit.to_string();
                f.edit_lock(&old, &"d".repeat(40));
            },
            "base",
            "missing-commit",
        ),
        (
            "lock content hash edited",
            |f| {
                let old = f.locked("base").content.to_string();
                let hex = old.trim_start_matches("blake3:");
                let flipped = if hex.starts_with('0') { "1" } else { "0" };
                f.edit_lock(&old, &format!("blake3:{flipped}{}", &hex[1..]));
            },
            "base",
            "content-mismatch",
        ),
        (
            "lock id edited",
            |f| {
                let id = f.locked("base").id.to_string();
                let flipped = if id.starts_with('0') { "1" } else { "0" };
                let new = format!("{flipped}{}", &id[1..]);
                let lock = f.sandbox.read("consumer/atom.lock").replace(&id, &new);
                f.sandbox.write("consumer/atom.lock", &lock);
            },
            "base",
            "id-mismatch",
        ),
        (
            "transitive atom's entry edited (version)",
            |f| f.edit_lock("version = \"0.2.0\"", "version = \"0.1.0\""),
            "base",
            "header-mismatch",
        ),
        (
            "transitive atom's entry edited: dependant's closure",
            |f| f.edit_lock("version = \"0.2.0\"", "version = \"0.1.0\""),
            "mid",
            "closure-broken",
        ),
        (
            "history rewritten with another root (mirror)",
            |f| {
                let root = f.locked("base").set.to_string();
                let forged = f.forge(None, &|text| text.replace(&root, &"e".repeat(40)));
                f.move_ref("base", "0.2.0", &forged);
            },
            "base",
            "ref-moved",
        ),
        (
            "history rewritten with another root (locked)",
            |f| {
                let root = f.locked("base").set.to_string();
                let forged = f.forge(None, &|text| text.replace(&root, &"e".repeat(40)));
                f.move_ref("base", "0.2.0", &forged);
                let old = f.locked("base").commit.to_string();
                f.edit_lock(&old, &forged);
            },
            "base",
            "header-mismatch",
        ),
        (
            "mirror serving an older version under the same ref",
            |f| {
                let older = f.atom_commit("base", "0.1.0");
                f.move_ref("base", "0.2.0", &older);
            },
            "base",
            "ref-moved",
        ),
        (
            "mirror no longer serving the locked version",
            |f| {
                f.remote_git(&["update-ref", "-d", "refs/eka/atoms/base/0.2.0"], None);
            },
            "base",
            "ref-moved",
        ),
    ]
}

#[test]
fn verify_is_clean_then_detects_every_tamper_kind() {
    let fixture = Fixture::new(Transport::File, None);
    for _ in 0..3 {
        assert_clean(&fixture, &[]);
    }
    // Human output: one verdict per atom; `--json`: the same verdicts as a document.
    let run = fixture.sandbox.eka_in("consumer", &["verify"]).success();
    snapshot!("verify_clean", run.transcript());
    let (run, _) = fixture.verify(&[]);
    snapshot!("verify_clean_json", run.transcript());
    let cases = cases();
    assert!(cases.len() >= 14);
    for (name, tamper, label, kind) in cases {
        fixture.restore();
        tamper(&fixture);
        let (run, value) = fixture.verify(&[]);
        assert_eq!(run.code, 1, "{name}: {}\n{}", run.stdout, run.stderr);
        assert_eq!(value["ok"], false, "{name}");
        let found = kinds(&value, label);
        assert!(
            found.iter().any(|found| found == kind),
            "{name}: expected `{kind}` on `{label}`, found {found:?}\n{value:#}"
        );
    }
    // The human form names the atom and kind.
    fixture.restore();
    flipped_byte(&fixture);
    swap_tree(&fixture, &flipped_byte(&fixture), true);
    let run = fixture.sandbox.eka_in("consumer", &["verify"]).refused();
    snapshot!("verify_tampered", run.transcript());
    let (run, _) = fixture.verify(&[]);
    snapshot!("verify_tampered_json", run.transcript());
    // After restoring, everything verifies again (no state kept across runs).
    fixture.restore();
    assert_clean(&fixture, &[]);
}

#[test]
fn verify_names_select_an_atom_and_its_dependencies() {
    let fixture = Fixture::new(Transport::File, None);
    let (run, value) = fixture.verify(&["mid"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let mut labels: Vec<&str> = value["atoms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|atom| atom["label"].as_str().unwrap())
        .collect();
    labels.sort_unstable();
    assert_eq!(labels, ["base", "mid"]);
    let run = fixture
        .sandbox
        .eka_in("consumer", &["verify", "nothing"])
        .refused();
    assert!(
        run.stderr.contains("`nothing` is not locked"),
        "{}",
        run.stderr
    );
}

#[test]
fn verify_root_closure_and_offline() {
    let fixture = Fixture::new(Transport::File, None);
    // The root's own requirement is no longer met by the lock.
    let manifest = fixture.sandbox.read("consumer/atom.toml");
    let edited = manifest.replace("app = \"^1.0.0\"", "app = \"^2\"");
    assert_ne!(edited, manifest, "{manifest}");
    fixture.sandbox.write("consumer/atom.toml", &edited);
    let (run, value) = fixture.verify(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        value["root_failures"][0]["kind"], "closure-broken",
        "{value}"
    );
    fixture.sandbox.write("consumer/atom.toml", &manifest);

    // `--offline` with an empty cache: every commit is not in the cache (not a missing
    // commit: no mirror was asked); then fill and re-run.
    let cache = tempfile::tempdir().unwrap();
    let run_with = |args: &[&str]| {
        fixture
            .sandbox
            .command()
            .current_dir(fixture.sandbox.path("consumer"))
            .env("EKA_CACHE_DIR", cache.path())
            .args(args)
            .output()
            .unwrap()
    };
    let output = run_with(&["--offline", "--json", "verify"]);
    assert_eq!(output.status.code(), Some(1));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(kinds(&value, "base").contains(&"not-cached".to_owned()));
    assert!(!kinds(&value, "base").contains(&"missing-commit".to_owned()));
    assert_eq!(run_with(&["verify"]).status.code(), Some(0));
    let output = run_with(&["--frozen", "verify"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Offline, a moved ref is not seen (nothing is listed); online it is.
    let other = fixture.atom_commit("mid", "1.0.0");
    fixture.move_ref("base", "0.2.0", &other);
    assert_eq!(run_with(&["--offline", "verify"]).status.code(), Some(0));
    assert_eq!(run_with(&["verify"]).status.code(), Some(1));
}

#[test]
fn verify_over_git_and_http() {
    for transport in [Transport::Git, Transport::Http] {
        let fixture = Fixture::new(transport, None);
        assert_clean(&fixture, &[]);
        swap_tree(&fixture, &flipped_byte(&fixture), true);
        let (run, value) = fixture.verify(&[]);
        assert_eq!(run.code, 1, "{transport}: {}", run.stderr);
        assert!(
            kinds(&value, "base").contains(&"content-mismatch".to_owned()),
            "{transport}: {value}"
        );
        fixture.restore();
        let other = fixture.atom_commit("mid", "1.0.0");
        fixture.move_ref("base", "0.2.0", &other);
        let (run, value) = fixture.verify(&[]);
        assert_eq!(run.code, 1, "{transport}: {}", run.stderr);
        assert!(
            kinds(&value, "base").contains(&"ref-moved".to_owned()),
            "{transport}: {value}"
        );
    }
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, String) {
    let key = crate::common::keygen(dir, name);
    let public = std::fs::read_to_string(dir.join(format!("{name}.pub"))).unwrap();
    (key, public.trim().to_owned())
}

fn trust(fixture: &Fixture, public: &str) {
    let config = fixture.sandbox.dir.path().join("config/eka/eka.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    let url = fixture.remote.url();
    std::fs::write(
        config,
        format!("[trust.\"{url}\"]\nallowed_signers = [\"dev@example.org {public}\"]\n"),
    )
    .unwrap();
}

#[test]
fn require_signed_and_trust_policy() {
    // Unsigned atoms fail `--require-signed` with `unsigned`.
    let unsigned = Fixture::new(Transport::File, None);
    let (run, value) = unsigned.verify(&["--require-signed"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    for label in ["app", "mid", "base"] {
        assert_eq!(kinds(&value, label), ["unsigned"], "{value}");
    }

    let keys = tempfile::tempdir().unwrap();
    let (key, public) = keygen(keys.path(), "signer");
    let (_, stranger) = keygen(keys.path(), "stranger");
    let signed = Fixture::new(Transport::File, Some(&key));
    // Signed, allowed signers configured for the set: passes, principal reported.
    trust(&signed, &public);
    let (run, value) = signed.verify(&["--require-signed"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(value["atoms"][0]["signed"]["principal"], "dev@example.org");
    // Signed by a key the allowed signers do not list.
    trust(&signed, &stranger);
    let (run, value) = signed.verify(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(kinds(&value, "base"), ["untrusted-signer"], "{value}");
}

#[test]
fn update_never_downgrades_and_warns_of_vanished_versions() {
    let fixture = Fixture::new(Transport::File, None);
    let sandbox = &fixture.sandbox;
    // A consumer of `base` alone, whose requirement allows 0.1.0 too.
    sandbox.write("direct/atom.toml", &atom_toml("direct", "0.1.0"));
    let url = fixture.remote.url();
    sandbox
        .eka_in("direct", &["add", &format!("{url}::base")])
        .success();
    let manifest = sandbox.read("direct/atom.toml");
    let loose = manifest.replace("base = \"^0.2.0\"", "base = \">=0.1.0\"");
    assert_ne!(loose, manifest, "{manifest}");
    sandbox.write("direct/atom.toml", &loose);
    sandbox.eka_in("direct", &["resolve"]).success();
    let locked = sandbox.read("direct/atom.lock");
    assert!(locked.contains("version = \"0.2.0\""), "{locked}");

    // The mirror drops `base@0.2.0` (a rollback of the set).
    for reference in [
        "refs/eka/atoms/base/0.2.0",
        "refs/eka/meta/base/0.2.0/manifest",
        "refs/eka/meta/base/0.2.0/origin",
    ] {
        fixture.remote_git(&["update-ref", "-d", reference], None);
    }
    // `eka resolve` keeps the locked version as a floor and says it vanished.
    let run = sandbox.eka_in("direct", &["resolve"]).refused();
    assert!(
        run.stderr
            .contains("locked `base@0.2.0` is no longer published"),
        "{}",
        run.stderr
    );
    assert_eq!(sandbox.read("direct/atom.lock"), locked);
    // `eka update` of everything refuses to move `base` down.
    let run = sandbox.eka_in("direct", &["update"]).refused();
    assert!(
        run.stderr
            .contains("refusing to downgrade `base` 0.2.0 -> 0.1.0"),
        "{}",
        run.stderr
    );
    assert_eq!(sandbox.read("direct/atom.lock"), locked);
    // Naming it is asking for it.
    let run = sandbox.eka_in("direct", &["update", "base"]).success();
    assert!(run.stderr.contains("base 0.2.0 -> 0.1.0"), "{}", run.stderr);

    // In the three-level graph nothing older fits: the refusal names the vanished version.
    let run = sandbox.eka_in("consumer", &["update"]).refused();
    assert!(run.stderr.contains("no longer published"), "{}", run.stderr);
    assert_eq!(sandbox.read("consumer/atom.lock"), fixture.lock);
}
