#!/usr/bin/env bash
# Benchmark of the verify walk's expensive part, recomputing an atom's content hash:
# a 100 MB, 10,000-file atom, hashed by eka (`verify/examples/hash_tree.rs`), against
# `git fsck --full` and `git archive <tree> | b3sum`, side by side with hyperfine.
#
# Usage: benches/verify.sh [runs]   (needs git, hyperfine, b3sum, python3)
# Writes the hyperfine JSON to $OUT (default: target/bench-verify.json) and prints the
# medians and ratios. Results: docs/benchmarks-verify.md.
set -euo pipefail

runs=${1:-10}
root=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$root/target}
out=${OUT:-$target/bench-verify.json}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for tool in git hyperfine b3sum python3 cargo; do
    command -v "$tool" >/dev/null || { echo "benches/verify.sh: \`$tool\` is missing" >&2; exit 2; }
done

# Build first, with the real HOME (rustup reads it).
(cd "$root" && cargo build --quiet --release -p verify --example hash_tree)
hash_tree=$target/release/examples/hash_tree

export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1 HOME=$work
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@eka.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@eka.invalid

# 100 directories x 100 files x 10,000 bytes of deterministic, incompressible data.
repo=$work/atom
git init -q "$repo"
git -C "$repo" config gc.auto 0   # no background gc racing the repack
python3 - "$repo" <<'PY'
import os, random, sys
random.seed(1)
root = sys.argv[1]
for d in range(100):
    path = os.path.join(root, f"dir{d:03}")
    os.makedirs(path)
    for f in range(100):
        with open(os.path.join(path, f"file{f:03}.bin"), "wb") as out:
            out.write(random.randbytes(10_000))
PY
git -C "$repo" add -A
git -C "$repo" commit -q -m atom
git -C "$repo" repack -adq
git -C "$repo" prune-packed
tree=$(git -C "$repo" rev-parse 'HEAD^{tree}')
echo "atom: $(git -C "$repo" ls-tree -r "$tree" | wc -l) files; $(git -C "$repo" count-objects -vH | grep size-pack)" >&2
"$hash_tree" "$repo" "$tree" >&2

hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$out" \
    -n "eka hash_tree" "$hash_tree $repo $tree" \
    -n "git fsck --full" "git -C $repo fsck --full --no-progress" \
    -n "git archive, b3sum" "git -C $repo archive $tree | b3sum" >&2

python3 - "$out" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
base = results[0]["median"]
print("| command | median (s) | min (s) | max (s) | ratio to eka |")
print("| --- | ---: | ---: | ---: | ---: |")
for r in results:
    print(f"| `{r['command'].replace('|', chr(92) + '|')}` | {r['median']:.3f} | {r['min']:.3f} | {r['max']:.3f} | {r['median'] / base:.2f}x |")
PY
