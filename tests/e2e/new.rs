//! `eka new`: atoms are created, registered, and refused when they would clash.

use crate::common::{Sandbox, snapshot};

fn set() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.eka(&["init", "set"]).success();
    sandbox
}

#[test]
fn new_writes_a_valid_manifest_and_registers_it() {
    let sandbox = set();
    let run = sandbox
        .eka_in(
            "set",
            &["new", "atoms/hello", "--description", "says hello"],
        )
        .success();
    snapshot!("new_created", run.transcript());
    let manifest = sandbox.read("set/atoms/hello/atom.toml");
    let parsed = atom::manifest::Manifest::from_str(&manifest, "atom.toml").unwrap();
    assert_eq!(parsed.package.label.as_str(), "hello");
    assert_eq!(parsed.package.version, semver::Version::new(0, 1, 0));
    assert_eq!(parsed.package.description.as_deref(), Some("says hello"));
    let set = atom::set::SetManifest::read(sandbox.path("set/ekala.toml")).unwrap();
    let paths: Vec<_> = set
        .packages
        .iter()
        .map(|path| path.as_str().to_owned())
        .collect();
    assert_eq!(paths, ["atoms/hello"]);
}

#[test]
fn new_from_a_subdirectory_and_with_explicit_label_and_version() {
    let sandbox = set();
    std::fs::create_dir_all(sandbox.path("set/deep/er")).unwrap();
    sandbox
        .eka_in(
            "set/deep/er",
            &[
                "new",
                "../thing",
                "--label",
                "wörld",
                "--version",
                "1.2.3-rc.1",
            ],
        )
        .success();
    let parsed = atom::manifest::Manifest::read(sandbox.path("set/deep/thing/atom.toml")).unwrap();
    assert_eq!(parsed.package.label.as_str(), "wörld");
    assert_eq!(parsed.package.version.to_string(), "1.2.3-rc.1");
    assert!(sandbox.read("set/ekala.toml").contains("\"deep/thing\""));
}

#[test]
fn a_taken_label_is_refused_naming_the_other_atom() {
    let sandbox = set();
    sandbox.eka_in("set", &["new", "a/hello"]).success();
    let before = sandbox.read("set/ekala.toml");
    let run = sandbox
        .eka_in("set", &["new", "b/other", "--label", "hello"])
        .refused();
    // Names the other atom, with a hint.
    snapshot!("new_taken_label", run.transcript());
    assert!(!sandbox.path("set/b/other/atom.toml").exists());
    assert_eq!(sandbox.read("set/ekala.toml"), before);
}

#[test]
fn an_existing_atom_directory_is_refused() {
    let sandbox = set();
    sandbox.eka_in("set", &["new", "hello"]).success();
    let run = sandbox
        .eka_in("set", &["new", "hello", "--label", "other"])
        .refused();
    snapshot!("new_existing_directory", run.transcript());
}

#[test]
fn bad_labels_versions_and_places_are_refused() {
    let sandbox = set();
    // The hint mentions `--label`.
    let run = sandbox.eka_in("set", &["new", "1abc"]).refused();
    snapshot!("new_bad_label", run.transcript());
    let run = sandbox
        .eka_in("set", &["new", "x", "--version", "1.0"])
        .refused();
    snapshot!("new_bad_version", run.transcript());
    std::fs::create_dir_all(sandbox.path("elsewhere")).unwrap();
    let run = sandbox.eka_in("elsewhere", &["new", "x"]).refused();
    snapshot!("new_outside_a_set", run.transcript());
    assert_eq!(
        sandbox.read("set/ekala.toml"),
        "# The atoms of this set: paths of directories holding an `atom.toml`.\n[set]\npackages = []\n"
    );
}

#[test]
fn editing_ekala_toml_keeps_comments_and_order() {
    let sandbox = set();
    let original = "# my registry\n[set]\n# keep these sorted by hand\npackages = [\n  \"zeta\", # last one\n  \"alpha\",\n]\n";
    sandbox.write("set/ekala.toml", original);
    sandbox.write(
        "set/zeta/atom.toml",
        "[package]\nlabel = \"zeta\"\nversion = \"1.0.0\"\n",
    );
    sandbox.write(
        "set/alpha/atom.toml",
        "# alpha\n[package]\nlabel = \"alpha\" # the first\nversion = \"1.0.0\"\n",
    );
    sandbox.eka_in("set", &["new", "mid"]).success();
    let edited = sandbox.read("set/ekala.toml");
    assert!(edited.starts_with("# my registry\n[set]\n# keep these sorted by hand\npackages = [\n  \"zeta\", # last one\n  \"alpha\","), "{edited}");
    assert!(edited.contains("\"mid\""), "{edited}");
    assert_eq!(
        sandbox.read("set/alpha/atom.toml"),
        "# alpha\n[package]\nlabel = \"alpha\" # the first\nversion = \"1.0.0\"\n",
        "other atoms are untouched"
    );
}

#[test]
fn a_malformed_set_file_is_refused_with_its_location() {
    let sandbox = set();
    sandbox.write("set/ekala.toml", "[set]\npackages = [\"../outside\"]\n");
    let run = sandbox.eka_in("set", &["new", "x"]).refused();
    assert!(
        run.stderr.contains("ekala.toml:2:"),
        "names file and line: {}",
        run.stderr
    );
}

#[test]
fn new_init_makes_a_set_with_git_and_its_first_atom() {
    let sandbox = Sandbox::new();
    let run = sandbox.eka(&["new", "--init", "hello"]).success();
    snapshot!("new_init", run.transcript());
    assert!(sandbox.path("hello/.git").is_dir());
    let set = atom::set::SetManifest::read(sandbox.path("hello/ekala.toml")).unwrap();
    let paths: Vec<_> = set
        .packages
        .iter()
        .map(|path| path.as_str().to_owned())
        .collect();
    assert_eq!(paths, ["."]);
    let parsed = atom::manifest::Manifest::read(sandbox.path("hello/atom.toml")).unwrap();
    assert_eq!(parsed.package.label.as_str(), "hello");

    // `--label` names the atom instead of the directory.
    let run = sandbox
        .eka(&["new", "--init", "other", "--label", "greeter"])
        .success();
    assert!(run.stderr.contains("atom `greeter`"), "{}", run.stderr);

    let run = sandbox.eka(&["new", "--init", "hello"]).refused();
    snapshot!("new_init_refused", run.transcript());
    assert!(!sandbox.path("hello/hello").exists());
}
