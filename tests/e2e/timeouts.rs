//! Network deadlines through the real binary: against a loopback server that accepts
//! connections and never answers, `eka add`, `eka verify` and `eka publish --remote` stop
//! after the configured deadline (`EKA_NET_TIMEOUT` or `[network] timeout` in
//! `eka.toml`) with exit 2, naming the URL, over `git://` and `http://`.

use eka_test_support::{TestRepo, Transport};

use crate::{
    common::{Run, Sandbox, SilentServer, snapshot},
    deps::{SetFixture, project},
};

/// Run eka in `work/<dir>` with `EKA_NET_TIMEOUT=1`.
fn eka_with_deadline(sandbox: &Sandbox, dir: &str, args: &[&str]) -> Run {
    let output = sandbox
        .command()
        .current_dir(sandbox.path(dir))
        .env("EKA_NET_TIMEOUT", "1")
        .args(args)
        .output()
        .unwrap();
    Run::from_output(output)
}

/// The run stopped at the one-second deadline, exit 2, naming `url` and both ways to
/// raise the deadline.
#[track_caller]
fn assert_timed_out(run: &Run, url: &str) {
    assert_eq!(
        run.code, 2,
        "expected exit 2\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains(url),
        "the URL is not named:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("for 1 s and was stopped"),
        "not a timeout:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: ")
            && run.stderr.contains("`--timeout <seconds>`")
            && run.stderr.contains("`EKA_NET_TIMEOUT=<seconds>`")
            && run
                .stderr
                .contains("`[network] timeout = <seconds>` in `eka.toml`"),
        "no hint naming both settings:\n{}",
        run.stderr
    );
}

#[test]
fn add_from_a_silent_server_stops_at_the_deadline() {
    let server = SilentServer::start();
    for scheme in ["git", "http"] {
        let sandbox = Sandbox::new();
        project(&sandbox, "");
        let url = server.url(scheme);
        let run = eka_with_deadline(&sandbox, "app", &["add", &format!("{url}::a")]);
        assert_timed_out(&run, &url);
        assert!(!sandbox.path("app/atom.lock").exists(), "{scheme}");
    }
}

#[test]
fn verify_against_a_silent_mirror_stops_at_the_deadline() {
    let set = SetFixture::new(Transport::File);
    set.atom("a", "1.0.0", "");
    set.push();
    let server = SilentServer::start();
    for scheme in ["git", "http"] {
        let sandbox = Sandbox::new();
        project(&sandbox, "");
        sandbox
            .eka_in("app", &["add", &format!("{}::a", set.url())])
            .success();
        // The same lock, its set now served by the silent server; nothing in the cache.
        let url = server.url(scheme);
        for file in ["app/atom.toml", "app/atom.lock"] {
            let text = sandbox.read(file).replace(&set.url(), &url);
            sandbox.write(file, &text);
        }
        std::fs::remove_dir_all(sandbox.dir.path().join("cache")).unwrap();

        let run = eka_with_deadline(&sandbox, "app", &["verify"]);
        assert_timed_out(&run, &url);
    }
}

#[test]
fn publish_to_a_silent_remote_stops_at_the_deadline() {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"hello\"]\n")
        .write(
            "hello/atom.toml",
            "[package]\nlabel = \"hello\"\nversion = \"0.1.0\"\n",
        )
        .write("hello/data.txt", "hello\n");
    repo.commit("one atom");
    let server = SilentServer::start();
    for scheme in ["git", "http"] {
        let sandbox = Sandbox::new();
        let url = server.url(scheme);
        let output = sandbox
            .command()
            .current_dir(repo.path())
            .env("EKA_NET_TIMEOUT", "1")
            .args(["publish", "--all", "--remote", &url])
            .output()
            .unwrap();
        let run = Run::from_output(output);
        assert_timed_out(&run, &url);
    }
}

#[test]
fn the_deadline_of_eka_toml_is_honoured() {
    let server = SilentServer::start();
    let url = server.url("git");
    // The project file.
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox.write("app/eka.toml", "[network]\ntimeout = 1\n");
    let run = sandbox.eka_in("app", &["add", &format!("{url}::a")]);
    assert_timed_out(&run, &url);
    // The user file.
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    let user = sandbox.dir.path().join("config/eka/eka.toml");
    std::fs::create_dir_all(user.parent().unwrap()).unwrap();
    std::fs::write(&user, "[network]\ntimeout = 1\n").unwrap();
    let run = sandbox.eka_in("app", &["add", &format!("{url}::a")]);
    assert_timed_out(&run, &url);
}

#[test]
fn the_timeout_flag_wins_over_the_environment_and_eka_toml() {
    let server = SilentServer::start();
    let url = server.url("git");
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox.write("app/eka.toml", "[network]\ntimeout = 600\n");
    let output = sandbox
        .command()
        .current_dir(sandbox.path("app"))
        .env("EKA_NET_TIMEOUT", "600")
        .args(["--timeout", "1", "add", &format!("{url}::a")])
        .output()
        .unwrap();
    let run = Run::from_output(output);
    assert_timed_out(&run, &url);
    // Zero is refused by the flag's parser, before anything runs.
    let run = sandbox.eka_in("app", &["--timeout", "0", "add", &format!("{url}::a")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("--timeout") && run.stderr.contains("whole number of seconds above 0"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_zero_or_garbage_deadline_is_refused_before_any_fetch() {
    let server = SilentServer::start();
    let url = server.url("git");
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    for value in ["0", "soon"] {
        let output = sandbox
            .command()
            .current_dir(sandbox.path("app"))
            .env("EKA_NET_TIMEOUT", value)
            .args(["add", &format!("{url}::a")])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{value}: {stderr}");
        assert!(stderr.contains("`EKA_NET_TIMEOUT`"), "{value}: {stderr}");
    }
    sandbox.write("app/eka.toml", "[network]\ntimeout = 0\n");
    let run = sandbox
        .eka_in("app", &["add", &format!("{url}::a")])
        .refused();
    assert!(run.stderr.contains("eka.toml"), "{}", run.stderr);
    assert!(run.stderr.contains("`[network] timeout`"), "{}", run.stderr);
}

#[test]
fn verify_offline_on_an_empty_cache_reports_atoms_not_in_the_cache() {
    let set = SetFixture::new(Transport::File);
    set.atom("a", "1.0.0", "");
    set.push();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox
        .eka_in("app", &["add", &format!("{}::a", set.url())])
        .success();
    std::fs::remove_dir_all(sandbox.dir.path().join("cache")).unwrap();

    let run = sandbox.eka_in("app", &["verify", "--offline"]).refused();
    assert!(!run.stdout.contains("missing-commit"), "{}", run.stdout);
    assert!(!run.stderr.contains("never deleted"), "{}", run.stderr);
    snapshot!("verify_offline_empty_cache", run.transcript());
    let json = sandbox
        .eka_in("app", &["--json", "verify", "--offline"])
        .refused();
    assert!(
        json.stdout.contains("\"kind\": \"not-cached\""),
        "{}",
        json.stdout
    );
}

#[test]
fn a_nix_url_input_from_a_silent_server_stops_at_the_deadline() {
    let server = SilentServer::start();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    let url = format!("{}/input.nix", server.url("http"));
    let run = eka_with_deadline(&sandbox, "app", &["add", "--nix", "input", &url]);
    assert_eq!(
        run.code, 2,
        "expected exit 2\nstdout:\n{}\nstderr:\n{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stderr.contains(&url),
        "the URL is not named:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("timed out"),
        "not a timeout:\n{}",
        run.stderr
    );
    assert!(!sandbox.path("app/atom.lock").exists());
}
