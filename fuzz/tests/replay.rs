//! Every seed in `fuzz/corpus/<target>/` and every crash kept in
//! `fuzz/regressions/<target>/` replayed through its target: a crash found once by
//! `fuzz/run.sh` stays fixed.

#![allow(clippy::unwrap_used)]

use std::path::Path;

fn inputs(kind: &str, target: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(kind)
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn every_target_has_seeds_and_every_seed_and_regression_passes() {
    for (name, target) in eka_fuzz::TARGETS {
        let seeds = inputs("corpus", name);
        assert!(!seeds.is_empty(), "no seeds in fuzz/corpus/{name}/");
        for path in seeds.iter().chain(&inputs("regressions", name)) {
            let data = std::fs::read(path).unwrap();
            let outcome = std::panic::catch_unwind(|| target(&data));
            assert!(outcome.is_ok(), "{name} crashes on {}", path.display());
        }
    }
}

#[test]
fn a_broken_property_is_a_crash() {
    // The atom-commit target must notice a commit that is not an atom commit's only
    // encoding; a plain git commit is not an atom commit at all and passes quietly.
    let plain = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\nauthor a <a@b> 0 +0000\ncommitter a <a@b> 0 +0000\n\nmessage\n";
    eka_fuzz::atom_commit(plain);
    assert!(eka_fuzz::target("lock").is_some());
    assert!(eka_fuzz::target("nope").is_none());
}

#[test]
fn the_signed_seeds_are_accepted_so_the_fuzzer_starts_from_a_good_signature() {
    // The signature target asserts that only these payloads are ever accepted; were
    // they refused, it would only ever fuzz the refusal paths.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/signature");
    for name in ["signed-atom-commit", "git-signed-commit"] {
        let raw = std::fs::read(dir.join(name)).unwrap();
        let split = verify::signature::split_signed_commit(&raw).unwrap();
        let allowed = verify::signature::AllowedSigners::parse(
            "allowed_signers",
            &std::fs::read_to_string(
                Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/allowed_signers/one"),
            )
            .unwrap(),
        )
        .unwrap();
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let verdict = verify::signature::verify_commit_signature(
            &split.payload,
            split
                .signature
                .as_ref()
                .map(|signature| signature.as_slice()),
            &allowed,
            now,
        );
        assert!(verdict.is_ok(), "{name}: {verdict:?}");
    }
}
