//! Signing through an `ssh-agent` (the `SSH_AUTH_SOCK` protocol, sign requests only).

use std::{
    io::{Read, Write},
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
};

use ssh_key::{PublicKey, Signature, SshSig};

use super::{Error, HASH, NAMESPACE, armor};

const SIGN_REQUEST: u8 = 13;
const SIGN_RESPONSE: u8 = 14;
const FAILURE: u8 = 5;
/// Ask for `rsa-sha2-512` rather than `ssh-rsa` (SHA-1) signatures from RSA keys.
const RSA_SHA2_512: u32 = 4;
/// Agent replies larger than this are refused.
const MAX_REPLY: usize = 256 << 10;

/// The agent socket named by `SSH_AUTH_SOCK`, if set and not empty.
pub fn agent_socket_from_env() -> Option<PathBuf> {
    std::env::var_os("SSH_AUTH_SOCK")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// Sign a commit payload with the key `public_key` names, held by the agent at
/// `socket`; the result is what [`super::sign_commit`] gives for that key.
pub fn sign_commit_with_agent(
    payload: &[u8],
    public_key: &PublicKey,
    socket: &Path,
) -> Result<String, Error> {
    let fail = |reason: String| Error::Agent {
        socket: socket.to_owned(),
        reason,
    };
    let signed_data = SshSig::signed_data(NAMESPACE, HASH, payload)
        .map_err(|error| fail(format!("cannot encode the data to sign: {error}")))?;
    let key_blob = public_key
        .to_bytes()
        .map_err(|error| fail(format!("cannot encode the public key: {error}")))?;
    let flags = if public_key.key_data().is_rsa() {
        RSA_SHA2_512
    } else {
        0
    };

    let mut body = vec![SIGN_REQUEST];
    put_string(&mut body, &key_blob);
    put_string(&mut body, &signed_data);
    body.extend_from_slice(&flags.to_be_bytes());
    let mut message = Vec::with_capacity(body.len() + 4);
    put_string(&mut message, &body);

    let mut stream =
        UnixStream::connect(socket).map_err(|error| fail(format!("cannot connect: {error}")))?;
    stream
        .write_all(&message)
        .map_err(|error| fail(format!("cannot send the request: {error}")))?;
    let mut length = [0; 4];
    stream
        .read_exact(&mut length)
        .map_err(|error| fail(format!("cannot read the reply: {error}")))?;
    let length = u32::from_be_bytes(length) as usize;
    if length == 0 || length > MAX_REPLY {
        return Err(fail(format!("the reply has an invalid length {length}")));
    }
    let mut reply = vec![0; length];
    stream
        .read_exact(&mut reply)
        .map_err(|error| fail(format!("cannot read the reply: {error}")))?;

    let blob = match reply.split_first() {
        Some((&SIGN_RESPONSE, rest)) => {
            take_string(rest)
                .ok_or_else(|| fail("the reply is truncated".into()))?
                .0
        }
        Some((&FAILURE, _)) => {
            return Err(fail(format!(
                "it refused to sign with `{}` (is the key loaded?)",
                public_key.fingerprint(ssh_key::HashAlg::Sha256)
            )));
        }
        Some((kind, _)) => return Err(fail(format!("unexpected reply type {kind}"))),
        None => return Err(fail("empty reply".into())),
    };
    let signature = Signature::try_from(blob)
        .map_err(|error| fail(format!("the signature is malformed: {error}")))?;
    let sshsig = SshSig::new(public_key.key_data().clone(), NAMESPACE, HASH, signature)
        .map_err(|error| fail(format!("cannot build the signature: {error}")))?;
    // An agent is not trusted to have used the right key.
    if public_key.key_data().is_ed25519() {
        public_key
            .verify(NAMESPACE, payload, &sshsig)
            .map_err(|error| fail(format!("its signature does not verify: {error}")))?;
    }
    armor(&sshsig).map_err(|error| fail(format!("cannot armor the signature: {error}")))
}

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    // Callers pass at most a few kilobytes plus a 64-byte hash.
    let length = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(bytes);
}

fn take_string(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let (length, rest) = bytes.split_first_chunk::<4>()?;
    let length = u32::from_be_bytes(*length) as usize;
    (rest.len() >= length).then(|| rest.split_at(length))
}
