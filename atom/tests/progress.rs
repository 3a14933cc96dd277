//! Progress reported by discovery: a step per phase, every step finished, also when the
//! run fails. A recording reporter stands in for the binary's bars.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;

use atom::{
    Label,
    progress::{Reporter, Step, StepId},
    store::{
        AtomCommit, RefUpdate,
        fetch::{self, Cache, discover},
        push_refs, refs,
    },
    uri::parse_set_url,
};
use eka_test_support::{Remote, TestRepo, Transport};
use gix::ObjectId;
use semver::Version;

/// One call a library made on its reporter.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Begin(StepId, String, Option<u64>),
    Advance(StepId, String),
    Finish(StepId),
}

/// Records every call, in order.
#[derive(Debug, Default)]
struct Recorder {
    events: Mutex<Vec<Event>>,
}

impl Reporter for Recorder {
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

/// One step as the recorder saw it.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    verb: String,
    total: Option<u64>,
    items: Vec<String>,
}

impl Recorder {
    fn push(&self, event: Event) {
        self.events.lock().unwrap().push(event);
    }

    /// The steps in the order they began; panics unless every step began once, was
    /// advanced only while open, never past its total, and finished exactly once.
    fn steps(&self) -> Vec<Seen> {
        let events = self.events.lock().unwrap().clone();
        let mut open: Vec<(StepId, Seen)> = Vec::new();
        let mut done: Vec<(usize, Seen)> = Vec::new();
        let mut order = Vec::new();
        for event in &events {
            match event {
                Event::Begin(id, verb, total) => {
                    assert!(!order.contains(id), "step {id:?} began twice: {events:?}");
                    order.push(*id);
                    open.push((
                        *id,
                        Seen {
                            verb: verb.clone(),
                            total: *total,
                            items: Vec::new(),
                        },
                    ));
                }
                Event::Advance(id, item) => {
                    let (_, seen) = open
                        .iter_mut()
                        .find(|(open_id, _)| open_id == id)
                        .unwrap_or_else(|| panic!("advance of a closed step: {events:?}"));
                    seen.items.push(item.clone());
                    if let Some(total) = seen.total {
                        assert!(
                            seen.items.len() as u64 <= total,
                            "past its total: {events:?}"
                        );
                    }
                }
                Event::Finish(id) => {
                    let index = open
                        .iter()
                        .position(|(open_id, _)| open_id == id)
                        .unwrap_or_else(|| panic!("finish of a closed step: {events:?}"));
                    let (id, seen) = open.remove(index);
                    let began = order.iter().position(|known| *known == id).unwrap();
                    done.push((began, seen));
                }
            }
        }
        assert!(open.is_empty(), "steps left open: {open:?}");
        done.sort_by_key(|(began, _)| *began);
        done.into_iter().map(|(_, seen)| seen).collect()
    }
}

/// A remote publishing `hello` 1.0.0 (commit and manifest refs).
fn published_remote() -> Remote {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"hello\"]\n");
    let root = repo.commit("init");
    repo.write(
        "hello/atom.toml",
        "[package]\nlabel = \"hello\"\nversion = \"1.0.0\"\n",
    );
    let origin = repo.commit("add hello");
    let id = |hex: &str| ObjectId::from_hex(hex.trim().as_bytes()).unwrap();
    let version = Version::new(1, 0, 0);
    let atom = AtomCommit::new(
        id(&repo.rev_parse("HEAD:hello")),
        id(&root),
        "hello",
        &version,
        id(&origin),
        "hello",
        "blake3:0123abcd",
    )
    .unwrap();
    let git = gix::open_opts(repo.path(), gix::open::Options::isolated()).unwrap();
    let atom_id = atom.write(&git).unwrap();
    let label = Label::parse("hello").unwrap();
    let remote = Remote::start(Transport::File);
    let updates = [
        (refs::atom_ref(&label, &version), atom_id),
        (
            refs::manifest_ref(&label, &version),
            id(&repo.rev_parse("HEAD:hello/atom.toml")),
        ),
    ]
    .map(|(name, new_id)| RefUpdate {
        name,
        new_id,
        expected_old: None,
    });
    assert!(
        push_refs(repo.path(), remote.url(), &updates)
            .unwrap()
            .is_success()
    );
    remote
}

fn seen(verb: &str, total: Option<u64>, items: &[&str]) -> Seen {
    Seen {
        verb: verb.to_owned(),
        total,
        items: items.iter().map(|item| (*item).to_owned()).collect(),
    }
}

#[test]
fn a_cold_discovery_lists_then_fetches_and_finishes_both_steps() {
    let remote = published_remote();
    let url = parse_set_url(remote.url()).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(cache_dir.path()).unwrap();
    let hello = Label::parse("hello").unwrap();

    let cold = Recorder::default();
    let found = discover(
        &cache,
        std::slice::from_ref(&url),
        std::slice::from_ref(&hello),
        false,
        &cold,
    )
    .unwrap();
    assert_eq!(found.atoms[&hello].len(), 1);
    assert_eq!(
        cold.steps(),
        [
            seen("Listing", Some(1), &[remote.url()]),
            // The atom commit and its manifest blob.
            seen("Fetching", Some(2), &["hello", "hello"]),
        ]
    );

    // Warm: the objects are cached, only the listing is asked for.
    let warm = Recorder::default();
    discover(&cache, &[url], &[hello], false, &warm).unwrap();
    assert_eq!(warm.steps(), [seen("Listing", Some(1), &[remote.url()])]);
}

#[test]
fn a_failed_discovery_still_finishes_the_steps_it_began() {
    let missing = tempfile::tempdir().unwrap();
    let url = parse_set_url(&format!("file://{}/nothing.git", missing.path().display())).unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(cache_dir.path()).unwrap();
    let hello = Label::parse("hello").unwrap();

    let recorder = Recorder::default();
    let error = discover(
        &cache,
        std::slice::from_ref(&url),
        &[hello],
        false,
        &recorder,
    )
    .unwrap_err();
    assert!(matches!(error, fetch::Error::NotFound { .. }), "{error:?}");
    assert_eq!(
        recorder.steps(),
        [seen("Listing", Some(1), &[url.as_str()])]
    );
}

#[test]
fn a_step_finishes_when_an_early_return_drops_it() {
    fn first_even(numbers: &[u32], reporter: &dyn Reporter) -> Option<u32> {
        let step = Step::begin(reporter, "Scanning", Some(numbers.len() as u64));
        for number in numbers {
            if number % 2 == 0 {
                return Some(*number);
            }
            step.advance(&number.to_string());
        }
        None
    }
    let recorder = Recorder::default();
    assert_eq!(first_even(&[1, 3, 4, 5], &recorder), Some(4));
    assert_eq!(recorder.steps(), [seen("Scanning", Some(4), &["1", "3"])]);
}

#[test]
fn a_shared_reporter_reports_through_the_one_it_shares() {
    let recorder = std::sync::Arc::new(Recorder::default());
    let shared: std::sync::Arc<dyn Reporter> = recorder.clone();
    {
        let step = Step::begin(&shared, "Sharing", None);
        step.advance("one");
    }
    assert_eq!(recorder.steps(), [seen("Sharing", None, &["one"])]);
}
