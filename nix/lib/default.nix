# eka's Nix library: read an `atom.lock` and import its atoms and Nix inputs purely.
#
# Builtins only (no nixpkgs); works on Nix 2.8 and later, in `--pure-eval` and
# `restrict-eval` mode. See docs/nix.md for the API and the entry-point convention.
#
#   let eka = import ./nix; in
#   (eka.importAtom ./.)            # evaluate this atom's entry point with its locked deps
#   (eka.fromLock { lock = ./atom.lock; }).atoms.<label>   # any locked atom's value
#   (eka.fromFlakeInputs { lock = ./atom.lock; inherit inputs; }).atoms.<label>  # in a flake
let
  lockfile = import ./lock.nix;
  fetch = import ./fetch.nix;
  graph = import ./graph.nix { inherit lockfile fetch; };
in
{
  # The atom.lock format versions this library reads (2: a lock with `[[follows]]`).
  inherit (lockfile) formatVersion followsFormatVersion readLock parseLock;
  # Fetchers for one locked entry.
  inherit (fetch) atomRef fetchAtom fetchNixInput fetchNixInputs;
  # The graph: every locked atom imported with its own locked dependencies.
  inherit (graph) fromLock fromFlakeInputs flakeNodeNames importAtoms importAtom importAtomWith callAtom;
}
