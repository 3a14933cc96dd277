# Reading `atom.lock` (format versions 1 and 2) with `builtins.fromTOML`.
let
  formatVersion = 1;
  # Version 2: a lock with `[[follows]]` entries.
  followsFormatVersion = 2;

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

  checkFollows = entry:
    check "a `[[follows]]` entry lacks one of `atom`, `input`, `follows`"
      (entry ? atom && entry ? input && entry ? follows)
      entry;

  # The parsed lock: { version; atoms = [ <[[atom]] tables> ]; nix = [ <[[nix]] tables> ];
  # follows = [ <[[follows]] tables> ]; }
  parseLock = text:
    let
      raw = builtins.fromTOML text;
      version = raw.version or (throw "eka: atom.lock has no `version`; run `eka resolve` to regenerate it");
    in
    if version != formatVersion && version != followsFormatVersion then
      throw "eka: unsupported atom.lock version ${toString version}: this library reads versions ${toString formatVersion} and ${toString followsFormatVersion}"
    else if version == formatVersion && raw ? follows then
      throw "eka: atom.lock has `[[follows]]` but version ${toString version}; run `eka resolve` to regenerate it"
    else {
      inherit version;
      atoms = map checkAtom (raw.atom or [ ]);
      nix = map checkNix (raw.nix or [ ]);
      follows = map checkFollows (raw.follows or [ ]);
    };

  readLock = path: parseLock (builtins.readFile path);
in
{
  inherit formatVersion followsFormatVersion parseLock readLock;
}
