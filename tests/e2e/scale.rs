//! Registries at scale, generated with git plumbing (canonical atom commits over the empty
//! tree, their manifests and refs, as `eka publish` writes them): a 300-deep dependency
//! chain and a 500-wide fan-out resolve in full with a bounded number of fetches (counted
//! from git's own trace), and `eka list` names broken versions instead of failing.

use std::path::{Path, PathBuf};

use atom::store::AtomCommit;
use gix::ObjectId;

use crate::{
    common::{Sandbox, git, snapshot},
    deps::project,
};

/// One atom to generate: label, version and the labels it requires (`^1`, from its own
/// set).
struct Spec {
    label: String,
    version: String,
    deps: Vec<String>,
}

fn spec(label: &str, version: &str, deps: Vec<String>) -> Spec {
    Spec {
        label: label.to_owned(),
        version: version.to_owned(),
        deps,
    }
}

/// A bare registry on disk, its root commit and the refs to write.
struct Registry {
    _dir: tempfile::TempDir,
    path: PathBuf,
    root: ObjectId,
    updates: String,
}

impl Registry {
    fn new() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("registry.git");
        std::fs::create_dir_all(&path).unwrap();
        git(&path, &["init", "-q", "--bare"], None);
        git(&path, &["config", "uploadpack.allowFilter", "true"], None);
        let root = git(
            &path,
            &["hash-object", "-t", "commit", "-w", "--stdin"],
            Some(
                format!(
                    "tree {}\nauthor a <a@eka.invalid> 0 +0000\ncommitter a <a@eka.invalid> 0 +0000\n\nroot\n",
                    ObjectId::empty_tree(gix::hash::Kind::Sha1)
                )
                .as_bytes(),
            ),
        );
        let root = ObjectId::from_hex(root.as_bytes()).unwrap();
        Registry {
            _dir: dir,
            path,
            root,
            updates: format!("create refs/heads/main {root}\n"),
        }
    }

    fn url(&self) -> String {
        format!("file://{}", self.path.display())
    }

    fn repo(&self) -> gix::Repository {
        gix::open(&self.path).unwrap()
    }

    /// Write `atoms` as published versions.
    fn publish(&mut self, atoms: &[Spec]) -> &mut Self {
        let repo = self.repo();
        repo.write_object(gix::objs::Tree::empty()).unwrap();
        for atom in atoms {
            let manifest = manifest(&atom.label, &atom.version, &atom.deps);
            let blob = repo.write_blob(manifest.as_bytes()).unwrap().detach();
            let commit = self.atom_commit(&repo, &atom.label, &atom.version, blob);
            self.set_refs(&atom.label, &atom.version, Some(commit), Some(blob));
        }
        self
    }

    /// A real atom commit: its tree holds the manifest, and its content header is the
    /// tree's BLAKE3 hash (what `add` checks before it writes a lock).
    fn atom_commit(
        &self,
        repo: &gix::Repository,
        label: &str,
        version: &str,
        manifest: ObjectId,
    ) -> ObjectId {
        let version = semver::Version::parse(version).unwrap();
        let tree = repo
            .write_object(gix::objs::Tree {
                entries: vec![gix::objs::tree::Entry {
                    mode: gix::objs::tree::EntryKind::Blob.into(),
                    filename: "atom.toml".into(),
                    oid: manifest,
                }],
            })
            .unwrap()
            .detach();
        let content = verify::tree::hash_tree(repo, tree, &verify::tree::Options::default())
            .unwrap()
            .hash
            .to_string();
        AtomCommit::new(tree, self.root, label, &version, self.root, label, &content)
            .unwrap()
            .write(repo)
            .unwrap()
    }

    fn set_refs(
        &mut self,
        label: &str,
        version: &str,
        commit: Option<ObjectId>,
        manifest: Option<ObjectId>,
    ) {
        if let Some(commit) = commit {
            self.updates.push_str(&format!(
                "create refs/eka/atoms/{label}/{version} {commit}\n"
            ));
        }
        if let Some(manifest) = manifest {
            self.updates.push_str(&format!(
                "create refs/eka/meta/{label}/{version}/manifest {manifest}\n"
            ));
        }
        self.updates.push_str(&format!(
            "create refs/eka/meta/{label}/{version}/origin {}\n",
            self.root
        ));
    }

    /// Write the refs and pack everything, as a served registry would be.
    fn finish(&mut self) -> &Self {
        let updates = std::mem::take(&mut self.updates);
        git(
            &self.path,
            &["update-ref", "--stdin"],
            Some(updates.as_bytes()),
        );
        git(&self.path, &["pack-refs", "--all"], None);
        git(&self.path, &["repack", "-adq"], None);
        self
    }

    /// A copy of the finished registry (a second mirror).
    fn mirror(&self, into: &Path) -> String {
        git(
            into,
            &["clone", "-q", "--mirror", &self.url(), "mirror.git"],
            None,
        );
        let path = into.join("mirror.git");
        git(&path, &["config", "uploadpack.allowFilter", "true"], None);
        format!("file://{}", path.display())
    }
}

fn manifest(label: &str, version: &str, deps: &[String]) -> String {
    let mut text = format!("[package]\nlabel = \"{label}\"\nversion = \"{version}\"\n");
    if !deps.is_empty() {
        text.push_str("\n[package.sets]\nhere = \"::\"\n\n[deps.from.here]\n");
        for dep in deps {
            text.push_str(&format!("{dep} = \"^1\"\n"));
        }
    }
    text
}

/// Run `eka <args>` in `app/` with git's trace going to a file; the run and the
/// `git fetch` command lines git traced.
fn traced(sandbox: &Sandbox, args: &[&str]) -> (crate::common::Run, Vec<String>) {
    let trace = sandbox.dir.path().join("git-trace");
    let _ = std::fs::remove_file(&trace);
    let output = sandbox
        .command()
        .current_dir(sandbox.path("app"))
        .env("GIT_TRACE", &trace)
        .args(args)
        .output()
        .unwrap();
    let run = crate::common::Run::from_output(output);
    let fetches = std::fs::read_to_string(&trace)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("trace: built-in: git fetch"))
        .map(str::to_owned)
        .collect();
    (run, fetches)
}

fn lock(sandbox: &Sandbox) -> atom::lock::Lockfile {
    atom::lock::Lockfile::read(sandbox.path("app/atom.lock")).unwrap()
}

#[test]
fn a_chain_of_300_atoms_resolves_with_two_discovery_fetches() {
    const DEPTH: usize = 300;
    let label = |index: usize| format!("c{index:03}");
    let atoms: Vec<Spec> = (0..DEPTH)
        .map(|index| {
            let deps = if index + 1 < DEPTH {
                vec![label(index + 1)]
            } else {
                Vec::new()
            };
            spec(&label(index), "1.0.0", deps)
        })
        .collect();
    let mut registry = Registry::new();
    registry.publish(&atoms).finish();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    let uri = format!("{}::c000", registry.url());
    let (run, fetches) = traced(&sandbox, &["add", &uri]);
    run.success();
    // Round 1 fetches `c000`; round 2 lists the set whole and fetches the rest; the 298
    // rounds after it neither list nor fetch. One more fetch brings the 300 trees, all
    // checked before the lock is written.
    assert_eq!(fetches.len(), 3, "{fetches:#?}");

    let lock = lock(&sandbox);
    assert_eq!(lock.atoms.len(), DEPTH);
    let by_label = |wanted: &str| {
        lock.atoms
            .iter()
            .find(|atom| atom.label.as_str() == wanted)
            .unwrap()
    };
    assert_eq!(by_label("c000").deps.len(), 1);
    assert!(by_label("c000").deps.contains(&by_label("c001").id));
    assert!(by_label("c298").deps.contains(&by_label("c299").id));
    assert!(by_label("c299").deps.is_empty());

    // Warm and offline: the cache alone answers, nothing is fetched.
    let (run, fetches) = traced(&sandbox, &["--offline", "resolve"]);
    run.success();
    assert!(fetches.is_empty(), "{fetches:#?}");
    assert_eq!(self::lock(&sandbox).atoms.len(), DEPTH);
}

#[test]
fn a_fan_out_of_500_resolves_with_one_fetch_per_round_from_the_first_mirror() {
    const WIDTH: usize = 500;
    let leaves: Vec<String> = (0..WIDTH).map(|index| format!("d{index:03}")).collect();
    let mut atoms = vec![spec("root", "1.0.0", leaves.clone())];
    atoms.extend(leaves.iter().map(|leaf| spec(leaf, "1.0.0", Vec::new())));
    atoms.push(spec("d007", "2.0.0", Vec::new()));
    let mut registry = Registry::new();
    registry.publish(&atoms).finish();
    let elsewhere = tempfile::tempdir().unwrap();
    let mirror = registry.mirror(elsewhere.path());
    let sandbox = Sandbox::new();
    project(
        &sandbox,
        &format!(
            "\n[package.sets]\nmain = [\"{}\", \"{mirror}\"]\n\n[deps.from.main]\nroot = \"^1\"\n",
            registry.url()
        ),
    );
    let (run, fetches) = traced(&sandbox, &["resolve"]);
    run.success();
    // Round 1 (`root`) and round 2 (its 500 requirements, the set listed whole): one
    // fetch each, from the first mirror, which has everything; then one fetch of the
    // 501 trees to check before locking.
    assert_eq!(fetches.len(), 3, "{fetches:#?}");
    assert!(
        fetches
            .iter()
            .all(|line| line.contains(&registry.url()) && !line.contains(&mirror)),
        "{fetches:#?}"
    );

    let lock = lock(&sandbox);
    assert_eq!(lock.atoms.len(), WIDTH + 1);
    let root = lock
        .atoms
        .iter()
        .find(|atom| atom.label.as_str() == "root")
        .unwrap();
    assert_eq!(root.deps.len(), WIDTH);
    let d007 = lock
        .atoms
        .iter()
        .find(|atom| atom.label.as_str() == "d007")
        .unwrap();
    assert_eq!(d007.version, semver::Version::new(1, 0, 0));
    assert_eq!(d007.mirrors.len(), 2);
}

#[test]
fn list_leaves_out_broken_versions_and_names_them() {
    let mut registry = Registry::new();
    registry.publish(&[
        spec("good", "1.0.0", Vec::new()),
        spec("good", "1.1.0", Vec::new()),
        spec("other", "0.1.0", Vec::new()),
    ]);
    let repo = registry.repo();
    // A manifest that is not TOML.
    let garbage = repo.write_blob(b"not = [toml").unwrap().detach();
    let commit = registry.atom_commit(&repo, "good", "2.0.0", garbage);
    registry.set_refs("good", "2.0.0", Some(commit), Some(garbage));
    // An atom ref naming a commit that is not an atom commit.
    let manifest = repo
        .write_blob(manifest("other", "0.2.0", &[]).as_bytes())
        .unwrap()
        .detach();
    let root = registry.root;
    registry.set_refs("other", "0.2.0", Some(root), Some(manifest));
    // No manifest ref.
    let unlisted = repo
        .write_blob(self::manifest("other", "0.3.0", &[]).as_bytes())
        .unwrap()
        .detach();
    let commit = registry.atom_commit(&repo, "other", "0.3.0", unlisted);
    registry.set_refs("other", "0.3.0", Some(commit), None);
    registry.finish();

    let sandbox = Sandbox::new();
    let url = registry.url();
    let run = sandbox.eka(&["list", &url]).success();
    assert!(run.stdout.contains("good 1.0.0, 1.1.0\n"), "{}", run.stdout);
    assert!(run.stdout.contains("other 0.1.0\n"), "{}", run.stdout);
    assert_eq!(run.stderr.matches("warning: ").count(), 3, "{}", run.stderr);
    for (label, version) in [("good", "2.0.0"), ("other", "0.2.0"), ("other", "0.3.0")] {
        assert!(
            run.stderr
                .contains(&format!("warning: `{label}` `{version}` is left out: ")),
            "{}",
            run.stderr
        );
    }
    snapshot!("list_bad_versions", run.transcript());

    let run = sandbox.eka(&["--json", "list", &url]).success();
    let document: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let bad = document["bad"].as_array().unwrap();
    assert_eq!(bad.len(), 3, "{bad:#?}");
    assert_eq!(bad[0]["label"], "good");
    assert_eq!(bad[0]["version"], "2.0.0");
    assert!(
        bad[0]["message"].as_str().unwrap().contains("manifest"),
        "{bad:#?}"
    );
    assert_eq!(document["atoms"].as_array().unwrap().len(), 2);
}
