//! `eka export --flake` into a flake that has inputs of its own, against real Nix 2.8
//! (offline, `file://` only, a private store): the user's nodes locked by `nix flake
//! lock` are kept byte for byte, eka's are rewritten or dropped, `nix flake update`
//! leaves the atom nodes alone, `--write-inputs` splices `flake.nix` between its markers
//! and refuses a `flake.nix` without them, and a user node with an atom's name is
//! refused naming both.

use std::{
    fs,
    path::Path,
    process::{Command, Stdio},
};

use atom::lock::Lockfile;
use eka_test_support::TestRepo;
use serde_json::Value;

use crate::{
    common::{Run, Sandbox, snapshot},
    nix::{Nix, Published, consumer, file_url, nix_inputs, publish_set},
};

fn run(mut command: Command) -> Run {
    let output = command.stdin(Stdio::null()).output().unwrap();
    Run::from_output(output)
}

/// `nix <args> path:<flake>[#value]` in the offline environment of `nix`.
pub(crate) fn nix_flake(nix: &Nix, args: &[&str], flake: &Path) -> Run {
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

/// `eka -C <app> export --flake --output <flake> <extra>`.
fn export(sandbox: &Sandbox, app: &Path, flake: &Path, extra: &[&str]) -> Run {
    let mut command = sandbox.command();
    command
        .arg("-C")
        .arg(app)
        .args(["export", "--flake", "--output"])
        .arg(flake)
        .args(extra);
    run(command)
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn node_names(lock: &Value) -> Vec<String> {
    lock["nodes"].as_object().unwrap().keys().cloned().collect()
}

/// A flake `extra` (a git repository) with a non-flake input `inner` of its own: two
/// user nodes once locked. Both repositories are returned to live as long as the test.
fn user_input() -> (TestRepo, TestRepo) {
    let inner = TestRepo::init();
    inner.write("v.txt", "inner\n");
    inner.commit("inner");
    let extra = TestRepo::init();
    extra.write(
        "flake.nix",
        format!(
            "{{\n  inputs.inner = {{ url = \"git+{}\"; flake = false; }};\n  \
             outputs = {{ self, inner }}: {{ answer = builtins.readFile (inner + \"/v.txt\"); }};\n}}\n",
            file_url(inner.path())
        ),
    );
    extra.commit("extra");
    (inner, extra)
}

const OUTPUTS: &str = "  outputs = { self, ... }@inputs: { value = {\n    \
    extra = inputs.extra.answer;\n    \
    base = builtins.pathExists (inputs.base + \"/atom.toml\");\n    \
    top = if inputs ? top then builtins.readFile (inputs.top + \"/data.txt\") else null;\n  \
    }; };\n";

/// A `flake.nix` with the eka markers (empty block) and the user's `extra` input.
fn flake_nix(extra: &TestRepo) -> String {
    format!(
        "{{\n  inputs = {{\n    # eka:inputs:begin\n    # eka:inputs:end\n    \
         extra.url = \"git+{}\";\n  }};\n{OUTPUTS}}}\n",
        file_url(extra.path())
    )
}

/// The published set, the consumer locking all its atoms, the user's repositories and
/// a flake directory whose `flake.lock` was written by `nix flake lock` (user nodes
/// only).
struct Fixture {
    set: Published,
    app: tempfile::TempDir,
    _user: (TestRepo, TestRepo),
    flake: tempfile::TempDir,
    sandbox: Sandbox,
    nix: Nix,
}

impl Fixture {
    fn new() -> Self {
        let set = publish_set(&[]);
        let app = consumer(
            &set.url(),
            &Lockfile {
                atoms: set.atoms.clone(),
                nix: vec![],
                follows: Vec::new(),
            },
        );
        let user = user_input();
        let flake = tempfile::tempdir().unwrap();
        let nix = Nix::new();
        // Without eka's inputs yet: Nix locks only the user's.
        fs::write(
            flake.path().join("flake.nix"),
            flake_nix(&user.1).replace(
                "base = builtins.pathExists (inputs.base + \"/atom.toml\");",
                "",
            ),
        )
        .unwrap();
        let locked = nix_flake(&nix, &["flake", "lock"], flake.path());
        assert_eq!(locked.code, 0, "{}", locked.stderr);
        fs::write(flake.path().join("flake.nix"), flake_nix(&user.1)).unwrap();
        Fixture {
            set,
            app,
            _user: user,
            flake,
            sandbox: Sandbox::new(),
            nix,
        }
    }

    fn lock_text(&self) -> String {
        fs::read_to_string(self.flake.path().join("flake.lock")).unwrap()
    }

    fn export(&self, extra: &[&str]) -> Run {
        export(&self.sandbox, self.app.path(), self.flake.path(), extra)
    }

    fn eval(&self) -> Run {
        nix_flake(
            &self.nix,
            &["eval", "--no-update-lock-file", "--json"],
            self.flake.path(),
        )
    }
}

#[test]
fn the_users_nodes_are_kept_and_nix_accepts_the_merged_lock() {
    let fixture = Fixture::new();
    let before = parse(&fixture.lock_text());
    assert_eq!(node_names(&before), ["extra", "inner", "root"]);

    let exported = fixture.export(&["--write-inputs"]).success();
    snapshot!("flake_export_write_inputs", exported.transcript());
    let text = fixture.lock_text();
    let after = parse(&text);
    assert_eq!(
        node_names(&after),
        ["base", "extra", "inner", "mid", "root", "top"]
    );
    for user in ["extra", "inner"] {
        assert_eq!(after["nodes"][user], before["nodes"][user], "{user}");
    }
    assert_eq!(after["nodes"]["root"]["inputs"]["extra"], "extra");
    let top = &after["nodes"]["top"]["locked"];
    assert_eq!(top["rev"], fixture.set.atom("top").commit.as_str());
    assert_eq!(
        (&top["lastModified"], &top["revCount"]),
        (&0.into(), &1.into())
    );
    let flake_nix = fs::read_to_string(fixture.flake.path().join("flake.nix")).unwrap();
    assert!(
        flake_nix.contains("    # eka:inputs:begin\n    \"base\" = { ref = \"refs/eka/atoms/base/1.0.0\"; type = \"git\"; url = ")
            && flake_nix.contains("flake = false; };\n    # eka:inputs:end\n    extra.url"),
        "{flake_nix}"
    );

    let value = fixture.eval();
    assert_eq!(value.code, 0, "{}", value.stderr);
    assert_eq!(
        value.stdout.trim(),
        "{\"base\":true,\"extra\":\"inner\\n\",\"top\":\"top data\\n\"}"
    );
    let metadata = nix_flake(
        &fixture.nix,
        &["flake", "metadata", "--no-update-lock-file"],
        fixture.flake.path(),
    );
    assert_eq!(metadata.code, 0, "{}", metadata.stderr);
    // Nix locks it to the same bytes: the kept nodes are serialised as Nix does.
    let relocked = nix_flake(&fixture.nix, &["flake", "lock"], fixture.flake.path());
    assert_eq!(relocked.code, 0, "{}", relocked.stderr);
    assert_eq!(fixture.lock_text(), text);

    // A second export changes neither file.
    let again = fixture.export(&["--write-inputs"]).success();
    assert!(
        again.stderr.contains("Unchanged `") && !again.stderr.contains("Wrote"),
        "{}",
        again.stderr
    );
    assert_eq!(fixture.lock_text(), text);
    let json = export(
        &fixture.sandbox,
        fixture.app.path(),
        fixture.flake.path(),
        &["--write-inputs", "--json"],
    );
    let json = parse(&json.success().stdout);
    assert_eq!(
        (&json["changed"], &json["flake_nix_changed"]),
        (&false.into(), &false.into())
    );
    assert!(json["flake_nix"].as_str().unwrap().ends_with("flake.nix"));
}

#[test]
fn nix_flake_update_leaves_the_atom_nodes_unchanged() {
    let fixture = Fixture::new();
    fixture.export(&["--write-inputs"]).success();
    let before = parse(&fixture.lock_text());
    let updated = nix_flake(&fixture.nix, &["flake", "update"], fixture.flake.path());
    assert_eq!(updated.code, 0, "{}", updated.stderr);
    let after = parse(&fixture.lock_text());
    assert_eq!(node_names(&after), node_names(&before));
    for atom in ["base", "mid", "top"] {
        assert_eq!(after["nodes"][atom], before["nodes"][atom], "{atom}");
    }
    let one = nix_flake(
        &fixture.nix,
        &["flake", "lock", "--update-input", "top"],
        fixture.flake.path(),
    );
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(
        parse(&fixture.lock_text())["nodes"]["top"],
        before["nodes"]["top"]
    );
}

#[test]
fn re_exporting_without_an_atom_drops_only_its_node() {
    let fixture = Fixture::new();
    // A direct git input too: once it leaves `atom.lock`, its name in the eka block of
    // `flake.nix` is what marks its node as eka's.
    let inputs = nix_inputs();
    fs::write(
        fixture.app.path().join("atom.lock"),
        Lockfile {
            atoms: fixture.set.atoms.clone(),
            nix: vec![inputs.git.clone()],
            follows: Vec::new(),
        }
        .to_string(),
    )
    .unwrap();
    fixture.export(&["--write-inputs"]).success();
    let before = parse(&fixture.lock_text());
    assert_eq!(
        node_names(&before),
        ["base", "extra", "helper", "inner", "mid", "root", "top"]
    );
    let atoms = fixture
        .set
        .atoms
        .iter()
        .filter(|atom| atom.label.as_str() != "top")
        .cloned()
        .collect();
    fs::write(
        fixture.app.path().join("atom.lock"),
        Lockfile {
            atoms,
            nix: vec![],
            follows: Vec::new(),
        }
        .to_string(),
    )
    .unwrap();
    fixture.export(&["--write-inputs"]).success();
    let after = parse(&fixture.lock_text());
    assert_eq!(
        node_names(&after),
        ["base", "extra", "inner", "mid", "root"]
    );
    for name in ["base", "extra", "inner", "mid"] {
        assert_eq!(after["nodes"][name], before["nodes"][name], "{name}");
    }
    let flake_nix = fs::read_to_string(fixture.flake.path().join("flake.nix")).unwrap();
    assert!(
        !flake_nix.contains("\"top\"") && !flake_nix.contains("\"helper\""),
        "{flake_nix}"
    );
    let value = fixture.eval();
    assert_eq!(value.code, 0, "{}", value.stderr);
    assert_eq!(
        value.stdout.trim(),
        "{\"base\":true,\"extra\":\"inner\\n\",\"top\":null}"
    );
    drop(inputs.repo);
}

#[test]
fn write_inputs_without_markers_is_refused_naming_flake_nix() {
    let fixture = Fixture::new();
    let lock = fixture.lock_text();
    let path = fixture.flake.path().join("flake.nix");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replace("    # eka:inputs:end\n", "")).unwrap();
    let refused = fixture.export(&["--write-inputs"]).refused();
    snapshot!("flake_export_unbalanced_markers", refused.transcript());
    assert!(
        refused
            .stderr
            .contains(&format!("`{}` has unbalanced", path.display())),
        "{}",
        refused.stderr
    );
    fs::write(&path, text.replace("# eka:inputs:", "# inputs:")).unwrap();
    let missing = fixture.export(&["--write-inputs"]).refused();
    assert!(
        missing.stderr.contains("has no `# eka:inputs:begin`"),
        "{}",
        missing.stderr
    );
    // Nothing was written.
    assert_eq!(fixture.lock_text(), lock);
    // Without the flag the inputs are printed, and `flake.nix` is left alone.
    let printed = fixture.export(&[]).success();
    assert!(printed.stdout.contains("\"top\" = {"), "{}", printed.stdout);
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        text.replace("# eka:inputs:", "# inputs:")
    );
}

#[test]
fn a_user_node_with_an_atoms_name_is_refused_naming_both() {
    let fixture = Fixture::new();
    // The user's `extra` flake input, renamed `top` (as `nix flake lock` would name it).
    let renamed = fixture.lock_text().replace("\"extra\"", "\"top\"");
    fs::write(fixture.flake.path().join("flake.lock"), &renamed).unwrap();
    let refused = fixture.export(&[]).refused();
    snapshot!("flake_export_name_clash", refused.transcript());
    assert!(
        refused.stderr.contains("the input `top` of `")
            && refused.stderr.contains("but atom `top` needs that name"),
        "{}",
        refused.stderr
    );
    assert_eq!(fixture.lock_text(), renamed);
}
