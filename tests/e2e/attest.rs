//! `eka attest` and `eka verify --attestations` against real Nix (a private chroot store
//! given through `NIX_CONFIG`), real git and real `ssh-keygen`: the signed tags are
//! accepted by `git verify-tag`, tags made by `git tag -s` are accepted by eka. Attested
//! outputs are realised from binary caches written by `nix copy` (signed with a key made
//! by `nix key generate-secret`), read from disk and served over http by lighttpd.

use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use eka_test_support::{Remote, TestRepo, Transport, nix::Nix, server::HttpFileServer};

use crate::common::{Run, Sandbox, git, snapshot};

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
            crate::common::keygen(keys.path(), name);
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
        crate::common::public_key(self.keys.path(), name).0
    }

    fn fingerprint(&self, name: &str) -> String {
        crate::common::public_key(self.keys.path(), name).1
    }

    /// eka with Nix pointed at the private store, in `dir`.
    fn eka_at(&self, dir: &Path, args: &[&str]) -> Run {
        self.eka_with(&self.nix, dir, args)
    }

    /// eka with Nix pointed at `nix`'s store, in `dir`.
    fn eka_with(&self, nix: &Nix, dir: &Path, args: &[&str]) -> Run {
        let mut command = self.sandbox.command();
        eka_test_support::nix::remove_host_variables(&mut command);
        command
            .env("NIX_CONFIG", nix_config(nix))
            .env("SSH_AUTH_SOCK", "/nonexistent")
            .current_dir(dir)
            .args(args)
            .stdin(Stdio::null());
        let output = command.output().unwrap();
        Run::from_output(output)
    }

    fn eka_in_repo(&self, args: &[&str]) -> Run {
        self.eka_at(self.repo.path(), args)
    }

    fn attest(&self, key: &str) -> serde_json::Value {
        self.attest_with(key, &[])
    }

    /// `eka --json attest` signed with `key`, with `extra` arguments (`--set k=v`).
    fn attest_with(&self, key: &str, extra: &[&str]) -> serde_json::Value {
        let key = self.key(key);
        let mut args = vec![
            "--json",
            "attest",
            "--remote",
            self.remote.url(),
            "--key",
            key.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let run = self.eka_in_repo(&args).success();
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

impl Attesting {
    /// A consumer locked on `hello`, trusting `trusted` (and revoking `revoked`).
    fn consumer(&self, trusted: &[&str], revoked: &[&str]) -> PathBuf {
        let dir = self.sandbox.path("consumer");
        if !dir.join("atom.lock").exists() {
            self.sandbox.write(
                "consumer/atom.toml",
                "[package]\nlabel = \"consumer\"\nversion = \"0.1.0\"\n",
            );
            let url = format!("{}::hello", self.remote.url());
            self.eka_at(&dir, &["add", &url]).success();
        }
        let list = |names: &[&str]| {
            names
                .iter()
                .map(|name| format!("\"{name}@example.org {}\"", self.public(name)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let revoked_keys: Vec<String> = revoked
            .iter()
            .map(|name| format!("\"{}\"", self.public(name)))
            .collect();
        self.sandbox.write(
            "consumer/eka.toml",
            &format!(
                "[trust.\"{}\"]\nallowed_signers = [{}]\nrevoked_keys = [{}]\n",
                self.remote.url(),
                list(trusted),
                revoked_keys.join(", ")
            ),
        );
        dir
    }

    /// `eka --json verify --attestations <extra>` in the consumer: (exit code, JSON of
    /// `hello`).
    fn verify(&self, nix: &Nix, extra: &[&str]) -> (i32, serde_json::Value) {
        let dir = self.sandbox.path("consumer");
        let mut args = vec!["--json", "verify", "--attestations"];
        args.extend_from_slice(extra);
        let run = self.eka_with(nix, &dir, &args);
        let value: serde_json::Value = serde_json::from_str(&run.stdout)
            .unwrap_or_else(|error| panic!("{error}: {}\n{}", run.stdout, run.stderr));
        let hello = value["atoms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|atom| atom["label"] == "hello")
            .unwrap()
            .clone();
        (run.code, hello)
    }

    /// The kinds of `hello`'s attestation failures.
    fn failure_kinds(hello: &serde_json::Value) -> Vec<String> {
        hello["attestations"]["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|failure| failure["kind"].as_str().unwrap().to_owned())
            .collect()
    }

    /// A tag made by `git tag -s` (SSH, key `key`) over `message`, pointing to `object`,
    /// pushed to `reference` on the remote (forced).
    fn git_tag(&self, key: &str, name: &str, message: &str, object: &str, reference: &str) {
        let file = self.keys.path().join(format!("{name}.msg"));
        std::fs::write(&file, message).unwrap();
        let key = self.key(key);
        self.repo.run([
            "-c",
            "gpg.format=ssh",
            "-c",
            &format!("user.signingkey={}", key.display()),
            "tag",
            "-s",
            "-F",
            file.to_str().unwrap(),
            name,
            object,
        ]);
        self.repo.run([
            "push",
            "-q",
            "--force",
            self.remote.url(),
            &format!("refs/tags/{name}:{reference}"),
        ]);
    }

    /// The statement of the tag at `reference` on the remote.
    fn statement(&self, reference: &str) -> String {
        let fetched = self.fetched();
        let tag = reference.replacen("refs/eka/attest/", "attest/", 1);
        let body = git(fetched.path(), &["cat-file", "tag", &tag], None);
        body.split("\n\n")
            .nth(1)
            .unwrap()
            .split("-----BEGIN SSH SIGNATURE-----")
            .next()
            .unwrap()
            .to_owned()
    }

    /// The ref `name`'s signer would publish under for `hello`.
    fn reference(&self, config_hash: &str, name: &str) -> String {
        let fingerprint = self
            .fingerprint(name)
            .replace([':', '+'], "-")
            .replace('/', "_");
        format!("refs/eka/attest/hello/0.1.0/{config_hash}/{fingerprint}")
    }
}

#[test]
fn nix_verify_checks_attestations_against_the_trust_policy_and_the_lock() {
    let setup = Attesting::new();
    let cache = tempfile::tempdir().unwrap();
    let cache_url = format!("file://{}", cache.path().display());
    let attested = setup.attest_with("builder", &["--copy-to", &cache_url]);
    let config_hash = attested["atoms"][0]["config_hash"]
        .as_str()
        .unwrap()
        .trim_start_matches("sha256:")
        .to_owned();
    let builder_ref = setup.reference(&config_hash, "builder");

    // Trusted: ok, attested by the builder.
    setup.consumer(&["builder"], &[]);
    let (code, hello) = setup.verify(&setup.nix, &["--require-attested"]);
    assert_eq!(code, 0, "{hello}");
    assert_eq!(hello["verdict"], "ok");
    let by = &hello["attestations"]["attested_by"];
    assert_eq!(by[0]["principal"], "builder@example.org", "{hello}");
    assert_eq!(by[0]["reference"], builder_ref.as_str());

    // Offline, attestations cannot be listed: refused, never passed silently.
    let offline = setup.eka_with(
        &setup.nix,
        &setup.sandbox.path("consumer"),
        &[
            "--offline",
            "verify",
            "--attestations",
            "--require-attested",
        ],
    );
    assert_eq!(offline.code, 1, "{}", offline.stderr);
    assert!(offline.stderr.contains("`--offline`"), "{}", offline.stderr);

    // From a binary cache made by `nix copy`, into an empty store: the same NAR.
    let fresh = Nix::new();
    let (code, hello) = setup.verify(&fresh, &["--substituters", &cache_url]);
    assert_eq!(code, 0, "{hello}");
    // An empty cache cannot serve it.
    let empty = tempfile::tempdir().unwrap();
    let empty_url = format!("file://{}", empty.path().display());
    let (code, hello) = setup.verify(&Nix::new(), &["--substituters", &empty_url]);
    assert_eq!(code, 1);
    assert_eq!(Attesting::failure_kinds(&hello), ["output-unavailable"]);

    // A cache serving other bytes for the attested path (a consistent narinfo, so Nix
    // accepts them without signatures): the NAR hash differs from the attestation.
    let output = attested["atoms"][0]["outputs"][0]["path"].as_str().unwrap();
    let lying = lying_cache(&setup.nix, output);
    let lying_url = format!("file://{}", lying.path().display());
    let (code, hello) = setup.verify(&Nix::new(), &["--substituters", &lying_url]);
    assert_eq!(code, 1, "{hello}");
    assert_eq!(Attesting::failure_kinds(&hello), ["output-mismatch"]);

    // Untrusted signer: refused, and nothing trusted is left under --require-attested.
    setup.consumer(&["other"], &[]);
    let (code, hello) = setup.verify(&setup.nix, &["--require-attested"]);
    assert_eq!(code, 1);
    assert_eq!(
        Attesting::failure_kinds(&hello),
        ["attestation-untrusted", "unattested"]
    );
    assert_eq!(
        hello["attestations"]["failures"][0]["signature"],
        "unknown-key"
    );
    // Revoked: refused by name.
    setup.consumer(&["builder"], &["builder"]);
    let (code, hello) = setup.verify(&setup.nix, &[]);
    assert_eq!(code, 1);
    assert_eq!(hello["attestations"]["failures"][0]["signature"], "revoked");
    // Expired: the builder's key stopped being valid before now (judged now, not at the
    // tagger date the signer chose).
    setup.sandbox.write(
        "consumer/eka.toml",
        &format!(
            "[trust.\"{}\"]\nallowed_signers = ['builder@example.org valid-before=\"20200101\" {}']\n",
            setup.remote.url(),
            setup.public("builder")
        ),
    );
    let (code, hello) = setup.verify(&setup.nix, &["--require-attested"]);
    assert_eq!(code, 1);
    assert_eq!(
        Attesting::failure_kinds(&hello),
        ["attestation-untrusted", "unattested"]
    );
    assert_eq!(hello["attestations"]["failures"][0]["signature"], "expired");

    // A tag made by `git tag -s` over a statement by the other builder is accepted.
    let statement = setup.statement(&builder_ref);
    let other_fingerprint = setup.fingerprint("other");
    let builder_fingerprint = setup.fingerprint("builder");
    let other_statement = statement.replace(&builder_fingerprint, &other_fingerprint);
    let commit = attested["atoms"][0]["commit"].as_str().unwrap().to_owned();
    let other_ref = setup.reference(&config_hash, "other");
    setup.git_tag("other", "by-other", &other_statement, &commit, &other_ref);
    setup.consumer(&["builder", "other"], &[]);
    let (code, hello) = setup.verify(&setup.nix, &["--require-attested"]);
    assert_eq!(code, 0, "{hello}");
    assert_eq!(
        hello["attestations"]["attested_by"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Another builder attesting other output bytes: a reproducibility alarm naming both.
    let sha = statement.split("\"sha256\":\"").nth(1).unwrap()[..64].to_owned();
    let lying = other_statement.replace(&sha, &"0".repeat(64));
    setup.git_tag("other", "lying", &lying, &commit, &other_ref);
    let (code, hello) = setup.verify(&setup.nix, &[]);
    assert_eq!(code, 1);
    assert_eq!(Attesting::failure_kinds(&hello), ["irreproducible"]);
    let alarm = hello["attestations"]["failures"][0].to_string();
    assert!(
        alarm.contains("builder@example.org") && alarm.contains("other@example.org"),
        "{alarm}"
    );

    // The statement names another commit.
    let source = setup.repo.head();
    let wrong = other_statement.replace(&commit, &source);
    setup.git_tag("other", "wrong-statement", &wrong, &commit, &other_ref);
    let (_, hello) = setup.verify(&setup.nix, &[]);
    assert_eq!(Attesting::failure_kinds(&hello), ["attestation-mismatch"]);
    // The tag points to another commit.
    setup.git_tag(
        "other",
        "wrong-object",
        &other_statement,
        &source,
        &other_ref,
    );
    let (_, hello) = setup.verify(&setup.nix, &[]);
    assert_eq!(
        Attesting::failure_kinds(&hello),
        ["attestation-wrong-commit"]
    );
    // The builder's ref moved to the other builder's tag.
    setup.git_tag("other", "moved", &other_statement, &commit, &builder_ref);
    setup.repo.run([
        "push",
        "-q",
        "--force",
        setup.remote.url(),
        &format!("refs/tags/by-other:{other_ref}"),
    ]);
    let (code, hello) = setup.verify(&setup.nix, &[]);
    assert_eq!(code, 1);
    assert_eq!(Attesting::failure_kinds(&hello), ["attestation-ref-moved"]);
}

/// A binary cache serving a directory holding one file `other` as `store_path`.
fn lying_cache(nix: &Nix, store_path: &str) -> tempfile::TempDir {
    let cache = tempfile::tempdir().unwrap();
    lie_in(nix, cache.path(), store_path);
    cache
}

/// Make the binary cache `cache` serve a directory holding one file `other` as
/// `store_path`: a NAR of other bytes and a consistent, unsigned narinfo replacing its
/// own.
fn lie_in(nix: &Nix, cache: &Path, store_path: &str) {
    let content = cache.join("content");
    std::fs::create_dir(&content).unwrap();
    std::fs::write(content.join("other"), "other bytes\n").unwrap();
    std::fs::create_dir_all(cache.join("nar")).unwrap();
    let nar_path = cache.join("nar/other.nar");
    let dumped = nix
        .command("nix-store")
        .arg("--dump")
        .arg(&content)
        .output()
        .unwrap();
    assert!(dumped.status.success());
    std::fs::write(&nar_path, &dumped.stdout).unwrap();
    let hashed = nix
        .command("nix-hash")
        .args(["--type", "sha256", "--base32", "--flat"])
        .arg(&nar_path)
        .output()
        .unwrap();
    let nar_hash = String::from_utf8(hashed.stdout).unwrap();
    std::fs::write(
        cache.join("nix-cache-info"),
        "StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n",
    )
    .unwrap();
    std::fs::write(
        narinfo(cache, store_path),
        format!(
            "StorePath: {store_path}\nURL: nar/other.nar\nCompression: none\n\
             NarHash: sha256:{}\nNarSize: {}\nReferences: \n",
            nar_hash.trim(),
            dumped.stdout.len()
        ),
    )
    .unwrap();
    std::fs::remove_dir_all(&content).unwrap();
}

/// The narinfo of `store_path` in the binary cache `cache`.
fn narinfo(cache: &Path, store_path: &str) -> PathBuf {
    let hash_part = store_path
        .trim_start_matches("/nix/store/")
        .split('-')
        .next()
        .unwrap();
    cache.join(format!("{hash_part}.narinfo"))
}

/// A binary cache signing key made by `nix key generate-secret`: (secret key file,
/// public key).
fn cache_key(nix: &Nix, dir: &Path, name: &str) -> (PathBuf, String) {
    let nix_key = |args: &[&str], input: Option<&Path>| {
        let mut command = nix.command("nix");
        command.args(["--extra-experimental-features", "nix-command", "key"]);
        command.args(args);
        if let Some(input) = input {
            command.stdin(std::fs::File::open(input).unwrap());
        }
        let output = command.output().unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let secret = dir.join(format!("{name}.secret"));
    std::fs::write(
        &secret,
        nix_key(&["generate-secret", "--key-name", name], None),
    )
    .unwrap();
    let public = nix_key(&["convert-secret-to-public"], Some(&secret));
    (secret, public.trim().to_owned())
}

/// The signatures `nix path-info --sigs` lists for `path` in `nix`'s store.
fn signatures(nix: &Nix, path: &str) -> String {
    let output = nix
        .command("nix")
        .args(["--extra-experimental-features", "nix-command", "path-info"])
        .arg("--store")
        .arg(nix.store())
        .args(["--sigs", path])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn nix_attest_builds_in_another_store_and_verify_realises_from_an_http_cache() {
    let setup = Attesting::new();
    // `--store`: build in a chroot store of its own, not the one Nix is configured with;
    // the statement's NAR hash is that store's and `--copy-to` copies from it, signing.
    let elsewhere = Nix::new();
    let served = tempfile::tempdir().unwrap();
    let cache = served.path().join("good");
    let (secret, _) = cache_key(&setup.nix, served.path(), "eka-test-cache-1");
    let copy_to = format!("file://{}?secret-key={}", cache.display(), secret.display());
    let store = elsewhere.store();
    let attested = setup.attest_with(
        "builder",
        &["--store", store.to_str().unwrap(), "--copy-to", &copy_to],
    );
    let output = attested["atoms"][0]["outputs"][0]["path"]
        .as_str()
        .unwrap()
        .to_owned();
    let relative = output.trim_start_matches('/');
    assert!(store.join(relative).exists(), "{output} not in `--store`");
    assert!(!setup.nix.store().join(relative).exists());
    let queried = elsewhere
        .command("nix-store")
        .arg("--store")
        .arg(&store)
        .args(["--query", "--hash", &output])
        .output()
        .unwrap();
    let hex = ::nix::Sha256Hash::parse(String::from_utf8(queried.stdout).unwrap().trim())
        .unwrap()
        .to_hex();
    assert_eq!(
        attested["atoms"][0]["outputs"][0]["nar_sha256"],
        hex.as_str()
    );
    assert!(narinfo(&cache, &output).is_file());

    // Served over http by lighttpd: realised into an empty store from there (it arrives
    // with the cache's signature: nothing built it here), the same NAR.
    let server = HttpFileServer::start(served.path());
    setup.consumer(&["builder"], &[]);
    let fresh = Nix::new();
    let good_url = server.url("good");
    let (code, hello) = setup.verify(&fresh, &["--require-attested", "--substituters", &good_url]);
    assert_eq!(code, 0, "{hello}");
    assert_eq!(hello["verdict"], "ok");
    assert!(
        signatures(&fresh, &output).contains("eka-test-cache-1:"),
        "{output} was not substituted from the http cache"
    );

    // A NAR file tampered with: Nix refuses the bytes, the output is unavailable.
    let tampered = served.path().join("tampered");
    copy_dir(&cache, &tampered);
    for entry in std::fs::read_dir(tampered.join("nar")).unwrap() {
        std::fs::write(entry.unwrap().path(), "not the attested bytes\n").unwrap();
    }
    let (code, hello) = setup.verify(&Nix::new(), &["--substituters", &server.url("tampered")]);
    assert_eq!(code, 1, "{hello}");
    assert_eq!(Attesting::failure_kinds(&hello), ["output-unavailable"]);

    // A narinfo rewritten to other, self-consistent bytes: realised, and the NAR hash
    // differs from the attestation.
    let lying = served.path().join("lying");
    copy_dir(&cache, &lying);
    lie_in(&setup.nix, &lying, &output);
    let (code, hello) = setup.verify(&Nix::new(), &["--substituters", &server.url("lying")]);
    assert_eq!(code, 1, "{hello}");
    assert_eq!(Attesting::failure_kinds(&hello), ["output-mismatch"]);
}

/// Copy the regular files of `from` (recursively) to `to`.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn nix_config(nix: &Nix) -> String {
    format!(
        "substituters =\nflake-registry =\nexperimental-features = nix-command flakes\n\
         sandbox = false\nbuild-users-group =\nstore = {}\n",
        nix.store().display()
    )
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
    // `eka show --attestations` lists both, judged against no trust entry.
    let uri = format!("{}::hello@^0.1", setup.remote.url());
    let shown = setup
        .eka_in_repo(&["--json", "show", &uri, "--attestations"])
        .success();
    let shown: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let found = shown["attestations"].as_array().unwrap();
    assert_eq!(found.len(), 2, "{shown}");
    let signers: Vec<&str> = found
        .iter()
        .map(|found| found["signer"].as_str().unwrap())
        .collect();
    assert!(signers.contains(&setup.fingerprint("builder").as_str()));
    assert!(signers.contains(&setup.fingerprint("other").as_str()));
    assert!(found.iter().all(|found| found["trust"] == "unknown-key"));
    assert_eq!(found[0]["outputs"][0]["path"], output.as_str());
    let none = format!("{}::hello@^2", setup.remote.url());
    let shown = setup
        .eka_in_repo(&["--json", "show", &none, "--attestations"])
        .success();
    let shown: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(shown["attestations"], serde_json::json!([]));

    // The first builder again: its existing ref is kept. The statement carries the
    // build's start and finish times (in seconds), so the new tag is another one unless
    // both runs fell in the same seconds; either way the ref does not move.
    let again = setup.attest("builder");
    let status = again["atoms"][0]["status"].as_str().unwrap_or_default();
    assert!(status == "kept" || status == "already-there", "{again}");
    assert_eq!(setup.attestation_refs(), after);

    // The working tree moved on: what the remote has is no longer this content, so
    // nothing is built or pushed, and the atom is named.
    setup.repo.write("hello/extra.txt", "more\n");
    setup.repo.commit("hello changed");
    let changed = setup.attest("builder");
    assert_eq!(changed["atoms"], serde_json::json!([]), "{changed}");
    assert_eq!(changed["unattested"][0]["label"], "hello");
    assert_eq!(
        changed["unattested"][0]["reason"],
        "published with other content"
    );
    assert_eq!(setup.attestation_refs(), after);
}

/// The configuration hash of `config` as eka names it (`sha256:<hex>`).
fn config_hash_of(config: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(config).unwrap();
    ::nix::eval::config_hash(&::nix::eval::canonical_json(&value))
}

#[test]
fn nix_verify_checks_the_attestations_of_the_selected_configuration() {
    let setup = Attesting::new();
    let attested = setup.attest_with("builder", &["--set", "x=1"]);
    let atom = &attested["atoms"][0];
    assert_eq!(atom["status"], "pushed", "{attested}");
    let x1 = config_hash_of(r#"{"x":1}"#);
    let default = config_hash_of("{}");
    assert_ne!(x1, default);
    assert_eq!(atom["config_hash"], x1.as_str());
    let x1_ref = setup.reference(x1.trim_start_matches("sha256:"), "builder");
    setup.consumer(&["builder"], &[]);

    // No flags: nothing for `{}`, and the attestation of `{"x":1}` found and checked.
    let (code, hello) = setup.verify(&setup.nix, &[]);
    assert_eq!(code, 0, "{hello}");
    let attestations = &hello["attestations"];
    assert_eq!(attestations["config_hash"], default.as_str(), "{hello}");
    assert_eq!(attestations["attested_by"], serde_json::json!([]));
    assert_eq!(attestations["failures"], serde_json::json!([]));
    let other = &attestations["other_configs"][0];
    assert_eq!(other["config_hash"], x1.as_str(), "{hello}");
    assert_eq!(other["attested_by"][0]["reference"], x1_ref.as_str());
    assert_eq!(other["attested_by"][0]["principal"], "builder@example.org");
    // `--require-attested` is about `{}` only: unattested, the other configuration not
    // even listed.
    let (code, hello) = setup.verify(&setup.nix, &["--require-attested"]);
    assert_eq!(code, 1, "{hello}");
    assert_eq!(Attesting::failure_kinds(&hello), ["unattested"]);
    assert_eq!(
        hello["attestations"]["failures"][0]["config_hash"],
        default.as_str()
    );
    assert!(
        hello["attestations"].get("other_configs").is_none(),
        "{hello}"
    );

    // `--set x=1` and `--config FILE` select `{"x":1}`: attested.
    let (code, hello) = setup.verify(&setup.nix, &["--require-attested", "--set", "x=1"]);
    assert_eq!(code, 0, "{hello}");
    assert_eq!(hello["attestations"]["config_hash"], x1.as_str());
    assert_eq!(
        hello["attestations"]["attested_by"][0]["reference"],
        x1_ref.as_str()
    );
    setup.sandbox.write("consumer/x1.json", r#"{ "x": 1 }"#);
    let (code, hello) = setup.verify(&setup.nix, &["--config", "x1.json", "--set", "y=2"]);
    assert_eq!(code, 0, "{hello}");
    assert_eq!(
        hello["attestations"]["config_hash"],
        config_hash_of(r#"{"x":1,"y":2}"#).as_str()
    );
    // A `--set` without `--attestations` is refused by the command line.
    let dir = setup.sandbox.path("consumer");
    let refused = setup.eka_at(&dir, &["verify", "--set", "x=1"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--attestations"),
        "{}",
        refused.stderr
    );
    let human = setup.eka_at(&dir, &["verify", "--attestations", "--set", "x=1"]);
    let transcript = human
        .transcript()
        .replace(&setup.fingerprint("builder"), "[builder fingerprint]");
    snapshot!("verify_selected_configuration", transcript);

    // The `{"x":1}` statement, signed by the other builder, under the other builder's
    // ref for `{}`: its configuration is not its ref's, refused.
    let statement = setup.statement(&x1_ref);
    let other_statement =
        statement.replace(&setup.fingerprint("builder"), &setup.fingerprint("other"));
    let commit = atom["commit"].as_str().unwrap().to_owned();
    let other_default_ref = setup.reference(default.trim_start_matches("sha256:"), "other");
    setup.git_tag(
        "other",
        "x1-as-default",
        &other_statement,
        &commit,
        &other_default_ref,
    );
    setup.consumer(&["builder", "other"], &[]);
    let (code, hello) = setup.verify(&setup.nix, &["--require-attested"]);
    assert_eq!(code, 1, "{hello}");
    assert_eq!(
        Attesting::failure_kinds(&hello),
        ["attestation-ref-moved", "unattested"]
    );
    // A `{}` statement under the other builder's ref for `{"x":1}`: refused when
    // `{"x":1}` is selected, and as another configuration when `{}` is.
    let default_statement = other_statement.replace(&x1, &default);
    assert_ne!(default_statement, other_statement);
    let other_x1_ref = setup.reference(x1.trim_start_matches("sha256:"), "other");
    setup.git_tag(
        "other",
        "default-as-x1",
        &default_statement,
        &commit,
        &other_x1_ref,
    );
    setup.repo.run([
        "push",
        "-q",
        "--force",
        setup.remote.url(),
        &format!(":{other_default_ref}"),
    ]);
    let (code, hello) = setup.verify(&setup.nix, &["--set", "x=1"]);
    assert_eq!(code, 1, "{hello}");
    assert_eq!(Attesting::failure_kinds(&hello), ["attestation-ref-moved"]);
    assert_eq!(
        hello["attestations"]["failures"][0]["reference"],
        other_x1_ref.as_str()
    );
    assert_eq!(
        hello["attestations"]["attested_by"][0]["reference"],
        x1_ref.as_str()
    );
    let (code, hello) = setup.verify(&setup.nix, &[]);
    assert_eq!(code, 1, "{hello}");
    assert_eq!(Attesting::failure_kinds(&hello), Vec::<String>::new());
    let other = &hello["attestations"]["other_configs"][0];
    assert_eq!(other["config_hash"], x1.as_str(), "{hello}");
    assert_eq!(other["failures"][0]["kind"], "attestation-ref-moved");
    let human = setup.eka_at(&dir, &["verify", "--attestations"]);
    let transcript = human
        .transcript()
        .replace(&setup.fingerprint("builder"), "[builder fingerprint]")
        .replace(
            &ref_fingerprint(&setup.fingerprint("other")),
            "[other fingerprint]",
        )
        .replace(
            &ref_fingerprint(&setup.fingerprint("builder")),
            "[builder fingerprint]",
        )
        .replace(&setup.fingerprint("other"), "[other fingerprint]");
    snapshot!("verify_other_configuration_refused", transcript);
}

/// A fingerprint as a ref component.
fn ref_fingerprint(fingerprint: &str) -> String {
    fingerprint.replace([':', '+'], "-").replace('/', "_")
}
