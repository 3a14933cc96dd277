//! Every malformed file in `fixtures/bad/` is refused with an error naming the file,
//! the line and the problem.
//!
//! Each fixture `NAME.toml` (or directory `NAME/`, a whole set) has a sibling
//! `NAME.expected` with `line: N`, `message: SUBSTRING` and, for directories, `file:
//! PATH` (the file inside the set the error must point into). The parser is chosen by
//! the name's prefix: `manifest-`, `set-` or `lock-`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use atom::{
    lock::Lockfile,
    manifest::Manifest,
    set::{Set, SetManifest, WorkTree},
};

struct Expected {
    file: Option<String>,
    line: usize,
    message: String,
}

fn expected(path: &Path) -> Expected {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut expected = Expected {
        file: None,
        line: 0,
        message: String::new(),
    };
    for line in text.lines() {
        let (key, value) = line
            .split_once(": ")
            .unwrap_or((line.trim_end_matches(':'), ""));
        match key {
            "file" => expected.file = Some(value.to_owned()),
            "line" => expected.line = value.parse().unwrap(),
            "message" => expected.message = value.to_owned(),
            other => panic!("{}: unknown key {other:?}", path.display()),
        }
    }
    assert!(expected.line > 0, "{}: no line", path.display());
    expected
}

fn bad_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bad")
}

fn error_for(fixture: &Path, name: &str) -> String {
    let text = || std::fs::read_to_string(fixture).unwrap();
    let result = if fixture.is_dir() {
        Set::load(&WorkTree {
            root: fixture.to_path_buf(),
        })
        .map(drop)
        .map_err(|e| e.to_string())
    } else if name.starts_with("manifest-") {
        Manifest::from_str(&text(), fixture)
            .map(drop)
            .map_err(|e| e.to_string())
    } else if name.starts_with("set-") {
        SetManifest::from_str(&text(), fixture)
            .map(drop)
            .map_err(|e| e.to_string())
    } else if name.starts_with("lock-") {
        Lockfile::from_str(&text(), fixture)
            .map(drop)
            .map_err(|e| e.to_string())
    } else {
        panic!("{name}: the name says neither manifest, set nor lock")
    };
    match result {
        Ok(()) => panic!("{}: accepted", fixture.display()),
        Err(message) => message,
    }
}

#[test]
fn every_bad_fixture_is_refused_with_its_location() {
    let root = bad_fixtures();
    let mut checked = 0;
    let mut failures = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_none_or(|ext| ext != "expected"))
        .collect();
    entries.sort();
    for fixture in entries {
        let name = fixture.file_stem().unwrap().to_string_lossy().into_owned();
        if name.starts_with("config-") {
            // `eka.toml` fixtures are checked through the binary (tests/e2e/corpus.rs).
            continue;
        }
        let expected = expected(&root.join(format!("{name}.expected")));
        let message = error_for(&fixture, &name);
        let file = match &expected.file {
            Some(inside) => fixture.join(inside),
            None => fixture.clone(),
        };
        let prefix = format!("{}:{}:", file.display(), expected.line);
        if !message.starts_with(&prefix) || !message.contains(&expected.message) {
            failures.push(format!(
                "{name}: expected `{prefix}` and {:?}, got:\n{message}\n",
                expected.message
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 50, "only {checked} bad fixtures");
}

#[test]
fn every_expectation_has_a_fixture() {
    let root = bad_fixtures();
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "expected") {
            let stem = path.with_extension("");
            assert!(
                stem.is_dir() || stem.with_extension("toml").is_file(),
                "{} has no fixture",
                path.display()
            );
        }
    }
}
