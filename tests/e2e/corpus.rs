//! Every malformed file in `fixtures/bad/` is refused by the real binary with exit 1 and a
//! message that starts with the file's path and line (`path:line:column: …`).
//!
//! The library-level corpus test (`atom/tests/corpus.rs`) checks the parsers; this one
//! checks that each kind of file reaches the user the same way through a command that
//! reads it: `atom.toml` and `eka.toml` through `eka resolve`, `ekala.toml` through
//! `eka new`, `atom.lock` through `eka tree`.

use std::path::{Path, PathBuf};

use crate::common::Sandbox;

const GOOD_MANIFEST: &str = "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n";

struct Expected {
    file: Option<String>,
    line: usize,
    message: String,
}

fn expected(path: &Path) -> Expected {
    let text = std::fs::read_to_string(path).unwrap();
    let mut expected = Expected {
        file: None,
        line: 0,
        message: String::new(),
    };
    for line in text.lines() {
        let (key, value) = line.split_once(": ").unwrap();
        match key {
            "file" => expected.file = Some(value.to_owned()),
            "line" => expected.line = value.parse().unwrap(),
            "message" => expected.message = value.to_owned(),
            other => panic!("{}: unknown key {other}", path.display()),
        }
    }
    expected
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Place `fixture` where its command reads it; returns (the file the error must name,
/// the arguments to run in `work/project`).
fn stage(sandbox: &Sandbox, fixture: &Path, name: &str) -> (PathBuf, Vec<&'static str>) {
    let project = sandbox.path("project");
    std::fs::create_dir_all(&project).unwrap();
    let place = |file: &str| {
        let target = project.join(file);
        std::fs::copy(fixture, &target).unwrap();
        target
    };
    if fixture.is_dir() {
        copy_dir(fixture, &project);
        (project.join("ekala.toml"), vec!["new", "brand-new"])
    } else if name.starts_with("manifest-") {
        (place("atom.toml"), vec!["--offline", "resolve"])
    } else if name.starts_with("set-") {
        (place("ekala.toml"), vec!["new", "brand-new"])
    } else if name.starts_with("lock-") {
        sandbox.write("project/atom.toml", GOOD_MANIFEST);
        (place("atom.lock"), vec!["tree"])
    } else if name.starts_with("config-") {
        sandbox.write("project/atom.toml", GOOD_MANIFEST);
        (place("eka.toml"), vec!["--offline", "resolve"])
    } else {
        panic!("{name}: unknown fixture kind")
    }
}

#[test]
fn every_bad_fixture_is_refused_by_the_binary_with_its_location() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bad");
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_none_or(|ext| ext != "expected"))
        .collect();
    fixtures.sort();
    let mut failures = Vec::new();
    for fixture in &fixtures {
        let name = fixture.file_stem().unwrap().to_string_lossy().into_owned();
        let expected = expected(&root.join(format!("{name}.expected")));
        let sandbox = Sandbox::new();
        let (mut file, args) = stage(&sandbox, fixture, &name);
        if let Some(inside) = &expected.file {
            file = sandbox.path("project").join(inside);
        }
        let run = sandbox.eka_in("project", &args);
        let prefix = format!("error: {}:{}:", file.display(), expected.line);
        if run.code != 1 || !run.stderr.contains(&prefix) || !run.stderr.contains(&expected.message)
        {
            failures.push(format!(
                "{name}: expected exit 1, `{prefix}` and {:?}; got exit {}:\n{}",
                expected.message, run.code, run.stderr
            ));
        }
    }
    assert!(fixtures.len() >= 50, "only {} bad fixtures", fixtures.len());
    assert!(
        failures.is_empty(),
        "{} of {} fixtures:\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n")
    );
}
