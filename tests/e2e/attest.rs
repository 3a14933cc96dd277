//! `eka attest` and `eka verify --attestations` against real Nix (a private chroot store
//! given through `NIX_CONFIG`), real git and real `ssh-keygen`: the signed tags are
//! accepted by `git verify-tag`, tags made by `git tag -s` are accepted by eka.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use eka_test_support::{Remote, TestRepo, Transport, nix::Nix};

use crate::common::{Run, Sandbox, git};

/// A derivation Nix's chroot store can build without `/bin/sh`.
const ENTRY: &str = "{ atom, ... }: derivation { name = \"hello-${atom.label}\"; \
     system = \"builtin\"; builder = \"builtin:buildenv\"; derivations = \"\"; \
     manifest = builtins.toFile \"manifest\" \"[]\"; }\n";

/// One atom with a derivation entry point, published to a file remote; two builder keys.
struct Attesting {
    remote: Remote,
    repo: TestRepo,
    sandbox: Sandbox,
    nix: Nix,
    keys: tempfile::TempDir,
}

impl Attesting {
    fn new() -> Attesting {
        let keys = tempfile::tempdir().unwrap();
        for name in ["builder", "other"] {
            keygen(keys.path(), name);
        }
        let sandbox = Sandbox::new();
        let remote = Remote::start(Transport::File);
        let repo = TestRepo::init();
        repo.write("ekala.toml", "[set]\npackages = [\"hello\"]\n")
            .write(
                "hello/atom.toml",
                "[package]\nlabel = \"hello\"\nversion = \"0.1.0\"\nentry = \"default.nix\"\n",
            )
            .write("hello/default.nix", ENTRY);
        repo.commit("hello 0.1.0");
        let setup = Attesting {
            remote,
            repo,
            sandbox,
            nix: Nix::new(),
            keys,
        };
        setup
            .eka_in_repo(&["publish", "--all", "--remote", setup.remote.url()])
            .success();
        setup
    }

    fn key(&self, name: &str) -> PathBuf {
        self.keys.path().join(name)
    }

    fn public(&self, name: &str) -> String {
        std::fs::read_to_string(self.keys.path().join(format!("{name}.pub")))
            .unwrap()
            .trim()
            .to_owned()
    }

    fn fingerprint(&self, name: &str) -> String {
        let listed = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(self.keys.path().join(format!("{name}.pub")))
            .output()
            .unwrap();
        String::from_utf8(listed.stdout)
            .unwrap()
            .split_whitespace()
            .nth(1)
            .unwrap()
            .to_owned()
    }

    /// eka with Nix pointed at the private store, in `dir`.
    fn eka_at(&self, dir: &Path, args: &[&str]) -> Run {
        let mut command = self.sandbox.command();
        eka_test_support::nix::remove_host_variables(&mut command);
        command
            .env("NIX_CONFIG", nix_config(&self.nix))
            .env("SSH_AUTH_SOCK", "/nonexistent")
            .current_dir(dir)
            .args(args)
            .stdin(Stdio::null());
        let output = command.output().unwrap();
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn eka_in_repo(&self, args: &[&str]) -> Run {
        self.eka_at(self.repo.path(), args)
    }

    fn attest(&self, key: &str) -> serde_json::Value {
        let key = self.key(key);
        let run = self
            .eka_in_repo(&[
                "--json",
                "attest",
                "--remote",
                self.remote.url(),
                "--key",
                key.to_str().unwrap(),
            ])
            .success();
        serde_json::from_str(&run.stdout).unwrap()
    }

    /// The attestation refs on the remote: (name, id).
    fn attestation_refs(&self) -> Vec<(String, String)> {
        self.repo
            .git()
            .ls_remote(self.remote.url())
            .into_iter()
            .filter(|(name, _)| name.starts_with("refs/eka/attest/") && !name.ends_with("^{}"))
            .collect()
    }

    /// A fresh repository holding the remote's attestation tags (fetched as tags).
    fn fetched(&self) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "-q", "--bare"], None);
        git(
            dir.path(),
            &[
                "fetch",
                "-q",
                self.remote.url(),
                "refs/eka/attest/*:refs/tags/attest/*",
            ],
            None,
        );
        dir
    }

    /// An allowed signers file listing `names` (principal = key name).
    fn allowed_signers(&self, names: &[&str]) -> PathBuf {
        let path = self.keys.path().join("allowed_signers");
        let text: String = names
            .iter()
            .map(|name| format!("{name}@example.org {}\n", self.public(name)))
            .collect();
        std::fs::write(&path, text).unwrap();
        path
    }
}

fn nix_config(nix: &Nix) -> String {
    format!(
        "substituters =\nflake-registry =\nexperimental-features = nix-command flakes\n\
         sandbox = false\nbuild-users-group =\nstore = {}\n",
        nix.store().display()
    )
}

/// A new Ed25519 key pair `dir/name` made by `ssh-keygen`.
fn keygen(dir: &Path, name: &str) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(dir.join(name))
        .status()
        .unwrap();
    assert!(status.success());
}

/// `git verify-tag` with SSH signatures and `allowed`: (success, stderr).
fn git_verify_tag(repo: &Path, allowed: &Path, tag: &str) -> (bool, String) {
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["-c", "gpg.format=ssh", "-c"])
        .arg(format!("gpg.ssh.allowedSignersFile={}", allowed.display()))
        .args(["verify-tag", tag])
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn nix_attest_pushes_a_signed_tag_git_verify_tag_accepts() {
    let setup = Attesting::new();
    let outcome = setup.attest("builder");
    let atom = &outcome["atoms"][0];
    assert_eq!(atom["label"], "hello");
    assert_eq!(atom["status"], "pushed", "{outcome}");
    let output = atom["outputs"][0]["path"].as_str().unwrap().to_owned();
    assert!(output.starts_with("/nix/store/"), "{output}");
    assert!(output.ends_with("-hello-hello"), "{output}");
    // The NAR hash is the store's own.
    let queried = setup
        .nix
        .command("nix-store")
        .arg("--store")
        .arg(setup.nix.store())
        .args(["--query", "--hash", &output])
        .output()
        .unwrap();
    let queried = String::from_utf8(queried.stdout).unwrap();
    let hex = ::nix::Sha256Hash::parse(queried.trim()).unwrap().to_hex();
    assert_eq!(atom["outputs"][0]["nar_sha256"], hex.as_str());

    // One ref, named by label, version, config hash and the signer's fingerprint.
    let refs = setup.attestation_refs();
    assert_eq!(refs.len(), 1, "{refs:?}");
    let config_hash = atom["config_hash"].as_str().unwrap();
    let fingerprint = setup
        .fingerprint("builder")
        .replace([':', '+'], "-")
        .replace('/', "_");
    assert_eq!(
        refs[0].0,
        format!(
            "refs/eka/attest/hello/0.1.0/{}/{fingerprint}",
            config_hash.trim_start_matches("sha256:")
        )
    );
    assert_eq!(refs[0].1, atom["tag"].as_str().unwrap());

    // Stock git accepts the tag; it points to the published atom commit.
    let fetched = setup.fetched();
    let tag = refs[0].0.replacen("refs/eka/attest/", "attest/", 1);
    let allowed = setup.allowed_signers(&["builder"]);
    let (good, stderr) = git_verify_tag(fetched.path(), &allowed, &tag);
    assert!(good, "{stderr}");
    assert!(stderr.contains("Good \"git\" signature"), "{stderr}");
    let target = git(
        fetched.path(),
        &["rev-parse", &format!("{tag}^{{commit}}")],
        None,
    );
    let published = setup
        .repo
        .git()
        .ls_remote(setup.remote.url())
        .into_iter()
        .find(|(name, _)| name == "refs/eka/atoms/hello/0.1.0")
        .unwrap()
        .1;
    assert_eq!(target.trim(), published);
    assert_eq!(atom["commit"], published.as_str());
    // The message is the canonical statement.
    let body = git(fetched.path(), &["cat-file", "tag", &tag], None);
    let statement = body
        .split("\n\n")
        .nth(1)
        .unwrap()
        .split("-----BEGIN SSH SIGNATURE-----")
        .next()
        .unwrap();
    let value: serde_json::Value = serde_json::from_str(statement).unwrap();
    assert_eq!(value.to_string() + "\n", statement);
    assert_eq!(value["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(value["subject"][0]["name"], output.as_str());
    assert_eq!(value["subject"][0]["digest"]["sha256"], hex.as_str());
    // Another key is not accepted by git.
    let other = setup.allowed_signers(&["other"]);
    let (good, _) = git_verify_tag(fetched.path(), &other, &tag);
    assert!(!good);

    // A second builder adds its own ref; the first is never moved.
    let second = setup.attest("other");
    assert_eq!(second["atoms"][0]["status"], "pushed", "{second}");
    let after = setup.attestation_refs();
    assert_eq!(after.len(), 2, "{after:?}");
    assert!(after.contains(&refs[0]));
    // The first builder again: its existing ref is kept.
    let again = setup.attest("builder");
    assert_eq!(again["atoms"][0]["status"], "kept", "{again}");
    assert_eq!(setup.attestation_refs(), after);
}
