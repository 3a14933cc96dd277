//! Progress bars: never on a stderr that is not a terminal, nor with `-q` or `--json`;
//! drawn on a terminal (a pseudo-terminal made by util-linux `script`, when present).

use std::process::Command;

use eka_test_support::Transport;

use crate::{
    common::{Run, Sandbox, isolate},
    deps::{SetFixture, project},
};

/// The verbs the libraries' steps use; none may appear on a non-terminal stderr.
const STEP_VERBS: [&str; 8] = [
    "Resolving",
    "Solving",
    "Pinning",
    "Listing",
    "Fetching",
    "Hashing",
    "Pushing",
    "Verifying",
];

#[track_caller]
fn assert_no_progress(run: &Run) {
    for verb in STEP_VERBS {
        assert!(!run.stderr.contains(verb), "{verb} shown:\n{}", run.stderr);
    }
    assert!(
        !run.stderr.contains(['\r', '\u{1b}']),
        "terminal control characters on stderr: {:?}",
        run.stderr
    );
}

fn published_set() -> SetFixture {
    let set = SetFixture::new(Transport::File);
    set.atom("a", "1.0.0", "");
    set.atom("b", "1.0.0", "");
    set.push();
    set
}

#[test]
fn a_stderr_that_is_not_a_terminal_shows_no_progress() {
    let set = published_set();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    // A cold cache: discovery lists and fetches, the lock resolves.
    let add = sandbox
        .eka_in("app", &["add", &format!("{}::a@^1", set.url())])
        .success();
    assert_no_progress(&add);
    assert!(add.stderr.contains("Locking"), "{}", add.stderr);
    assert_no_progress(&sandbox.eka(&["list", &set.url()]).success());
    assert_no_progress(&sandbox.eka_in("app", &["verify"]).success());
}

/// Whether util-linux `script` can give a command a pseudo-terminal here.
fn script_works() -> bool {
    Command::new("script")
        .args(["-qec", "true", "/dev/null"])
        .output()
        .is_ok_and(|output| output.status.success())
}

/// Run eka under a pseudo-terminal; its stdout and stderr both come back on stdout.
fn eka_on_a_terminal(sandbox: &Sandbox, args: &[&str]) -> String {
    let mut line = format!("'{}'", env!("CARGO_BIN_EXE_eka"));
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    let mut command = Command::new("script");
    command
        .args(["-qec", &line, "/dev/null"])
        .current_dir(sandbox.work());
    isolate(&mut command, sandbox.dir.path());
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{text}");
    text
}

#[test]
fn a_terminal_shows_bars_unless_quiet_or_json() {
    if !script_works() {
        eprintln!("skipped: util-linux `script` is not available");
        return;
    }
    let set = published_set();
    let url = set.url();
    let sandbox = Sandbox::new();

    // The cache is cold: listing the set lists its mirror and fetches its objects.
    let shown = eka_on_a_terminal(&sandbox, &["list", &url]);
    assert!(shown.contains("Listing"), "{shown:?}");
    assert!(shown.contains("Fetching"), "{shown:?}");
    assert!(shown.contains("a 1.0.0"), "{shown:?}");

    for args in [["-q", "list", &url], ["list", "--json", &url]] {
        let hidden = eka_on_a_terminal(&sandbox, &args);
        assert!(
            STEP_VERBS.iter().all(|verb| !hidden.contains(verb)),
            "{args:?}: {hidden:?}"
        );
        assert!(hidden.contains("1.0.0"), "{args:?}: {hidden:?}");
    }
}
