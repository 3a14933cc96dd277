//! Behaviour of `resolve` on small hand-made registries.

#![allow(clippy::unwrap_used, clippy::panic, clippy::type_complexity)]

mod common;

use std::time::{Duration, Instant};

use atom::error::{Classify as _, Kind};

use common::{OTHER_SET, key, key_in, registry, req, version};
use resolver::{Budget, Error, MemoryRegistry, Options, resolve};

fn solve(registry: &MemoryRegistry, root: &[(&str, &str)]) -> Result<resolver::Resolution, Error> {
    let root: Vec<_> = root.iter().map(|(label, r)| req(key(label), r)).collect();
    resolve(registry, &root, &Options::default())
}

fn explain(error: Error) -> String {
    let hint = error.hint().unwrap_or_default().to_owned();
    format!("{error}\nhint: {hint}")
}

#[test]
fn diamond_picks_one_version_both_sides_accept() {
    let registry = registry(&[
        ("a", "1.0.0", &[("b", "^1"), ("c", "^1")]),
        ("b", "1.0.0", &[("d", ">=1.0.0, <1.3.0")]),
        ("c", "1.0.0", &[("d", "^1.1")]),
        ("d", "1.0.0", &[]),
        ("d", "1.1.0", &[]),
        ("d", "1.2.0", &[]),
        ("d", "1.3.0", &[]),
        ("d", "2.0.0", &[]),
    ]);
    let resolution = solve(&registry, &[("a", "^1")]).unwrap();
    assert_eq!(resolution.version(&key("d")), Some(&version("1.2.0")));
    assert_eq!(resolution.atoms.len(), 4);
    assert_eq!(resolution.root, vec![key("a")]);
    assert_eq!(
        resolution.atoms[&key("a")].dependencies,
        vec![key("b"), key("c")]
    );
    assert_eq!(resolution.atoms[&key("b")].dependencies, vec![key("d")]);
    assert!(resolution.atoms[&key("d")].dependencies.is_empty());
}

#[test]
fn three_level_transitive_chain_takes_newest_allowed() {
    let registry = registry(&[
        ("app", "1.0.0", &[("lib", "^2")]),
        ("app", "1.1.0", &[("lib", "^2.1")]),
        ("lib", "2.0.0", &[("core", "~0.3.1")]),
        ("lib", "2.1.0", &[("core", "~0.3.2")]),
        ("lib", "3.0.0", &[("core", "^1")]),
        ("core", "0.3.1", &[]),
        ("core", "0.3.5", &[]),
        ("core", "0.4.0", &[]),
        ("core", "1.0.0", &[]),
    ]);
    let resolution = solve(&registry, &[("app", "*")]).unwrap();
    assert_eq!(resolution.version(&key("app")), Some(&version("1.1.0")));
    assert_eq!(resolution.version(&key("lib")), Some(&version("2.1.0")));
    assert_eq!(resolution.version(&key("core")), Some(&version("0.3.5")));
}

#[test]
fn backtracks_when_the_newest_version_conflicts() {
    let registry = registry(&[
        ("a", "1.0.0", &[("c", "^1")]),
        ("a", "2.0.0", &[("c", "^2")]),
        ("b", "1.0.0", &[("c", "^1")]),
        ("c", "1.0.0", &[]),
        ("c", "2.0.0", &[]),
    ]);
    let resolution = solve(&registry, &[("a", "*"), ("b", "*")]).unwrap();
    assert_eq!(resolution.version(&key("a")), Some(&version("1.0.0")));
    assert_eq!(resolution.version(&key("c")), Some(&version("1.0.0")));
}

#[test]
fn preferred_versions_are_kept_while_allowed() {
    let registry = registry(&[
        ("a", "1.0.0", &[("b", "^1")]),
        ("a", "1.1.0", &[("b", "^1")]),
        ("a", "1.2.0", &[("b", "^1")]),
        ("b", "1.0.0", &[]),
        ("b", "1.5.0", &[]),
    ]);
    let root = [req(key("a"), "^1")];
    let mut options = Options::default();
    options.preferred.insert(key("a"), version("1.1.0"));
    options.preferred.insert(key("b"), version("1.0.0"));
    let resolution = resolve(&registry, &root, &options).unwrap();
    assert_eq!(resolution.version(&key("a")), Some(&version("1.1.0")));
    assert_eq!(resolution.version(&key("b")), Some(&version("1.0.0")));

    // A preferred version the requirements no longer allow is replaced by the newest.
    let root = [req(key("a"), ">=1.2")];
    let resolution = resolve(&registry, &root, &options).unwrap();
    assert_eq!(resolution.version(&key("a")), Some(&version("1.2.0")));
    assert_eq!(resolution.version(&key("b")), Some(&version("1.0.0")));

    // Without a preference the newest allowed version wins.
    let resolution = resolve(&registry, &root, &Options::default()).unwrap();
    assert_eq!(resolution.version(&key("b")), Some(&version("1.5.0")));
}

#[test]
fn downgrades_can_be_refused() {
    let registry = registry(&[("a", "1.0.0", &[]), ("a", "2.0.0", &[])]);
    let root = [req(key("a"), "^1")];
    let mut options = Options::default();
    options.preferred.insert(key("a"), version("2.0.0"));
    let resolution = resolve(&registry, &root, &options).unwrap();
    assert_eq!(resolution.version(&key("a")), Some(&version("1.0.0")));
    options.allow_downgrade = false;
    let error = resolve(&registry, &root, &options).unwrap_err();
    assert!(matches!(error, Error::NoSolution { .. }), "{error}");
    assert!(error.hint().unwrap().contains("downgrades are not allowed"));
    assert_eq!(
        error.kind(),
        Kind::Input,
        "no solution is the requirements refused"
    );
}

#[test]
fn registry_failures_are_the_environment() {
    let error = Error::Registry {
        key: key("a"),
        what: "versions".into(),
        source: resolver::RegistryError::new("cannot read the set"),
    };
    assert_eq!(error.kind(), Kind::Environment);
    assert_eq!(error.hint(), None);
}

#[test]
fn pre_releases_only_when_named() {
    let registry = registry(&[
        ("a", "1.0.0", &[]),
        ("a", "1.1.0-beta.1", &[]),
        ("a", "2.0.0-rc.1", &[]),
    ]);
    let resolution = solve(&registry, &[("a", "^1")]).unwrap();
    assert_eq!(resolution.version(&key("a")), Some(&version("1.0.0")));
    let resolution = solve(&registry, &[("a", "*")]).unwrap();
    assert_eq!(resolution.version(&key("a")), Some(&version("1.0.0")));
    let resolution = solve(&registry, &[("a", "^1.1.0-beta")]).unwrap();
    assert_eq!(
        resolution.version(&key("a")),
        Some(&version("1.1.0-beta.1"))
    );
    let resolution = solve(&registry, &[("a", ">=2.0.0-rc.1")]).unwrap();
    assert_eq!(resolution.version(&key("a")), Some(&version("2.0.0-rc.1")));
    // `>=1.1.0-alpha` names a pre-release of 1.1.0 only, so 2.0.0-rc.1 stays out.
    let resolution = solve(&registry, &[("a", ">=1.1.0-alpha")]).unwrap();
    assert_eq!(
        resolution.version(&key("a")),
        Some(&version("1.1.0-beta.1"))
    );
    let error = solve(&registry, &[("a", ">=2")]).unwrap_err();
    assert!(matches!(error, Error::NoSolution { .. }), "{error}");
}

#[test]
fn self_requirements_are_checked() {
    let registry = registry(&[
        ("a", "1.0.0", &[("a", "^1")]),
        ("a", "2.0.0", &[("a", "^1")]),
    ]);
    let resolution = solve(&registry, &[("a", "*")]).unwrap();
    assert_eq!(resolution.version(&key("a")), Some(&version("1.0.0")));
    assert!(resolution.atoms[&key("a")].dependencies.is_empty());
}

#[test]
fn same_label_in_two_sets_are_two_atoms() {
    let mut registry = registry(&[("a", "1.0.0", &[("b", "^1")]), ("b", "1.0.0", &[])]);
    registry.add(key_in(OTHER_SET, "b"), version("2.0.0"), vec![]);
    let root = [req(key("a"), "^1"), req(key_in(OTHER_SET, "b"), "^2")];
    let resolution = resolve(&registry, &root, &Options::default()).unwrap();
    assert_eq!(resolution.version(&key("b")), Some(&version("1.0.0")));
    assert_eq!(
        resolution.version(&key_in(OTHER_SET, "b")),
        Some(&version("2.0.0"))
    );
}

/// `atoms` atoms of `versions` majors each; every version requires three other atoms
/// at a pseudo-random major. The project requires all of them: hard and (almost
/// surely) unsatisfiable.
fn adversarial(atoms: usize, versions: u64) -> (MemoryRegistry, Vec<resolver::Requirement>) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let name = |i: usize| key(&format!("atom{i}"));
    let mut registry = MemoryRegistry::new();
    for i in 0..atoms {
        for major in 1..=versions {
            let deps = (0..3)
                .map(|_| {
                    let target = (next() as usize) % atoms;
                    let wanted = next() % versions + 1;
                    req(name(target), &format!("^{wanted}"))
                })
                .collect();
            registry.add(name(i), version(&format!("{major}.0.0")), deps);
        }
    }
    let root = (0..atoms).map(|i| req(name(i), "*")).collect();
    (registry, root)
}

#[test]
fn budget_stops_an_adversarial_search_quickly() {
    let (registry, root) = adversarial(300, 10);
    let options = Options {
        budget: Budget {
            max_steps: 20_000,
            deadline: Duration::from_secs(3),
        },
        ..Options::default()
    };
    let started = Instant::now();
    let error = resolve(&registry, &root, &options).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    match &error {
        Error::BudgetExceeded {
            steps,
            elapsed,
            hint,
        } => {
            assert!(*steps <= 20_001, "{steps}");
            assert!(*elapsed <= Duration::from_secs(4), "{elapsed:?}");
            assert!(hint.contains("raise the budget"));
        }
        other => panic!("expected a budget error, got {other}"),
    }
    // A deadline alone also stops it.
    let options = Options {
        budget: Budget {
            max_steps: u64::MAX,
            deadline: Duration::from_millis(200),
        },
        ..Options::default()
    };
    let error = resolve(&registry, &root, &options).unwrap_err();
    assert!(matches!(error, Error::BudgetExceeded { .. }), "{error}");
}

#[test]
fn conflict_between_two_dependents() {
    let registry = registry(&[
        ("app", "1.0.0", &[("web", "^1"), ("db", "^2")]),
        ("web", "1.0.0", &[("log", "^1")]),
        ("web", "1.1.0", &[("log", "^1.2")]),
        ("db", "2.0.0", &[("log", "^2")]),
        ("log", "1.0.0", &[]),
        ("log", "1.2.0", &[]),
        ("log", "2.0.0", &[]),
    ]);
    let error = solve(&registry, &[("app", "^1")]).unwrap_err();
    insta::assert_snapshot!(explain(error));
}

#[test]
fn conflict_on_a_missing_version() {
    let registry = registry(&[
        ("a", "1.0.0", &[]),
        ("a", "1.1.0", &[]),
        ("a", "2.0.0-beta.1", &[]),
    ]);
    let error = solve(&registry, &[("a", "^2")]).unwrap_err();
    insta::assert_snapshot!(explain(error));
}

#[test]
fn conflict_on_an_unpublished_atom() {
    let registry = registry(&[("a", "1.0.0", &[("ghost", "^1")])]);
    let error = solve(&registry, &[("a", "^1")]).unwrap_err();
    insta::assert_snapshot!(explain(error));
}

#[test]
fn conflict_with_ambiguous_labels() {
    let mut registry = registry(&[("a", "1.0.0", &[("util", "^1")]), ("util", "1.0.0", &[])]);
    registry.add(key_in(OTHER_SET, "util"), version("1.0.0"), vec![]);
    registry.add(
        key_in(OTHER_SET, "b"),
        version("1.0.0"),
        vec![req(key_in(OTHER_SET, "util"), "^2")],
    );
    let root = [req(key("a"), "^1"), req(key_in(OTHER_SET, "b"), "^1")];
    let error = resolve(&registry, &root, &Options::default()).unwrap_err();
    insta::assert_snapshot!(explain(error));
}
