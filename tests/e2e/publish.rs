//! `eka publish`: real repositories, real servers over every transport, stock git as
//! the judge.

use std::{io::Write as _, path::Path, process::Stdio};

use eka_test_support::{BareRepo, Hook, Remote, TestRepo, Transport};

use crate::common::{Run, Sandbox, atom_toml, keygen, snapshot};

/// Run `eka publish args…` in `dir`, with extra environment variables.
fn publish_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let sandbox = Sandbox::new();
    let mut command = sandbox.command();
    command.current_dir(dir).arg("publish").args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    Run::from_output(output)
}

fn publish(dir: &Path, args: &[&str]) -> Run {
    publish_with_env(dir, args, &[])
}

/// A set of three atoms (one nested) in a fresh repository, committed.
fn three_atoms() -> TestRepo {
    let repo = TestRepo::init();
    repo.write(
        "ekala.toml",
        "[set]\npackages = [\"hello\", \"world\", \"libs/util\"]\n",
    )
    .write("hello/atom.toml", atom_toml("hello", "0.1.0"))
    .write("hello/src/main.sh", "echo hello\n")
    .write("world/atom.toml", atom_toml("world", "1.0.0"))
    .write("world/README", "world\n")
    .write("libs/util/atom.toml", atom_toml("util", "2.3.4"))
    .write("libs/util/lib.nix", "{ }\n");
    repo.commit("three atoms");
    repo
}

fn eka_refs(refs: &[(String, String)]) -> Vec<(String, String)> {
    let mut refs: Vec<_> = refs
        .iter()
        .filter(|(name, _)| name.starts_with("refs/eka/"))
        .cloned()
        .collect();
    refs.sort();
    refs
}

#[test]
fn publishes_a_set_over_every_transport() {
    for transport in Transport::ALL {
        let repo = three_atoms();
        let remote = Remote::start(transport);
        let run = publish(repo.path(), &["--all", "--remote", remote.url()]).success();
        for name in ["hello@0.1.0", "world@1.0.0", "util@2.3.4"] {
            assert!(
                run.stderr.contains(&format!("Publishing {name}")),
                "{transport}: {}",
                run.stderr
            );
        }
        assert!(
            run.stderr.contains("3 published, 0 skipped, 0 refused"),
            "{}",
            run.stderr
        );

        // Stock git sees the nine refs of format 1.
        let listed = eka_refs(&repo.git().ls_remote(remote.url()));
        let names: Vec<&str> = listed.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(
            names,
            [
                "refs/eka/atoms/hello/0.1.0",
                "refs/eka/atoms/util/2.3.4",
                "refs/eka/atoms/world/1.0.0",
                "refs/eka/meta/hello/0.1.0/manifest",
                "refs/eka/meta/hello/0.1.0/origin",
                "refs/eka/meta/util/2.3.4/manifest",
                "refs/eka/meta/util/2.3.4/origin",
                "refs/eka/meta/world/1.0.0/manifest",
                "refs/eka/meta/world/1.0.0/origin",
            ],
            "{transport}"
        );
        let id_of = |name: &str| {
            listed
                .iter()
                .find(|(listed, _)| listed == name)
                .map(|(_, id)| id.clone())
                .unwrap()
        };
        assert_eq!(id_of("refs/eka/meta/util/2.3.4/origin"), repo.head());
        assert_eq!(
            id_of("refs/eka/meta/util/2.3.4/manifest"),
            repo.rev_parse("HEAD:libs/util/atom.toml")
        );
        // The atom commit's tree is the directory's own tree; its headers name the set.
        let bare = remote.repo();
        assert_eq!(
            bare.run(["rev-parse", "refs/eka/atoms/util/2.3.4^{tree}"]),
            repo.rev_parse("HEAD:libs/util")
        );
        let raw = bare.run(["cat-file", "commit", "refs/eka/atoms/util/2.3.4"]);
        assert!(raw.contains(&format!("eka-set {}", repo.head())), "{raw}");
        assert!(raw.contains("eka-path libs/util"), "{raw}");
        bare.run(["fsck", "--strict", "--full", "--no-dangling"]);

        // Publishing the same commit again changes nothing.
        let before = bare.refs();
        let run = publish(repo.path(), &["--all", "--remote", remote.url()]).success();
        assert!(
            run.stderr
                .contains("Skipped world@1.0.0 (already published)"),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("0 published, 3 skipped"),
            "{}",
            run.stderr
        );
        assert_eq!(bare.refs(), before);

        // Changed content under a published version is refused; the remote is untouched.
        repo.write("hello/src/main.sh", "echo changed\n");
        repo.commit("change hello without a new version");
        let run = publish(repo.path(), &["hello", "--remote", remote.url()]).refused();
        assert!(
            run.stderr
                .contains("`hello@0.1.0` is already published with other content"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("hint: "), "{}", run.stderr);
        assert_eq!(bare.refs(), before, "{transport}");
    }
}

#[test]
fn a_server_rejecting_one_ref_leaves_zero_refs() {
    for transport in Transport::ALL {
        let repo = three_atoms();
        let remote = Remote::start(transport);
        remote.reject_ref(Hook::Update, "refs/eka/meta/world/1.0.0/origin");
        let run = publish(repo.path(), &["--all", "--remote", remote.url()]);
        assert_eq!(run.code, 1, "{transport}: {}", run.stderr);
        assert!(
            run.stderr.contains("refs/eka/meta/world/1.0.0/origin")
                && run.stderr.contains("nothing was published"),
            "{transport}: {}",
            run.stderr
        );
        assert!(run.stderr.contains("hook declined"), "{}", run.stderr);
        assert_eq!(eka_refs(&remote.repo().refs()), [], "{transport}");
    }
}

#[test]
fn publishing_is_reproducible_across_clones_remotes_and_clocks() {
    let origin = three_atoms();
    let mut commits = Vec::new();
    for (index, date) in ["2001-01-01T00:00:00Z", "2031-06-15T12:34:56+0200"]
        .into_iter()
        .enumerate()
    {
        let clone = tempfile::tempdir().unwrap();
        let target = clone.path().join(format!("clone-{index}"));
        origin.git().run(
            clone.path(),
            [
                "clone",
                "--quiet",
                origin.path().to_str().unwrap(),
                target.to_str().unwrap(),
            ],
        );
        let remote = BareRepo::new();
        let run = publish_with_env(
            &target,
            &["--json", "hello", "--remote", &remote.url()],
            &[
                ("GIT_AUTHOR_DATE", date),
                ("GIT_COMMITTER_DATE", date),
                ("TZ", "Asia/Tokyo"),
            ],
        )
        .success();
        let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        let commit = json["atoms"][0]["commit"].as_str().unwrap().to_owned();
        assert_eq!(json["atoms"][0]["status"], "published");
        assert_eq!(json["atoms"][0]["label"], "hello");
        assert!(
            json["atoms"][0]["content"]
                .as_str()
                .unwrap()
                .starts_with("blake3:")
        );
        assert_eq!(
            remote.run(["rev-parse", "refs/eka/atoms/hello/0.1.0"]),
            commit
        );
        commits.push(commit);
    }
    assert_eq!(commits[0], commits[1]);
}

#[test]
fn publishing_reads_the_commit_not_the_working_tree() {
    let repo = three_atoms();
    let first = repo.head();
    repo.write("hello/atom.toml", atom_toml("hello", "0.2.0"));
    repo.commit("hello 0.2.0");
    // Uncommitted edits: another version and other content.
    repo.write("hello/atom.toml", atom_toml("hello", "9.9.9"));
    repo.write("hello/src/main.sh", "echo dirty\n");
    std::fs::write(repo.path().join("ekala.toml"), "not toml at all [").unwrap();
    let remote = BareRepo::new();
    publish(repo.path(), &["hello", "--remote", &remote.url()]).success();
    publish(
        &repo.path().join("hello"),
        &["--rev", &first, "--remote", &remote.url()],
    )
    .success();
    let names: Vec<String> = eka_refs(&remote.refs())
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| name.starts_with("refs/eka/atoms/"))
        .collect();
    assert_eq!(
        names,
        ["refs/eka/atoms/hello/0.1.0", "refs/eka/atoms/hello/0.2.0"]
    );
    assert_eq!(
        remote.run(["rev-parse", "refs/eka/atoms/hello/0.2.0^{tree}"]),
        repo.rev_parse("HEAD:hello")
    );
    assert_eq!(
        remote.run(["rev-parse", "refs/eka/meta/hello/0.1.0/origin"]),
        first
    );
}

#[test]
fn selection_by_directory_and_refusals_with_hints() {
    let repo = three_atoms();
    let remote = BareRepo::new();
    let url = remote.url();
    // Inside an atom, without paths: that atom only.
    let run = publish(
        &repo.path().join("libs/util"),
        &["--dry-run", "--remote", &url],
    )
    .success();
    snapshot!("inside_an_atom_only_that_atom", run.transcript());
    assert_eq!(eka_refs(&remote.refs()), [], "a dry run pushes nothing");
    // Paths relative to the current directory.
    let run = publish(
        &repo.path().join("libs"),
        &["--dry-run", "--json", "util", "../world", "--remote", &url],
    )
    .success();
    let json: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let labels: Vec<&str> = json["atoms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|atom| atom["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["world", "util"]);
    assert_eq!(json["atoms"][0]["status"], "would-publish");
    // At the root, with no atom there: refused with a hint.
    let run = publish(repo.path(), &["--remote", &url]).refused();
    snapshot!("not_inside_an_atom", run.transcript());
    let run = publish(repo.path(), &["libs", "--remote", &url]).refused();
    snapshot!("not_an_atom", run.transcript());
    // No `origin` remote configured.
    let run = publish(repo.path(), &["--all"]).refused();
    snapshot!("no_origin_remote", run.transcript());
    // A configured remote name works.
    repo.run(["remote", "add", "origin", &url]);
    publish(repo.path(), &["--all"]).success();
    assert_eq!(eka_refs(&remote.refs()).len(), 9);
}

#[test]
fn duplicate_labels_in_one_commit_are_refused() {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"a\", \"b\"]\n")
        .write("a/atom.toml", atom_toml("same", "1.0.0"))
        .write("b/atom.toml", atom_toml("same", "2.0.0"));
    repo.commit("two atoms, one label");
    let remote = BareRepo::new();
    let run = publish(repo.path(), &["--all", "--remote", &remote.url()]).refused();
    snapshot!("duplicate_labels", run.transcript());
    assert_eq!(eka_refs(&remote.refs()), []);
}

#[test]
fn a_remote_serving_another_set_is_refused() {
    let first = three_atoms();
    let remote = BareRepo::new();
    publish(first.path(), &["--all", "--remote", &remote.url()]).success();
    let before = remote.refs();

    let other = TestRepo::init();
    other
        .write("ekala.toml", "[set]\npackages = [\"other\"]\n")
        .write("other/atom.toml", atom_toml("other", "0.1.0"));
    other.commit("another set");
    let run = publish(other.path(), &["--all", "--remote", &remote.url()]).refused();
    assert!(
        run.stderr.contains("serves another set")
            && run.stderr.contains(&first.head())
            && run.stderr.contains(&other.head()),
        "{}",
        run.stderr
    );
    assert_eq!(remote.refs(), before);
}

/// Write a tree object literally (no validation) and return its id.
fn raw_tree(repo: &TestRepo, entries: &[(&str, &[u8], &str)]) -> String {
    let mut data = Vec::new();
    for (mode, name, id) in entries {
        data.extend_from_slice(mode.as_bytes());
        data.push(b' ');
        data.extend_from_slice(name);
        data.push(0);
        data.extend_from_slice(&hex_bytes(id));
    }
    let mut child = repo
        .git()
        .command(repo.path())
        .args(["hash-object", "-t", "tree", "--literally", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&hex[at..at + 2], 16).unwrap())
        .collect()
}

fn blob(repo: &TestRepo, data: &str) -> String {
    let mut child = repo
        .git()
        .command(repo.path())
        .args(["hash-object", "-w", "--stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(data.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[test]
fn hostile_trees_are_refused_without_pushing_a_ref() {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"evil\"]\n");
    let base = repo.commit("base");
    let index = blob(&repo, "[set]\npackages = [\"evil\"]\n");
    let manifest = blob(&repo, &atom_toml("evil", "0.1.0"));
    let file = blob(&repo, "x\n");
    let target_out = blob(&repo, "../../outside");
    let target_abs = blob(&repo, "/etc/passwd");
    let config = raw_tree(&repo, &[("100644", b"config", &file)]);
    let empty = raw_tree(&repo, &[]);
    let nested_git = raw_tree(&repo, &[("40000", b".git", &config)]);
    let atom = ("100644", b"atom.toml".as_slice(), manifest.as_str());

    type Entries<'a> = Vec<(&'a str, &'a [u8], &'a str)>;
    let cases: Vec<(&str, Entries<'_>, &str)> = vec![
        ("dot git", vec![("40000", b".git", &config), atom], ".git"),
        (
            "upper-case git",
            vec![("40000", b".GIT", &config), atom],
            ".GIT",
        ),
        ("8.3 git", vec![atom, ("40000", b"git~1", &config)], "git~1"),
        (
            "trailing dot git",
            vec![("40000", b".git.", &config), atom],
            ".git.",
        ),
        ("dot dot", vec![("40000", b"..", &empty), atom], ".."),
        ("dot", vec![("100644", b".", &file), atom], "."),
        ("empty name", vec![("100644", b"", &file), atom], "refused"),
        (
            "slash",
            vec![atom, ("100644", b"etc/passwd", &file)],
            "etc/passwd",
        ),
        ("backslash", vec![atom, ("100644", b"x\\y", &file)], "x\\y"),
        ("duplicate", vec![atom, atom], "atom.toml"),
        ("out of order", vec![atom, ("100644", b"a", &file)], "`a`"),
        (
            "zero-padded mode",
            vec![atom, ("0100644", b"f", &file)],
            "mode",
        ),
        ("unknown mode", vec![atom, ("100664", b"f", &file)], "mode"),
        (
            "gitlink",
            vec![atom, ("160000", b"sub", &base)],
            "submodule",
        ),
        (
            "absolute symlink",
            vec![atom, ("120000", b"l", &target_abs)],
            "absolute",
        ),
        (
            "escaping symlink",
            vec![atom, ("120000", b"l", &target_out)],
            "out of the atom",
        ),
        (
            "nested dot git",
            vec![atom, ("40000", b"sub", &nested_git)],
            "sub/.git",
        ),
        (
            "blob as tree",
            vec![atom, ("40000", b"d", &file)],
            "should be a",
        ),
    ];
    assert!(cases.len() >= 12);
    let remote = BareRepo::new();
    for (name, entries, expected) in cases {
        let evil = raw_tree(&repo, &entries);
        let root = raw_tree(
            &repo,
            &[("100644", b"ekala.toml", &index), ("40000", b"evil", &evil)],
        );
        let commit = repo.run(["commit-tree", &root, "-p", &base, "-m", name]);
        let run = publish(
            repo.path(),
            &["--all", "--rev", &commit, "--remote", &remote.url()],
        );
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("atom `evil` (directory `evil`) cannot be published")
                && run.stderr.contains(expected),
            "{name}: {}",
            run.stderr
        );
        assert_eq!(eka_refs(&remote.refs()), [], "{name}");
    }
}

#[test]
fn publishing_outside_a_repository_or_offline_is_refused() {
    let sandbox = Sandbox::new();
    sandbox.write("plain/atom.toml", &atom_toml("plain", "0.1.0"));
    let run = sandbox.eka_in("plain", &["publish", "--all"]).refused();
    snapshot!("outside_a_repository", run.transcript());
    let run = sandbox
        .eka_in("plain", &["--offline", "publish", "--all"])
        .refused();
    snapshot!("offline", run.transcript());
}

#[test]
fn signed_atom_commits_pass_git_verify_commit() {
    let repo = three_atoms();
    let keys = tempfile::tempdir().unwrap();
    let key = keygen(keys.path(), "key");
    let remote = BareRepo::new();
    let key_arg = key.to_str().unwrap();
    publish_with_env(
        repo.path(),
        &[
            "hello",
            "--sign",
            "--key",
            key_arg,
            "--remote",
            &remote.url(),
        ],
        &[("SSH_AUTH_SOCK", "/nonexistent")],
    )
    .success();
    let public = std::fs::read_to_string(keys.path().join("key.pub")).unwrap();
    let allowed = keys.path().join("allowed");
    std::fs::write(&allowed, format!("me {public}")).unwrap();
    let output = repo
        .git()
        .command(remote.path())
        .args(["-c", "gpg.format=ssh", "-c"])
        .arg(format!("gpg.ssh.allowedSignersFile={}", allowed.display()))
        .args(["verify-commit", "refs/eka/atoms/hello/0.1.0"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Without a key configured, `--sign` is refused with a hint.
    let run = publish(repo.path(), &["world", "--sign", "--remote", &remote.url()]).refused();
    snapshot!("sign_without_a_key", run.transcript());
}
