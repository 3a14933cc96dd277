//! SSH signatures of atom commits: signing, the trust policy and verification.
//!
//! A signed atom commit carries a standard git `gpgsig` header holding an OpenSSH
//! `SSHSIG` signature (namespace `git`, hash `sha512`) over the commit object *without*
//! that header, exactly what `git commit -S` with `gpg.format=ssh` writes. Stock
//! `git verify-commit` accepts what this module signs, and this module accepts what git
//! and `ssh-keygen -Y sign -n git` sign. Ed25519 is deterministic, so signing the same
//! atom commit with the same key always gives the same bytes (and the same commit id).
//!
//! Main items:
//! - signing: [`sign_commit`], [`sign_atom_commit`], [`Signer`] (a key file or an
//!   `ssh-agent`), [`load_private_key`];
//! - the trust policy: [`AllowedSigners`] (OpenSSH `allowed_signers` format) and
//!   [`RevokedKeys`] (plain public key lines);
//! - verification: [`verify_commit_signature`], [`verify_commit_signature_for`],
//!   [`verify_atom_commit`], [`split_signed_commit`] (payload and signature of a raw
//!   commit object), giving a [`Verdict`] or an [`Error`] whose [`Error::kind`] names
//!   the failure.
//!
//! Validity windows (`valid-after`, `valid-before`) are judged at the time the caller
//! passes (normally *now*), never against the commit's own date, which the signer
//! chooses (atom commits are all dated `0`).
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::SystemTime;
//! use verify::signature::{
//!     AllowedSigners, Kind, PrivateKey, sign_commit, verify_commit_signature,
//! };
//!
//! // A fixed test key (never use a published key for anything).
//! let key = PrivateKey::from_openssh(
//!     "-----BEGIN OPENSSH PRIVATE KEY-----
//! b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
//! QyNTUxOQAAACCAK7E7A7UBelMByvYbXqJj1Ub56/TNLSnIv4LauThE0QAAAJjuFvlx7hb5
//! cQAAAAtzc2gtZWQyNTUxOQAAACCAK7E7A7UBelMByvYbXqJj1Ub56/TNLSnIv4LauThE0Q
//! AAAEA9l1dXv19VHvtGjvzXWIWHVJd/vndALPlMu88jwlxlyYArsTsDtQF6UwHK9hteomPV
//! Rvnr9M0tKci/gtq5OETRAAAAD2RvY0BleGFtcGxlLm9yZwECAwQFBg==
//! -----END OPENSSH PRIVATE KEY-----
//! ",
//! )?;
//! let payload = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nmessage\n";
//! let armored = sign_commit(payload, &key)?;
//! assert!(armored.starts_with("-----BEGIN SSH SIGNATURE-----\n"));
//!
//! let public = key.public_key().to_openssh()?;
//! let allowed = AllowedSigners::parse("allowed_signers", &format!("dev@example.org {public}\n"))?;
//! let verdict = verify_commit_signature(payload, Some(armored.as_bytes()), &allowed, SystemTime::now())?;
//! assert_eq!(verdict.principal, "dev@example.org");
//!
//! // One byte changed: refused as a bad signature.
//! let error = verify_commit_signature(b"tree 0", Some(armored.as_bytes()), &allowed, SystemTime::now())
//!     .unwrap_err();
//! assert_eq!(error.kind(), Some(Kind::BadSignature));
//! # Ok(()) }
//! ```

mod agent;
mod policy;

use std::{
    path::{Path, PathBuf},
    time::SystemTime,
};

use atom::{diagnostic::Located, store::AtomCommit};
use gix::bstr::BString;
use ssh_key::{HashAlg, LineEnding, SshSig};

pub use ssh_key::{self, PrivateKey, PublicKey};

pub use agent::{agent_socket_from_env, sign_commit_with_agent};
pub use policy::{AllowedSigner, AllowedSigners, Bound, Ignored, RevokedKeys};

/// The SSHSIG namespace git signs and verifies commits in.
pub const NAMESPACE: &str = "git";

/// The hash SSHSIG signatures made here use (as `ssh-keygen -Y sign` does).
pub const HASH: HashAlg = HashAlg::Sha512;

/// A good signature: the key is allowed, in the `git` namespace, at the time judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The principal the signature is good for: the one asked for with
    /// [`verify_commit_signature_for`], otherwise the principals field of the matching
    /// `allowed_signers` line, verbatim (as `ssh-keygen -Y find-principals` prints it).
    pub principal: String,
    /// The signing key's fingerprint (`SHA256:...`, as `ssh-keygen -l` prints it).
    pub fingerprint: String,
}

/// The kind of a verification failure, for callers that report or count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The commit carries no signature.
    Unsigned,
    /// The signature is not an armored SSH signature this module can read.
    Malformed,
    /// The signature uses a key algorithm this build cannot verify.
    UnsupportedAlgorithm,
    /// The signature does not match the payload (tampered payload or signature).
    BadSignature,
    /// The signature was made for another namespace than `git`.
    WrongNamespace,
    /// The signing key is listed as revoked.
    Revoked,
    /// The signing key is not in the allowed signers.
    UnknownKey,
    /// The signing key is allowed, but not for this principal or namespace.
    NotAllowed,
    /// The signing key's validity ended before the time judged.
    Expired,
    /// The signing key's validity starts after the time judged.
    NotYetValid,
}

impl Kind {
    /// A stable kebab-case name (`bad-signature`, …) for machine output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unsigned => "unsigned",
            Self::Malformed => "malformed",
            Self::UnsupportedAlgorithm => "unsupported-algorithm",
            Self::BadSignature => "bad-signature",
            Self::WrongNamespace => "wrong-namespace",
            Self::Revoked => "revoked",
            Self::UnknownKey => "unknown-key",
            Self::NotAllowed => "not-allowed",
            Self::Expired => "expired",
            Self::NotYetValid => "not-yet-valid",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Why a key cannot be loaded, a signature cannot be made, a policy cannot be read, or a
/// signature is refused (see [`Error::kind`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The private key file cannot be read or parsed.
    #[error("cannot read the ssh private key `{}`", path.display())]
    ReadKey {
        /// The key file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ssh_key::Error,
    },
    /// The public key file cannot be read or parsed.
    #[error("cannot read the ssh public key `{}`", path.display())]
    ReadPublicKey {
        /// The key file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: ssh_key::Error,
    },
    /// The private key is protected by a passphrase and no agent holds it.
    #[error("the ssh private key `{}` is encrypted", path.display())]
    EncryptedKey {
        /// The key file.
        path: PathBuf,
    },
    /// A policy file (allowed signers, revoked keys) cannot be read.
    #[error("cannot read `{}`", path.display())]
    ReadPolicy {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A policy file is malformed.
    #[error("{0}")]
    Policy(Box<Located>),
    /// The key cannot make a signature.
    #[error("cannot sign with the `{algorithm}` key `{fingerprint}`")]
    Sign {
        /// The key's algorithm.
        algorithm: String,
        /// The key's fingerprint.
        fingerprint: String,
        /// The cause.
        #[source]
        source: ssh_key::Error,
    },
    /// No ssh-agent is reachable.
    #[error("no ssh-agent: `SSH_AUTH_SOCK` is not set")]
    NoAgent,
    /// Talking to the ssh-agent failed.
    #[error("ssh-agent at `{}` failed: {reason}", socket.display())]
    Agent {
        /// The agent's socket.
        socket: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The atom commit cannot be encoded.
    #[error("cannot encode the atom commit")]
    Commit(#[from] atom::store::commit::Error),

    /// The commit carries no signature.
    #[error("the commit is not signed")]
    Unsigned,
    /// The signature cannot be read.
    #[error("the commit signature is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: String,
    },
    /// The signature's key algorithm cannot be verified by this build.
    #[error(
        "the commit is signed with a `{algorithm}` key (`{fingerprint}`), which eka cannot verify"
    )]
    UnsupportedAlgorithm {
        /// The algorithm.
        algorithm: String,
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// The signature does not match the commit.
    #[error("the commit signature by `{fingerprint}` does not match the commit")]
    BadSignature {
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// The signature was made for another purpose than git commits.
    #[error("the commit signature by `{fingerprint}` is for namespace `{namespace}`, not `git`")]
    WrongNamespace {
        /// The namespace found.
        namespace: String,
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// The signing key is revoked.
    #[error("the commit is signed by the revoked key `{fingerprint}`")]
    Revoked {
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// The signing key is not an allowed signer.
    #[error("the commit is signed by `{fingerprint}`, which is not an allowed signer")]
    UnknownKey {
        /// The key's fingerprint.
        fingerprint: String,
    },
    /// The signing key is allowed, but not for this principal or namespace.
    #[error("the key `{fingerprint}` is not allowed to sign {what}")]
    NotAllowed {
        /// The key's fingerprint.
        fingerprint: String,
        /// What it is not allowed for (`for principal `x``, `in namespace `git``).
        what: String,
    },
    /// The signing key's validity has ended.
    #[error("the key `{fingerprint}` of `{principal}` expired at `{valid_before}`")]
    Expired {
        /// The key's fingerprint.
        fingerprint: String,
        /// The principals of the allowed signers line.
        principal: String,
        /// The `valid-before` option as written.
        valid_before: String,
    },
    /// The signing key's validity has not started yet.
    #[error("the key `{fingerprint}` of `{principal}` is not valid before `{valid_after}`")]
    NotYetValid {
        /// The key's fingerprint.
        fingerprint: String,
        /// The principals of the allowed signers line.
        principal: String,
        /// The `valid-after` option as written.
        valid_after: String,
    },
}

impl Error {
    /// The kind of a verification failure; `None` for errors of loading and signing.
    pub fn kind(&self) -> Option<Kind> {
        Some(match self {
            Self::Unsigned => Kind::Unsigned,
            Self::Malformed { .. } => Kind::Malformed,
            Self::UnsupportedAlgorithm { .. } => Kind::UnsupportedAlgorithm,
            Self::BadSignature { .. } => Kind::BadSignature,
            Self::WrongNamespace { .. } => Kind::WrongNamespace,
            Self::Revoked { .. } => Kind::Revoked,
            Self::UnknownKey { .. } => Kind::UnknownKey,
            Self::NotAllowed { .. } => Kind::NotAllowed,
            Self::Expired { .. } => Kind::Expired,
            Self::NotYetValid { .. } => Kind::NotYetValid,
            _ => return None,
        })
    }

    /// How to fix it, when there is something to say.
    fn hint_text(&self) -> Option<&'static str> {
        Some(match self {
            Self::EncryptedKey { .. } => {
                "load the key into `ssh-agent` (`ssh-add <key>`) or use a key without a passphrase"
            }
            Self::NoAgent => "start `ssh-agent` and `ssh-add` the key, or pass a private key file",
            Self::Agent { .. } => "check that the key is loaded: `ssh-add -l`",
            Self::Sign { .. } | Self::UnsupportedAlgorithm { .. } => {
                "eka signs and verifies Ed25519 keys: `ssh-keygen -t ed25519`"
            }
            Self::ReadPolicy { .. } => {
                "check that the file exists and is readable (paths in `eka.toml` are relative to \
                 the file naming them)"
            }
            Self::Revoked { .. } => {
                "the key is in the set's revoked keys: trust atoms signed by another key"
            }
            Self::UnknownKey { .. } | Self::NotAllowed { .. } => {
                "if this key is trusted, add it to the allowed signers of the set"
            }
            Self::Expired { .. } | Self::NotYetValid { .. } => {
                "the allowed signers line limits when this key is trusted (`valid-after`, `valid-before`)"
            }
            _ => return None,
        })
    }
}

/// Load an OpenSSH private key. An encrypted key is refused with
/// [`Error::EncryptedKey`]: use `ssh-agent` ([`Signer::from_key_file`]) or an
/// unencrypted key.
pub fn load_private_key(path: &Path) -> Result<PrivateKey, Error> {
    let key = PrivateKey::read_openssh_file(path).map_err(|source| Error::ReadKey {
        path: path.to_owned(),
        source,
    })?;
    if key.is_encrypted() {
        return Err(Error::EncryptedKey {
            path: path.to_owned(),
        });
    }
    Ok(key)
}

/// Load an OpenSSH public key (`ssh-ed25519 AAAA... comment`).
pub fn load_public_key(path: &Path) -> Result<PublicKey, Error> {
    PublicKey::read_openssh_file(path).map_err(|source| Error::ReadPublicKey {
        path: path.to_owned(),
        source,
    })
}

/// Sign a commit payload (the commit object without its `gpgsig` header) as git does:
/// SSHSIG, namespace `git`, hash `sha512`. Returns the armored signature
/// (`-----BEGIN SSH SIGNATURE-----` … `-----END SSH SIGNATURE-----\n`), byte-identical
/// to what `ssh-keygen -Y sign -n git` writes for the same key and payload.
pub fn sign_commit(payload: &[u8], key: &PrivateKey) -> Result<String, Error> {
    let fail = |source| Error::Sign {
        algorithm: key.algorithm().to_string(),
        fingerprint: key.fingerprint(HashAlg::Sha256).to_string(),
        source,
    };
    let signature = key.sign(NAMESPACE, HASH, payload).map_err(fail)?;
    armor(&signature).map_err(fail)
}

fn armor(signature: &SshSig) -> Result<String, ssh_key::Error> {
    let mut armored = signature.to_pem(LineEnding::LF)?;
    if !armored.ends_with('\n') {
        armored.push('\n');
    }
    Ok(armored)
}

/// Sign an atom commit in place: the payload is the commit with `signature: None`; the
/// result goes into [`AtomCommit::signature`], replacing any signature it had.
pub fn sign_atom_commit(commit: &mut AtomCommit, key: &PrivateKey) -> Result<(), Error> {
    sign_atom_commit_with(commit, &Signer::Key(Box::new(key.clone())))
}

/// Sign an atom commit in place with any [`Signer`].
pub fn sign_atom_commit_with(commit: &mut AtomCommit, signer: &Signer) -> Result<(), Error> {
    commit.signature = None;
    let payload = commit.to_bytes()?;
    let armored = signer.sign(&payload)?;
    commit.signature = Some(armored.into());
    Ok(())
}

/// What makes signatures: a private key in memory or a key held by an `ssh-agent`.
#[derive(Debug, Clone)]
pub enum Signer {
    /// An unencrypted private key.
    Key(Box<PrivateKey>),
    /// A key held by the agent listening on `socket`.
    Agent {
        /// The key's public half, naming it to the agent.
        public_key: PublicKey,
        /// The agent's socket.
        socket: PathBuf,
    },
}

impl Signer {
    /// The signer for a key file, as `git` treats `user.signingkey`: a public key file
    /// (`*.pub`) signs through the agent at `agent_socket`; an unencrypted private key
    /// signs itself; an encrypted private key signs through the agent when one is given
    /// (its public half is readable without the passphrase), and is refused otherwise.
    pub fn from_key_file(path: &Path, agent_socket: Option<&Path>) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ReadKey {
            path: path.to_owned(),
            source: ssh_key::Error::Io(source.kind()),
        })?;
        if !text.trim_start().starts_with("-----BEGIN") {
            let public_key =
                PublicKey::from_openssh(text.trim()).map_err(|source| Error::ReadPublicKey {
                    path: path.to_owned(),
                    source,
                })?;
            let socket = agent_socket.ok_or(Error::NoAgent)?;
            return Ok(Self::Agent {
                public_key,
                socket: socket.to_owned(),
            });
        }
        let key = PrivateKey::from_openssh(&text).map_err(|source| Error::ReadKey {
            path: path.to_owned(),
            source,
        })?;
        if !key.is_encrypted() {
            return Ok(Self::Key(Box::new(key)));
        }
        match agent_socket {
            Some(socket) => Ok(Self::Agent {
                public_key: key.public_key().clone(),
                socket: socket.to_owned(),
            }),
            None => Err(Error::EncryptedKey {
                path: path.to_owned(),
            }),
        }
    }

    /// The public half of the signing key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::Key(key) => key.public_key().clone(),
            Self::Agent { public_key, .. } => public_key.clone(),
        }
    }

    /// Sign a commit payload; see [`sign_commit`].
    pub fn sign(&self, payload: &[u8]) -> Result<String, Error> {
        match self {
            Self::Key(key) => sign_commit(payload, key),
            Self::Agent { public_key, socket } => {
                sign_commit_with_agent(payload, public_key, socket)
            }
        }
    }
}

/// A raw commit object split as git splits it for verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCommit {
    /// The commit object without its signature headers: what was signed.
    pub payload: Vec<u8>,
    /// The `gpgsig` header's value (continuation lines joined, ending with a newline).
    pub signature: Option<BString>,
}

/// Split a raw commit object (without the `commit <size>\0` header) into the signed
/// payload and the `gpgsig` signature, as git does: the `gpgsig` header and its
/// continuation lines are removed from the payload (and so is a `gpgsig-sha256`
/// header, the signature of the repository's other hash). A second `gpgsig` header is
/// refused as [`Error::Malformed`].
pub fn split_signed_commit(raw: &[u8]) -> Result<SignedCommit, Error> {
    enum State {
        Header,
        Signature,
        OtherSignature,
        Body,
    }
    let mut payload = Vec::with_capacity(raw.len());
    let mut signature: Option<Vec<u8>> = None;
    let mut state = State::Header;
    for line in raw.split_inclusive(|byte| *byte == b'\n') {
        if let State::Body = state {
            payload.extend_from_slice(line);
            continue;
        }
        if let Some(continued) = line.strip_prefix(b" ") {
            match state {
                State::Signature => {
                    if let Some(signature) = signature.as_mut() {
                        signature.extend_from_slice(continued);
                    }
                    continue;
                }
                State::OtherSignature => continue,
                _ => {}
            }
        }
        if line == b"\n" {
            state = State::Body;
            payload.extend_from_slice(line);
        } else if let Some(value) = line.strip_prefix(b"gpgsig ") {
            if signature.is_some() {
                return Err(Error::Malformed {
                    reason: "the commit has more than one `gpgsig` header".into(),
                });
            }
            signature = Some(value.to_vec());
            state = State::Signature;
        } else if line.starts_with(b"gpgsig-sha256 ") {
            state = State::OtherSignature;
        } else {
            state = State::Header;
            payload.extend_from_slice(line);
        }
    }
    Ok(SignedCommit {
        payload,
        signature: signature.map(BString::from),
    })
}

/// Verify a commit signature against the allowed signers, for any principal the
/// signing key is allowed for, at time `now` (validity windows are judged at `now`,
/// never at the commit's date).
///
/// Checks in this order, each failure with its own [`Kind`]: present
/// ([`Error::Unsigned`]), readable ([`Error::Malformed`]), verifiable
/// ([`Error::UnsupportedAlgorithm`]), matching the payload ([`Error::BadSignature`]),
/// made for namespace `git` ([`Error::WrongNamespace`]), not revoked
/// ([`Error::Revoked`]), listed ([`Error::UnknownKey`]), allowed for the principal and
/// namespace ([`Error::NotAllowed`]), valid at `now` ([`Error::Expired`],
/// [`Error::NotYetValid`]).
pub fn verify_commit_signature(
    payload: &[u8],
    armored: Option<&[u8]>,
    allowed: &AllowedSigners,
    now: SystemTime,
) -> Result<Verdict, Error> {
    verify(payload, armored, allowed, None, now)
}

/// Like [`verify_commit_signature`], but the key must be allowed for `principal` (as
/// `ssh-keygen -Y verify -I <principal>`); principals patterns (`*@example.org`) in the
/// allowed signers apply.
pub fn verify_commit_signature_for(
    payload: &[u8],
    armored: Option<&[u8]>,
    allowed: &AllowedSigners,
    principal: &str,
    now: SystemTime,
) -> Result<Verdict, Error> {
    verify(payload, armored, allowed, Some(principal), now)
}

/// Verify the signature of an atom commit; the payload is the commit with
/// `signature: None`.
pub fn verify_atom_commit(
    commit: &AtomCommit,
    allowed: &AllowedSigners,
    now: SystemTime,
) -> Result<Verdict, Error> {
    let mut unsigned = commit.clone();
    unsigned.signature = None;
    let payload = unsigned.to_bytes()?;
    verify_commit_signature(
        &payload,
        commit
            .signature
            .as_ref()
            .map(|signature| signature.as_slice()),
        allowed,
        now,
    )
}

fn verify(
    payload: &[u8],
    armored: Option<&[u8]>,
    allowed: &AllowedSigners,
    principal: Option<&str>,
    now: SystemTime,
) -> Result<Verdict, Error> {
    let armored = armored.ok_or(Error::Unsigned)?;
    if armored.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::Unsigned);
    }
    let text = std::str::from_utf8(armored).map_err(|_| Error::Malformed {
        reason: "it is not text".into(),
    })?;
    if !text
        .trim_start()
        .starts_with("-----BEGIN SSH SIGNATURE-----")
    {
        return Err(Error::Malformed {
            reason: "it is not an ssh signature (`-----BEGIN SSH SIGNATURE-----`)".into(),
        });
    }
    let signature = SshSig::from_pem(text.trim()).map_err(|error| Error::Malformed {
        reason: error.to_string(),
    })?;
    let key = PublicKey::from(signature.public_key().clone());
    let fingerprint = key.fingerprint(HashAlg::Sha256).to_string();
    // Check the signature against its own namespace first, so that a genuine signature
    // made for another purpose is told apart from a forged one.
    match key.verify(signature.namespace(), payload, &signature) {
        Ok(()) => {}
        Err(ssh_key::Error::AlgorithmUnknown | ssh_key::Error::AlgorithmUnsupported { .. }) => {
            return Err(Error::UnsupportedAlgorithm {
                algorithm: signature.algorithm().to_string(),
                fingerprint,
            });
        }
        Err(_) => return Err(Error::BadSignature { fingerprint }),
    }
    if signature.namespace() != NAMESPACE {
        return Err(Error::WrongNamespace {
            namespace: signature.namespace().to_owned(),
            fingerprint,
        });
    }
    if allowed.revoked().contains(key.key_data()) {
        return Err(Error::Revoked { fingerprint });
    }
    allowed.judge(key.key_data(), &fingerprint, principal, NAMESPACE, now)
}

impl atom::error::Classify for Error {
    /// A signing or signature failure that eka can explain (it has a hint) is the input
    /// being refused; the rest (reading keys, encoding commits) is the environment.
    fn kind(&self) -> atom::error::Kind {
        if self.hint_text().is_some() {
            atom::error::Kind::Input
        } else {
            atom::error::Kind::Environment
        }
    }

    fn hint(&self) -> Option<String> {
        self.hint_text().map(str::to_owned)
    }
}
