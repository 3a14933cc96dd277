//! Nix inputs over `https://`: a lighttpd (`mod_openssl`) on loopback with a certificate
//! authority made for the run. `eka add --nix` locks a tarball and a file trusting the CA
//! through `SSL_CERT_FILE`, and real Nix (2.8, offline, a private chroot store) fetches
//! them again by those pins in `eka eval`, told about the CA by `NIX_SSL_CERT_FILE`.
//! Without the CA the download is an environment failure (exit 2) naming the URL with a
//! hint; a redirect chain longer than eka's limit is refused.

use std::{
    fs,
    path::Path,
    process::{Command, Stdio},
};

use eka_test_support::{Nix, server::HttpsFileServer};

use crate::common::{Run, Sandbox};

const MANIFEST: &str =
    "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\nentry = \"nix/default.nix\"\n";

/// `data.txt` and `pkg.tar.gz` (one top-level directory `pkg-1.0/` with `hello.txt`).
fn serve_files() -> (tempfile::TempDir, HttpsFileServer) {
    let files = tempfile::tempdir().unwrap();
    fs::write(files.path().join("data.txt"), "fetched over https\n").unwrap();
    let staging = tempfile::tempdir().unwrap();
    fs::create_dir_all(staging.path().join("pkg-1.0")).unwrap();
    fs::write(
        staging.path().join("pkg-1.0/hello.txt"),
        "from an https tarball\n",
    )
    .unwrap();
    let status = Command::new("tar")
        .arg("-C")
        .arg(staging.path())
        .arg("-czf")
        .arg(files.path().join("pkg.tar.gz"))
        .arg("pkg-1.0")
        .status()
        .unwrap();
    assert!(status.success());
    let server = HttpsFileServer::start(files.path());
    (files, server)
}

fn run(command: &mut Command) -> Run {
    let output = command.stdin(Stdio::null()).output().unwrap();
    Run::from_output(output)
}

/// eka in the sandbox with no certificate variables from the host, trusting `ca` when
/// given.
fn eka(sandbox: &Sandbox, ca: Option<&Path>, args: &[&str]) -> Run {
    let mut command = sandbox.command();
    for variable in ["SSL_CERT_FILE", "SSL_CERT_DIR", "NIX_SSL_CERT_FILE"] {
        command.env_remove(variable);
    }
    if let Some(ca) = ca {
        command.env("SSL_CERT_FILE", ca);
    }
    run(command.args(args))
}

#[test]
fn https_inputs_are_locked_with_the_ca_and_fetched_by_nix() {
    let (_files, server) = serve_files();
    let ca = server.ca_file();
    let sandbox = Sandbox::new();
    sandbox.write("atom.toml", MANIFEST);
    sandbox.write(
        "nix/default.nix",
        "{ nix, ... }: {\n  data = builtins.readFile nix.data;\n  \
         tarball = builtins.readFile (nix.src + \"/hello.txt\");\n}\n",
    );
    let data_url = server.url("data.txt");
    // One redirect (within the limit) on the way to the tarball.
    let tar_url = server.url("redirect/pkg.tar.gz");
    eka(&sandbox, Some(&ca), &["add", "--nix", "data", &data_url]).success();
    eka(
        &sandbox,
        Some(&ca),
        &["add", "--nix", "src", &tar_url, "--tar"],
    )
    .success();
    let manifest = sandbox.read("atom.toml");
    assert!(
        manifest.contains(&format!("data = {{ url = \"{data_url}\" }}")),
        "{manifest}"
    );
    assert!(
        manifest.contains(&format!("src = {{ tar = \"{tar_url}\" }}")),
        "{manifest}"
    );
    let lock = atom::lock::Lockfile::read(sandbox.path("atom.lock")).unwrap();
    assert_eq!(lock.nix.len(), 2);
    assert!(lock.nix.iter().all(|input| input.nar_hash.is_some()));

    // Real Nix fetches both again over https by the pins eka wrote.
    let nix = Nix::new();
    let mut command = sandbox.command();
    eka_test_support::nix::remove_host_variables(&mut command);
    command
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR")
        .env("NIX_SSL_CERT_FILE", &ca)
        .env(
            "NIX_CONFIG",
            format!(
                "substituters =\nflake-registry =\nexperimental-features = nix-command\n\
                 sandbox = false\nbuild-users-group =\nstore = {}\n",
                nix.store().display()
            ),
        )
        .args(["eval"]);
    let value = run(&mut command).success();
    assert_eq!(
        value.stdout.trim(),
        "{\"data\":\"fetched over https\\n\",\"tarball\":\"from an https tarball\\n\"}",
        "{}",
        value.stderr
    );
}

#[test]
fn https_without_the_ca_is_an_environment_error_naming_the_url() {
    let (_files, server) = serve_files();
    let sandbox = Sandbox::new();
    sandbox.write("atom.toml", MANIFEST);
    let url = server.url("pkg.tar.gz");
    let failed = eka(&sandbox, None, &["add", "--nix", "src", &url, "--tar"]);
    assert_eq!(failed.code, 2, "{}", failed.stderr);
    assert!(
        failed.stderr.contains(&format!(
            "error: Nix input `src`: cannot fetch `{url}`: TLS failed: "
        )),
        "{}",
        failed.stderr
    );
    assert!(
        failed.stderr.contains("\nhint: ") && failed.stderr.contains("`SSL_CERT_FILE`"),
        "{}",
        failed.stderr
    );
    // Nothing was written.
    assert_eq!(sandbox.read("atom.toml"), MANIFEST);
    assert!(!sandbox.path("atom.lock").exists());
}

#[test]
fn https_redirect_chains_over_the_limit_and_downgrades_are_refused() {
    let (_files, server) = serve_files();
    let sandbox = Sandbox::new();
    sandbox.write("atom.toml", MANIFEST);
    let url = server.url("loop/a");
    let failed = eka(
        &sandbox,
        Some(&server.ca_file()),
        &["add", "--nix", "data", &url],
    )
    .refused();
    assert!(
        failed.stderr.contains(&format!(
            "error: Nix input `data`: refused to fetch `{url}`: more than 5 redirects"
        )),
        "{}",
        failed.stderr
    );
    assert!(failed.stderr.contains("\nhint: "), "{}", failed.stderr);
    assert_eq!(sandbox.read("atom.toml"), MANIFEST);

    // A redirect from https down to http is refused before it is followed.
    let url = server.url("downgrade/data.txt");
    let failed = eka(
        &sandbox,
        Some(&server.ca_file()),
        &["add", "--nix", "data", &url],
    )
    .refused();
    assert!(
        failed.stderr.contains(&format!(
            "error: Nix input `data`: refused to fetch `{url}`: a redirect from `https://` \
             down to `http://127.0.0.1:{}/data.txt`",
            server.port()
        )),
        "{}",
        failed.stderr
    );
    assert_eq!(sandbox.read("atom.toml"), MANIFEST);
}

#[test]
fn https_inputs_by_a_user_alias_are_written_expanded() {
    let (_files, server) = serve_files();
    let sandbox = Sandbox::new();
    sandbox.write("atom.toml", MANIFEST);
    sandbox.write(
        "eka.toml",
        &format!("[aliases]\nlo = \"{}\"\n", server.url("")),
    );
    let ca = server.ca_file();
    eka(
        &sandbox,
        Some(&ca),
        &["add", "--nix", "data", "lo:data.txt"],
    )
    .success();
    eka(
        &sandbox,
        Some(&ca),
        &["add", "--nix", "src", "lo:pkg.tar.gz", "--tar"],
    )
    .success();
    let manifest = sandbox.read("atom.toml");
    assert!(
        manifest.contains(&format!(
            "data = {{ url = \"{}\" }}",
            server.url("data.txt")
        )),
        "{manifest}"
    );
    assert!(
        manifest.contains(&format!(
            "src = {{ tar = \"{}\" }}",
            server.url("pkg.tar.gz")
        )),
        "{manifest}"
    );
    assert!(!manifest.contains("lo:"), "{manifest}");
    // An unknown alias is refused before anything is fetched or written.
    let unknown = eka(&sandbox, Some(&ca), &["add", "--nix", "x", "nope:data.txt"]).refused();
    assert!(unknown.stderr.contains("`nope`"), "{}", unknown.stderr);
    assert_eq!(sandbox.read("atom.toml"), manifest);
}

#[test]
fn https_a_refused_input_names_the_entry_not_a_line_past_the_file() {
    let sandbox = Sandbox::new();
    sandbox.write("atom.toml", MANIFEST);
    let failed = eka(
        &sandbox,
        None,
        &["add", "--nix", "src", "ftp://127.0.0.1/x.tar.gz", "--tar"],
    )
    .refused();
    let work = sandbox.work();
    assert_eq!(
        failed.stderr.replace(&work.display().to_string(), "<work>"),
        "error: cannot write `deps.direct.nix.src` into `<work>/atom.toml`: URL \
         `ftp://127.0.0.1/x.tar.gz` has unsupported scheme `ftp`\n\
         hint: use an `https://`, `http://` or `file://` URL\n"
    );
    assert_eq!(sandbox.read("atom.toml"), MANIFEST);
}

#[test]
fn https_tree_shows_the_direct_nix_inputs_under_the_project() {
    let (_files, server) = serve_files();
    let ca = server.ca_file();
    let upstream = eka_test_support::TestRepo::init();
    upstream.write("default.nix", "{ v = 1; }\n");
    upstream.commit("first");
    let sandbox = Sandbox::new();
    sandbox.write("atom.toml", MANIFEST);
    let git_url = format!("file://{}", upstream.path().display());
    for args in [
        vec!["add", "--nix", "data", &*server.url("data.txt")],
        vec!["add", "--nix", "src", &*server.url("pkg.tar.gz"), "--tar"],
        vec!["add", "--nix", "lib", &git_url, "--git", "main", "--flake"],
    ] {
        eka(&sandbox, Some(&ca), &args).success();
    }
    let lock = atom::lock::Lockfile::read(sandbox.path("atom.lock")).unwrap();
    let rev = lock.nix[1].rev.as_ref().unwrap().to_string();
    let stable = |text: String| {
        text.replace(&upstream.path().display().to_string(), "[upstream]")
            .replace(&rev, "[rev]")
            .replace(&rev[..12], "[rev12]")
    };
    let human = eka(&sandbox, None, &["tree"]).success();
    let human = stable(human.transcript());
    crate::common::snapshot!("nix_https_tree_human", human);
    let json = eka(&sandbox, None, &["--json", "tree"]).success();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["schema"], 1);
    assert_eq!(value["nodes"], serde_json::json!([]));
    assert_eq!(
        value["nix"]
            .as_array()
            .unwrap()
            .iter()
            .map(|input| input["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["data", "lib", "src"]
    );
    let json = stable(json.transcript());
    crate::common::snapshot!("nix_https_tree_json", json);
}
