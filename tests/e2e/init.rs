//! `eka init`, global flags and exit codes.

use crate::common::{Sandbox, snapshot};

#[test]
fn init_writes_a_set_and_refuses_a_second_time() {
    let sandbox = Sandbox::new();
    // Status on stderr, nothing on stdout.
    let run = sandbox.eka(&["init", "registry"]).success();
    snapshot!("init_created", run.transcript());
    let set = sandbox.read("registry/ekala.toml");
    assert!(
        set.contains("[set]") && set.contains("packages = []"),
        "{set}"
    );

    sandbox.write("registry/ekala.toml", "# keep me\n[set]\npackages = []\n");
    // A refusal carries a hint.
    let run = sandbox.eka(&["init", "registry"]).refused();
    snapshot!("init_refused_a_second_time", run.transcript());
    assert_eq!(
        sandbox.read("registry/ekala.toml"),
        "# keep me\n[set]\npackages = []\n"
    );
}

#[test]
fn init_git_creates_a_repository_and_honours_dash_c() {
    let sandbox = Sandbox::new();
    std::fs::create_dir_all(sandbox.path("outer/inner")).unwrap();
    sandbox
        .eka(&["-C", "outer/inner", "init", "--git"])
        .success();
    assert!(sandbox.path("outer/inner/.git").is_dir());
    assert!(sandbox.path("outer/inner/ekala.toml").is_file());
}

#[test]
fn dash_c_to_a_missing_directory_is_refused() {
    let sandbox = Sandbox::new();
    let run = sandbox.eka(&["-C", "nowhere", "init"]).refused();
    snapshot!("dash_c_missing_directory", run.transcript());
}

#[test]
fn quiet_silences_status_and_colour_is_off_without_a_terminal() {
    let sandbox = Sandbox::new();
    let run = sandbox.eka(&["-q", "init", "a"]).success();
    assert_eq!(run.stderr, "");
    let run = sandbox.eka(&["init", "b"]).success();
    assert!(
        !run.stderr.contains('\u{1b}'),
        "no escape codes when not a terminal: {:?}",
        run.stderr
    );
    let run = sandbox.eka(&["--color", "always", "init", "c"]).success();
    assert!(
        run.stderr.contains('\u{1b}'),
        "--color always forces colour: {:?}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_1_and_help_exits_0() {
    let sandbox = Sandbox::new();
    let run = sandbox.eka(&["frobnicate"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = sandbox.eka(&["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("init"));
}

#[test]
fn completions_print_a_script() {
    let sandbox = Sandbox::new();
    let run = sandbox.eka(&["completions", "bash"]).success();
    assert!(
        run.stdout.contains("_eka"),
        "{}",
        &run.stdout[..run.stdout.len().min(200)]
    );
}
