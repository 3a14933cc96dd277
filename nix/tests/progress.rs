//! The nix crate's fetches go through the cache's one atom store and inputs store, and
//! report their progress: every step begun is finished.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    collections::{BTreeSet, HashMap, HashSet},
    path::Path,
    sync::Mutex,
};

use atom::{
    Label,
    lock::{AtomIdHex, ContentHash, LockedAtom, Lockfile, ObjectId},
    manifest::Manifest,
    progress::{Reporter, StepId},
    store::{
        AtomCommit,
        cache::Cache,
        git::{Depth, FetchSpec},
    },
};
use eka_test_support::TestRepo;
use tempfile::TempDir;

/// What a reporter was told.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Begin(StepId, String, Option<u64>),
    Advance(StepId, String),
    Finish(StepId),
}

/// A reporter that records every event.
#[derive(Debug, Default)]
struct Recording {
    events: Mutex<Vec<Event>>,
}

impl Reporter for Recording {
    fn begin(&self, id: StepId, verb: &str, total: Option<u64>) {
        self.push(Event::Begin(id, verb.to_owned(), total));
    }

    fn advance(&self, id: StepId, item: &str) {
        self.push(Event::Advance(id, item.to_owned()));
    }

    fn finish(&self, id: StepId) {
        self.push(Event::Finish(id));
    }
}

impl Recording {
    fn push(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }

    fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.events.lock().unwrap())
    }
}

/// The steps of `events` as `(verb, total, items)`, checking that each begun step is
/// finished exactly once, after its items, and that no event names an unknown step.
fn steps(events: &[Event]) -> Vec<(String, Option<u64>, Vec<String>)> {
    let mut open: HashMap<StepId, usize> = HashMap::new();
    let mut finished: HashSet<StepId> = HashSet::new();
    let mut steps = Vec::new();
    for event in events {
        match event {
            Event::Begin(id, verb, total) => {
                assert!(
                    !open.contains_key(id) && !finished.contains(id),
                    "{events:?}"
                );
                open.insert(*id, steps.len());
                steps.push((verb.clone(), *total, Vec::new()));
            }
            Event::Advance(id, item) => {
                let index = open.get(id).unwrap_or_else(|| panic!("{events:?}"));
                steps[*index].2.push(item.clone());
            }
            Event::Finish(id) => {
                assert!(open.remove(id).is_some(), "{events:?}");
                finished.insert(*id);
            }
        }
    }
    assert!(open.is_empty(), "steps never finished: {events:?}");
    steps
}

fn file_url(path: &Path) -> String {
    format!("file://{}", fs_err::canonicalize(path).unwrap().display())
}

/// A repository serving one atom commit (filters allowed, so it can be fetched
/// tree-less like discovery does), and that commit's lock entry.
fn upstream() -> (TestRepo, LockedAtom) {
    let repo = TestRepo::init();
    repo.write(
        "atom.toml",
        "[package]\nlabel = \"a\"\nversion = \"1.0.0\"\n",
    )
    .write("nix/default.nix", "{ ... }: 1\n");
    repo.commit("a 1.0.0");
    repo.run(["config", "uploadpack.allowFilter", "true"]);
    // The atom commit of `a` 1.0.0 (its tree is the repository's), published under
    // its ref: export checks it is one, with the locked headers and content.
    let git = gix::open(repo.path()).unwrap();
    let head = gix::ObjectId::from_hex(repo.head().as_bytes()).unwrap();
    let tree = gix::ObjectId::from_hex(repo.rev_parse("HEAD^{tree}").as_bytes()).unwrap();
    let content = verify::tree::hash_tree(&git, tree, &verify::tree::Options::default())
        .unwrap()
        .hash
        .to_string();
    let version = semver::Version::new(1, 0, 0);
    let commit = AtomCommit::new(tree, head, "a", &version, head, ".", &content)
        .unwrap()
        .write(&git)
        .unwrap()
        .to_string();
    repo.run(["update-ref", "refs/eka/atoms/a/1.0.0", commit.as_str()]);
    let mut atom = locked_atom(&file_url(repo.path()), &commit);
    atom.set = ObjectId::parse(&head.to_string()).unwrap();
    atom.content = ContentHash::parse(&content).unwrap();
    (repo, atom)
}

fn locked_atom(url: &str, commit: &str) -> LockedAtom {
    LockedAtom {
        label: Label::parse("a").unwrap(),
        version: semver::Version::new(1, 0, 0),
        set: ObjectId::parse(&"1".repeat(40)).unwrap(),
        id: AtomIdHex::parse(&"2".repeat(64)).unwrap(),
        commit: ObjectId::parse(commit).unwrap(),
        content: ContentHash::parse(&format!("blake3:{}", "d".repeat(64))).unwrap(),
        mirrors: vec![atom::uri::parse_set_url(url).unwrap()],
        deps: BTreeSet::new(),
    }
}

/// A project whose `atom.lock` locks `atom` alone, an empty cache, and the options
/// exporting the project into itself, online.
fn export_project(atom: LockedAtom) -> (TempDir, TempDir, nix::export::Options) {
    let lock = Lockfile {
        atoms: vec![atom],
        nix: vec![],
        follows: Vec::new(),
    };
    let project = tempfile::tempdir().unwrap();
    fs_err::write(project.path().join("atom.lock"), lock.to_string()).unwrap();
    let cache_root = tempfile::tempdir().unwrap();
    let options = nix::export::Options {
        dir: project.path().to_path_buf(),
        output: project.path().to_path_buf(),
        cache: cache_root.path().to_path_buf(),
        offline: false,
        mirrors: Default::default(),
        write_inputs: false,
    };
    (project, cache_root, options)
}

#[test]
fn export_fetches_tree_less_commits_again_with_their_trees_and_reports_steps() {
    let (upstream, atom) = upstream();
    let url = file_url(upstream.path());
    let commit = atom.commit.to_string();
    let (_project, cache_root, options) = export_project(atom);

    // Discovery left the commit in the one atom store without its tree.
    let cache = Cache::open(cache_root.path()).unwrap();
    let id = gix::ObjectId::from_hex(commit.as_bytes()).unwrap();
    cache
        .atoms_git()
        .fetch(
            &url,
            &FetchSpec::objects(&[id], "refs/cache/", Depth::TreeLess),
        )
        .unwrap();
    let store = cache.atoms_repo().unwrap();
    assert!(store.has_object(id));
    let tree = gix::ObjectId::from_hex(upstream.rev_parse("HEAD^{tree}").as_bytes()).unwrap();
    assert!(!store.has_object(tree), "the fixture must start tree-less");

    let recording = Recording::default();
    let outcome = nix::export::run(&options, &recording).unwrap();
    assert!(
        outcome.changed && outcome.warnings.is_empty(),
        "{outcome:?}"
    );
    assert_eq!(
        steps(&recording.take()),
        [
            ("Fetching".to_owned(), Some(1), vec![url.clone()]),
            ("Hashing".to_owned(), Some(1), vec!["a".to_owned()]),
        ]
    );
    // The tree is now in the cache's one store, nowhere else.
    assert!(cache.atoms_repo().unwrap().has_object(tree));
    assert!(!cache_root.path().join("git").exists());
    let expected = nix::nar::hash_git_tree(&gix::open(upstream.path()).unwrap(), tree).unwrap();
    let flake_lock = fs_err::read_to_string(&outcome.lock_path).unwrap();
    assert!(flake_lock.contains(&expected.to_sri()), "{flake_lock}");

    // A second export, offline, fetches nothing and hashes again.
    let offline = nix::export::Options {
        offline: true,
        mirrors: Default::default(),
        ..options
    };
    let again = nix::export::run(&offline, &recording).unwrap();
    assert!(!again.changed);
    assert_eq!(
        steps(&recording.take()),
        [("Hashing".to_owned(), Some(1), vec!["a".to_owned()])]
    );
}

#[test]
fn export_names_the_mirror_that_failed() {
    let missing = tempfile::tempdir().unwrap();
    let url = format!("file://{}/absent.git", missing.path().display());
    let (_project, _cache_root, options) = export_project(locked_atom(&url, &"c".repeat(40)));
    let recording = Recording::default();
    let error = nix::export::run(&options, &recording).unwrap_err();
    assert!(
        matches!(&error, nix::export::Error::Locked(locked)
            if matches!(&**locked, verify::locked::Error::Fetch { url: named, .. } if *named == url)),
        "{error:?}"
    );
    assert!(error.to_string().contains(&url), "{error}");
    // The failed fetch's step was finished all the same.
    assert_eq!(
        steps(&recording.take()),
        [("Fetching".to_owned(), Some(1), vec![url.clone()])]
    );
}

#[test]
fn git_inputs_are_locked_in_the_caches_inputs_store_with_one_step() {
    let (upstream, _) = upstream();
    upstream.write("default.nix", "{ v = 2; }\n");
    upstream.commit("release 1.2.0");
    upstream.run(["tag", "-a", "-m", "release", "v1.2.0"]);
    upstream.write("default.nix", "{ v = 3; }\n");
    upstream.commit("main moves on");
    let url = file_url(upstream.path());
    let manifest = Manifest::from_str(
        &format!(
            "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n\n[deps.direct.nix]\n\
             head = {{ git = \"{url}\", ref = \"main\" }}\n\
             lib = {{ git = \"{url}\", version = \"^1\" }}\n"
        ),
        "atom.toml",
    )
    .unwrap();
    let cache_root = tempfile::tempdir().unwrap();
    let options = nix::input::Options {
        cache: cache_root.path().to_path_buf(),
        offline: false,
        relock: nix::input::Relock::Nothing,
    };
    let recording = Recording::default();
    let locked =
        nix::input::lock_nix_inputs(&manifest, &Lockfile::default(), &options, &recording).unwrap();
    assert!(locked.warnings.is_empty(), "{:?}", locked.warnings);
    assert_eq!(
        steps(&recording.take()),
        [(
            "Locking".to_owned(),
            Some(2),
            vec!["head".to_owned(), "lib".to_owned()]
        )]
    );
    let by_name = |name: &str| {
        locked
            .inputs
            .iter()
            .find(|input| input.name.as_str() == name)
            .unwrap()
            .clone()
    };
    assert_eq!(by_name("head").rev.unwrap().as_str(), upstream.head());
    // The annotated tag is peeled to its commit.
    let lib = by_name("lib");
    assert_eq!(
        lib.rev.unwrap().as_str(),
        upstream.rev_parse("v1.2.0^{commit}")
    );
    assert_eq!(lib.reference.as_deref(), Some("refs/tags/v1.2.0"));
    let store = cache_root.path().join("v1").join("inputs.git");
    let repo = gix::open(&store).unwrap();
    let head = gix::ObjectId::from_hex(upstream.head().as_bytes()).unwrap();
    assert!(repo.has_object(head));
    assert!(!cache_root.path().join("git").exists());

    // Kept entries lock nothing: no step at all, and the cache is not needed.
    let old = Lockfile {
        atoms: vec![],
        nix: locked.inputs.clone(),
        follows: Vec::new(),
    };
    let again = nix::input::lock_nix_inputs(&manifest, &old, &options, &recording).unwrap();
    assert_eq!(again.inputs, locked.inputs);
    assert!(recording.take().is_empty());
}

#[test]
fn a_damaged_inputs_store_is_rebuilt_with_a_warning() {
    let (upstream, _) = upstream();
    let url = file_url(upstream.path());
    let manifest = Manifest::from_str(
        &format!(
            "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n\n[deps.direct.nix]\n\
             head = {{ git = \"{url}\", ref = \"main\" }}\n"
        ),
        "atom.toml",
    )
    .unwrap();
    let cache_root = tempfile::tempdir().unwrap();
    let cache = Cache::open(cache_root.path()).unwrap();
    let store = cache.inputs_repo().unwrap();
    fs_err::remove_file(store.path().join("HEAD")).unwrap();
    let options = nix::input::Options {
        cache: cache_root.path().to_path_buf(),
        offline: false,
        relock: nix::input::Relock::Nothing,
    };
    let locked = nix::input::lock_nix_inputs(
        &manifest,
        &Lockfile::default(),
        &options,
        &atom::progress::Silent,
    )
    .unwrap();
    assert_eq!(locked.warnings.len(), 1, "{:?}", locked.warnings);
    assert!(
        locked.warnings[0].contains("inputs.git") && locked.warnings[0].contains("rebuilt"),
        "{:?}",
        locked.warnings
    );
    assert_eq!(
        locked.inputs[0].rev.as_ref().unwrap().as_str(),
        upstream.head()
    );
}
