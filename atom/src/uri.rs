//! Atom URIs and set URLs.
//!
//! STUB: the full URI grammar (aliases, scp-like URLs, version requirements) is being
//! written; only [`parse_set_url`] exists so other modules can validate set URLs.

/// Why a URI or URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The URL is not acceptable as a set URL.
    #[error("`{url}` is not a valid set URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why.
        reason: String,
    },
}

/// A validated URL of a set's repository (or a mirror of it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SetUrl(String);

impl SetUrl {
    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Validate a set URL (`https://`, `http://`, `git://`, `ssh://`, `file:///`, `git@host:path`).
pub fn parse_set_url(input: &str) -> Result<SetUrl, Error> {
    let refuse = |reason: &str| Error::InvalidUrl {
        url: input.to_owned(),
        reason: reason.to_owned(),
    };
    if input.is_empty() {
        return Err(refuse("it is empty"));
    }
    if input.starts_with('-') || input.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refuse(
            "it starts with `-` or contains whitespace or control characters",
        ));
    }
    Ok(SetUrl(input.to_owned()))
}
