//! `nix::hash` and `nix::nar` against real Nix (Debian `nix-bin`, 2.8): NAR bytes and
//! hashes of paths, git trees (`builtins.fetchGit`), tarballs (`builtins.fetchTarball`)
//! and flat files (`builtins.fetchurl`), plus hash text forms.
//!
//! Every Nix call is offline (`file://` URLs only, no substituters, no flake registry)
//! and uses a private chroot store (`--store <tempdir>`), cache and `HOME`, so the tests
//! need no daemon and leave `/nix/store` alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    fs,
    os::unix::fs::{PermissionsExt as _, symlink},
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use eka_test_support::{Nix, TestRepo, nix::NIX_MISSING};
use nix::{Sha256Hash, flat_hash, hash::Error as HashError, nar};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------
// Nix harness
// ---------------------------------------------------------------------------------------

/// The checks of these tests on top of the shared offline [`Nix`] environment.
trait NixExt {
    fn run(&self, command: Command) -> String;
    fn hash_path_base32(&self, path: &Path) -> String;
    fn hash_path_sri(&self, path: &Path) -> String;
    fn dump(&self, path: &Path) -> Vec<u8>;
    fn flat_base32(&self, path: &Path) -> String;
    fn eval(&self, expression: &str) -> Result<String, String>;
    fn real_path(&self, store_path: &str) -> PathBuf;
}

impl NixExt for Nix {
    fn run(&self, mut command: Command) -> String {
        let output: Output = command.output().expect(NIX_MISSING);
        assert!(
            output.status.success(),
            "{command:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    }

    /// `nix-hash --type sha256 --base32 <path>` (the legacy command, no experimental flag).
    fn hash_path_base32(&self, path: &Path) -> String {
        let mut command = self.command("nix-hash");
        command.args(["--type", "sha256", "--base32"]).arg(path);
        self.run(command)
    }

    /// `nix hash path <path>` (SRI).
    fn hash_path_sri(&self, path: &Path) -> String {
        let mut command = self.command("nix");
        command
            .args([
                "--extra-experimental-features",
                "nix-command",
                "hash",
                "path",
            ])
            .arg(path);
        self.run(command)
    }

    /// `nix-store --dump <path>`: the NAR bytes.
    fn dump(&self, path: &Path) -> Vec<u8> {
        let output = self
            .command("nix-store")
            .arg("--dump")
            .arg(path)
            .output()
            .expect(NIX_MISSING);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// `nix-hash --flat --type sha256 --base32 <file>`.
    fn flat_base32(&self, path: &Path) -> String {
        let mut command = self.command("nix-hash");
        command
            .args(["--flat", "--type", "sha256", "--base32"])
            .arg(path);
        self.run(command)
    }

    /// `nix-instantiate --eval --json -E <expression>` in the private store; the stdout
    /// as a JSON string, or stderr on failure.
    fn eval(&self, expression: &str) -> Result<String, String> {
        let output = self
            .command("nix-instantiate")
            .arg("--store")
            .arg(self.store())
            .args(["--eval", "--json", "-E", expression])
            .output()
            .expect(NIX_MISSING);
        if output.status.success() {
            let text = String::from_utf8(output.stdout).unwrap();
            let text = text.trim();
            assert!(text.starts_with('"') && text.ends_with('"'), "{text}");
            Ok(text[1..text.len() - 1].to_owned())
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    }

    /// The real location of a store path in the private chroot store.
    fn real_path(&self, store_path: &str) -> PathBuf {
        self.store().join(store_path.trim_start_matches('/'))
    }
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

enum Item {
    File(&'static str, Vec<u8>, u32),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
}
use Item::{Dir, File, Symlink};

fn file(path: &'static str, contents: &str) -> Item {
    File(path, contents.as_bytes().to_vec(), 0o644)
}

fn exec(path: &'static str, contents: &str) -> Item {
    File(path, contents.as_bytes().to_vec(), 0o755)
}

fn build(root: &Path, items: &[Item]) {
    fs::create_dir_all(root).unwrap();
    for item in items {
        match item {
            File(path, contents, mode) => {
                let path = root.join(path);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(&path, contents).unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(*mode)).unwrap();
            }
            Dir(path) => fs::create_dir_all(root.join(path)).unwrap(),
            Symlink(path, target) => {
                let path = root.join(path);
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                symlink(target, path).unwrap();
            }
        }
    }
}

/// Deterministic pseudo-random bytes (xorshift), so large files do not compress away.
fn noise(length: usize, mut state: u64) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(length);
    while bytes.len() < length {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(length);
    bytes
}

fn exec_bits() -> Vec<Item> {
    vec![
        File("rwxr-xr-x", b"#!/bin/sh\n".to_vec(), 0o755),
        File("rw-r--r--", b"plain\n".to_vec(), 0o644),
        File("rwxr--r--", b"owner x\n".to_vec(), 0o744),
        File("rwx------", b"owner only\n".to_vec(), 0o700),
        File("rw-r-xr--", b"group x only\n".to_vec(), 0o654),
        File("rw-r--r-x", b"other x only\n".to_vec(), 0o645),
        File("r--------", b"read only\n".to_vec(), 0o400),
        File("r-x------", b"read exec\n".to_vec(), 0o500),
    ]
}

fn symlinks() -> Vec<Item> {
    vec![
        file("target", "t\n"),
        Symlink("relative", "target"),
        Symlink("dangling", "does/not/exist"),
        Symlink("absolute", "/etc/hostname"),
        Symlink("up", "../outside"),
        Dir("dir"),
        Symlink("to-dir", "dir"),
        Symlink("dir/back", "../target"),
        Symlink("self", "self"),
    ]
}

fn nested() -> Vec<Item> {
    vec![
        file("a/b/c/d/e/f", "deep\n"),
        file("a/b/x", "x\n"),
        exec("a/run", "#!/bin/sh\n"),
        Dir("a/empty"),
        Dir("a/b/c/also-empty"),
        file("top", "top\n"),
    ]
}

fn unicode_names() -> Vec<Item> {
    vec![
        file("é", "nfc e-acute\n"),
        file("e\u{301}", "nfd e + combining acute\n"),
        file("日本語", "japanese\n"),
        file("ñ/ü", "nested unicode\n"),
        file("Zebra", "capital\n"),
        file("zebra", "lower\n"),
        file("émoji-🦀", "crab\n"),
        file("\u{7f}del", "delete char\n"),
        file("with space", "space\n"),
    ]
}

fn sorting_names() -> Vec<Item> {
    vec![
        file("a", "a\n"),
        file("a.b", "a.b\n"),
        file("a-b", "a-b\n"),
        file("a0", "a0\n"),
        file("a_", "a_\n"),
        file("a~", "a~\n"),
        file("A", "A\n"),
        file("b/a", "b/a\n"),
        file("b.c", "b.c\n"),
        file("b-c", "b-c\n"),
        file("b0", "b0\n"),
        file("ab", "ab\n"),
    ]
}

/// File sizes and name lengths around the 8-byte padding boundary.
fn padding() -> Vec<Item> {
    const NAMES: [&str; 17] = [
        "p",
        "pp",
        "ppp",
        "pppp",
        "ppppp",
        "pppppp",
        "ppppppp",
        "pppppppp",
        "ppppppppp",
        "pppppppppp",
        "ppppppppppp",
        "pppppppppppp",
        "ppppppppppppp",
        "pppppppppppppp",
        "ppppppppppppppp",
        "pppppppppppppppp",
        "ppppppppppppppppp",
    ];
    NAMES
        .iter()
        .enumerate()
        .map(|(index, name)| File(name, noise(index, 7 + index as u64), 0o644))
        .collect()
}

fn large() -> Vec<Item> {
    vec![
        File("large.bin", noise(5 * 1024 * 1024 + 3, 42), 0o644),
        file("small", "s\n"),
    ]
}

fn mixed() -> Vec<Item> {
    let mut items = Vec::new();
    items.extend(nested());
    items.push(Symlink("link", "top"));
    items.push(Symlink("broken", "nowhere"));
    items.push(file("a.b", "sorts after a/\n"));
    items.push(file("a-b", "sorts before a\n"));
    items.push(file("ünï", "unicode\n"));
    items.push(File("x/bin", b"\x7fELF".to_vec(), 0o755));
    items.push(File("x/empty", Vec::new(), 0o644));
    items
}

fn tree_cases() -> Vec<(&'static str, Vec<Item>)> {
    vec![
        ("exec-bits", exec_bits()),
        ("symlinks", symlinks()),
        ("nested", nested()),
        ("unicode", unicode_names()),
        ("sorting", sorting_names()),
        ("padding", padding()),
        ("large", large()),
        ("mixed", mixed()),
    ]
}

// ---------------------------------------------------------------------------------------
// Paths on disk: `nix-hash`, `nix hash path`, `nix-store --dump`
// ---------------------------------------------------------------------------------------

fn assert_path_matches(nix: &Nix, path: &Path, case: &str) {
    let ours = nar::hash_path(path).unwrap();
    assert_eq!(
        ours.to_nix_base32(),
        nix.hash_path_base32(path),
        "{case}: nix-hash"
    );
    assert_eq!(
        ours.to_sri(),
        nix.hash_path_sri(path),
        "{case}: nix hash path"
    );
    let mut bytes = Vec::new();
    nar::dump_path(path, &mut bytes).unwrap();
    let theirs = nix.dump(path);
    assert!(
        bytes == theirs,
        "{case}: NAR bytes differ from `nix-store --dump`"
    );
}

#[test]
fn path_trees_match_nix() {
    let nix = Nix::new();
    let scratch = TempDir::new().unwrap();
    let cases = tree_cases();
    for (case, items) in &cases {
        let root = scratch.path().join(case);
        build(&root, items);
        assert_path_matches(&nix, &root, case);
    }
    assert_eq!(cases.len(), 8);
}

#[test]
fn path_single_nodes_match_nix() {
    let nix = Nix::new();
    let scratch = TempDir::new().unwrap();
    let root = scratch.path();
    build(
        root,
        &[
            File("empty-file", Vec::new(), 0o644),
            File("empty-exec", Vec::new(), 0o755),
            File("one-byte", b"x".to_vec(), 0o644),
            File("eight-bytes", b"01234567".to_vec(), 0o644),
            Dir("empty-dir"),
            Symlink("root-symlink", "empty-dir"),
            Symlink("dangling-root", "missing"),
        ],
    );
    for name in [
        "empty-file",
        "empty-exec",
        "one-byte",
        "eight-bytes",
        "empty-dir",
        "root-symlink",
        "dangling-root",
    ] {
        assert_path_matches(&nix, &root.join(name), name);
    }
}

#[test]
fn path_known_vectors() {
    // Frozen vectors (computed by Nix 2.8); they pin the encoding even where Nix is absent.
    let scratch = TempDir::new().unwrap();
    let empty_file = scratch.path().join("f");
    fs::write(&empty_file, b"").unwrap();
    assert_eq!(
        nar::hash_path(&empty_file).unwrap().to_sri(),
        "sha256-d6xi4mKdjkX2JFicDIv5niSzpyI0m/Hnm8GGAIU04kY="
    );
    assert_eq!(
        nar::hash_regular(&b""[..], 0, false).unwrap().to_sri(),
        "sha256-d6xi4mKdjkX2JFicDIv5niSzpyI0m/Hnm8GGAIU04kY="
    );
    let empty_dir = scratch.path().join("d");
    fs::create_dir(&empty_dir).unwrap();
    let mut bytes = Vec::new();
    nar::dump_path(&empty_dir, &mut bytes).unwrap();
    let mut expected = Vec::new();
    for token in ["nix-archive-1", "(", "type", "directory", ")"] {
        expected.extend_from_slice(&(token.len() as u64).to_le_bytes());
        expected.extend_from_slice(token.as_bytes());
        expected.resize(expected.len().div_ceil(8) * 8, 0);
    }
    assert_eq!(bytes, expected);
    assert_eq!(
        nar::hash_path(&empty_dir).unwrap().to_sri(),
        "sha256-pQpattmS9VmO3ZIQUFn66az8GSmB4IvYhTTCFn6SUmo="
    );
}

#[test]
fn path_refuses_fifo_like_nix() {
    let nix = Nix::new();
    let scratch = TempDir::new().unwrap();
    let fifo = scratch.path().join("dir/fifo");
    fs::create_dir(scratch.path().join("dir")).unwrap();
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success());
    let error = nar::hash_path(&scratch.path().join("dir")).unwrap_err();
    assert!(
        matches!(&error, nar::Error::UnsupportedFileType { path } if path == &fifo),
        "{error:?}"
    );
    let output = nix
        .command("nix-hash")
        .arg(scratch.path().join("dir"))
        .output()
        .unwrap();
    assert!(!output.status.success(), "nix-hash accepted a fifo");
}

// ---------------------------------------------------------------------------------------
// Git trees: `builtins.fetchGit`
// ---------------------------------------------------------------------------------------

fn open(path: &Path) -> gix::Repository {
    gix::open_opts(path, gix::open::Options::isolated()).unwrap()
}

fn tree_of(repo: &TestRepo, commit: &str) -> gix::ObjectId {
    let tree = repo.rev_parse(&format!("{commit}^{{tree}}"));
    gix::ObjectId::from_hex(tree.as_bytes()).unwrap()
}

fn fetch_git(nix: &Nix, repo: &TestRepo, commit: &str) -> Result<String, String> {
    nix.eval(&format!(
        "(builtins.fetchGit {{ url = \"{}\"; ref = \"refs/heads/main\"; rev = \"{commit}\"; }}).narHash",
        file_url(repo.path())
    ))
}

#[test]
fn git_trees_match_fetch_git() {
    let nix = Nix::new();
    let mut compared = 0;
    for (case, items) in tree_cases() {
        let repo = TestRepo::init();
        build(repo.path(), &items);
        let commit = repo.commit(case);
        let ours = nar::hash_git_tree(&open(repo.path()), tree_of(&repo, &commit)).unwrap();
        let theirs = fetch_git(&nix, &repo, &commit).unwrap();
        assert_eq!(ours.to_sri(), theirs, "{case}");
        compared += 1;
    }
    assert_eq!(compared, 8);
}

#[test]
fn git_tree_in_subdirectory_and_checkout_agree() {
    // The tree of a subdirectory hashes like that directory checked out.
    let repo = TestRepo::init();
    build(&repo.path().join("pkg"), &mixed());
    repo.write("other", "not in pkg\n");
    let commit = repo.commit("sub");
    let tree = repo.rev_parse(&format!("{commit}:pkg"));
    let ours = nar::hash_git_tree(
        &open(repo.path()),
        gix::ObjectId::from_hex(tree.as_bytes()).unwrap(),
    )
    .unwrap();
    // `mixed` has empty directories, which git drops: compare with a fresh checkout.
    let checkout = TempDir::new().unwrap();
    let archive = repo
        .git()
        .command(repo.path())
        .args(["archive", "--format=tar", &format!("{commit}:pkg")])
        .output()
        .unwrap();
    assert!(archive.status.success());
    let mut untar = Command::new("tar")
        .arg("-x")
        .arg("-C")
        .arg(checkout.path())
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(untar.stdin.as_mut().unwrap(), &archive.stdout).unwrap();
    assert!(untar.wait().unwrap().success());
    assert_eq!(ours, nar::hash_path(checkout.path()).unwrap());
}

#[test]
fn git_gitlink_is_refused() {
    let repo = TestRepo::init();
    repo.write("file", "f\n");
    repo.commit("base");
    let inner = "1111111111111111111111111111111111111111";
    repo.run([
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{inner},vendor/sub"),
    ]);
    repo.run(["commit", "--quiet", "-m", "submodule"]);
    let commit = repo.head();
    let error = nar::hash_git_tree(&open(repo.path()), tree_of(&repo, &commit)).unwrap_err();
    match error {
        nar::Error::Gitlink {
            path, commit_id, ..
        } => {
            assert_eq!(path, "vendor/sub");
            assert_eq!(commit_id.to_string(), inner);
        }
        other => panic!("expected a gitlink error, got {other:?}"),
    }
}

#[test]
fn git_export_attributes_change_nix_and_are_refused() {
    let nix = Nix::new();
    let repo = TestRepo::init();
    repo.write("kept", "kept\n");
    repo.write("dropped", "dropped by git archive\n");
    repo.write(".gitattributes", "dropped export-ignore\n");
    let commit = repo.commit("attributes");
    // Nix really does leave the file out: its hash is that of the tree without it.
    let theirs = fetch_git(&nix, &repo, &commit).unwrap();
    let without = TempDir::new().unwrap();
    fs::write(without.path().join("kept"), "kept\n").unwrap();
    fs::write(
        without.path().join(".gitattributes"),
        "dropped export-ignore\n",
    )
    .unwrap();
    assert_eq!(nar::hash_path(without.path()).unwrap().to_sri(), theirs);
    // eka refuses instead of producing a hash Nix would reject.
    let error = nar::hash_git_tree(&open(repo.path()), tree_of(&repo, &commit)).unwrap_err();
    assert!(
        matches!(&error, nar::Error::GitAttribute { path, attribute, .. }
            if path == ".gitattributes" && attribute == "export-ignore"),
        "{error:?}"
    );
}

#[test]
fn git_harmless_attributes_are_accepted_and_match() {
    let nix = Nix::new();
    let repo = TestRepo::init();
    repo.write("image.png", b"\x89PNG\r\n".as_slice());
    repo.write("text.txt", "line\n");
    repo.write(
        ".gitattributes",
        "# comment\n*.png binary\n*.txt text eol=lf -export-ignore\n*.md linguist-documentation\n",
    );
    let commit = repo.commit("attributes");
    let ours = nar::hash_git_tree(&open(repo.path()), tree_of(&repo, &commit)).unwrap();
    assert_eq!(ours.to_sri(), fetch_git(&nix, &repo, &commit).unwrap());
}

#[test]
fn git_eol_crlf_is_refused() {
    let repo = TestRepo::init();
    repo.write("sub/.gitattributes", "*.txt text eol=crlf\n");
    repo.write("sub/a.txt", "a\n");
    let commit = repo.commit("crlf");
    let error = nar::hash_git_tree(&open(repo.path()), tree_of(&repo, &commit)).unwrap_err();
    assert!(
        matches!(&error, nar::Error::GitAttribute { path, attribute, .. }
            if path == "sub/.gitattributes" && attribute == "eol=crlf"),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Tarballs: `builtins.fetchTarball`
// ---------------------------------------------------------------------------------------

/// Fetch with Nix, hash the store path with Nix, and check that Nix accepts our hash as
/// the `sha256` of `fetchTarball` (which is how eka's lock entry is used).
fn assert_tarball_matches(nix: &Nix, tarball: &Path, case: &str) {
    let ours = nar::hash_tarball(fs::File::open(tarball).unwrap()).unwrap();
    let url = file_url(tarball);
    let store_path = nix
        .eval(&format!("builtins.fetchTarball {{ url = \"{url}\"; }}"))
        .unwrap();
    let theirs = nix.hash_path_sri(&nix.real_path(&store_path));
    assert_eq!(ours.to_sri(), theirs, "{case}");
    let pinned = nix.eval(&format!(
        "builtins.fetchTarball {{ url = \"{url}\"; sha256 = \"{}\"; }}",
        ours.to_nix_base32()
    ));
    assert_eq!(
        pinned.as_deref(),
        Ok(store_path.as_str()),
        "{case}: pinned fetch"
    );
}

fn tar(args: &[&str], dir: &Path) {
    let status = Command::new("tar")
        .args(args)
        .current_dir(dir)
        .env("LC_ALL", "C")
        .status()
        .expect("run `tar` (install the Debian package `tar`)");
    assert!(status.success(), "tar {args:?}");
}

#[test]
fn tarballs_with_a_top_level_directory_match_fetch_tarball() {
    let nix = Nix::new();
    let scratch = TempDir::new().unwrap();
    let mut compared = 0;
    for (case, items) in tree_cases() {
        let dir = scratch.path().join(case);
        build(&dir.join("top"), &items);
        let gz = scratch.path().join(format!("{case}.tar.gz"));
        tar(&["-czf", gz.to_str().unwrap(), "top"], &dir);
        assert_tarball_matches(&nix, &gz, case);
        compared += 1;
    }
    assert_eq!(compared, 8);
}

#[test]
fn tarball_variants_match_fetch_tarball() {
    let nix = Nix::new();
    let scratch = TempDir::new().unwrap();
    let dir = scratch.path().join("src");
    build(&dir.join("pkg-1.0"), &mixed());
    build(&dir, &[file("lonely", "single file\n")]);

    // Uncompressed, `./`-prefixed, without directory entries, single top-level file.
    let plain = scratch.path().join("plain.tar");
    tar(&["-cf", plain.to_str().unwrap(), "pkg-1.0"], &dir);
    assert_tarball_matches(&nix, &plain, "plain tar");

    let dotted = scratch.path().join("dotted.tar.gz");
    tar(&["-czf", dotted.to_str().unwrap(), "./pkg-1.0"], &dir);
    assert_tarball_matches(&nix, &dotted, "./ prefix");

    let files_only = scratch.path().join("files-only.tar.gz");
    tar(
        &[
            "-czf",
            files_only.to_str().unwrap(),
            "--no-recursion",
            "pkg-1.0/a/b/c/d/e/f",
            "pkg-1.0/top",
            "pkg-1.0/x/bin",
        ],
        &dir,
    );
    assert_tarball_matches(&nix, &files_only, "implicit directories");

    let single = scratch.path().join("single-file.tar.gz");
    tar(&["-czf", single.to_str().unwrap(), "lonely"], &dir);
    assert_tarball_matches(&nix, &single, "single top-level file");
}

#[test]
fn tarball_from_git_archive_matches_fetch_tarball() {
    // `git archive` writes a pax global header (the commit id) and long-name records.
    let nix = Nix::new();
    let repo = TestRepo::init();
    build(repo.path(), &mixed());
    let long = format!("{}/{}", "d".repeat(90), "f".repeat(120));
    repo.write(&long, "long path\n");
    let commit = repo.commit("archive");
    let scratch = TempDir::new().unwrap();
    let tarball = scratch.path().join("archive.tar.gz");
    let output = repo
        .git()
        .command(repo.path())
        .args(["archive", "--format=tar.gz", "--prefix=project/", "-o"])
        .arg(&tarball)
        .arg(&commit)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_tarball_matches(&nix, &tarball, "git archive");
    // And fetchGit of the same commit yields the same NAR.
    let ours = nar::hash_tarball(fs::File::open(&tarball).unwrap()).unwrap();
    assert_eq!(ours.to_sri(), fetch_git(&nix, &repo, &commit).unwrap());
}

/// One crafted tar entry: path, kind, mode, contents, link target.
type CraftedEntry<'a> = (&'a str, tar::EntryType, u32, &'a [u8], Option<&'a str>);

/// A tar built entry by entry with the `tar` crate, for cases GNU tar will not write.
fn crafted(entries: &[CraftedEntry<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, kind, mode, contents, link) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(*kind);
        header.set_mode(*mode);
        header.set_size(contents.len() as u64);
        header.set_mtime(1);
        if let Some(link) = link {
            header.set_link_name(link).unwrap();
        }
        // `set_path` refuses `..`; write the raw name field for hostile cases.
        let name = &mut header.as_old_mut().name;
        name.fill(0);
        name[..path.len()].copy_from_slice(path.as_bytes());
        header.set_cksum();
        builder.append(&header, *contents).unwrap();
    }
    builder.into_inner().unwrap()
}

#[test]
fn crafted_tarball_edge_cases_match_fetch_tarball() {
    use tar::EntryType::{Directory, Link, Regular, Symlink as Sym};
    let nix = Nix::new();
    let scratch = TempDir::new().unwrap();
    let bytes = crafted(&[
        // Files before their directory entry, odd modes, a duplicate that replaces an
        // earlier entry, a hard link, and a symlink.
        ("top/z/late", Regular, 0o644, b"late\n", None),
        ("top/", Directory, 0o755, b"", None),
        ("top/group-x", Regular, 0o010, b"g\n", None),
        ("top/owner-x", Regular, 0o100, b"o\n", None),
        ("top/dup", Regular, 0o755, b"first\n", None),
        ("top/dup", Regular, 0o644, b"second wins\n", None),
        ("top/hard", Link, 0o644, b"", Some("top/owner-x")),
        ("top/sym", Sym, 0o777, b"", Some("z/late")),
        ("top/z", Directory, 0o700, b"", None),
    ]);
    let tarball = scratch.path().join("crafted.tar");
    fs::write(&tarball, &bytes).unwrap();
    assert_tarball_matches(&nix, &tarball, "crafted");
}

#[test]
fn tarball_without_a_single_top_level_entry_is_refused_like_nix() {
    let nix = Nix::new();
    let scratch = TempDir::new().unwrap();
    let dir = scratch.path().join("src");
    build(&dir, &[file("a", "a\n"), file("b/c", "c\n")]);
    let tarball = scratch.path().join("flat.tar.gz");
    tar(
        &[
            "-czf",
            tarball.to_str().unwrap(),
            "-C",
            dir.to_str().unwrap(),
            ".",
        ],
        &dir,
    );
    let error = nar::hash_tarball(fs::File::open(&tarball).unwrap()).unwrap_err();
    assert!(
        matches!(error, nar::Error::TarballTopLevel { count: 2, .. }),
        "{error:?}"
    );
    let theirs = nix.eval(&format!(
        "builtins.fetchTarball {{ url = \"{}\"; }}",
        file_url(&tarball)
    ));
    assert!(
        theirs
            .as_ref()
            .is_err_and(|message| message.contains("unexpected number of top-level files")),
        "{theirs:?}"
    );
}

#[test]
fn tarball_unsafe_entries_are_refused() {
    use tar::EntryType::{Regular, Symlink as Sym};
    let cases: [(&str, Vec<u8>); 3] = [
        (
            "dot-dot",
            crafted(&[("top/../escape", Regular, 0o644, b"x", None)]),
        ),
        (
            "through-symlink",
            crafted(&[
                ("top/link", Sym, 0o777, b"", Some("/tmp")),
                ("top/link/file", Regular, 0o644, b"x", None),
            ]),
        ),
        (
            "fifo",
            crafted(&[("top/fifo", tar::EntryType::Fifo, 0o644, b"", None)]),
        ),
    ];
    for (case, bytes) in cases {
        let error = nar::hash_tarball(bytes.as_slice()).unwrap_err();
        assert!(
            matches!(
                error,
                nar::Error::TarballPath { .. } | nar::Error::TarballEntryType { .. }
            ),
            "{case}: {error:?}"
        );
    }
}

#[test]
fn tarball_other_compressions_are_refused_by_name() {
    let xz = [0xfd, b'7', b'z', b'X', b'Z', 0, 0, 0];
    let error = nar::hash_tarball(&xz[..]).unwrap_err();
    assert!(
        matches!(
            error,
            nar::Error::TarballCompression {
                compression: "xz",
                ..
            }
        ),
        "{error:?}"
    );
}

// ---------------------------------------------------------------------------------------
// Flat files: `builtins.fetchurl`
// ---------------------------------------------------------------------------------------

#[test]
fn flat_and_file_nar_hashes_match_fetchurl() {
    let nix = Nix::new();
    let scratch = TempDir::new().unwrap();
    for (name, contents) in [
        ("empty", Vec::new()),
        ("text", b"hello\n".to_vec()),
        ("large", noise(3 * 1024 * 1024 + 5, 9)),
    ] {
        let path = scratch.path().join(name);
        fs::write(&path, &contents).unwrap();
        let flat = flat_hash(contents.as_slice()).unwrap();
        assert_eq!(flat.to_nix_base32(), nix.flat_base32(&path), "{name}: flat");
        let url = file_url(&path);
        // Nix accepts our flat hash as `fetchurl`'s `sha256` ...
        let store_path = nix
            .eval(&format!(
                "builtins.fetchurl {{ url = \"{url}\"; sha256 = \"{}\"; }}",
                flat.to_sri()
            ))
            .unwrap();
        // ... and the fetched store path's NAR hash is our single-file NAR hash.
        let nar_hash =
            nar::hash_regular(contents.as_slice(), contents.len() as u64, false).unwrap();
        assert_eq!(
            nar_hash.to_sri(),
            nix.hash_path_sri(&nix.real_path(&store_path)),
            "{name}: narHash"
        );
        // A wrong hash is rejected by Nix, so the comparison above can fail.
        let wrong = flat_hash(&b"something else"[..]).unwrap();
        let rejected = nix.eval(&format!(
            "builtins.fetchurl {{ url = \"{url}\"; sha256 = \"{}\"; }}",
            wrong.to_sri()
        ));
        assert!(rejected.is_err(), "{name}: nix accepted a wrong hash");
    }
}

// ---------------------------------------------------------------------------------------
// Hash text forms
// ---------------------------------------------------------------------------------------

#[test]
fn hash_forms_match_nix_hash_conversions() {
    let nix = Nix::new();
    for seed in 1..=6u64 {
        let hash = flat_hash(noise(100, seed).as_slice()).unwrap();
        let mut to_base32 = nix.command("nix-hash");
        to_base32.args(["--type", "sha256", "--to-base32", &hash.to_hex()]);
        assert_eq!(nix.run(to_base32), hash.to_nix_base32());
        let mut to_sri = nix.command("nix");
        to_sri.args([
            "--extra-experimental-features",
            "nix-command",
            "hash",
            "to-sri",
            "--type",
            "sha256",
            &hash.to_nix_base32(),
        ]);
        assert_eq!(nix.run(to_sri), hash.to_sri());
        for text in [
            hash.to_sri(),
            hash.to_nix_base32(),
            hash.to_hex(),
            format!("sha256:{}", hash.to_nix_base32()),
            format!("sha256:{}", hash.to_hex()),
        ] {
            assert_eq!(text.parse::<Sha256Hash>().unwrap(), hash, "{text}");
        }
    }
}

#[test]
fn hash_parse_refuses_bad_text() {
    let good = flat_hash(&b""[..]).unwrap();
    let base32 = good.to_nix_base32();
    let cases = [
        "".to_owned(),
        "sha256-".to_owned(),
        "sha256-AAAA".to_owned(),
        good.to_hex().to_uppercase(),
        base32.replace('0', "e"),
        // 52 base32 characters carry 260 bits; the top four must be zero.
        format!("z{}", &base32[1..]),
        good.to_hex()[1..].to_owned(),
        "not a hash".to_owned(),
    ];
    for text in &cases {
        let error = Sha256Hash::parse(text).unwrap_err();
        assert!(
            matches!(error, HashError::Invalid { .. }),
            "{text}: {error:?}"
        );
    }
    let error = Sha256Hash::parse("sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=").unwrap_err();
    assert!(
        matches!(&error, HashError::Algorithm { algorithm, .. } if algorithm == "sha1"),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "`sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=` is not a sha256 hash: algorithm `sha1` is not supported"
    );
}
