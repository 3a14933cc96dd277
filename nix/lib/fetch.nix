# Fetching one locked entry purely: every fetch is pinned by a commit or a hash.
let
  atomRef = atom: "refs/eka/atoms/${atom.label}/${atom.version}";

  # An atom's source: its atom commit, whose tree is the atom directory.
  # `mirror` picks which of `atom.mirrors` to fetch from (0 = the first). Nix cannot
  # fall back to the next mirror by itself: `builtins.tryEval` does not catch fetch errors.
  # `source`, when given, replaces the mirrors:
  #   { url; ref; }  a git repository holding the locked commit under `ref` (`eka eval`
  #                  passes the atom store of its cache, where it checked the tree);
  #                  still fetched by the locked `rev`;
  #   { path; }      that directory as is (an override: not the locked commit).
  fetchAtom = { atom, mirror ? 0, source ? null }:
    let
      count = builtins.length atom.mirrors;
    in
    if source != null && source ? path then
      source.path
    else if source != null then
      builtins.fetchGit {
        url = source.url;
        ref = source.ref or (atomRef atom);
        rev = atom.commit;
      }
    else if count == 0 then
      throw "eka: locked atom `${atom.label}` has no mirrors"
    else if mirror >= count then
      throw "eka: locked atom `${atom.label}` has ${toString count} mirror(s), mirror ${toString mirror} was asked for"
    else
      builtins.fetchGit {
        url = builtins.elemAt atom.mirrors mirror;
        ref = atomRef atom;
        rev = atom.commit;
      };

  optional = condition: attrs: if condition then attrs else { };

  # A fixed-output fetch of one file, checked against the NAR hash of a regular file.
  fileDerivation = input:
    derivation {
      name = "source";
      builder = "builtin:fetchurl";
      system = "builtin";
      url = input.url;
      executable = false;
      unpack = false;
      outputHashMode = "recursive";
      outputHashAlgo = "sha256";
      outputHash = input.narHash or (throw "eka: Nix input `${input.name}` has no `narHash`");
      preferLocalBuild = true;
    };

  # One direct Nix input (a `[[nix]]` table).
  fetchNixInput = input:
    if input.kind == "git" then
      builtins.fetchGit ({
        url = input.url;
        rev = input.rev or (throw "eka: git input `${input.name}` has no `rev`");
      }
      // (if input ? ref then { inherit (input) ref; } else { allRefs = true; })
      // optional (input ? narHash) { inherit (input) narHash; })
    else if input.kind == "tar" then
      builtins.fetchTarball {
        url = input.url;
        sha256 = input.narHash or (throw "eka: tar input `${input.name}` has no `narHash`");
      }
    else if input.kind == "url" && input ? hash then
      # An evaluation-time fetch checked against the flat hash of the file's bytes
      # (Nix 2.8's `fetchurl` checks no NAR hash).
      builtins.fetchurl { url = input.url; sha256 = input.hash; }
    else if input.kind == "url" || input.kind == "build" then
      fileDerivation input
    else
      throw "eka: Nix input `${input.name}` has unknown kind `${input.kind}`";

  # Every input of a list of `[[nix]]` tables, by name.
  fetchNixInputs = inputs:
    builtins.listToAttrs (map (input: { name = input.name; value = fetchNixInput input; }) inputs);
in
{
  inherit atomRef fetchAtom fetchNixInput fetchNixInputs;
}
