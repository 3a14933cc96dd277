//! Nix's remote-build settings through `eka build` and `eka attest` against real Nix
//! (2.8, offline, private chroot stores): `--substituters` and `--trusted-public-keys`
//! take an output from a signed binary cache served over http by lighttpd instead of
//! building it (`--option max-jobs 0` forbids building here), `--store` builds into a
//! chroot store named on the command line, and settings that are empty, hold a line
//! break or would make the evaluation impure are refused before Nix runs. No remote
//! builder (`--builders`) exists here: only its hand-over is checked, by unit tests.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
};

use eka_test_support::{Nix, server::HttpFileServer};

use crate::common::{Run, Sandbox};

/// A derivation Nix's chroot store can build without `/bin/sh`.
const ENTRY: &str = "{ atom, ... }: derivation { name = \"remote-${atom.label}\"; \
     system = \"builtin\"; builder = \"builtin:buildenv\"; derivations = \"\"; \
     manifest = builtins.toFile \"manifest\" \"[]\"; }\n";

fn nix_config(nix: &Nix) -> String {
    format!(
        "substituters =\nflake-registry =\nexperimental-features = nix-command flakes\n\
         sandbox = false\nbuild-users-group =\nstore = {}\n",
        nix.store().display()
    )
}

/// eka in the sandbox's atom `app` with Nix configured to use `nix`'s store.
fn eka(sandbox: &Sandbox, nix: &Nix, args: &[&str]) -> Run {
    let mut command = sandbox.command();
    eka_test_support::nix::remove_host_variables(&mut command);
    command
        .env("NIX_CONFIG", nix_config(nix))
        .arg("-C")
        .arg(sandbox.path("app"))
        .args(args)
        .stdin(Stdio::null());
    Run::from_output(command.output().unwrap())
}

/// A sandbox holding the atom `app` whose entry point is [`ENTRY`].
fn app() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write(
        "app/atom.toml",
        "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\nentry = \"default.nix\"\n",
    );
    sandbox.write("app/default.nix", ENTRY);
    sandbox
}

/// Run `nix --extra-experimental-features nix-command ARGS` in `nix`'s environment;
/// its stdout.
fn nix_command(nix: &Nix, args: &[&str], input: Option<&Path>) -> String {
    let mut command = nix.command("nix");
    command.args(["--extra-experimental-features", "nix-command"]);
    command.args(args);
    if let Some(input) = input {
        command.stdin(std::fs::File::open(input).unwrap());
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "nix {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// A binary cache signing key `name` made by `nix key generate-secret`: (secret key
/// file, public key).
fn cache_key(nix: &Nix, dir: &Path, name: &str) -> (PathBuf, String) {
    let secret = dir.join(format!("{name}.secret"));
    let text = nix_command(nix, &["key", "generate-secret", "--key-name", name], None);
    std::fs::write(&secret, text).unwrap();
    let public = nix_command(nix, &["key", "convert-secret-to-public"], Some(&secret));
    (secret, public.trim().to_owned())
}

#[test]
fn nix_build_takes_the_output_from_an_http_binary_cache_instead_of_building() {
    let sandbox = app();
    // Built once by a builder, copied (signed) to a binary cache served over http.
    let builder = Nix::new();
    let built = eka(&sandbox, &builder, &["build"]).success();
    let output = built.stdout.trim().to_owned();
    assert!(output.ends_with("-remote-app"), "{output}");
    let served = tempfile::tempdir().unwrap();
    let (secret, public) = cache_key(&builder, served.path(), "eka-test-cache-1");
    let to = format!(
        "file://{}/cache?secret-key={}",
        served.path().display(),
        secret.display()
    );
    let store = builder.store();
    nix_command(
        &builder,
        &[
            "--store",
            store.to_str().unwrap(),
            "copy",
            "--to",
            &to,
            &output,
        ],
        None,
    );
    let server = HttpFileServer::start(served.path());
    let url = server.url("cache");

    // An empty store that may not build anything: without the cache the build fails.
    let fresh = Nix::new();
    let unbuildable = eka(&sandbox, &fresh, &["build", "--option", "max-jobs", "0"]);
    assert_eq!(unbuildable.code, 1, "{}", unbuildable.stderr);
    let cannot_build = "unable to start any build";
    assert!(
        unbuildable.stderr.contains(cannot_build),
        "{}",
        unbuildable.stderr
    );
    // The cache without its key: Nix refuses its unsigned-for-us paths.
    let untrusted = eka(
        &sandbox,
        &fresh,
        &["build", "--substituters", &url, "--option", "max-jobs", "0"],
    );
    assert_eq!(untrusted.code, 1, "{}", untrusted.stderr);
    assert!(
        untrusted.stderr.contains(cannot_build),
        "{}",
        untrusted.stderr
    );
    // With the key: the output comes from the http cache, signed by it.
    let substituted = eka(
        &sandbox,
        &fresh,
        &[
            "build",
            "--substituters",
            &url,
            "--trusted-public-keys",
            &public,
            "--option",
            "max-jobs",
            "0",
        ],
    )
    .success();
    assert_eq!(substituted.stdout.trim(), output);
    let fresh_store = fresh.store();
    let signatures = nix_command(
        &fresh,
        &[
            "--store",
            fresh_store.to_str().unwrap(),
            "path-info",
            "--sigs",
            &output,
        ],
        None,
    );
    assert!(signatures.contains("eka-test-cache-1:"), "{signatures}");
}

#[test]
fn nix_build_into_the_store_named_by_store() {
    let sandbox = app();
    let configured = Nix::new();
    let other = tempfile::tempdir().unwrap();
    for store in [
        other.path().join("plain").display().to_string(),
        format!("local?root={}", other.path().join("root").display()),
    ] {
        let built = eka(&sandbox, &configured, &["build", "--store", &store]).success();
        let output = built.stdout.trim().to_owned();
        let relative = output.trim_start_matches('/');
        let root = store.trim_start_matches("local?root=");
        assert!(
            Path::new(root).join(relative).exists(),
            "{output} not in {store}"
        );
        assert!(!configured.store().join(relative).exists());
    }
}

#[test]
fn nix_settings_that_are_malformed_or_impure_are_refused_before_nix_runs() {
    let sandbox = app();
    let nix = Nix::new();
    let refused = |args: &[&str], expected: &str| {
        let run = eka(&sandbox, &nix, args).refused();
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains("hint:"), "{args:?}: {}", run.stderr);
        run
    };
    let impure = refused(
        &["build", "--option", "pure-eval", "false"],
        "`--option pure-eval` would let the evaluation read more than `atom.lock` pins",
    );
    assert!(!impure.stderr.contains("Building"), "{}", impure.stderr);
    refused(
        &["eval", "--option", "allowed-uris", "https://"],
        "`--option allowed-uris`",
    );
    refused(
        &["build", "--builders", "ssh://a x86_64-linux\nssh://b"],
        "holding a line break",
    );
    refused(
        &["build", "--substituters", "http://a http://b"],
        "holding whitespace",
    );
    refused(
        &["build", "--store", ""],
        "`--store` is given an empty value",
    );
    refused(
        &["build", "--option", "max jobs", "1"],
        "invalid setting name",
    );
    // `eka attest` refuses them before it looks for a signing key.
    refused(
        &["attest", "--option", "restrict-eval", "false"],
        "`--option restrict-eval`",
    );
    // Nothing was built or added to the store.
    assert!(!nix.store().join("nix/store").exists());
}
