//! Plain-words explanations of why no solution exists, built from pubgrub's derivation
//! tree.
//!
//! [`Words`] is a pubgrub [`ReportFormatter`]: atoms print as `` `label` `` (or
//! `` `set-short::label` `` when two sets in the explanation hold the same label), the
//! project being resolved as "your project", and version sets as semver-like ranges
//! (see [`crate::ranges`]). [`Unmatched`] words a requirement of the project that no
//! published version matches (or only pre-releases do), the commonest conflict.

use std::collections::{BTreeMap, HashMap, HashSet};

use atom::Label;
use pubgrub::{Derived, External, Map, ReportFormatter, Term};
use semver::{Version, VersionReq};

use crate::{
    ranges::{VersionSet, display},
    registry::AtomKey,
    solve::Node,
};

/// Formats a derivation tree in plain words.
pub(crate) struct Words {
    ambiguous: HashSet<Label>,
    /// The versions of each atom, oldest first.
    available: HashMap<AtomKey, Vec<Version>>,
}

impl Words {
    /// A formatter for an explanation naming `nodes`, among atoms whose versions
    /// (oldest first) are `available`.
    pub(crate) fn new<'a>(
        nodes: impl IntoIterator<Item = &'a Node>,
        available: HashMap<AtomKey, Vec<Version>>,
    ) -> Self {
        let mut sets: BTreeMap<&Label, HashSet<&str>> = BTreeMap::new();
        let keys = nodes
            .into_iter()
            .filter_map(|node| match node {
                Node::Atom(key) => Some(key),
                Node::Root => None,
            })
            .chain(available.keys());
        for key in keys {
            sets.entry(&key.label).or_default().insert(&key.set);
        }
        let ambiguous = sets
            .into_iter()
            .filter(|(_, sets)| sets.len() > 1)
            .map(|(label, _)| label.clone())
            .collect();
        Self {
            ambiguous,
            available,
        }
    }

    /// How a node is named.
    pub(crate) fn name(&self, node: &Node) -> String {
        match node {
            Node::Root => "your project".to_owned(),
            Node::Atom(key) if self.ambiguous.contains(&key.label) => format!("`{key}`"),
            Node::Atom(key) => format!("`{}`", key.label),
        }
    }

    /// A node at some versions: `` `b` `>=1.0.0, <2.0.0` ``, `` `b` `1.0.0` ``.
    ///
    /// The set is first simplified against the published versions, so that
    /// `>=1.0.0, <1.1.0 || >1.1.0, <2.0.0` reads `>=1.0.0, <1.1.0` when 1.0.0 and 1.1.0
    /// are the only versions, and a set holding every published version reads "every
    /// version".
    fn at(&self, node: &Node, set: &VersionSet) -> String {
        let simplified;
        let set = match node {
            Node::Atom(key) => match self.available.get(key) {
                Some(versions) => {
                    simplified = set.simplify(versions.iter());
                    &simplified
                }
                None => set,
            },
            Node::Root => set,
        };
        match node {
            Node::Root => self.name(node),
            Node::Atom(_) if set == &VersionSet::full() => {
                format!("every version of {}", self.name(node))
            }
            Node::Atom(_) => match set.as_singleton() {
                Some(version) => format!("{} `{version}`", self.name(node)),
                None => format!("{} `{}`", self.name(node), display(set)),
            },
        }
    }

    fn requires(
        &self,
        package: &Node,
        set: &VersionSet,
        dependency: &Node,
        dep_set: &VersionSet,
    ) -> String {
        let who = self.at(package, set);
        let verb = "requires";
        if dep_set == &VersionSet::full() {
            format!("{who} {verb} {}", self.name(dependency))
        } else if let Some(version) = dep_set.as_singleton() {
            format!("{who} {verb} {} `{version}`", self.name(dependency))
        } else {
            format!(
                "{who} {verb} {} `{}`",
                self.name(dependency),
                display(dep_set)
            )
        }
    }

    fn explain(&self, causes: &[String], conclusion: String) -> String {
        format!("Because {}, {conclusion}.", causes.join(" and "))
    }
}

impl ReportFormatter<Node, VersionSet, String> for Words {
    type Output = String;

    fn format_external(&self, external: &External<Node, VersionSet, String>) -> String {
        match external {
            External::NotRoot(_, _) => "your project is being resolved".to_owned(),
            External::NoVersions(node, set) if set == &VersionSet::full() => {
                format!("no version of {} is published", self.name(node))
            }
            External::NoVersions(node, set) => {
                format!(
                    "no published version of {} matches `{}`",
                    self.name(node),
                    display(set)
                )
            }
            External::Custom(node, set, reason) => {
                format!("{} cannot be used: {reason}", self.at(node, set))
            }
            External::FromDependencyOf(package, set, dependency, dep_set) => {
                self.requires(package, set, dependency, dep_set)
            }
        }
    }

    fn format_terms(&self, terms: &Map<Node, Term<VersionSet>>) -> String {
        let terms: Vec<_> = terms.iter().collect();
        match terms.as_slice() {
            [] => "no versions satisfy every requirement".to_owned(),
            [(Node::Root, Term::Positive(_))] => {
                "your project's requirements cannot all be met".to_owned()
            }
            [(node, Term::Positive(set))] => format!("{} cannot be used", self.at(node, set)),
            [(node, Term::Negative(set))] => {
                format!("{} must be `{}`", self.name(node), display(set))
            }
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))]
            | [(p2, Term::Negative(r2)), (p1, Term::Positive(r1))] => self.requires(p1, r1, p2, r2),
            terms => {
                let mut parts: Vec<String> = terms
                    .iter()
                    .map(|(node, term)| match term {
                        Term::Positive(set) => self.at(node, set),
                        Term::Negative(set) => {
                            format!("{} outside `{}`", self.name(node), display(set))
                        }
                    })
                    .collect();
                // pubgrub's term order depends on hashing; sort for stable messages.
                parts.sort();
                match parts.split_last() {
                    Some((last, first)) => {
                        format!("{} and {last} cannot be used together", first.join(", "))
                    }
                    None => "no versions satisfy every requirement".to_owned(),
                }
            }
        }
    }

    fn explain_both_external(
        &self,
        external1: &External<Node, VersionSet, String>,
        external2: &External<Node, VersionSet, String>,
        current_terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        self.explain(
            &[
                self.format_external(external1),
                self.format_external(external2),
            ],
            self.format_terms(current_terms),
        )
    }

    fn explain_both_ref(
        &self,
        ref_id1: usize,
        derived1: &Derived<Node, VersionSet, String>,
        ref_id2: usize,
        derived2: &Derived<Node, VersionSet, String>,
        current_terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        self.explain(
            &[
                format!("{} ({ref_id1})", self.format_terms(&derived1.terms)),
                format!("{} ({ref_id2})", self.format_terms(&derived2.terms)),
            ],
            self.format_terms(current_terms),
        )
    }

    fn explain_ref_and_external(
        &self,
        ref_id: usize,
        derived: &Derived<Node, VersionSet, String>,
        external: &External<Node, VersionSet, String>,
        current_terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        self.explain(
            &[
                format!("{} ({ref_id})", self.format_terms(&derived.terms)),
                self.format_external(external),
            ],
            self.format_terms(current_terms),
        )
    }

    fn and_explain_external(
        &self,
        external: &External<Node, VersionSet, String>,
        current_terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        format!(
            "And because {}, {}.",
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_ref(
        &self,
        ref_id: usize,
        derived: &Derived<Node, VersionSet, String>,
        current_terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        format!(
            "And because {} ({ref_id}), {}.",
            self.format_terms(&derived.terms),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_prior_and_external(
        &self,
        prior_external: &External<Node, VersionSet, String>,
        external: &External<Node, VersionSet, String>,
        current_terms: &Map<Node, Term<VersionSet>>,
    ) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior_external),
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }
}

/// A requirement of the project that no published version of its atom matches.
#[derive(Debug)]
pub(crate) struct Unmatched {
    /// The atom's name, as [`Words::name`] gives it.
    name: String,
    /// The requirement.
    req: VersionReq,
    /// The newest pre-release whose release would match: the requirement excludes it
    /// only because it does not name a pre-release itself.
    pre_release: Option<Version>,
}

impl Unmatched {
    /// `req` on `name` when no version of `published` (oldest first) matches it.
    pub(crate) fn find(name: &str, req: &VersionReq, published: &[Version]) -> Option<Self> {
        if published.is_empty() || published.iter().any(|version| req.matches(version)) {
            return None;
        }
        let pre_release = published
            .iter()
            .rev()
            .find(|version| {
                !version.pre.is_empty() && {
                    let mut release = (*version).clone();
                    release.pre = semver::Prerelease::EMPTY;
                    req.matches(&release)
                }
            })
            .cloned();
        Some(Self {
            name: name.to_owned(),
            req: req.clone(),
            pre_release,
        })
    }

    /// What follows the atom's `versions of` line.
    pub(crate) fn note(&self) -> String {
        match &self.pre_release {
            Some(_) => format!(
                " (only pre-releases match `{}`, and a requirement allows a pre-release only when it names one)",
                self.req
            ),
            None => format!(" (none matches `{}`)", self.req),
        }
    }

    /// What to do about it.
    pub(crate) fn hint(&self) -> String {
        match &self.pre_release {
            Some(version) => format!(
                "write `^{version}` to allow the pre-release of {}, or publish a release that matches `{}`",
                self.name, self.req
            ),
            None => format!(
                "loosen your requirement on {} (`{}`), or publish a version of it that matches",
                self.name, self.req
            ),
        }
    }
}
