//! Exit codes: 0 success, 1 a check failed or input was refused, 2 an unexpected failure.

use std::fmt;

use atom::error::{Classify as _, Kind};

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
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\nhint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

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

/// The exit code for an error: 1 when any error in the chain is the user's input being
/// refused or a check failing, 2 otherwise.
pub(crate) fn exit_code(error: &anyhow::Error) -> u8 {
    let refused = error.chain().any(|cause| {
        cause.is::<Refusal>()
            || cause.is::<CheckFailed>()
            || cause.is::<atom::diagnostic::Located>()
            || cause.is::<atom::label::Error>()
            || cause.is::<atom::uri::Error>()
            || cause.is::<semver::Error>()
            || cause
                .downcast_ref::<atom::config::Error>()
                .is_some_and(|error| {
                    matches!(
                        error,
                        atom::config::Error::Invalid(_) | atom::config::Error::InvalidEnv { .. }
                    )
                })
            || cause
                .downcast_ref::<eka::ops::lock::Error>()
                .is_some_and(eka::ops::lock::Error::is_refusal)
            || cause
                .downcast_ref::<eka::ops::add::Error>()
                .is_some_and(|error| match error {
                    eka::ops::add::Error::Lock(error) => error.is_refusal(),
                    _ => true,
                })
            || cause
                .downcast_ref::<eka::ops::list::Error>()
                .is_some_and(|error| match error {
                    eka::ops::list::Error::Fetch(error) => error.is_refusal(),
                    eka::ops::list::Error::Remote(_) => false,
                    _ => true,
                })
            || cause.downcast_ref::<eka::ops::tree::Error>().is_some()
            || cause
                .downcast_ref::<eka::ops::init::Error>()
                .is_some_and(|error| matches!(error, eka::ops::init::Error::AlreadyASet { .. }))
            || cause
                .downcast_ref::<eka::ops::new::Error>()
                .is_some_and(|error| error.is_refusal())
            || cause
                .downcast_ref::<nix::eval::Error>()
                .is_some_and(|error| error.kind() == Kind::Input)
            || cause
                .downcast_ref::<nix::export::Error>()
                .is_some_and(|error| error.kind() == Kind::Input)
            || cause
                .downcast_ref::<atom::set::Error>()
                .is_some_and(|error| !matches!(error, atom::set::Error::Read { .. }))
            || cause
                .downcast_ref::<atom::manifest::Error>()
                .is_some_and(|error| !matches!(error, atom::manifest::Error::Read { .. }))
            || cause
                .downcast_ref::<atom::lock::Error>()
                .is_some_and(|error| matches!(error, atom::lock::Error::Invalid(_)))
            || cause
                .downcast_ref::<eka::ops::publish::Error>()
                .is_some_and(eka::ops::publish::Error::is_refusal)
            || cause
                .downcast_ref::<verify::signature::Error>()
                .is_some_and(|error| error.hint().is_some())
            || cause
                .downcast_ref::<eka::ops::verify::Error>()
                .is_some_and(eka::ops::verify::Error::is_refusal)
    });
    if refused { 1 } else { 2 }
}

/// Hints carried beside (not inside) the messages of library errors in the chain.
pub(crate) fn hints(error: &anyhow::Error) -> Vec<String> {
    error
        .chain()
        .filter_map(|cause| {
            if let Some(error) = cause.downcast_ref::<atom::uri::Error>() {
                error.hint()
            } else if let Some(error) = cause.downcast_ref::<eka::ops::lock::Error>() {
                error.hint()
            } else if let Some(error) = cause.downcast_ref::<eka::ops::add::Error>() {
                error.hint()
            } else if let Some(error) = cause.downcast_ref::<eka::ops::list::Error>() {
                error.hint()
            } else if let Some(error) = cause.downcast_ref::<eka::ops::new::Error>() {
                error.hint()
            } else if let Some(error) = cause.downcast_ref::<nix::eval::Error>() {
                error.hint()
            } else if let Some(error) = cause.downcast_ref::<nix::export::Error>() {
                error.hint()
            } else if let Some(error) = cause.downcast_ref::<atom::config::Error>() {
                // A `Located` already shows its hint in its message.
                match error {
                    atom::config::Error::Invalid(_) => None,
                    _ => error.hint().map(str::to_owned),
                }
            } else if let Some(error) = cause.downcast_ref::<eka::ops::publish::Error>() {
                error.hint()
            } else if let Some(error) = cause.downcast_ref::<eka::ops::verify::Error>() {
                error.hint().map(str::to_owned)
            } else if let Some(error) = cause.downcast_ref::<verify::signature::Error>() {
                error.hint().map(str::to_owned)
            } else {
                None
            }
        })
        .collect()
}
