//! Solving synthetic 1,000-atom and 10,000-atom × 20-version registries with eka's
//! resolver and with raw pubgrub's `OfflineDependencyProvider` on the same graph.
//!
//! Versions are `M.m.0` for `M` in 1..=4 and `m` in 0..=4. Each version of atom `i`
//! requires three atoms among the next 50, with a pseudo-random requirement of one of
//! three shapes: `>=M.m.0, <4.3.0` (with `M.m.0` at most `4.2.0`), `^4`, or `^M` (its own major). The graph is
//! acyclic and always solvable. The project requires the first 20 atoms.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{collections::HashMap, hint::black_box};

use criterion::{Criterion, criterion_group, criterion_main};
use pubgrub::{OfflineDependencyProvider, Ranges};
use resolver::{AtomKey, MemoryRegistry, Options, Requirement, resolve};
use semver::{Version, VersionReq};

/// The registry sizes measured (atoms; each has [`VERSIONS`] versions).
const SIZES: [usize; 2] = [1_000, 10_000];
const VERSIONS: u64 = 20;
const SET: &str = "0123456789abcdef0123456789abcdef01234567";

/// One requirement: the text and the same set of versions as ranges.
struct Edge {
    target: usize,
    text: String,
    ranges: Ranges<Version>,
}

struct Graph {
    /// `(atom, version, edges)`.
    nodes: Vec<(usize, Version, Vec<Edge>)>,
    root: Vec<usize>,
}

fn version_at(index: u64) -> Version {
    Version::new(index / 5 + 1, index % 5, 0)
}

fn graph(atoms: usize) -> Graph {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut nodes = Vec::new();
    for atom in 0..atoms {
        for index in 0..VERSIONS {
            let own = version_at(index);
            let mut edges = Vec::new();
            for _ in 0..3 {
                let span = (atoms - atom - 1).min(50);
                if span == 0 {
                    break;
                }
                let target = atom + 1 + (next() as usize) % span;
                let edge = match next() % 3 {
                    0 => {
                        // At most 4.2.0, so that the range is never empty.
                        let low = version_at(next() % 18);
                        Edge {
                            target,
                            text: format!(">={low}, <4.3.0"),
                            ranges: Ranges::between(low, Version::new(4, 3, 0)),
                        }
                    }
                    1 => Edge {
                        target,
                        text: "^4".to_owned(),
                        ranges: Ranges::between(Version::new(4, 0, 0), Version::new(5, 0, 0)),
                    },
                    _ => Edge {
                        target,
                        text: format!("^{}", own.major),
                        ranges: Ranges::between(
                            Version::new(own.major, 0, 0),
                            Version::new(own.major + 1, 0, 0),
                        ),
                    },
                };
                if edges.iter().all(|e: &Edge| e.target != target) {
                    edges.push(edge);
                }
            }
            nodes.push((atom, own, edges));
        }
    }
    Graph {
        nodes,
        root: (0..20).collect(),
    }
}

fn key(atom: usize) -> AtomKey {
    AtomKey::new(SET, format!("atom{atom}").parse().unwrap())
}

fn eka_registry(graph: &Graph) -> (MemoryRegistry, Vec<Requirement>) {
    let mut registry = MemoryRegistry::new();
    for (atom, version, edges) in &graph.nodes {
        let deps = edges
            .iter()
            .map(|edge| Requirement::new(key(edge.target), VersionReq::parse(&edge.text).unwrap()))
            .collect();
        registry.add(key(*atom), version.clone(), deps);
    }
    let root = graph
        .root
        .iter()
        .map(|atom| Requirement::new(key(*atom), VersionReq::STAR))
        .collect();
    (registry, root)
}

const ROOT: usize = usize::MAX;

fn raw_provider(graph: &Graph) -> OfflineDependencyProvider<usize, Ranges<Version>> {
    let mut provider = OfflineDependencyProvider::new();
    for (atom, version, edges) in &graph.nodes {
        provider.add_dependencies(
            *atom,
            version.clone(),
            edges.iter().map(|edge| (edge.target, edge.ranges.clone())),
        );
    }
    provider.add_dependencies(
        ROOT,
        Version::new(0, 0, 0),
        graph.root.iter().map(|atom| (*atom, Ranges::full())),
    );
    provider
}

fn bench(c: &mut Criterion) {
    for atoms in SIZES {
        bench_size(c, atoms);
    }
}

fn bench_size(c: &mut Criterion, atoms: usize) {
    let graph = graph(atoms);
    let (registry, root) = eka_registry(&graph);
    let provider = raw_provider(&graph);
    // The default budget: what `eka add` and `eka resolve` use.
    let options = Options::default();

    // Both find a valid solution (not necessarily the same one: ties between atoms are
    // broken in a different order).
    let ours = resolve(&registry, &root, &options).unwrap();
    let theirs = pubgrub::resolve(&provider, ROOT, Version::new(0, 0, 0)).unwrap();
    let ours: HashMap<usize, Version> = (0..atoms)
        .filter_map(|atom| ours.version(&key(atom)).map(|v| (atom, v.clone())))
        .collect();
    let theirs: HashMap<usize, Version> = theirs.into_iter().filter(|(a, _)| *a != ROOT).collect();
    for (name, solution) in [("eka", &ours), ("pubgrub", &theirs)] {
        for (atom, version, edges) in &graph.nodes {
            if solution.get(atom) == Some(version) {
                for edge in edges {
                    let chosen = solution.get(&edge.target);
                    assert!(
                        chosen.is_some_and(|v| edge.ranges.contains(v)),
                        "{name}: atom{atom} {version} requires atom{} `{}`, chose {chosen:?}",
                        edge.target,
                        edge.text
                    );
                }
            }
        }
    }
    eprintln!(
        "{atoms}x{VERSIONS}: solutions of {} atoms (eka), {} atoms (pubgrub)",
        ours.len(),
        theirs.len()
    );

    let mut group = c.benchmark_group(format!("solve_{atoms}x{VERSIONS}"));
    group.bench_function("eka", |b| {
        b.iter(|| resolve(black_box(&registry), black_box(&root), &options).unwrap())
    });
    group.bench_function("pubgrub_offline", |b| {
        b.iter(|| pubgrub::resolve(black_box(&provider), ROOT, Version::new(0, 0, 0)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
