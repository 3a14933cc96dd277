//! The ops report their progress: `publish`, then a lock (discovery), then `verify`, each
//! through a recording reporter in place of the binary's bars. Every step begun is
//! finished, and each phase is one step.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::Path,
    sync::{Arc, Mutex},
};

use atom::progress::{Reporter, StepId};
use eka::{
    ops::{publish, resolve, verify},
    transaction,
};
use eka_test_support::{Remote, TestRepo, Transport};

/// One step as the recorder saw it: its verb, total and the items advanced.
type Seen = (String, Option<u64>, Vec<String>);

/// Records every step; checks the calls are well formed as they come.
#[derive(Debug, Default)]
struct Recorder {
    /// Per step, in the order they began: id, what was seen, whether finished.
    steps: Mutex<Vec<(StepId, Seen, bool)>>,
}

impl Recorder {
    fn with_open<R>(&self, id: StepId, action: impl FnOnce(&mut Seen, &mut bool) -> R) -> R {
        let mut steps = self.steps.lock().unwrap();
        let (_, seen, finished) = steps
            .iter_mut()
            .find(|(known, _, _)| *known == id)
            .unwrap_or_else(|| panic!("step {id:?} never began"));
        assert!(!*finished, "step {id:?} used after it finished: {seen:?}");
        action(seen, finished)
    }

    /// Every step, in the order they began; panics if one was left open.
    fn take(&self) -> Vec<Seen> {
        let steps = std::mem::take(&mut *self.steps.lock().unwrap());
        steps
            .into_iter()
            .map(|(id, seen, finished)| {
                assert!(finished, "step {id:?} left open: {seen:?}");
                seen
            })
            .collect()
    }
}

impl Reporter for Recorder {
    fn begin(&self, id: StepId, verb: &str, total: Option<u64>) {
        let mut steps = self.steps.lock().unwrap();
        assert!(
            steps.iter().all(|(known, _, _)| *known != id),
            "{id:?} reused"
        );
        steps.push((id, (verb.to_owned(), total, Vec::new()), false));
    }

    fn advance(&self, id: StepId, item: &str) {
        self.with_open(id, |(_, total, items), _| {
            items.push(item.to_owned());
            if let Some(total) = total {
                assert!(items.len() as u64 <= *total, "past its total: {items:?}");
            }
        });
    }

    fn finish(&self, id: StepId) {
        self.with_open(id, |_, finished| *finished = true);
    }
}

fn seen(verb: &str, total: Option<u64>, items: &[&str]) -> Seen {
    (
        verb.to_owned(),
        total,
        items.iter().map(|item| (*item).to_owned()).collect(),
    )
}

/// A set holding one atom `hello` 1.0.0, and an empty remote allowing tree-less fetches.
fn set_and_remote() -> (TestRepo, Remote) {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"hello\"]\n")
        .write(
            "hello/atom.toml",
            "[package]\nlabel = \"hello\"\nversion = \"1.0.0\"\n",
        )
        .write("hello/data.txt", "hello\n");
    repo.commit("hello");
    let remote = Remote::start(Transport::File);
    remote
        .repo()
        .run(["config", "uploadpack.allowFilter", "true"]);
    (repo, remote)
}

fn write_project(dir: &Path, url: &str) {
    std::fs::write(
        dir.join("atom.toml"),
        format!(
            "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n\
             [package.sets]\nremote = \"{url}\"\n[deps.from.remote]\nhello = \"^1\"\n"
        ),
    )
    .unwrap();
}

#[test]
fn publish_lock_and_verify_report_one_step_per_phase_and_finish_them_all() {
    let (set, remote) = set_and_remote();
    let recorder = Arc::new(Recorder::default());

    let published = publish::run(&publish::Options {
        cwd: set.path().to_path_buf(),
        paths: Vec::new(),
        all: true,
        remote: Some(remote.url().to_owned()),
        revision: "HEAD".to_owned(),
        dry_run: false,
        keep_going: false,
        signer: None,
        reporter: recorder.clone(),
    })
    .unwrap();
    assert_eq!(published.count("published"), 1);
    assert_eq!(
        recorder.take(),
        [
            seen("Hashing", Some(1), &["hello"]),
            seen("Publishing", Some(1), &["hello"]),
            seen("Pushing", None, &[]),
        ]
    );

    let project = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    write_project(project.path(), remote.url());
    let locked = resolve::run(&transaction::Options {
        dir: project.path().to_path_buf(),
        cache: cache.path().to_path_buf(),
        offline: false,
        locked: false,
        dry_run: false,
        reporter: recorder.clone(),
        mirrors: Default::default(),
        trust: Default::default(),
    })
    .unwrap();
    assert!(locked.written);
    assert_eq!(
        recorder.take(),
        [
            seen("Resolving", None, &["hello"]),
            seen("Listing", Some(1), &[remote.url()]),
            // The atom commit and its manifest, without the tree.
            seen("Fetching", Some(2), &["hello", "hello"]),
            seen("Solving", None, &[]),
            seen("Pinning", Some(1), &["hello"]),
            // The tree of the atom the lock adds, to check it before writing the lock.
            seen("Fetching", Some(1), &[remote.url()]),
        ]
    );

    // Locking fetched the tree into `cache`: verify needs no fetch there.
    let mut options =
        verify::Options::new(project.path().to_path_buf(), cache.path().to_path_buf());
    options.reporter = recorder.clone();
    let verdict = verify::verify(&options).unwrap();
    assert!(verdict.is_ok(), "{verdict:?}");
    assert_eq!(
        recorder.take(),
        [
            seen("Listing", Some(1), &[remote.url()]),
            seen("Verifying", Some(1), &["hello"]),
        ]
    );
    // With another cache, verify fetches the commit in full.
    let other_cache = tempfile::tempdir().unwrap();
    let mut options = verify::Options::new(
        project.path().to_path_buf(),
        other_cache.path().to_path_buf(),
    );
    options.reporter = recorder.clone();
    let verdict = verify::verify(&options).unwrap();
    assert!(verdict.is_ok(), "{verdict:?}");
    assert_eq!(
        recorder.take(),
        [
            seen("Listing", Some(1), &[remote.url()]),
            seen("Fetching", Some(1), &[remote.url()]),
            seen("Verifying", Some(1), &["hello"]),
        ]
    );
}

#[test]
fn a_failed_publish_finishes_the_steps_it_began() {
    let (set, _remote) = set_and_remote();
    let missing = tempfile::tempdir().unwrap();
    let recorder = Arc::new(Recorder::default());
    let error = publish::run(&publish::Options {
        cwd: set.path().to_path_buf(),
        paths: Vec::new(),
        all: true,
        remote: Some(format!("file://{}/nothing.git", missing.path().display())),
        revision: "HEAD".to_owned(),
        dry_run: false,
        keep_going: false,
        signer: None,
        reporter: recorder.clone(),
    })
    .unwrap_err();
    assert!(matches!(error, publish::Error::List(_)), "{error:?}");
    assert_eq!(
        recorder.take(),
        [
            seen("Hashing", Some(1), &["hello"]),
            seen("Publishing", Some(1), &["hello"]),
        ]
    );
}
