//! The messages a new user meets first, each snapshotted whole (exit code, stdout,
//! stderr) through the real binary against real repositories: a repository that does not
//! exist, a requirement no published version matches, a requirement only pre-releases
//! match, and the manifest `eka remove` leaves behind.

use eka_test_support::{Remote, TestRepo, Transport};

use crate::common::{Sandbox, atom_toml, snapshot};

/// A consumer project `app` with no dependencies yet.
fn consumer() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("app/atom.toml", &atom_toml("app", "0.1.0"));
    sandbox
}

#[test]
fn adding_from_a_repository_that_does_not_exist_names_the_url() {
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        let url = remote.url().replace(Remote::NAME, "missing.git");
        let sandbox = consumer();
        let add = sandbox.eka_in("app", &["add", &format!("{url}::x")]);
        assert_eq!(add.code, 2, "{}", add.transcript());
        snapshot!(format!("missing_repository_{transport}"), add.transcript());
        assert_eq!(sandbox.read("app/atom.toml"), atom_toml("app", "0.1.0"));
    }
}

/// A `git daemon` without `--informative-errors` closes the connection without a word
/// when it has no such repository: that reads the same as a named refusal.
#[test]
fn a_git_server_closing_the_connection_reads_as_a_missing_repository() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // Read the whole request (one pkt-line), then close without answering.
            let mut length = [0_u8; 4];
            if std::io::Read::read_exact(&mut stream, &mut length).is_err() {
                continue;
            }
            let length = std::str::from_utf8(&length)
                .ok()
                .and_then(|hex| usize::from_str_radix(hex, 16).ok())
                .unwrap_or(4);
            let mut request = vec![0_u8; length.saturating_sub(4)];
            let _ = std::io::Read::read_exact(&mut stream, &mut request);
        }
    });
    let sandbox = consumer();
    let url = format!("git://127.0.0.1:{port}/missing.git");
    let add = sandbox.eka_in("app", &["add", &format!("{url}::x")]);
    assert_eq!(add.code, 2, "{}", add.transcript());
    snapshot!("closed_connection_git", add.transcript());
}

/// A set holding `base` at `versions` (one commit and `eka publish` each), served over
/// `file://`.
fn published(sandbox: &Sandbox, versions: &[&str]) -> Remote {
    let remote = Remote::start(Transport::File);
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"base\"]\n");
    for version in versions {
        repo.write("base/atom.toml", atom_toml("base", version));
        publish(sandbox, &repo, &remote, &format!("base {version}"));
    }
    remote
}

/// Commit what `repo` holds and `eka publish --all` it to `remote`.
fn publish(sandbox: &Sandbox, repo: &TestRepo, remote: &Remote, message: &str) {
    repo.commit(message);
    sandbox
        .eka_at(repo.path(), &["publish", "--all", "--remote", remote.url()])
        .success();
}

#[test]
fn a_requirement_no_published_version_matches_lists_the_published_ones() {
    let sandbox = consumer();
    let remote = published(&sandbox, &["1.0.0"]);
    let add = sandbox
        .eka_in("app", &["add", &format!("{}::base@^2", remote.url())])
        .refused();
    snapshot!("no_version_matches", add.transcript());
    assert_eq!(sandbox.read("app/atom.toml"), atom_toml("app", "0.1.0"));
}

#[test]
fn a_requirement_above_the_locked_version_no_published_version_matches() {
    let sandbox = consumer();
    let remote = published(&sandbox, &["1.0.0"]);
    sandbox
        .eka_in("app", &["add", &format!("{}::base", remote.url())])
        .success();
    let manifest = sandbox.read("app/atom.toml");
    let lock = sandbox.read("app/atom.lock");
    let add = sandbox
        .eka_in("app", &["add", &format!("{}::base@^2", remote.url())])
        .refused();
    snapshot!("no_version_matches_locked", add.transcript());
    assert_eq!(sandbox.read("app/atom.toml"), manifest);
    assert_eq!(sandbox.read("app/atom.lock"), lock);
}

#[test]
fn a_requirement_only_pre_releases_match_says_so() {
    let sandbox = consumer();
    let remote = published(&sandbox, &["1.0.0", "2.0.0-rc.1"]);
    let add = sandbox
        .eka_in("app", &["add", &format!("{}::base@^2", remote.url())])
        .refused();
    snapshot!("only_pre_releases_match", add.transcript());
    assert_eq!(sandbox.read("app/atom.toml"), atom_toml("app", "0.1.0"));
}

#[test]
fn a_requirement_that_accepts_every_version_is_not_asked_to_loosen() {
    let sandbox = consumer();
    let remote = Remote::start(Transport::File);
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"base\", \"left\"]\n")
        .write("base/atom.toml", atom_toml("base", "1.0.0"))
        .write(
            "left/atom.toml",
            format!(
                "{}[package.sets]\nhere = \"::\"\n[deps.from.here]\nbase = \"^2\"\n",
                atom_toml("left", "1.0.0")
            ),
        );
    publish(&sandbox, &repo, &remote, "base, left");
    let add = sandbox
        .eka_in("app", &["add", &format!("{}::left", remote.url())])
        .refused();
    snapshot!("every_version_accepted", add.transcript());
    assert_eq!(sandbox.read("app/atom.toml"), atom_toml("app", "0.1.0"));
}

#[test]
fn removing_the_last_dependency_leaves_no_empty_table() {
    let sandbox = consumer();
    let remote = published(&sandbox, &["1.0.0"]);
    sandbox
        .eka_in("app", &["add", &format!("{}::base", remote.url())])
        .success();
    let remove = sandbox.eka_in("app", &["remove", "base"]).success();
    snapshot!("remove_last_dependency", remove.transcript());
    snapshot!(
        "remove_last_dependency_manifest",
        sandbox.read("app/atom.toml")
    );
    assert!(!sandbox.read("app/atom.toml").contains("[deps"));
}
