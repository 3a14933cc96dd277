//! The `eka` command line.

fn main() {}
