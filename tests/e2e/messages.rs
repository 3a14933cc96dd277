//! The messages a new user meets first, each snapshotted whole (exit code, stdout,
//! stderr) through the real binary against real repositories: a repository that does not
//! exist, a requirement no published version matches, a requirement only pre-releases
//! match, and the manifest `eka remove` leaves behind.

use eka_test_support::{Remote, Transport};

use crate::common::{Sandbox, snapshot};

fn atom_toml(label: &str, version: &str) -> String {
    format!("[package]\nlabel = \"{label}\"\nversion = \"{version}\"\n")
}

/// A consumer project `app` with no dependencies yet.
fn consumer() -> Sandbox {
    let sandbox = Sandbox::new();
    sandbox.write("app/atom.toml", &atom_toml("app", "0.1.0"));
    sandbox
}

#[test]
fn adding_from_a_repository_that_does_not_exist_names_the_url() {
    for transport in Transport::ALL {
        let remote = Remote::start(transport);
        let url = remote.url().replace(Remote::NAME, "missing.git");
        let sandbox = consumer();
        let add = sandbox.eka_in("app", &["add", &format!("{url}::x")]);
        assert_eq!(add.code, 2, "{}", add.transcript());
        snapshot!(format!("missing_repository_{transport}"), add.transcript());
        assert_eq!(sandbox.read("app/atom.toml"), atom_toml("app", "0.1.0"));
    }
}

/// A `git daemon` without `--informative-errors` closes the connection without a word
/// when it has no such repository: that reads the same as a named refusal.
#[test]
fn a_git_server_closing_the_connection_reads_as_a_missing_repository() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            // Read the request, then close without answering.
            let mut request = [0_u8; 4];
            let _ = std::io::Read::read(&mut stream, &mut request);
        }
    });
    let sandbox = consumer();
    let url = format!("git://127.0.0.1:{port}/missing.git");
    let add = sandbox.eka_in("app", &["add", &format!("{url}::x")]);
    assert_eq!(add.code, 2, "{}", add.transcript());
    snapshot!("closed_connection_git", add.transcript());
}
