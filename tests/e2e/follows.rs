//! `[deps.follows]` with real Nix (Debian `nix-bin` 2.8, offline, a private store): a
//! published atom `tool` pins its own Nix input `helper` at commit A in its own
//! `atom.lock`; the consumer pins `helper` at commit B. Without follows `tool` sees A;
//! with `"tool.helper" = "helper"` it sees the consumer's B (proved by evaluation), the
//! lock is version 2 with the entry, and removing the follows gives back the version 1
//! lock byte for byte.

use std::{
    fs,
    path::Path,
    process::{Command, Stdio},
};

use atom::Label;
use eka_test_support::TestRepo;

use crate::{
    common::{Run, Sandbox, snapshot},
    nix::{Nix, file_url},
};

fn nix_config(nix: &Nix) -> String {
    format!(
        "substituters =\nflake-registry =\nexperimental-features = nix-command flakes\n\
         sandbox = false\nbuild-users-group =\nstore = {}\n",
        nix.store().display()
    )
}

/// Run eka in `dir` with Nix pointed at the private store.
pub(crate) fn eka(sandbox: &Sandbox, nix: &Nix, dir: &Path, args: &[&str]) -> Run {
    let mut command: Command = sandbox.command();
    eka_test_support::nix::remove_host_variables(&mut command);
    command
        .env("NIX_CONFIG", nix_config(nix))
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null());
    let output = command.output().unwrap();
    Run::from_output(output)
}

/// The `helper` repository: branch `old` at commit A, branch `main` at commit B.
pub(crate) fn helper() -> TestRepo {
    let repo = TestRepo::init();
    repo.write("default.nix", "{ which = \"A\"; }\n");
    repo.commit("A");
    repo.run(["branch", "old"]);
    repo.write("default.nix", "{ which = \"B\"; }\n");
    repo.commit("B");
    repo
}

/// A set publishing `tool` 1.0.0, whose entry gives the store path of its Nix input
/// `helper`, locked (by the real `eka resolve`) at branch `old` of `helper_url`.
pub(crate) fn publish_tool(sandbox: &Sandbox, nix: &Nix, helper_url: &str) -> TestRepo {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"tool\"]\n");
    repo.commit("init");
    repo.write(
        "tool/atom.toml",
        format!(
            "[package]\nlabel = \"tool\"\nversion = \"1.0.0\"\nentry = \"default.nix\"\n\n\
             [deps.direct.nix]\nhelper = {{ git = \"{helper_url}\", ref = \"refs/heads/old\" }}\n"
        ),
    );
    repo.write(
        "tool/default.nix",
        "{ deps, nix, atom }: toString nix.helper\n",
    );
    eka(sandbox, nix, &repo.path().join("tool"), &["resolve"]).success();
    assert!(repo.path().join("tool/atom.lock").is_file());
    repo.commit("tool");
    crate::deps::publish_fixture(&repo, "tool", "tool", "1.0.0");
    repo
}

pub(crate) fn consumer_manifest(set_url: &str, helper_url: &str, follows: &str) -> String {
    format!(
        "[package]\nlabel = \"app\"\nversion = \"0.1.0\"\nentry = \"default.nix\"\n\n\
         [package.sets]\ns = \"{set_url}\"\n\n[deps.from.s]\ntool = \"^1\"\n\n\
         [deps.direct.nix]\nhelper = {{ git = \"{helper_url}\", ref = \"refs/heads/main\" }}\n\
         {follows}"
    )
}

/// The store path `fetchGit` gives `helper` at `rev`.
pub(crate) fn store_path_of(nix: &Nix, url: &str, rev: &str) -> String {
    let output = nix
        .command("nix-instantiate")
        .arg("--store")
        .arg(nix.store())
        .args(["--eval", "--json", "--read-write-mode", "-E"])
        .arg(format!(
            "toString (builtins.fetchGit {{ url = \"{url}\"; rev = \"{rev}\"; }})"
        ))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// `helper` (a git repository with an `old` and a `main` commit), a set publishing
/// `tool` (its own input `helper` pinned at `old`), and an empty consumer directory.
/// Destructure it naming every field: the set's repository must outlive the test.
struct Project {
    sandbox: Sandbox,
    nix: Nix,
    helper: TestRepo,
    helper_url: String,
    _set: TestRepo,
    set_url: String,
    app: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let (sandbox, nix) = (Sandbox::new(), Nix::new());
        let helper = helper();
        let helper_url = file_url(helper.path());
        let set = publish_tool(&sandbox, &nix, &helper_url);
        let set_url = file_url(set.path());
        Project {
            sandbox,
            nix,
            helper,
            helper_url,
            _set: set,
            set_url,
            app: tempfile::tempdir().unwrap(),
        }
    }
}

#[test]
fn the_consumer_decides_which_input_a_dependency_sees() {
    let Project {
        sandbox,
        nix,
        helper,
        helper_url,
        set_url,
        app,
        _set,
    } = Project::new();
    let dir = app.path();
    let write = |text: &str| fs::write(dir.join("atom.toml"), text).unwrap();
    write(&consumer_manifest(&set_url, &helper_url, ""));
    fs::write(
        dir.join("default.nix"),
        "{ deps, nix, atom }: { tool = deps.tool; own = toString nix.helper; }\n",
    )
    .unwrap();
    eka(&sandbox, &nix, dir, &["resolve"]).success();
    let plain_lock = fs::read_to_string(dir.join("atom.lock")).unwrap();
    assert!(plain_lock.contains("\nversion = 1\n"), "{plain_lock}");
    assert!(!plain_lock.contains("[[follows]]"), "{plain_lock}");

    let a = store_path_of(&nix, &helper_url, &helper.rev_parse("old"));
    let b = store_path_of(&nix, &helper_url, &helper.rev_parse("main"));
    assert_ne!(a, b);
    let eval = |attr: &str| eka(&sandbox, &nix, dir, &["eval", attr]).success().stdout;
    assert_eq!(
        eval("tool").trim(),
        a,
        "without follows, tool sees its own pin"
    );
    assert_eq!(eval("own").trim(), b);

    // The follows: tool's `helper` is the consumer's.
    let follows = "\n[deps.follows]\n\"tool.helper\" = \"helper\"\n";
    write(&consumer_manifest(&set_url, &helper_url, follows));
    // `--locked` notices the follows the lock lacks.
    let drift = eka(&sandbox, &nix, dir, &["resolve", "--locked"]).refused();
    assert!(drift.stderr.contains("--locked"), "{}", drift.stderr);
    assert_eq!(
        fs::read_to_string(dir.join("atom.lock")).unwrap(),
        plain_lock
    );
    eka(&sandbox, &nix, dir, &["resolve"]).success();
    let lock_text = fs::read_to_string(dir.join("atom.lock")).unwrap();
    assert!(lock_text.contains("\nversion = 2\n"), "{lock_text}");
    let lock = atom::lock::Lockfile::from_str(&lock_text, "atom.lock").unwrap();
    let tool = lock
        .atoms
        .iter()
        .find(|atom| atom.label.as_str() == "tool")
        .unwrap();
    assert_eq!(lock.follows.len(), 1);
    assert_eq!(lock.follows[0].atom, tool.id);
    assert_eq!(lock.follows[0].input, Label::parse("helper").unwrap());
    assert_eq!(lock.follows[0].follows, Label::parse("helper").unwrap());
    assert_eq!(
        eval("tool").trim(),
        b,
        "with follows, tool sees the consumer's pin"
    );
    // Nothing changes on a second resolve; `--locked` agrees.
    eka(&sandbox, &nix, dir, &["resolve", "--locked"]).success();

    // An unknown atom and an unknown input are refused at the key, nothing written.
    let manifest_before = fs::read_to_string(dir.join("atom.toml")).unwrap();
    for (name, follows) in [
        (
            "follows_unknown_atom",
            "\n[deps.follows]\n\"nope.helper\" = \"helper\"\n",
        ),
        (
            "follows_unknown_input",
            "\n[deps.follows]\n\"tool.nope\" = \"helper\"\n",
        ),
    ] {
        let text = consumer_manifest(&set_url, &helper_url, follows);
        write(&text);
        let refused = eka(&sandbox, &nix, dir, &["resolve"]).refused();
        let stderr = refused.stderr.replace(&dir.display().to_string(), "[app]");
        snapshot!(name, stderr);
        assert_eq!(fs::read_to_string(dir.join("atom.toml")).unwrap(), text);
        assert_eq!(
            fs::read_to_string(dir.join("atom.lock")).unwrap(),
            lock_text
        );
    }
    write(&manifest_before);

    // Removing the follows gives back the version 1 lock, byte for byte.
    write(&consumer_manifest(&set_url, &helper_url, ""));
    eka(&sandbox, &nix, dir, &["resolve"]).success();
    assert_eq!(
        fs::read_to_string(dir.join("atom.lock")).unwrap(),
        plain_lock
    );
    assert_eq!(eval("tool").trim(), a);
}

#[test]
fn the_nix_library_reads_follows_only_in_version_2() {
    use crate::nix::{NixEval as _, library_expression};
    let nix = Nix::new();
    let entry = format!(
        "[[follows]]\\natom = \\\"{}\\\"\\ninput = \\\"helper\\\"\\nfollows = \\\"helper\\\"\\n",
        "a".repeat(64)
    );
    let parse = |version: u32| {
        nix.eval_pure(&format!(
            "({}.parseLock \"version = {version}\\n{entry}\").follows",
            library_expression()
        ))
    };
    let read = parse(2).unwrap();
    assert!(read.contains("\"input\":\"helper\""), "{read}");
    let refused = parse(1).unwrap_err();
    assert!(
        refused.contains("has `[[follows]]` but version 1"),
        "{refused}"
    );
    let newer = parse(3).unwrap_err();
    assert!(newer.contains("unsupported atom.lock version 3"), "{newer}");
}

/// A flake in `dir` (the consumer atom itself) evaluating `tool` through the Nix library
/// (copied to `dir/eka-lib`) from the flake's inputs, and the store paths of tool's own
/// input and the consumer's `helper` as the flake sees them.
fn flake_nix() -> &'static str {
    "{\n  inputs = {\n    # eka:inputs:begin\n    # eka:inputs:end\n  };\n  \
     outputs = { self, ... }@inputs:\n    \
     let graph = (import ./eka-lib).fromFlakeInputs { lock = ./atom.lock; inherit inputs; };\n    \
     in { value = { tool = graph.atoms.tool; input = toString inputs.\"tool.helper\"; \
     own = toString inputs.helper; }; };\n}\n"
}

#[test]
fn the_exported_flake_shares_what_the_root_follows() {
    use crate::flake_export::nix_flake;
    let Project {
        sandbox,
        nix,
        helper,
        helper_url,
        set_url,
        app,
        _set,
    } = Project::new();
    let dir = app.path();
    let write = |text: &str| fs::write(dir.join("atom.toml"), text).unwrap();
    write(&consumer_manifest(&set_url, &helper_url, ""));
    fs::write(dir.join("default.nix"), "{ deps, nix, atom }: deps.tool\n").unwrap();
    fs::write(dir.join("flake.nix"), flake_nix()).unwrap();
    let library = dir.join("eka-lib");
    fs::create_dir(&library).unwrap();
    for entry in fs::read_dir(crate::nix::library_dir()).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), library.join(entry.file_name())).unwrap();
    }
    // `store_path_of` gives JSON strings.
    let a: String =
        serde_json::from_str(&store_path_of(&nix, &helper_url, &helper.rev_parse("old"))).unwrap();
    let b: String =
        serde_json::from_str(&store_path_of(&nix, &helper_url, &helper.rev_parse("main"))).unwrap();
    let read = |name: &str| fs::read_to_string(dir.join(name)).unwrap();
    // Export, then check what Nix makes of the flake as it is.
    let export_and_eval = || {
        eka(&sandbox, &nix, dir, &["resolve"]).success();
        eka(
            &sandbox,
            &nix,
            dir,
            &["export", "--flake", "--write-inputs"],
        )
        .success();
        let (lock, flake) = (read("flake.lock"), read("flake.nix"));
        let value = nix_flake(&nix, &["eval", "--no-update-lock-file", "--json"], dir);
        assert_eq!(value.code, 0, "{}", value.stderr);
        let metadata = nix_flake(&nix, &["flake", "metadata", "--no-update-lock-file"], dir);
        assert_eq!(metadata.code, 0, "{}", metadata.stderr);
        // A second export and `nix flake lock` leave both files byte for byte.
        let again = eka(
            &sandbox,
            &nix,
            dir,
            &["export", "--flake", "--write-inputs"],
        );
        assert!(!again.success().stderr.contains("Wrote"));
        let relocked = nix_flake(&nix, &["flake", "lock"], dir);
        assert_eq!(relocked.code, 0, "{}", relocked.stderr);
        assert_eq!(
            (read("flake.lock"), read("flake.nix")),
            (lock.clone(), flake)
        );
        let value: serde_json::Value = serde_json::from_str(value.stdout.trim()).unwrap();
        (value, lock)
    };

    let (value, plain) = export_and_eval();
    let root: serde_json::Value = serde_json::from_str(&plain).unwrap();
    assert_eq!(
        root["nodes"]["root"]["inputs"]["tool.helper"],
        "tool.helper"
    );
    assert_eq!(
        root["nodes"]["tool.helper"]["locked"]["rev"],
        helper.rev_parse("old")
    );
    assert_eq!(
        (&value["tool"], &value["input"], &value["own"]),
        (&a.clone().into(), &a.clone().into(), &b.clone().into()),
        "without follows, tool sees its own pin"
    );
    assert!(
        read("flake.nix").contains("\"tool.helper\" = { ref = \"refs/heads/old\"; type = \"git\";"),
        "{}",
        read("flake.nix")
    );

    write(&consumer_manifest(
        &set_url,
        &helper_url,
        "\n[deps.follows]\n\"tool.helper\" = \"helper\"\n",
    ));
    let (value, followed) = export_and_eval();
    let root: serde_json::Value = serde_json::from_str(&followed).unwrap();
    assert_eq!(
        root["nodes"]["root"]["inputs"]["tool.helper"],
        serde_json::json!(["helper"])
    );
    assert!(root["nodes"].get("tool.helper").is_none(), "{followed}");
    assert_eq!(
        (&value["tool"], &value["input"], &value["own"]),
        (&b.clone().into(), &b.clone().into(), &b.clone().into()),
        "with follows, tool sees the consumer's pin"
    );
    assert!(
        read("flake.nix").contains("\"tool.helper\" = { follows = \"helper\"; };"),
        "{}",
        read("flake.nix")
    );

    // Without the follows again, the first lock comes back byte for byte.
    write(&consumer_manifest(&set_url, &helper_url, ""));
    let (value, back) = export_and_eval();
    assert_eq!(back, plain);
    assert_eq!(value["tool"], serde_json::Value::from(a));
}

/// The library's `flakeNodeNames` names a lock's atoms and direct inputs as the export
/// does (a label two sets lock, a direct input an atom's name took), and
/// `fromFlakeInputs` refuses an atom node whose `rev` is not the locked commit.
#[test]
fn the_library_names_flake_nodes_as_the_export_does() {
    use crate::nix::{NixEval as _, library_dir, nix_inputs, publish_set};
    use atom::lock::{AtomIdHex, ObjectId};
    let nix = Nix::new();
    let set = publish_set(&[]);
    let inputs = nix_inputs();
    let mut lock = atom::lock::Lockfile {
        atoms: set.atoms.clone(),
        nix: vec![inputs.git.clone(), inputs.tar.clone()],
        follows: Vec::new(),
    };
    let mut twin = set.atom("base").clone();
    twin.set = ObjectId::parse(&"7".repeat(40)).unwrap();
    twin.id = AtomIdHex::parse(&"7".repeat(64)).unwrap();
    lock.atoms.push(twin);
    lock.nix[0].name = Label::parse("top").unwrap();
    let export = ::nix::export::flake_lock(&lock, &::nix::export::Checked::default()).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&export.lock).unwrap();
    let exported: Vec<&String> = parsed["nodes"]["root"]["inputs"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert!(
        exported.contains(&&"top-nix".to_owned()) && exported.len() == 6,
        "{exported:?}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("atom.lock");
    fs::write(&path, lock.to_string()).unwrap();
    let library = format!("(import {})", library_dir().display());
    let named = nix
        .eval(
            &[],
            &format!(
                "let names = {library}.flakeNodeNames ({library}.readLock {}); in \
                 builtins.sort builtins.lessThan \
                 (builtins.attrValues names.atoms ++ builtins.attrValues names.nix)",
                path.display()
            ),
        )
        .unwrap();
    let named: Vec<String> = serde_json::from_str(&named).unwrap();
    assert_eq!(named.iter().collect::<Vec<_>>(), exported);

    let stale = nix
        .eval(
            &[],
            &format!(
                "({library}.fromFlakeInputs {{ lock = {}; \
                 inputs = {{ top = {{ rev = \"{}\"; outPath = \"/nowhere\"; }}; }}; }}).atoms.top",
                path.display(),
                "0".repeat(40)
            ),
        )
        .unwrap_err();
    assert!(
        stale.contains("flake input `top` is not the commit `atom.lock` locks for `top`"),
        "{stale}"
    );
    drop(inputs.repo);
}
