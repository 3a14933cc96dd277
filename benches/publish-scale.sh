#!/usr/bin/env bash
# Publish a set of $ATOMS atoms (default 300, 900 refs) into an empty remote and into a
# remote already holding $EXISTING refs of the same set (default 15,000: 5,000 earlier
# atoms, three refs each), with `eka publish --all` and with the git CLI pushing the same
# refs in one `git push --atomic`. The push must cost the same whatever the remote holds.
#
# Usage: benches/publish-scale.sh [path/to/eka]   (default: target/release/eka)
# Env:   ATOMS, EXISTING (a multiple of 3), RUNS, WARMUP, BASELINE_EKA (another eka binary
#        to compare, e.g. one built from an older commit), CACHE (default
#        /tmp/eka-bench-publish-scale: the generated set and the big remote are kept there).
# Needs: git, hyperfine, python3.
set -euo pipefail

EKA=$(realpath "${1:-${CARGO_TARGET_DIR:-target}/release/eka}")
ATOMS=${ATOMS:-300}
EXISTING=${EXISTING:-15000}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
OLD=$((EXISTING / 3))
CACHE=${CACHE:-/tmp/eka-bench-publish-scale}/$ATOMS-$EXISTING

export HOME=$CACHE/home GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@eka.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@eka.invalid
export GIT_AUTHOR_DATE='1700000000 +0000' GIT_COMMITTER_DATE='1700000000 +0000'
# A loaded machine can make a slow push silent for longer than the default deadline.
export EKA_NET_TIMEOUT=${EKA_NET_TIMEOUT:-600}

src=$CACHE/src
full=$CACHE/full.git
write_atoms() { # prefix count
    python3 - "$src" "$1" "$2" <<'PY'
import os, sys
src, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(1, count + 1):
    label = f"{prefix}{i:05d}"
    d = os.path.join(src, "atoms", label)
    os.makedirs(os.path.join(d, "src"), exist_ok=True)
    for name, text in [("atom.toml", f'[package]\nlabel = "{label}"\nversion = "1.0.0"\n'),
                       ("README", f"atom {label}\n"), ("default.nix", f"{{ }}: {i}\n"),
                       ("src/run.sh", f"echo {label}\n")]:
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
PY
}
index() { # prefix
  printf '[set]\npackages = [\n'
  (cd "$src/atoms" && ls -d "$1"*) | sed 's|^|  "atoms/|; s|$|",|'
  printf ']\n'
}
# Setup (cached): a set whose first commit has $OLD atoms `o…`, published by eka into
# `full.git` (so they are real atoms of the same set; refs packed, objects repacked);
# then a second commit replacing them by $ATOMS atoms `n…`, the ones the benchmark
# publishes. The source is repacked, as a clone would be.
if [ ! -f "$CACHE/published" ]; then
  rm -rf "$CACHE" && mkdir -p "$HOME"
  git init -q -b main "$src"
  write_atoms o "$OLD"
  index o >"$src/ekala.toml"
  git -C "$src" add -A && git -C "$src" commit -qm "$OLD atoms"
  git init -q --bare "$full"
  (cd "$src" && "$EKA" -q publish --all --remote "$full" >/dev/null)
  git -C "$full" pack-refs --all
  git -C "$full" repack -qad
  [ "$(git -C "$full" for-each-ref refs/eka | wc -l)" -eq "$EXISTING" ]
  touch "$CACHE/published"
fi
if [ ! -f "$CACHE/ready" ]; then
  git -C "$src" rm -rqf atoms
  write_atoms n "$ATOMS"
  index n >"$src/ekala.toml"
  git -C "$src" add -A && git -C "$src" commit -qm "$ATOMS atoms"
  git -C "$src" repack -qad
  touch "$CACHE/ready"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The refs eka publishes (learned once from an empty remote), for the git CLI to push.
git init -q --bare "$work/probe.git"
(cd "$src" && "$EKA" -q publish --all --remote "$work/probe.git" >/dev/null)
git -C "$work/probe.git" for-each-ref --format='%(objectname):%(refname)' refs/eka >"$work/refspecs"
[ "$(wc -l <"$work/refspecs")" -eq $((ATOMS * 3)) ]
echo "refs per publish: $((ATOMS * 3)); refs already on the big remote: $EXISTING"

empty="git init -q --bare '$work/remote.git'"
big="cp -a '$full' '$work/remote.git'"
eka_run() { echo "cd '$src' && '$1' -q publish --all --remote '$work/remote.git' >/dev/null"; }
git_run="cd '$src' && xargs -a '$work/refspecs' git push -q --atomic '$work/remote.git'"
commands=(
  --prepare "rm -rf '$work/remote.git' && $empty" --command-name "eka into empty" "$(eka_run "$EKA")"
  --prepare "rm -rf '$work/remote.git' && $big" --command-name "eka into $EXISTING refs" "$(eka_run "$EKA")"
  --prepare "rm -rf '$work/remote.git' && $empty" --command-name "git push into empty" "$git_run"
  --prepare "rm -rf '$work/remote.git' && $big" --command-name "git push into $EXISTING refs" "$git_run"
)
if [ -n "${BASELINE_EKA:-}" ]; then
  baseline=$(realpath "$BASELINE_EKA")
  commands+=(
    --prepare "rm -rf '$work/remote.git' && $empty" --command-name "baseline eka into empty" "$(eka_run "$baseline")"
    --prepare "rm -rf '$work/remote.git' && $big" --command-name "baseline eka into $EXISTING refs" "$(eka_run "$baseline")"
  )
fi
hyperfine --warmup "$WARMUP" --runs "$RUNS" "${commands[@]}" \
  --export-markdown "$work/result.md" --export-json "$work/result.json"
cat "$work/result.md"
python3 - "$work/result.json" <<'PY'
import json, sys
median = {r["command"]: r["median"] for r in json.load(open(sys.argv[1]))["results"]}
for name, value in median.items():
    print(f"median {name}: {value * 1000:.0f} ms")
names = list(median)
eka_empty, eka_big, git_empty, git_big = (median[n] for n in names[:4])
print(f"eka into big / eka into empty: {eka_big / eka_empty:.2f} (target <= 1.5)")
print(f"eka into big / git push into big: {eka_big / git_big:.2f} (target <= 1.2)")
PY
