//! Nix's remote-build settings handed through `eka build`, `eka eval` and `eka attest`
//! to the Nix process: remote builders, the store, substituters, their trusted public
//! keys and any other `--option NAME VALUE`.
//!
//! [`Settings::check`] refuses an empty store, substituter or key, line breaks (one setting, one line) and
//! whitespace inside one substituter URL or one key (Nix separates list items with
//! spaces), and every setting that would let the evaluation read more than the lock
//! pins ([`IMPURE`]: `pure-eval`, `restrict-eval`, `allowed-uris`, `nix-path`, …).
//! [`Settings::arguments`] are the matching Nix flags: `--store URL` and
//! `--option NAME VALUE`. Main types: [`Settings`], [`Error`].
//!
//! ```
//! use nix::settings::Settings;
//!
//! let settings = Settings {
//!     builders: Some("ssh://builder x86_64-linux".into()),
//!     substituters: vec!["http://cache.example".into(), "file:///srv/cache".into()],
//!     ..Settings::default()
//! };
//! settings.check().unwrap();
//! assert_eq!(
//!     settings.arguments(),
//!     [
//!         "--option", "builders", "ssh://builder x86_64-linux",
//!         "--option", "substituters", "http://cache.example file:///srv/cache",
//!     ]
//! );
//! let impure = Settings {
//!     options: vec![("pure-eval".into(), "false".into())],
//!     ..Settings::default()
//! };
//! assert!(impure.check().is_err());
//! ```

use atom::error::{Classify, Kind};

/// Settings that widen what the evaluation may read: eka evaluates with `pure-eval` and
/// reads only what `atom.lock` pins, so `--option` refuses them.
pub const IMPURE: [&str; 7] = [
    "pure-eval",
    "restrict-eval",
    "allowed-uris",
    "extra-allowed-uris",
    "nix-path",
    "extra-nix-path",
    "allow-unsafe-native-code-during-evaluation",
];

/// Nix settings for one run; empty fields leave Nix's own configuration in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settings {
    /// `--builders SPEC`: Nix's `builders` (`ssh://host system`, several separated by
    /// `;`).
    pub builders: Option<String>,
    /// `--store URL`: the Nix store to evaluate, build and keep outputs in.
    pub store: Option<String>,
    /// `--substituters URL…`: Nix's `substituters`, replacing the configured ones.
    pub substituters: Vec<String>,
    /// `--trusted-public-keys KEY…`: Nix's `trusted-public-keys` (`name:base64`).
    pub trusted_public_keys: Vec<String>,
    /// `--option NAME VALUE`, in order.
    pub options: Vec<(String, String)>,
}

/// A setting refused before Nix runs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value is empty.
    #[error("`{option}` is given an empty value")]
    Empty {
        /// The flag (`--store`, `--option NAME`).
        option: String,
    },
    /// A value holds a line break (or a NUL byte).
    #[error("`{option}` is given a value holding a line break: `{}`", value.escape_debug())]
    LineBreak {
        /// The flag.
        option: String,
        /// The value.
        value: String,
    },
    /// One item of a list setting holds whitespace.
    #[error("`{option}` is given a value holding whitespace: `{value}`")]
    Whitespace {
        /// The flag.
        option: String,
        /// The value.
        value: String,
    },
    /// `--option` names no setting.
    #[error("`--option` is given an invalid setting name `{}`", name.escape_debug())]
    Name {
        /// The name.
        name: String,
    },
    /// `--option` names a setting that would make the evaluation impure.
    #[error("`--option {name}` would let the evaluation read more than `atom.lock` pins")]
    Impure {
        /// The setting.
        name: String,
    },
}

impl Classify for Error {
    /// Every refusal is of the user's input.
    fn kind(&self) -> Kind {
        Kind::Input
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            Error::Empty { option } => format!("give `{option}` a value, or leave it out"),
            Error::LineBreak { .. } => {
                "give the value on one line (separate several builders with `;`)".into()
            }
            Error::Whitespace { option, .. } => {
                format!("give each one as its own value: `{option} A B`")
            }
            Error::Name { .. } => {
                "pass `--option NAME VALUE` with a Nix setting name, e.g. `max-jobs`".into()
            }
            Error::Impure { .. } => "eka always evaluates with `pure-eval` and reads only \
                 the atom, its `atom.lock` pins and the configuration: drop the option"
                .into(),
        })
    }
}

impl Settings {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == Settings::default()
    }

    /// Refuse empty values, line breaks, whitespace inside one list item, malformed
    /// setting names and the [`IMPURE`] settings.
    pub fn check(&self) -> Result<(), Error> {
        if let Some(builders) = &self.builders {
            check_one_line("--builders", builders)?;
        }
        if let Some(store) = &self.store {
            check_one_word("--store", store)?;
        }
        for substituter in &self.substituters {
            check_one_word("--substituters", substituter)?;
        }
        for key in &self.trusted_public_keys {
            check_one_word("--trusted-public-keys", key)?;
        }
        for (name, value) in &self.options {
            check_name(name)?;
            check_one_line(&format!("--option {name}"), value)?;
        }
        Ok(())
    }

    /// The Nix flags: `--store URL` first, then one `--option NAME VALUE` per setting
    /// (the lists joined with spaces), the `--option`s last in their order.
    pub fn arguments(&self) -> Vec<String> {
        let mut arguments = Vec::new();
        if let Some(store) = &self.store {
            arguments.extend(["--store".to_owned(), store.clone()]);
        }
        let mut option = |name: &str, value: String| {
            arguments.extend(["--option".to_owned(), name.to_owned(), value]);
        };
        if let Some(builders) = &self.builders {
            option("builders", builders.clone());
        }
        if !self.substituters.is_empty() {
            option("substituters", self.substituters.join(" "));
        }
        if !self.trusted_public_keys.is_empty() {
            option("trusted-public-keys", self.trusted_public_keys.join(" "));
        }
        for (name, value) in &self.options {
            option(name, value.clone());
        }
        arguments
    }
}

/// Refuse a value holding a line break or a NUL byte. An empty value is a value: Nix
/// reads `--builders ''` or `--option NAME ''` as "clear this setting" (no remote
/// builders), which a CI step needs to say.
fn check_one_line(option: &str, value: &str) -> Result<(), Error> {
    if value.contains(['\n', '\r', '\0']) {
        return Err(Error::LineBreak {
            option: option.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// [`check_one_line`], not empty, and no whitespace at all (one item of a
/// space-separated list: an empty one would be dropped by Nix, not cleared).
fn check_one_word(option: &str, value: &str) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::Empty {
            option: option.to_owned(),
        });
    }
    check_one_line(option, value)?;
    if value.contains(char::is_whitespace) {
        return Err(Error::Whitespace {
            option: option.to_owned(),
            value: value.to_owned(),
        });
    }
    Ok(())
}

/// A setting name: lowercase letters, digits and `-`, starting with a letter; not one
/// of [`IMPURE`].
fn check_name(name: &str) -> Result<(), Error> {
    let well_formed = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !well_formed {
        return Err(Error::Name {
            name: name.to_owned(),
        });
    }
    if IMPURE.contains(&name) {
        return Err(Error::Impure {
            name: name.to_owned(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_option(name: &str, value: &str) -> Settings {
        Settings {
            options: vec![(name.into(), value.into())],
            ..Settings::default()
        }
    }

    #[test]
    fn every_setting_becomes_its_nix_flag_in_order() {
        let settings = Settings {
            builders: Some("ssh://a x86_64-linux; ssh://b aarch64-linux".into()),
            store: Some("local?root=/tmp/root".into()),
            substituters: vec!["http://127.0.0.1:1/".into()],
            trusted_public_keys: vec!["a-1:AAAA".into(), "b-1:BBBB".into()],
            options: vec![
                ("max-jobs".into(), "0".into()),
                ("require-sigs".into(), "true".into()),
            ],
        };
        settings.check().unwrap();
        assert!(!settings.is_empty());
        assert_eq!(
            settings.arguments(),
            [
                "--store",
                "local?root=/tmp/root",
                "--option",
                "builders",
                "ssh://a x86_64-linux; ssh://b aarch64-linux",
                "--option",
                "substituters",
                "http://127.0.0.1:1/",
                "--option",
                "trusted-public-keys",
                "a-1:AAAA b-1:BBBB",
                "--option",
                "max-jobs",
                "0",
                "--option",
                "require-sigs",
                "true",
            ]
        );
        assert!(Settings::default().arguments().is_empty());
        assert!(Settings::default().is_empty());
    }

    #[test]
    fn empty_values_line_breaks_and_split_list_items_are_refused() {
        let empty = Settings {
            store: Some(" ".into()),
            ..Settings::default()
        };
        assert!(matches!(empty.check(), Err(Error::Empty { option }) if option == "--store"));
        let broken = Settings {
            builders: Some("ssh://a x86_64-linux\nssh://b".into()),
            ..Settings::default()
        };
        let error = broken.check().unwrap_err();
        assert!(matches!(error, Error::LineBreak { .. }));
        assert!(error.to_string().contains("\\n"), "{error}");
        let split = Settings {
            substituters: vec!["http://a http://b".into()],
            ..Settings::default()
        };
        assert!(matches!(split.check(), Err(Error::Whitespace { .. })));
        let key = Settings {
            trusted_public_keys: vec![String::new()],
            ..Settings::default()
        };
        assert!(matches!(key.check(), Err(Error::Empty { .. })));
        // `--builders ''` and `--option NAME ''` clear a setting: allowed.
        let cleared = Settings {
            builders: Some(String::new()),
            ..with_option("max-jobs", "")
        };
        cleared.check().unwrap();
        assert_eq!(
            cleared.arguments(),
            ["--option", "builders", "", "--option", "max-jobs", ""]
        );
        assert!(matches!(
            with_option("cores", "1\r").check(),
            Err(Error::LineBreak { .. })
        ));
    }

    #[test]
    fn malformed_names_and_purity_settings_are_refused() {
        for name in ["", "-max-jobs", "max jobs", "Max-Jobs", "a\nb"] {
            assert!(
                matches!(with_option(name, "1").check(), Err(Error::Name { .. })),
                "{name:?}"
            );
        }
        for name in IMPURE {
            let error = with_option(name, "false").check().unwrap_err();
            assert!(matches!(error, Error::Impure { .. }), "{name}");
            assert_eq!(error.kind(), Kind::Input);
            assert!(error.hint().unwrap().contains("pure-eval"));
        }
        with_option("extra-substituters", "http://a")
            .check()
            .unwrap();
    }
}
