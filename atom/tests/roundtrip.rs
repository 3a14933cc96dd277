//! Good fixtures parse, and serialising them gives the same value back; the lockfile's
//! bytes are a fixed point of parse + print.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use atom::{lock::Lockfile, manifest::Manifest, set::SetManifest};

fn good(prefix: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/good");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with(prefix))
        })
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no good fixture starts with {prefix}");
    paths
}

#[test]
fn manifests_round_trip_through_serde() {
    let paths = good("manifest-");
    assert!(paths.len() >= 3);
    for path in paths {
        let manifest = Manifest::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let text = toml::to_string(&manifest).unwrap();
        let again = Manifest::from_str(&text, &path).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(again, manifest, "{}", path.display());
    }
}

#[test]
fn full_manifest_has_what_it_says() {
    let path = good("manifest-full").remove(0);
    let manifest = Manifest::read(path).unwrap();
    assert_eq!(manifest.package.version.to_string(), "1.2.3-beta.1+build.5");
    assert_eq!(manifest.package.sets.len(), 3);
    assert_eq!(
        manifest
            .deps
            .from
            .values()
            .map(|deps| deps.len())
            .sum::<usize>(),
        4
    );
    assert_eq!(manifest.deps.direct.nix.len(), 5);
    let file = atom::Label::parse("file").unwrap();
    assert!(
        manifest
            .deps
            .from
            .values()
            .any(|deps| deps.contains_key(&file))
    );
}

#[test]
fn set_round_trips() {
    for path in good("set-") {
        let set = SetManifest::read(&path).unwrap_or_else(|e| panic!("{e}"));
        let paths: Vec<&str> = set.packages.iter().map(|p| p.as_str()).collect();
        assert_eq!(paths, ["pkgs/app", "pkgs/lib", "tools/b", "."]);
        assert_eq!(SetManifest::from_str(&set.to_string(), &path).unwrap(), set);
    }
}

#[test]
fn lock_bytes_are_a_fixed_point() {
    for path in good("lock-") {
        let bytes = std::fs::read_to_string(&path).unwrap();
        let lock = Lockfile::from_str(&bytes, &path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(lock.atoms.len(), 3);
        assert_eq!(lock.nix.len(), 3);
        assert_eq!(lock.to_string(), bytes, "{}", path.display());
        assert_eq!(Lockfile::from_str(&lock.to_string(), &path).unwrap(), lock);
    }
}

#[test]
fn lock_order_does_not_depend_on_input_order() {
    let path = good("lock-").remove(0);
    let mut lock = Lockfile::read(&path).unwrap();
    let canonical = lock.to_string();
    lock.atoms.reverse();
    lock.nix.reverse();
    assert_eq!(lock.to_string(), canonical);
}

#[test]
fn a_lock_is_version_2_exactly_when_it_has_follows() {
    let full = Lockfile::read(good("lock-full").remove(0)).unwrap();
    assert!(full.follows.is_empty());
    assert!(full.to_string().contains("\nversion = 1\n"));
    let follows = Lockfile::read(good("lock-follows").remove(0)).unwrap();
    assert_eq!(follows.follows.len(), 2);
    assert!(follows.to_string().contains("\nversion = 2\n"));
    let mut without = follows.clone();
    without.follows.clear();
    assert_eq!(without.to_string(), full.to_string());
    let mut reversed = follows.clone();
    reversed.follows.reverse();
    assert_eq!(reversed.to_string(), follows.to_string());
}

#[test]
fn full_manifest_follows_parse() {
    let manifest = Manifest::read(good("manifest-full").remove(0)).unwrap();
    let keys: Vec<String> = manifest
        .deps
        .follows
        .keys()
        .map(|k| k.to_string())
        .collect();
    assert_eq!(keys, ["tools.nixpkgs"]);
}
