//! Local (`"::"`) atoms resolved from the work tree, the same atoms consumed from
//! another repository once published, and the output of `eka list` / `eka show`.

use eka_test_support::{Remote, TestRepo, Transport};

use crate::{
    common::{Sandbox, atom_toml, atom_toml_with},
    deps::{SetFixture, lock_versions, project},
};

/// A set with `lib` 1.2.0 and `app` 0.1.0 requiring `::lib ^1`, committed.
fn local_set() -> TestRepo {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"lib\", \"app\"]\n")
        .write("lib/atom.toml", atom_toml("lib", "1.2.0"))
        .write("lib/lib.nix", "{ }\n")
        .write(
            "app/atom.toml",
            atom_toml_with(
                "app",
                "0.1.0",
                "[package.sets]\nhere = \"::\"\n[deps.from.here]\nlib = \"^1\"\n",
            ),
        );
    repo.commit("lib and app");
    repo
}

fn locked(path: &std::path::Path, label: &str) -> atom::lock::LockedAtom {
    let lock = atom::lock::Lockfile::read(path).unwrap();
    lock.atoms
        .into_iter()
        .find(|atom| atom.label.as_str() == label)
        .unwrap_or_else(|| panic!("`{label}` is not locked in {}", path.display()))
}

#[test]
fn a_sibling_resolves_without_a_push_then_from_another_repository_once_published() {
    let repo = local_set();
    let sandbox = Sandbox::new();
    let app = repo.path().join("app");

    // No remote at all: `::lib` comes from the work tree, locked at `HEAD`.
    let run = sandbox.eka_at(&app, &["resolve"]).success();
    assert!(run.stderr.contains("Locking lib 1.2.0"), "{}", run.stderr);
    let local = locked(&app.join("atom.lock"), "lib");
    assert_eq!(local.version.to_string(), "1.2.0");
    assert!(
        repo.run(["for-each-ref", "refs/eka/"]).trim().is_empty(),
        "resolving must not publish"
    );
    sandbox.eka_at(&app, &["--locked", "resolve"]).success();
    let tree = sandbox.eka_at(&app, &["tree"]).success();
    assert_eq!(tree.stdout, "app 0.1.0\n    lib 1.2.0\n");

    // Publish both; the locally locked commit is the one published.
    let remote = Remote::start(Transport::File);
    sandbox
        .eka_at(repo.path(), &["publish", "--all", "--remote", remote.url()])
        .success();
    let published = remote.repo().run(["rev-parse", "refs/eka/atoms/lib/1.2.0"]);
    assert_eq!(local.commit.to_string(), published.trim());

    // Another repository consumes `app`; its `::lib` means the set it came from.
    let consumer = Sandbox::new();
    project(&consumer, "");
    consumer
        .eka_in("app", &["add", &format!("{}::app", remote.url())])
        .success();
    assert_eq!(
        lock_versions(&consumer),
        vec![
            ("app".to_owned(), "0.1.0".to_owned()),
            ("lib".to_owned(), "1.2.0".to_owned())
        ]
    );
    let remote_lib = locked(&consumer.path("app/atom.lock"), "lib");
    assert_eq!(remote_lib.commit, local.commit);
    assert_eq!(remote_lib.set, local.set);
    assert_eq!(remote_lib.id, local.id);
    assert_eq!(remote_lib.content, local.content);
}

#[test]
fn an_uncommitted_sibling_is_refused_with_a_hint() {
    let repo = TestRepo::init();
    repo.write("ekala.toml", "[set]\npackages = [\"lib\", \"app\"]\n")
        .write("README", "set\n");
    repo.commit("root");
    repo.write("lib/atom.toml", atom_toml("lib", "1.0.0"))
        .write(
            "app/atom.toml",
            atom_toml_with(
                "app",
                "0.1.0",
                "[package.sets]\nhere = \"::\"\n[deps.from.here]\nlib = \"^1\"\n",
            ),
        );
    let sandbox = Sandbox::new();
    let app = repo.path().join("app");
    let run = sandbox.eka_at(&app, &["resolve"]).refused();
    assert!(run.stderr.contains("::lib"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: commit the atom"),
        "{}",
        run.stderr
    );
    assert!(!app.join("atom.lock").exists());
}

/// A set with deterministic content: `hello` 0.1.0 and 0.2.0 (described, requiring
/// `::base ^1`), `base` 1.0.0.
fn listed_set() -> SetFixture {
    let set = SetFixture::new(Transport::File);
    set.atom("base", "1.0.0", "");
    set.atom("hello", "0.1.0", "");
    set.atom(
        "hello",
        "0.2.0",
        "description = \"says hello\"\n[package.sets]\nhere = \"::\"\n[deps.from.here]\nbase = \"^1\"\n",
    );
    set.push();
    set
}

/// Replace ids that depend on the fixture's random paths by placeholders.
fn redact(value: &mut serde_json::Value, url: &str) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                match key.as_str() {
                    "commit" | "set" if item.is_string() => {
                        assert_eq!(item.as_str().unwrap().len(), 40, "{key}: {item}");
                        *item = format!("[{key}]").into();
                    }
                    "url" => *item = item.as_str().unwrap().replace(url, "[url]").into(),
                    _ => redact(item, url),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| redact(item, url)),
        _ => {}
    }
}

#[test]
fn list_and_show_json_and_human_output() {
    let set = listed_set();
    let url = set.url();
    let sandbox = Sandbox::new();

    let list = sandbox.eka(&["list", "--json", &url]).success();
    let mut value: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    redact(&mut value, &url);
    insta::assert_snapshot!("list_json", serde_json::to_string_pretty(&value).unwrap());

    let show = sandbox
        .eka(&["show", "--json", &format!("{url}::hello@^0.2")])
        .success();
    let mut value: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    redact(&mut value, &url);
    insta::assert_snapshot!("show_json", serde_json::to_string_pretty(&value).unwrap());

    // Human output: one line per atom, versions oldest first.
    let list = sandbox.eka(&["list", &url]).success();
    assert_eq!(list.stdout, "base 1.0.0\nhello 0.1.0, 0.2.0\n");
    let show = sandbox.eka(&["show", &format!("{url}::hello")]).success();
    let lines: Vec<&str> = show.stdout.lines().collect();
    assert_eq!(lines[0], "hello 0.1.0");
    assert!(lines.contains(&"hello 0.2.0"), "{}", show.stdout);
    assert!(
        lines.contains(&"    description: says hello"),
        "{}",
        show.stdout
    );
    assert!(
        lines.contains(&"    requires: here::base@^1"),
        "{}",
        show.stdout
    );
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.starts_with("    commit: "))
            .count(),
        2
    );
    assert!(
        lines
            .iter()
            .filter(|line| line.starts_with("    content: blake3:"))
            .count()
            == 2,
        "{}",
        show.stdout
    );

    // Offline, a warm cache answers `show`, a cold one is refused.
    sandbox
        .eka(&["--offline", "show", &format!("{url}::hello")])
        .success();
    let cold = Sandbox::new();
    cold.eka(&["--offline", "show", &format!("{url}::hello")])
        .refused();
    // Offline `list` names what the cache discovered so far.
    let offline = sandbox.eka(&["--offline", "list", &url]).success();
    assert_eq!(offline.stdout, "base 1.0.0\nhello 0.1.0, 0.2.0\n");
    let offline = cold.eka(&["--offline", "list", &url]).success();
    assert_eq!(offline.stdout, "");

    // `show` needs a set by URL.
    let run = sandbox.eka(&["show", "::hello"]).refused();
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
}
