//! The Nix library (`nix/lib/`) against real Nix (Debian `nix-bin` 2.8): a three-level atom
//! graph published with the store primitives, locked with `atom::lock`, evaluated by
//! `nix-instantiate --eval --strict --pure-eval`, and mismatching pins rejected by Nix.
//!
//! Every Nix call is offline (`file://` URLs only, no substituters, no flake registry)
//! with a private chroot store (`--store <tempdir>`), cache and `HOME`.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

use ::nix::nar;
use atom::{
    Label,
    id::{AtomId, SetRoot},
    lock::{
        AtomIdHex, ContentHash, LockedAtom, LockedNixInput, Lockfile, NarHash, NixKind, ObjectId,
    },
    store::AtomCommit,
    uri::parse_set_url,
};
use eka_test_support::TestRepo;
use tempfile::TempDir;

use crate::nix_common::hello_tarball;

pub use eka_test_support::{Nix, nix::NIX_MISSING};

/// Evaluation in the shared offline [`Nix`] environment.
pub trait NixEval {
    /// `nix-instantiate --eval --strict --json <extra> -E <expression>`: stdout or stderr.
    fn eval(&self, extra: &[&str], expression: &str) -> Result<String, String>;

    /// Evaluate in `--pure-eval` mode.
    fn eval_pure(&self, expression: &str) -> Result<String, String> {
        self.eval(&["--pure-eval"], expression)
    }
}

impl NixEval for Nix {
    /// `nix-instantiate --eval --strict --json <extra> -E <expression>`: stdout or stderr.
    fn eval(&self, extra: &[&str], expression: &str) -> Result<String, String> {
        let output = self
            .command("nix-instantiate")
            .arg("--store")
            .arg(self.store())
            .args(["--eval", "--strict", "--json", "--read-write-mode"])
            .args(extra)
            .args(["-E", expression])
            .output()
            .expect(NIX_MISSING);
        if output.status.success() {
            Ok(String::from_utf8(output.stdout).unwrap().trim().to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }
}

/// The repository's Nix library directory, `nix/lib/`.
pub fn library_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../nix/lib")
}

/// A Nix expression for `path` copied into the store and pinned by its NAR hash, so a
/// pure evaluation may read it.
pub fn pinned_path(path: &Path, name: &str) -> String {
    let path = fs::canonicalize(path).unwrap();
    let hash = nar::hash_path(&path).unwrap().to_sri();
    format!(
        "(builtins.path {{ path = {}; name = \"{name}\"; sha256 = \"{hash}\"; }})",
        path.display()
    )
}

/// `import <nix library>` in a pure evaluation.
pub fn library_expression() -> String {
    format!("(import {})", pinned_path(&library_dir(), "eka-nix"))
}

pub fn file_url(path: &Path) -> String {
    format!("file://{}", fs::canonicalize(path).unwrap().display())
}

/// One atom of the fixture set.
struct Spec {
    label: &'static str,
    dir: &'static str,
    deps: &'static [&'static str],
    entry: &'static str,
}

const SET: [Spec; 3] = [
    Spec {
        label: "base",
        dir: "pkgs/base",
        deps: &[],
        entry: "{ deps, nix, atom }: { n = 1; greeting = \"hello\"; who = atom.label; }\n",
    },
    Spec {
        label: "mid",
        dir: "pkgs/mid",
        deps: &["base"],
        entry: "{ deps, nix, atom }: { n = deps.base.n + 10; \
                greeting = deps.base.greeting + \" from ${atom.label}\"; who = deps.base.who; }\n",
    },
    Spec {
        label: "top",
        dir: "pkgs/top",
        deps: &["mid"],
        entry: "{ deps, nix, atom }: { n = deps.mid.n + 100; \
                greeting = deps.mid.greeting + \" via ${atom.label}\"; who = deps.mid.who; \
                data = builtins.readFile ./data.txt; }\n",
    },
];

/// A published set of three atoms (`top` → `mid` → `base`), its lock entries and the
/// repository holding them.
pub struct Published {
    pub repo: TestRepo,
    pub atoms: Vec<LockedAtom>,
}

impl Published {
    pub fn url(&self) -> String {
        file_url(self.repo.path())
    }

    pub fn atom(&self, label: &str) -> &LockedAtom {
        self.atoms
            .iter()
            .find(|atom| atom.label.as_str() == label)
            .unwrap()
    }
}

pub fn publish_set(mirrors_before: &[String]) -> Published {
    let repo = TestRepo::init();
    repo.write(
        "ekala.toml",
        "[set]\npackages = [\"pkgs/base\", \"pkgs/mid\", \"pkgs/top\"]\n",
    );
    repo.commit("init");
    let root = repo.head();
    for spec in &SET {
        let mut manifest = format!(
            "[package]\nlabel = \"{}\"\nversion = \"1.0.0\"\nentry = \"default.nix\"\n",
            spec.label
        );
        if !spec.deps.is_empty() {
            manifest.push_str("\n[package.sets]\nhere = \"::\"\n\n[deps.from.here]\n");
            for dep in spec.deps {
                manifest.push_str(&format!("{dep} = \"^1\"\n"));
            }
        }
        repo.write(&format!("{}/atom.toml", spec.dir), manifest);
        repo.write(&format!("{}/default.nix", spec.dir), spec.entry);
    }
    repo.write("pkgs/top/data.txt", "top data\n");
    repo.commit("atoms");
    let origin = repo.head();
    let git = gix::open(repo.path()).unwrap();
    let root_id = gix::ObjectId::from_hex(root.as_bytes()).unwrap();
    let origin_id = gix::ObjectId::from_hex(origin.as_bytes()).unwrap();
    let set_root = SetRoot::new(root_id);
    let version = semver::Version::new(1, 0, 0);
    let mut mirrors: Vec<_> = mirrors_before
        .iter()
        .map(|url| parse_set_url(url).unwrap())
        .collect();
    mirrors.push(parse_set_url(&file_url(repo.path())).unwrap());
    let id_of = |label: &str| AtomId::new(&set_root, &Label::parse(label).unwrap());
    let mut atoms = Vec::new();
    for spec in &SET {
        let tree =
            gix::ObjectId::from_hex(repo.rev_parse(&format!("HEAD:{}", spec.dir)).as_bytes())
                .unwrap();
        let content = verify::tree::hash_tree(&git, tree, &verify::tree::Options::default())
            .unwrap()
            .hash
            .to_string();
        let commit = AtomCommit::new(
            tree, root_id, spec.label, &version, origin_id, spec.dir, &content,
        )
        .unwrap()
        .write(&git)
        .unwrap();
        repo.run([
            "update-ref",
            &format!("refs/eka/atoms/{}/1.0.0", spec.label),
            &commit.to_hex().to_string(),
        ]);
        atoms.push(LockedAtom {
            label: Label::parse(spec.label).unwrap(),
            version: version.clone(),
            set: ObjectId::parse(&root).unwrap(),
            id: AtomIdHex::parse(&id_of(spec.label).to_string()).unwrap(),
            commit: ObjectId::parse(&commit.to_hex().to_string()).unwrap(),
            content: ContentHash::parse(&content).unwrap(),
            mirrors: mirrors.clone(),
            deps: spec
                .deps
                .iter()
                .map(|dep| AtomIdHex::parse(&id_of(dep).to_string()).unwrap())
                .collect::<BTreeSet<_>>(),
        });
    }
    Published { repo, atoms }
}

/// A git repository and a tarball used as direct Nix inputs, with their locked entries.
pub struct Inputs {
    pub _dir: TempDir,
    pub repo: TestRepo,
    pub git: LockedNixInput,
    pub tar: LockedNixInput,
}

pub fn nix_inputs() -> Inputs {
    let repo = TestRepo::init();
    repo.write("lib.nix", "{ answer = 42; }\n");
    repo.commit("input");
    let rev = repo.head();
    let git = gix::open(repo.path()).unwrap();
    let tree = gix::ObjectId::from_hex(repo.rev_parse("HEAD^{tree}").as_bytes()).unwrap();
    let git_nar = nar::hash_git_tree(&git, tree).unwrap().to_sri();

    let dir = tempfile::tempdir().unwrap();
    let tarball = hello_tarball(dir.path());
    let tar_nar = nar::hash_tarball(fs::File::open(&tarball).unwrap())
        .unwrap()
        .to_sri();
    Inputs {
        git: LockedNixInput {
            name: Label::parse("helper").unwrap(),
            kind: NixKind::Git,
            url: file_url(repo.path()),
            reference: Some("refs/heads/main".into()),
            version: None,
            rev: Some(ObjectId::parse(&rev).unwrap()),
            nar_hash: Some(NarHash::parse(&git_nar).unwrap()),
            hash: None,
            flake: false,
        },
        tar: LockedNixInput {
            name: Label::parse("src").unwrap(),
            kind: NixKind::Tar,
            url: file_url(&tarball),
            reference: None,
            version: None,
            rev: None,
            nar_hash: Some(NarHash::parse(&tar_nar).unwrap()),
            hash: None,
            flake: false,
        },
        repo,
        _dir: dir,
    }
}

const CONSUMER_ENTRY: &str = "{ deps, nix, atom }: {
  n = deps.top.n;
  greeting = deps.top.greeting;
  who = deps.top.who;
  data = deps.top.data;
  answer = (import (nix.helper + \"/lib.nix\")).answer;
  tarball = builtins.readFile (nix.src + \"/hello.txt\");
  self = atom.label;
}
";

/// A consumer atom directory depending on `top`, with the lock written by `atom::lock`.
pub fn consumer(set_url: &str, lock: &Lockfile) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("atom.toml"),
        format!(
            "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\nentry = \"nix/default.nix\"\n\n\
             [package.sets]\ncompany = \"{set_url}\"\n\n[deps.from.company]\ntop = \"^1\"\n"
        ),
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("nix")).unwrap();
    fs::write(dir.path().join("nix/default.nix"), CONSUMER_ENTRY).unwrap();
    let text = lock.to_string();
    // The lock the library reads is exactly what `atom::lock` reads back.
    assert_eq!(
        Lockfile::from_str(&text, "atom.lock").unwrap().to_string(),
        text
    );
    fs::write(dir.path().join("atom.lock"), text).unwrap();
    dir
}

fn import_atom(dir: &Path) -> String {
    format!(
        "{}.importAtom {}",
        library_expression(),
        pinned_path(dir, "consumer")
    )
}

pub const EXPECTED: &str = "{\"answer\":42,\"data\":\"top data\\n\",\
    \"greeting\":\"hello from mid via top\",\"n\":111,\"self\":\"app\",\
    \"tarball\":\"from a tarball\\n\",\"who\":\"base\"}";

#[test]
fn a_three_level_graph_evaluates_purely() {
    let set = publish_set(&[]);
    let inputs = nix_inputs();
    let lock = set.lock(inputs.locked());
    let app = consumer(&set.url(), &lock);
    let nix = Nix::new();
    let value = nix.eval_pure(&import_atom(app.path())).unwrap();
    assert_eq!(value, EXPECTED);

    // `fromLock` gives every locked atom, by label and by id, with its source.
    let lock_path = pinned_path(&app.path().join("atom.lock"), "atom.lock");
    let expression = format!(
        "let graph = {}.fromLock {{ lock = {lock_path}; }}; in \
         {{ base = graph.atoms.base.n; mid = graph.atoms.mid.greeting; \
           deps = graph.byId.\"{}\".depIds; commit = graph.byId.\"{}\".src.rev; }}",
        library_expression(),
        set.atom("mid").id,
        set.atom("top").id,
    );
    let value = nix.eval_pure(&expression).unwrap();
    assert_eq!(
        value,
        format!(
            "{{\"base\":1,\"commit\":\"{}\",\"deps\":[\"{}\"],\"mid\":\"hello from mid\"}}",
            set.atom("top").commit,
            set.atom("base").id
        )
    );
    drop(inputs.repo);
}

#[test]
fn a_mismatching_atom_commit_is_rejected() {
    let set = publish_set(&[]);
    let mut atoms = set.atoms.clone();
    let base = atoms
        .iter_mut()
        .find(|atom| atom.label.as_str() == "base")
        .unwrap();
    // A commit that is not the published atom commit (nor any object in the repository).
    let wrong = if base.commit.as_str().starts_with('0') {
        '1'
    } else {
        '0'
    };
    let wrong = format!("{wrong}{}", &base.commit.as_str()[1..]);
    base.commit = ObjectId::parse(&wrong).unwrap();
    let app = consumer(
        &set.url(),
        &Lockfile {
            atoms,
            nix: vec![],
            follows: Vec::new(),
        },
    );
    let app_entry = app.path().join("nix/default.nix");
    fs::write(&app_entry, "{ deps, ... }: deps.top.n\n").unwrap();
    let error = Nix::new().eval_pure(&import_atom(app.path())).unwrap_err();
    assert!(
        error.contains(&format!("Cannot find Git revision '{wrong}'")),
        "{error}"
    );
}

#[test]
fn mismatching_nix_input_hashes_are_rejected() {
    let set = publish_set(&[]);
    let inputs = nix_inputs();
    let zero = NarHash::parse("sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=").unwrap();
    for (mut input, expected) in [
        (inputs.git.clone(), "NAR hash mismatch"),
        (inputs.tar.clone(), "hash mismatch in file downloaded from"),
    ] {
        input.nar_hash = Some(zero.clone());
        let input_url = input.url.clone();
        let mut others = vec![inputs.git.clone(), inputs.tar.clone()];
        others.retain(|other| other.name != input.name);
        others.push(input);
        let app = consumer(
            &set.url(),
            &Lockfile {
                atoms: set.atoms.clone(),
                nix: others,
                follows: Vec::new(),
            },
        );
        let error = Nix::new().eval_pure(&import_atom(app.path())).unwrap_err();
        assert!(error.contains(expected), "{error}");
        assert!(error.contains(&input_url), "{error}");
    }
}

#[test]
fn another_mirror_is_chosen_explicitly() {
    let dead = tempfile::tempdir().unwrap();
    let dead_url = file_url(dead.path());
    let set = publish_set(std::slice::from_ref(&dead_url));
    let app = set.atoms_only_consumer();
    let lock_path = pinned_path(&app.path().join("atom.lock"), "atom.lock");
    let nix = Nix::new();
    // Nix cannot catch a failed fetch, so the first mirror failing fails the evaluation...
    let first = format!(
        "({}.fromLock {{ lock = {lock_path}; }}).atoms.top.n",
        library_expression()
    );
    let error = nix.eval_pure(&first).unwrap_err();
    assert!(
        error.contains("does not appear to be a git repository"),
        "{error}"
    );
    // ...and the caller picks the next one.
    let second = format!(
        "({}.fromLock {{ lock = {lock_path}; mirror = 1; }}).atoms.top.n",
        library_expression()
    );
    assert_eq!(nix.eval_pure(&second).unwrap(), "111");
}

#[test]
fn impure_paths_are_refused_in_pure_mode() {
    let set = publish_set(&[]);
    let app = set.atoms_only_consumer();
    // Without pinning the consumer into the store, pure evaluation cannot read it.
    let expression = format!(
        "{}.importAtom {}",
        library_expression(),
        fs::canonicalize(app.path()).unwrap().display()
    );
    let error = Nix::new().eval_pure(&expression).unwrap_err();
    assert!(error.contains("forbidden in pure eval mode"), "{error}");
}

/// Copy `path` (a file or a directory tree of files) to `target`.
fn copy_tree(path: &Path, target: &Path) {
    if path.is_dir() {
        fs::create_dir_all(target).unwrap();
        for entry in fs::read_dir(path).unwrap() {
            let entry = entry.unwrap();
            copy_tree(&entry.path(), &target.join(entry.file_name()));
        }
    } else {
        fs::copy(path, target).unwrap();
    }
}

/// eka's own flake in a temp dir (what it reads: `flake.nix`, `nix/`, `Cargo.toml`,
/// `Cargo.lock`), and the nixpkgs stand-in of `fixtures/nixpkgs-stub` to evaluate it
/// offline.
fn eka_flake() -> (tempfile::TempDir, PathBuf, String) {
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    for file in ["flake.nix", "Cargo.toml", "Cargo.lock"] {
        copy_tree(&repo_root.join(file), &dir.path().join(file));
    }
    fs::create_dir_all(dir.path().join("nix")).unwrap();
    copy_tree(&library_dir(), &dir.path().join("nix/lib"));
    copy_tree(
        &repo_root.join("nix/package.nix"),
        &dir.path().join("nix/package.nix"),
    );
    copy_tree(
        &repo_root.join("fixtures/nixpkgs-stub"),
        &dir.path().join("stub"),
    );
    let root = fs::canonicalize(dir.path()).unwrap();
    let stub = format!("path:{}", root.join("stub").display());
    (dir, root, stub)
}

/// `nix <args>` with flakes on, offline, nixpkgs replaced by the stand-in.
fn flake_command(nix: &Nix, stub: &str, args: &[&str]) -> std::process::Output {
    nix.command("nix")
        .args([
            "--extra-experimental-features",
            "nix-command flakes",
            "--store",
        ])
        .arg(nix.store())
        .args(args)
        .args(["--no-write-lock-file", "--override-input", "nixpkgs", stub])
        .output()
        .expect(NIX_MISSING)
}

#[test]
fn the_flake_exposes_the_library() {
    let (_dir, root, stub) = eka_flake();
    let nix = Nix::new();
    let output = flake_command(
        &nix,
        &stub,
        &[
            "eval",
            "--json",
            &format!("path:{}#lib", root.display()),
            "--apply",
            "lib: [ lib.formatVersion (builtins.attrNames lib) ]",
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("[1,["), "{stdout}");
    for name in [
        "fromLock",
        "importAtom",
        "importAtoms",
        "fetchAtom",
        "fetchNixInput",
    ] {
        assert!(stdout.contains(&format!("\"{name}\"")), "{stdout}");
    }
}

#[test]
fn the_flake_has_a_package_an_app_a_shell_and_an_overlay() {
    // The real nixpkgs cannot be fetched here: the stand-in has the attributes the
    // flake reads, so its outputs evaluate and `nix flake check` judges their shapes.
    let (_dir, root, stub) = eka_flake();
    let flake = format!("path:{}", root.display());
    let nix = Nix::new();
    let show = flake_command(&nix, &stub, &["flake", "show", "--json", &flake]);
    assert!(
        show.status.success(),
        "{}",
        String::from_utf8_lossy(&show.stderr)
    );
    let outputs: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let version = fs::read_to_string(root.join("Cargo.toml"))
        .unwrap()
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .map(|rest| rest.trim_end_matches('"').to_owned())
        .unwrap();
    for system in [
        "x86_64-linux",
        "aarch64-linux",
        "x86_64-darwin",
        "aarch64-darwin",
    ] {
        for package in ["default", "eka"] {
            assert_eq!(
                outputs["packages"][system][package]["name"],
                format!("eka-{version}"),
                "{outputs}"
            );
        }
        assert_eq!(
            outputs["apps"][system]["default"]["type"], "app",
            "{outputs}"
        );
        assert_eq!(
            outputs["devShells"][system]["default"]["type"], "derivation",
            "{outputs}"
        );
    }
    assert_eq!(
        outputs["overlays"]["default"]["type"], "nixpkgs-overlay",
        "{outputs}"
    );

    let program = flake_command(
        &nix,
        &stub,
        &[
            "eval",
            "--raw",
            &format!("{flake}#apps.x86_64-linux.default.program"),
        ],
    );
    let program = String::from_utf8(program.stdout).unwrap();
    assert!(program.ends_with("/bin/eka"), "{program}");

    let check = flake_command(&nix, &stub, &["flake", "check", "--no-build", &flake]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn the_graph_evaluates_in_restricted_mode() {
    let set = publish_set(&[]);
    let inputs = nix_inputs();
    let lock = set.lock(inputs.locked());
    let app = consumer(&set.url(), &lock);
    let app_dir = fs::canonicalize(app.path()).unwrap();
    let library = fs::canonicalize(library_dir()).unwrap();
    let search = |name: &str, path: &Path| format!("{name}={}", path.display());
    let value = Nix::new()
        .eval(
            &[
                "--option",
                "restrict-eval",
                "true",
                "--option",
                "allowed-uris",
                "file://",
                "-I",
                &search("eka", &library),
                "-I",
                &search("app", &app_dir),
            ],
            "(import <eka>).importAtom <app>",
        )
        .unwrap();
    assert_eq!(value, EXPECTED);
}
