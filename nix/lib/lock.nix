# Reading `atom.lock` (format version 1) with `builtins.fromTOML`.
let
  formatVersion = 1;

  check = what: condition: value:
    if condition then value else throw "eka: ${what}";

  checkAtom = atom:
    check "a locked atom has no `label`" (atom ? label) (
      check "locked atom `${atom.label}` lacks one of `version`, `commit`, `id`, `mirrors`, `deps`"
        (atom ? version && atom ? commit && atom ? id && atom ? mirrors && atom ? deps)
        atom
    );

  checkNix = input:
    check "a locked Nix input has no `name`" (input ? name) (
      check "locked Nix input `${input.name}` has no `kind` or `url`" (input ? kind && input ? url) input
    );

  # The parsed lock: { version; atoms = [ <[[atom]] tables> ]; nix = [ <[[nix]] tables> ]; }
  parseLock = text:
    let
      raw = builtins.fromTOML text;
      version = raw.version or (throw "eka: atom.lock has no `version`; run `eka resolve` to regenerate it");
    in
    if version != formatVersion then
      throw "eka: unsupported atom.lock version ${toString version}: this library reads version ${toString formatVersion}"
    else {
      inherit version;
      atoms = map checkAtom (raw.atom or [ ]);
      nix = map checkNix (raw.nix or [ ]);
    };

  readLock = path: parseLock (builtins.readFile path);
in
{
  inherit formatVersion parseLock readLock;
}
