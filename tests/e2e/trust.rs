//! The trust policy of `eka.toml` against `eka verify --require-signed`: revoked keys
//! (inline and in a file), negated principals, and two entries for one set.

use std::path::{Path, PathBuf};

use eka_test_support::{Remote, TestRepo, Transport};

use crate::common::{Run, Sandbox};

/// One signed atom `base` published to a file remote, and a consumer locked on it.
struct Signed {
    remote: Remote,
    sandbox: Sandbox,
    keys: tempfile::TempDir,
    /// The signing key's public line.
    public: String,
    /// The signing key's fingerprint, as `ssh-keygen -l` prints it.
    fingerprint: String,
}

impl Signed {
    fn new() -> Signed {
        let keys = tempfile::tempdir().unwrap();
        let key = crate::common::keygen(keys.path(), "signer");
        let (public, fingerprint) = crate::common::public_key(keys.path(), "signer");

        let sandbox = Sandbox::new();
        let remote = Remote::start(Transport::File);
        let repo = TestRepo::init();
        repo.write("ekala.toml", "[set]\npackages = [\"base\"]\n")
            .write(
                "base/atom.toml",
                "[package]\nlabel = \"base\"\nversion = \"0.1.0\"\n",
            )
            .write("base/data.txt", "data\n");
        repo.commit("base 0.1.0");
        let output = sandbox
            .command()
            .current_dir(repo.path())
            .args([
                "publish",
                "--all",
                "--remote",
                remote.url(),
                "--sign",
                "--key",
            ])
            .arg(&key)
            .env("SSH_AUTH_SOCK", "/nonexistent")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        sandbox.write(
            "consumer/atom.toml",
            "[package]\nlabel = \"consumer\"\nversion = \"0.1.0\"\n",
        );
        let url = format!("{}::base", remote.url());
        sandbox.eka_in("consumer", &["add", &url]).success();
        Signed {
            remote,
            sandbox,
            keys,
            public,
            fingerprint,
        }
    }

    /// The consumer's project `eka.toml`.
    fn config(&self) -> PathBuf {
        self.sandbox.path("consumer/eka.toml")
    }

    fn write_config(&self, text: &str) {
        std::fs::write(self.config(), text).unwrap();
    }

    /// `[trust."<remote url>"]` with `body`.
    fn trust(&self, body: &str) {
        self.write_config(&format!("[trust.\"{}\"]\n{body}", self.remote.url()));
    }

    /// `eka [--json] verify --require-signed` with a fresh cache.
    fn verify(&self, json: bool) -> Run {
        let cache = tempfile::tempdir().unwrap();
        let mut command = self.sandbox.command();
        command
            .current_dir(self.sandbox.path("consumer"))
            .env("EKA_CACHE_DIR", cache.path());
        if json {
            command.arg("--json");
        }
        let output = command
            .args(["verify", "--require-signed"])
            .output()
            .unwrap();
        Run::from_output(output)
    }

    /// The failures `--json` reports for `base`: (kind, reason, message).
    fn failures(&self) -> Vec<(String, String, String)> {
        let run = self.verify(true);
        let value: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr));
        let failures: Vec<(String, String, String)> = value["atoms"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|atom| atom["label"] == "base")
            .flat_map(|atom| atom["failures"].as_array().unwrap().clone())
            .map(|failure| {
                let text = |field: &str| failure[field].as_str().unwrap_or_default().to_owned();
                (text("kind"), text("reason"), text("message"))
            })
            .collect();
        let expected = if failures.is_empty() { 0 } else { 1 };
        assert_eq!(run.code, expected, "{value}\n{}", run.stderr);
        failures
    }

    /// The message of `base`'s one failure, which must be an untrusted signer for
    /// `reason`.
    #[track_caller]
    fn only_untrusted_signer(&self, reason: &str) -> String {
        let failures = self.failures();
        assert_eq!(failures.len(), 1, "{failures:?}");
        let (kind, found, message) = &failures[0];
        assert_eq!(
            (kind.as_str(), found.as_str()),
            ("untrusted-signer", reason)
        );
        message.clone()
    }

    /// Another key pair, next to the signer's: its public key file.
    fn keygen(&self, name: &str) -> PathBuf {
        keygen(self.keys.path(), name)
    }
}

/// A new Ed25519 key pair `dir/name` made by `ssh-keygen`: the public key file.
fn keygen(dir: &Path, name: &str) -> PathBuf {
    crate::common::keygen(dir, name);
    dir.join(format!("{name}.pub"))
}

#[test]
fn revoked_keys_refuse_a_listed_signer() {
    let signed = Signed::new();
    let allowed = format!(
        "allowed_signers = [\"dev@example.org {}\"]\n",
        signed.public
    );
    // The control: the signer is allowed.
    signed.trust(&allowed);
    assert_eq!(signed.failures(), []);

    // Revoked inline: refused, whatever the allowed signers say, naming the key.
    signed.trust(&format!(
        "{allowed}revoked_keys = [\"{}\"]\n",
        signed.public
    ));
    let message = signed.only_untrusted_signer("revoked");
    assert_eq!(
        message,
        format!(
            "the commit is signed by the revoked key `{}`",
            signed.fingerprint
        )
    );
    let run = signed.verify(false);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let output = format!("{}{}", run.stdout, run.stderr);
    assert!(
        output.contains(&format!("revoked key `{}`", signed.fingerprint)),
        "{output}"
    );
    assert!(
        output.contains("hint: the set's trust policy revokes this key"),
        "{output}"
    );

    // Revoked in a file, relative to the `eka.toml` naming it, among other keys.
    let stranger = signed.keygen("stranger");
    std::fs::write(
        signed.sandbox.path("consumer/revoked.keys"),
        format!("# lost\n\n{}\n", signed.public),
    )
    .unwrap();
    signed.trust(&format!(
        "{allowed}revoked_keys = [\"{}\", \"revoked.keys\"]\n",
        stranger.display()
    ));
    let message = signed.only_untrusted_signer("revoked");
    assert!(message.contains(&signed.fingerprint), "{message}");

    // Revoking another key only: the signer stays trusted.
    signed.trust(&format!(
        "{allowed}revoked_keys = [\"{}\"]\n",
        stranger.display()
    ));
    assert_eq!(signed.failures(), []);

    // A revoked keys file that does not exist is an error, not an empty list.
    signed.trust(&format!("{allowed}revoked_keys = [\"missing.keys\"]\n"));
    let run = signed.verify(false);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let missing = signed.sandbox.path("consumer/missing.keys");
    assert!(
        run.stderr
            .contains(&format!("cannot read `{}`", missing.display())),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: check that the file exists"),
        "{}",
        run.stderr
    );
}

#[test]
fn negated_principals_only_trust_nobody() {
    let signed = Signed::new();
    signed.trust(&format!(
        "allowed_signers = [\"!dev@example.org {}\"]\n",
        signed.public
    ));
    let message = signed.only_untrusted_signer("not-allowed");
    assert!(message.contains(&signed.fingerprint), "{message}");

    // A positive pattern next to the negated one trusts the key again.
    signed.trust(&format!(
        "allowed_signers = [\"*@example.org,!dev@example.org {}\"]\n",
        signed.public
    ));
    assert_eq!(signed.failures(), []);
}

#[test]
fn two_entries_for_one_set_are_refused() {
    let signed = Signed::new();
    let manifest = signed.sandbox.read("consumer/atom.toml");
    let set = manifest
        .lines()
        .skip_while(|line| line.trim() != "[package.sets]")
        .nth(1)
        .and_then(|line| line.split_once('='))
        .map(|(name, _)| name.trim().to_owned())
        .unwrap_or_else(|| panic!("no set name in:\n{manifest}"));
    let allowed = format!(
        "allowed_signers = [\"dev@example.org {}\"]\n",
        signed.public
    );
    signed.write_config(&format!(
        "[trust.\"{}\"]\n{allowed}\n[trust.{set}]\n{allowed}",
        signed.remote.url()
    ));
    let run = signed.verify(false);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let config = signed.config().display().to_string();
    // Located at the later entry (line 4), naming the earlier one (line 1).
    let expected = format!(
        "{config}:4:8: `[trust.{set}]` names the same set as `[trust.\"{}\"]` at `{config}:1`",
        signed.remote.url()
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: keep one trust entry per set"),
        "{}",
        run.stderr
    );
}

#[test]
fn two_entries_for_one_set_are_refused_before_anything_of_it_is_locked() {
    // A set the manifest declares but nothing is locked from yet: the entries are
    // matched by URL, not only through the set roots of locked atoms.
    let signed = Signed::new();
    let manifest = signed.sandbox.read("consumer/atom.toml");
    let spare = "file:///nowhere/spare.git";
    signed.sandbox.write(
        "consumer/atom.toml",
        &manifest.replacen(
            "[package.sets]\n",
            &format!("[package.sets]\nspare = \"{spare}\"\n"),
            1,
        ),
    );
    let allowed = format!(
        "allowed_signers = [\"dev@example.org {}\"]\n",
        signed.public
    );
    signed.write_config(&format!(
        "[trust.spare]\n{allowed}\n[trust.\"{spare}\"]\n{allowed}"
    ));
    let run = signed.verify(false);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let config = signed.config().display().to_string();
    let expected =
        format!("`[trust.\"{spare}\"]` names the same set as `[trust.spare]` at `{config}:1`");
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
}
