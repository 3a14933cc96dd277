//! SSH commit signatures against real OpenSSH (`ssh-keygen`, `ssh-agent`) and real git,
//! in both directions, and every refusal kind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use atom::{error::Classify as _, store::AtomCommit};
use gix::ObjectId;
use verify::signature::{
    AllowedSigners, Error, Kind, RevokedKeys, Signer, load_private_key, sign_atom_commit,
    sign_commit, sign_commit_with_agent, split_signed_commit, ssh_key, verify_atom_commit,
    verify_commit_signature, verify_commit_signature_for,
};

/// A temporary home for keys, repositories and policy files; every tool runs isolated
/// from the developer's configuration.
struct Lab {
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn command(&self, program: &str, args: &[&str], cwd: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(cwd)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.dir.path())
            .env("GIT_AUTHOR_NAME", "eka test")
            .env("GIT_AUTHOR_EMAIL", "dev@example.org")
            .env("GIT_COMMITTER_NAME", "eka test")
            .env("GIT_COMMITTER_EMAIL", "dev@example.org")
            .env_remove("SSH_AUTH_SOCK")
            .env_remove("SSH_AGENT_PID");
        command
    }

    fn run(&self, program: &str, args: &[&str], stdin: &[u8]) -> Output {
        self.run_with(self.command(program, args, self.dir.path()), stdin)
    }

    fn run_with(&self, mut command: Command, stdin: &[u8]) -> Output {
        use std::io::Write;
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    /// Run and require success.
    fn ok(&self, program: &str, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let output = self.run(program, args, stdin);
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// A new Ed25519 key pair made by `ssh-keygen`; returns the private key's path.
    fn keygen(&self, name: &str) -> PathBuf {
        let path = self.path(name);
        self.ok(
            "ssh-keygen",
            &[
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                name,
                "-f",
                path.to_str().unwrap(),
            ],
            b"",
        );
        path
    }

    /// Protect the private key `key` with the passphrase `secret`, in place.
    fn encrypt(&self, key: &Path) {
        self.ok(
            "ssh-keygen",
            &[
                "-q",
                "-p",
                "-P",
                "",
                "-N",
                "secret",
                "-f",
                key.to_str().unwrap(),
            ],
            b"",
        );
    }

    /// `git commit -S --allow-empty -m <message>` in `repo`, signed with the SSH `key`,
    /// not yet run.
    fn signed_commit(&self, repo: &Path, key: &Path, message: &str) -> Command {
        let signing_key = format!("user.signingkey={}", key.display());
        self.command(
            "git",
            &[
                "-c",
                "gpg.format=ssh",
                "-c",
                &signing_key,
                "commit",
                "-q",
                "-S",
                "--allow-empty",
                "-m",
                message,
            ],
            repo,
        )
    }

    fn public_line(&self, key: &Path) -> String {
        let text = std::fs::read_to_string(key.with_extension("pub")).unwrap();
        // `keytype base64`, without the comment.
        text.split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A non-bare repository.
    fn repo(&self, name: &str) -> PathBuf {
        let path = self.path(name);
        self.ok("git", &["init", "-q", path.to_str().unwrap()], b"");
        path
    }

    fn git(&self, repo: &Path, args: &[&str], stdin: &[u8]) -> Output {
        self.run_with(self.command("git", args, repo), stdin)
    }

    /// `git verify-commit` with only `allowed` (and `revoked`) as trust: the exit status.
    fn git_verify_commit(&self, repo: &Path, id: &str, allowed: &Path) -> bool {
        let allowed = format!("gpg.ssh.allowedSignersFile={}", allowed.display());
        self.git(
            repo,
            &["-c", "gpg.format=ssh", "-c", &allowed, "verify-commit", id],
            b"",
        )
        .status
        .success()
    }

    /// `ssh-keygen -Y verify`: the exit status.
    fn keygen_verify(
        &self,
        allowed: &Path,
        principal: &str,
        signature: &str,
        payload: &[u8],
        revoked: Option<&Path>,
    ) -> bool {
        let signature = self.write("check.sig", signature);
        let mut args = vec![
            "-Y",
            "verify",
            "-f",
            allowed.to_str().unwrap(),
            "-I",
            principal,
            "-n",
            "git",
            "-s",
            signature.to_str().unwrap(),
        ];
        if let Some(revoked) = revoked {
            args.extend(["-r", revoked.to_str().unwrap()]);
        }
        self.run("ssh-keygen", &args, payload).status.success()
    }

    /// `ssh-keygen -Y sign -n <namespace>` over `payload`: the armored signature.
    fn keygen_sign(&self, key: &Path, namespace: &str, payload: &[u8]) -> String {
        let file = self.write("payload", payload);
        let signature = self.path("payload.sig");
        let _ = std::fs::remove_file(&signature);
        self.ok(
            "ssh-keygen",
            &[
                "-q",
                "-Y",
                "sign",
                "-f",
                key.to_str().unwrap(),
                "-n",
                namespace,
                file.to_str().unwrap(),
            ],
            b"",
        );
        std::fs::read_to_string(signature).unwrap()
    }
}

fn atom_commit() -> AtomCommit {
    let tree = ObjectId::empty_tree(gix::hash::Kind::Sha1);
    let set_root = ObjectId::from_hex(b"1111111111111111111111111111111111111111").unwrap();
    let origin = ObjectId::from_hex(b"2222222222222222222222222222222222222222").unwrap();
    AtomCommit::new(
        tree,
        set_root,
        "hello",
        &semver::Version::new(1, 2, 3),
        origin,
        "pkgs/hello",
        "blake3:00",
    )
    .unwrap()
}

fn now() -> SystemTime {
    SystemTime::now()
}

fn kind(result: Result<verify::signature::Verdict, Error>) -> Kind {
    let error = result.unwrap_err();
    error
        .kind()
        .unwrap_or_else(|| panic!("not a verification failure: {error}"))
}

#[test]
fn eka_signature_is_accepted_by_ssh_keygen() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let key = load_private_key(&key_path).unwrap();
    let payload = atom_commit().to_bytes().unwrap();
    let signature = sign_commit(&payload, &key).unwrap();
    let allowed = lab.write(
        "allowed_signers",
        format!("dev@example.org {}\n", lab.public_line(&key_path)),
    );

    assert!(lab.keygen_verify(&allowed, "dev@example.org", &signature, &payload, None));
    // Controls: another principal, another payload.
    assert!(!lab.keygen_verify(&allowed, "other@example.org", &signature, &payload, None));
    assert!(!lab.keygen_verify(&allowed, "dev@example.org", &signature, b"x", None));
}

#[test]
fn eka_signed_atom_commit_passes_git_verify_commit() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let key = load_private_key(&key_path).unwrap();
    let repo = lab.repo("repo");
    let mut commit = atom_commit();
    let unsigned_bytes = commit.to_bytes().unwrap();
    sign_atom_commit(&mut commit, &key).unwrap();
    let signed_bytes = commit.to_bytes().unwrap();

    let output = lab.git(
        &repo,
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        &signed_bytes,
    );
    assert!(output.status.success());
    let id = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    assert_eq!(id, commit.id().unwrap().to_string());

    let allowed = lab.write(
        "allowed_signers",
        format!("dev@example.org {}\n", lab.public_line(&key_path)),
    );
    assert!(lab.git_verify_commit(&repo, &id, &allowed));
    let stranger = lab.keygen("stranger");
    let strangers = lab.write(
        "strangers",
        format!("dev@example.org {}\n", lab.public_line(&stranger)),
    );
    assert!(!lab.git_verify_commit(&repo, &id, &strangers));

    // Read back from git: the payload is the unsigned commit, the atom commit decodes.
    let raw = lab.git(&repo, &["cat-file", "commit", &id], b"").stdout;
    assert_eq!(raw, signed_bytes);
    let split = split_signed_commit(&raw).unwrap();
    assert_eq!(split.payload, unsigned_bytes);
    assert_eq!(split.signature, commit.signature);
    let parsed = gix::objs::CommitRef::from_bytes(&raw, gix::hash::Kind::Sha1).unwrap();
    let decoded = AtomCommit::decode(&parsed).unwrap();
    assert_eq!(decoded, commit);

    let policy = AllowedSigners::load(&allowed).unwrap();
    let verdict = verify_atom_commit(&decoded, &policy, now()).unwrap();
    assert_eq!(verdict.principal, "dev@example.org");
    assert_eq!(
        verdict.fingerprint,
        key.public_key().fingerprint(Default::default()).to_string()
    );
    let policy = AllowedSigners::load(&strangers).unwrap();
    assert_eq!(
        kind(verify_atom_commit(&decoded, &policy, now())),
        Kind::UnknownKey
    );
}

#[test]
fn ssh_keygen_signature_is_accepted_and_byte_identical() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let key = load_private_key(&key_path).unwrap();
    let payload = atom_commit().to_bytes().unwrap();
    let theirs = lab.keygen_sign(&key_path, "git", &payload);
    let ours = sign_commit(&payload, &key).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(sign_commit(&payload, &key).unwrap(), ours);

    let allowed = AllowedSigners::parse(
        "allowed_signers",
        &format!("dev@example.org {}\n", lab.public_line(&key_path)),
    )
    .unwrap();
    let verdict =
        verify_commit_signature(&payload, Some(theirs.as_bytes()), &allowed, now()).unwrap();
    assert_eq!(verdict.principal, "dev@example.org");

    // A signed atom commit is reproducible for one key.
    let (mut first, mut second) = (atom_commit(), atom_commit());
    sign_atom_commit(&mut first, &key).unwrap();
    sign_atom_commit(&mut second, &key).unwrap();
    assert_eq!(first.id().unwrap(), second.id().unwrap());
    assert_ne!(first.id().unwrap(), atom_commit().id().unwrap());
}

#[test]
fn commit_signed_by_git_is_accepted() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let repo = lab.repo("work");
    let output = lab.run_with(lab.signed_commit(&repo, &key_path, "signed by git"), b"");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let raw = lab.git(&repo, &["cat-file", "commit", "HEAD"], b"").stdout;
    let split = split_signed_commit(&raw).unwrap();
    let signature = split.signature.clone().unwrap();
    assert!(signature.starts_with(b"-----BEGIN SSH SIGNATURE-----\n"));
    assert!(!split.payload.windows(6).any(|window| window == b"gpgsig"));

    let allowed_text = format!(
        "# team\n\"dev@example.org\" namespaces=\"git\" {} dev key\n",
        lab.public_line(&key_path)
    );
    let allowed_path = lab.write("allowed_signers", &allowed_text);
    assert!(lab.git_verify_commit(&repo, "HEAD", &allowed_path));
    let allowed = AllowedSigners::parse(&allowed_path, &allowed_text).unwrap();
    let verdict = verify_commit_signature_for(
        &split.payload,
        Some(&signature),
        &allowed,
        "dev@example.org",
        now(),
    )
    .unwrap();
    assert_eq!(verdict.principal, "dev@example.org");
    // What git signed is what eka signs: the same key gives the same signature.
    let key = load_private_key(&key_path).unwrap();
    assert_eq!(
        sign_commit(&split.payload, &key).unwrap().as_bytes(),
        signature.as_slice()
    );

    let mut tampered = split.payload.clone();
    let at = tampered.len() - 2;
    tampered[at] ^= 1;
    assert_eq!(
        kind(verify_commit_signature(
            &tampered,
            Some(&signature),
            &allowed,
            now()
        )),
        Kind::BadSignature
    );
}

/// Refusals, each of its own kind, cross-checked with `ssh-keygen -Y verify` where it
/// has the same rule.
#[test]
fn refusals_have_their_own_kinds() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let key = load_private_key(&key_path).unwrap();
    let public = lab.public_line(&key_path);
    let payload = atom_commit().to_bytes().unwrap();
    let armored = sign_commit(&payload, &key).unwrap();
    let signature = Some(armored.as_bytes());
    let allowed_text = format!("dev@example.org {public}\n");
    let allowed_path = lab.write("allowed_signers", &allowed_text);
    let allowed = AllowedSigners::parse(&allowed_path, &allowed_text).unwrap();
    let check = |policy: &AllowedSigners, signature: Option<&[u8]>| {
        kind(verify_commit_signature(&payload, signature, policy, now()))
    };

    // The good case, as a control.
    assert!(verify_commit_signature(&payload, signature, &allowed, now()).is_ok());

    assert_eq!(check(&allowed, None), Kind::Unsigned);
    assert_eq!(check(&allowed, Some(b"\n")), Kind::Unsigned);
    assert_eq!(check(&allowed, Some(b"not a signature")), Kind::Malformed);
    assert_eq!(
        check(
            &allowed,
            Some(b"-----BEGIN PGP SIGNATURE-----\n\nabc\n-----END PGP SIGNATURE-----\n")
        ),
        Kind::Malformed
    );

    // Tampered payload.
    let mut tampered = payload.clone();
    tampered[10] ^= 1;
    assert_eq!(
        kind(verify_commit_signature(
            &tampered,
            signature,
            &allowed,
            now()
        )),
        Kind::BadSignature
    );

    // Tampered signature bytes, in a well-formed SSHSIG.
    let parsed = ssh_key::SshSig::from_pem(&armored).unwrap();
    let mut bytes = parsed.signature_bytes().to_vec();
    bytes[0] ^= 1;
    let forged = ssh_key::SshSig::new(
        parsed.public_key().clone(),
        "git",
        ssh_key::HashAlg::Sha512,
        ssh_key::Signature::new(ssh_key::Algorithm::Ed25519, bytes).unwrap(),
    )
    .unwrap()
    .to_pem(ssh_key::LineEnding::LF)
    .unwrap();
    assert_eq!(check(&allowed, Some(forged.as_bytes())), Kind::BadSignature);
    assert!(!lab.keygen_verify(&allowed_path, "dev@example.org", &forged, &payload, None));

    // Signed for another namespace by ssh-keygen.
    let file_signature = lab.keygen_sign(&key_path, "file", &payload);
    assert_eq!(
        check(&allowed, Some(file_signature.as_bytes())),
        Kind::WrongNamespace
    );
    assert!(!lab.keygen_verify(
        &allowed_path,
        "dev@example.org",
        &file_signature,
        &payload,
        None
    ));

    // Unknown key.
    let stranger = lab.keygen("stranger");
    let strangers = AllowedSigners::parse(
        "s",
        &format!("dev@example.org {}\n", lab.public_line(&stranger)),
    )
    .unwrap();
    assert_eq!(check(&strangers, signature), Kind::UnknownKey);

    // Allowed, but only for another principal (another set) or namespace.
    let elsewhere_text = format!("other@example.org,*@other.example {public}\n");
    let elsewhere_path = lab.write("elsewhere", &elsewhere_text);
    let elsewhere = AllowedSigners::parse(&elsewhere_path, &elsewhere_text).unwrap();
    assert_eq!(
        kind(verify_commit_signature_for(
            &payload,
            signature,
            &elsewhere,
            "dev@example.org",
            now()
        )),
        Kind::NotAllowed
    );
    assert!(!lab.keygen_verify(&elsewhere_path, "dev@example.org", &armored, &payload, None));
    let verdict =
        verify_commit_signature_for(&payload, signature, &elsewhere, "ci@other.example", now())
            .unwrap();
    assert_eq!(verdict.principal, "ci@other.example");
    let files_only_text = format!("dev@example.org namespaces=\"file\" {public}\n");
    let files_only_path = lab.write("files_only", &files_only_text);
    let files_only = AllowedSigners::parse(&files_only_path, &files_only_text).unwrap();
    assert_eq!(check(&files_only, signature), Kind::NotAllowed);
    assert!(!lab.keygen_verify(
        &files_only_path,
        "dev@example.org",
        &armored,
        &payload,
        None
    ));

    // Revoked, although allowed.
    let revoked_path = lab.write("revoked", format!("# lost laptop\n{public} dev\n"));
    let revoked = allowed
        .clone()
        .with_revoked(RevokedKeys::load(&revoked_path).unwrap());
    assert_eq!(check(&revoked, signature), Kind::Revoked);
    assert!(!lab.keygen_verify(
        &allowed_path,
        "dev@example.org",
        &armored,
        &payload,
        Some(&revoked_path)
    ));
    // A revocation list naming another key does not matter.
    let others_revoked = allowed.clone().with_revoked(
        RevokedKeys::parse("r", &format!("{}\n", lab.public_line(&stranger))).unwrap(),
    );
    assert!(verify_commit_signature(&payload, signature, &others_revoked, now()).is_ok());

    // Not yet valid, judged at the time given.
    let future = AllowedSigners::parse(
        "future",
        &format!("dev@example.org valid-after=\"29990101\" {public}\n"),
    )
    .unwrap();
    assert_eq!(check(&future, signature), Kind::NotYetValid);
    let year_3000 = UNIX_EPOCH + Duration::from_secs(32_503_680_000);
    assert!(verify_commit_signature(&payload, signature, &future, year_3000).is_ok());
}

/// git judges `valid-before` at the commit's date, which the signer chooses; eka judges
/// it at verification time.
#[test]
fn expiry_is_judged_now_not_at_the_commit_date() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let repo = lab.repo("work");
    let mut command = lab.signed_commit(&repo, &key_path, "backdated");
    command
        .env("GIT_AUTHOR_DATE", "2019-06-01T00:00:00Z")
        .env("GIT_COMMITTER_DATE", "2019-06-01T00:00:00Z");
    assert!(lab.run_with(command, b"").status.success());

    let allowed_text = format!(
        "dev@example.org valid-after=\"20180101\",valid-before=\"20200101\" {}\n",
        lab.public_line(&key_path)
    );
    let allowed_path = lab.write("allowed_signers", &allowed_text);
    // git accepts the backdated commit although the key expired in 2020.
    assert!(lab.git_verify_commit(&repo, "HEAD", &allowed_path));

    let raw = lab.git(&repo, &["cat-file", "commit", "HEAD"], b"").stdout;
    let split = split_signed_commit(&raw).unwrap();
    let signature = split.signature.as_deref().map(Vec::as_slice);
    let allowed = AllowedSigners::parse(&allowed_path, &allowed_text).unwrap();
    let error = verify_commit_signature(&split.payload, signature, &allowed, now()).unwrap_err();
    assert_eq!(error.kind(), Some(Kind::Expired));
    assert!(error.to_string().contains("20200101"), "{error}");
    // Inside the window it is good.
    let in_2019 = UNIX_EPOCH + Duration::from_secs(1_560_000_000);
    assert!(verify_commit_signature(&split.payload, signature, &allowed, in_2019).is_ok());
}

#[test]
fn allowed_signers_format() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let other_path = lab.keygen("other");
    let public = lab.public_line(&key_path);
    let other = lab.public_line(&other_path);
    let text = format!(
        "\n# comment\n  \ndev@example.org,ci@example.org {public} laptop\n\
         ca@example.org cert-authority {other}\n\
         \"quoted@example.org\" NAMESPACES=\"git,file\",valid-before=\"20991231235959Z\" {other}\n"
    );
    let allowed_path = lab.write("allowed_signers", &text);
    let allowed = AllowedSigners::parse(&allowed_path, &text).unwrap();
    assert_eq!(allowed.signers().len(), 2);
    assert_eq!(allowed.signers()[0].line, 4);
    assert_eq!(
        allowed.signers()[0].principals,
        "dev@example.org,ci@example.org"
    );
    assert_eq!(allowed.signers()[1].principals, "quoted@example.org");
    assert_eq!(allowed.signers()[1].namespaces.as_deref(), Some("git,file"));
    assert_eq!(
        allowed.signers()[1]
            .valid_before
            .as_ref()
            .map(|bound| bound.text.as_str()),
        Some("20991231235959Z")
    );
    assert_eq!(allowed.ignored().len(), 1);
    assert_eq!(allowed.ignored()[0].line, 5);

    // ssh-keygen reads the same file the same way.
    let key = load_private_key(&other_path).unwrap();
    let payload = b"payload";
    let signature = sign_commit(payload, &key).unwrap();
    assert!(lab.keygen_verify(
        &allowed_path,
        "quoted@example.org",
        &signature,
        payload,
        None
    ));
    let verdict =
        verify_commit_signature(payload, Some(signature.as_bytes()), &allowed, now()).unwrap();
    assert_eq!(verdict.principal, "quoted@example.org");

    // Errors point at the line and the option.
    let bad = format!("# keys\n\ndev@example.org frobnicate {public}\n");
    let Err(Error::Policy(located)) = AllowedSigners::parse("allowed_signers", &bad) else {
        panic!("unknown option accepted");
    };
    assert_eq!((located.line, located.column), (3, 17));
    assert!(
        located.message.contains("`frobnicate`"),
        "{}",
        located.message
    );
    let Err(Error::Policy(located)) = AllowedSigners::parse("allowed_signers", "dev@example.org\n")
    else {
        panic!("line without a key accepted");
    };
    assert_eq!(located.line, 1);
    let bad_time = format!("dev@example.org valid-after=\"2024-01-01\" {public}\n");
    let Err(Error::Policy(located)) = AllowedSigners::parse("allowed_signers", &bad_time) else {
        panic!("bad time accepted");
    };
    assert!(
        located.message.contains("2024-01-01"),
        "{}",
        located.message
    );
    let bad_key = "dev@example.org ssh-ed25519 AAAAnotbase64\n";
    assert!(matches!(
        AllowedSigners::parse("allowed_signers", bad_key),
        Err(Error::Policy(_))
    ));
    assert!(matches!(
        RevokedKeys::parse("revoked", "not a key\n"),
        Err(Error::Policy(_))
    ));
    assert!(matches!(
        AllowedSigners::load(&lab.path("missing")),
        Err(Error::ReadPolicy { .. })
    ));
}

#[test]
fn encrypted_keys_are_refused_with_a_hint() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    lab.encrypt(&key_path);
    let error = load_private_key(&key_path).unwrap_err();
    assert!(matches!(error, Error::EncryptedKey { .. }), "{error}");
    assert!(error.hint().unwrap().contains("ssh-agent"));
    assert_eq!(
        atom::error::Classify::kind(&error),
        atom::error::Kind::Input,
        "an encrypted key is the user's input, with a fix"
    );
    let error = Signer::from_key_file(&key_path, None).unwrap_err();
    assert!(matches!(error, Error::EncryptedKey { .. }), "{error}");
    let missing = load_private_key(&lab.path("missing")).unwrap_err();
    assert!(matches!(missing, Error::ReadKey { .. }), "{missing}");
    assert_eq!(
        atom::error::Classify::kind(&missing),
        atom::error::Kind::Environment
    );
}

/// An `ssh-agent` of our own, killed on drop.
struct Agent<'a> {
    lab: &'a Lab,
    socket: PathBuf,
    pid: String,
}

impl<'a> Agent<'a> {
    fn start(lab: &'a Lab) -> Self {
        let socket = lab.path("agent.sock");
        // `ssh-agent -a` binds the socket before it forks, so it is ready on return.
        let output = lab.ok("ssh-agent", &["-s", "-a", socket.to_str().unwrap()], b"");
        let output = String::from_utf8(output).unwrap();
        let pid = output
            .split(';')
            .find_map(|part| part.trim().strip_prefix("SSH_AGENT_PID="))
            .unwrap()
            .to_owned();
        Self { lab, socket, pid }
    }

    fn add(&self, key: &Path) {
        let mut command = self.lab.command(
            "ssh-add",
            &["-q", key.to_str().unwrap()],
            self.lab.dir.path(),
        );
        command.env("SSH_AUTH_SOCK", &self.socket);
        let output = self.lab.run_with(command, b"");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for Agent<'_> {
    fn drop(&mut self) {
        let mut command = self.lab.command("ssh-agent", &["-k"], self.lab.dir.path());
        command.env("SSH_AGENT_PID", &self.pid);
        let _ = self.lab.run_with(command, b"");
    }
}

#[test]
fn agent_signs_like_the_key_file() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let key = load_private_key(&key_path).unwrap();
    let agent = Agent::start(&lab);
    let payload = atom_commit().to_bytes().unwrap();
    let public = key.public_key().clone();

    // Not loaded yet: the agent refuses.
    let error = sign_commit_with_agent(&payload, &public, &agent.socket).unwrap_err();
    assert!(matches!(error, Error::Agent { .. }), "{error}");

    agent.add(&key_path);
    let by_agent = sign_commit_with_agent(&payload, &public, &agent.socket).unwrap();
    assert_eq!(by_agent, sign_commit(&payload, &key).unwrap());

    // A public key file signs through the agent; so does an encrypted private key.
    let signer =
        Signer::from_key_file(&key_path.with_extension("pub"), Some(&agent.socket)).unwrap();
    assert!(matches!(signer, Signer::Agent { .. }));
    assert_eq!(signer.sign(&payload).unwrap(), by_agent);
    let encrypted = lab.path("encrypted");
    std::fs::copy(&key_path, &encrypted).unwrap();
    lab.encrypt(&encrypted);
    let signer = Signer::from_key_file(&encrypted, Some(&agent.socket)).unwrap();
    assert_eq!(signer.public_key().key_data(), public.key_data());
    assert_eq!(signer.sign(&payload).unwrap(), by_agent);
    assert!(matches!(
        Signer::from_key_file(&key_path.with_extension("pub"), None),
        Err(Error::NoAgent)
    ));
    let signer = Signer::from_key_file(&key_path, None).unwrap();
    assert!(matches!(signer, Signer::Key(_)));

    // A dead socket is an agent error, not a hang.
    let error = sign_commit_with_agent(&payload, &public, &lab.path("nothing.sock")).unwrap_err();
    assert!(matches!(error, Error::Agent { .. }), "{error}");
}

#[test]
fn split_keeps_everything_but_the_signature() {
    let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
author a <a@b> 0 +0000\n\
committer a <a@b> 0 +0000\n\
gpgsig -----BEGIN SSH SIGNATURE-----\n \
abc\n \
-----END SSH SIGNATURE-----\n\
mergetag object x\n \
continued\n\
\n\
message\n \
indented body line\n";
    let split = split_signed_commit(raw).unwrap();
    assert_eq!(
        split
            .signature
            .as_deref()
            .map(|signature| signature.to_vec()),
        Some(b"-----BEGIN SSH SIGNATURE-----\nabc\n-----END SSH SIGNATURE-----\n".to_vec())
    );
    assert_eq!(
        split.payload,
        b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
author a <a@b> 0 +0000\n\
committer a <a@b> 0 +0000\n\
mergetag object x\n \
continued\n\
\n\
message\n \
indented body line\n"
            .to_vec()
    );
    let unsigned = split_signed_commit(&split.payload).unwrap();
    assert_eq!(unsigned.signature, None);
    assert_eq!(unsigned.payload, split.payload);

    let twice = b"tree x\ngpgsig a\ngpgsig b\n\nm\n";
    assert!(matches!(
        split_signed_commit(twice),
        Err(Error::Malformed { .. })
    ));
}

#[test]
fn other_algorithms_are_refused_as_unsupported() {
    let lab = Lab::new();
    let payload = atom_commit().to_bytes().unwrap();
    for (name, key_type) in [("rsa", "rsa"), ("ecdsa", "ecdsa")] {
        let path = lab.path(name);
        lab.ok(
            "ssh-keygen",
            &["-q", "-t", key_type, "-N", "", "-f", path.to_str().unwrap()],
            b"",
        );
        let signature = lab.keygen_sign(&path, "git", &payload);
        let allowed_text = format!("dev@example.org {}\n", lab.public_line(&path));
        let allowed_path = lab.write("allowed_signers", &allowed_text);
        // OpenSSH accepts it: the signature is good, eka just cannot check it.
        assert!(lab.keygen_verify(&allowed_path, "dev@example.org", &signature, &payload, None));
        let allowed = AllowedSigners::parse(&allowed_path, &allowed_text).unwrap();
        let error = verify_commit_signature(&payload, Some(signature.as_bytes()), &allowed, now())
            .unwrap_err();
        assert_eq!(
            error.kind(),
            Some(Kind::UnsupportedAlgorithm),
            "{name}: {error}"
        );
    }
}

#[test]
fn unknown_key_algorithms_are_not_fatal() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let public = lab.public_line(&key_path);
    let future = "future@example.org AAAAEmZ1dHVyZUBleGFtcGxlLm9yZwAAAARhYmNk";
    let text = format!("old@example.org {future}\ndev@example.org {public}\n");
    let allowed = AllowedSigners::parse("allowed_signers", &text).unwrap();
    assert_eq!(allowed.signers().len(), 2);
    let revoked = RevokedKeys::parse("revoked", &format!("{future}\n")).unwrap();
    let key = load_private_key(&key_path).unwrap();
    let payload = b"payload";
    let signature = sign_commit(payload, &key).unwrap();
    let allowed = allowed.with_revoked(revoked);
    let verdict =
        verify_commit_signature(payload, Some(signature.as_bytes()), &allowed, now()).unwrap();
    assert_eq!(verdict.principal, "dev@example.org");
}

/// Principals patterns and `!` negation: for each principals field, eka trusts the key
/// exactly when `git verify-commit` does, and, for a given principal, exactly when
/// `ssh-keygen -Y verify -I <principal>` does. A negated pattern only excludes: a line
/// whose principals are all negated trusts nobody.
#[test]
fn negated_principals_are_judged_as_git_judges_them() {
    let lab = Lab::new();
    let key_path = lab.keygen("dev");
    let key = load_private_key(&key_path).unwrap();
    let public = lab.public_line(&key_path);
    let repo = lab.repo("repo");
    let mut commit = atom_commit();
    let payload = commit.to_bytes().unwrap();
    sign_atom_commit(&mut commit, &key).unwrap();
    let armored = commit.signature.clone().unwrap();
    let output = lab.git(
        &repo,
        &["hash-object", "-t", "commit", "-w", "--stdin"],
        &commit.to_bytes().unwrap(),
    );
    assert!(output.status.success());
    let id = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    // (principals field, trusted for some principal, principal asked, trusted for it)
    let cases = [
        ("dev@example.org", true, "dev@example.org", true),
        ("!dev@example.org", false, "dev@example.org", false),
        ("!dev@example.org", false, "other@example.org", false),
        (
            "!a@example.org,!b@example.org",
            false,
            "c@example.org",
            false,
        ),
        (
            "dev@example.org,!dev@example.org",
            false,
            "dev@example.org",
            false,
        ),
        ("*,!*", false, "dev@example.org", false),
        (
            "*@example.org,!dev@example.org",
            true,
            "dev@example.org",
            false,
        ),
        (
            "*@example.org,!dev@example.org",
            true,
            "ops@example.org",
            true,
        ),
        ("!dev@example.org,*", true, "ops@example.org", true),
        ("a@example.org,b@example.org", true, "b@example.org", true),
    ];
    for (principals, trusted, principal, trusted_for) in cases {
        let text = format!("{principals} {public}\n");
        let allowed_path = lab.write("allowed_signers", &text);
        let allowed = AllowedSigners::parse(&allowed_path, &text).unwrap();

        let eka = verify_commit_signature(&payload, Some(armored.as_slice()), &allowed, now());
        let git = lab.git_verify_commit(&repo, &id, &allowed_path);
        assert_eq!(git, trusted, "git verify-commit, principals `{principals}`");
        assert_eq!(eka.is_ok(), git, "eka, principals `{principals}`: {eka:?}");
        if let Err(error) = eka {
            assert_eq!(error.kind(), Some(Kind::NotAllowed), "`{principals}`");
        }

        let eka_for = verify_commit_signature_for(
            &payload,
            Some(armored.as_slice()),
            &allowed,
            principal,
            now(),
        );
        let text = std::str::from_utf8(&armored).unwrap();
        let keygen = lab.keygen_verify(&allowed_path, principal, text, &payload, None);
        assert_eq!(
            keygen, trusted_for,
            "ssh-keygen -Y verify -I {principal}, principals `{principals}`"
        );
        assert_eq!(
            eka_for.is_ok(),
            keygen,
            "eka for `{principal}`, principals `{principals}`: {eka_for:?}"
        );
    }
}
