//! Property test: on small random registries the solver agrees with a brute-force
//! oracle that tries every assignment of versions.

#![allow(clippy::unwrap_used, clippy::panic, clippy::type_complexity)]

mod common;

use common::{key, version};
use proptest::prelude::*;
use resolver::{MemoryRegistry, Options, Requirement, Resolution, resolve};
use semver::VersionReq;

const LABELS: [&str; 5] = ["a", "b", "c", "d", "e"];
const VERSIONS: [&str; 8] = [
    "0.1.0",
    "1.0.0",
    "1.1.0-alpha",
    "1.1.0",
    "1.2.0",
    "2.0.0-beta.1",
    "2.0.0",
    "3.0.0",
];
const REQS: [&str; 14] = [
    "*",
    "^1",
    "^1.1",
    "^0.1",
    "~1.1.0-alpha",
    ">=1.1.0-alpha",
    "=2.0.0-beta.1",
    "^2.0.0-beta",
    "<2",
    ">=1.0.0, <2.0.0-beta.1",
    ">1.0.0",
    "<=1.1.0",
    "^2",
    "=3",
];

/// A generated case: for each package, its versions and, per version, requirements
/// as (package index, requirement index); plus the root's requirements.
#[derive(Clone, Debug)]
struct Case {
    packages: Vec<Vec<(usize, Vec<(usize, usize)>)>>,
    root: Vec<(usize, usize)>,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=5).prop_flat_map(|count| {
        let dep = (0..count, 0..REQS.len());
        let version_entry = (0..VERSIONS.len(), prop::collection::vec(dep.clone(), 0..=2));
        let package = prop::collection::vec(version_entry, 0..=4);
        (
            prop::collection::vec(package, count),
            prop::collection::vec(dep, 1..=3),
        )
            .prop_map(|(packages, root)| Case { packages, root })
    })
}

fn requirement((package, req): (usize, usize)) -> Requirement {
    Requirement::new(key(LABELS[package]), VersionReq::parse(REQS[req]).unwrap())
}

fn build(case: &Case) -> (MemoryRegistry, Vec<Requirement>, Vec<Vec<semver::Version>>) {
    let mut registry = MemoryRegistry::new();
    let mut versions = vec![Vec::new(); case.packages.len()];
    for (index, package) in case.packages.iter().enumerate() {
        for (v, deps) in package {
            let v = version(VERSIONS[*v]);
            if versions[index].contains(&v) {
                continue; // the first entry of a duplicated version wins
            }
            versions[index].push(v.clone());
            registry.add(
                key(LABELS[index]),
                v,
                deps.iter().copied().map(requirement).collect(),
            );
        }
    }
    let root = case.root.iter().copied().map(requirement).collect();
    (registry, root, versions)
}

/// Deps of `package` at `version`, as registered.
fn deps_of<'a>(
    registry: &'a MemoryRegistry,
    index: usize,
    v: &semver::Version,
) -> &'a [Requirement] {
    registry
        .iter()
        .find(|(k, candidate, _)| **k == key(LABELS[index]) && *candidate == v)
        .map(|(_, _, deps)| deps)
        .unwrap()
}

/// Whether `choice` (a version or nothing per package) satisfies everything.
fn valid(
    registry: &MemoryRegistry,
    root: &[Requirement],
    choice: &[Option<semver::Version>],
) -> bool {
    let chosen = |requirement: &Requirement| {
        let index = LABELS
            .iter()
            .position(|label| requirement.key == key(label))
            .unwrap();
        choice
            .get(index)
            .and_then(Option::as_ref)
            .is_some_and(|v| requirement.req.matches(v))
    };
    root.iter().all(chosen)
        && choice.iter().enumerate().all(|(index, v)| match v {
            None => true,
            Some(v) => deps_of(registry, index, v).iter().all(chosen),
        })
}

fn oracle(
    registry: &MemoryRegistry,
    root: &[Requirement],
    versions: &[Vec<semver::Version>],
) -> bool {
    let mut choice: Vec<Option<semver::Version>> = vec![None; versions.len()];
    fn search(
        index: usize,
        choice: &mut Vec<Option<semver::Version>>,
        versions: &[Vec<semver::Version>],
        registry: &MemoryRegistry,
        root: &[Requirement],
    ) -> bool {
        if index == versions.len() {
            return valid(registry, root, choice);
        }
        let options = std::iter::once(None).chain(versions[index].iter().cloned().map(Some));
        for option in options {
            choice[index] = option;
            if search(index + 1, choice, versions, registry, root) {
                return true;
            }
        }
        choice[index] = None;
        false
    }
    search(0, &mut choice, versions, registry, root)
}

fn as_choice(resolution: &Resolution, count: usize) -> Vec<Option<semver::Version>> {
    (0..count)
        .map(|index| resolution.version(&key(LABELS[index])).cloned())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn agrees_with_brute_force(case in case()) {
        let (registry, root, versions) = build(&case);
        let expected = oracle(&registry, &root, &versions);
        match resolve(&registry, &root, &Options::default()) {
            Ok(resolution) => {
                prop_assert!(expected, "solver found a solution the oracle did not: {resolution:?}");
                // Every atom in the resolution is one of the packages, at a published version.
                for (atom, resolved) in &resolution.atoms {
                    let index = LABELS.iter().position(|label| *atom == key(label)).unwrap();
                    prop_assert!(versions[index].contains(&resolved.version));
                }
                let choice = as_choice(&resolution, versions.len());
                prop_assert!(valid(&registry, &root, &choice), "invalid solution {choice:?}");
            }
            Err(resolver::Error::NoSolution { .. }) => {
                prop_assert!(!expected, "solver found no solution but one exists");
            }
            Err(other) => prop_assert!(false, "unexpected error: {other}"),
        }
    }
}
