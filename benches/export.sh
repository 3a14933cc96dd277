#!/usr/bin/env bash
# Cold `eka export --flake` of a lock of N atoms (one set, one `file://` mirror, an empty
# eka cache: every atom commit and tree is fetched, checked and NAR-hashed) against one
# `git fetch` of the same atom refs into an empty bare repository; for N = 150, 300, 600
# to show the cost is linear in N.
# Everything is offline: file:// URLs, a private HOME/XDG.
#
# Usage: benches/export.sh [path/to/eka]   (default: $CARGO_TARGET_DIR/release/eka)
# Env: SIZES ("150 300 600"), RUNS (10).
# Prints hyperfine's report, then for each N a table of medians and ratios to
# `git fetch`. Results: docs/benchmarks.md. Needs: git, hyperfine, python3.
set -euo pipefail

EKA=${1:-${CARGO_TARGET_DIR:-target}/release/eka}
EKA=$(realpath "$EKA")
SIZES=${SIZES:-150 300 600}
RUNS=${RUNS:-10}

# shellcheck source=benches/sandbox.sh
source "$(dirname "$0")/sandbox.sh"

# setup N: a set of N atoms (each a few small files) published once with
# `eka publish --all` to its own bare mirror, and a project locking all N.
setup() {
  local n=$1 src=$work/src-$1 registry=$work/registry-$1.git project=$work/project-$1
  git init -q -b main "$src"
  git init -q --bare "$registry"
  {
    printf '[set]\npackages = [\n'
    for i in $(seq 1 "$n"); do printf '  "a%03d",\n' "$i"; done
    printf ']\n'
  } >"$src/ekala.toml"
  for i in $(seq 1 "$n"); do
    local dir=$src/a$(printf %03d "$i")
    mkdir -p "$dir/lib"
    printf '[package]\nlabel = "a%03d"\nversion = "1.0.0"\n' "$i" >"$dir/atom.toml"
    printf '{ }: { n = %s; lib = import ./lib/util.nix; }\n' "$i" >"$dir/default.nix"
    printf '{ id = "%s"; }\n' "$i" >"$dir/lib/util.nix"
  done
  git -C "$src" add -A
  git -C "$src" commit -qm "$n atoms"
  (cd "$src" && "$EKA" -q publish --all --remote "file://$registry" >/dev/null)
  mkdir -p "$project"
  {
    printf '[package]\nlabel = "app"\nversion = "0.1.0"\n[package.sets]\nreg = "file://%s"\n[deps.from.reg]\n' "$registry"
    for i in $(seq 1 "$n"); do printf 'a%03d = "^1"\n' "$i"; done
  } >"$project/atom.toml"
  (cd "$project" && "$EKA" -q resolve)
  local locked
  locked=$(grep -c '^\[\[atom\]\]' "$project/atom.lock" || true)
  [ "$locked" = "$n" ] || { echo "benches/export.sh: locked $locked atoms, not $n" >&2; exit 2; }
}

for n in $SIZES; do
  setup "$n"
  project=$work/project-$n registry=$work/registry-$n.git fetched=$work/fetched-$n.git
  (cd "$project" && "$EKA" -q export --flake --output "$work/flake-$n" >/dev/null)
  nodes=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["nodes"]) - 1)' "$work/flake-$n/flake.lock")
  echo "N=$n: exported $nodes atom nodes" >&2
  hyperfine --style basic --runs "$RUNS" --warmup 1 --export-json "$results/export-$n.json" \
    --command-name "eka export --flake, $n atoms (cold cache)" \
    --prepare "rm -rf $XDG_CACHE_HOME/eka $work/flake-$n" \
    "cd $project && $EKA -q export --flake --output $work/flake-$n >/dev/null" \
    --command-name "git fetch, $n atom refs" \
    --prepare "rm -rf $fetched && git init -q --bare $fetched" \
    "git -C $fetched fetch -q file://$registry 'refs/eka/atoms/*:refs/eka/atoms/*'" >&2
done
for n in $SIZES; do
  python3 "$benches/medians.py" "git fetch, $n atom refs" "$results/export-$n.json"
done
