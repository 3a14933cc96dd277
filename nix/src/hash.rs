//! SHA-256 digests as Nix writes them, and flat file hashes.
//!
//! [`Sha256Hash`] is one SHA-256 digest, used both for a NAR hash (`narHash`, see
//! [`super::nar`]) and for a flat hash (the digest of a file's bytes, [`flat_hash`]).
//! It renders in the three forms Nix uses:
//!
//! - SRI: `sha256-` followed by standard base64 with padding (what `flake.lock` and
//!   `narHash` attributes hold);
//! - Nix base32: 52 characters of the alphabet `0123456789abcdfghijklmnpqrsvwxyz`
//!   (no `e`, `o`, `u`, `t`), read from the *last* byte of the digest backwards
//!   (what `nix-hash --base32` prints and what `sha256 = "..."` attributes usually hold);
//! - hex: 64 lowercase digits.
//!
//! [`Sha256Hash::parse`] accepts any of these, bare or with a `sha256:` prefix.
//!
//! ```
//! use nix::hash::{Sha256Hash, flat_hash};
//!
//! let hash = flat_hash(&b""[..]).unwrap();
//! assert_eq!(hash.to_sri(), "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
//! assert_eq!(hash.to_nix_base32(), "0mdqa9w1p6cmli6976v4wi0sw9r4p5prkj7lzfd1877wk11c9c73");
//! assert_eq!(Sha256Hash::parse(&hash.to_nix_base32()).unwrap(), hash);
//! assert_eq!(Sha256Hash::parse(&hash.to_hex()).unwrap(), hash);
//! ```

use std::{fmt, io::Read, str::FromStr};

use atom::error::{Classify, Kind};
use base64::Engine as _;
use sha2::Digest as _;

/// Nix's base32 alphabet: digits and lowercase letters without `e`, `o`, `u` and `t`.
pub const NIX_BASE32_ALPHABET: &[u8; 32] = b"0123456789abcdfghijklmnpqrsvwxyz";

/// Length of a SHA-256 digest in Nix base32.
const BASE32_LENGTH: usize = 52;

/// Why a hash could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The text is not a SHA-256 hash in any form Nix writes.
    #[error("`{input}` is not a sha256 hash in SRI (`sha256-...`), Nix base32 or hex form")]
    Invalid {
        /// The text as given.
        input: String,
        /// What to do.
        hint: &'static str,
    },
    /// The hash names an algorithm other than SHA-256.
    #[error("`{input}` is not a sha256 hash: algorithm `{algorithm}` is not supported")]
    Algorithm {
        /// The text as given.
        input: String,
        /// The algorithm it names.
        algorithm: String,
    },
}

impl Classify for Error {
    /// A hash that does not parse is always the user's input.
    fn kind(&self) -> Kind {
        Kind::Input
    }

    fn hint(&self) -> Option<String> {
        match self {
            Error::Invalid { hint, .. } => Some((*hint).to_owned()),
            Error::Algorithm { .. } => Some("write a sha256 hash".to_owned()),
        }
    }
}

/// One SHA-256 digest (a NAR hash or a flat hash).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Sha256Hash([u8; 32]);

impl Sha256Hash {
    /// Wrap raw digest bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Sha256Hash(bytes)
    }

    /// The raw digest bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// SRI form: `sha256-<standard base64 with padding>`.
    pub fn to_sri(&self) -> String {
        format!(
            "sha256-{}",
            base64::engine::general_purpose::STANDARD.encode(self.0)
        )
    }

    /// Nix base32 form (52 characters), as `nix-hash --base32` prints it.
    pub fn to_nix_base32(&self) -> String {
        let mut text = String::with_capacity(BASE32_LENGTH);
        // Character `n` (counted from the end of the string) holds bits 5n..5n+5 of the
        // digest read as a little-endian number.
        for n in (0..BASE32_LENGTH).rev() {
            let bit = n * 5;
            let index = bit / 8;
            let shift = bit % 8;
            let low = u16::from(self.0[index]) >> shift;
            let high = self
                .0
                .get(index + 1)
                .map_or(0, |&byte| u16::from(byte) << (8 - shift));
            text.push(char::from(
                NIX_BASE32_ALPHABET[usize::from((low | high) & 0x1f)],
            ));
        }
        text
    }

    /// Hex form: 64 lowercase digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parse SRI (`sha256-<base64>`), `sha256:<base32|hex|base64>`, or bare base32 / hex.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let invalid = || Error::Invalid {
            input: input.to_owned(),
            hint: "write the hash as `sha256-<base64>`, 52 Nix base32 characters or 64 hex digits",
        };
        if let Some((algorithm, rest)) = input.split_once('-').filter(|(a, _)| is_algorithm(a)) {
            check_algorithm(input, algorithm)?;
            return decode_base64(rest).ok_or_else(invalid);
        }
        let body = match input.split_once(':') {
            Some((algorithm, rest)) => {
                check_algorithm(input, algorithm)?;
                rest
            }
            None => input,
        };
        match body.len() {
            BASE32_LENGTH => decode_nix_base32(body),
            64 => decode_hex(body),
            44 => decode_base64(body),
            _ => None,
        }
        .ok_or_else(invalid)
    }
}

fn is_algorithm(text: &str) -> bool {
    matches!(text, "md5" | "sha1" | "sha256" | "sha512")
}

fn check_algorithm(input: &str, algorithm: &str) -> Result<(), Error> {
    if algorithm == "sha256" {
        Ok(())
    } else {
        Err(Error::Algorithm {
            input: input.to_owned(),
            algorithm: algorithm.to_owned(),
        })
    }
}

fn decode_base64(text: &str) -> Option<Sha256Hash> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .ok()?;
    Some(Sha256Hash(bytes.try_into().ok()?))
}

fn decode_hex(text: &str) -> Option<Sha256Hash> {
    if text.bytes().any(|byte| byte.is_ascii_uppercase()) {
        return None;
    }
    let bytes = hex::decode(text).ok()?;
    Some(Sha256Hash(bytes.try_into().ok()?))
}

fn decode_nix_base32(text: &str) -> Option<Sha256Hash> {
    let mut bytes = [0u8; 32];
    for (position, character) in text.bytes().enumerate() {
        let digit = NIX_BASE32_ALPHABET
            .iter()
            .position(|&letter| letter == character)?;
        let digit = u16::try_from(digit).ok()?;
        let n = BASE32_LENGTH - position - 1;
        let bit = n * 5;
        let index = bit / 8;
        let shift = bit % 8;
        let value = digit << shift;
        bytes[index] |= (value & 0xff) as u8;
        let carry = (value >> 8) as u8;
        match bytes.get_mut(index + 1) {
            Some(next) => *next |= carry,
            // 52 * 5 = 260 bits: the top four bits must be zero, as Nix requires.
            None if carry != 0 => return None,
            None => {}
        }
    }
    Some(Sha256Hash(bytes))
}

impl fmt::Display for Sha256Hash {
    /// The SRI form.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_sri())
    }
}

impl fmt::Debug for Sha256Hash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Sha256Hash({})", self.to_sri())
    }
}

impl FromStr for Sha256Hash {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Error> {
        Sha256Hash::parse(input)
    }
}

/// The flat hash of a file: SHA-256 of its bytes, as `nix-hash --flat --type sha256` and
/// `builtins.fetchurl { sha256 = ...; }` compute it.
pub fn flat_hash(mut reader: impl Read) -> std::io::Result<Sha256Hash> {
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut reader, &mut hasher)?;
    Ok(Sha256Hash(hasher.finalize().into()))
}
