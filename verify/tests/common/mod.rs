//! Git fixtures built by real git in temporary repositories.
#![allow(dead_code, unreachable_pub)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// A temporary bare repository driven by the `git` binary, isolated from the
/// developer's configuration.
pub struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = Self { dir };
        repo.git_in(repo.dir.path(), &["init", "-q", "--bare", "repo.git"], b"");
        repo
    }

    fn git_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("repo.git")
    }

    fn git_in(&self, cwd: &Path, args: &[&str], stdin: &[u8]) -> Vec<u8> {
        let mut child = Command::new("git")
            .args(args)
            .current_dir(cwd)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", self.dir.path())
            .env("GIT_AUTHOR_NAME", "eka test")
            .env("GIT_AUTHOR_EMAIL", "test@eka.invalid")
            .env("GIT_COMMITTER_NAME", "eka test")
            .env("GIT_COMMITTER_EMAIL", "test@eka.invalid")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut input = child.stdin.take().unwrap();
        let stdin = stdin.to_vec();
        let writer = std::thread::spawn(move || input.write_all(&stdin));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    }

    /// Run git in the repository, returning trimmed stdout.
    pub fn git(&self, args: &[&str], stdin: &[u8]) -> String {
        let out = self.git_in(&self.git_dir(), args, stdin);
        String::from_utf8(out).unwrap().trim().to_owned()
    }

    /// Write a blob, returning its hex id.
    pub fn blob(&self, bytes: &[u8]) -> String {
        self.git(&["hash-object", "-w", "--stdin"], bytes)
    }

    /// Write a well-formed tree with `git mktree -z` (git sorts and checks it).
    /// Entries are (mode, name, hex id); the object type follows from the mode.
    pub fn tree(&self, entries: &[(&str, &[u8], &str)]) -> String {
        let mut input = Vec::new();
        for (mode, name, id) in entries {
            let kind = match *mode {
                "040000" | "40000" => "tree",
                "160000" => "commit",
                _ => "blob",
            };
            input.extend_from_slice(format!("{mode} {kind} {id}\t").as_bytes());
            input.extend_from_slice(name);
            input.push(0);
        }
        self.git(&["mktree", "-z"], &input)
    }

    /// Write a tree object from raw entries exactly as given (no sorting, no checks).
    pub fn raw_tree(&self, entries: &[(&[u8], &[u8], &str)]) -> String {
        let mut data = Vec::new();
        for (mode, name, id) in entries {
            data.extend_from_slice(mode);
            data.push(b' ');
            data.extend_from_slice(name);
            data.push(0);
            data.extend_from_slice(&hex::decode(id).unwrap());
        }
        self.raw_object("tree", &data)
    }

    /// Write any object literally, bypassing git's checks.
    pub fn raw_object(&self, kind: &str, data: &[u8]) -> String {
        self.git(
            &["hash-object", "-t", kind, "--literally", "-w", "--stdin"],
            data,
        )
    }

    /// Move every object into a pack.
    pub fn repack(&self) {
        let ids = self.git(
            &[
                "cat-file",
                "--batch-all-objects",
                "--batch-check=%(objectname)",
            ],
            b"",
        );
        self.git(
            &["pack-objects", "-q", "objects/pack/pack"],
            format!("{ids}\n").as_bytes(),
        );
        self.git(&["prune-packed"], b"");
        let loose = self.git(&["count-objects"], b"");
        assert!(loose.starts_with("0 objects"), "{loose}");
    }

    /// Every object of the repository: id to (type, bytes), read by `git cat-file`.
    pub fn all_objects(&self) -> std::collections::HashMap<String, (String, Vec<u8>)> {
        let out = self.git_in(
            &self.git_dir(),
            &["cat-file", "--batch-all-objects", "--batch"],
            b"",
        );
        let mut objects = std::collections::HashMap::new();
        let mut rest = &out[..];
        while !rest.is_empty() {
            let newline = rest.iter().position(|&b| b == b'\n').unwrap();
            let header = std::str::from_utf8(&rest[..newline]).unwrap();
            let mut fields = header.split(' ');
            let (id, kind, size) = (
                fields.next().unwrap().to_owned(),
                fields.next().unwrap().to_owned(),
                fields.next().unwrap().parse::<usize>().unwrap(),
            );
            let body = rest[newline + 1..newline + 1 + size].to_vec();
            rest = &rest[newline + 1 + size + 1..];
            objects.insert(id, (kind, body));
        }
        objects
    }

    pub fn open(&self) -> gix::Repository {
        gix::open(self.git_dir()).unwrap()
    }
}

pub fn id(hex: &str) -> gix::ObjectId {
    gix::ObjectId::from_hex(hex.as_bytes()).unwrap()
}

/// Deterministic pseudo-random bytes (xorshift64), the same on every machine.
pub fn deterministic_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 32) as u8
        })
        .collect()
}
