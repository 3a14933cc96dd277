//! The follows a relock decides: which locked atom's own Nix input is replaced by which
//! of the root's direct Nix inputs (`[deps.follows]`, ADR 0018).
//!
//! [`decide`] checks the root manifest's entries against the resolution (the label is a
//! locked atom held by one set, the input is one of that atom's published Nix inputs)
//! and adds the entries of published manifests that end at a root input; the root's
//! entries win for the same atom and input.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::Path,
};

use atom::{
    Label,
    lock::{AtomIdHex, LockedAtom, LockedFollows, Lockfile},
    manifest::{FollowsKey, Manifest, follows_error},
};
use resolver::{AtomKey, catalog::Catalog};

/// (atom id, its input) → the root's input it follows.
type Decided = BTreeMap<(AtomIdHex, Label), Label>;

/// The follows of the new lock `lock`: the root manifest's (checked, errors located in
/// `text`, the manifest at `path`) and those of published manifests ending at a root
/// input.
pub(super) fn decide(
    catalog: &Catalog,
    manifest: &Manifest,
    lock: &Lockfile,
    path: &Path,
    text: &str,
) -> Result<Vec<LockedFollows>, atom::manifest::Error> {
    let mut decided = Decided::new();
    for (key, target) in &manifest.deps.follows {
        let atom = locked_by_label(lock, key, path, text)?;
        let inputs = published_inputs(catalog, atom);
        if !inputs.contains(&key.input) {
            let known: Vec<String> = inputs.iter().map(|name| format!("`{name}`")).collect();
            let hint = if known.is_empty() {
                format!("atom `{}` has no Nix inputs: remove the entry", atom.label)
            } else {
                format!("its Nix inputs are {}", known.join(", "))
            };
            return Err(follows_error(
                path,
                text,
                key,
                format!(
                    "atom `{}` {} has no Nix input `{}`",
                    atom.label, atom.version, key.input
                ),
                Some(hint),
            ));
        }
        decided.insert((atom.id.clone(), key.input.clone()), target.clone());
    }
    add_published(catalog, lock, &mut decided);
    Ok(decided
        .into_iter()
        .map(|((atom, input), follows)| LockedFollows {
            atom,
            input,
            follows,
        })
        .collect())
}

/// The one locked atom labelled `key.atom`.
fn locked_by_label<'l>(
    lock: &'l Lockfile,
    key: &FollowsKey,
    path: &Path,
    text: &str,
) -> Result<&'l LockedAtom, atom::manifest::Error> {
    let holders: Vec<&LockedAtom> = lock
        .atoms
        .iter()
        .filter(|atom| atom.label == key.atom)
        .collect();
    match holders.as_slice() {
        [atom] => Ok(atom),
        [] => Err(follows_error(
            path,
            text,
            key,
            format!("no locked atom is labelled `{}`", key.atom),
            Some(
                "a follows key names a dependency (direct or transitive) by its label, \
                 then one of its Nix inputs"
                    .to_owned(),
            ),
        )),
        several => {
            let sets: Vec<String> = several
                .iter()
                .map(|atom| format!("`{}` {} of set `{}`", atom.label, atom.version, atom.set))
                .collect();
            Err(follows_error(
                path,
                text,
                key,
                format!("label `{}` is ambiguous: {}", key.atom, sets.join(" and ")),
                Some("follows cannot tell atoms of different sets apart yet".to_owned()),
            ))
        }
    }
}

/// The names of the direct Nix inputs of `atom`'s published manifest.
fn published_inputs(catalog: &Catalog, atom: &LockedAtom) -> BTreeSet<Label> {
    manifest_of(catalog, atom)
        .map(|manifest| manifest.deps.direct.nix.keys().cloned().collect())
        .unwrap_or_default()
}

fn manifest_of<'c>(catalog: &'c Catalog, atom: &LockedAtom) -> Option<&'c Manifest> {
    let key = AtomKey::new(atom.set.as_str(), atom.label.clone());
    catalog
        .published
        .get(&key)
        .and_then(|versions| versions.get(&atom.version))
        .map(|published| &published.manifest)
}

/// Add the follows published manifests declare: atom D's `"X.in" = "d"` makes the
/// input `in` of D's locked dependency X follow what D's `d` follows, when D's `d`
/// follows a root input. Repeated until nothing changes (chains through several
/// atoms); an entry already decided (the root's) is never replaced.
fn add_published(catalog: &Catalog, lock: &Lockfile, decided: &mut Decided) {
    for _ in 0..=lock.atoms.len() {
        let mut added = false;
        for atom in &lock.atoms {
            let Some(manifest) = manifest_of(catalog, atom) else {
                continue;
            };
            for (key, own) in &manifest.deps.follows {
                let Some(target) = decided.get(&(atom.id.clone(), own.clone())).cloned() else {
                    continue;
                };
                let dependency = atom
                    .deps
                    .iter()
                    .filter_map(|id| lock.atom(id))
                    .find(|dep| dep.label == key.atom);
                let Some(dependency) = dependency else {
                    continue;
                };
                if !published_inputs(catalog, dependency).contains(&key.input) {
                    continue;
                }
                let slot = (dependency.id.clone(), key.input.clone());
                if let std::collections::btree_map::Entry::Vacant(vacant) = decided.entry(slot) {
                    vacant.insert(target);
                    added = true;
                }
            }
        }
        if !added {
            break;
        }
    }
}
