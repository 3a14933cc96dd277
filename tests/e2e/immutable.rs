//! A published version is immutable. Once `atom.lock` pins `base` 1.0.0 at an atom
//! commit, a mirror that serves another commit for 1.0.0 (its ref force-moved to another
//! tree, or to the same tree with the signature stripped) or a lock edited by hand is
//! refused by `eka resolve`, `eka update`, `eka update base`, `eka add` and
//! `eka remove` with exit 1, both files left byte-identical. A version the lock no
//! longer needs is not checked: `eka update` still moves to a newer one.

use std::path::Path;

use eka_test_support::{Remote, TestRepo, Transport};

use crate::common::{Run, Sandbox, atom_toml, git, keygen, snapshot};

/// A set `base`, `other`, `extra` (all 1.0.0) published to a remote, and a consumer
/// locked on `base` and `other`.
struct Fixture {
    remote: Remote,
    repo: TestRepo,
    sandbox: Sandbox,
    sign: Vec<String>,
}

impl Fixture {
    fn new(transport: Transport, sign_key: Option<&Path>) -> Fixture {
        let sandbox = Sandbox::new();
        let remote = Remote::start(transport);
        let sign = match sign_key {
            Some(key) => vec![
                "--sign".to_owned(),
                "--key".to_owned(),
                key.to_str().unwrap().to_owned(),
            ],
            None => Vec::new(),
        };
        let repo = TestRepo::init();
        repo.write(
            "ekala.toml",
            "[set]\npackages = [\"base\", \"other\", \"extra\"]\n",
        )
        .write("base/atom.toml", atom_toml("base", "1.0.0"))
        .write("base/data.txt", "data\n")
        .write("other/atom.toml", atom_toml("other", "1.0.0"))
        .write("extra/atom.toml", atom_toml("extra", "1.0.0"));
        repo.commit("base, other, extra 1.0.0");
        let fixture = Fixture {
            remote,
            repo,
            sandbox,
            sign,
        };
        fixture.publish(&[]);
        fixture
            .sandbox
            .write("consumer/atom.toml", &atom_toml("consumer", "0.1.0"));
        let url = fixture.url();
        fixture
            .eka(&["add", &format!("{url}::base"), &format!("{url}::other")])
            .success();
        fixture
    }

    fn url(&self) -> String {
        self.remote.url().to_owned()
    }

    /// `eka publish` the atoms in `paths` (every atom when empty).
    fn publish(&self, paths: &[&str]) {
        let all: &[&str] = if paths.is_empty() { &["--all"] } else { paths };
        let output = self
            .sandbox
            .command()
            .current_dir(self.repo.path())
            .arg("publish")
            .args(all)
            .args(["--remote", self.remote.url()])
            .args(&self.sign)
            .env("SSH_AUTH_SOCK", "/nonexistent")
            .output()
            .unwrap();
        Run::from_output(output).success();
    }

    /// Run eka in the consumer.
    fn eka(&self, args: &[&str]) -> Run {
        self.sandbox.eka_in("consumer", args)
    }

    /// The consumer's `atom.toml` and `atom.lock`.
    fn files(&self) -> (String, String) {
        (
            self.sandbox.read("consumer/atom.toml"),
            self.sandbox.read("consumer/atom.lock"),
        )
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

    /// Write `base@1.0.0`'s commit text after `edit` as a new commit; its id.
    fn forge(&self, edit: &dyn Fn(&Self, String) -> String) -> String {
        let original = self.atom_commit("base", "1.0.0");
        let text = self.remote_git(&["cat-file", "commit", &original], None) + "\n";
        let text = edit(self, text);
        let forged = self.remote_git(
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            Some(text.as_bytes()),
        );
        assert_ne!(forged, original);
        forged
    }

    /// Force-move `base@1.0.0`'s atom ref and its origin ref to `commit`.
    fn force_move(&self, commit: &str) {
        let script = format!(
            "update refs/eka/atoms/base/1.0.0 {commit}\n\
             update refs/eka/meta/base/1.0.0/origin {commit}\n"
        );
        self.remote_git(&["update-ref", "--stdin"], Some(script.as_bytes()));
        assert_eq!(self.atom_commit("base", "1.0.0"), commit);
    }

    /// Edit the consumer's lock: replace `from` by `to` (exactly once present).
    fn edit_lock(&self, from: &str, to: &str) {
        self.sandbox.replace_once("consumer/atom.lock", from, to);
    }

    /// The locked `base`.
    fn locked_base(&self) -> atom::lock::LockedAtom {
        let lock = self.sandbox.read("consumer/atom.lock");
        let lock = atom::lock::Lockfile::from_str(&lock, "atom.lock").unwrap();
        lock.atoms
            .into_iter()
            .find(|atom| atom.label.as_str() == "base")
            .unwrap()
    }

    /// Every lock command refuses with exit 1 naming `base` 1.0.0, the mirror, `locked`
    /// and `served`, and writes nothing. Returns the `eka resolve` run.
    #[track_caller]
    fn assert_every_command_refuses(&self, locked: &str, served: &str) -> Run {
        let url = self.url();
        let before = self.files();
        let extra = format!("{url}::extra");
        let commands: [&[&str]; 5] = [
            &["resolve"],
            &["update"],
            &["update", "base"],
            &["add", &extra],
            &["remove", "other"],
        ];
        let mut runs = Vec::new();
        for args in commands {
            let run = self.eka(args).refused();
            for needle in ["`base` 1.0.0", url.as_str(), locked, served] {
                assert!(
                    run.stderr.contains(needle),
                    "eka {args:?}: `{needle}` missing from\n{}",
                    run.stderr
                );
            }
            assert!(
                run.stderr
                    .contains("hint: run `eka verify`; if the publisher really replaced"),
                "eka {args:?}:\n{}",
                run.stderr
            );
            assert!(!run.stdout.contains("Updating"), "eka {args:?}: {run:?}");
            assert_eq!(self.files(), before, "eka {args:?} wrote the files");
            runs.push(run);
        }
        runs.swap_remove(0)
    }
}

/// `base@1.0.0`'s tree with `data.txt` replaced.
fn other_tree(fixture: &Fixture) -> String {
    let original = fixture.atom_commit("base", "1.0.0");
    let listing = fixture.remote_git(&["ls-tree", &format!("{original}^{{tree}}")], None);
    let blob = fixture.remote_git(&["hash-object", "-w", "--stdin"], Some(b"forged\n"));
    let mut lines: Vec<String> = listing
        .lines()
        .filter(|line| !line.ends_with("\tdata.txt"))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len() + 1, listing.lines().count(), "{listing}");
    lines.push(format!("100644 blob {blob}\tdata.txt"));
    fixture.remote_git(&["mktree"], Some((lines.join("\n") + "\n").as_bytes()))
}

/// The same commit with its tree replaced.
fn with_other_tree(fixture: &Fixture, text: String) -> String {
    let tree = other_tree(fixture);
    let first = text.lines().next().unwrap().to_owned();
    assert!(first.starts_with("tree "), "{text}");
    text.replacen(&first, &format!("tree {tree}"), 1)
}

/// The same commit without its `gpgsig` header (and its continuation lines).
fn without_signature(_: &Fixture, text: String) -> String {
    let mut kept = Vec::new();
    let mut in_signature = false;
    let mut in_headers = true;
    for line in text.split('\n') {
        if in_headers && line.is_empty() {
            in_headers = false;
        }
        if in_headers && line.starts_with("gpgsig ") {
            in_signature = true;
            continue;
        }
        if in_signature && line.starts_with(' ') {
            continue;
        }
        in_signature = false;
        kept.push(line);
    }
    let stripped = kept.join("\n");
    assert_ne!(stripped, text, "the commit was not signed:\n{text}");
    stripped
}

#[test]
fn version_moved_to_another_tree_is_refused_by_every_lock_command() {
    let fixture = Fixture::new(Transport::File, None);
    let locked = fixture.locked_base().commit.to_string();
    assert_eq!(locked, fixture.atom_commit("base", "1.0.0"));
    // Untampered, resolving changes nothing.
    let before = fixture.files();
    fixture.eka(&["resolve"]).success();
    assert_eq!(fixture.files(), before);

    let forged = fixture.forge(&with_other_tree);
    fixture.force_move(&forged);
    let run = fixture.assert_every_command_refuses(&locked, &forged);
    snapshot!("rewritten_version_refused", run.transcript());
    // `--locked` refuses too, and `eka verify` still reports the moved ref.
    fixture.eka(&["resolve", "--locked"]).refused();
    fixture.eka(&["verify"]).refused();
}

#[test]
fn version_moved_is_refused_over_git_daemon_and_http() {
    for transport in [Transport::Git, Transport::Http] {
        let fixture = Fixture::new(transport, None);
        let locked = fixture.locked_base().commit.to_string();
        let forged = fixture.forge(&with_other_tree);
        fixture.force_move(&forged);
        let before = fixture.files();
        for args in [&["resolve"][..], &["update", "base"]] {
            let run = fixture.eka(args).refused();
            assert!(
                run.stderr.contains(&locked) && run.stderr.contains(&forged),
                "{transport}: eka {args:?}:\n{}",
                run.stderr
            );
            assert!(run.stderr.contains(fixture.remote.url()), "{}", run.stderr);
            assert_eq!(fixture.files(), before, "{transport}: eka {args:?}");
        }
    }
}

#[test]
fn version_with_signature_stripped_is_refused() {
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "signer");
    let fixture = Fixture::new(Transport::File, Some(&key));
    let locked = fixture.locked_base().commit.to_string();
    let stripped = fixture.forge(&without_signature);
    // Same tree, only the signature gone.
    assert_eq!(
        fixture.remote_git(&["rev-parse", &format!("{stripped}^{{tree}}")], None),
        fixture.remote_git(&["rev-parse", &format!("{locked}^{{tree}}")], None),
    );
    fixture.force_move(&stripped);
    fixture.assert_every_command_refuses(&locked, &stripped);
}

#[test]
fn lock_edited_by_hand_is_refused_not_repaired() {
    let fixture = Fixture::new(Transport::File, None);
    let base = fixture.locked_base();
    let served = base.commit.to_string();

    // The commit: an atom's commit the lock does not pin in its place.
    let edited = fixture.atom_commit("extra", "1.0.0");
    fixture.edit_lock(
        &format!("commit = \"{served}\""),
        &format!("commit = \"{edited}\""),
    );
    let run = fixture.assert_every_command_refuses(&edited, &served);
    assert!(
        run.stderr.contains("the lock pins commit"),
        "{}",
        run.stderr
    );
    snapshot!("edited_lock_refused", run.transcript());
    fixture.edit_lock(
        &format!("commit = \"{edited}\""),
        &format!("commit = \"{served}\""),
    );
    fixture.eka(&["resolve"]).success();

    // The content hash: the commit is right, the hash is not.
    let content = base.content.to_string();
    let (scheme, digest) = content.split_once(':').unwrap();
    let flipped = if digest.starts_with('0') { "1" } else { "0" };
    let edited = format!("{scheme}:{flipped}{}", &digest[1..]);
    fixture.edit_lock(&content, &edited);
    let run = fixture.assert_every_command_refuses(&edited, &content);
    assert!(
        run.stderr.contains("the lock pins content hash"),
        "{}",
        run.stderr
    );
}

#[test]
fn update_moves_to_a_newer_version_even_past_a_rewritten_one() {
    let fixture = Fixture::new(Transport::File, None);
    fixture
        .repo
        .write("base/atom.toml", atom_toml("base", "1.1.0"))
        .write("base/data.txt", "data 1.1\n");
    fixture.repo.commit("base 1.1.0");
    fixture.publish(&["base"]);
    let new = fixture.atom_commit("base", "1.1.0");

    // Clean: resolve keeps 1.0.0, update moves to 1.1.0.
    let before = fixture.files();
    fixture.eka(&["resolve"]).success();
    assert_eq!(fixture.files(), before);
    let run = fixture.eka(&["update"]).success();
    assert!(
        run.stdout.contains("1.0.0 -> 1.1.0") || run.stderr.contains("1.0.0 -> 1.1.0"),
        "{run:?}"
    );
    let base = fixture.locked_base();
    assert_eq!(base.version.to_string(), "1.1.0");
    assert_eq!(base.commit.to_string(), new);

    // 1.0.0 rewritten, the lock back on it: `eka update base` leaves it for 1.1.0 (the
    // rewritten version is no longer needed, so it is not checked); `resolve` refuses.
    fixture.sandbox.write("consumer/atom.lock", &before.1);
    let locked = fixture.locked_base().commit.to_string();
    let forged = fixture.forge(&with_other_tree);
    fixture.force_move(&forged);
    fixture.eka(&["resolve"]).refused();
    assert_eq!(fixture.files(), before);
    assert!(locked != forged);
    fixture.eka(&["update", "base"]).success();
    let base = fixture.locked_base();
    assert_eq!(base.version.to_string(), "1.1.0");
    assert_eq!(base.commit.to_string(), new);
}
