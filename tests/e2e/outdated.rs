//! `eka outdated [--exit-code]` over a set published to a real git server and a direct
//! Nix git input pinned by version: everything current, then newer versions published
//! (some allowed, some not), as a table, as JSON, offline, and with `--exit-code`.

use eka_test_support::{TestRepo, Transport};

use crate::{
    common::{Sandbox, snapshot},
    deps::{SetFixture, project},
    nix::file_url,
};

/// A git repository tagged `v1.0.0`, used as a direct Nix input.
fn tagged_input() -> TestRepo {
    let repo = TestRepo::init();
    repo.write("default.nix", "{ v = 1; }\n");
    repo.commit("release 1.0.0");
    repo.run(["tag", "v1.0.0"]);
    repo
}

fn tag(repo: &TestRepo, version: &str) {
    repo.write("default.nix", format!("{{ v = \"{version}\"; }}\n"));
    repo.commit(&format!("release {version}"));
    repo.run(["tag", &format!("v{version}")]);
}

#[test]
fn outdated_shows_locked_allowed_and_newest_and_sets_the_exit_code() {
    let set = SetFixture::new(Transport::Http);
    let here = "[package.sets]\nhere = \"::\"\n[deps.from.here]\n";
    set.atom("c", "1.0.0", "");
    set.atom("b", "1.0.0", &format!("{here}c = \"^1\"\n"));
    set.atom("a", "1.0.0", &format!("{here}b = \"^1\"\n"));
    set.push();
    let input = tagged_input();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox
        .eka_in("app", &["add", &format!("{}::a", set.url())])
        .success();
    let url = file_url(input.path());
    sandbox
        .eka_in("app", &["add", "--nix", "lib", &url, "--version", "^1"])
        .success();

    // Everything current: the table, the message, exit 0 even with `--exit-code`.
    let run = sandbox.eka_in("app", &["outdated"]).success();
    snapshot!("outdated_current", run.transcript());
    sandbox
        .eka_in("app", &["outdated", "--exit-code"])
        .success();

    // `c` 1.1.0 is allowed (`^1`), `c` 2.0.0 and `a` 2.0.0 are not; `lib` 1.1.0 is
    // allowed, 2.0.0 is not.
    set.atom("c", "1.1.0", "");
    set.atom("c", "2.0.0", "");
    set.atom("a", "2.0.0", &format!("{here}b = \"^1\"\n"));
    set.push();
    tag(&input, "1.1.0");
    tag(&input, "2.0.0");
    let lock = sandbox.read("app/atom.lock");
    let run = sandbox.eka_in("app", &["outdated"]).success();
    snapshot!("outdated_newer", run.transcript());
    assert_eq!(
        sandbox.read("app/atom.lock"),
        lock,
        "outdated writes nothing"
    );
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", run.stdout);
    let row = |name: &str| -> Vec<&str> {
        lines
            .iter()
            .find(|line| line.starts_with(&format!("{name} ")))
            .unwrap()
            .split_whitespace()
            .collect()
    };
    assert_eq!(row("a"), ["a", "direct", "1.0.0", "1.0.0", "2.0.0"]);
    assert_eq!(row("b"), ["b", "transitive", "1.0.0", "1.0.0", "1.0.0"]);
    assert_eq!(row("c"), ["c", "transitive", "1.0.0", "1.1.0", "2.0.0"]);
    assert_eq!(row("lib"), ["lib", "nix", "1.0.0", "1.1.0", "2.0.0"]);

    let json = sandbox.eka_in("app", &["outdated", "--json"]).success();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["schema"], 1);
    assert_eq!(value["outdated"], true);
    snapshot!("outdated_json", json.stdout);

    let run = sandbox
        .eka_in("app", &["outdated", "--exit-code"])
        .refused();
    assert!(
        run.stderr.contains("2 locked versions can move"),
        "{}",
        run.stderr
    );

    // Offline: the cache knows the atoms' versions, not the input's tags.
    let run = sandbox.eka_in("app", &["--offline", "outdated"]).success();
    let offline = |name: &str| -> Vec<String> {
        run.stdout
            .lines()
            .find(|line| line.starts_with(&format!("{name} ")))
            .unwrap()
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(offline("c"), ["c", "transitive", "1.0.0", "1.1.0", "2.0.0"]);
    assert_eq!(offline("lib"), ["lib", "nix", "1.0.0", "-", "-"]);

    // After `eka update` nothing can move.
    sandbox.eka_in("app", &["update"]).success();
    let run = sandbox
        .eka_in("app", &["outdated", "--exit-code"])
        .success();
    assert!(
        run.stderr.contains("newest allowed version"),
        "{}",
        run.stderr
    );
}
