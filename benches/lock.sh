#!/usr/bin/env bash
# Lock a manifest of 20 atom dependencies: `eka resolve` (cold cache, warm cache)
# against `nix flake lock` of a flake with 20 equivalent git inputs (the same atom
# commits, one `git+file://…?ref=refs/eka/atoms/<label>/<version>` input each,
# `flake = false`), cold (empty Nix store and fetcher cache) and warm.
# Everything is offline: file:// URLs, no substituters, no flake registry, a private
# HOME/XDG and a private chroot store (`--store`).
#
# Usage: benches/lock.sh [path/to/eka]   (default: $CARGO_TARGET_DIR/release/eka)
# Env: ATOMS (20), RUNS (10).
# Prints hyperfine's report, then a table of medians and ratios to `nix flake lock (warm)`.
# Needs: git, nix (2.8+), hyperfine.
set -euo pipefail

EKA=${1:-${CARGO_TARGET_DIR:-target}/release/eka}
EKA=$(realpath "$EKA")
ATOMS=${ATOMS:-20}
RUNS=${RUNS:-10}

# shellcheck source=benches/sandbox.sh
source "$(dirname "$0")/sandbox.sh"
# medians BASELINE JSON…: one markdown row per command: median, ratio to BASELINE.
medians() { python3 "$benches/medians.py" "$@"; }
export NIX_CONFIG=$'substituters =\nflake-registry =\nexperimental-features = nix-command flakes\n'

# A set of $ATOMS atoms, published once with `eka publish --all`.
src=$work/src
registry=$work/registry.git
git init -q -b main "$src"
git init -q --bare "$registry"
git -C "$registry" config uploadpack.allowFilter true
{
  printf '[set]\npackages = [\n'
  for i in $(seq 1 "$ATOMS"); do printf '  "a%02d",\n' "$i"; done
  printf ']\n'
} >"$src/ekala.toml"
for i in $(seq 1 "$ATOMS"); do
  dir=$src/a$(printf %02d "$i")
  mkdir -p "$dir"
  printf '[package]\nlabel = "a%02d"\nversion = "1.0.0"\n' "$i" >"$dir/atom.toml"
  printf '{ }: %s\n' "$i" >"$dir/default.nix"
done
git -C "$src" add -A
git -C "$src" commit -qm "$ATOMS atoms"
(cd "$src" && "$EKA" -q publish --all --remote "file://$registry")

# The eka project: one set, $ATOMS requirements.
project=$work/project
mkdir -p "$project"
{
  printf '[package]\nlabel = "app"\nversion = "0.1.0"\n[package.sets]\nreg = "file://%s"\n[deps.from.reg]\n' "$registry"
  for i in $(seq 1 "$ATOMS"); do printf 'a%02d = "^1"\n' "$i"; done
} >"$project/atom.toml"

# The flake: the same atom commits as git inputs.
flake=$work/flake
mkdir -p "$flake"
{
  printf '{\n  inputs = {\n'
  for i in $(seq 1 "$ATOMS"); do
    printf '    a%02d = { url = "git+file://%s?ref=refs/eka/atoms/a%02d/1.0.0"; flake = false; };\n' "$i" "$registry" "$i"
  done
  printf '  };\n  outputs = inputs: { };\n}\n'
} >"$flake/flake.nix"
git -C "$flake" init -q
git -C "$flake" add flake.nix
git -C "$flake" commit -qm flake

store=$work/store
nix_lock="nix --extra-experimental-features 'nix-command flakes' --store $store flake lock $flake"

# Sanity: both lock all $ATOMS.
(cd "$project" && "$EKA" -q resolve)
eka_locked=$(grep -c '^\[\[atom\]\]' "$project/atom.lock" || true)
eval "$nix_lock" 2>/dev/null
nix_locked=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["nodes"]) - 1)' "$flake/flake.lock")
echo "eka locked $eka_locked atoms, nix locked $nix_locked inputs" >&2

hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$results/lock.json" \
  --command-name "eka resolve (cold cache)" \
  --prepare "rm -f $project/atom.lock; rm -rf $XDG_CACHE_HOME/eka" \
  "cd $project && $EKA -q resolve" \
  --command-name "eka resolve (warm cache)" \
  --prepare "rm -f $project/atom.lock" \
  "cd $project && $EKA -q resolve" \
  --command-name "nix flake lock (cold)" \
  --prepare "rm -f $flake/flake.lock; chmod -R u+w $store 2>/dev/null; rm -rf $store $XDG_CACHE_HOME/nix" \
  "$nix_lock" \
  --command-name "nix flake lock (warm)" \
  --prepare "rm -f $flake/flake.lock" \
  "$nix_lock"
medians "nix flake lock (warm)" "$results/lock.json"
