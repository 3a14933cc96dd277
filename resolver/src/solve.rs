//! The solver: [`resolve`] a project's requirements against a [`Registry`] into a
//! [`Resolution`], within a [`Budget`], preferring locked versions.
//!
//! Main types: [`Options`], [`Budget`], [`Resolution`], [`Resolved`] and the module's
//! [`Error`]. See the crate documentation for a walk-through.

use std::{
    cell::{Cell, RefCell},
    cmp::Reverse,
    collections::{BTreeMap, BTreeSet, HashMap},
    fmt,
    rc::Rc,
    sync::Arc,
    time::{Duration, Instant},
};

use pubgrub::{
    DefaultStringReporter, Dependencies, DependencyConstraints, DependencyProvider, DerivationTree,
    External, PackageResolutionStatistics, PubGrubError, Reporter,
};
use semver::{Version, VersionReq};

use crate::{
    ranges::{VersionSet, display, exact_ranges},
    registry::{AtomKey, Registry, RegistryError, Requirement},
    report::{Unmatched, Words},
};

/// How much work one resolution may do before it gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// The most solver steps (one step decides or backtracks one atom).
    pub max_steps: u64,
    /// The longest wall-clock time.
    pub deadline: Duration,
}

impl Default for Budget {
    /// 10,000,000 steps or 10 seconds, whichever comes first. The solvable
    /// 10,000-atom bench graph takes about 1.9 s and more than 100,000 steps (the
    /// earlier step limit refused it), so the deadline is what stops an exploding
    /// search; the step limit only bounds a search that is both fast and endless.
    fn default() -> Self {
        Self {
            max_steps: 10_000_000,
            deadline: Duration::from_secs(10),
        }
    }
}

/// What [`resolve`] should prefer and how long it may take.
#[derive(Clone, Debug)]
pub struct Options {
    /// Versions to keep when they are still allowed (what the lockfile holds), so that
    /// re-resolving changes as little as possible. Leave an atom out to move it to its
    /// newest allowed version.
    pub preferred: HashMap<AtomKey, Version>,
    /// The work allowed.
    pub budget: Budget,
    /// Whether an atom may end up older than its preferred version. When `false`,
    /// versions below the preferred one are not considered at all.
    pub allow_downgrade: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            preferred: HashMap::new(),
            budget: Budget::default(),
            allow_downgrade: true,
        }
    }
}

/// One chosen atom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// Its chosen version.
    pub version: Version,
    /// The atoms its requirements resolved to (each is also in the [`Resolution`]),
    /// sorted, without duplicates.
    pub dependencies: Vec<AtomKey>,
}

/// A solution: one version per atom needed, and the dependency edges between them.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Resolution {
    /// The atoms the project requires directly, sorted.
    pub root: Vec<AtomKey>,
    /// Every atom needed, transitively, with its version and own dependencies.
    pub atoms: BTreeMap<AtomKey, Resolved>,
}

impl Resolution {
    /// The chosen version of `key`, if it is needed.
    pub fn version(&self, key: &AtomKey) -> Option<&Version> {
        self.atoms.get(key).map(|resolved| &resolved.version)
    }
}

/// Why [`resolve`] found no solution.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The requirements contradict each other: no choice of versions meets all of them.
    #[error("no versions satisfy every requirement\n{explanation}")]
    NoSolution {
        /// Why, one step per line, then the versions available of each atom involved.
        explanation: String,
        /// How to fix it.
        hint: String,
    },
    /// The solver used up its [`Budget`] before reaching an answer.
    #[error("resolution gave up after {steps} steps and {elapsed:.2?}")]
    BudgetExceeded {
        /// Steps taken.
        steps: u64,
        /// Time spent.
        elapsed: Duration,
        /// How to get an answer.
        hint: String,
    },
    /// The [`Registry`] failed to answer.
    #[error("could not read the {what} of `{key}`")]
    Registry {
        /// The atom asked about.
        key: AtomKey,
        /// `versions`, or `dependencies at <version>`.
        what: String,
        /// The registry's error.
        #[source]
        source: RegistryError,
    },
}

impl atom::error::Classify for Error {
    /// No solution is the requirements being refused; a registry that fails or a budget
    /// that runs out is the environment.
    fn kind(&self) -> atom::error::Kind {
        match self {
            Self::NoSolution { .. } => atom::error::Kind::Input,
            Self::BudgetExceeded { .. } | Self::Registry { .. } => atom::error::Kind::Environment,
        }
    }

    /// How to fix the problem, if there is advice.
    fn hint(&self) -> Option<String> {
        match self {
            Self::NoSolution { hint, .. } | Self::BudgetExceeded { hint, .. } => Some(hint.clone()),
            Self::Registry { .. } => None,
        }
    }
}

/// A package as pubgrub sees it: an atom, or the project being resolved.
#[derive(Clone, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub(crate) enum Node {
    /// The project whose requirements are resolved.
    Root,
    /// An atom.
    Atom(AtomKey),
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Root => f.write_str("your project"),
            Self::Atom(key) => key.fmt(f),
        }
    }
}

/// Errors raised inside pubgrub's callbacks.
#[derive(Debug, thiserror::Error)]
enum ProviderError {
    #[error("could not read the {what} of `{key}`")]
    Registry {
        key: AtomKey,
        what: String,
        #[source]
        source: RegistryError,
    },
    #[error("budget exceeded")]
    Budget { steps: u64, elapsed: Duration },
}

/// The version given to the root node.
fn root_version() -> Version {
    Version::new(0, 0, 0)
}

/// Answers pubgrub from a [`Registry`], caching versions.
struct Provider<'a, R: Registry + ?Sized> {
    registry: &'a R,
    options: &'a Options,
    root: Vec<Requirement>,
    /// Versions considered per atom, newest first.
    versions: RefCell<HashMap<AtomKey, Rc<[Version]>>>,
    steps: Cell<u64>,
    started: Instant,
}

impl<R: Registry + ?Sized> Provider<'_, R> {
    fn versions(&self, key: &AtomKey) -> Result<Rc<[Version]>, ProviderError> {
        if let Some(versions) = self.versions.borrow().get(key) {
            return Ok(versions.clone());
        }
        let mut versions =
            self.registry
                .versions(key)
                .map_err(|source| ProviderError::Registry {
                    key: key.clone(),
                    what: "versions".to_owned(),
                    source,
                })?;
        if !self.options.allow_downgrade
            && let Some(floor) = self.options.preferred.get(key)
        {
            versions.retain(|version| version >= floor);
        }
        versions.sort_unstable_by(|a, b| b.cmp(a));
        versions.dedup();
        let versions: Rc<[Version]> = versions.into();
        self.versions
            .borrow_mut()
            .insert(key.clone(), versions.clone());
        Ok(versions)
    }

    fn cached(&self, key: &AtomKey) -> Option<Rc<[Version]>> {
        self.versions.borrow().get(key).cloned()
    }

    /// Requirements merged per atom into exact version sets.
    fn constraints(
        &self,
        requirements: &[Requirement],
    ) -> Result<BTreeMap<AtomKey, VersionSet>, ProviderError> {
        let mut merged: BTreeMap<AtomKey, VersionSet> = BTreeMap::new();
        for requirement in requirements {
            let available = self.versions(&requirement.key)?;
            let set = exact_ranges(&requirement.req, &available);
            let entry = merged
                .entry(requirement.key.clone())
                .or_insert_with(VersionSet::full);
            *entry = entry.intersection(&set);
        }
        Ok(merged)
    }
}

impl<R: Registry + ?Sized> DependencyProvider for Provider<'_, R> {
    type P = Node;
    type V = Version;
    type VS = VersionSet;
    type M = String;
    type Err = ProviderError;
    type Priority = (u32, Reverse<usize>);

    fn prioritize(
        &self,
        package: &Node,
        range: &VersionSet,
        statistics: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let Node::Atom(key) = package else {
            return (u32::MAX, Reverse(0));
        };
        let count = self.cached(key).map_or(0, |versions| {
            versions.iter().filter(|v| range.contains(v)).count()
        });
        if count == 0 {
            return (u32::MAX, Reverse(0));
        }
        (statistics.conflict_count(), Reverse(count))
    }

    fn choose_version(
        &self,
        package: &Node,
        range: &VersionSet,
    ) -> Result<Option<Version>, ProviderError> {
        let Node::Atom(key) = package else {
            return Ok(Some(root_version()));
        };
        let versions = self.versions(key)?;
        if let Some(preferred) = self.options.preferred.get(key)
            && range.contains(preferred)
            && versions.contains(preferred)
        {
            return Ok(Some(preferred.clone()));
        }
        Ok(versions.iter().find(|v| range.contains(v)).cloned())
    }

    fn get_dependencies(
        &self,
        package: &Node,
        version: &Version,
    ) -> Result<Dependencies<Node, VersionSet, String>, ProviderError> {
        let Node::Atom(key) = package else {
            let merged = self.constraints(&self.root)?;
            return Ok(Dependencies::Available(
                merged
                    .into_iter()
                    .map(|(key, set)| (Node::Atom(key), set))
                    .collect(),
            ));
        };
        let requirements =
            self.registry
                .dependencies(key, version)
                .map_err(|source| ProviderError::Registry {
                    key: key.clone(),
                    what: format!("dependencies at `{version}`"),
                    source,
                })?;
        let mut merged = self.constraints(&requirements)?;
        if let Some(own) = merged.remove(key)
            && !own.contains(version)
        {
            return Ok(Dependencies::Unavailable(format!(
                "it requires itself at `{}`",
                display(&own)
            )));
        }
        let constraints: DependencyConstraints<Node, VersionSet> = merged
            .into_iter()
            .map(|(key, set)| (Node::Atom(key), set))
            .collect();
        Ok(Dependencies::Available(constraints))
    }

    fn should_cancel(&self) -> Result<(), ProviderError> {
        let steps = self.steps.get() + 1;
        self.steps.set(steps);
        let elapsed = self.started.elapsed();
        if steps > self.options.budget.max_steps || elapsed > self.options.budget.deadline {
            return Err(ProviderError::Budget { steps, elapsed });
        }
        Ok(())
    }
}

/// Resolve `root_requirements` (the project's own requirements) against `registry`.
///
/// Each atom gets the newest version its requirements allow, except that a version in
/// [`Options::preferred`] is kept while it is still allowed. Requirements follow
/// [`VersionReq::matches`] exactly, pre-releases included. Several requirements on one
/// atom must all hold. The search stops with [`Error::BudgetExceeded`] once the
/// [`Budget`] is spent.
pub fn resolve<R: Registry + ?Sized>(
    registry: &R,
    root_requirements: &[Requirement],
    options: &Options,
) -> Result<Resolution, Error> {
    let provider = Provider {
        registry,
        options,
        root: root_requirements.to_vec(),
        versions: RefCell::new(HashMap::new()),
        steps: Cell::new(0),
        started: Instant::now(),
    };
    let solution = match pubgrub::resolve(&provider, Node::Root, root_version()) {
        Ok(solution) => solution,
        Err(error) => return Err(convert_error(error, &provider, root_requirements)),
    };
    let mut resolution = Resolution {
        root: root_requirements
            .iter()
            .map(|requirement| requirement.key.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        atoms: BTreeMap::new(),
    };
    for (node, version) in solution {
        let Node::Atom(key) = node else { continue };
        let dependencies = registry
            .dependencies(&key, &version)
            .map_err(|source| Error::Registry {
                key: key.clone(),
                what: format!("dependencies at `{version}`"),
                source,
            })?
            .into_iter()
            .map(|requirement| requirement.key)
            .filter(|dependency| dependency != &key)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        resolution.atoms.insert(
            key,
            Resolved {
                version,
                dependencies,
            },
        );
    }
    tracing::debug!(
        atoms = resolution.atoms.len(),
        steps = provider.steps.get(),
        "resolved"
    );
    Ok(resolution)
}

fn convert_error<R: Registry + ?Sized>(
    error: PubGrubError<Provider<'_, R>>,
    provider: &Provider<'_, R>,
    root_requirements: &[Requirement],
) -> Error {
    let from_provider = |error: ProviderError| match error {
        ProviderError::Registry { key, what, source } => Error::Registry { key, what, source },
        ProviderError::Budget { steps, elapsed } => Error::BudgetExceeded {
            steps,
            elapsed,
            hint: format!(
                "the requirements conflict in too many ways to search them all (budget: {} steps or {:?}); narrow the requirements, e.g. pin the atoms you depend on directly to one major version, or raise the budget",
                provider.options.budget.max_steps, provider.options.budget.deadline
            ),
        },
    };
    match error {
        PubGrubError::NoSolution(tree) => no_solution(tree, provider, root_requirements),
        PubGrubError::ErrorRetrievingDependencies { source, .. }
        | PubGrubError::ErrorChoosingVersion { source, .. }
        | PubGrubError::ErrorInShouldCancel(source) => from_provider(source),
    }
}

/// Explain a derivation tree in plain words, list the versions of every atom it names
/// and suggest a fix.
fn no_solution<R: Registry + ?Sized>(
    tree: DerivationTree<Node, VersionSet, String>,
    provider: &Provider<'_, R>,
    root_requirements: &[Requirement],
) -> Error {
    let tree = collapse_gaps(&tree);
    let packages: Vec<Node> = tree.packages().into_iter().cloned().collect();
    let available = provider
        .versions
        .borrow()
        .iter()
        .map(|(key, versions)| (key.clone(), versions.iter().rev().cloned().collect()))
        .collect();
    let words = Words::new(&packages, available);
    let mut explanation = DefaultStringReporter::report_with_formatter(&tree, &words);
    let mut atoms: Vec<&AtomKey> = packages
        .iter()
        .filter_map(|node| match node {
            Node::Atom(key) => Some(key),
            Node::Root => None,
        })
        .collect();
    // By label first: set roots are hashes, and an order by them reads as random.
    atoms.sort_by(|a, b| (&a.label, &a.set).cmp(&(&b.label, &b.set)));
    let mut findings = Findings::default();
    for key in &atoms {
        let line = note_versions(key, provider, &words, root_requirements, &mut findings);
        explanation.push_str(&line);
    }
    let hint = findings.hint(&tree, root_requirements, &words);
    Error::NoSolution { explanation, hint }
}

/// What the versions of the atoms a failure names say about it, for the hint.
#[derive(Default)]
struct Findings {
    /// Atoms with no published version at all.
    unpublished: Vec<String>,
    /// Root requirements no published version matches.
    unmatched: Vec<Unmatched>,
    /// Atoms whose locked version hid older published ones (no downgrades).
    floored: Vec<String>,
}

impl Findings {
    /// The most specific fix: publish, then fix a requirement, then allow downgrades,
    /// else loosen the root's requirements the derivation names.
    fn hint(
        &self,
        tree: &DerivationTree<Node, VersionSet, String>,
        root_requirements: &[Requirement],
        words: &Words,
    ) -> String {
        if !self.unpublished.is_empty() {
            format!(
                "no version of {} is published in its set; check the label and the set, or publish it first",
                self.unpublished.join(", ")
            )
        } else if !self.unmatched.is_empty() {
            self.unmatched
                .iter()
                .map(Unmatched::hint)
                .collect::<Vec<_>>()
                .join("; ")
        } else if !self.floored.is_empty() {
            format!(
                "downgrades are not allowed and {} would have to move below the locked version; allow downgrades or loosen the requirements",
                self.floored.join(", ")
            )
        } else {
            loosen_hint(&direct_requirements(tree, root_requirements, words))
        }
    }
}

/// The line listing the versions of `key` the solver considered, with what a root
/// requirement or the lock's floor did to them; what it finds goes to `findings`.
fn note_versions<R: Registry + ?Sized>(
    key: &AtomKey,
    provider: &Provider<'_, R>,
    words: &Words,
    root_requirements: &[Requirement],
    findings: &mut Findings,
) -> String {
    let considered = provider.cached(key).unwrap_or_else(|| Rc::from(Vec::new()));
    let mut published = provider
        .registry
        .versions(key)
        .unwrap_or_else(|_| considered.to_vec());
    published.sort_unstable();
    published.dedup();
    let name = words.name(&Node::Atom(key.clone()));
    let list = if considered.is_empty() {
        "none".to_owned()
    } else {
        considered
            .iter()
            .rev()
            .map(Version::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut line = format!("\nversions of {name}: {list}");
    if published.is_empty() {
        findings.unpublished.push(name.clone());
    }
    let direct = root_requirements
        .iter()
        .filter(|requirement| &requirement.key == key);
    for requirement in direct {
        if let Some(found) = Unmatched::find(&name, &requirement.req, &published) {
            line.push_str(&found.note());
            findings.unmatched.push(found);
        }
    }
    // The floor only matters when it hid a published version.
    if !provider.options.allow_downgrade
        && let Some(floor) = provider.options.preferred.get(key)
        && published.len() > considered.len()
    {
        line.push_str(&format!(
            " (older than the locked `{floor}` not considered)"
        ));
        findings.floored.push(name);
    }
    line
}

/// Drop "no version in this gap" leaves that only restate which versions exist, the
/// way pubgrub's `collapse_no_versions` does, but keep those saying a requirement
/// matches no published version at all: they are often the whole story.
fn collapse_gaps(
    tree: &DerivationTree<Node, VersionSet, String>,
) -> DerivationTree<Node, VersionSet, String> {
    let DerivationTree::Derived(derived) = tree else {
        return tree.clone();
    };
    let (gap, other) = match (&*derived.cause1, &*derived.cause2) {
        (DerivationTree::External(External::NoVersions(node, set)), other)
        | (other, DerivationTree::External(External::NoVersions(node, set))) => {
            ((node, set), other)
        }
        _ => {
            let mut derived = derived.clone();
            derived.cause1 = Arc::new(collapse_gaps(&derived.cause1));
            derived.cause2 = Arc::new(collapse_gaps(&derived.cause2));
            return DerivationTree::Derived(derived);
        }
    };
    let (node, set) = gap;
    match other {
        DerivationTree::Derived(_) => collapse_gaps(other),
        DerivationTree::External(External::FromDependencyOf(p1, r1, p2, r2)) => {
            if p1 == node {
                DerivationTree::External(External::FromDependencyOf(
                    p1.clone(),
                    r1.union(set),
                    p2.clone(),
                    r2.clone(),
                ))
            } else if p2 == node && !r2.subset_of(set) {
                DerivationTree::External(External::FromDependencyOf(
                    p1.clone(),
                    r1.clone(),
                    p2.clone(),
                    r2.union(set),
                ))
            } else {
                tree.clone()
            }
        }
        DerivationTree::External(_) => tree.clone(),
    }
}

/// The project's own requirements that take part in the conflict: each atom's name and
/// what the project asks of it.
fn direct_requirements(
    tree: &DerivationTree<Node, VersionSet, String>,
    root_requirements: &[Requirement],
    words: &Words,
) -> Vec<(String, Vec<VersionReq>)> {
    let mut found = BTreeSet::new();
    collect_direct(tree, &mut found);
    found
        .into_iter()
        .map(|key| {
            let reqs = root_requirements
                .iter()
                .filter(|requirement| requirement.key == key)
                .map(|requirement| requirement.req.clone())
                .collect();
            (words.name(&Node::Atom(key)), reqs)
        })
        .collect()
}

/// What to loosen: the project's requirements in the conflict, as `` `label` (`^1`) ``,
/// leaving out those that already allow every version (`*`); when only those remain,
/// the other requirements are what rule every published version out.
fn loosen_hint(direct: &[(String, Vec<VersionReq>)]) -> String {
    let loosenable: Vec<String> = direct
        .iter()
        .filter(|(_, reqs)| reqs.iter().any(|req| *req != VersionReq::STAR))
        .map(|(name, reqs)| {
            let reqs: Vec<String> = reqs
                .iter()
                .map(|req| format!("`{}`", requirement_text(req)))
                .collect();
            format!("{name} ({})", reqs.join(", "))
        })
        .collect();
    if !loosenable.is_empty() {
        return format!(
            "loosen your requirement on {}, or publish versions of the atoms above that agree with each other",
            loosenable.join(" or ")
        );
    }
    let names: Vec<&str> = direct.iter().map(|(name, _)| name.as_str()).collect();
    if names.is_empty() {
        "loosen the requirements named above, or publish versions of these atoms that agree with each other".to_owned()
    } else {
        format!(
            "your project already accepts every version of {} (`*`): no published version satisfies the other requirements above; publish versions of the atoms above that agree with each other",
            names.join(" and ")
        )
    }
}

fn requirement_text(req: &VersionReq) -> String {
    req.to_string()
}

fn collect_direct(tree: &DerivationTree<Node, VersionSet, String>, found: &mut BTreeSet<AtomKey>) {
    match tree {
        DerivationTree::External(External::FromDependencyOf(Node::Root, _, Node::Atom(key), _)) => {
            found.insert(key.clone());
        }
        DerivationTree::External(_) => {}
        DerivationTree::Derived(derived) => {
            collect_direct(&derived.cause1, found);
            collect_direct(&derived.cause2, found);
        }
    }
}
