//! The harness's servers accept pushes and answer `git ls-remote` over every transport,
//! and the reject hooks refuse exactly the chosen ref.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use eka_test_support::{BareRepo, Git, GitDaemon, Hook, HttpServer, Remote, TestRepo, Transport};

fn fixture() -> (TestRepo, String) {
    let repo = TestRepo::init();
    repo.write("hello/atom.toml", "[package]\nlabel = \"hello\"\n");
    let commit_id = repo.commit("initial");
    (repo, commit_id)
}

#[test]
fn fixtures_are_reproducible() {
    let (_, first) = fixture();
    let (_, second) = fixture();
    assert_eq!(
        first, second,
        "same files, author and date must give the same commit"
    );
}

#[test]
fn push_and_ls_remote_over_every_transport() {
    let (work, commit_id) = fixture();
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        assert!(
            remote.url().starts_with(transport.scheme()),
            "{}",
            remote.url()
        );
        work.run([
            "push",
            "--quiet",
            remote.url(),
            "HEAD:refs/eka/atoms/hello/1.0.0",
        ]);
        let listed = work.git().ls_remote(remote.url());
        assert_eq!(
            listed,
            vec![("refs/eka/atoms/hello/1.0.0".to_owned(), commit_id.clone())],
            "ls-remote over {transport}"
        );
        assert_eq!(
            remote.repo().refs(),
            listed,
            "the push over {transport} reached the bare repository"
        );
    }
}

#[test]
fn servers_on_one_base_directory_serve_the_same_repository() {
    let (work, commit_id) = fixture();
    let base = tempfile::tempdir().unwrap();
    let bare = BareRepo::new_in(base.path(), "shared.git");
    let daemon = GitDaemon::start(base.path());
    let http = HttpServer::start(base.path());
    assert_ne!(daemon.port(), http.port());
    work.run([
        "push",
        "--quiet",
        &daemon.url("shared.git"),
        "HEAD:refs/heads/main",
    ]);
    let git = Git::new();
    assert_eq!(
        git.ls_remote(&http.url("shared.git")),
        vec![
            ("HEAD".to_owned(), commit_id.clone()),
            ("refs/heads/main".to_owned(), commit_id.clone())
        ]
    );
    assert_eq!(
        git.ls_remote(&bare.url()),
        git.ls_remote(&daemon.url("shared.git"))
    );
}

#[test]
fn bare_repo_new_has_a_file_url() {
    let bare = BareRepo::new();
    assert!(bare.url().starts_with("file:///"));
    assert!(bare.path().join("HEAD").is_file());
    assert!(Git::new().ls_remote(&bare.url()).is_empty());
}

#[test]
fn dropping_a_server_stops_it() {
    let base = tempfile::tempdir().unwrap();
    let _bare = BareRepo::new_in(base.path(), "x.git");
    let port = {
        let daemon = GitDaemon::start(base.path());
        daemon.port()
    };
    let http_port = {
        let http = HttpServer::start(base.path());
        http.port()
    };
    for port in [port, http_port] {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "port {port} still accepts connections after drop"
        );
    }
}

#[test]
fn reject_hooks_refuse_the_chosen_ref_atomically() {
    let (work, commit_id) = fixture();
    for hook in [Hook::PreReceive, Hook::Update] {
        for transport in Transport::ALL {
            let remote = Remote::start(transport);
            remote.reject_ref(hook, "refs/eka/atoms/hello/2.0.0");
            let output = work.git().output(
                work.path(),
                [
                    "push",
                    "--atomic",
                    "--porcelain",
                    remote.url(),
                    "HEAD:refs/eka/atoms/hello/1.0.0",
                    "HEAD:refs/eka/atoms/hello/2.0.0",
                ],
            );
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(
                !output.status.success(),
                "{hook:?} over {transport}: {stdout}{stderr}"
            );
            assert!(
                stderr.contains("eka-test: rejecting refs/eka/atoms/hello/2.0.0"),
                "{hook:?} over {transport}: hook message missing:\n{stderr}"
            );
            assert!(
                remote.repo().refs().is_empty(),
                "{hook:?} over {transport}: an atomic push rejected in part left refs"
            );
            // Another ref alone is accepted.
            work.run([
                "push",
                "--quiet",
                remote.url(),
                "HEAD:refs/eka/atoms/hello/1.0.0",
            ]);
            assert_eq!(
                remote.repo().refs(),
                vec![("refs/eka/atoms/hello/1.0.0".to_owned(), commit_id.clone())]
            );
        }
    }
}
