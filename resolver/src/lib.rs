//! PubGrub dependency resolution of atoms.
#![deny(missing_docs)]

mod ranges;
pub mod registry;
mod report;
pub mod solve;

pub use registry::{AtomKey, MemoryRegistry, Registry, RegistryError, Requirement};
pub use solve::{Budget, Error, Options, Resolution, Resolved, resolve};
