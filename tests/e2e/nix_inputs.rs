//! Locking direct Nix inputs (`[deps.direct.nix]`) with `eka add --nix`, `resolve`,
//! `update` and `remove`, checked against real Nix (Debian `nix-bin` 2.8, offline, a
//! private chroot store): the pins eka computes are the ones `builtins.fetchGit`,
//! `builtins.fetchurl` and `builtins.fetchTarball` report and accept, the library's
//! `fromLock` evaluates them purely, and a wrong pin is refused by Nix.
//!
//! Plain files are served over `http://127.0.0.1` by a tiny in-test HTTP/1.1 server
//! (a thread on a listener bound before the test starts fetching).

use std::{
    fs,
    io::{BufRead, BufReader, Write},
    net::TcpListener,
};

use atom::lock::{Lockfile, NixKind};
use eka_test_support::TestRepo;

use crate::{
    common::Sandbox,
    nix::{Nix, NixEval as _, file_url, library_expression, pinned_path},
    nix_common::hello_tarball,
};

const MANIFEST: &str = "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\n";

/// An upstream repository with tags `v1.0.0` (lightweight), `v1.2.0` (annotated),
/// `v1.3.0-rc.1` (a pre-release) and `2.0.0`, on branch `main`.
fn upstream() -> TestRepo {
    let repo = TestRepo::init();
    for (value, tag, annotated) in [
        ("1", "v1.0.0", false),
        ("12", "v1.2.0", true),
        ("13", "v1.3.0-rc.1", false),
        ("2", "2.0.0", false),
    ] {
        repo.write("default.nix", format!("{{ v = {value}; }}\n"));
        repo.write("sub/data.txt", format!("data {value}\n"));
        repo.commit(&format!("release {tag}"));
        if annotated {
            repo.run(["tag", "-a", tag, "-m", tag]);
        } else {
            repo.run(["tag", tag]);
        }
    }
    repo
}

fn lock_of(sandbox: &Sandbox) -> Lockfile {
    Lockfile::read(sandbox.path("atom.lock")).unwrap()
}

fn input<'a>(lock: &'a Lockfile, name: &str) -> &'a atom::lock::LockedNixInput {
    lock.nix
        .iter()
        .find(|input| input.name.as_str() == name)
        .unwrap_or_else(|| panic!("no `{name}` in {lock:?}"))
}

/// `(fromLock { lock = <the sandbox's atom.lock> }).nix` in a pure evaluation.
fn from_lock_nix(sandbox: &Sandbox) -> String {
    format!(
        "({}.fromLock {{ lock = {}; }}).nix",
        library_expression(),
        pinned_path(&sandbox.path("atom.lock"), "atom.lock")
    )
}

/// Serve `body` to every request on `http://127.0.0.1:<port>/…` for the rest of the test
/// process.
fn serve(body: Vec<u8>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 0) && line != "\r\n" {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    port
}

#[test]
fn git_inputs_by_ref_and_version_are_locked_as_fetch_git_reports() {
    let upstream = upstream();
    let url = file_url(upstream.path());
    let sandbox = Sandbox::new();
    sandbox.write("atom.toml", MANIFEST);
    let added = sandbox
        .eka(&["add", "--nix", "lib", &url, "--version", "^1"])
        .success();
    assert!(
        added.stderr.contains("Locking lib 1.2.0"),
        "{}",
        added.stderr
    );
    sandbox
        .eka(&["add", "--nix", "head", &url, "--git", "main"])
        .success();
    let manifest = sandbox.read("atom.toml");
    assert!(
        manifest.contains(&format!("lib = {{ git = \"{url}\", version = \"^1\" }}")),
        "{manifest}"
    );
    assert!(
        manifest.contains(&format!("head = {{ git = \"{url}\", ref = \"main\" }}")),
        "{manifest}"
    );

    let lock = lock_of(&sandbox);
    let lib = input(&lock, "lib");
    assert_eq!(lib.kind, NixKind::Git);
    // `^1` takes the newest 1.x release: not the pre-release, not 2.0.0.
    assert_eq!(lib.version.as_ref().unwrap().to_string(), "1.2.0");
    assert_eq!(lib.reference.as_deref(), Some("refs/tags/v1.2.0"));
    // The annotated tag is peeled to its commit.
    assert_eq!(
        lib.rev.as_ref().unwrap().as_str(),
        upstream.rev_parse("v1.2.0^{commit}")
    );
    assert_ne!(
        upstream.rev_parse("v1.2.0"),
        upstream.rev_parse("v1.2.0^{commit}")
    );
    let head = input(&lock, "head");
    assert_eq!(head.reference.as_deref(), Some("refs/heads/main"));
    assert_eq!(head.rev.as_ref().unwrap().as_str(), upstream.head());
    assert_eq!(head.version, None);

    // Nix reports the same narHash for the same fetch.
    let nix = Nix::new();
    for locked in [lib, head] {
        let reported = nix
            .eval(
                &[],
                &format!(
                    "(builtins.fetchGit {{ url = \"{url}\"; ref = \"{}\"; rev = \"{}\"; }}).narHash",
                    locked.reference.as_deref().unwrap(),
                    locked.rev.as_ref().unwrap()
                ),
            )
            .unwrap();
        assert_eq!(
            reported,
            format!("\"{}\"", locked.nar_hash.as_ref().unwrap()),
            "{}",
            locked.name
        );
    }

    // The library fetches both purely, checking `narHash`.
    let value = nix
        .eval_pure(&format!(
            "let nix = {}; in [ (import nix.lib).v (import nix.head).v (builtins.readFile (nix.lib + \"/sub/data.txt\")) ]",
            from_lock_nix(&sandbox)
        ))
        .unwrap();
    assert_eq!(value, "[12,2,\"data 12\\n\"]");

    // A wrong narHash is refused by Nix.
    let text = sandbox.read("atom.lock");
    let good = lib.nar_hash.as_ref().unwrap().to_string();
    let wrong = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    sandbox.write("atom.lock", &text.replacen(&good, wrong, 1));
    let error = Nix::new()
        .eval_pure(&format!("(import {}.lib).v", from_lock_nix(&sandbox)))
        .unwrap_err();
    assert!(error.contains("NAR hash mismatch"), "{error}");
    sandbox.write("atom.lock", &text);
}

#[test]
fn locked_inputs_stay_until_updated_and_offline_refuses_new_ones() {
    let upstream = upstream();
    let url = file_url(upstream.path());
    let sandbox = Sandbox::new();
    sandbox.write(
        "atom.toml",
        &format!("{MANIFEST}\n[deps.direct.nix]\nlib = {{ git = \"{url}\", version = \"^1\" }}\n"),
    );
    sandbox.eka(&["resolve"]).success();
    let before = sandbox.read("atom.lock");
    assert_eq!(
        input(&lock_of(&sandbox), "lib")
            .version
            .as_ref()
            .unwrap()
            .to_string(),
        "1.2.0"
    );

    // A newer matching release appears: `resolve` keeps the pin, offline included.
    upstream.write("default.nix", "{ v = 15; }\n");
    upstream.commit("release 1.5.0");
    upstream.run(["tag", "1.5.0"]);
    let resolved = sandbox.eka(&["resolve"]).success();
    assert!(resolved.stderr.contains("Unchanged"), "{}", resolved.stderr);
    sandbox.eka(&["--offline", "resolve"]).success();
    assert_eq!(sandbox.read("atom.lock"), before);
    // `--locked` passes, nothing would change.
    sandbox.eka(&["--locked", "resolve"]).success();

    // `update lib` moves it (offline it cannot, and keeps it).
    sandbox.eka(&["--offline", "update", "lib"]).success();
    assert_eq!(sandbox.read("atom.lock"), before);
    let updated = sandbox.eka(&["update", "lib"]).success();
    assert!(
        updated.stderr.contains("Updating lib 1.2.0 -> 1.5.0"),
        "{}",
        updated.stderr
    );
    let lib = input(&lock_of(&sandbox), "lib").clone();
    assert_eq!(lib.reference.as_deref(), Some("refs/tags/1.5.0"));
    assert_eq!(lib.rev.as_ref().unwrap().as_str(), upstream.head());

    // A new input cannot be locked offline: refused, naming it, nothing written.
    let manifest = sandbox.read("atom.toml");
    let lock = sandbox.read("atom.lock");
    let refused = sandbox
        .eka(&["--offline", "add", "--nix", "other", &url, "--git", "main"])
        .refused();
    assert!(
        refused
            .stderr
            .contains("cannot lock Nix input `other` offline"),
        "{}",
        refused.stderr
    );
    assert_eq!(sandbox.read("atom.toml"), manifest);
    assert_eq!(sandbox.read("atom.lock"), lock);

    // Unknown refs and unmatched requirements are refused, naming the input.
    let refused = sandbox
        .eka(&["add", "--nix", "other", &url, "--git", "nope"])
        .refused();
    assert!(
        refused
            .stderr
            .contains("Nix input `other`: ref `nope` not found"),
        "{}",
        refused.stderr
    );
    let refused = sandbox
        .eka(&["add", "--nix", "other", &url, "--version", "^3"])
        .refused();
    assert!(
        refused.stderr.contains("matches `^3`"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("`v1.2.0`"), "{}", refused.stderr);
    assert_eq!(sandbox.read("atom.toml"), manifest);

    // Changing the manifest entry locks it again; `remove` drops it from both files.
    let edited = manifest.replace("version = \"^1\"", "ref = \"v1.0.0\"");
    sandbox.write("atom.toml", &edited);
    sandbox.eka(&["resolve"]).success();
    let lib = input(&lock_of(&sandbox), "lib").clone();
    assert_eq!(lib.reference.as_deref(), Some("refs/tags/v1.0.0"));
    assert_eq!(lib.version, None);
    sandbox.eka(&["remove", "lib"]).success();
    assert!(!sandbox.read("atom.toml").contains("lib"));
    assert!(lock_of(&sandbox).nix.is_empty());
}

#[test]
fn url_and_tar_inputs_carry_hashes_nix_accepts() {
    let files = tempfile::tempdir().unwrap();
    let data = files.path().join("data.txt");
    fs::write(&data, "fetched by url\n").unwrap();
    let tarball = hello_tarball(files.path());
    let port = serve(b"served over http\n".to_vec());
    let http_url = format!("http://127.0.0.1:{port}/served.txt");

    let sandbox = Sandbox::new();
    sandbox.write("atom.toml", MANIFEST);
    sandbox
        .eka(&["add", "--nix", "data", &file_url(&data)])
        .success();
    sandbox.eka(&["add", "--nix", "web", &http_url]).success();
    sandbox
        .eka(&["add", "--nix", "src", &file_url(&tarball), "--tar"])
        .success();
    sandbox
        .eka(&["add", "--nix", "blob", &file_url(&data), "--build"])
        .success();
    let manifest = sandbox.read("atom.toml");
    assert!(manifest.contains("src = { tar = "), "{manifest}");
    assert!(manifest.contains("blob = { build = "), "{manifest}");

    let lock = lock_of(&sandbox);
    let (data_input, web, src, blob) = (
        input(&lock, "data"),
        input(&lock, "web"),
        input(&lock, "src"),
        input(&lock, "blob"),
    );
    assert_eq!(data_input.kind, NixKind::Url);
    assert_eq!(src.kind, NixKind::Tar);
    assert_eq!(blob.kind, NixKind::Build);
    assert!(src.hash.is_none() && src.nar_hash.is_some());
    // `build` and `url` of the same file carry the same hashes.
    assert_eq!(blob.hash, data_input.hash);
    assert_eq!(blob.nar_hash, data_input.nar_hash);

    // Nix accepts the pins: `fetchurl` checks the flat hash, `fetchTarball` the NAR hash.
    let nix = Nix::new();
    let value = nix
        .eval_pure(&format!(
            "let nix = {}; in [ (builtins.readFile nix.data) (builtins.readFile nix.web) \
             (builtins.readFile (nix.src + \"/hello.txt\")) ]",
            from_lock_nix(&sandbox)
        ))
        .unwrap();
    assert_eq!(
        value,
        "[\"fetched by url\\n\",\"served over http\\n\",\"from a tarball\\n\"]"
    );
    // The flat hash is what `builtins.hashFile` computes over the fetched file.
    let hashes = nix
        .eval(
            &[],
            &format!(
                "let file = builtins.fetchurl {{ url = \"{}\"; sha256 = \"{}\"; }}; in \
                 builtins.hashFile \"sha256\" file",
                web.url,
                web.hash.as_ref().unwrap()
            ),
        )
        .unwrap();
    let hex = ::nix::Sha256Hash::parse(web.hash.as_ref().unwrap().as_str())
        .unwrap()
        .to_hex();
    assert_eq!(hashes, format!("\"{hex}\""));

    // Wrong hashes are refused by Nix.
    let text = sandbox.read("atom.lock");
    let wrong = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    for (name, good) in [
        ("web", web.hash.as_ref().unwrap().to_string()),
        ("src", src.nar_hash.as_ref().unwrap().to_string()),
    ] {
        sandbox.write("atom.lock", &text.replacen(&good, wrong, 1));
        let error = Nix::new()
            .eval_pure(&format!(
                "builtins.seq {}.{name} true",
                from_lock_nix(&sandbox)
            ))
            .unwrap_err();
        assert!(error.contains("hash mismatch"), "{name}: {error}");
    }
    sandbox.write("atom.lock", &text);
    assert_eq!(lock_of(&sandbox).nix.len(), 4);
}
