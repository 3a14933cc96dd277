//! What kind of failure an error is, decided where the error is made.
//!
//! Every library error in eka implements [`Classify`]: it says whether it is the user's
//! input or data being refused ([`Kind::Input`], exit code 1: a bad manifest, a conflict,
//! a check that failed, a registry that lies) or the environment failing
//! ([`Kind::Environment`], exit code 2: a disk that cannot be written, a `git` that cannot
//! start, a server that does not answer). An error that wraps another delegates to it, so
//! the kind travels with the cause and the binary maps kind to exit code without knowing
//! any error type.
//!
//! ```
//! use atom::error::{Classify, Kind};
//!
//! #[derive(Debug, thiserror::Error)]
//! enum Error {
//!     #[error("`{0}` is not a valid label")]
//!     Label(String),
//!     #[error("cannot write `atom.lock`")]
//!     Write(#[source] std::io::Error),
//! }
//!
//! impl Classify for Error {
//!     fn kind(&self) -> Kind {
//!         match self {
//!             Error::Label(_) => Kind::Input,
//!             Error::Write(_) => Kind::Environment,
//!         }
//!     }
//! }
//!
//! assert_eq!(Error::Label("-x".into()).kind(), Kind::Input);
//! assert_eq!(Error::Label("-x".into()).hint(), None);
//! ```

/// Whose fault a failure is: it decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The user's input or data was refused, or a check failed: exit code 1.
    Input,
    /// The environment failed (file system, processes, network): exit code 2.
    Environment,
}

impl Kind {
    /// The process exit code for this kind: 1 for input, 2 for the environment.
    pub fn exit_code(self) -> u8 {
        match self {
            Kind::Input => 1,
            Kind::Environment => 2,
        }
    }
}

/// An error that knows its [`Kind`] and, optionally, how to fix it.
pub trait Classify {
    /// Whether this is the user's input or the environment.
    fn kind(&self) -> Kind;

    /// How to fix it, printed on its own `hint:` line; `None` when the message says all.
    fn hint(&self) -> Option<String> {
        None
    }
}

impl Classify for std::io::Error {
    /// A bare I/O error is the environment: the file system or a process failed.
    fn kind(&self) -> Kind {
        Kind::Environment
    }
}

impl Classify for semver::Error {
    /// A version or requirement that does not parse is the user's input.
    fn kind(&self) -> Kind {
        Kind::Input
    }
}

impl<T: Classify + ?Sized> Classify for Box<T> {
    fn kind(&self) -> Kind {
        (**self).kind()
    }

    fn hint(&self) -> Option<String> {
        (**self).hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_exit_codes() {
        assert_eq!(Kind::Input.exit_code(), 1);
        assert_eq!(Kind::Environment.exit_code(), 2);
    }

    #[test]
    fn library_errors_classify() {
        let label = crate::Label::parse("").unwrap_err();
        assert_eq!(label.kind(), Kind::Input);
        let uri = crate::uri::Error::Credentials {
            url: "https://user:pw@host/repo".into(),
        };
        assert_eq!(uri.kind(), Kind::Input);
        assert!(
            uri.hint()
                .is_some_and(|hint| hint.contains("credential helper"))
        );
        let missing = crate::manifest::Manifest::read("/nonexistent/eka/atom.toml").unwrap_err();
        assert_eq!(missing.kind(), Kind::Environment);
        let invalid = crate::manifest::Manifest::from_str("[package\n", "atom.toml").unwrap_err();
        assert_eq!(invalid.kind(), Kind::Input);
        assert_eq!(
            invalid.hint(),
            None,
            "a located error shows its hint in its message"
        );
        let set = crate::set::Error::Missing {
            path: "ekala.toml".into(),
        };
        assert_eq!(set.kind(), Kind::Input);
        assert!(set.hint().is_some_and(|hint| hint.contains("eka init")));
        let boxed: Box<crate::set::Error> = Box::new(set);
        assert_eq!(boxed.kind(), Kind::Input);
    }

    #[test]
    fn io_errors_name_the_file_once() {
        let error = crate::manifest::Manifest::read("/nonexistent/eka/atom.toml").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("/nonexistent/eka/atom.toml"), "{text}");
        let source = std::error::Error::source(&error);
        assert!(
            source.is_none_or(|cause| !text.contains(&cause.to_string())),
            "{text}"
        );
    }
}
