//! Signed attestations of build outputs: the in-toto statement, the signed git tag that
//! carries it, and their verification.
//!
//! An attestation says "building atom commit C (content hash H, lock L) with
//! configuration hash K on system S gave these store paths with these NAR hashes". It
//! is an in-toto v1 [`Statement`] (SLSA provenance v1 predicate) written as canonical
//! JSON (object keys sorted by their bytes, no whitespace) and stored as the message of
//! an annotated git tag pointing to the atom commit. The tag is signed as
//! `git tag -s` with `gpg.format=ssh` signs: the SSHSIG armor (namespace `git`) of the
//! tag object without signature is appended to the message, so stock `git verify-tag`
//! accepts it and this module accepts tags git signed. It is published under
//! [`ref_name`]: `refs/eka/attest/<label>/<version>/<config hash hex>/<signer>`, one
//! ref per builder, never overwritten. The format is frozen in `docs/format.md`
//! ("Attestations").
//!
//! Main items: [`Statement`] ([`Statement::to_json`], [`Statement::parse`]),
//! [`tag_payload`] and [`sign_tag`] (the tag object), [`verify_tag`] (signature against
//! the trust policy, then the statement decoded), [`ref_name`] and
//! [`url_safe_fingerprint`].
//!
//! ```
//! use verify::attestation::{Statement, Subject, url_safe_fingerprint};
//!
//! let statement = Statement {
//!     subjects: vec![Subject { name: "/nix/store/aaaa-hello".into(), sha256: "00".repeat(32) }],
//!     content: format!("blake3:{}", "11".repeat(32)),
//!     ..Statement::default()
//! };
//! let json = statement.to_json();
//! assert!(json.starts_with(r#"{"_type":"https://in-toto.io/Statement/v1","predicate":"#));
//! assert_eq!(Statement::parse(&json).unwrap(), statement);
//! assert_eq!(url_safe_fingerprint("SHA256:a+b/c"), "SHA256-a-b_c");
//! ```

use std::time::SystemTime;

use gix::ObjectId;
use serde_json::{Value, json};

use crate::signature::{AllowedSigners, Signer, Verdict};

/// The in-toto statement type.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// The predicate type: SLSA provenance v1.
pub const PREDICATE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// The build type named in the predicate.
pub const BUILD_TYPE: &str = "urn:eka:build:v1";
/// The prefix of every attestation ref.
pub const REF_PREFIX: &str = "refs/eka/attest/";
/// The tagger line of every attestation tag (fixed, like atom commits' author).
pub const TAGGER: &str = "eka <eka@eka.invalid> 0 +0000";
/// The armor line starting the signature appended to a signed tag.
const SIGNATURE_START: &[u8] = b"-----BEGIN SSH SIGNATURE-----";

/// One build output: a store path and the sha256 of its NAR serialisation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Subject {
    /// The store path (`/nix/store/<hash>-<name>`).
    pub name: String,
    /// The NAR hash, 64 lowercase hex digits.
    pub sha256: String,
}

/// What an attestation states (see the module documentation for the JSON layout).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Statement {
    /// The outputs, in the order Nix printed them.
    pub subjects: Vec<Subject>,
    /// The atom id (64 hex digits).
    pub atom_id: String,
    /// The atom's label.
    pub label: String,
    /// The atom's version.
    pub version: String,
    /// The atom commit built (40 hex digits).
    pub commit: String,
    /// The atom's content hash (`blake3:<hex>`).
    pub content: String,
    /// The configuration hash (`sha256:<hex>`).
    pub config_hash: String,
    /// The BLAKE3 hash of the atom's `atom.lock` bytes (`blake3:<hex>`), empty when
    /// the atom has no lock.
    pub lock_hash: String,
    /// The Nix system the outputs were built for (`x86_64-linux`).
    pub system: String,
    /// The builder: the signer's key fingerprint (`SHA256:…`).
    pub builder: String,
    /// The Nix version that built them.
    pub nix_version: String,
    /// When the build started (RFC 3339, UTC).
    pub started_on: String,
    /// When the build finished (RFC 3339, UTC).
    pub finished_on: String,
}

/// Why an attestation cannot be read or is refused.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tag object is not a tag object this module can read.
    #[error("the attestation tag is malformed: {reason}")]
    MalformedTag {
        /// What is wrong.
        reason: String,
    },
    /// The tag's message is not an attestation statement.
    #[error("the attestation statement is malformed: {reason}")]
    MalformedStatement {
        /// What is wrong.
        reason: String,
    },
    /// The tag's signature is refused by the trust policy.
    #[error("the attestation signature is refused")]
    Signature(#[source] crate::signature::Error),
    /// The tag cannot be signed.
    #[error("cannot sign the attestation")]
    Sign(#[source] crate::signature::Error),
}

impl atom::error::Classify for Error {
    fn kind(&self) -> atom::error::Kind {
        match self {
            Error::Sign(source) => atom::error::Classify::kind(source),
            _ => atom::error::Kind::Input,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Signature(source) | Error::Sign(source) => atom::error::Classify::hint(source),
            _ => None,
        }
    }
}

impl Statement {
    /// The statement as a JSON value.
    pub fn to_value(&self) -> Value {
        let subjects: Vec<Value> = self
            .subjects
            .iter()
            .map(|subject| json!({"name": subject.name, "digest": {"sha256": subject.sha256}}))
            .collect();
        let mut dependencies = vec![json!({
            "name": "atom",
            "digest": {"gitCommit": self.commit, "blake3": strip(&self.content, "blake3:")},
        })];
        if !self.lock_hash.is_empty() {
            dependencies.push(json!({
                "name": "atom.lock",
                "digest": {"blake3": strip(&self.lock_hash, "blake3:")},
            }));
        }
        json!({
            "_type": STATEMENT_TYPE,
            "subject": subjects,
            "predicateType": PREDICATE_TYPE,
            "predicate": {
                "buildDefinition": {
                    "buildType": BUILD_TYPE,
                    "externalParameters": {
                        "atom": self.atom_id,
                        "label": self.label,
                        "version": self.version,
                        "configHash": self.config_hash,
                    },
                    "internalParameters": {"system": self.system},
                    "resolvedDependencies": dependencies,
                },
                "runDetails": {
                    "builder": {"id": self.builder, "version": {"nix": self.nix_version}},
                    "metadata": {"startedOn": self.started_on, "finishedOn": self.finished_on},
                },
            },
        })
    }

    /// The canonical JSON text: object keys sorted by their bytes, no whitespace.
    pub fn to_json(&self) -> String {
        // `serde_json` keeps objects in a sorted map (no `preserve_order`) and writes
        // compactly, which is the canonical form.
        self.to_value().to_string()
    }

    /// Read a statement written by [`Statement::to_json`] (any JSON layout of the same
    /// value is accepted; the signature covers the bytes, not this reading).
    pub fn parse(text: &str) -> Result<Statement, Error> {
        let value: Value = serde_json::from_str(text).map_err(malformed)?;
        let text_at = |pointer: &str| -> Result<String, Error> {
            value
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| malformed(format!("`{pointer}` is missing or not a string")))
        };
        if text_at("/_type")? != STATEMENT_TYPE {
            return Err(malformed("`_type` is not an in-toto v1 statement"));
        }
        if text_at("/predicateType")? != PREDICATE_TYPE {
            return Err(malformed("`predicateType` is not SLSA provenance v1"));
        }
        let subjects = value
            .get("subject")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("`subject` is missing"))?
            .iter()
            .map(|subject| {
                let field = |pointer: &str| {
                    subject
                        .pointer(pointer)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| malformed(format!("a subject has no `{pointer}`")))
                };
                Ok(Subject {
                    name: field("/name")?,
                    sha256: field("/digest/sha256")?,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        let dependencies = value
            .pointer("/predicate/buildDefinition/resolvedDependencies")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("`resolvedDependencies` is missing"))?;
        let dependency = |name: &str, digest: &str| {
            dependencies
                .iter()
                .find(|entry| entry.get("name").and_then(Value::as_str) == Some(name))
                .and_then(|entry| entry.pointer(&format!("/digest/{digest}")))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let parameters = "/predicate/buildDefinition/externalParameters";
        let run = "/predicate/runDetails";
        Ok(Statement {
            subjects,
            atom_id: text_at(&format!("{parameters}/atom"))?,
            label: text_at(&format!("{parameters}/label"))?,
            version: text_at(&format!("{parameters}/version"))?,
            config_hash: text_at(&format!("{parameters}/configHash"))?,
            commit: dependency("atom", "gitCommit")
                .ok_or_else(|| malformed("the `atom` dependency has no `gitCommit`"))?,
            content: dependency("atom", "blake3")
                .map(|hex| format!("blake3:{hex}"))
                .ok_or_else(|| malformed("the `atom` dependency has no `blake3`"))?,
            lock_hash: dependency("atom.lock", "blake3")
                .map(|hex| format!("blake3:{hex}"))
                .unwrap_or_default(),
            system: text_at("/predicate/buildDefinition/internalParameters/system")?,
            builder: text_at(&format!("{run}/builder/id"))?,
            nix_version: text_at(&format!("{run}/builder/version/nix"))?,
            started_on: text_at(&format!("{run}/metadata/startedOn"))?,
            finished_on: text_at(&format!("{run}/metadata/finishedOn"))?,
        })
    }
}

fn strip<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.strip_prefix(prefix).unwrap_or(text)
}

fn malformed(reason: impl ToString) -> Error {
    Error::MalformedStatement {
        reason: reason.to_string(),
    }
}

/// A key fingerprint (`SHA256:<base64>`) as a ref name component: `:` → `-`, and the
/// base64 alphabet made URL-safe (`+` → `-`, `/` → `_`).
pub fn url_safe_fingerprint(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .map(|c| match c {
            ':' | '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

/// The lock hash a statement names: `blake3:` and the lowercase hex BLAKE3 of the
/// `atom.lock` bytes.
pub fn lock_hash(lock: &[u8]) -> String {
    format!("blake3:{}", blake3::hash(lock).to_hex())
}

/// The ref an attestation is published under.
pub fn ref_name(label: &str, version: &str, config_hash: &str, fingerprint: &str) -> String {
    format!(
        "{}{}",
        ref_prefix(label, version),
        format_args!(
            "{}/{}",
            strip(config_hash, "sha256:"),
            url_safe_fingerprint(fingerprint)
        )
    )
}

/// The prefix of every attestation ref of one atom version (ending with `/`).
pub fn ref_prefix(label: &str, version: &str) -> String {
    format!("{REF_PREFIX}{label}/{version}/")
}

/// The tag name written in the tag object of an attestation.
pub fn tag_name(label: &str, version: &str) -> String {
    format!("attest/{label}/{version}")
}

/// The tag object without signature: `object`, `type commit`, `tag`, [`TAGGER`], an
/// empty line, then the statement and a newline.
pub fn tag_payload(object: ObjectId, tag: &str, statement_json: &str) -> Vec<u8> {
    format!("object {object}\ntype commit\ntag {tag}\ntagger {TAGGER}\n\n{statement_json}\n")
        .into_bytes()
}

/// Sign a tag payload as `git tag -s` does with an SSH key: the armored signature is
/// appended to the payload. Returns the whole tag object.
pub fn sign_tag(payload: &[u8], signer: &Signer) -> Result<Vec<u8>, Error> {
    let armored = signer.sign(payload).map_err(Error::Sign)?;
    let mut object = payload.to_vec();
    object.extend_from_slice(armored.as_bytes());
    Ok(object)
}

/// A raw tag object split as git splits it for verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTag {
    /// The object the tag points to.
    pub object: ObjectId,
    /// The tag object up to its signature: what was signed.
    pub payload: Vec<u8>,
    /// The message (the statement), without the signature.
    pub message: String,
    /// The armored signature, if any.
    pub signature: Option<Vec<u8>>,
}

/// Split a raw tag object: its `object` header, and the message cut at the last line
/// starting the SSH signature armor (as git does).
pub fn split_signed_tag(raw: &[u8]) -> Result<SignedTag, Error> {
    let bad = |reason: &str| Error::MalformedTag {
        reason: reason.to_owned(),
    };
    let header_end = raw
        .windows(2)
        .position(|window| window == b"\n\n")
        .ok_or_else(|| bad("it has no message"))?;
    let headers = std::str::from_utf8(&raw[..header_end]).map_err(|_| bad("it is not text"))?;
    let object = headers
        .lines()
        .find_map(|line| line.strip_prefix("object "))
        .ok_or_else(|| bad("it has no `object` header"))?;
    let object = ObjectId::from_hex(object.as_bytes()).map_err(|_| bad("bad `object` header"))?;
    if !headers.lines().any(|line| line == "type commit") {
        return Err(bad("it does not point to a commit"));
    }
    let body_start = header_end + 2;
    let mut signature_start = None;
    let mut offset = body_start;
    for line in raw[body_start..].split_inclusive(|byte| *byte == b'\n') {
        if line.starts_with(SIGNATURE_START) {
            signature_start = Some(offset);
        }
        offset += line.len();
    }
    let cut = signature_start.unwrap_or(raw.len());
    let message = std::str::from_utf8(&raw[body_start..cut])
        .map_err(|_| bad("its message is not UTF-8"))?
        .to_owned();
    Ok(SignedTag {
        object,
        payload: raw[..cut].to_vec(),
        message,
        signature: signature_start.map(|start| raw[start..].to_vec()),
    })
}

/// A tag whose signature the trust policy accepts, and its statement.
#[derive(Debug, Clone)]
pub struct Verified {
    /// Who signed it.
    pub verdict: Verdict,
    /// The object the tag points to.
    pub object: ObjectId,
    /// What it states.
    pub statement: Statement,
}

/// Verify a raw tag object: its signature against `allowed` at `now` (namespace `git`,
/// revocation, validity: the same checks as atom commit signatures), then decode its
/// statement.
pub fn verify_tag(
    raw: &[u8],
    allowed: &AllowedSigners,
    now: SystemTime,
) -> Result<Verified, Error> {
    let tag = split_signed_tag(raw)?;
    let verdict = crate::signature::verify_commit_signature(
        &tag.payload,
        tag.signature.as_deref(),
        allowed,
        now,
    )
    .map_err(Error::Signature)?;
    let statement = Statement::parse(tag.message.trim_end())?;
    Ok(Verified {
        verdict,
        object: tag.object,
        statement,
    })
}

/// The fingerprint (`SHA256:…`) of the key that signed a tag, read from its signature
/// without judging it; `None` when the tag carries no readable signature.
pub fn signer_fingerprint(tag: &SignedTag) -> Option<String> {
    let text = std::str::from_utf8(tag.signature.as_deref()?).ok()?;
    let signature = ssh_key::SshSig::from_pem(text.trim()).ok()?;
    let key = crate::signature::PublicKey::from(signature.public_key().clone());
    Some(key.fingerprint(ssh_key::HashAlg::Sha256).to_string())
}

/// Format a time as RFC 3339 in UTC, to the second (`2026-12-02T03:04:05Z`).
pub fn rfc3339(time: SystemTime) -> String {
    let seconds = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|duration| duration.as_secs())
        .unwrap_or(0);
    let days = (seconds / 86_400) as i64;
    let rest = seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// What is wrong with the attestations of one locked atom, by kind (the kebab-case
/// variant name, `kind` in JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Failure {
    /// The tag's signature is missing, bad, or not from a trusted, valid, unrevoked key.
    #[error("attestation `{reference}` is not trusted: {reason}")]
    AttestationUntrusted {
        /// The attestation ref.
        reference: String,
        /// The signature failure's kind (`unknown-key`, `revoked`, …).
        signature: String,
        /// Why, in words.
        reason: String,
    },
    /// The tag or its statement cannot be read.
    #[error("attestation `{reference}` is malformed: {reason}")]
    AttestationMalformed {
        /// The attestation ref.
        reference: String,
        /// What is wrong.
        reason: String,
    },
    /// The tag points to another commit than the locked one.
    #[error(
        "attestation `{reference}` is a tag of commit `{found}`, not of the locked `{expected}`"
    )]
    AttestationWrongCommit {
        /// The attestation ref.
        reference: String,
        /// The locked commit.
        expected: String,
        /// The tag's object.
        found: String,
    },
    /// The statement names another atom, commit or content than the lock.
    #[error("attestation `{reference}` states {field} `{found}`, the lock has `{expected}`")]
    AttestationMismatch {
        /// The attestation ref.
        reference: String,
        /// The statement field.
        field: String,
        /// What the lock has.
        expected: String,
        /// What the statement says.
        found: String,
    },
    /// The ref's name does not fit its tag (its signer or configuration): the ref was
    /// moved to another attestation.
    #[error("attestation ref `{reference}` does not name its tag: {reason}")]
    AttestationRefMoved {
        /// The attestation ref.
        reference: String,
        /// What does not fit.
        reason: String,
    },
    /// Two trusted attestations state different NAR hashes for one output.
    #[error(
        "output `{path}` is not reproducible: `{first_signer}` attests sha256 `{first}`, \
         `{second_signer}` attests `{second}`"
    )]
    Irreproducible {
        /// The store path.
        path: String,
        /// The first signer (principal and fingerprint).
        first_signer: String,
        /// Its NAR hash.
        first: String,
        /// The second signer.
        second_signer: String,
        /// Its NAR hash.
        second: String,
    },
    /// An attested output, realised from a substituter, has another NAR hash.
    #[error("output `{path}` has NAR hash sha256 `{found}`, the attestation states `{expected}`")]
    OutputMismatch {
        /// The store path.
        path: String,
        /// The attested hash.
        expected: String,
        /// The hash found.
        found: String,
    },
    /// An attested output cannot be realised from the substituters.
    #[error("output `{path}` cannot be realised from the substituters: {reason}")]
    OutputUnavailable {
        /// The store path.
        path: String,
        /// Why.
        reason: String,
    },
    /// No trusted attestation (with `--require-attested`).
    #[error("no trusted attestation for configuration `{config_hash}`")]
    Unattested {
        /// The configuration hash looked for.
        config_hash: String,
    },
}

impl Failure {
    /// How to fix it, when there is something to say.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Failure::AttestationUntrusted { .. } => {
                "trust the builder's key in `[trust.<set>] allowed_signers` of `eka.toml`, or \
                 ignore its attestation"
            }
            Failure::AttestationWrongCommit { .. }
            | Failure::AttestationMismatch { .. }
            | Failure::AttestationRefMoved { .. } => {
                "the attestation is not about the locked atom: do not use its outputs"
            }
            Failure::Irreproducible { .. } => {
                "the build is not reproducible or a builder is lying: rebuild and compare"
            }
            Failure::OutputMismatch { .. } => {
                "the cache serves other bytes than the builder attested: do not use it"
            }
            Failure::Unattested { .. } => {
                "ask a trusted builder to run `eka attest`, or drop `--require-attested`"
            }
            _ => return None,
        })
    }
}

/// What an attestation must be about: the locked atom.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The label.
    pub label: &'a str,
    /// The version.
    pub version: &'a str,
    /// The locked atom commit.
    pub commit: ObjectId,
    /// The locked content hash.
    pub content: &'a str,
    /// The locked atom id.
    pub atom_id: &'a str,
}

/// Check one attestation tag found under `reference`: its signature against `allowed`
/// at `now`, its object, its statement against `expected`, and that the ref names its
/// tag (label, version, configuration hash and signer).
pub fn check_tag(
    reference: &str,
    raw: &[u8],
    expected: &Expected<'_>,
    allowed: &AllowedSigners,
    now: SystemTime,
) -> Result<Verified, Failure> {
    let verified = verify_tag(raw, allowed, now).map_err(|error| match error {
        Error::Signature(source) => Failure::AttestationUntrusted {
            reference: reference.to_owned(),
            signature: source
                .kind()
                .map(|kind| kind.as_str())
                .unwrap_or("error")
                .to_owned(),
            reason: source.to_string(),
        },
        other => Failure::AttestationMalformed {
            reference: reference.to_owned(),
            reason: other.to_string(),
        },
    })?;
    if verified.object != expected.commit {
        return Err(Failure::AttestationWrongCommit {
            reference: reference.to_owned(),
            expected: expected.commit.to_string(),
            found: verified.object.to_string(),
        });
    }
    let statement = &verified.statement;
    let commit = expected.commit.to_string();
    for (field, wanted, found) in [
        ("the commit", commit.as_str(), statement.commit.as_str()),
        (
            "the content hash",
            expected.content,
            statement.content.as_str(),
        ),
        ("the label", expected.label, statement.label.as_str()),
        ("the version", expected.version, statement.version.as_str()),
        ("the atom id", expected.atom_id, statement.atom_id.as_str()),
    ] {
        if wanted != found {
            return Err(Failure::AttestationMismatch {
                reference: reference.to_owned(),
                field: field.to_owned(),
                expected: wanted.to_owned(),
                found: found.to_owned(),
            });
        }
    }
    let named = ref_name(
        &statement.label,
        &statement.version,
        &statement.config_hash,
        &verified.verdict.fingerprint,
    );
    if named != reference {
        return Err(Failure::AttestationRefMoved {
            reference: reference.to_owned(),
            reason: format!(
                "its tag is signed by `{}` for configuration `{}`, which belongs under `{named}`",
                verified.verdict.fingerprint, statement.config_hash
            ),
        });
    }
    Ok(verified)
}

/// Every output two verified attestations state different NAR hashes for, naming both
/// signers.
pub fn disagreements(verified: &[Verified]) -> Vec<Failure> {
    let mut seen: std::collections::BTreeMap<&str, (&str, String)> =
        std::collections::BTreeMap::new();
    let mut failures = Vec::new();
    for attestation in verified {
        let signer = format!(
            "{} ({})",
            attestation.verdict.principal, attestation.verdict.fingerprint
        );
        for subject in &attestation.statement.subjects {
            match seen.get(subject.name.as_str()) {
                Some((hash, first_signer)) if *hash != subject.sha256 => {
                    failures.push(Failure::Irreproducible {
                        path: subject.name.clone(),
                        first_signer: first_signer.clone(),
                        first: (*hash).to_owned(),
                        second_signer: signer.clone(),
                        second: subject.sha256.clone(),
                    });
                }
                Some(_) => {}
                None => {
                    seen.insert(&subject.name, (&subject.sha256, signer.clone()));
                }
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339() {
        assert_eq!(rfc3339(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_709_251_199);
        assert_eq!(rfc3339(time), "2024-02-29T23:59:59Z");
    }

    #[test]
    fn a_tag_splits_at_its_last_signature() {
        let id = ObjectId::from_hex(b"0123456789012345678901234567890123456789").unwrap();
        let payload = tag_payload(id, "attest/a/1.0.0", "{}");
        let mut raw = payload.clone();
        raw.extend_from_slice(b"-----BEGIN SSH SIGNATURE-----\nxx\n-----END SSH SIGNATURE-----\n");
        let split = split_signed_tag(&raw).unwrap();
        assert_eq!(split.object, id);
        assert_eq!(split.payload, payload);
        assert_eq!(split.message, "{}\n");
        assert!(split.signature.unwrap().starts_with(SIGNATURE_START));
        assert!(matches!(
            split_signed_tag(b"object nope\n\nx"),
            Err(Error::MalformedTag { .. })
        ));
    }
}
