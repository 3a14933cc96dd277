//! Golden vectors of attestations (format 1): a fixed statement gives exact canonical
//! bytes, and a fixed tag signed with a fixed key gives an exact tag object.
//!
//! The expected values are frozen (they are quoted in `docs/format.md`): if one changes,
//! the format changed, which needs a format bump, not an update of this file.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::SystemTime;

use verify::{
    attestation::{
        Statement, Subject, lock_hash, ref_name, sign_tag, tag_name, tag_payload, verify_tag,
    },
    signature::{AllowedSigners, PrivateKey, Signer},
};

/// A fixed test key (the one of `verify::signature`'s example; never use it for anything).
const KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCAK7E7A7UBelMByvYbXqJj1Ub56/TNLSnIv4LauThE0QAAAJjuFvlx7hb5
cQAAAAtzc2gtZWQyNTUxOQAAACCAK7E7A7UBelMByvYbXqJj1Ub56/TNLSnIv4LauThE0Q
AAAEA9l1dXv19VHvtGjvzXWIWHVJd/vndALPlMu88jwlxlyYArsTsDtQF6UwHK9hteomPV
Rvnr9M0tKci/gtq5OETRAAAAD2RvY0BleGFtcGxlLm9yZwECAwQFBg==
-----END OPENSSH PRIVATE KEY-----
";

fn statement() -> Statement {
    Statement {
        subjects: vec![Subject {
            name: "/nix/store/00000000000000000000000000000000-hello".into(),
            sha256: "11".repeat(32),
        }],
        atom_id: "22".repeat(32),
        label: "hello".into(),
        version: "1.0.0".into(),
        commit: "3333333333333333333333333333333333333333".into(),
        content: format!("blake3:{}", "44".repeat(32)),
        config_hash: format!("sha256:{}", "55".repeat(32)),
        lock_hash: lock_hash(b""),
        system: "x86_64-linux".into(),
        builder: "SHA256:test".into(),
        nix_version: "2.8.1".into(),
        started_on: "2026-12-02T00:00:00Z".into(),
        finished_on: "2026-12-02T00:00:01Z".into(),
    }
}

const STATEMENT: &str = r#"{"_type":"https://in-toto.io/Statement/v1","predicate":{"buildDefinition":{"buildType":"urn:eka:build:v1","externalParameters":{"atom":"2222222222222222222222222222222222222222222222222222222222222222","configHash":"sha256:5555555555555555555555555555555555555555555555555555555555555555","label":"hello","version":"1.0.0"},"internalParameters":{"system":"x86_64-linux"},"resolvedDependencies":[{"digest":{"blake3":"4444444444444444444444444444444444444444444444444444444444444444","gitCommit":"3333333333333333333333333333333333333333"},"name":"atom"},{"digest":{"blake3":"af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262"},"name":"atom.lock"}]},"runDetails":{"builder":{"id":"SHA256:test","version":{"nix":"2.8.1"}},"metadata":{"finishedOn":"2026-12-02T00:00:01Z","startedOn":"2026-12-02T00:00:00Z"}}},"predicateType":"https://slsa.dev/provenance/v1","subject":[{"digest":{"sha256":"1111111111111111111111111111111111111111111111111111111111111111"},"name":"/nix/store/00000000000000000000000000000000-hello"}]}"#;

const TAG: &str = concat!(
    "object 3333333333333333333333333333333333333333\n",
    "type commit\n",
    "tag attest/hello/1.0.0\n",
    "tagger eka <eka@eka.invalid> 0 +0000\n",
    "\n",
    "{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicate\":{\"buildDefinition\":{\"buildType\":\"urn:eka:build:v1\",\"externalParameters\":{\"atom\":\"2222222222222222222222222222222222222222222222222222222222222222\",\"configHash\":\"sha256:5555555555555555555555555555555555555555555555555555555555555555\",\"label\":\"hello\",\"version\":\"1.0.0\"},\"internalParameters\":{\"system\":\"x86_64-linux\"},\"resolvedDependencies\":[{\"digest\":{\"blake3\":\"4444444444444444444444444444444444444444444444444444444444444444\",\"gitCommit\":\"3333333333333333333333333333333333333333\"},\"name\":\"atom\"},{\"digest\":{\"blake3\":\"af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262\"},\"name\":\"atom.lock\"}]},\"runDetails\":{\"builder\":{\"id\":\"SHA256:test\",\"version\":{\"nix\":\"2.8.1\"}},\"metadata\":{\"finishedOn\":\"2026-12-02T00:00:01Z\",\"startedOn\":\"2026-12-02T00:00:00Z\"}}},\"predicateType\":\"https://slsa.dev/provenance/v1\",\"subject\":[{\"digest\":{\"sha256\":\"1111111111111111111111111111111111111111111111111111111111111111\"},\"name\":\"/nix/store/00000000000000000000000000000000-hello\"}]}\n",
    "-----BEGIN SSH SIGNATURE-----\n",
    "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAggCuxOwO1AXpTAcr2G16iY9VG+e\n",
    "v0zS0pyL+C2rk4RNEAAAADZ2l0AAAAAAAAAAZzaGE1MTIAAABTAAAAC3NzaC1lZDI1NTE5\n",
    "AAAAQKN4g02HRYlzhu+ufXKHfBdQ6Q5Fylg68ePPymdyNcWhenceR6iqId8qV+HaZGBAr8\n",
    "4dRCnX7D4El75QBV+a3go=\n",
    "-----END SSH SIGNATURE-----\n",
);

#[test]
fn a_fixed_statement_has_exact_canonical_bytes() {
    let json = statement().to_json();
    assert_eq!(json, STATEMENT);
    assert_eq!(Statement::parse(&json).unwrap(), statement());
}

#[test]
fn a_fixed_tag_has_exact_bytes_and_verifies() {
    let key = PrivateKey::from_openssh(KEY).unwrap();
    let id = gix::ObjectId::from_hex(b"3333333333333333333333333333333333333333").unwrap();
    let payload = tag_payload(id, &tag_name("hello", "1.0.0"), &statement().to_json());
    let tag = sign_tag(&payload, &Signer::Key(Box::new(key.clone()))).unwrap();
    assert_eq!(String::from_utf8(tag.clone()).unwrap(), TAG);
    let public = key.public_key().to_openssh().unwrap();
    let allowed = AllowedSigners::parse("allowed", &format!("b@example.org {public}\n")).unwrap();
    let verified = verify_tag(&tag, &allowed, SystemTime::now()).unwrap();
    assert_eq!(verified.statement, statement());
    assert_eq!(verified.object, id);
    assert_eq!(
        ref_name(
            "hello",
            "1.0.0",
            &statement().config_hash,
            &verified.verdict.fingerprint
        ),
        format!(
            "refs/eka/attest/hello/1.0.0/{}/{}",
            "55".repeat(32),
            verified
                .verdict
                .fingerprint
                .replace([':', '+'], "-")
                .replace('/', "_")
        )
    );
}
