//! The consumer's trust policy per set (`eka.toml` `[trust.<set name or set URL>]`), as
//! resolution and `eka verify` apply it to a version served by a URL the consumer did
//! not configure for its set (a claimant, ADR 0017).
//!
//! [`TrustPolicy`] maps each trust entry to the URLs it names (a set name stands for the
//! URLs the project's `[package.sets]` gives it, a URL for itself) and judges an atom
//! commit's signature by the entry naming a set ([`TrustPolicy::judge`]). It implements
//! [`resolver::catalog::Vouch`], so that a claimant's version signed by a key trusted
//! for the set is a candidate for that set.

use std::{collections::BTreeMap, time::SystemTime};

use atom::{config::Trust, manifest::Manifest, store::AtomCommit, uri::SetUrl};
use resolver::catalog::{Refusal, Vouch};
use verify::signature::{self, AllowedSigners};

/// The trust entries of `eka.toml`, each with the URLs it names.
#[derive(Debug)]
pub struct TrustPolicy {
    entries: Vec<Entry>,
    now: SystemTime,
}

/// One `[trust.<name>]` entry.
#[derive(Debug)]
struct Entry {
    /// The entry's name, as written.
    name: String,
    /// The URLs it names.
    urls: Vec<String>,
    /// Its allowed signers and revoked keys, or why they cannot be read.
    signers: Result<AllowedSigners, String>,
}

/// A signature trusted for a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trusted {
    /// The trust entry that allows the key.
    pub entry: String,
    /// The key's fingerprint.
    pub fingerprint: String,
}

impl TrustPolicy {
    /// The entries of `trust`, their set names looked up in `manifest`'s
    /// `[package.sets]`; keys are judged at `now`. An entry whose allowed signers cannot
    /// be read trusts nothing (its error is the refusal's reason).
    pub fn new(trust: &BTreeMap<String, Trust>, manifest: &Manifest, now: SystemTime) -> Self {
        let entries = trust
            .iter()
            .map(|(name, entry)| Entry {
                name: name.clone(),
                urls: urls_named(name, manifest)
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
                signers: AllowedSigners::from_config(name, entry).map_err(|error| {
                    format!("`[trust.{name}]` in `eka.toml` cannot be read: {error}")
                }),
            })
            .collect();
        TrustPolicy { entries, now }
    }

    /// The name of the trust entry for the set configured as `urls`, if any.
    pub fn entry_for<'a>(&self, urls: impl IntoIterator<Item = &'a str>) -> Option<&str> {
        self.find(urls).map(|entry| entry.name.as_str())
    }

    fn find<'a>(&self, urls: impl IntoIterator<Item = &'a str>) -> Option<&Entry> {
        let urls: Vec<&str> = urls.into_iter().collect();
        self.entries
            .iter()
            .find(|entry| entry.urls.iter().any(|url| urls.contains(&url.as_str())))
    }

    /// Judge the signature of `commit` (the raw bytes of an atom commit) by the trust
    /// entry of the set configured as `urls`: `None` when no entry names that set.
    pub fn judge<'a>(
        &self,
        urls: impl IntoIterator<Item = &'a str>,
        commit: &[u8],
    ) -> Option<Result<Trusted, Refusal>> {
        let entry = self.find(urls)?;
        let signers = match &entry.signers {
            Ok(signers) => signers,
            Err(reason) => {
                return Some(Err(Refusal {
                    reason: reason.clone(),
                    hint: None,
                }));
            }
        };
        let verdict = signature::split_signed_commit(commit).and_then(|split| {
            signature::verify_commit_signature(
                &split.payload,
                split.signature.as_ref().map(|armored| armored.as_slice()),
                signers,
                self.now,
            )
        });
        Some(match verdict {
            Ok(verdict) => Ok(Trusted {
                entry: entry.name.clone(),
                fingerprint: verdict.fingerprint,
            }),
            Err(error) => Err(refusal(&entry.name, &error)),
        })
    }
}

/// Why `[trust.<name>]` does not vouch for a commit, and how to trust it.
fn refusal(name: &str, error: &signature::Error) -> Refusal {
    use signature::Kind as S;
    let reason = format!("`[trust.{name}]` does not vouch for it: {error}");
    let hint = match error.kind() {
        Some(S::Unsigned) => format!(
            "only atom commits signed by a key of `[trust.{name}]` are taken from a URL not \
             configured for the set"
        ),
        Some(S::UnknownKey | S::NotAllowed) => format!(
            "if you trust that key for the set, add its `principal keytype key` line to \
             `allowed_signers` of `[trust.{name}]` in `eka.toml`"
        ),
        Some(S::Revoked) => format!(
            "the key is in `revoked_keys` of `[trust.{name}]`: only atoms signed by another \
             allowed key are taken"
        ),
        Some(S::Expired | S::NotYetValid) => format!(
            "the `allowed_signers` line of `[trust.{name}]` limits when this key is trusted \
             (`valid-after`, `valid-before`)"
        ),
        _ => format!("check the signature against the keys of `[trust.{name}]`"),
    };
    Refusal {
        reason,
        hint: Some(hint),
    }
}

impl Vouch for TrustPolicy {
    fn vouch(&self, owners: &[SetUrl], commit: &AtomCommit) -> Option<Result<(), Refusal>> {
        let bytes = match commit.to_bytes() {
            Ok(bytes) => bytes,
            Err(error) => {
                return Some(Err(Refusal {
                    reason: format!("its atom commit cannot be encoded: {error}"),
                    hint: None,
                }));
            }
        };
        self.judge(owners.iter().map(SetUrl::as_str), &bytes)
            .map(|verdict| verdict.map(|_| ()))
    }
}

/// The URLs a trust entry's name stands for: a set name of `[package.sets]` its URLs,
/// anything else itself.
pub fn urls_named<'a>(name: &'a str, manifest: &'a Manifest) -> Vec<&'a str> {
    let set = manifest
        .package
        .sets
        .iter()
        .find(|(set_name, _)| set_name.as_str() == name);
    match set {
        Some((_, source)) => source.urls().iter().map(SetUrl::as_str).collect(),
        None => vec![name],
    }
}
