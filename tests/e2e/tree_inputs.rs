//! `eka tree` shows every atom's own Nix inputs, read from the `atom.lock` in its
//! checked tree: a set served over HTTP (lighttpd on loopback) publishes `tool` 1.0.0,
//! which pins its own Nix input `helper` at commit A, and `base` 1.0.0 without inputs;
//! the consumer pins `helper` at commit B. The tree shows `tool`'s pin, then `-> follows
//! helper` once the consumer follows it; with `--offline` and an empty cache the inputs
//! are marked unknown; a published `atom.lock` that is not a lockfile is an error naming
//! the atom and the file.

use std::path::Path;

use eka_test_support::Transport;

use crate::{
    common::{Run, Sandbox, snapshot},
    deps::{SetFixture, publish_fixture},
    follows::{eka, helper},
    nix::{Nix, file_url},
};

/// The consumer `app` requiring `tool` and `base` from `set_url`, with its own `helper`
/// at branch `main` and `follows` appended.
fn consumer_manifest(set_url: &str, helper_url: &str, follows: &str) -> String {
    format!(
        "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n\n\
         [package.sets]\ns = \"{set_url}\"\n\n[deps.from.s]\nbase = \"^1\"\ntool = \"^1\"\n\n\
         [deps.direct.nix]\nhelper = {{ git = \"{helper_url}\", ref = \"refs/heads/main\" }}\n\
         {follows}"
    )
}

/// A set over HTTP publishing `base` 1.0.0 and `tool` 1.0.0, whose `atom.lock` (written
/// by the real `eka resolve`) pins `helper` at branch `old` of `helper_url`.
fn set_with_tool(sandbox: &Sandbox, nix: &Nix, helper_url: &str) -> SetFixture {
    let set = SetFixture::new(Transport::Http);
    set.atom("base", "1.0.0", "");
    set.repo.write(
        "tool/atom.toml",
        format!(
            "[package]\nlabel = \"tool\"\nversion = \"1.0.0\"\n\n\
             [deps.direct.nix]\nhelper = {{ git = \"{helper_url}\", ref = \"refs/heads/old\" }}\n"
        ),
    );
    eka(sandbox, nix, &set.repo.path().join("tool"), &["resolve"]).success();
    assert!(set.repo.path().join("tool/atom.lock").is_file());
    set.repo.commit("tool");
    publish_fixture(&set.repo, "tool", "tool", "1.0.0");
    set.push();
    set
}

/// The run's transcript with `helper`'s commits and short commits named.
fn stable(run: &Run, old: &str, main: &str) -> String {
    run.transcript()
        .replace(old, "[old]")
        .replace(main, "[main]")
        .replace(&old[..12], "[old12]")
        .replace(&main[..12], "[main12]")
}

#[test]
fn tree_shows_each_atoms_own_inputs_and_the_follows_of_the_root() {
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let helper = helper();
    let helper_url = file_url(helper.path());
    let (old, main) = (helper.rev_parse("old"), helper.rev_parse("main"));
    let (old, main) = (old.trim(), main.trim());
    let set = set_with_tool(&sandbox, &nix, &helper_url);
    let app = sandbox.path("app");
    let write = |follows: &str| {
        sandbox.write(
            "app/atom.toml",
            &consumer_manifest(&set.url(), &helper_url, follows),
        )
    };
    write("");
    eka(&sandbox, &nix, &app, &["resolve"]).success();

    // `tool` shows its own pin (commit A), the project its own (commit B).
    let human = eka(&sandbox, &nix, &app, &["tree"]).success();
    assert!(
        human.stdout.contains(&format!(
            "    tool 1.0.0\n        nix:helper git {}\n",
            &old[..12]
        )),
        "{}",
        human.stdout
    );
    snapshot!("tree_inputs_own", stable(&human, old, main));
    let json = eka(&sandbox, &nix, &app, &["--json", "tree"]).success();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let tool = &value["nodes"][1];
    assert_eq!(tool["label"], "tool");
    assert_eq!(tool["nix"][0]["rev"], old);
    assert!(tool["nix"][0].get("follows").is_none(), "{value}");
    assert!(value["nodes"][0].get("nix").is_none(), "{value}");
    snapshot!("tree_inputs_own_json", stable(&json, old, main));

    // The consumer follows: `tool`'s `helper` is the project's.
    write("\n[deps.follows]\n\"tool.helper\" = \"helper\"\n");
    eka(&sandbox, &nix, &app, &["resolve"]).success();
    let human = eka(&sandbox, &nix, &app, &["tree"]).success();
    assert!(
        human
            .stdout
            .contains("    tool 1.0.0\n        nix:helper git -> follows helper\n"),
        "{}",
        human.stdout
    );
    snapshot!("tree_inputs_follows", stable(&human, old, main));
    let json = eka(&sandbox, &nix, &app, &["--json", "tree"]).success();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["nodes"][1]["nix"][0]["follows"], "helper");
    assert_eq!(value["nodes"][1]["nix"][0]["rev"], main);
    snapshot!("tree_inputs_follows_json", stable(&json, old, main));

    // Another user with an empty cache: `--offline` shows the graph, the inputs unknown.
    let empty = Sandbox::new();
    let offline = eka(&empty, &nix, &app, &["--offline", "tree"]).success();
    assert!(
        offline.stdout.contains("tool 1.0.0 (nix inputs unknown)\n"),
        "{}",
        offline.stdout
    );
    assert!(
        offline
            .stderr
            .contains("atom `tool@1.0.0` is not cached and `--offline` forbids fetching it"),
        "{}",
        offline.stderr
    );
    snapshot!(
        "tree_inputs_offline_empty_cache",
        stable(&offline, old, main)
    );
    let json = eka(&empty, &nix, &app, &["--offline", "--json", "tree"]).success();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["nodes"][1]["inputsUnknown"], true);
    assert_eq!(value["warnings"].as_array().unwrap().len(), 2);
    snapshot!(
        "tree_inputs_offline_empty_cache_json",
        stable(&json, old, main)
    );
    // Online, the tree fetches the trees it lacks (one fetch from the set's server),
    // then `--offline` has them.
    let fetched = eka(&empty, &nix, &app, &["tree"]).success();
    assert_eq!(
        fetched.stdout,
        eka(&sandbox, &nix, &app, &["tree"]).success().stdout
    );
    let cached = eka(&empty, &nix, &app, &["--offline", "tree"]).success();
    assert_eq!(cached.stdout, fetched.stdout);
    assert!(cached.stderr.is_empty(), "{}", cached.stderr);
}

#[test]
fn an_atom_whose_own_lock_is_not_a_lockfile_is_an_error_naming_it() {
    let set = SetFixture::new(Transport::Http);
    set.repo.write(
        "broken/atom.toml",
        "[package]\nlabel = \"broken\"\nversion = \"1.0.0\"\n",
    );
    set.repo.write("broken/atom.lock", "version = 3\n");
    set.repo.commit("broken");
    publish_fixture(&set.repo, "broken", "broken", "1.0.0");
    set.push();
    let sandbox = Sandbox::new();
    sandbox.write(
        "app/atom.toml",
        &format!(
            "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n\n[package.sets]\ns = \"{}\"\n\n\
             [deps.from.s]\nbroken = \"^1\"\n",
            set.url()
        ),
    );
    sandbox.eka_in("app", &["resolve"]).success();
    let refused = sandbox.eka_in("app", &["tree"]).refused();
    assert!(
        refused
            .stderr
            .contains("the `atom.lock` in the tree of atom `broken@1.0.0` is invalid"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("broken@1.0.0/atom.lock:1:11"),
        "{}",
        refused.stderr
    );
    snapshot!("tree_inputs_invalid_own_lock", refused.transcript());
    assert!(Path::new(&sandbox.path("app/atom.lock")).is_file());
}

#[test]
fn a_sibling_of_the_project_shows_the_inputs_of_its_work_tree_lock() {
    let repo = eka_test_support::TestRepo::init();
    let lib_lock = "version = 1\n\n[[nix]]\nname = \"src\"\nkind = \"tar\"\n\
                    url = \"https://h/src.tar.gz\"\n\
                    narHash = \"sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\"\n";
    repo.write("ekala.toml", "[set]\npackages = [\"lib\", \"app\"]\n")
        .write(
            "lib/atom.toml",
            "[package]\nlabel = \"lib\"\nversion = \"1.2.0\"\n",
        )
        .write("lib/atom.lock", lib_lock)
        .write(
            "app/atom.toml",
            "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n\
             [package.sets]\nhere = \"::\"\n[deps.from.here]\nlib = \"^1\"\n",
        );
    repo.commit("lib and app");
    let sandbox = Sandbox::new();
    let app = repo.path().join("app");
    sandbox.eka_at(&app, &["resolve"]).success();
    // No mirror, nothing cached: the sibling's lock is read from the work tree, offline
    // too.
    for args in [&["tree"][..], &["--offline", "tree"]] {
        let tree = sandbox.eka_at(&app, args).success();
        assert_eq!(
            tree.stdout,
            "app 0.1.0\n    lib 1.2.0\n        nix:src tar \
             sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
            "{args:?}"
        );
        assert!(tree.stderr.is_empty(), "{args:?}: {}", tree.stderr);
    }
}
