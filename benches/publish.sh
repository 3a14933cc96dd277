#!/usr/bin/env bash
# Publish 100 atoms to a local bare repository: `eka publish --all` against the same
# work done with the git CLI (atom commits written with `git hash-object`, then one
# atomic `git push` of all 300 refs).
#
# Usage: benches/publish.sh [path/to/eka]   (default: target/release/eka)
# Needs: git, hyperfine (falls back to a timing loop without it).
set -euo pipefail

EKA=${1:-${CARGO_TARGET_DIR:-target}/release/eka}
EKA=$(realpath "$EKA")
ATOMS=${ATOMS:-100}
RUNS=${RUNS:-10}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@eka.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@eka.invalid
export GIT_AUTHOR_DATE='1700000000 +0000' GIT_COMMITTER_DATE='1700000000 +0000'
mkdir -p "$HOME"

# A set of $ATOMS atoms, each with a manifest and three small files.
src=$work/src
git init -q -b main "$src"
{
  printf '[set]\npackages = [\n'
  for i in $(seq 1 "$ATOMS"); do printf '  "atoms/a%03d",\n' "$i"; done
  printf ']\n'
} >"$src/ekala.toml"
for i in $(seq 1 "$ATOMS"); do
  dir=$src/atoms/a$(printf %03d "$i")
  mkdir -p "$dir/src"
  printf '[package]\nlabel = "a%03d"\nversion = "1.0.0"\n' "$i" >"$dir/atom.toml"
  printf 'atom %s\n' "$i" >"$dir/README"
  printf '{ }: %s\n' "$i" >"$dir/default.nix"
  printf 'echo %s\n' "$i" >"$dir/src/run.sh"
done
git -C "$src" add -A
git -C "$src" commit -qm "$ATOMS atoms"

# The git CLI doing the same work: one commit object per atom (same headers, without
# eka's BLAKE3 content hash, which git cannot compute), written in one
# `git hash-object --stdin-paths`, then one atomic push of atom, manifest and origin refs.
cat >"$work/git-publish.sh" <<'EOF'
#!/usr/bin/env bash
set -euo pipefail
src=$1 url=$2
cd "$src"
origin=$(git rev-parse HEAD)
root=$(git rev-list --max-parents=0 --first-parent HEAD)
tmp=$(mktemp -d)
labels=()
while read -r _ _ tree path; do
  label=${path##*/}
  labels+=("$label")
  printf 'tree %s\nauthor eka <eka@eka.invalid> 0 +0000\ncommitter eka <eka@eka.invalid> 0 +0000\neka-format 1\neka-set %s\neka-label %s\neka-version 1.0.0\neka-origin %s\neka-path %s\n\neka atom %s@1.0.0\n' \
    "$tree" "$root" "$label" "$origin" "$path" "$label" >"$tmp/$label"
done < <(git ls-tree HEAD atoms/)
commits=$(for label in "${labels[@]}"; do echo "$tmp/$label"; done | git hash-object -t commit -w --stdin-paths)
mapfile -t commit_ids <<<"$commits"
mapfile -t manifest_ids < <(for label in "${labels[@]}"; do echo "HEAD:atoms/$label/atom.toml"; done | git cat-file --batch-check='%(objectname)')
specs=()
for index in "${!labels[@]}"; do
  label=${labels[$index]}
  specs+=("${commit_ids[$index]}:refs/eka/atoms/$label/1.0.0")
  specs+=("${manifest_ids[$index]}:refs/eka/meta/$label/1.0.0/manifest")
  specs+=("$origin:refs/eka/meta/$label/1.0.0/origin")
done
git push -q --atomic "$url" "${specs[@]}"
rm -rf "$tmp"
EOF
chmod +x "$work/git-publish.sh"

fresh_remote() { rm -rf "$work/remote.git" && git init -q --bare "$work/remote.git"; }

# Sanity: both publish 3 refs per atom.
fresh_remote
(cd "$src" && "$EKA" -q publish --all --remote "$work/remote.git" >/dev/null)
eka_refs=$(git -C "$work/remote.git" for-each-ref refs/eka | wc -l)
fresh_remote
"$work/git-publish.sh" "$src" "$work/remote.git"
git_refs=$(git -C "$work/remote.git" for-each-ref refs/eka | wc -l)
echo "refs pushed: eka $eka_refs, git CLI $git_refs (expected $((ATOMS * 3)))"

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --runs "$RUNS" \
    --prepare "rm -rf '$work/remote.git' && git init -q --bare '$work/remote.git'" \
    --command-name "eka publish --all ($ATOMS atoms)" \
    "cd '$src' && '$EKA' -q publish --all --remote '$work/remote.git' >/dev/null" \
    --command-name "git CLI: hash-object + one atomic push" \
    "'$work/git-publish.sh' '$src' '$work/remote.git'" \
    --export-markdown "$work/result.md" --export-json "$work/result.json"
  cat "$work/result.md"
  python3 - "$work/result.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
medians = [r["median"] for r in results]
for r in results:
    print(f"median {r['command']}: {r['median'] * 1000:.0f} ms")
print(f"ratio git CLI / eka (medians): {medians[1] / medians[0]:.2f}")
PY
else
  for name in eka git; do
    for _ in $(seq 1 "$RUNS"); do
      fresh_remote
      start=$(date +%s%N)
      if [ $name = eka ]; then
        (cd "$src" && "$EKA" -q publish --all --remote "$work/remote.git" >/dev/null)
      else
        "$work/git-publish.sh" "$src" "$work/remote.git"
      fi
      echo "$name $((($(date +%s%N) - start) / 1000000)) ms"
    done
  done
fi
