//! Whole outputs of every command, human and `--json`, as insta snapshots (exit code,
//! stdout and stderr in one transcript; unstable parts filtered by
//! [`crate::common::filters`]).

use eka_test_support::{Remote, TestRepo, Transport};

use crate::{
    common::{Run, Sandbox, atom_toml, snapshot},
    deps::{SetFixture, project},
};

/// The JSON document on stdout, checked to carry `"schema": 1` as its first key.
#[track_caller]
fn document(run: &Run) -> serde_json::Value {
    assert!(
        run.stdout.starts_with("{\n  \"schema\": 1,\n"),
        "{}",
        run.stdout
    );
    serde_json::from_str(&run.stdout).unwrap()
}

#[test]
fn init_and_new() {
    let sandbox = Sandbox::new();
    snapshot!("init_human", sandbox.eka(&["init", "--git"]).transcript());
    snapshot!(
        "init_refused",
        sandbox.eka(&["init"]).refused().transcript()
    );
    let run = sandbox.eka(&["--json", "init", "other"]).success();
    assert_eq!(document(&run)["created_git"], false);
    snapshot!("init_json", run.transcript());

    snapshot!(
        "new_human",
        sandbox.eka(&["new", "hello"]).success().transcript()
    );
    snapshot!(
        "new_verbose",
        sandbox
            .eka(&["-v", "new", "libs/util", "--version", "2.0.0"])
            .success()
            .transcript()
    );
    let run = sandbox
        .eka(&["--json", "new", "world", "--description", "the world"])
        .success();
    assert_eq!(document(&run)["label"], "world");
    snapshot!("new_json", run.transcript());
    snapshot!(
        "new_taken_label_refused",
        sandbox
            .eka(&["new", "again", "--label", "hello"])
            .refused()
            .transcript()
    );
}

#[test]
fn help_completions_and_usage_errors() {
    let sandbox = Sandbox::new();
    snapshot!("help", sandbox.eka(&["--help"]).success().transcript());
    snapshot!(
        "completions_bash",
        sandbox.eka(&["completions", "bash"]).success().transcript()
    );
    snapshot!(
        "usage_error",
        sandbox.eka(&["frobnicate"]).refused().transcript()
    );
}

/// Two atoms (one nested) in a fresh repository, committed.
fn two_atoms() -> TestRepo {
    let repo = TestRepo::init();
    repo.write(
        "ekala.toml",
        "[set]\npackages = [\"hello\", \"libs/util\"]\n",
    )
    .write("hello/atom.toml", atom_toml("hello", "0.1.0"))
    .write("hello/main.sh", "echo hello\n")
    .write("libs/util/atom.toml", atom_toml("util", "2.3.4"))
    .write("libs/util/lib.nix", "{ }\n");
    repo.commit("two atoms");
    repo
}

#[test]
fn publish() {
    let repo = two_atoms();
    let remote = Remote::start(Transport::File);
    let sandbox = Sandbox::new();
    let publish = |extra: &[&str]| {
        let mut args = vec!["publish", "--all", "--remote", remote.url()];
        args.extend_from_slice(extra);
        sandbox.eka_at(repo.path(), &args)
    };
    snapshot!(
        "publish_dry_run",
        publish(&["--dry-run"]).success().transcript()
    );
    let run = publish(&["--dry-run", "--json"]).success();
    let value = document(&run);
    assert_eq!(value["summary"]["would_publish"], 2);
    assert!(value["atoms"][0].get("existing").is_none(), "{value}");
    snapshot!("publish_dry_run_json", run.transcript());
    snapshot!("publish_human", publish(&[]).success().transcript());
    snapshot!(
        "publish_again_skipped",
        publish(&["-v"]).success().transcript()
    );

    // Other content under a published version: refused, with the remote's commit; the
    // unchanged atom, cut from the new commit, is the same content: skipped.
    repo.write("hello/main.sh", "echo changed\n");
    repo.commit("change hello without a bump");
    snapshot!("publish_refused", publish(&[]).refused().transcript());
    let run = publish(&["--json"]).refused();
    let value = document(&run);
    assert_eq!(value["atoms"][0]["status"], "refused");
    assert!(value["atoms"][0]["existing"].is_string(), "{value}");
    assert_eq!(value["summary"]["refused"], 1);
    assert_eq!(value["atoms"][1]["status"], "skipped");
    assert_eq!(value["summary"]["skipped"], 1);
    snapshot!("publish_refused_json", run.transcript());
}

/// A set `base` 1.0.0, 1.1.0 (then 1.2.0 once `update` runs), `tool` 0.1.0 requiring
/// `::base ^1`, and a project `app` in `sandbox`.
fn deps_fixture() -> SetFixture {
    let set = SetFixture::new(Transport::File);
    set.atom("base", "1.0.0", "description = \"the base\"\n");
    set.atom("base", "1.1.0", "description = \"the base\"\n");
    set.atom(
        "tool",
        "0.1.0",
        "[package.sets]\nhere = \"::\"\n[deps.from.here]\nbase = \"^1\"\n",
    );
    set.push();
    set
}

#[test]
fn add_resolve_update_remove_and_tree() {
    let set = deps_fixture();
    let url = set.url();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    let eka = |args: &[&str]| sandbox.eka_in("app", args);

    snapshot!(
        "add_dry_run",
        eka(&["add", "--dry-run", &format!("{url}::tool")])
            .success()
            .transcript()
    );
    let run = eka(&["--json", "add", &format!("{url}::tool@^0.1")]).success();
    let value = document(&run);
    assert_eq!(value["added"][0]["label"], "tool");
    assert_eq!(value["changes"]["added"].as_array().unwrap().len(), 2);
    snapshot!("add_json", run.transcript());
    snapshot!(
        "resolve_unchanged",
        eka(&["resolve"]).success().transcript()
    );
    snapshot!("tree_human", eka(&["tree"]).success().transcript());
    let run = eka(&["--json", "tree"]).success();
    assert_eq!(document(&run)["nodes"][1]["label"], "base");
    snapshot!("tree_json", run.transcript());

    // A newer `base`: `--locked` refuses the drift, `update` moves to it.
    set.atom("base", "1.2.0", "description = \"the base\"\n");
    set.push();
    snapshot!(
        "update_locked_drift_refused",
        eka(&["--locked", "update"]).refused().transcript()
    );
    snapshot!(
        "update_dry_run",
        eka(&["update", "--dry-run"]).success().transcript()
    );
    let run = eka(&["--json", "update", "--dry-run"]).success();
    assert_eq!(document(&run)["written"], false);
    snapshot!("update_dry_run_json", run.transcript());
    snapshot!("update_human", eka(&["update"]).success().transcript());
    snapshot!("update_unchanged", eka(&["update"]).success().transcript());

    snapshot!(
        "remove_dry_run",
        eka(&["remove", "--dry-run", "tool"]).success().transcript()
    );
    let run = eka(&["--json", "remove", "tool"]).success();
    assert_eq!(
        document(&run)["changes"]["removed"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    snapshot!("remove_json", run.transcript());
    snapshot!(
        "remove_not_a_dependency_refused",
        eka(&["remove", "tool"]).refused().transcript()
    );
    snapshot!("tree_empty", eka(&["tree"]).success().transcript());
}

#[test]
fn list_and_show() {
    let set = deps_fixture();
    let url = set.url();
    let sandbox = Sandbox::new();
    snapshot!(
        "list_human",
        sandbox.eka(&["list", &url]).success().transcript()
    );
    let run = sandbox.eka(&["--json", "list", &url]).success();
    assert_eq!(document(&run)["atoms"][0]["label"], "base");
    snapshot!("list_json", run.transcript());
    snapshot!(
        "list_verbose",
        sandbox.eka(&["-v", "list", &url]).success().transcript()
    );
    snapshot!(
        "show_human",
        sandbox
            .eka(&["show", &format!("{url}::tool")])
            .success()
            .transcript()
    );
    let run = sandbox
        .eka(&["--json", "show", &format!("{url}::base@~1.0")])
        .success();
    assert_eq!(
        document(&run)["atoms"][0]["versions"][0]["version"],
        "1.0.0"
    );
    snapshot!("show_json", run.transcript());
    snapshot!(
        "show_offline_unknown_refused",
        sandbox
            .eka(&["--offline", "show", &format!("{url}::nothing")])
            .refused()
            .transcript()
    );
}
