# The atom graph of one lock: each atom fetched once and imported with its own locked
# dependencies (resolved through the lock's dependency ids) and its own Nix inputs, those
# the root's lock makes follow a root input (`[[follows]]`) replaced by it.
{ lockfile, fetch }:
let
  unique = list: builtins.foldl' (seen: item: if builtins.elem item seen then seen else seen ++ [ item ]) [ ] list;

  # { <label> = value; } over records { label; value; }; a label held by two records
  # (same label from two sets) throws when, and only when, it is used.
  byLabel = what: records:
    builtins.listToAttrs (map
      (label:
        let matching = builtins.filter (record: record.label == label) records;
        in {
          name = label;
          value =
            if builtins.length matching == 1 then (builtins.head matching).value
            else throw "eka: ${what} has ${toString (builtins.length matching)} dependencies labelled `${label}` (from different sets); use `byId`";
        })
      (unique (map (record: record.label) records)));

  readManifest = src:
    let path = src + "/atom.toml";
    in if builtins.pathExists path then builtins.fromTOML (builtins.readFile path) else { };

  # The Nix inputs an atom locked for itself: the `[[nix]]` tables of the `atom.lock`
  # inside its own tree, if it has one.
  ownNixInputs = src:
    let path = src + "/atom.lock";
    in if builtins.pathExists path then fetch.fetchNixInputs (lockfile.readLock path).nix else { };

  # Call an entry point with the calling convention (docs/nix.md).
  callAtom = { src, manifest, deps, nix, atom }:
    let entry = manifest.package.entry or null;
    in if entry == null then src
    else import (src + "/${entry}") { inherit deps nix atom; };

  # `sources` (by atom id, see `fetchAtom`) replaces the mirrors of some atoms;
  # `nixInputs` (by name) replaces some fetched direct Nix inputs.
  fromLock = { lock, mirror ? 0, sources ? { }, nixInputs ? { } }:
    let
      parsed = if builtins.isAttrs lock then lock else lockfile.readLock lock;
      locked = builtins.listToAttrs (map (atom: { name = atom.id; value = atom; }) parsed.atoms);
      # The root's fetched direct Nix inputs, overrides included.
      rootNix = fetch.fetchNixInputs parsed.nix // nixInputs;
      # <atom id> = { <its input> = the root's input it follows; } (`[[follows]]`).
      followsOf = id: builtins.listToAttrs (map
        (entry: {
          name = entry.input;
          value = rootNix.${entry.follows} or (throw "eka: `[[follows]]` of `${id}` names `${entry.follows}`, which is not a locked Nix input");
        })
        (builtins.filter (entry: entry.atom == id) (parsed.follows or [ ])));
      resolve = id: byId.${id} or (throw "eka: dependency `${id}` is not locked");
      byId = builtins.mapAttrs
        (id: atom:
          let
            src = fetch.fetchAtom { inherit atom mirror; source = sources.${id} or null; };
            manifest = readManifest src;
            depRecords = map resolve atom.deps;
            deps = byLabel "atom `${atom.label}`" depRecords;
            nix = ownNixInputs src // followsOf id;
            meta = { inherit (atom) label version id commit set; inherit src; };
          in
          meta // {
            inherit manifest deps nix;
            depIds = atom.deps;
            value = callAtom { inherit src manifest deps nix; atom = meta; };
          })
        locked;
    in
    {
      # <label> = the atom's value (the result of its entry point, or its source).
      atoms = byLabel "atom.lock" (builtins.attrValues byId);
      # <atom id> = { label, version, id, commit, set, src, manifest, deps, nix, depIds, value }.
      inherit byId;
      # <name> = the fetched direct Nix input.
      nix = rootNix;
    };

  # The values of every atom locked in `<dir>/atom.lock`, by label.
  importAtoms = dir: (fromLock { lock = dir + "/atom.lock"; }).atoms;

  # Evaluate the atom at `dir` (its `atom.toml`, `atom.lock` and entry point): its
  # direct dependencies (the labels of its `[deps.from.*]`) and direct Nix inputs come
  # from its lock.
  importAtom = dir: importAtomWith { inherit dir; };

  # `importAtom` with a configuration: the entry point sees `atom.config` (any value)
  # and `atom.configHash` (a string naming it, e.g. `eka eval`'s `sha256:<hex>` of the
  # canonical JSON), so different configurations evaluate different expressions.
  # `sources` and `nixInputs` are `fromLock`'s: where to take some locked atoms from
  # instead of their mirrors, and direct Nix inputs replacing the locked ones.
  importAtomWith = { dir, config ? null, configHash ? null, sources ? { }, nixInputs ? { } }:
    let
      manifest = builtins.fromTOML (builtins.readFile (dir + "/atom.toml"));
      lockPath = dir + "/atom.lock";
      graph =
        if builtins.pathExists lockPath then fromLock { lock = lockPath; inherit sources nixInputs; }
        else { atoms = { }; nix = nixInputs; };
      label = manifest.package.label or (throw "eka: `${toString dir}/atom.toml` has no `package.label`");
      wanted = unique (builtins.concatMap builtins.attrNames (builtins.attrValues (manifest.deps.from or { })));
      deps = builtins.listToAttrs (map
        (name: {
          inherit name;
          value = graph.atoms.${name} or (throw "eka: dependency `${name}` of atom `${label}` is not in atom.lock; run `eka resolve`");
        })
        wanted);
    in
    if !(manifest.package ? entry) then throw "eka: atom `${label}` declares no `entry` in atom.toml"
    else callAtom {
      src = dir;
      inherit manifest deps;
      nix = graph.nix;
      atom = { inherit label config configHash; version = manifest.package.version or null; src = dir; };
    };
in
{
  inherit fromLock importAtoms importAtom importAtomWith callAtom;
}
