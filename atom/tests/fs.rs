//! Atomic writes, the project lock and two-file transactions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, SystemTime},
};

use atom::fs::{FileLock, Outcome, Transaction, write_atomic, write_together};

const CHILD_ENV: &str = "ATOM_FS_TEST_CHILD_DIR";
const ROUNDS: u64 = 25;

/// Read the counter, add one, write it back, under the lock.
fn increment(dir: &Path) {
    let _lock = FileLock::acquire(dir).unwrap();
    let path = dir.join("counter");
    let value: u64 = std::fs::read_to_string(&path)
        .map(|text| text.trim().parse().unwrap())
        .unwrap_or(0);
    assert_eq!(
        write_atomic(&path, format!("{}\n", value + 1).as_bytes()).unwrap(),
        Outcome::Written
    );
}

fn counter(dir: &Path) -> u64 {
    std::fs::read_to_string(dir.join("counter"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().ends_with(".tmp"))
        .collect()
}

#[test]
fn concurrent_threads_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| (0..ROUNDS).for_each(|_| increment(dir.path())));
        }
    });
    assert_eq!(counter(dir.path()), 4 * ROUNDS);
    assert!(leftovers(dir.path()).is_empty());
}

/// Run as a child process by `concurrent_processes_lose_no_update`.
#[test]
fn child_writer() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    (0..ROUNDS).for_each(|_| increment(&dir));
    assert!(counter(&dir) >= ROUNDS);
}

#[test]
fn concurrent_processes_lose_no_update() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..3)
        .map(|_| {
            Command::new(&exe)
                .args(["--exact", "child_writer", "--test-threads=1"])
                .env(CHILD_ENV, dir.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    assert_eq!(counter(dir.path()), 3 * ROUNDS);
}

#[test]
fn try_acquire_sees_a_held_lock() {
    let dir = tempfile::tempdir().unwrap();
    let held = FileLock::acquire(dir.path()).unwrap();
    assert!(FileLock::try_acquire(dir.path()).unwrap().is_none());
    drop(held);
    assert!(FileLock::try_acquire(dir.path()).unwrap().is_some());
    // Locking the directory leaves nothing behind in it.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn unchanged_content_keeps_the_file_and_its_mtime() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("atom.lock");
    assert_eq!(write_atomic(&path, b"one\n").unwrap(), Outcome::Written);
    let past = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
    std::fs::File::options()
        .write(true)
        .open(&path)
        .unwrap()
        .set_modified(past)
        .unwrap();
    assert_eq!(write_atomic(&path, b"one\n").unwrap(), Outcome::Unchanged);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), past);
    assert_eq!(write_atomic(&path, b"two\n").unwrap(), Outcome::Written);
    assert_ne!(std::fs::metadata(&path).unwrap().modified().unwrap(), past);
    assert_eq!(std::fs::read(&path).unwrap(), b"two\n");
    assert!(leftovers(dir.path()).is_empty());
}

#[cfg(unix)]
#[test]
fn permissions_of_the_old_file_are_kept() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("atom.toml");
    std::fs::write(&path, "old").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    write_atomic(&path, b"new").unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn transaction_writes_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("atom.lock");
    let manifest = dir.path().join("atom.toml");
    std::fs::write(&manifest, "same").unwrap();
    let outcomes = write_together(&[(&lock, b"lock"), (&manifest, b"same")]).unwrap();
    assert_eq!(outcomes, [Outcome::Written, Outcome::Unchanged]);
    assert_eq!(std::fs::read(&lock).unwrap(), b"lock");
    assert!(leftovers(dir.path()).is_empty());
}

#[test]
fn failed_transaction_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("atom.lock");
    std::fs::write(&lock, "old").unwrap();
    let mut transaction = Transaction::new();
    assert_eq!(transaction.stage(&lock, b"new").unwrap(), Outcome::Written);
    let missing = dir.path().join("no-such-dir").join("atom.toml");
    let error = transaction.stage(&missing, b"x").unwrap_err();
    assert!(error.to_string().contains("no-such-dir"), "{error}");
    drop(transaction);
    assert_eq!(std::fs::read(&lock).unwrap(), b"old");
    assert!(leftovers(dir.path()).is_empty());
}
