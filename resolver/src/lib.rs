//! PubGrub dependency resolution of atoms, the catalog it resolves over, and lock
//! synthesis.
//!
//! The resolver answers one question: given what a project requires, which version of
//! each atom should it use? The solver knows nothing of git or the network. The caller
//! first gathers every atom it may need into a [`Registry`] (the published versions of
//! each atom and, per version, its requirements), then calls [`resolve`], which works in
//! memory with [pubgrub](https://docs.rs/pubgrub).
//!
//! [`catalog::Catalog`] is the registry `eka` gathers from a project's `atom.toml`
//! (remote sets through `atom::store::fetch`, the local set from the working tree), and
//! [`lock::synthesize`] turns a resolution over it into an `atom.lock`.
//!
//! # A first resolution
//!
//! An atom is an [`AtomKey`]: a [`Label`](atom::Label) within a set, the set named by
//! its root commit. A [`Requirement`] is an atom and a semver
//! [`VersionReq`](semver::VersionReq).
//!
//! ```
//! use resolver::{AtomKey, MemoryRegistry, Options, Requirement, resolve};
//!
//! let set = "0123456789abcdef0123456789abcdef01234567";
//! let key = |label: &str| AtomKey::new(set, label.parse().unwrap());
//! let mut registry = MemoryRegistry::new();
//! registry.add(key("app"), "1.0.0".parse()?, vec![Requirement::new(key("log"), "^1.2".parse()?)]);
//! registry.add(key("log"), "1.2.0".parse()?, vec![]);
//! registry.add(key("log"), "1.3.0".parse()?, vec![]);
//! registry.add(key("log"), "2.0.0".parse()?, vec![]);
//!
//! let root = [Requirement::new(key("app"), "^1".parse()?)];
//! let resolution = resolve(&registry, &root, &Options::default())?;
//! // The newest version every requirement allows.
//! assert_eq!(resolution.version(&key("log")).unwrap().to_string(), "1.3.0");
//! // Each atom records the atoms its own requirements resolved to.
//! assert_eq!(resolution.atoms[&key("app")].dependencies, vec![key("log")]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Changing as little as possible
//!
//! [`Options::preferred`] holds what the lockfile pins. A preferred version is chosen
//! while the requirements still allow it; drop an atom from the map to move it to its
//! newest allowed version (`eka update`). With [`Options::allow_downgrade`] off,
//! versions older than the preferred one are not considered at all.
//!
//! ```
//! # use resolver::{AtomKey, MemoryRegistry, Options, Requirement, resolve};
//! # let set = "0123456789abcdef0123456789abcdef01234567";
//! # let key = |label: &str| AtomKey::new(set, label.parse().unwrap());
//! # let mut registry = MemoryRegistry::new();
//! # registry.add(key("log"), "1.2.0".parse()?, vec![]);
//! # registry.add(key("log"), "1.3.0".parse()?, vec![]);
//! let root = [Requirement::new(key("log"), "^1".parse()?)];
//! let mut options = Options::default();
//! options.preferred.insert(key("log"), "1.2.0".parse()?);
//! let resolution = resolve(&registry, &root, &options)?;
//! assert_eq!(resolution.version(&key("log")).unwrap().to_string(), "1.2.0");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Pre-releases
//!
//! Requirements mean exactly what [`VersionReq::matches`](semver::VersionReq::matches)
//! says: `^1` never picks `1.5.0-beta`; `>=1.5.0-alpha` may pick `1.5.0-beta` but not
//! `1.6.0-beta`. Each requirement becomes pubgrub ranges, then every published version
//! on which the ranges and `matches` disagree is added or cut out one by one, so the
//! sets are exact on the versions that exist (see `docs/resolution.md`).
//!
//! # When there is no solution
//!
//! [`Error::NoSolution`] explains the conflict in plain words, one step per line, and
//! lists the published versions of each atom involved; its
//! [`hint`](atom::error::Classify::hint) suggests a fix:
//!
//! ```text
//! no versions satisfy every requirement
//! Because no published version of `a` matches `>=2.0.0, <3.0.0` and your project requires `a` `>=2.0.0, <3.0.0`, your project's requirements cannot all be met.
//! versions of `a`: 1.0.0, 1.1.0, 2.0.0-beta.1 (only pre-releases match `^2`, and a requirement allows a pre-release only when it names one)
//! hint: write `^2.0.0-beta.1` to allow the pre-release of `a`, or publish a release that matches `^2`
//! ```
//!
//! Atoms print as `` `label` ``, or `` `set-short::label` `` when two sets hold the same
//! label.
//!
//! # Budget
//!
//! Some unsatisfiable graphs take the solver exponential time. [`Options::budget`]
//! bounds the steps and the wall-clock time; past either, [`resolve`] returns
//! [`Error::BudgetExceeded`] with the steps taken and the time spent.
#![deny(missing_docs)]

pub mod catalog;
pub mod lock;
mod ranges;
pub mod registry;
mod report;
pub mod solve;

pub use registry::{AtomKey, MemoryRegistry, Registry, RegistryError, Requirement};
pub use solve::{Budget, Error, Options, Resolution, Resolved, resolve};
