//! Helpers shared by the resolver's integration tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::type_complexity
)]

use resolver::{AtomKey, MemoryRegistry, Requirement};
use semver::{Version, VersionReq};

/// The set most tests use.
pub const SET: &str = "aaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbb";
/// A second set, for ambiguous labels.
pub const OTHER_SET: &str = "cccccccccccc0000000000000000000000000000";

pub fn key(label: &str) -> AtomKey {
    AtomKey::new(SET, label.parse().unwrap())
}

pub fn key_in(set: &str, label: &str) -> AtomKey {
    AtomKey::new(set, label.parse().unwrap())
}

pub fn version(text: &str) -> Version {
    Version::parse(text).unwrap()
}

pub fn req(key: AtomKey, text: &str) -> Requirement {
    Requirement::new(key, VersionReq::parse(text).unwrap())
}

/// Build a registry from `(label, version, [(label, req)])` rows in [`SET`].
pub fn registry(rows: &[(&str, &str, &[(&str, &str)])]) -> MemoryRegistry {
    let mut registry = MemoryRegistry::new();
    for (label, v, deps) in rows {
        registry.add(
            key(label),
            version(v),
            deps.iter().map(|(dep, r)| req(key(dep), r)).collect(),
        );
    }
    registry
}
