//! Private registries: a set published to and consumed from `ssh://` (key in a real
//! `ssh-agent`) and smart HTTP behind basic auth (credentials from git's credential
//! helper), failing fast and clearly without credentials, and never echoing a password:
//! not in `atom.toml`, `atom.lock`, stdout, stderr or `--json` output, not when the
//! server refuses, and not when a URL with a password is refused.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use eka_test_support::{BareRepo, HttpServer, SshAgent, SshServer, TestRepo, ssh_keygen};

use crate::common::{Run, Sandbox, atom_toml, atom_toml_with, snapshot};

/// The password of the HTTP registry: it must never show up anywhere.
const PASSWORD: &str = "pw-4f9a2c";

/// A set with `base` 0.1.0 and `app` 1.0.0 (→ `base ^0.1`), committed, not published.
fn source_set() -> TestRepo {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"base\", \"app\"]\n")
        .write("base/atom.toml", atom_toml("base", "0.1.0"))
        .write("base/data.txt", "data\n")
        .write(
            "app/atom.toml",
            atom_toml_with(
                "app",
                "1.0.0",
                "[package.sets]\nhere = \"::\"\n[deps.from.here]\nbase = \"^0.1\"\n",
            ),
        )
        .write("app/main.nix", "{ }\n");
    repo.commit("base and app");
    repo
}

fn run(command: &mut Command) -> Run {
    let output = command.output().unwrap();
    Run::from_output(output)
}

/// The sandbox's HOME.
fn home(sandbox: &Sandbox) -> PathBuf {
    sandbox.dir.path().join("home")
}

/// `eka args…` in `dir`, reading git's configuration from the sandbox HOME's
/// `.gitconfig` (the sandbox otherwise gives git none) and with `agent` as
/// `SSH_AUTH_SOCK` (none: no agent at all).
fn eka(sandbox: &Sandbox, dir: &Path, agent: Option<&Path>, args: &[&str]) -> Run {
    let mut command = sandbox.command();
    command
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", home(sandbox).join(".gitconfig"))
        .env_remove("SSH_ASKPASS")
        .env_remove("DISPLAY")
        .args(args);
    match agent {
        Some(socket) => command.env("SSH_AUTH_SOCK", socket),
        None => command.env_remove("SSH_AUTH_SOCK"),
    };
    run(&mut command)
}

/// An askpass program that records being asked and answers `answer`; returns it and the
/// file it creates when run.
fn askpass(dir: &Path, answer: &str) -> (PathBuf, PathBuf) {
    let program = dir.join("askpass.sh");
    let marker = dir.join("askpass-was-run");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\necho '{answer}'\n",
            marker.display()
        ),
    )
    .unwrap();
    let mode: std::fs::Permissions = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&program, mode).unwrap();
    (program, marker)
}

/// Make `command` ask `program` for any secret, whatever the terminal: what a desktop
/// session (or a hostile environment) may set.
fn with_askpass(command: &mut Command, program: &Path) {
    command
        .env("SSH_ASKPASS", program)
        .env("SSH_ASKPASS_REQUIRE", "force")
        .env("GIT_ASKPASS", program)
        .env("DISPLAY", ":0");
}

/// An ssh registry: `set.git` served by sshd, which accepts the key held by a real
/// agent; the sandbox HOME has the client's ssh configuration (no identity file) and a
/// `.gitconfig` making git's ssh read it.
struct SshRegistry {
    server: SshServer,
    agent: SshAgent,
    repo: BareRepo,
    url: String,
    keys: tempfile::TempDir,
    _base: tempfile::TempDir,
}

impl SshRegistry {
    fn start(sandbox: &Sandbox, extra_keys: &[&str]) -> SshRegistry {
        let keys = tempfile::tempdir().unwrap();
        let key = keys.path().join("agent_key");
        let public = ssh_keygen(&key, "");
        let mut authorized = vec![public.as_str()];
        authorized.extend_from_slice(extra_keys);
        let server = SshServer::start(&authorized);
        let agent = SshAgent::start();
        agent.add(&key);
        std::fs::remove_file(&key).unwrap();
        let base = tempfile::tempdir().unwrap();
        let repo = BareRepo::new_in(base.path(), "set.git");
        let url = server.url(repo.path());
        let ssh_dir = home(sandbox).join(".ssh");
        std::fs::create_dir_all(&ssh_dir).unwrap();
        std::fs::write(
            ssh_dir.join("config"),
            server.client_config(&ssh_dir.join("known_hosts")),
        )
        .unwrap();
        // ssh reads `~/.ssh/config` from the account's home, not from `HOME`: point it
        // at the sandbox's the way a user would, through git's own configuration.
        std::fs::write(
            home(sandbox).join(".gitconfig"),
            format!(
                "[core]\n\tsshCommand = ssh -F {}\n",
                ssh_dir.join("config").display()
            ),
        )
        .unwrap();
        SshRegistry {
            server,
            agent,
            repo,
            url,
            keys,
            _base: base,
        }
    }
}

#[test]
fn ssh_publish_add_and_verify_with_the_key_in_an_agent() {
    let sandbox = Sandbox::new();
    let registry = SshRegistry::start(&sandbox, &[]);
    let url = registry.url.as_str();
    assert!(url.starts_with("ssh://"), "{url}");
    let agent = Some(registry.agent.socket());

    let set = source_set();
    let published = eka(
        &sandbox,
        set.path(),
        agent,
        &["publish", "--all", "--remote", url],
    );
    assert_eq!(
        published.code,
        0,
        "{}\n{}",
        published.stderr,
        registry.server.log()
    );
    assert!(
        registry
            .repo
            .refs()
            .iter()
            .any(|(name, _)| name == "refs/eka/atoms/app/1.0.0")
    );
    // The host key was accepted into the sandbox's known hosts: the client used the
    // sandbox's configuration, and with no identity file the key came from the agent.
    assert!(home(&sandbox).join(".ssh/known_hosts").is_file());

    sandbox.write("consumer/atom.toml", &atom_toml("consumer", "0.1.0"));
    let consumer = sandbox.path("consumer");
    let added = eka(&sandbox, &consumer, agent, &["add", &format!("{url}::app")]);
    assert_eq!(added.code, 0, "{}", added.stderr);
    let lock = sandbox.read("consumer/atom.lock");
    assert!(lock.contains(&format!("\"{url}\"")), "{lock}");
    assert!(sandbox.read("consumer/atom.toml").contains(url));
    let verified = eka(&sandbox, &consumer, agent, &["verify"]);
    assert_eq!(verified.code, 0, "{}", verified.stderr);
    let listed = eka(&sandbox, &consumer, agent, &["--json", "list", url]);
    assert_eq!(listed.code, 0, "{}", listed.stderr);
    assert!(listed.stdout.contains("\"app\""), "{}", listed.stdout);

    // Without the agent there is no key: a clear environment error naming the URL.
    sandbox.write("other/atom.toml", &atom_toml("other", "0.1.0"));
    let refused = eka(
        &sandbox,
        &sandbox.path("other"),
        None,
        &["add", &format!("{url}::app")],
    );
    assert_eq!(refused.code, 2, "{}", refused.transcript());
    assert!(refused.stderr.contains(url), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("Permission denied"),
        "{}",
        refused.stderr
    );
    assert!(!sandbox.path("other/atom.lock").exists());
    // `verify` reports an unreachable mirror as a failed check (exit 1).
    let verify_without_agent = eka(&sandbox, &consumer, None, &["verify"]);
    assert_eq!(
        verify_without_agent.code,
        1,
        "{}",
        verify_without_agent.transcript()
    );
    assert!(
        verify_without_agent.stdout.contains("unreachable"),
        "{}",
        verify_without_agent.transcript()
    );
}

#[test]
fn ssh_never_asks_for_a_passphrase() {
    let sandbox = Sandbox::new();
    let keys = tempfile::tempdir().unwrap();
    let protected = keys.path().join("protected_key");
    let public = ssh_keygen(&protected, "the passphrase");
    let registry = SshRegistry::start(&sandbox, &[&public]);
    let url = registry.url.as_str();
    // A key file that needs its passphrase, and an askpass program that knows it.
    let config = home(&sandbox).join(".ssh/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("  IdentityFile {}\n", protected.display()));
    std::fs::write(&config, text).unwrap();
    let (program, marker) = askpass(registry.keys.path(), "the passphrase");

    // Control: plain git (which lets ssh ask) gets in by asking the program.
    let mut git = Command::new("git");
    crate::common::isolate(&mut git, sandbox.dir.path());
    git.env("GIT_CONFIG_GLOBAL", home(&sandbox).join(".gitconfig"))
        .env_remove("SSH_AUTH_SOCK")
        .args(["ls-remote", url])
        .stdin(std::process::Stdio::null());
    with_askpass(&mut git, &program);
    let control = run(&mut git);
    assert_eq!(control.code, 0, "{}", control.stderr);
    assert!(marker.is_file(), "the control run did not ask");
    std::fs::remove_file(&marker).unwrap();

    // eka: the same environment, and ssh fails at once instead of asking.
    let mut command = sandbox.command();
    command
        .env("GIT_CONFIG_GLOBAL", home(&sandbox).join(".gitconfig"))
        .env_remove("SSH_AUTH_SOCK")
        .args(["list", url]);
    with_askpass(&mut command, &program);
    let listed = run(&mut command);
    assert_eq!(listed.code, 2, "{}", listed.transcript());
    assert!(listed.stderr.contains(url), "{}", listed.stderr);
    assert!(
        listed
            .stderr
            .contains("hint: eka never asks for credentials"),
        "{}",
        listed.stderr
    );
    assert!(!marker.exists(), "eka let ssh ask for a passphrase");
}

/// An HTTP registry behind basic auth (`user`/[`PASSWORD`]); the sandbox HOME has
/// `credential.helper = store` and the credentials in `~/.git-credentials`.
struct HttpRegistry {
    server: HttpServer,
    repo: BareRepo,
    url: String,
    _base: tempfile::TempDir,
}

impl HttpRegistry {
    fn start(sandbox: &Sandbox) -> HttpRegistry {
        let base = tempfile::tempdir().unwrap();
        let repo = BareRepo::new_in(base.path(), "set.git");
        let server = HttpServer::start_with_basic_auth(base.path(), "user", PASSWORD);
        let url = server.url("set.git");
        std::fs::write(
            home(sandbox).join(".gitconfig"),
            "[credential]\n\thelper = store\n",
        )
        .unwrap();
        std::fs::write(
            home(sandbox).join(".git-credentials"),
            format!("http://user:{PASSWORD}@127.0.0.1:{}\n", server.port()),
        )
        .unwrap();
        HttpRegistry {
            server,
            repo,
            url,
            _base: base,
        }
    }
}

#[track_caller]
fn assert_no_password(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD),
        "{what} shows the password:\n{text}"
    );
}

#[track_caller]
fn assert_run_without_password(what: &str, run: &Run) {
    assert_no_password(&format!("{what} (stdout)"), &run.stdout);
    assert_no_password(&format!("{what} (stderr)"), &run.stderr);
}

#[test]
fn http_with_basic_auth_through_a_credential_helper_never_echoes_the_password() {
    let sandbox = Sandbox::new();
    let registry = HttpRegistry::start(&sandbox);
    let url = registry.url.as_str();
    let set = source_set();

    // Without credentials the server answers 401: refused fast, naming the URL.
    let anonymous = sandbox.eka_at(set.path(), &["publish", "--all", "--remote", url]);
    assert_eq!(anonymous.code, 2, "{}", anonymous.transcript());
    assert!(anonymous.stderr.contains(url), "{}", anonymous.stderr);
    assert!(registry.repo.refs().is_empty());

    let published = eka(
        &sandbox,
        set.path(),
        None,
        &["publish", "--all", "--remote", url],
    );
    assert_eq!(
        published.code,
        0,
        "{}\n{}",
        published.stderr,
        registry.server.log()
    );
    assert_run_without_password("publish", &published);
    assert!(
        registry
            .repo
            .refs()
            .iter()
            .any(|(name, _)| name == "refs/eka/atoms/app/1.0.0")
    );

    sandbox.write("consumer/atom.toml", &atom_toml("consumer", "0.1.0"));
    let consumer = sandbox.path("consumer");
    let app = format!("{url}::app");
    let base = format!("{url}::base");
    let runs: [(&str, &[&str]); 6] = [
        ("add --json", &["--json", "add", &app]),
        ("verify", &["verify"]),
        ("verify --json", &["--json", "verify"]),
        ("list", &["list", url]),
        ("list --json", &["--json", "list", url]),
        ("show --json", &["--json", "show", &base]),
    ];
    for (what, args) in runs {
        let result = eka(&sandbox, &consumer, None, args);
        assert_eq!(result.code, 0, "{what}: {}", result.transcript());
        assert_run_without_password(what, &result);
    }
    let lock = sandbox.read("consumer/atom.lock");
    assert!(lock.contains(&format!("\"{url}\"")), "{lock}");
    assert_no_password("atom.lock", &lock);
    assert_no_password("atom.toml", &sandbox.read("consumer/atom.toml"));

    // No credentials: a clear error naming the URL, and nobody is asked, not even an
    // askpass program the environment offers.
    let (program, marker) = askpass(sandbox.dir.path(), PASSWORD);
    sandbox.write("other/atom.toml", &atom_toml("other", "0.1.0"));
    for json in [false, true] {
        let mut command = sandbox.command();
        command.current_dir(sandbox.path("other"));
        if json {
            command.arg("--json");
        }
        command.args(["add", &app]);
        with_askpass(&mut command, &program);
        let refused = run(&mut command);
        assert_eq!(refused.code, 2, "{}", refused.transcript());
        assert!(refused.stderr.contains(url), "{}", refused.stderr);
        assert!(!marker.exists(), "eka let git ask for credentials");
    }
    assert!(!sandbox.path("other/atom.lock").exists());

    // The server refuses wrong credentials: the error names neither password.
    std::fs::write(
        home(&sandbox).join(".git-credentials"),
        format!(
            "http://user:wrong-{PASSWORD}@127.0.0.1:{}\n",
            registry.server.port()
        ),
    )
    .unwrap();
    for args in [vec!["list", url], vec!["--json", "list", url]] {
        let refused = eka(&sandbox, &consumer, None, &args);
        assert_eq!(refused.code, 2, "{args:?}: {}", refused.transcript());
        assert!(refused.stderr.contains(url), "{}", refused.stderr);
        assert!(
            refused.stderr.contains("credential helper"),
            "{}",
            refused.stderr
        );
        assert_run_without_password(&format!("{args:?} refused"), &refused);
    }
    // `verify` reports an unreachable mirror as a failed check (exit 1).
    for args in [vec!["verify"], vec!["--json", "verify"]] {
        let refused = eka(&sandbox, &consumer, None, &args);
        assert_eq!(refused.code, 1, "{args:?}: {}", refused.transcript());
        assert!(
            refused.stdout.contains("unreachable"),
            "{args:?}: {}",
            refused.transcript()
        );
        assert_run_without_password(&format!("{args:?} refused"), &refused);
    }
}

#[test]
fn urls_with_a_password_are_refused_without_echoing_it() {
    let sandbox = Sandbox::new();
    // Port 9 (discard) on loopback: were it contacted, the error would be a connection
    // failure (exit 2), not a refusal (exit 1).
    let url = format!("http://user:{PASSWORD}@127.0.0.1:9/set.git");
    let url = url.as_str();
    sandbox.write("consumer/atom.toml", &atom_toml("consumer", "0.1.0"));
    let set = source_set();
    let cases: [(&str, PathBuf, Vec<String>); 3] = [
        (
            "refused_add",
            sandbox.path("consumer"),
            vec!["add".into(), format!("{url}::x")],
        ),
        (
            "refused_list",
            sandbox.path("consumer"),
            vec!["list".into(), url.into()],
        ),
        (
            "refused_publish",
            set.path().to_owned(),
            vec![
                "publish".into(),
                "--all".into(),
                "--remote".into(),
                url.into(),
            ],
        ),
    ];
    for (name, dir, args) in &cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let refused = sandbox.eka_at(dir, &args);
        assert_eq!(refused.code, 1, "{name}: {}", refused.transcript());
        assert!(refused.stderr.contains("user:***@"), "{}", refused.stderr);
        assert_run_without_password(name, &refused);
        snapshot!(*name, refused.transcript());
        let mut json_args = vec!["--json"];
        json_args.extend(&args);
        let refused = sandbox.eka_at(dir, &json_args);
        assert_eq!(refused.code, 1, "{name} --json: {}", refused.transcript());
        assert_run_without_password(name, &refused);
    }
    assert_eq!(
        sandbox.read("consumer/atom.toml"),
        atom_toml("consumer", "0.1.0")
    );
    assert!(!sandbox.path("consumer/atom.lock").exists());

    // A git remote configured with a password is refused the same way.
    set.run(["remote", "add", "origin", url]);
    let refused = sandbox.eka_at(set.path(), &["publish", "--all"]);
    assert_eq!(refused.code, 1, "{}", refused.transcript());
    assert!(refused.stderr.contains("user:***@"), "{}", refused.stderr);
    assert_run_without_password("publish to origin", &refused);

    // A manifest with one: the message and the line it shows are redacted.
    sandbox.write(
        "manifest/atom.toml",
        &atom_toml_with(
            "manifest",
            "0.1.0",
            &format!("[package.sets]\nc = \"{url}\"\n[deps.from.c]\nx = \"^1\"\n"),
        ),
    );
    for args in [&["resolve"][..], &["--json", "resolve"]] {
        let refused = sandbox.eka_in("manifest", args);
        assert_eq!(refused.code, 1, "{}", refused.transcript());
        assert!(refused.stderr.contains("user:***@"), "{}", refused.stderr);
        assert_run_without_password("manifest", &refused);
        if args.len() == 1 {
            snapshot!("refused_manifest", refused.transcript());
        }
    }
}
