//! Stress tests of the lock transaction: many concurrent `eka add`s on one project, and
//! `eka add`/`eka remove` processes killed with `SIGKILL` at random moments.
//!
//! Random delays come from a seeded generator (`SplitMix64`), so a failing run can be
//! replayed with the same seed; the delay between spawn and kill *is* the test input,
//! not a synchronisation.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use eka_test_support::Transport;

use crate::{
    common::{Sandbox, isolate},
    deps::{SetFixture, project, publish_fixture},
};

/// A small, seeded pseudo-random generator (SplitMix64).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..bound`.
    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// A set holding `count` atoms `<prefix>0..` at 1.0.0, made in one commit and
/// published with the fixture helper, then pushed once.
fn many_atoms(prefix: &str, count: usize) -> SetFixture {
    let set = SetFixture::new(Transport::File);
    for n in 0..count {
        let label = format!("{prefix}{n}");
        set.repo.write(
            &format!("{label}/atom.toml"),
            format!("[package]\nlabel = \"{label}\"\nversion = \"1.0.0\"\n"),
        );
    }
    set.repo.commit("atoms");
    for n in 0..count {
        let label = format!("{prefix}{n}");
        publish_fixture(&set.repo, &label, &label, "1.0.0");
    }
    set.push();
    set
}

fn eka_command(sandbox: &Sandbox, dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eka"));
    isolate(&mut command, sandbox.dir.path());
    command.current_dir(dir);
    command
}

/// The labels of the project's atom dependencies, and of its locked atoms.
fn declared_and_locked(dir: &Path) -> (Vec<String>, Vec<String>) {
    let manifest = atom::manifest::Manifest::read(dir.join("atom.toml")).unwrap();
    let mut declared: Vec<String> = manifest
        .deps
        .from
        .values()
        .flat_map(|deps| deps.keys().map(ToString::to_string))
        .collect();
    declared.sort();
    let locked = if dir.join("atom.lock").exists() {
        let lock = atom::lock::Lockfile::read(dir.join("atom.lock")).unwrap();
        let mut locked: Vec<String> = lock.atoms.iter().map(|a| a.label.to_string()).collect();
        locked.sort();
        locked
    } else {
        Vec::new()
    };
    (declared, locked)
}

/// Temporary files `atom::fs` left in `dir` (named `.<file>.<pid>.<n>.tmp`).
fn temporaries(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.') && name.ends_with(".tmp"))
        .collect()
}

#[test]
fn two_hundred_concurrent_adds_lose_no_update() {
    const PROCESSES: usize = 8;
    const ADDS: usize = 25;
    let set = many_atoms("dep", PROCESSES * ADDS);
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    let dir = sandbox.path("app");
    sandbox.eka_in("app", &["resolve"]).success();
    let url = set.url();
    let started = Instant::now();
    let threads: Vec<_> = (0..PROCESSES)
        .map(|process| {
            let commands: Vec<(Command, String)> = (0..ADDS)
                .map(|add| {
                    let uri = format!("{url}::dep{}", process * ADDS + add);
                    (eka_command(&sandbox, &dir), uri)
                })
                .collect();
            std::thread::spawn(move || {
                for (mut command, uri) in commands {
                    let output = command.args(["add", uri.as_str()]).output().unwrap();
                    assert!(
                        output.status.success(),
                        "{uri}: {}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let elapsed = started.elapsed();
    eprintln!(
        "{} concurrent adds ({PROCESSES} processes x {ADDS}) took {elapsed:?}",
        PROCESSES * ADDS
    );

    let (declared, locked) = declared_and_locked(&dir);
    let mut expected: Vec<String> = (0..PROCESSES * ADDS).map(|n| format!("dep{n}")).collect();
    expected.sort();
    assert_eq!(declared, expected, "lost update in atom.toml");
    assert_eq!(locked, expected, "lost update in atom.lock");
    // The lock satisfies the manifest: `--locked` finds nothing to change.
    sandbox.eka_in("app", &["--locked", "resolve"]).success();
    let manifest = atom::manifest::Manifest::read(dir.join("atom.toml")).unwrap();
    let lock = atom::lock::Lockfile::read(dir.join("atom.lock")).unwrap();
    for deps in manifest.deps.from.values() {
        for (label, requirement) in deps {
            let atom = lock.atoms.iter().find(|atom| &atom.label == label).unwrap();
            assert!(requirement.matches(&atom.version), "{label}");
        }
    }
    assert!(temporaries(&dir).is_empty(), "{:?}", temporaries(&dir));
}

#[test]
fn killed_adds_and_removes_never_leave_torn_files() {
    const KILLS: usize = 100;
    const MAX_ITERATIONS: usize = 400;
    const LABELS: u64 = 8;
    // At most the temporaries of the one process killed last (`atom.toml` and
    // `atom.lock`): every lock transaction sweeps what killed writers left.
    const TEMPORARY_BOUND: usize = 2;
    let set = many_atoms("k", LABELS as usize);
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    let dir = sandbox.path("app");
    let url = set.url();
    // Warm the cache with every label, then measure one uninterrupted add and remove.
    let all: Vec<String> = (0..LABELS).map(|n| format!("{url}::k{n}")).collect();
    let mut args = vec!["add"];
    args.extend(all.iter().map(String::as_str));
    sandbox.eka_in("app", &args).success();
    let timed = Instant::now();
    sandbox.eka_in("app", &["remove", "k0"]).success();
    sandbox
        .eka_in("app", &["add", &format!("{url}::k0")])
        .success();
    let typical = timed.elapsed() / 2;
    let window = u64::try_from(typical.as_micros()).unwrap() * 5 / 4;

    let mut random = SplitMix64(0x00ec_a5ee_d0f1_2026);
    let mut kills = 0;
    let mut finished = 0;
    let mut torn_states = Vec::new();
    let mut mid_write = 0;
    let started = Instant::now();
    for iteration in 0..MAX_ITERATIONS {
        if kills >= KILLS {
            break;
        }
        let manifest_before = std::fs::read(dir.join("atom.toml")).unwrap();
        let lock_before = std::fs::read(dir.join("atom.lock")).unwrap();
        let label = format!("k{}", random.below(LABELS));
        let (declared, _) = declared_and_locked(&dir);
        let mut command = eka_command(&sandbox, &dir);
        if declared.contains(&label) {
            command.args(["remove", label.as_str()]);
        } else {
            command.args(["add", &format!("{url}::{label}")]);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(random.below(window)));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        } else {
            finished += 1;
        }
        child.wait().unwrap();

        let manifest_after = std::fs::read(dir.join("atom.toml")).unwrap();
        let lock_after = std::fs::read(dir.join("atom.lock")).unwrap();
        // Each file is whole: old bytes, or new bytes that parse.
        if manifest_after != manifest_before {
            atom::manifest::Manifest::read(dir.join("atom.toml"))
                .unwrap_or_else(|error| panic!("iteration {iteration}: torn atom.toml: {error}"));
        }
        if lock_after != lock_before {
            atom::lock::Lockfile::read(dir.join("atom.lock"))
                .unwrap_or_else(|error| panic!("iteration {iteration}: torn atom.lock: {error}"));
        }
        let (declared, locked) = declared_and_locked(&dir);
        if declared != locked {
            // A kill between the two renames: the lock is ahead of the manifest.
            torn_states.push(iteration);
        }
        let left = temporaries(&dir);
        if !left.is_empty() {
            mid_write += 1;
        }
        assert!(
            left.len() <= TEMPORARY_BOUND,
            "iteration {iteration}: temporaries accumulate: {left:?}"
        );
    }
    let cache_index = sandbox.dir.path().join("cache/eka/index");
    eprintln!(
        "{kills} kills ({mid_write} left temporaries behind), {finished} finished, \
         window {window} us, {} pairs out of step, {} cache index temporaries, {:?}",
        torn_states.len(),
        temporaries(&cache_index).len(),
        started.elapsed()
    );
    assert!(
        kills >= KILLS,
        "only {kills} processes were killed in flight"
    );
    // Whatever the last kill left, `eka resolve` repairs and the pair agrees again.
    sandbox.eka_in("app", &["resolve"]).success();
    sandbox.eka_in("app", &["--locked", "resolve"]).success();
    let (declared, locked) = declared_and_locked(&dir);
    assert_eq!(declared, locked);
    assert!(
        temporaries(&dir).is_empty(),
        "a finished transaction leaves no temporaries: {:?}",
        temporaries(&dir)
    );
}
