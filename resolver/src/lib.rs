//! PubGrub dependency resolution of atoms and synthesis of `atom.lock`.
//!
//! Nothing lives here yet: the solver arrives with dependency management.
#![deny(missing_docs)]
