//! Exit codes: 0 success, 1 a check failed or input was refused, 2 the environment failed.
//!
//! Every command returns [`Error`], which captures the [`Kind`] and the hint of a library
//! error at the `?` that converts it (the error type implements
//! [`atom::error::Classify`]; a type that does not cannot be converted, so it cannot exit
//! with a guessed code). [`Refusal`] and [`CheckFailed`] are the binary's own errors, both
//! [`Kind::Input`].

use std::fmt;

use atom::error::{Classify, Kind};

/// What a command returns.
pub(crate) type Result<T> = std::result::Result<T, Error>;

/// A failed command: what went wrong (with its causes), whose fault it is, and how to fix
/// it.
///
/// Not itself a [`std::error::Error`], so that the blanket `From` below can accept every
/// classified error.
#[derive(Debug)]
pub(crate) struct Error {
    kind: Kind,
    hint: Option<String>,
    error: anyhow::Error,
}

impl<E> From<E> for Error
where
    E: Classify + std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        Error {
            kind: error.kind(),
            hint: error.hint(),
            error: error.into(),
        }
    }
}

impl Error {
    /// The same error under a message saying what was being done; kind and hint are kept.
    pub(crate) fn context(self, message: impl fmt::Display + Send + Sync + 'static) -> Self {
        Error {
            error: self.error.context(message.to_string()),
            ..self
        }
    }

    /// The process exit code: 1 for input, 2 for the environment.
    pub(crate) fn exit_code(&self) -> u8 {
        self.kind.exit_code()
    }

    /// How to fix it, if the error knows.
    pub(crate) fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The message, then each cause, outermost first.
    pub(crate) fn chain(&self) -> anyhow::Chain<'_> {
        self.error.chain()
    }
}

/// `.context(…)` for results whose error is classified: the kind and hint are kept.
pub(crate) trait ResultExt<T> {
    /// Wrap the error under `message`.
    fn context(self, message: impl fmt::Display + Send + Sync + 'static) -> Result<T>;

    /// Wrap the error under the message `message` makes, only when there is an error.
    fn with_context<M: fmt::Display + Send + Sync + 'static>(
        self,
        message: impl FnOnce() -> M,
    ) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn context(self, message: impl fmt::Display + Send + Sync + 'static) -> Result<T> {
        self.map_err(|error| error.into().context(message))
    }

    fn with_context<M: fmt::Display + Send + Sync + 'static>(
        self,
        message: impl FnOnce() -> M,
    ) -> Result<T> {
        self.map_err(|error| error.into().context(message()))
    }
}

/// A refusal of the user's input or request: exit code 1.
///
/// Carries what was refused and, on its own line, how to fix it.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
}

impl Refusal {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Refusal {
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}

impl Classify for Refusal {
    fn kind(&self) -> Kind {
        Kind::Input
    }

    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

/// A check that failed (verification mismatch, `--locked` drift): exit code 1, the
/// details were already printed.
#[derive(Debug)]
pub(crate) struct CheckFailed(pub(crate) String);

impl fmt::Display for CheckFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckFailed {}

impl Classify for CheckFailed {
    fn kind(&self) -> Kind {
        Kind::Input
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversion_keeps_kind_and_hint() {
        let error = Error::from(Refusal::new("no").hint("do this"));
        assert_eq!(error.exit_code(), 1);
        assert_eq!(error.hint(), Some("do this"));
        assert_eq!(error.chain().count(), 1);

        let io = std::io::Error::other("disk on fire");
        let error = Error::from(io).context("cannot write `x`");
        assert_eq!(error.exit_code(), 2);
        let texts: Vec<String> = error.chain().map(ToString::to_string).collect();
        assert_eq!(texts, ["cannot write `x`", "disk on fire"]);
    }

    #[test]
    fn library_errors_keep_their_kind_through_wrappers() {
        let uri = atom::uri::Error::EmptyUrl;
        let add = eka::ops::add::Error::Uri(uri);
        let error = Error::from(add);
        assert_eq!(error.exit_code(), 1);

        let manifest = atom::manifest::Error::Io(std::io::Error::other("gone"));
        let lock = eka::transaction::Error::Manifest(manifest);
        let error = Error::from(eka::ops::add::Error::Lock(lock));
        assert_eq!(
            error.exit_code(),
            2,
            "an unreadable manifest is the environment"
        );

        let error = Error::from(CheckFailed("1 atom refused".into()));
        assert_eq!(error.exit_code(), 1);
        assert_eq!(error.hint(), None);
    }
}
