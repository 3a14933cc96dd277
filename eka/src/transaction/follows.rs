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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use atom::lock::{ContentHash, ObjectId};
    use resolver::catalog::Published;

    const NIX: &str = "{ git = \"https://h/x.git\", ref = \"main\" }";

    fn manifest(label: &str, inputs: &[&str], follows: &[(&str, &str)]) -> Manifest {
        Manifest::from_str(&manifest_text(label, inputs, follows), "atom.toml").unwrap()
    }

    fn manifest_text(label: &str, inputs: &[&str], follows: &[(&str, &str)]) -> String {
        let mut text = format!("[package]\nlabel = \"{label}\"\nversion = \"1.0.0\"\n");
        if !inputs.is_empty() {
            text.push_str("\n[deps.direct.nix]\n");
            for input in inputs {
                text.push_str(&format!("{input} = {NIX}\n"));
            }
        }
        if !follows.is_empty() {
            text.push_str("\n[deps.follows]\n");
            for (key, value) in follows {
                text.push_str(&format!("\"{key}\" = \"{value}\"\n"));
            }
        }
        text
    }

    fn locked(label: &str, set: char, id: char, deps: &[char]) -> LockedAtom {
        LockedAtom {
            label: Label::parse(label).unwrap(),
            version: semver::Version::new(1, 0, 0),
            set: ObjectId::parse(&set.to_string().repeat(40)).unwrap(),
            id: AtomIdHex::parse(&id.to_string().repeat(64)).unwrap(),
            commit: ObjectId::parse(&"c".repeat(40)).unwrap(),
            content: ContentHash::parse(&format!("blake3:{}", "d".repeat(64))).unwrap(),
            mirrors: vec![],
            deps: deps
                .iter()
                .map(|d| AtomIdHex::parse(&d.to_string().repeat(64)).unwrap())
                .collect(),
        }
    }

    fn catalog(entries: &[(&LockedAtom, Manifest)]) -> Catalog {
        let mut catalog = Catalog::default();
        for (atom, manifest) in entries {
            let published = Published {
                commit_id: None,
                content: None,
                path: String::new(),
                manifest: manifest.clone(),
                mirrors: vec![],
            };
            catalog
                .published
                .entry(AtomKey::new(atom.set.as_str(), atom.label.clone()))
                .or_default()
                .insert(atom.version.clone(), published);
        }
        catalog
    }

    fn root(follows: &[(&str, &str)]) -> (Manifest, String) {
        let text = manifest_text("app", &["h", "h2"], follows);
        (Manifest::from_str(&text, "atom.toml").unwrap(), text)
    }

    fn decided(follows: &[LockedFollows]) -> Vec<(String, String, String)> {
        follows
            .iter()
            .map(|f| {
                (
                    f.atom.to_string()[..1].to_owned(),
                    f.input.to_string(),
                    f.follows.to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn published_follows_chain_to_the_root_and_the_root_wins() {
        let tool = locked("tool", '1', 'a', &[]);
        let other = locked("other", '1', 'c', &[]);
        let mid = locked("mid", '1', 'b', &['a', 'c']);
        let catalog = catalog(&[
            (&tool, manifest("tool", &["helper"], &[])),
            (&other, manifest("other", &["helper"], &[])),
            (
                &mid,
                manifest(
                    "mid",
                    &["helper"],
                    &[("tool.helper", "helper"), ("other.helper", "helper")],
                ),
            ),
        ]);
        let lock = Lockfile {
            atoms: vec![tool, other, mid],
            ..Lockfile::default()
        };
        let (manifest, text) = root(&[("mid.helper", "h"), ("other.helper", "h2")]);
        let follows = decide(&catalog, &manifest, &lock, Path::new("atom.toml"), &text).unwrap();
        assert_eq!(
            decided(&follows),
            [
                ("a".into(), "helper".into(), "h".into()),
                ("b".into(), "helper".into(), "h".into()),
                ("c".into(), "helper".into(), "h2".into()),
            ]
        );
    }

    #[test]
    fn an_ambiguous_label_or_a_missing_input_is_refused_at_the_key() {
        let one = locked("tool", '1', 'a', &[]);
        let two = locked("tool", '2', 'b', &[]);
        let catalog = catalog(&[
            (&one, manifest("tool", &["helper"], &[])),
            (&two, manifest("tool", &["helper"], &[])),
        ]);
        let lock = Lockfile {
            atoms: vec![one.clone(), two],
            ..Lockfile::default()
        };
        let (manifest, text) = root(&[("tool.helper", "h")]);
        let error = decide(&catalog, &manifest, &lock, Path::new("atom.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("atom.toml:"), "{error}");
        assert!(
            error.contains(&"1".repeat(40)) && error.contains(&"2".repeat(40)),
            "{error}"
        );
        let lock = Lockfile {
            atoms: vec![one],
            ..Lockfile::default()
        };
        let (manifest, text) = root(&[("tool.nope", "h")]);
        let error = decide(&catalog, &manifest, &lock, Path::new("atom.toml"), &text)
            .unwrap_err()
            .to_string();
        assert!(error.contains("has no Nix input `nope`"), "{error}");
    }
}
