//! An `atom.lock` that cannot be read is an error for every command that reads it,
//! naming the file (and the line where there is one); it is never treated as missing,
//! discarded or written over.

use eka_test_support::Transport;

use crate::{
    common::{Run, Sandbox},
    deps::{SetFixture, project},
};

/// A project with `a` 1.0.0 locked from a published set.
fn locked_project() -> (SetFixture, Sandbox) {
    let set = SetFixture::new(Transport::File);
    set.atom("a", "1.0.0", "");
    set.push();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox
        .eka_in("app", &["add", &format!("{}::a", set.url())])
        .success();
    (set, sandbox)
}

/// Every command reading the lock, against the damaged lock `bytes`: exit 1 naming
/// `atom.lock` (and `line` when given), the file byte-identical afterwards.
#[track_caller]
fn assert_refused_by_every_command(
    sandbox: &Sandbox,
    set: &SetFixture,
    bytes: &[u8],
    line: Option<usize>,
) {
    let lock = sandbox.path("app/atom.lock");
    std::fs::write(&lock, bytes).unwrap();
    let add = format!("{}::a", set.url());
    let commands: [&[&str]; 5] = [
        &["resolve"],
        &["update"],
        &["add", &add],
        &["tree"],
        &["verify"],
    ];
    for args in commands {
        let run: Run = sandbox.eka_in("app", args);
        assert_eq!(
            run.code, 1,
            "{args:?}: expected exit 1\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        );
        assert!(run.stderr.contains("atom.lock"), "{args:?}: {}", run.stderr);
        if let Some(line) = line {
            assert!(
                run.stderr.contains(&format!("atom.lock:{line}:")),
                "{args:?}: no line {line}: {}",
                run.stderr
            );
        }
        assert_eq!(
            std::fs::read(&lock).unwrap(),
            bytes,
            "{args:?} changed the lock"
        );
    }
}

#[test]
fn a_lock_with_invalid_utf8_is_refused_by_every_command_and_kept() {
    let (set, sandbox) = locked_project();
    let mut bytes = std::fs::read(sandbox.path("app/atom.lock")).unwrap();
    let position = bytes.iter().position(|byte| *byte == b'\n').unwrap() + 1;
    bytes.insert(position, 0xFF);
    assert_refused_by_every_command(&sandbox, &set, &bytes, Some(2));
}

#[test]
fn a_lock_that_is_not_toml_is_refused_by_every_command_and_kept() {
    let (set, sandbox) = locked_project();
    let mut text = sandbox.read("app/atom.lock");
    text.push_str("[[atoms]\nthis is not toml\n");
    let line = text.lines().count() - 1;
    assert_refused_by_every_command(&sandbox, &set, text.as_bytes(), Some(line));
}

#[test]
fn a_lock_of_an_unknown_version_is_refused_by_every_command_and_kept() {
    let (set, sandbox) = locked_project();
    let text = sandbox.read("app/atom.lock");
    assert!(text.contains("version = 1"), "{text}");
    let text = text.replacen("version = 1", "version = 99", 1);
    let line = text
        .lines()
        .position(|line| line.starts_with("version = 99"))
        .unwrap()
        + 1;
    assert_refused_by_every_command(&sandbox, &set, text.as_bytes(), Some(line));
}
