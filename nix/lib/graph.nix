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
  # `nixInputs` (by name) replaces some fetched direct Nix inputs; `atomNixInputs`
  # (`<atom id>.<input>`) replaces some of an atom's own Nix inputs (only those its own
  # lock has; `[[follows]]` still wins).
  fromLock = { lock, mirror ? 0, sources ? { }, nixInputs ? { }, atomNixInputs ? { } }:
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
            own = ownNixInputs src;
            nix = own // builtins.intersectAttrs own (atomNixInputs.${id} or { }) // followsOf id;
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

  # The flake node names `eka export --flake` gives a parsed lock's entries:
  # { atoms.<atom id> = <label>, or <label>-<first 8 hex of its set> when two sets lock
  # the label; nix.<input name> = <name>, or <name>-nix when an atom node (or `root`)
  # has the name; }. An atom's own input `<input>` is the root input
  # `<atom node>.<input>`.
  flakeNodeNames = parsed:
    let
      labels = map (atom: atom.label) parsed.atoms;
      count = label: builtins.length (builtins.filter (other: other == label) labels);
      atoms = builtins.listToAttrs (map
        (atom: {
          name = atom.id;
          value = if count atom.label > 1 then "${atom.label}-${builtins.substring 0 8 atom.set}" else atom.label;
        })
        parsed.atoms);
      atomNodes = builtins.attrValues atoms;
    in
    {
      inherit atoms;
      nix = builtins.listToAttrs (map
        (input: {
          name = input.name;
          value = if builtins.elem input.name atomNodes || input.name == "root" then "${input.name}-nix" else input.name;
        })
        parsed.nix);
    };

  # `fromLock` with the locked entries taken from a flake's `inputs` (as written by
  # `eka export --flake`): each atom from its node (checked against the locked commit),
  # each direct Nix input from its node, and each atom's own Nix input from the root
  # input `<atom node>.<input>` (a `follows` of the root's input when the lock's
  # `[[follows]]` says so). Entries the flake lacks are fetched as `fromLock` does.
  fromFlakeInputs = { lock, inputs, mirror ? 0 }:
    let
      parsed = if builtins.isAttrs lock then lock else lockfile.readLock lock;
      names = flakeNodeNames parsed;
      locked = builtins.listToAttrs (map (atom: { name = atom.id; value = atom; }) parsed.atoms);
      present = builtins.filter (id: inputs ? ${names.atoms.${id}}) (builtins.attrNames names.atoms);
      source = id:
        let input = inputs.${names.atoms.${id}};
        in if (input.rev or locked.${id}.commit) != locked.${id}.commit
        then throw "eka: flake input `${names.atoms.${id}}` is not the commit `atom.lock` locks for `${locked.${id}.label}`; run `eka export --flake` again"
        else { path = input.outPath; };
      # <input> = the flake input `<prefix><input>`, for every flake input so named.
      withPrefix = prefix:
        let
          length = builtins.stringLength prefix;
          matching = builtins.filter (name: builtins.substring 0 length name == prefix) (builtins.attrNames inputs);
        in
        builtins.listToAttrs (map
          (name: { name = builtins.substring length (builtins.stringLength name - length) name; value = inputs.${name}; })
          matching);
      # Only `git` and `tar` inputs have nodes (Nix 2.8 flakes lock no single file).
      nodeInputs = builtins.filter
        (input: (input.kind == "git" || input.kind == "tar") && inputs ? ${names.nix.${input.name}})
        parsed.nix;
      nixInputs = builtins.listToAttrs (map
        (input: { inherit (input) name; value = inputs.${names.nix.${input.name}}; })
        nodeInputs);
    in
    fromLock {
      lock = parsed;
      inherit mirror;
      sources = builtins.listToAttrs (map (id: { name = id; value = source id; }) present);
      inherit nixInputs;
      atomNixInputs = builtins.mapAttrs (id: node: withPrefix "${node}.") names.atoms;
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
  # `flakeInputs`, when given, are the `inputs` of a flake exported by `eka export
  # --flake`: the graph is `fromFlakeInputs`'s (and `sources`/`nixInputs` are unused).
  importAtomWith = { dir, config ? null, configHash ? null, sources ? { }, nixInputs ? { }, flakeInputs ? null }:
    let
      manifest = builtins.fromTOML (builtins.readFile (dir + "/atom.toml"));
      lockPath = dir + "/atom.lock";
      graph =
        if !(builtins.pathExists lockPath) then { atoms = { }; nix = nixInputs; }
        else if flakeInputs != null then fromFlakeInputs { lock = lockPath; inputs = flakeInputs; }
        else fromLock { lock = lockPath; inherit sources nixInputs; };
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
  inherit fromLock fromFlakeInputs flakeNodeNames importAtoms importAtom importAtomWith callAtom;
}
