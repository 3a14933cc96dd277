//! The verify walk: check every atom of an `atom.lock` against the objects of a
//! repository that already holds their atom commits.
//!
//! [`verify_lock`] takes a [`gix::Repository`] (the objects were fetched by someone
//! else), a [`Lockfile`] and a trust [`Policy`], and returns a [`Report`] with one
//! [`AtomReport`] per locked atom. Each atom is either ok or carries one or more
//! [`Failure`]s, whose [`Kind`] has a stable kebab-case name for machine output
//! (`content-mismatch`, `bad-signature`, …). For each atom the walk checks, in order:
//!
//! 1. the atom id: `AtomId::new(set root, label)` equals the lock's `id`;
//! 2. the commit: present, a commit whose bytes hash to its id, and a canonical atom
//!    commit ([`AtomCommit::decode`]) whose `eka-set`, `eka-label` and `eka-version`
//!    headers equal the lock's set root, label and version;
//! 3. the content: the tree is validated and hashed ([`crate::tree::hash_tree`]); the
//!    recomputed hash must equal both the lock's `content` and the `eka-content`
//!    header (a hostile tree is refused before any hash is compared);
//! 4. the signature, judged by the [`Policy`] (see below);
//! 5. the closure: the atom's own `atom.toml` (read from its tree) names the same
//!    label and version, and each `[deps.from.<set>]` requirement is met by exactly one
//!    of the atom's locked dependencies, whose version satisfies it; every locked
//!    dependency is required by the manifest and exists in the lock.
//!
//! Nothing is cached across runs: every run recomputes every content hash from the
//! objects (see `adr/0013-verify.md`). Within one run, a tree shared by several atoms
//! is hashed once, keyed by its object id in the same object database.
//!
//! # Signatures
//!
//! A present signature is always checked: one that does not match its commit is a
//! [`Failure::BadSignature`], whatever the policy. Whether its key is trusted is judged
//! against the allowed signers the policy gives for the atom's set root
//! ([`Policy::signers_for`]): when there are some, a key they do not allow is a
//! [`Failure::UntrustedSigner`]; when there are none, a valid signature is recorded
//! (unjudged) and only `require_signed` turns it into a failure. With
//! `require_signed`, an unsigned atom is a [`Failure::Unsigned`].
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use atom::progress::Silent;
//! use verify::walk::{Policy, verify_lock};
//!
//! let dir = tempfile::tempdir()?;
//! let repo = gix::init_bare(dir.path())?;
//! let lock = atom::lock::Lockfile::default();
//! let policy = Policy::new(std::time::SystemTime::now());
//! let report = verify_lock(&repo, &lock, &policy, &Silent)?;
//! assert!(report.is_ok());
//! assert_eq!(report.atoms.len(), 0);
//! # Ok(()) }
//! ```

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    fmt,
    time::SystemTime,
};

use atom::{
    id::{AtomId, SetRoot},
    lock::{LockedAtom, Lockfile},
    manifest::{Manifest, SetSource},
    progress::{Reporter, Step},
    store::AtomCommit,
};
use gix::{ObjectId, bstr::ByteSlice};
use serde::Serialize;

use crate::{
    ContentHash,
    signature::{self, AllowedSigners},
    tree,
};

/// What the walk trusts: allowed signers per set, whether signatures are required,
/// the time keys are judged at, and the limits of the tree walk.
#[derive(Debug, Clone)]
pub struct Policy<'a> {
    /// Allowed signers of the atoms of one set, by set root.
    pub signers: BTreeMap<SetRoot, &'a AllowedSigners>,
    /// Allowed signers of the atoms of any set not in [`Policy::signers`].
    pub default_signers: Option<&'a AllowedSigners>,
    /// Whether every atom must carry a signature by an allowed signer.
    pub require_signed: bool,
    /// The time signing keys' validity windows are judged at (normally now).
    pub now: SystemTime,
    /// The limits of the tree validation.
    pub limits: tree::Options,
}

impl<'a> Policy<'a> {
    /// No allowed signers, signatures not required, default tree limits.
    pub fn new(now: SystemTime) -> Self {
        Self {
            signers: BTreeMap::new(),
            default_signers: None,
            require_signed: false,
            now,
            limits: tree::Options::default(),
        }
    }

    /// The allowed signers that judge the atoms of the set `set_root`.
    pub fn signers_for(&self, set_root: &SetRoot) -> Option<&'a AllowedSigners> {
        self.signers.get(set_root).copied().or(self.default_signers)
    }
}

/// What a recomputed content hash is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Against {
    /// The lock's `content`.
    Lock,
    /// The atom commit's `eka-content` header.
    Header,
}

impl fmt::Display for Against {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lock => "the lock",
            Self::Header => "the commit header",
        })
    }
}

/// One thing wrong with one locked atom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Failure {
    /// The recomputed content hash differs from the lock's or the commit header's.
    #[error("content hash {found} differs from {expected} in {against}")]
    ContentMismatch {
        /// What the hash was compared with.
        against: Against,
        /// The hash the lock or header states.
        expected: String,
        /// The hash recomputed from the tree.
        found: String,
    },
    /// The lock's atom id is not the id of its set root and label.
    #[error("atom id `{found}` in the lock is not `{expected}`, the id of its set and label")]
    IdMismatch {
        /// The id derived from the lock's set root and label.
        expected: String,
        /// The id the lock states.
        found: String,
    },
    /// An atom commit header (or the atom's own manifest) disagrees with the lock.
    #[error("`{field}` is `{found}` in the atom commit, but `{expected}` in the lock")]
    HeaderMismatch {
        /// The field: `set`, `label`, `version`, `manifest-label` or `manifest-version`.
        field: &'static str,
        /// The lock's value.
        expected: String,
        /// The commit's value.
        found: String,
    },
    /// The locked commit is not in the repository.
    #[error("commit `{commit}` is missing")]
    MissingCommit {
        /// The locked commit id.
        commit: String,
    },
    /// The locked object is not a canonical atom commit.
    #[error("commit `{commit}` is not an atom commit: {reason}")]
    NotAtomCommit {
        /// The locked commit id.
        commit: String,
        /// Why.
        reason: String,
    },
    /// The atom's tree is refused by validation.
    #[error("tree entry `{path}` is refused: {violation}")]
    HostileTree {
        /// The path inside the atom.
        path: String,
        /// What is wrong with it.
        violation: String,
    },
    /// The atom is not signed and signatures are required.
    #[error("the atom commit is not signed")]
    Unsigned,
    /// The signature is good but its key is not trusted for this set.
    #[error("{message}")]
    UntrustedSigner {
        /// The signing key's fingerprint.
        fingerprint: String,
        /// Why it is not trusted: a [`signature::Kind`] name, or `no-allowed-signers`.
        reason: String,
        /// The full explanation.
        message: String,
    },
    /// The signature does not verify (tampered, malformed, wrong namespace, unsupported).
    #[error("{message}")]
    BadSignature {
        /// A [`signature::Kind`] name.
        reason: String,
        /// The full explanation.
        message: String,
    },
    /// The locked dependencies do not satisfy the atom's own manifest.
    #[error("{reason}")]
    ClosureBroken {
        /// What is unmet.
        reason: String,
    },
    /// A mirror's ref for this atom points to another commit than the lock's
    /// (reported by the network layer).
    #[error("mirror `{mirror}` moved the atom's ref from `{expected}` to `{found}`")]
    RefMoved {
        /// The locked commit.
        expected: String,
        /// The commit the mirror advertises.
        found: String,
        /// The mirror.
        mirror: String,
    },
    /// No mirror could serve the atom (reported by the network layer).
    #[error("no mirror could be reached")]
    Unreachable {
        /// The mirrors tried.
        mirrors: Vec<String>,
    },
    /// Offline, the locked commit is not in the cache (reported by the network layer in
    /// place of [`Failure::MissingCommit`]: no mirror was asked).
    #[error("commit `{commit}` is not in the cache")]
    NotCached {
        /// The locked commit id.
        commit: String,
    },
    /// None of the atom's mirrors is configured for its set, and its commit carries no
    /// signature the set's trust policy accepts (reported by the caller, who knows the
    /// consumer's configuration; see ADR 0017).
    #[error(
        "`{label}` is served only by `{}`, not configured for its set (`{}`), and {reason}",
        mirrors.join("`, `"), configured.join("`, `")
    )]
    UnconfiguredSource {
        /// The atom's label.
        label: String,
        /// Its locked mirrors.
        mirrors: Vec<String>,
        /// The URLs configured for its set.
        configured: Vec<String>,
        /// Why its signature does not make up for it.
        reason: String,
    },
}

/// The kind of a [`Failure`], with a stable kebab-case name for machine output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// [`Failure::ContentMismatch`].
    ContentMismatch,
    /// [`Failure::IdMismatch`].
    IdMismatch,
    /// [`Failure::HeaderMismatch`].
    HeaderMismatch,
    /// [`Failure::MissingCommit`].
    MissingCommit,
    /// [`Failure::NotAtomCommit`].
    NotAtomCommit,
    /// [`Failure::HostileTree`].
    HostileTree,
    /// [`Failure::Unsigned`].
    Unsigned,
    /// [`Failure::UntrustedSigner`].
    UntrustedSigner,
    /// [`Failure::BadSignature`].
    BadSignature,
    /// [`Failure::ClosureBroken`].
    ClosureBroken,
    /// [`Failure::RefMoved`].
    RefMoved,
    /// [`Failure::Unreachable`].
    Unreachable,
    /// [`Failure::NotCached`].
    NotCached,
    /// [`Failure::UnconfiguredSource`].
    UnconfiguredSource,
}

impl Kind {
    /// The stable kebab-case name (the `kind` field of `--json` output).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ContentMismatch => "content-mismatch",
            Self::IdMismatch => "id-mismatch",
            Self::HeaderMismatch => "header-mismatch",
            Self::MissingCommit => "missing-commit",
            Self::NotAtomCommit => "not-atom-commit",
            Self::HostileTree => "hostile-tree",
            Self::Unsigned => "unsigned",
            Self::UntrustedSigner => "untrusted-signer",
            Self::BadSignature => "bad-signature",
            Self::ClosureBroken => "closure-broken",
            Self::RefMoved => "ref-moved",
            Self::Unreachable => "unreachable",
            Self::NotCached => "not-cached",
            Self::UnconfiguredSource => "unconfigured-source",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Failure {
    /// The failure's kind.
    pub fn kind(&self) -> Kind {
        match self {
            Self::ContentMismatch { .. } => Kind::ContentMismatch,
            Self::IdMismatch { .. } => Kind::IdMismatch,
            Self::HeaderMismatch { .. } => Kind::HeaderMismatch,
            Self::MissingCommit { .. } => Kind::MissingCommit,
            Self::NotAtomCommit { .. } => Kind::NotAtomCommit,
            Self::HostileTree { .. } => Kind::HostileTree,
            Self::Unsigned => Kind::Unsigned,
            Self::UntrustedSigner { .. } => Kind::UntrustedSigner,
            Self::BadSignature { .. } => Kind::BadSignature,
            Self::ClosureBroken { .. } => Kind::ClosureBroken,
            Self::RefMoved { .. } => Kind::RefMoved,
            Self::Unreachable { .. } => Kind::Unreachable,
            Self::NotCached { .. } => Kind::NotCached,
            Self::UnconfiguredSource { .. } => Kind::UnconfiguredSource,
        }
    }

    /// How to fix it, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Self::ContentMismatch { .. }
            | Self::HeaderMismatch { .. }
            | Self::NotAtomCommit { .. }
            | Self::RefMoved { .. } => {
                "the atom's content is not what was locked: do not use it; if the lock is wrong, \
                 regenerate it with `eka resolve` and review the diff"
            }
            Self::IdMismatch { .. } | Self::ClosureBroken { .. } => {
                "the lockfile was edited or is damaged: regenerate it with `eka resolve`"
            }
            Self::MissingCommit { .. } | Self::Unreachable { .. } => {
                "check the mirrors in `atom.lock`; a published atom commit is never deleted"
            }
            Self::NotCached { .. } => {
                "run `eka verify` once without `--offline` to fetch the locked commits into the \
                 cache"
            }
            Self::UntrustedSigner { reason, .. } if reason == signature::Kind::Revoked.as_str() => {
                "the set's trust policy revokes this key: do not use what it signed; ask the \
                 publisher to sign with a key that is not revoked"
            }
            Self::Unsigned | Self::UntrustedSigner { .. } => {
                "if this signer is trusted, add its key to the allowed signers of the set"
            }
            Self::BadSignature { .. } => {
                "the signature does not match the commit: the commit or signature was tampered with"
            }
            Self::UnconfiguredSource { .. } => {
                "if that mirror really serves the set, configure it in `eka.toml` \
                 (`[mirrors]` `\"<set url>\" = [\"<set url>\", \"<mirror>\"]`), or trust its \
                 signer for the set in `[trust.<set>]`; otherwise regenerate the lock with \
                 `eka resolve`"
            }
            Self::HostileTree { .. } => return None,
        })
    }
}

/// A good signature found on an atom commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signed {
    /// The signing key's fingerprint (`SHA256:…`).
    pub fingerprint: String,
    /// The principal an allowed signers line trusts it for; `None` when no allowed
    /// signers judged it (the signature matches, its key was not judged).
    pub principal: Option<String>,
}

/// The verdict on one locked atom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AtomReport {
    /// The lock's label.
    pub label: String,
    /// The lock's version.
    pub version: String,
    /// The lock's set root.
    pub set: String,
    /// The lock's atom id.
    pub id: String,
    /// The lock's atom commit.
    pub commit: String,
    /// The signature found, if one matched its commit.
    pub signed: Option<Signed>,
    /// Everything wrong with the atom; empty when it verified.
    pub failures: Vec<Failure>,
}

impl AtomReport {
    /// Whether the atom verified.
    pub fn is_ok(&self) -> bool {
        self.failures.is_empty()
    }

    /// The kinds of its failures, in the order found.
    pub fn kinds(&self) -> Vec<Kind> {
        self.failures.iter().map(Failure::kind).collect()
    }
}

/// The verdicts on every locked atom, in the lock's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// One verdict per locked atom.
    pub atoms: Vec<AtomReport>,
}

impl Report {
    /// Whether every atom verified.
    pub fn is_ok(&self) -> bool {
        self.atoms.iter().all(AtomReport::is_ok)
    }

    /// The atoms that did not verify.
    pub fn failed(&self) -> impl Iterator<Item = &AtomReport> {
        self.atoms.iter().filter(|atom| !atom.is_ok())
    }

    /// The verdict on the atom with this id, to add failures found elsewhere (the
    /// network layer adds [`Failure::RefMoved`] and [`Failure::Unreachable`]).
    pub fn atom_mut(&mut self, id: &str) -> Option<&mut AtomReport> {
        self.atoms.iter_mut().find(|atom| atom.id == id)
    }
}

/// Why the walk could not run (a verification *failure* is a [`Failure`], not this).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The object database failed to read an object.
    #[error("cannot read object `{id}` of atom `{label}`")]
    Read {
        /// The atom's label.
        label: String,
        /// The object.
        id: String,
        /// The cause.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Verify every atom of `lock` against the objects of `repo`, judged by `policy`,
/// reporting a `Verifying` step that advances per atom to `reporter`.
///
/// Returns an error only when the object database itself fails; every mismatch is a
/// [`Failure`] in the [`Report`].
pub fn verify_lock(
    repo: &gix::Repository,
    lock: &Lockfile,
    policy: &Policy<'_>,
    reporter: &dyn Reporter,
) -> Result<Report, Error> {
    let mut trees = HashMap::new();
    let mut report = Report::default();
    let step = Step::begin(reporter, "Verifying", Some(lock.atoms.len() as u64));
    for atom in &lock.atoms {
        report
            .atoms
            .push(verify_atom(repo, lock, atom, policy, &mut trees)?);
        step.advance(atom.label.as_str());
    }
    Ok(report)
}

type TreeVerdict = Result<ContentHash, Failure>;

fn read_error(
    atom: &LockedAtom,
    id: ObjectId,
) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> Error + '_ {
    move |source| Error::Read {
        label: atom.label.to_string(),
        id: id.to_string(),
        source,
    }
}

fn verify_atom(
    repo: &gix::Repository,
    lock: &Lockfile,
    atom: &LockedAtom,
    policy: &Policy<'_>,
    trees: &mut HashMap<ObjectId, TreeVerdict>,
) -> Result<AtomReport, Error> {
    let mut report = AtomReport {
        label: atom.label.to_string(),
        version: atom.version.to_string(),
        set: atom.set.to_string(),
        id: atom.id.to_string(),
        commit: atom.commit.to_string(),
        signed: None,
        failures: Vec::new(),
    };
    // 1. The id derives from the lock's set root and label.
    let set_root = ObjectId::from_hex(atom.set.as_str().as_bytes()).ok();
    report.failures.extend(check_id(atom, set_root));
    // 2. The commit.
    let (commit, data) = match read_atom_commit(repo, atom)? {
        Ok(found) => found,
        Err(failure) => {
            report.failures.push(failure);
            return Ok(report);
        }
    };
    report.failures.extend(check_headers(atom, &commit));
    // 3. The content.
    let verdict = tree_verdict(repo, atom, commit.tree, policy, trees)?;
    let tree_ok = verdict.is_ok();
    report
        .failures
        .extend(check_content(atom, &commit, verdict));
    // 4. The signature.
    let signers = set_root.and_then(|root| policy.signers_for(&SetRoot::new(root)));
    let (signed, failure) = judge_signature(&data, signers, policy);
    report.signed = signed;
    report.failures.extend(failure);
    // 5. The closure, from the atom's own manifest.
    if tree_ok {
        let failures = check_closure(repo, lock, atom, commit.tree)?;
        report.failures.extend(failures);
    }
    Ok(report)
}

/// Whether the lock's atom id derives from its set root and label.
fn check_id(atom: &LockedAtom, set_root: Option<ObjectId>) -> Option<Failure> {
    let expected = AtomId::new(&SetRoot::new(set_root?), &atom.label).to_string();
    (expected != atom.id.as_str()).then(|| Failure::IdMismatch {
        expected,
        found: atom.id.to_string(),
    })
}

/// The lock's atom commit, decoded, and its raw bytes; a [`Failure`] when it is missing,
/// not a commit, not what its id hashes or not an atom commit.
fn read_atom_commit(
    repo: &gix::Repository,
    atom: &LockedAtom,
) -> Result<Result<(AtomCommit, Vec<u8>), Failure>, Error> {
    let commit_hex = atom.commit.to_string();
    let Ok(commit_id) = ObjectId::from_hex(commit_hex.as_bytes()) else {
        return Ok(Err(Failure::MissingCommit { commit: commit_hex }));
    };
    let found = repo
        .try_find_object(commit_id)
        .map_err(|error| read_error(atom, commit_id)(error.into()))?;
    let Some(object) = found else {
        return Ok(Err(Failure::MissingCommit { commit: commit_hex }));
    };
    let not_atom = |reason: String| Failure::NotAtomCommit {
        commit: commit_hex.clone(),
        reason,
    };
    if object.kind != gix::object::Kind::Commit {
        return Ok(Err(not_atom(format!("the object is a {}", object.kind))));
    }
    let data = object.detach().data;
    match gix::objs::compute_hash(repo.object_hash(), gix::objs::Kind::Commit, &data) {
        Ok(actual) if actual == commit_id => {}
        Ok(actual) => {
            return Ok(Err(not_atom(format!(
                "the object's bytes hash to `{actual}`, not to its id"
            ))));
        }
        Err(error) => return Err(read_error(atom, commit_id)(error.into())),
    }
    let decoded = match gix::objs::CommitRef::from_bytes(&data, repo.object_hash()) {
        Err(error) => Err(error.to_string()),
        Ok(parsed) => AtomCommit::decode(&parsed).map_err(|error| error.to_string()),
    };
    Ok(decoded.map(|commit| (commit, data)).map_err(not_atom))
}

/// The atom commit's set, label and version headers that differ from the lock's.
fn check_headers(atom: &LockedAtom, commit: &AtomCommit) -> Vec<Failure> {
    let header = |field, expected: String, found: String| {
        (expected != found).then_some(Failure::HeaderMismatch {
            field,
            expected,
            found,
        })
    };
    [
        header("set", atom.set.to_string(), commit.set_root.to_string()),
        header("label", atom.label.to_string(), commit.label.to_string()),
        header(
            "version",
            atom.version.to_string(),
            commit.version.to_string(),
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The content hash of the atom's tree, or the failure refusing it; each distinct tree
/// is walked once per lock (`trees`).
fn tree_verdict(
    repo: &gix::Repository,
    atom: &LockedAtom,
    tree_id: ObjectId,
    policy: &Policy<'_>,
    trees: &mut HashMap<ObjectId, TreeVerdict>,
) -> Result<TreeVerdict, Error> {
    if let Some(verdict) = trees.get(&tree_id) {
        return Ok(verdict.clone());
    }
    let verdict = match tree::hash_tree(repo, tree_id, &policy.limits) {
        Ok(outcome) => Ok(outcome.hash),
        Err(tree::Error::Refused { path, violation }) => Err(Failure::HostileTree {
            path: path.to_str_lossy().into_owned(),
            violation: violation.to_string(),
        }),
        Err(error @ tree::Error::Read { .. }) => {
            return Err(read_error(atom, tree_id)(error.into()));
        }
    };
    trees.insert(tree_id, verdict.clone());
    Ok(verdict)
}

/// The tree's content hash compared with the lock's and the commit header's, or the
/// failure that refused the tree.
fn check_content(atom: &LockedAtom, commit: &AtomCommit, verdict: TreeVerdict) -> Vec<Failure> {
    let found = match verdict {
        Ok(hash) => hash.to_string(),
        Err(failure) => return vec![failure],
    };
    [
        (Against::Lock, atom.content.as_str()),
        (Against::Header, commit.content.as_str()),
    ]
    .into_iter()
    .filter(|(_, expected)| *expected != found)
    .map(|(against, expected)| Failure::ContentMismatch {
        against,
        expected: expected.to_owned(),
        found: found.clone(),
    })
    .collect()
}

fn fingerprint_of(error: &signature::Error) -> String {
    use signature::Error as E;
    match error {
        E::BadSignature { fingerprint }
        | E::UnsupportedAlgorithm { fingerprint, .. }
        | E::WrongNamespace { fingerprint, .. }
        | E::Revoked { fingerprint }
        | E::UnknownKey { fingerprint }
        | E::NotAllowed { fingerprint, .. }
        | E::Expired { fingerprint, .. }
        | E::NotYetValid { fingerprint, .. } => fingerprint.clone(),
        _ => String::new(),
    }
}

fn judge_signature(
    raw: &[u8],
    signers: Option<&AllowedSigners>,
    policy: &Policy<'_>,
) -> (Option<Signed>, Option<Failure>) {
    use signature::Kind as S;
    let unsigned = (None, policy.require_signed.then_some(Failure::Unsigned));
    let split = match signature::split_signed_commit(raw) {
        Ok(split) => split,
        Err(error) => {
            let reason = error.kind().unwrap_or(S::Malformed).to_string();
            let message = error.to_string();
            return (None, Some(Failure::BadSignature { reason, message }));
        }
    };
    let Some(armored) = split.signature else {
        return unsigned;
    };
    let empty = AllowedSigners::default();
    let judge = signers.unwrap_or(&empty);
    let error = match signature::verify_commit_signature(
        &split.payload,
        Some(armored.as_slice()),
        judge,
        policy.now,
    ) {
        Ok(verdict) => {
            let signed = Signed {
                fingerprint: verdict.fingerprint,
                principal: Some(verdict.principal),
            };
            return (Some(signed), None);
        }
        Err(error) => error,
    };
    let kind = error.kind();
    let fingerprint = fingerprint_of(&error);
    match kind {
        Some(S::Unsigned) => unsigned,
        Some(S::Revoked | S::UnknownKey | S::NotAllowed | S::Expired | S::NotYetValid) => {
            if signers.is_none() {
                // The signature matches; no allowed signers judge its key.
                let signed = Signed {
                    fingerprint: fingerprint.clone(),
                    principal: None,
                };
                let failure = policy.require_signed.then(|| Failure::UntrustedSigner {
                    message: format!(
                        "the atom commit is signed by `{fingerprint}`, but no allowed \
                             signers are configured for its set"
                    ),
                    fingerprint,
                    reason: "no-allowed-signers".to_owned(),
                });
                (Some(signed), failure)
            } else {
                let failure = Failure::UntrustedSigner {
                    fingerprint,
                    reason: kind.map(S::as_str).unwrap_or("unknown-key").to_owned(),
                    message: error.to_string(),
                };
                (None, Some(failure))
            }
        }
        _ => {
            let failure = Failure::BadSignature {
                reason: kind.unwrap_or(S::Malformed).to_string(),
                message: error.to_string(),
            };
            (None, Some(failure))
        }
    }
}

/// The closure of one atom: every locked dependency exists, the atom's own `atom.toml`
/// (read from its tree) names its label and version, and its requirements are met one to
/// one by its locked dependencies.
fn check_closure(
    repo: &gix::Repository,
    lock: &Lockfile,
    atom: &LockedAtom,
    tree_id: ObjectId,
) -> Result<Vec<Failure>, Error> {
    let mut failures = Vec::new();
    let name = format!("{}@{}:atom.toml", atom.label, atom.version);

    // Every dependency id exists in the lock.
    let mut deps: Vec<&LockedAtom> = Vec::new();
    for id in &atom.deps {
        match lock.atom(id) {
            Some(dep) => deps.push(dep),
            None => failures.push(Failure::ClosureBroken {
                reason: format!("dependency `{id}` of `{}` is not locked", atom.label),
            }),
        }
    }
    let manifest = match manifest_in_tree(repo, atom, tree_id, &name)? {
        Ok(manifest) => manifest,
        Err(reason) => {
            failures.push(Failure::ClosureBroken { reason });
            return Ok(failures);
        }
    };
    failures.extend(manifest_header_failures(&manifest, atom));
    failures.extend(requirement_failures(lock, atom, &deps, &manifest, &name));
    Ok(failures)
}

/// The atom's `atom.toml`, read from its own tree; `Err(reason)` when it is missing, not
/// a file, not UTF-8 or not a valid manifest.
fn manifest_in_tree(
    repo: &gix::Repository,
    atom: &LockedAtom,
    tree_id: ObjectId,
    name: &str,
) -> Result<Result<Manifest, String>, Error> {
    let tree = repo
        .find_tree(tree_id)
        .map_err(|error| read_error(atom, tree_id)(error.into()))?;
    let Some(entry) = tree.find_entry(atom::manifest::FILE_NAME) else {
        return Ok(Err(format!(
            "the atom has no `{}`",
            atom::manifest::FILE_NAME
        )));
    };
    if !entry.mode().is_blob() {
        return Ok(Err(format!(
            "`{}` of the atom is not a file",
            atom::manifest::FILE_NAME
        )));
    }
    let blob_id = entry.object_id();
    let blob = repo
        .find_blob(blob_id)
        .map_err(|error| read_error(atom, blob_id)(error.into()))?;
    Ok(std::str::from_utf8(&blob.data)
        .map_err(|_| format!("`{name}` is not UTF-8"))
        .and_then(|text| Manifest::from_str(text, name).map_err(|error| error.to_string())))
}

/// The manifest's label and version against the lock's.
fn manifest_header_failures(manifest: &Manifest, atom: &LockedAtom) -> Vec<Failure> {
    let package = &manifest.package;
    let mut failures = Vec::new();
    if package.label != atom.label {
        failures.push(Failure::HeaderMismatch {
            field: "manifest-label",
            expected: atom.label.to_string(),
            found: package.label.to_string(),
        });
    }
    if package.version != atom.version {
        failures.push(Failure::HeaderMismatch {
            field: "manifest-version",
            expected: atom.version.to_string(),
            found: package.version.to_string(),
        });
    }
    failures
}

/// Each requirement of the manifest is met by exactly one locked dependency (of a set
/// root the requirement's set name can stand for), at a version satisfying it; and every
/// locked dependency meets a requirement.
fn requirement_failures(
    lock: &Lockfile,
    atom: &LockedAtom,
    deps: &[&LockedAtom],
    manifest: &Manifest,
    name: &str,
) -> Vec<Failure> {
    let broken = |reason: String| Failure::ClosureBroken { reason };
    let mut failures = Vec::new();
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for (set_name, requirements) in &manifest.deps.from {
        let roots = roots_named(lock, atom, manifest.package.sets.get(set_name));
        for (label, requirement) in requirements {
            let candidates: Vec<&&LockedAtom> = deps
                .iter()
                .filter(|dep| &dep.label == label)
                .filter(|dep| roots.is_empty() || roots.contains(dep.set.as_str()))
                .collect();
            let wanted = format!("`{set_name}::{label}@{requirement}`");
            match candidates.as_slice() {
                [] => failures.push(broken(format!(
                    "{wanted} required by `{name}` is not among the locked dependencies of `{}`",
                    atom.label
                ))),
                [dep] => {
                    used.insert(dep.id.as_str());
                    if !requirement.matches(&dep.version) {
                        failures.push(broken(format!(
                            "{wanted} required by `{name}` is locked at `{}`, which does not \
                             satisfy it",
                            dep.version
                        )));
                    }
                }
                _ => failures.push(broken(format!(
                    "{wanted} required by `{name}` matches {} locked dependencies",
                    candidates.len()
                ))),
            }
        }
    }
    for dep in deps {
        if !used.contains(dep.id.as_str()) {
            failures.push(broken(format!(
                "locked dependency `{}@{}` of `{}` is not required by `{name}`",
                dep.label, dep.version, atom.label
            )));
        }
    }
    failures
}

/// The set roots a manifest's set entry can stand for: the atom's own for `"::"`, those
/// of the locked atoms served from its URLs otherwise (none known: any).
fn roots_named<'a>(
    lock: &'a Lockfile,
    atom: &'a LockedAtom,
    source: Option<&SetSource>,
) -> BTreeSet<&'a str> {
    match source {
        Some(SetSource::Here) => BTreeSet::from([atom.set.as_str()]),
        Some(source) => lock
            .atoms
            .iter()
            .filter(|locked| {
                locked
                    .mirrors
                    .iter()
                    .any(|mirror| source.urls().contains(mirror))
            })
            .map(|locked| locked.set.as_str())
            .collect(),
        None => BTreeSet::new(),
    }
}

impl atom::error::Classify for Error {
    /// The object database failed: the environment.
    fn kind(&self) -> atom::error::Kind {
        atom::error::Kind::Environment
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_are_kebab_case_and_match_json() {
        let failure = Failure::ContentMismatch {
            against: Against::Lock,
            expected: "a".into(),
            found: "b".into(),
        };
        assert_eq!(failure.kind().as_str(), "content-mismatch");
        let failure = Failure::RefMoved {
            expected: "a".into(),
            found: "b".into(),
            mirror: "m".into(),
        };
        assert_eq!(failure.kind().to_string(), "ref-moved");
        assert_eq!(Failure::Unsigned.kind().as_str(), "unsigned");
    }
}
