{
  description = "eka: a git-native atom manager; `lib` imports atoms locked in an atom.lock";

  # No inputs: the library uses builtins only (see docs/nix.md).
  outputs = { self }: {
    lib = import ./nix/lib;
  };
}
