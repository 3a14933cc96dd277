//! A flake evaluating its own root atom from its flake inputs
//! (`importAtomWith { dir = ./.; flakeInputs = inputs; }`) with real Nix 2.8 (offline, a
//! private store): the consumer's `flake.nix`, whose eka block `eka export --flake
//! --write-inputs` wrote, gives with `nix eval --no-update-lock-file` the value `eka eval`
//! gives for the same atom (its dependency `tool`, its direct Nix input `helper`, and
//! `tool`'s own `helper`, which follows the consumer's); a `flake.lock` left stale by
//! `eka update` is refused with the library's message, and exporting again fixes it.
//! The `flake.nix` is the one docs/nix.md shows ("The flake workflow").

use std::{fs, path::Path};

use eka_test_support::TestRepo;
use serde_json::Value;

use crate::{
    common::Sandbox,
    flake_export::nix_flake,
    follows::{consumer_manifest, eka, helper, publish_tool, store_path_of},
    nix::{Nix, file_url, library_dir},
};

/// The consumer's `flake.nix`: the eka block (filled by `eka export --flake
/// --write-inputs`), eka's repository as a non-flake input (so its own `nixpkgs` is not
/// needed) and the atom itself evaluated from the flake's inputs. `EKA_URL` is
/// `github:<owner>/eka` in docs/nix.md, a local copy of the library here.
const FLAKE_NIX: &str = r#"{
  inputs = {
    # eka:inputs:begin
    # eka:inputs:end
    eka = { url = "EKA_URL"; flake = false; };
  };
  outputs = { self, eka, ... }@inputs: {
    value = (import (eka + "/nix/lib")).importAtomWith {
      dir = ./.;
      flakeInputs = inputs;
    };
  };
}
"#;

/// The consumer's entry point: a dependency, a direct Nix input and its own label.
const ENTRY: &str = "{ deps, nix, atom }: { tool = deps.tool; helper = toString nix.helper; label = atom.label; }\n";

/// A directory laid out as eka's repository for the library (`nix/lib/*.nix`).
fn library_source() -> tempfile::TempDir {
    let source = tempfile::tempdir().unwrap();
    let library = source.path().join("nix/lib");
    fs::create_dir_all(&library).unwrap();
    for entry in fs::read_dir(library_dir()).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), library.join(entry.file_name())).unwrap();
    }
    source
}

/// `nix eval --no-update-lock-file --json path:<dir>#value`, and the files it must
/// leave alone unchanged.
fn flake_value(nix: &Nix, dir: &Path) -> Result<Value, String> {
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap();
    let before = (read("flake.lock"), read("flake.nix"));
    let run = nix_flake(nix, &["eval", "--no-update-lock-file", "--json"], dir);
    assert_eq!((read("flake.lock"), read("flake.nix")), before);
    if run.code == 0 {
        Ok(serde_json::from_str(run.stdout.trim()).unwrap())
    } else {
        Err(run.stderr)
    }
}

fn read_lock(dir: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join("flake.lock")).unwrap()).unwrap()
}

/// What `eka eval` gives for the atom at `dir`.
fn eka_value(sandbox: &Sandbox, nix: &Nix, dir: &Path) -> Value {
    let run = eka(sandbox, nix, dir, &["eval"]).success();
    serde_json::from_str(run.stdout.trim()).unwrap()
}

/// Publish `tool` 1.1.0 into `set`: its value names its version.
fn publish_tool_1_1(set: &TestRepo) {
    let manifest = fs::read_to_string(set.path().join("tool/atom.toml")).unwrap();
    set.write(
        "tool/atom.toml",
        manifest.replace("version = \"1.0.0\"", "version = \"1.1.0\""),
    );
    set.write(
        "tool/default.nix",
        "{ deps, nix, atom }: \"1.1 \" + toString nix.helper\n",
    );
    set.commit("tool 1.1.0");
    crate::deps::publish_fixture(set, "tool", "tool", "1.1.0");
}

#[test]
fn the_flake_evaluates_its_own_atom_as_eka_eval_does() {
    let (sandbox, nix) = (Sandbox::new(), Nix::new());
    let helper = helper();
    let helper_url = file_url(helper.path());
    let set = publish_tool(&sandbox, &nix, &helper_url);
    let library = library_source();
    let app = tempfile::tempdir().unwrap();
    let dir = app.path();
    fs::write(
        dir.join("atom.toml"),
        consumer_manifest(
            &file_url(set.path()),
            &helper_url,
            "\n[deps.follows]\n\"tool.helper\" = \"helper\"\n",
        ),
    )
    .unwrap();
    fs::write(dir.join("default.nix"), ENTRY).unwrap();
    let library_url = format!(
        "path:{}",
        fs::canonicalize(library.path()).unwrap().display()
    );
    fs::write(
        dir.join("flake.nix"),
        FLAKE_NIX.replace("EKA_URL", &library_url),
    )
    .unwrap();
    // The workflow: Nix locks the flake's own input, eka its atoms and their inputs.
    let locked = nix_flake(&nix, &["flake", "lock"], dir);
    assert_eq!(locked.code, 0, "{}", locked.stderr);
    eka(&sandbox, &nix, dir, &["resolve"]).success();
    let export = || {
        eka(
            &sandbox,
            &nix,
            dir,
            &["export", "--flake", "--write-inputs"],
        )
        .success()
    };
    export();
    let lock = read_lock(dir);
    assert_eq!(lock["nodes"]["root"]["inputs"]["eka"], "eka");
    assert_eq!(
        lock["nodes"]["root"]["inputs"]["tool.helper"],
        serde_json::json!(["helper"])
    );

    // `store_path_of` gives JSON strings: the store path of the consumer's `helper`.
    let followed: String =
        serde_json::from_str(&store_path_of(&nix, &helper_url, &helper.rev_parse("main"))).unwrap();
    let own = store_path_of(&nix, &helper_url, &helper.rev_parse("old"));
    assert_ne!(
        serde_json::from_str::<String>(&own).unwrap(),
        followed,
        "without the follows, tool would see another store path"
    );
    let expected = serde_json::json!({ "tool": followed, "helper": followed, "label": "app" });
    assert_eq!(eka_value(&sandbox, &nix, dir), expected);
    assert_eq!(flake_value(&nix, dir), Ok(expected));
    let metadata = nix_flake(&nix, &["flake", "metadata", "--no-update-lock-file"], dir);
    assert_eq!(metadata.code, 0, "{}", metadata.stderr);

    // `eka update` moves `tool` to 1.1.0 in `atom.lock`; the flake still pins 1.0.0.
    publish_tool_1_1(&set);
    eka(&sandbox, &nix, dir, &["update"]).success();
    let updated = serde_json::json!({
        "tool": format!("1.1 {followed}"), "helper": followed, "label": "app"
    });
    assert_eq!(eka_value(&sandbox, &nix, dir), updated);
    let refused = |nix: &Nix| {
        let stale = flake_value(nix, dir).unwrap_err();
        assert!(
            stale.contains(
                "eka: flake input `tool` is not the commit `atom.lock` locks for `tool`; \
                 run `eka export --flake` again"
            ),
            "{stale}"
        );
    };
    refused(&nix);
    let stale_lock = read_lock(dir);
    export();
    assert_eq!(flake_value(&nix, dir), Ok(updated.clone()));

    // A hand-edited `flake.lock`: `tool`'s node locked at the 1.0.0 commit again (its
    // `original` still the 1.1.0 ref `flake.nix` declares, so Nix accepts the lock).
    let fresh = fs::read_to_string(dir.join("flake.lock")).unwrap();
    let mut edited = read_lock(dir);
    assert_ne!(
        edited["nodes"]["tool"]["locked"]["rev"],
        stale_lock["nodes"]["tool"]["locked"]["rev"]
    );
    edited["nodes"]["tool"]["locked"] = stale_lock["nodes"]["tool"]["locked"].clone();
    fs::write(dir.join("flake.lock"), edited.to_string()).unwrap();
    refused(&nix);
    fs::write(dir.join("flake.lock"), fresh).unwrap();
    assert_eq!(flake_value(&nix, dir), Ok(updated));

    // docs/nix.md shows this very `flake.nix`.
    let docs =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/nix.md")).unwrap();
    let shown = FLAKE_NIX.replace("EKA_URL", "github:<owner>/eka");
    assert!(
        docs.contains(&format!("```nix\n{shown}```\n")),
        "docs/nix.md does not show:\n{shown}"
    );
}
