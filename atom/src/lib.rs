//! The eka atom model.
//!
//! This crate owns everything eka knows about atoms as data: their [`Label`]s, their
//! ids, the URIs users type to name them, the files that describe them (`atom.toml`,
//! `ekala.toml`, `atom.lock`, `eka.toml`) and, later, the git store they are published
//! to. It never prints: every fallible operation returns a typed error that names the
//! file, atom or ref at fault.
//!
//! ```
//! use atom::Label;
//!
//! let label = Label::parse("hello-world").unwrap();
//! assert_eq!(label.as_str(), "hello-world");
//! assert!(Label::parse("-leading-dash").is_err());
//! ```
#![deny(missing_docs)]

pub mod config;
pub mod diagnostic;
pub mod error;
pub mod fs;
pub mod id;
pub mod label;
pub mod lock;
pub mod manifest;
pub mod progress;
pub mod set;
pub mod store;
pub mod uri;

pub use label::Label;
