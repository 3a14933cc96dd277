//! `eka eval`, `eka build` and `eka export --flake` against real Nix (Debian `nix-bin`
//! 2.8), offline, with a private chroot store given to eka's Nix through `NIX_CONFIG`;
//! and `url` inputs fetched at evaluation time by their flat hash.

use std::{
    fs,
    path::Path,
    process::{Command, Stdio},
};

use ::nix::{flat_hash, nar};
use atom::{
    Label,
    lock::{FlatHash, LockedNixInput, Lockfile, NarHash, NixKind},
};

use crate::{
    common::{Run, Sandbox, snapshot},
    nix::{EXPECTED, Nix, consumer, file_url, nix_inputs, publish_set},
    nix_common::eka_with_nix,
};

fn run(mut command: Command) -> Run {
    let output = command.stdin(Stdio::null()).output().unwrap();
    Run::from_output(output)
}

/// Run eka on the atom at `dir` with Nix pointed at the private store.
fn eka(sandbox: &Sandbox, nix: &Nix, dir: &Path, args: &[&str]) -> Run {
    run(eka_with_nix(sandbox, nix, dir, args))
}

/// The published three-level set and a consumer locking its atoms and no Nix input.
/// The set is returned so its remote lives as long as the test.
fn atoms_only_consumer() -> (crate::nix::Published, tempfile::TempDir) {
    let set = publish_set(&[]);
    let app = set.atoms_only_consumer();
    (set, app)
}

#[test]
fn eval_evaluates_the_atom_with_its_locked_inputs() {
    let set = publish_set(&[]);
    let inputs = nix_inputs();
    let lock = set.lock(inputs.locked());
    let app = consumer(&set.url(), &lock);
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let value = eka(&sandbox, &nix, app.path(), &["eval"]).success();
    assert_eq!(value.stdout.trim(), EXPECTED);
    // Only stdout: Nix's own warnings on stderr depend on the machine.
    snapshot!("eval", &value.stdout);
    // Nix's value is already JSON: `--json` prints it as is, with no `schema` wrapper.
    let json = eka(&sandbox, &nix, app.path(), &["--json", "eval"]).success();
    assert_eq!(json.stdout, value.stdout);
    let value = eka(&sandbox, &nix, app.path(), &["eval", "n"]).success();
    assert_eq!(value.stdout.trim(), "111");
    // The atom directory was copied, not modified, and the staging copy is gone.
    assert!(!app.path().join("result").exists());
    let staging = sandbox.dir.path().join("cache/eka/eval");
    assert_eq!(fs::read_dir(staging).unwrap().count(), 0);
    let missing = eka(&sandbox, &nix, app.path(), &["eval", "nope"]).refused();
    assert!(
        missing.stderr.contains("attribute 'nope' missing"),
        "{}",
        missing.stderr
    );
}

#[test]
fn the_configuration_is_canonical_hashed_and_seen_by_the_entry_point() {
    let (_set, app) = atoms_only_consumer();
    fs::write(
        app.path().join("nix/default.nix"),
        "{ deps, nix, atom }: { hash = atom.configHash; config = atom.config; n = deps.top.n; }\n",
    )
    .unwrap();
    fs::write(
        app.path().join("c.json"),
        "{ \"b\": [1, 2],\n  \"a\": \"x\" }\n",
    )
    .unwrap();
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let eval = |args: &[&str]| {
        let run = eka(&sandbox, &nix, app.path(), args).success();
        serde_json::from_str::<serde_json::Value>(run.stdout.trim()).unwrap()
    };
    let sha = |text: &str| format!("sha256:{}", flat_hash(text.as_bytes()).unwrap().to_hex());
    let plain = eval(&["eval"]);
    assert_eq!(plain["hash"], sha("{}"));
    assert_eq!(plain["n"], 111);
    let from_file = eval(&["eval", "--config", "c.json"]);
    assert_eq!(from_file["hash"], sha(r#"{"a":"x","b":[1,2]}"#));
    assert_eq!(from_file["config"]["b"][1], 2);
    let overridden = eval(&["eval", "--config", "c.json", "--set", "a=y", "--set", "c=3"]);
    assert_eq!(overridden["hash"], sha(r#"{"a":"y","b":[1,2],"c":3}"#));
    assert_ne!(overridden["hash"], from_file["hash"]);
    let bad = eka(&sandbox, &nix, app.path(), &["eval", "--set", "novalue"]).refused();
    assert!(bad.stderr.contains("novalue"), "{}", bad.stderr);
}

#[test]
fn evaluation_is_pure() {
    let (_set, app) = atoms_only_consumer();
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret"), "s").unwrap();
    fs::write(
        app.path().join("nix/default.nix"),
        format!(
            "{{ ... }}: {{ env = builtins.getEnv \"HOME\"; \
             file = builtins.readFile {}/secret; }}\n",
            fs::canonicalize(outside.path()).unwrap().display()
        ),
    )
    .unwrap();
    let env = eka(&sandbox, &nix, app.path(), &["eval", "env"]).success();
    assert_eq!(env.stdout.trim(), "\"\"", "getEnv is empty in pure mode");
    let file = eka(&sandbox, &nix, app.path(), &["eval", "file"]).refused();
    assert!(
        file.stderr.contains("forbidden in pure eval mode"),
        "{}",
        file.stderr
    );
    assert!(
        file.stderr.contains("hint: the evaluation is pure"),
        "{}",
        file.stderr
    );
}

#[test]
fn build_builds_a_derivation_of_the_atom() {
    let (_set, app) = atoms_only_consumer();
    fs::write(
        app.path().join("nix/default.nix"),
        // A chroot store cannot run `/bin/sh`; Nix's built-in `buildenv` builder needs nothing.
        "{ deps, atom, ... }: { pkg = derivation { name = \"hello-${toString deps.top.n}-${atom.config.tag}\"; \
         system = \"builtin\"; builder = \"builtin:buildenv\"; derivations = \"\"; \
         manifest = builtins.toFile \"manifest\" \"[]\"; }; }\n",
    )
    .unwrap();
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let built = eka(
        &sandbox,
        &nix,
        app.path(),
        &["build", "pkg", "--set", "tag=t"],
    )
    .success();
    let path = built.stdout.trim();
    assert!(
        path.starts_with("/nix/store/") && path.ends_with("-hello-111-t"),
        "{path}"
    );
    // The chroot store holds the output under its own root; no `result` link is made.
    assert!(nix.store().join(path.trim_start_matches('/')).is_dir());
    assert!(!app.path().join("result").exists());
}

#[test]
fn a_missing_nix_is_refused_naming_nix_bin() {
    let app = tempfile::tempdir().unwrap();
    fs::write(
        app.path().join("atom.toml"),
        "[package]\nlabel = \"a\"\nversion = \"0.1.0\"\nentry = \"default.nix\"\n",
    )
    .unwrap();
    let sandbox = Sandbox::new();
    let empty = tempfile::tempdir().unwrap();
    let mut command = sandbox.command();
    command
        .env("PATH", empty.path())
        .arg("-C")
        .arg(app.path())
        .arg("eval");
    let missing = run(command).refused();
    assert!(missing.stderr.contains("nix-bin"), "{}", missing.stderr);
    let nowhere = tempfile::tempdir().unwrap();
    let no_atom = sandbox
        .eka(&["-C", nowhere.path().to_str().unwrap(), "eval"])
        .refused();
    assert!(
        no_atom.stderr.contains("holds no `atom.toml`"),
        "{}",
        no_atom.stderr
    );
}

#[test]
fn url_inputs_are_fetched_at_evaluation_time_by_their_flat_hash() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.txt");
    fs::write(&file, "fetched by url\n").unwrap();
    let bytes = fs::read(&file).unwrap();
    let input = |hash: &str| LockedNixInput {
        name: Label::parse("data").unwrap(),
        kind: NixKind::Url,
        url: file_url(&file),
        reference: None,
        version: None,
        rev: None,
        nar_hash: Some(
            NarHash::parse(
                &nar::hash_regular(&bytes[..], bytes.len() as u64, false)
                    .unwrap()
                    .to_sri(),
            )
            .unwrap(),
        ),
        hash: Some(FlatHash::parse(hash).unwrap()),
        flake: false,
    };
    let good = flat_hash(&bytes[..]).unwrap().to_sri();
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    for (hash, ok) in [
        (good.as_str(), true),
        ("sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", false),
    ] {
        let set = publish_set(&[]);
        let app = consumer(
            &set.url(),
            &Lockfile {
                atoms: set.atoms.clone(),
                nix: vec![input(hash)],
                follows: Vec::new(),
            },
        );
        fs::write(
            app.path().join("nix/default.nix"),
            "{ nix, ... }: builtins.readFile nix.data\n",
        )
        .unwrap();
        let result = eka(&sandbox, &nix, app.path(), &["eval"]);
        if ok {
            assert_eq!(result.success().stdout.trim(), "\"fetched by url\\n\"");
        } else {
            let result = result.refused();
            assert!(
                result
                    .stderr
                    .contains("hash mismatch in file downloaded from"),
                "{}",
                result.stderr
            );
        }
    }
}

fn nix_flake(nix: &Nix, args: &[&str], flake: &Path) -> Run {
    let mut command = nix.command("nix");
    command
        .args([
            "--extra-experimental-features",
            "nix-command flakes",
            "--store",
        ])
        .arg(nix.store())
        .args(args)
        .arg(format!(
            "path:{}{}",
            fs::canonicalize(flake).unwrap().display(),
            if args.contains(&"eval") { "#value" } else { "" }
        ));
    run(command)
}

#[test]
fn export_flake_writes_a_lock_nix_accepts_without_relocking() {
    let set = publish_set(&[]);
    let inputs = nix_inputs();
    // A direct input that is itself a flake (`flake = true`): Nix evaluates its outputs
    // from the exported node, pinned by rev and narHash.
    let flake_repo = eka_test_support::TestRepo::init();
    flake_repo.write("flake.nix", "{ outputs = { self }: { answer = 7; }; }\n");
    flake_repo.commit("a flake");
    let flake_tree =
        gix::ObjectId::from_hex(flake_repo.rev_parse("HEAD^{tree}").as_bytes()).unwrap();
    let flake_nar = nar::hash_git_tree(&gix::open(flake_repo.path()).unwrap(), flake_tree)
        .unwrap()
        .to_sri();
    let flake_input = LockedNixInput {
        name: Label::parse("upstream").unwrap(),
        kind: NixKind::Git,
        url: file_url(flake_repo.path()),
        reference: Some("refs/heads/main".into()),
        version: None,
        rev: Some(atom::lock::ObjectId::parse(flake_repo.head().trim()).unwrap()),
        nar_hash: Some(NarHash::parse(&flake_nar).unwrap()),
        hash: None,
        flake: true,
    };
    let lock = Lockfile {
        atoms: set.atoms.clone(),
        nix: vec![inputs.git.clone(), inputs.tar.clone(), flake_input],
        follows: Vec::new(),
    };
    let app = consumer(&set.url(), &lock);
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let flake = tempfile::tempdir().unwrap();
    let flake_dir = flake.path().to_str().unwrap();
    let export = eka(
        &sandbox,
        &nix,
        app.path(),
        &["export", "--flake", "--output", flake_dir],
    )
    .success();
    snapshot!("export_flake", export.transcript());
    let declaration = export.stdout.trim();
    for name in ["\"base\"", "\"mid\"", "\"top\"", "\"helper\"", "\"src\""] {
        assert!(declaration.contains(name), "{declaration}");
    }
    let lock_text = fs::read_to_string(flake.path().join("flake.lock")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&lock_text).unwrap();
    assert_eq!(parsed["version"], 7);
    let top = &parsed["nodes"]["top"]["locked"];
    assert_eq!(top["rev"], set.atom("top").commit.as_str());
    assert_eq!(top["ref"], "refs/eka/atoms/top/1.0.0");
    // A second export gives the same bytes and leaves the file alone.
    let again = eka(
        &sandbox,
        &nix,
        app.path(),
        &["export", "--flake", "--output", flake_dir],
    )
    .success();
    assert!(again.stderr.contains("Unchanged"), "{}", again.stderr);
    let json = eka(
        &sandbox,
        &nix,
        app.path(),
        &["--json", "export", "--flake", "--output", flake_dir],
    )
    .success();
    let value: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(value["schema"], 1);
    assert_eq!(value["changed"], false);
    assert_eq!(value["inputs"].as_str().unwrap().trim(), declaration);
    snapshot!("export_flake_json", json.transcript());

    fs::write(
        flake.path().join("flake.nix"),
        format!(
            "{{\n  inputs = {declaration};\n  outputs = {{ self, ... }}@inputs: {{ value = {{\n    \
             data = builtins.readFile (inputs.top + \"/data.txt\");\n    \
             base = builtins.pathExists (inputs.base + \"/atom.toml\");\n    \
             answer = (import (inputs.helper + \"/lib.nix\")).answer;\n    \
             tarball = builtins.readFile (inputs.src + \"/hello.txt\");\n    \
             upstream = inputs.upstream.answer;\n  }}; }};\n}}\n"
        ),
    )
    .unwrap();
    let metadata = nix_flake(
        &nix,
        &["flake", "metadata", "--no-update-lock-file"],
        flake.path(),
    );
    assert_eq!(metadata.code, 0, "{}", metadata.stderr);
    let value = nix_flake(
        &nix,
        &["eval", "--no-update-lock-file", "--json"],
        flake.path(),
    );
    assert_eq!(value.code, 0, "{}", value.stderr);
    assert_eq!(
        value.stdout.trim(),
        "{\"answer\":42,\"base\":true,\"data\":\"top data\\n\",\"tarball\":\"from a tarball\\n\",\"upstream\":7}"
    );
    assert_eq!(
        fs::read_to_string(flake.path().join("flake.lock")).unwrap(),
        lock_text,
        "Nix re-locked the exported flake.lock"
    );

    // A mismatching narHash is rejected by Nix.
    let good = top["narHash"].as_str().unwrap().to_owned();
    let wrong = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    fs::write(
        flake.path().join("flake.lock"),
        lock_text.replace(&good, wrong),
    )
    .unwrap();
    let rejected = nix_flake(
        &nix,
        &["eval", "--no-update-lock-file", "--json"],
        flake.path(),
    );
    assert_ne!(rejected.code, 0);
    assert!(
        rejected.stderr.contains("NAR hash mismatch"),
        "{}",
        rejected.stderr
    );
    drop(inputs.repo);
}
