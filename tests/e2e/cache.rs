//! The cache through the real binary: a damaged cache is rebuilt with a warning and the
//! run succeeds; a silent server is given up on after `EKA_NET_TIMEOUT` seconds; git
//! variables of the caller's environment never redirect eka's git children.

use std::path::{Path, PathBuf};

use eka_test_support::Transport;

use crate::{
    common::{Sandbox, SilentServer},
    deps::{SetFixture, project},
};

/// A set with `a` 1.0.0 published over `file://`.
fn one_atom_set() -> SetFixture {
    let set = SetFixture::new(Transport::File);
    set.atom("a", "1.0.0", "");
    set.push();
    set
}

/// The cache's version directory (`<cache>/v1`) of the sandbox.
fn layout(sandbox: &Sandbox) -> PathBuf {
    let cache = sandbox.dir.path().join("cache").join("eka").join("v1");
    assert!(cache.is_dir(), "no cache at {}", cache.display());
    cache
}

/// Garble every object file of a bare repository (loose objects whole, pack data past
/// the header), keeping names and sizes; how many files were garbled.
fn garble_objects(repo: &Path) -> usize {
    let mut garbled = 0;
    for entry in std::fs::read_dir(repo.join("objects")).unwrap() {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !dir.is_dir() || !(name.len() == 2 || name == "pack") {
            continue;
        }
        for object in std::fs::read_dir(&dir).unwrap() {
            let path = object.unwrap().path();
            let is_pack = path
                .extension()
                .is_some_and(|extension| extension == "pack");
            if name == "pack" && !is_pack {
                continue;
            }
            let mut bytes = std::fs::read(&path).unwrap();
            let start = if is_pack { 12 } else { 0 };
            for byte in &mut bytes[start..] {
                *byte = 0xA5;
            }
            let mut permissions = std::fs::metadata(&path).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            permissions.set_readonly(false);
            std::fs::set_permissions(&path, permissions).unwrap();
            std::fs::write(&path, bytes).unwrap();
            garbled += 1;
        }
    }
    garbled
}

#[track_caller]
fn assert_rebuilt(stderr: &str, what: &str) {
    assert!(
        stderr.contains("warning: the cache at `") && stderr.contains("; it was rebuilt"),
        "no repair warning:\n{stderr}"
    );
    assert!(
        stderr.contains(what),
        "the warning does not say `{what}`:\n{stderr}"
    );
}

#[test]
fn a_cache_without_head_is_rebuilt_on_the_next_add() {
    let set = one_atom_set();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox.eka(&["list", &set.url()]).success();
    let store = layout(&sandbox).join("atoms.git");
    std::fs::remove_file(store.join("HEAD")).unwrap();

    let run = sandbox
        .eka_in("app", &["add", &format!("{}::a", set.url())])
        .success();
    assert_rebuilt(&run.stderr, "`HEAD` is missing");
    assert!(store.join("HEAD").is_file());
    assert!(sandbox.read("app/atom.lock").contains("label = \"a\""));
    // Repaired once: the next run is quiet.
    let again = sandbox.eka(&["list", &set.url()]).success();
    assert!(!again.stderr.contains("rebuilt"), "{}", again.stderr);
}

#[test]
fn a_garbled_listing_index_is_dropped_and_rewritten() {
    let set = one_atom_set();
    let sandbox = Sandbox::new();
    sandbox.eka(&["list", &set.url()]).success();
    let index_dir = layout(&sandbox).join("index");
    let indexes: Vec<PathBuf> = std::fs::read_dir(&index_dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(indexes.len(), 1, "{indexes:?}");
    std::fs::write(&indexes[0], "atoms = [this is not toml\n").unwrap();

    let run = sandbox.eka(&["list", &set.url()]).success();
    assert_rebuilt(&run.stderr, "the listing index is unreadable");
    assert!(run.stdout.contains("1.0.0"), "{}", run.stdout);
    let rewritten = std::fs::read_to_string(&indexes[0]).unwrap();
    assert!(rewritten.contains("[atoms.a"), "{rewritten}");
    // The rewritten index answers offline.
    sandbox.eka(&["--offline", "list", &set.url()]).success();
}

#[test]
fn a_garbled_object_is_refetched_into_a_rebuilt_store() {
    let set = one_atom_set();
    let sandbox = Sandbox::new();
    let first = sandbox.eka(&["list", &set.url()]).success();
    let store = layout(&sandbox).join("atoms.git");
    assert!(garble_objects(&store) > 0, "the fetch left no object files");

    let run = sandbox.eka(&["list", &set.url()]).success();
    assert_rebuilt(&run.stderr, "is unreadable");
    assert_eq!(run.stdout, first.stdout);
    let aside = std::fs::read_dir(layout(&sandbox))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .any(|name| name.starts_with("broken-atoms.git-"));
    assert!(aside, "the damaged store was not moved aside");
}

#[test]
fn a_silent_server_is_given_up_on_after_the_network_deadline() {
    let server = SilentServer::start();
    let sandbox = Sandbox::new();
    for scheme in ["git", "http"] {
        let url = server.url(scheme);
        let output = sandbox
            .command()
            .env("EKA_NET_TIMEOUT", "2")
            .args(["list", &url])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{scheme}: {stderr}");
        assert!(
            stderr.contains("for 2 s and was stopped"),
            "{scheme}: {stderr}"
        );
        assert!(stderr.contains(&url), "{scheme}: {stderr}");
    }
}

#[test]
fn git_variables_of_the_environment_do_not_redirect_eka() {
    let set = one_atom_set();
    let sandbox = Sandbox::new();
    let decoy = sandbox.dir.path().join("decoy");
    std::fs::create_dir_all(&decoy).unwrap();
    let output = sandbox
        .command()
        .env("GIT_DIR", &decoy)
        .env("GIT_WORK_TREE", &decoy)
        .env("GIT_OBJECT_DIRECTORY", &decoy)
        .env("GIT_INDEX_FILE", decoy.join("index"))
        .env("GIT_NAMESPACE", "elsewhere")
        .env("GIT_CONFIG_PARAMETERS", "'core.bare'='false'")
        .args(["list", &set.url()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("1.0.0"));
    assert_eq!(std::fs::read_dir(&decoy).unwrap().count(), 0);
    assert!(layout(&sandbox).join("atoms.git").join("HEAD").is_file());
}

#[test]
fn verify_refetches_into_a_rebuilt_store_when_its_objects_are_garbled() {
    let set = one_atom_set();
    let sandbox = Sandbox::new();
    project(&sandbox, "");
    sandbox
        .eka_in("app", &["add", &format!("{}::a", set.url())])
        .success();
    let first = sandbox.eka_in("app", &["verify"]).success();
    assert!(first.stdout.contains("ok a@1.0.0"), "{}", first.stdout);
    let store = layout(&sandbox).join("atoms.git");
    assert!(garble_objects(&store) > 0, "the fetch left no object files");

    let run = sandbox.eka_in("app", &["verify"]).success();
    assert_rebuilt(&run.stderr, "is unreadable");
    assert_eq!(run.stdout, first.stdout);
}
