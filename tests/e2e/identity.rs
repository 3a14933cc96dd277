//! Set identity is earned, not claimed. Registry A publishes `base`; registry B is a
//! fork of A (its history holds A's root commit, so its atoms carry A's set root) that
//! publishes `tool` (→ `"::"` `base` and `helper`), `helper` and its own `base`. A consumer configuring
//! `A::base` and `B::tool` keeps A's `base` and lists only A as its mirror; B serving
//! other bytes for a version A serves is refused (exit 1, both URLs named, nothing
//! written); a `base` only B serves is not used, and named with the opt-in when it is
//! required; `[mirrors]` in `eka.toml` configuring B for A's set accepts it. `[mirrors]`
//! also redirects an unreachable URL to a working mirror for `add`, `list`, `verify`
//! and `export --flake`. A `base` only B serves is used when signed by a key the
//! consumer's `[trust.a]` allows (locked with B as its only mirror, and verified), and
//! refused when unsigned, signed by a stranger or by a revoked key; a hand-edited lock
//! naming B for A's `base` fails `eka verify` with `unconfigured-source`. A locked
//! claimant version whose key is revoked later is never moved: every lock-changing
//! command fails naming it; two trusted claimants serving different commits for one
//! version are refused. With real Nix, a lock taking `base` from a trusted claimant
//! exports (`export --flake` pins the claimant) and evaluates (`eval`, `nix eval`).

use std::path::{Path, PathBuf};

use eka_test_support::{Remote, TestRepo, Transport};

use crate::common::{Sandbox, git, snapshot};

/// Fails unless `text` holds every one of `needles`, showing `text`.
fn assert_mentions<S: AsRef<str>>(text: &str, needles: impl IntoIterator<Item = S>) {
    for needle in needles {
        let needle = needle.as_ref();
        assert!(text.contains(needle), "`{needle}` in\n{text}");
    }
}

fn atom_toml(label: &str, version: &str, deps: &str) -> String {
    format!("[package]\nlabel = \"{label}\"\nversion = \"{version}\"\n{deps}")
}

fn publish(sandbox: &Sandbox, dir: &std::path::Path, url: &str) {
    publish_signed(sandbox, dir, url, None);
}

/// `eka publish --all`, signing with the private key `key` when given.
fn publish_signed(sandbox: &Sandbox, dir: &std::path::Path, url: &str, key: Option<&Path>) {
    let mut command = sandbox.command();
    command
        .current_dir(dir)
        .args(["publish", "--all", "--remote", url]);
    if let Some(key) = key {
        command.args(["--sign", "--key"]).arg(key);
    }
    let output = command
        .env("SSH_AUTH_SOCK", "/nonexistent")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What registry B's fork publishes.
#[derive(Clone, Copy)]
enum Fork {
    /// A's refs mirrored, then `base` 1.0.1 (other bytes) and `tool` requiring `base`
    /// at `tool_requires`.
    NewerBase { tool_requires: &'static str },
    /// `base` 1.0.0 with other bytes than A's, and `tool`.
    OtherBytes,
}

/// Registries A and B and a consumer requiring `A::base ^1` and `B::tool ^1`.
struct Fixture {
    a: Remote,
    b: Remote,
    sandbox: Sandbox,
    _fork: tempfile::TempDir,
}

impl Fixture {
    fn new(transport: Transport, fork: Fork) -> Fixture {
        Fixture::with_fork_key(transport, fork, None)
    }

    /// The registries, B's atoms signed with the private key `fork_key` when given.
    fn with_fork_key(transport: Transport, fork: Fork, fork_key: Option<&Path>) -> Fixture {
        Fixture::build(transport, fork, fork_key, false)
    }

    /// The registries; with `nix`, every atom has a Nix entry point (`default.nix`)
    /// naming the registry its `base` comes from.
    fn build(transport: Transport, fork: Fork, fork_key: Option<&Path>, nix: bool) -> Fixture {
        let sandbox = Sandbox::new();
        let entry = if nix { "entry = \"default.nix\"\n" } else { "" };
        let manifest = |label: &str, version: &str, deps: &str| {
            atom_toml(label, version, &format!("{entry}{deps}"))
        };
        let (a, b) = (Remote::start(transport), Remote::start(transport));
        let repo = TestRepo::init();
        repo.write("ekala.toml", "[set]\npackages = [\"base\"]\n")
            .write("base/atom.toml", manifest("base", "1.0.0", ""))
            .write("base/data.txt", "a's data\n");
        if nix {
            repo.write(
                "base/default.nix",
                "{ deps, nix, atom }: builtins.readFile ./data.txt\n",
            );
        }
        repo.commit("base 1.0.0");
        publish(&sandbox, repo.path(), a.url());

        let fork_dir = tempfile::tempdir().unwrap();
        git(
            fork_dir.path(),
            &["clone", "--quiet", repo.path().to_str().unwrap(), "."],
            None,
        );
        let fork_repo = fork_dir.path();
        let write = |relative: &str, text: &str| {
            let path = fork_repo.join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        let tool_requires = match fork {
            Fork::NewerBase { tool_requires } => {
                // A fork mirrors its upstream's published refs.
                git(
                    b.path(),
                    &[
                        "fetch",
                        "--quiet",
                        a.path().to_str().unwrap(),
                        "refs/eka/*:refs/eka/*",
                    ],
                    None,
                );
                write("base/atom.toml", &manifest("base", "1.0.1", ""));
                write("base/data.txt", "b's data\n");
                tool_requires
            }
            Fork::OtherBytes => {
                write("base/data.txt", "b's data\n");
                "^1.0.0"
            }
        };
        write(
            "ekala.toml",
            "[set]\npackages = [\"base\", \"tool\", \"helper\"]\n",
        );
        write("helper/atom.toml", &manifest("helper", "1.0.0", ""));
        if nix {
            write("helper/default.nix", "{ deps, nix, atom }: atom.label\n");
            write("tool/default.nix", "{ deps, nix, atom }: deps.base\n");
        }
        write(
            "tool/atom.toml",
            &manifest(
                "tool",
                "1.0.0",
                &format!(
                    "[package.sets]\nhere = \"::\"\n[deps.from.here]\nbase = \"{tool_requires}\"\n\
                     helper = \"^1\"\n"
                ),
            ),
        );
        git(fork_repo, &["add", "--all"], None);
        git(fork_repo, &["commit", "--quiet", "-m", "fork"], None);
        publish_signed(&sandbox, fork_repo, b.url(), fork_key);

        if nix {
            sandbox.write(
                "consumer/default.nix",
                "{ deps, nix, atom }: { base = deps.base; tool = deps.tool; }\n",
            );
        }
        sandbox.write(
            "consumer/atom.toml",
            &manifest(
                "consumer",
                "0.1.0",
                &format!(
                    "[package.sets]\na = \"{}\"\nb = \"{}\"\n[deps.from.a]\nbase = \"^1\"\n\
                     [deps.from.b]\ntool = \"^1\"\n",
                    a.url(),
                    b.url()
                ),
            ),
        );
        Fixture {
            a,
            b,
            sandbox,
            _fork: fork_dir,
        }
    }

    fn eka(&self, args: &[&str]) -> crate::common::Run {
        self.sandbox.eka_in("consumer", args)
    }

    fn locked(&self, label: &str) -> atom::lock::LockedAtom {
        let lock = self.sandbox.read("consumer/atom.lock");
        let lock = atom::lock::Lockfile::from_str(&lock, "atom.lock").unwrap();
        lock.atoms
            .into_iter()
            .find(|atom| atom.label.as_str() == label)
            .unwrap()
    }

    fn atom_commit(remote: &Remote, label: &str, version: &str) -> String {
        git(
            remote.path(),
            &["rev-parse", &format!("refs/eka/atoms/{label}/{version}")],
            None,
        )
    }

    /// `text` with the two registries' URLs replaced by `[registry-a]` / `[registry-b]`
    /// (for snapshots).
    fn redact(&self, text: &str) -> String {
        text.replace(self.a.url(), "[registry-a]")
            .replace(self.b.url(), "[registry-b]")
    }

    fn mirrors(atom: &atom::lock::LockedAtom) -> Vec<String> {
        atom.mirrors
            .iter()
            .map(|url| url.as_str().to_owned())
            .collect()
    }
}

fn fork_keeps_the_configured_base(transport: Transport) {
    let fixture = Fixture::new(
        transport,
        Fork::NewerBase {
            tool_requires: "^1.0.0",
        },
    );
    let (a, b) = (fixture.a.url(), fixture.b.url());
    fixture.eka(&["resolve"]).success();
    let base = fixture.locked("base");
    assert_eq!(base.version.to_string(), "1.0.0");
    assert_eq!(
        base.commit.to_string(),
        Fixture::atom_commit(&fixture.a, "base", "1.0.0")
    );
    assert_eq!(Fixture::mirrors(&base), vec![a.to_owned()]);
    let tool = fixture.locked("tool");
    assert_eq!(Fixture::mirrors(&tool), vec![b.to_owned()]);
    assert_eq!(tool.set, base.set, "the fork's atoms carry A's set root");
    assert!(tool.deps.contains(&base.id));
    // An atom only the fork publishes is the fork's, and only the fork serves it.
    let helper = fixture.locked("helper");
    assert_eq!(Fixture::mirrors(&helper), vec![b.to_owned()]);
    fixture.eka(&["verify"]).success();
    fixture.eka(&["verify", "--offline"]).success();
}

#[test]
fn a_fork_cannot_speak_for_the_set_it_forked_file() {
    fork_keeps_the_configured_base(Transport::File);
}

#[test]
fn a_fork_cannot_speak_for_the_set_it_forked_http() {
    fork_keeps_the_configured_base(Transport::Http);
}

fn other_bytes_are_refused(transport: Transport) {
    let fixture = Fixture::new(transport, Fork::OtherBytes);
    let run = fixture.eka(&["resolve"]).refused();
    let (a, b) = (fixture.a.url(), fixture.b.url());
    assert_mentions(
        &run.stderr,
        [
            a.to_owned(),
            b.to_owned(),
            "`base` 1.0.0".to_owned(),
            Fixture::atom_commit(&fixture.a, "base", "1.0.0"),
            Fixture::atom_commit(&fixture.b, "base", "1.0.0"),
            "possible tampering".to_owned(),
        ],
    );
    assert!(
        !fixture.sandbox.path("consumer/atom.lock").exists(),
        "nothing written"
    );
    if transport == Transport::File {
        let transcript = fixture.redact(&run.transcript());
        snapshot!("identity_other_bytes_refused", transcript);
    }
}

#[test]
fn a_fork_serving_other_bytes_for_a_version_is_refused_file() {
    other_bytes_are_refused(Transport::File);
}

#[test]
fn a_fork_serving_other_bytes_for_a_version_is_refused_git() {
    other_bytes_are_refused(Transport::Git);
}

#[test]
fn a_version_only_the_fork_serves_is_named_and_opted_into_with_mirrors() {
    let fixture = Fixture::new(
        Transport::File,
        Fork::NewerBase {
            tool_requires: "^1.0.1",
        },
    );
    let (a, b) = (fixture.a.url(), fixture.b.url());
    let run = fixture.eka(&["resolve"]).refused();
    assert_mentions(
        &run.stderr,
        [
            "`base` 1.0.1",
            b,
            "not configured for the set of",
            "hint: if",
            "[mirrors]",
        ],
    );
    assert!(!fixture.sandbox.path("consumer/atom.lock").exists());
    let transcript = fixture.redact(&run.transcript());
    snapshot!("identity_fork_only_version_refused", transcript);

    fixture.sandbox.write(
        "consumer/eka.toml",
        &format!("[mirrors]\n\"{a}\" = [\"{a}\", \"{b}\"]\n"),
    );
    fixture.eka(&["resolve"]).success();
    let base = fixture.locked("base");
    assert_eq!(base.version.to_string(), "1.0.1");
    assert_eq!(
        base.commit.to_string(),
        Fixture::atom_commit(&fixture.b, "base", "1.0.1")
    );
    assert_eq!(Fixture::mirrors(&base), vec![a.to_owned()]);
}

fn mirrors_redirect_an_unreachable_url(transport: Transport) {
    let sandbox = Sandbox::new();
    let remote = Remote::start(transport);
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"base\"]\n")
        .write("base/atom.toml", atom_toml("base", "1.0.0", ""))
        .write("base/data.txt", "data\n");
    repo.commit("base 1.0.0");
    publish(&sandbox, repo.path(), remote.url());
    let gone = tempfile::tempdir().unwrap();
    let original = format!("file://{}/gone.git", gone.path().display());
    sandbox.write("consumer/atom.toml", &atom_toml("consumer", "0.1.0", ""));
    sandbox.write(
        "consumer/eka.toml",
        &format!("[mirrors]\n\"{original}\" = [\"{}\"]\n", remote.url()),
    );
    sandbox
        .eka_in("consumer", &["add", &format!("{original}::base")])
        .success();
    let lock = sandbox.read("consumer/atom.lock");
    assert!(
        lock.contains(&original),
        "the lock names the set's URL:\n{lock}"
    );
    assert!(!lock.contains(remote.url()), "{lock}");
    // A fresh cache: verify fetches the locked commits through `[mirrors]`.
    std::fs::remove_dir_all(sandbox.dir.path().join("cache")).unwrap();
    sandbox.eka_in("consumer", &["verify"]).success();
    sandbox
        .eka_in("consumer", &["verify", "--offline"])
        .success();
    // Without the redirect, the original URL is what eka fetches from.
    std::fs::remove_file(sandbox.path("consumer/eka.toml")).unwrap();
    std::fs::remove_dir_all(sandbox.dir.path().join("cache")).unwrap();
    let run = sandbox.eka_in("consumer", &["verify"]);
    assert_ne!(run.code, 0, "{run:?}");
}

#[test]
fn mirrors_redirect_an_unreachable_url_file() {
    mirrors_redirect_an_unreachable_url(Transport::File);
}

#[test]
fn mirrors_redirect_an_unreachable_url_http() {
    mirrors_redirect_an_unreachable_url(Transport::Http);
}

/// An Ed25519 key pair made by `ssh-keygen` in `dir`: the private key's path, its
/// public line and its fingerprint.
fn keygen(dir: &Path, name: &str) -> (PathBuf, String, String) {
    let key = crate::common::keygen(dir, name);
    let (public, fingerprint) = crate::common::public_key(dir, name);
    (key, public, fingerprint)
}

/// How registry B's `base` 1.0.1 is signed, against a consumer trusting `publisher`
/// for A's set (`[trust.a]`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signing {
    /// By `publisher`.
    Trusted,
    /// Not at all.
    Unsigned,
    /// By a key `[trust.a]` does not list.
    Stranger,
    /// By `publisher`, whose key `[trust.a]` also revokes.
    Revoked,
}

/// Registry B (a fork of A) publishes `base` 1.0.1, which only it serves, and `tool`
/// requiring it; the consumer requires `A::base ^1` and `B::tool`, trusting
/// `publisher`'s key for set `a`.
fn claimant(transport: Transport, signing: Signing) -> (Fixture, String, tempfile::TempDir) {
    claimant_built(transport, signing, false)
}

/// [`claimant`], every atom with a Nix entry point when `nix`.
fn claimant_built(
    transport: Transport,
    signing: Signing,
    nix: bool,
) -> (Fixture, String, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    let (publisher, public, fingerprint) = keygen(keys.path(), "publisher");
    let (stranger, _, stranger_fingerprint) = keygen(keys.path(), "stranger");
    let fork_key = match signing {
        Signing::Trusted | Signing::Revoked => Some(publisher.as_path()),
        Signing::Stranger => Some(stranger.as_path()),
        Signing::Unsigned => None,
    };
    let fixture = Fixture::build(
        transport,
        Fork::NewerBase {
            tool_requires: "^1.0.1",
        },
        fork_key,
        nix,
    );
    let revoked = if signing == Signing::Revoked {
        format!("revoked_keys = [\"{public}\"]\n")
    } else {
        String::new()
    };
    fixture.sandbox.write(
        "consumer/eka.toml",
        &format!("[trust.a]\nallowed_signers = [\"publisher@example.org {public}\"]\n{revoked}"),
    );
    let signer = match signing {
        Signing::Stranger => stranger_fingerprint,
        _ => fingerprint,
    };
    (fixture, signer, keys)
}

fn signed_claimant_is_accepted(transport: Transport) {
    let (fixture, _, keys) = claimant(transport, Signing::Trusted);
    let (a, b) = (fixture.a.url(), fixture.b.url());
    fixture.eka(&["resolve"]).success();
    let base = fixture.locked("base");
    assert_eq!(base.version.to_string(), "1.0.1");
    assert_eq!(
        base.commit.to_string(),
        Fixture::atom_commit(&fixture.b, "base", "1.0.1")
    );
    assert_eq!(
        Fixture::mirrors(&base),
        vec![b.to_owned()],
        "only B serves it"
    );
    let lock = fixture.sandbox.read("consumer/atom.lock");
    assert!(!lock.contains(a), "A serves nothing locked:\n{lock}");
    fixture.eka(&["verify"]).success();
    fixture.eka(&["verify", "--offline"]).success();
    fixture.eka(&["verify", "--require-signed"]).success();
    // Resolving again keeps the lock as it is.
    let before = fixture.sandbox.read("consumer/atom.lock");
    fixture.eka(&["resolve"]).success();
    fixture.eka(&["--locked", "resolve"]).success();
    fixture.eka(&["update"]).success();
    assert_eq!(fixture.sandbox.read("consumer/atom.lock"), before);
    // Every locked tree is fetched from the claimant and checked.
    fixture.eka(&["vendor"]).success();
    fixture.eka(&["vendor", "--check"]).success();
    let copy = Remote::start(Transport::File);
    fixture.eka(&["mirror", copy.url()]).success();
    assert_eq!(
        Fixture::atom_commit(&copy, "base", "1.0.1"),
        base.commit.to_string(),
        "the air-gapped copy holds the claimant's version"
    );
    assert_eq!(fixture.sandbox.read("consumer/atom.lock"), before);
    // The key revoked after locking: the locked atom no longer verifies.
    let public = std::fs::read_to_string(keys.path().join("publisher.pub")).unwrap();
    let config = fixture.sandbox.read("consumer/eka.toml");
    fixture.sandbox.write(
        "consumer/eka.toml",
        &format!("{config}revoked_keys = [\"{}\"]\n", public.trim()),
    );
    let run = fixture.eka(&["verify", "--offline"]).refused();
    assert!(
        run.stdout.contains("base@1.0.1: untrusted-signer"),
        "{run:?}"
    );
    assert!(run.stdout.contains("unconfigured-source"), "{run:?}");
    // Without the trust entry, the lock names a source the consumer no longer trusts.
    std::fs::remove_file(fixture.sandbox.path("consumer/eka.toml")).unwrap();
    let run = fixture.eka(&["verify", "--offline"]).refused();
    assert!(
        run.stdout.contains("unconfigured-source") || run.stderr.contains("unconfigured-source"),
        "{run:?}"
    );
}

#[test]
fn a_claimant_version_signed_by_a_trusted_key_is_accepted_file() {
    signed_claimant_is_accepted(Transport::File);
}

#[test]
fn a_claimant_version_signed_by_a_trusted_key_is_accepted_http() {
    signed_claimant_is_accepted(Transport::Http);
}

fn claimant_is_refused(transport: Transport, signing: Signing) -> crate::common::Run {
    let (fixture, signer, _keys) = claimant(transport, signing);
    let b = fixture.b.url();
    let run = fixture.eka(&["resolve"]).refused();
    let mut needles = vec![
        "`base` 1.0.1".to_owned(),
        b.to_owned(),
        "`[trust.a]` does not vouch for it".to_owned(),
        "[mirrors]".to_owned(),
    ];
    if signing != Signing::Unsigned {
        needles.push(signer);
    }
    assert_mentions(&run.stderr, needles);
    assert!(
        !fixture.sandbox.path("consumer/atom.lock").exists(),
        "nothing written"
    );
    let mut run = run;
    run.stderr = fixture.redact(&run.stderr);
    run
}

#[test]
fn an_unsigned_claimant_version_is_refused_file() {
    let run = claimant_is_refused(Transport::File, Signing::Unsigned);
    snapshot!("identity_claimant_unsigned_refused", run.transcript());
}

#[test]
fn an_unsigned_claimant_version_is_refused_git() {
    claimant_is_refused(Transport::Git, Signing::Unsigned);
}

#[test]
fn a_claimant_version_signed_by_a_stranger_is_refused() {
    let run = claimant_is_refused(Transport::File, Signing::Stranger);
    assert!(
        run.stderr.contains("not an allowed signer"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("allowed_signers"), "{}", run.stderr);
}

#[test]
fn a_claimant_version_signed_by_a_revoked_key_is_refused() {
    let run = claimant_is_refused(Transport::Http, Signing::Revoked);
    assert!(run.stderr.contains("revoked"), "{}", run.stderr);
}

fn hand_edited_lock_naming_a_claimant_fails_verify(transport: Transport) {
    let (fixture, _, _keys) = claimant(transport, Signing::Unsigned);
    let (a, b) = (fixture.a.url(), fixture.b.url());
    // Opted in with `[mirrors]`: the lock names A, as the consumer does.
    fixture.sandbox.write(
        "consumer/eka.toml",
        &format!("[mirrors]\n\"{a}\" = [\"{a}\", \"{b}\"]\n"),
    );
    fixture.eka(&["resolve"]).success();
    assert_eq!(
        Fixture::mirrors(&fixture.locked("base")),
        vec![a.to_owned()]
    );
    // The opt-in dropped and the lock edited by hand to name B for A's `base`.
    std::fs::remove_file(fixture.sandbox.path("consumer/eka.toml")).unwrap();
    let lock = fixture.sandbox.read("consumer/atom.lock");
    let edited = lock.replacen(
        &format!("mirrors = [\n    \"{a}\",\n]"),
        &format!("mirrors = [\n    \"{b}\",\n]"),
        1,
    );
    assert_ne!(lock, edited);
    fixture.sandbox.write("consumer/atom.lock", &edited);
    for args in [&["verify"][..], &["verify", "--offline"][..]] {
        let run = fixture.eka(args).refused();
        let output = format!("{}{}", run.stdout, run.stderr);
        assert_mentions(
            &output,
            ["unconfigured-source", "`base`", b, "[trust.<set>]"],
        );
        if transport == Transport::File && args.len() == 1 {
            let transcript = fixture.redact(&run.transcript());
            snapshot!("identity_unconfigured_source", transcript);
        }
    }
}

#[test]
fn a_hand_edited_lock_naming_a_claimant_fails_verify_file() {
    hand_edited_lock_naming_a_claimant_fails_verify(Transport::File);
}

#[test]
fn a_hand_edited_lock_naming_a_claimant_fails_verify_http() {
    hand_edited_lock_naming_a_claimant_fails_verify(Transport::Http);
}

/// A locked claimant version whose key is revoked after locking: every lock-changing
/// command refuses (exit 1) naming the atom, version, claimant and why, and leaves the
/// lock as it was; nothing moves it to another version.
fn lost_trust_keeps_the_lock(transport: Transport) {
    let (fixture, fingerprint, keys) = claimant(transport, Signing::Trusted);
    let (a, b) = (fixture.a.url(), fixture.b.url());
    fixture.eka(&["resolve"]).success();
    let before = fixture.sandbox.read("consumer/atom.lock");
    let manifest = fixture.sandbox.read("consumer/atom.toml");
    let public = std::fs::read_to_string(keys.path().join("publisher.pub")).unwrap();
    let config = fixture.sandbox.read("consumer/eka.toml");
    fixture.sandbox.write(
        "consumer/eka.toml",
        &format!("{config}revoked_keys = [\"{}\"]\n", public.trim()),
    );
    let helper = format!("{b}::helper");
    // `outdated` asks the resolver what `update` would do: the same refusal.
    let commands: [&[&str]; 6] = [
        &["resolve"],
        &["--locked", "resolve"],
        &["update"],
        &["update", "tool"],
        &["add", &helper],
        &["outdated"],
    ];
    for args in commands {
        let run = fixture.eka(args).refused();
        assert_mentions(
            &format!("{args:?}: {}", run.stderr),
            [
                "locked `base` 1.0.1",
                b,
                "no longer trusted",
                "revoked key",
                &fingerprint,
                "hint: ",
                "never moved",
            ],
        );
        assert_eq!(
            fixture.sandbox.read("consumer/atom.lock"),
            before,
            "{args:?}: the lock is untouched"
        );
        assert_eq!(fixture.sandbox.read("consumer/atom.toml"), manifest);
        if transport == Transport::File && args == ["resolve"] {
            let transcript = fixture
                .redact(&run.transcript())
                .replace(&fingerprint, "[fingerprint]");
            snapshot!("identity_locked_claimant_key_revoked", transcript);
        }
    }
    // Without `tool`, nothing reaches B any more: still refused, naming B, lock untouched.
    let run = fixture.eka(&["remove", "tool"]).refused();
    assert_mentions(
        &run.stderr,
        [
            "locked `base@1.0.1` came from",
            b,
            "not configured for its set",
            a,
        ],
    );
    assert_eq!(fixture.sandbox.read("consumer/atom.lock"), before);
    assert_eq!(fixture.sandbox.read("consumer/atom.toml"), manifest);
    // Naming the atom asks to move it, but no trusted version satisfies `tool`'s
    // `^1.0.1`: refused, naming why the claimant's version is not used.
    let run = fixture.eka(&["update", "base"]).refused();
    assert!(run.stderr.contains("not used"), "{}", run.stderr);
    assert_eq!(fixture.sandbox.read("consumer/atom.lock"), before);
    // The trust entry removed: the same refusal, naming the missing entry.
    std::fs::remove_file(fixture.sandbox.path("consumer/eka.toml")).unwrap();
    let run = fixture.eka(&["resolve"]).refused();
    assert_mentions(
        &run.stderr,
        ["locked `base` 1.0.1", b, "no `[trust.<set>]` entry", a],
    );
    assert_eq!(fixture.sandbox.read("consumer/atom.lock"), before);
    // The owner publishes `base` 1.0.2 (from its own history, before the fork's commit):
    // `eka update base` names the atom, so it may move it, and only to that version,
    // which a configured URL serves.
    let owner = fixture._fork.path();
    git(
        owner,
        &["checkout", "--quiet", "-b", "owner", "HEAD~1"],
        None,
    );
    std::fs::write(owner.join("base/atom.toml"), atom_toml("base", "1.0.2", "")).unwrap();
    git(
        owner,
        &["commit", "--quiet", "--all", "-m", "base 1.0.2"],
        None,
    );
    publish(&fixture.sandbox, owner, a);
    fixture.eka(&["update", "base"]).success();
    let moved = fixture.locked("base");
    assert_eq!(moved.version.to_string(), "1.0.2");
    assert_eq!(Fixture::mirrors(&moved), [a.to_owned()]);
    fixture.eka(&["verify"]).success();
}

#[test]
fn a_locked_claimant_version_whose_key_is_revoked_is_not_moved_file() {
    lost_trust_keeps_the_lock(Transport::File);
}

#[test]
fn a_locked_claimant_version_whose_key_is_revoked_is_not_moved_git() {
    lost_trust_keeps_the_lock(Transport::Git);
}

/// Registries B and C, both forks of A, publish `base` 1.0.1 with different bytes, each
/// signed by the key the consumer trusts for A's set: neither is used, the tampering
/// error names both URLs (exit 1, nothing written).
fn trusted_claimants_disagreeing_are_refused(transport: Transport) {
    let (fixture, _, keys) = claimant(transport, Signing::Trusted);
    let (a, b) = (fixture.a.url(), fixture.b.url());
    let c = Remote::start(transport);
    // C forks B's repository, serving its own `base` 1.0.1 and `gadget` requiring it.
    let fork = tempfile::tempdir().unwrap();
    git(
        fork.path(),
        &[
            "clone",
            "--quiet",
            fixture._fork.path().to_str().unwrap(),
            ".",
        ],
        None,
    );
    let write = |relative: &str, text: &str| {
        let path = fork.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("ekala.toml", "[set]\npackages = [\"base\", \"gadget\"]\n");
    write("base/data.txt", "c's data\n");
    write(
        "gadget/atom.toml",
        &atom_toml(
            "gadget",
            "1.0.0",
            "[package.sets]\nhere = \"::\"\n[deps.from.here]\nbase = \"^1.0.1\"\n",
        ),
    );
    git(fork.path(), &["add", "--all"], None);
    git(fork.path(), &["commit", "--quiet", "-m", "c's fork"], None);
    publish_signed(
        &fixture.sandbox,
        fork.path(),
        c.url(),
        Some(&keys.path().join("publisher")),
    );
    fixture.sandbox.write(
        "consumer/atom.toml",
        &atom_toml(
            "consumer",
            "0.1.0",
            &format!(
                "[package.sets]\na = \"{a}\"\nb = \"{b}\"\nc = \"{}\"\n[deps.from.a]\n\
                 base = \"^1\"\n[deps.from.b]\ntool = \"^1\"\n[deps.from.c]\ngadget = \"^1\"\n",
                c.url()
            ),
        ),
    );
    let run = fixture.eka(&["resolve"]).refused();
    assert_mentions(
        &run.stderr,
        [
            b.to_owned(),
            c.url().to_owned(),
            "`base` 1.0.1".to_owned(),
            Fixture::atom_commit(&fixture.b, "base", "1.0.1"),
            Fixture::atom_commit(&c, "base", "1.0.1"),
            "both signed by keys trusted for the set".to_owned(),
            "possible tampering".to_owned(),
        ],
    );
    assert!(
        !fixture.sandbox.path("consumer/atom.lock").exists(),
        "nothing written"
    );
}

#[test]
fn two_trusted_claimants_serving_different_commits_are_refused_file() {
    trusted_claimants_disagreeing_are_refused(Transport::File);
}

#[test]
fn two_trusted_claimants_serving_different_commits_are_refused_http() {
    trusted_claimants_disagreeing_are_refused(Transport::Http);
}

/// A lock taking `base` from a trusted claimant, exported and evaluated with real Nix:
/// `eka export --flake` pins the claimant's URL, `eka eval` evaluates B's `base`.
#[test]
fn nix_a_claimant_mirrored_lock_exports_and_evaluates() {
    use crate::{flake_export::nix_flake, nix::Nix, nix_common::eka_with_nix};
    let (fixture, _, _keys) = claimant_built(Transport::File, Signing::Trusted, true);
    let (a, b) = (fixture.a.url(), fixture.b.url());
    fixture.eka(&["resolve"]).success();
    let base = fixture.locked("base");
    assert_eq!(Fixture::mirrors(&base), vec![b.to_owned()]);
    let nix = Nix::new();
    let dir = fixture.sandbox.path("consumer");
    let run = |args: &[&str]| {
        let output = eka_with_nix(&fixture.sandbox, &nix, &dir, args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        crate::common::Run::from_output(output)
    };
    let value = run(&["eval"]).success();
    assert_eq!(
        value.stdout.trim(),
        r#"{"base":"b's data\n","tool":"b's data\n"}"#,
        "{}",
        value.stderr
    );
    let flake = tempfile::tempdir().unwrap();
    let flake_dir = flake.path().to_str().unwrap();
    let export = run(&["export", "--flake", "--output", flake_dir]).success();
    let flake_lock = std::fs::read_to_string(flake.path().join("flake.lock")).unwrap();
    let lock: serde_json::Value = serde_json::from_str(&flake_lock).unwrap();
    let nodes = lock["nodes"].as_object().unwrap();
    let pinned: Vec<(&serde_json::Value, &serde_json::Value)> = nodes
        .values()
        .filter(|node| node["locked"]["rev"] == base.commit.to_string().as_str())
        .map(|node| (&node["locked"]["url"], &node["original"]["url"]))
        .collect();
    assert!(!pinned.is_empty(), "base is pinned:\n{flake_lock}");
    for (locked, original) in pinned {
        assert_eq!(locked.as_str(), Some(b), "{flake_lock}");
        assert_eq!(original.as_str(), Some(b), "{flake_lock}");
    }
    assert!(
        !flake_lock.contains(a),
        "A serves nothing locked:\n{flake_lock}"
    );
    // Nix fetches B's `base` from the claimant through the exported flake.
    std::fs::write(
        flake.path().join("flake.nix"),
        format!(
            "{{\n  inputs = {};\n  outputs = {{ self, ... }}@inputs: {{\n    \
             value = builtins.readFile (inputs.base + \"/data.txt\");\n  }};\n}}\n",
            export.stdout.trim()
        ),
    )
    .unwrap();
    let value = nix_flake(
        &nix,
        &["eval", "--no-update-lock-file", "--json"],
        flake.path(),
    );
    assert_eq!(value.code, 0, "{}", value.stderr);
    assert_eq!(value.stdout.trim(), r#""b's data\n""#);
}

/// The project requires `base` from set A (only a trusted claimant, B, serves it) and
/// from an unrelated set C, each with its own trust entry: `eka verify` tells the two
/// `base` atoms apart (by the set root the cache's listing of A shows, or, with a fresh
/// cache, by C's URL), so neither trust entry judges the other set's atom.
#[test]
fn one_label_from_two_sets_is_judged_by_each_sets_own_trust_entry() {
    let (fixture, _, keys) = claimant(Transport::File, Signing::Trusted);
    let (a, b) = (fixture.a.url(), fixture.b.url());
    let c = Remote::start(Transport::File);
    let (c_key, c_public, _) = keygen(keys.path(), "c-publisher");
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"base\"]\n")
        .write("base/atom.toml", atom_toml("base", "2.0.0", ""))
        .write("base/data.txt", "c's data\n");
    repo.commit("c's base 2.0.0");
    publish_signed(&fixture.sandbox, repo.path(), c.url(), Some(&c_key));
    fixture.sandbox.write(
        "consumer/atom.toml",
        &atom_toml(
            "consumer",
            "0.1.0",
            &format!(
                "[package.sets]\na = \"{a}\"\nb = \"{b}\"\nc = \"{}\"\n[deps.from.a]\n\
                 base = \"^1\"\n[deps.from.b]\ntool = \"^1\"\n[deps.from.c]\nbase = \"^2\"\n",
                c.url()
            ),
        ),
    );
    let config = fixture.sandbox.read("consumer/eka.toml");
    fixture.sandbox.write(
        "consumer/eka.toml",
        &format!("{config}[trust.c]\nallowed_signers = [\"c@example.org {c_public}\"]\n"),
    );
    fixture.eka(&["resolve"]).success();
    let lock = fixture.sandbox.read("consumer/atom.lock");
    assert_eq!(lock.matches("label = \"base\"").count(), 2, "{lock}");
    fixture.eka(&["verify"]).success();
    fixture.eka(&["verify", "--offline"]).success();
    // A fresh cache has no listing of A: C's `base` is still C's, by its URL.
    std::fs::remove_dir_all(fixture.sandbox.dir.path().join("cache")).unwrap();
    fixture.eka(&["verify"]).success();
    // Revoking C's key fails C's `base` only, by `[trust.c]`.
    let config = fixture.sandbox.read("consumer/eka.toml");
    fixture.sandbox.write(
        "consumer/eka.toml",
        &format!("{config}revoked_keys = [\"{c_public}\"]\n"),
    );
    let run = fixture.eka(&["verify", "--offline"]).refused();
    assert!(run.stdout.contains("FAILED base@2.0.0"), "{run:?}");
    assert!(run.stdout.contains("ok base@1.0.1"), "{run:?}");
}
