//! Errors through the binary: the exit code comes from the error's kind, each cause is
//! printed once, and a hint has its own line.

use std::process::Command;

use crate::common::{Run, Sandbox};

/// The OS's words for reading a directory as a file (`EISDIR`).
const IS_A_DIRECTORY: &str = "Is a directory";

fn run(mut command: Command, args: &[&str]) -> Run {
    let output = command.args(args).output().unwrap();
    Run::from_output(output)
}

#[test]
fn an_unreadable_manifest_names_the_file_and_its_cause_once() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path("app/atom.toml")).unwrap();
    let tree = sandbox.eka_in("app", &["tree"]).refused();
    assert_eq!(
        tree.stderr.matches(IS_A_DIRECTORY).count(),
        1,
        "{}",
        tree.stderr
    );
    let error_line = tree
        .stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{}", tree.stderr));
    assert!(error_line.contains("app/atom.toml"), "{}", tree.stderr);
    assert!(error_line.contains(IS_A_DIRECTORY), "{}", tree.stderr);
    assert!(!tree.stderr.contains("caused by"), "{}", tree.stderr);
}

#[test]
fn an_unreadable_configuration_is_the_environment_with_a_hint() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "app/atom.toml",
        "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n",
    );
    let config = sandbox.dir.path().join("config-dir");
    std::fs::create_dir_all(&config).unwrap();
    let mut command = sandbox.command();
    command
        .current_dir(sandbox.path("app"))
        .env("EKA_CONFIG", &config);
    let resolve = run(command, &["resolve"]);
    assert_eq!(resolve.code, 2, "{}", resolve.stderr);
    assert_eq!(
        resolve.stderr.matches(IS_A_DIRECTORY).count(),
        1,
        "{}",
        resolve.stderr
    );
    assert!(
        resolve.stderr.contains(&*config.to_string_lossy()),
        "{}",
        resolve.stderr
    );
    let hints: Vec<&str> = resolve
        .stderr
        .lines()
        .filter(|line| line.starts_with("hint: "))
        .collect();
    assert_eq!(
        hints,
        ["hint: check the path, or unset `EKA_CONFIG`"],
        "{}",
        resolve.stderr
    );
}

#[test]
fn a_refusal_exits_1_with_its_hint_on_its_own_line() {
    let sandbox = Sandbox::new();
    let new = sandbox.eka(&["new", "pkg"]).refused();
    let lines: Vec<&str> = new.stderr.lines().collect();
    assert!(
        lines[0].starts_with("error: ") && lines[0].contains("is not inside a set"),
        "{}",
        new.stderr
    );
    assert_eq!(
        lines[1..],
        ["hint: run `eka init` at the root of your repository first"],
        "{}",
        new.stderr
    );
}
